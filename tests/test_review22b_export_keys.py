"""Review 22b: `e` on a filter's first screen waits for the whole view; the keys typed after it
(↓ Enter: pick "replace audio by a size tag" and export) go to the log under the dialog."""

from __future__ import annotations

from functools import partial

import pytest

from tests.app_helpers import wait_for
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, held_count_is, on_a_first_screen, slices_of
from tui.widgets import EventDetail
from tui.widgets.export_dialog import ExportDialog

DOWN = "\x1b[B"


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 20)


async def test_keys_after_export_go_to_its_dialog() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)
        terminal_burst(app, "e")
        await wait_for(pilot, lambda: log.holding_keys, 5, "the export to wait")
        for n, key in enumerate([DOWN], 1):
            terminal_burst(app, key)
            await wait_for(pilot, partial(held_count_is, log, n), 5, "the key to be held")
        selected_before = log.selected
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 60, "the export dialog")
        for _ in range(10):
            await pilot.pause()
        assert log.selected == selected_before, f"↓ moved the log under the dialog: {selected_before} → {log.selected}"
        assert not isinstance(app.screen, EventDetail)
