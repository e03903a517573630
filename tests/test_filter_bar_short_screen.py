"""At 80x24 the filter bar closes once its filter is applied or left: its three rows (query, counts,
family toggles) stayed under a pane title that already said the filter, and with a find open too
the log showed seven rows (review 54b). Taller screens keep it open with the filter in force."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.pilot import Pilot

from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings


@asynccontextmanager
async def filtered(size: tuple[int, int]) -> AsyncIterator[tuple[RtApp, Pilot[None], int]]:
    """The app at `size`, its log holding a turn's frames, filtered to `dir:in` from the bar; and
    the log's rows before the filter."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=size) as pilot:
        app.ingest(
            [sent("response.create"), *(received("response.created", response={"id": f"r{n}"}) for n in range(5))]
        )
        await pilot.pause()
        app.event_log.focus()
        rows = app.event_log.size.height
        await pilot.press("f", *"dir:in", "enter")
        await pilot.pause()
        assert app.filter_bar.active == "dir:in"
        yield app, pilot, rows


async def test_at_80x24_the_bar_closes_on_enter_and_esc_and_f_brings_the_filter_back() -> None:
    async with filtered((80, 24)) as (app, pilot, rows):
        assert not app.filter_bar.display
        assert "filter: dir:in" in str(app.event_log.border_title)
        assert "5 of 6 frames" in str(app.event_log.border_subtitle)
        assert app.event_log.size.height == rows  # the log kept its rows
        await pilot.press("f")
        await pilot.pause()
        assert app.filter_bar.display and app.filter_bar.input.value == "dir:in"
        await pilot.press("escape")
        await pilot.pause()
        assert not app.filter_bar.display and app.filter_bar.active == "dir:in"


async def test_a_taller_screen_keeps_the_bar_open_with_the_filter_in_force() -> None:
    async with filtered((100, 30)) as (app, _, _):
        assert app.filter_bar.display
