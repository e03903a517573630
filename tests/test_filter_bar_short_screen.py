"""At 80x24 the filter bar closes once its filter is applied or left: its three rows (query, counts,
family toggles) stayed under a pane title that already said the filter, and with a find open too
the log showed seven rows (review 54b). Taller screens keep it open with the filter in force."""

from __future__ import annotations

from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings


def frames() -> list:  # type: ignore[type-arg]
    return [sent("response.create"), *(received("response.created", response={"id": f"r{n}"}) for n in range(5))]


async def test_at_80x24_the_bar_closes_on_enter_and_esc_and_f_brings_the_filter_back() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest(frames())
        await pilot.pause()
        app.event_log.focus()
        rows = app.event_log.size.height
        await pilot.press("f", *"dir:in", "enter")
        await pilot.pause()
        assert app.filter_bar.active == "dir:in" and not app.filter_bar.display
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
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.ingest(frames())
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("f", *"dir:in", "enter")
        await pilot.pause()
        assert app.filter_bar.active == "dir:in" and app.filter_bar.display
