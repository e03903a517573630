"""Review 22b: Home on a short first screen (no scrollbar yet) waits, then selects the first match,
but the log's deferred scroll to its end (it was following) runs after it: the selection is off screen."""

from __future__ import annotations

import pytest

from tests.app_helpers import wait_for
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, on_a_first_screen, slices_of
from tui.app import log_controls

HOME = "\x1b[H"


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 200)
    monkeypatch.setattr(log_controls, "FIRST_SCREEN_SECONDS", 0.0)  # a sparse filter's short first screen


async def test_home_after_the_wait_shows_the_first_match() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await on_a_first_screen(pilot, app)
        log = app.event_log
        assert app._building is not None and log.view.line_count < log.size.height  # no scrollbar yet
        terminal_burst(app, HOME)
        await wait_for(pilot, lambda: log.holding_keys, 5, "Home to wait")
        await wait_for(pilot, lambda: not log.keys_pending, 60, "Home to act")
        for _ in range(10):
            await pilot.pause()
        assert log.selected == app.log_view.indices[0]
        top = log.scroll_offset.y
        assert log._cursor_line == 0
        assert top <= 0 < top + log.size.height, f"the first match is selected but the log shows lines {top}.."
