"""Review 22b: a find typed on a filter's first screen waits for the whole view (in slices of its
own); Home typed after it waits too. Once the view is shown, Home acts first and the find's match,
found after, takes the selection: the keys did not act in the order typed."""

from __future__ import annotations

import pytest

from tests.app_helpers import wait_for
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, on_a_first_screen, slices_of

HOME = "\x1b[H"


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 20)


async def test_find_then_home_ends_on_the_first_line() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)
        terminal_burst(app, "/resp_1500\r")
        await wait_for(
            pilot,
            lambda: (
                "searching the filter" in str(app.find_bar.status_text())
                if hasattr(app.find_bar, "status_text")
                else app.focused is log
            ),
            5,
            "the find to wait",
        )
        await wait_for(pilot, lambda: app.focused is log, 5, "the log focused")
        terminal_burst(app, HOME)
        await wait_for(pilot, lambda: log.holding_keys, 5, "Home to wait")
        await wait_for(pilot, lambda: not log.keys_pending and app._building is None, 60, "the view")
        await wait_for(
            pilot,
            lambda: "match" in str(app.find_bar.query_one(".query-bar--status").render()),
            10,
            "the find's answer",
        )
        for _ in range(20):
            await pilot.pause()
        assert log.selected == app.log_view.indices[0], (log.selected, app.log_view.indices[0])
