"""With a family turned off, the filter bar no longer says "Enter on an empty filter clears it": an
empty Enter leaves the toggles as they are, and the title still said `-family:response` (review 54c)."""

from __future__ import annotations

import pytest

from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Family


def status(app: RtApp) -> str:
    """The bar's status line as drawn (its short form on a narrow bar)."""
    return str(app.filter_bar.query_one(".query-bar--status").render())


async def test_the_hint_says_how_to_show_a_hidden_family_again() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(200, 40)) as pilot:
        app.ingest([sent("response.create"), received("response.created", response={"id": "r1"})])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("f", *"dir:in", "enter")
        await pilot.pause()
        assert status(app).endswith("Enter on an empty filter clears it")
        app.toggle_family(Family.RESPONSE)
        await pilot.pause()
        assert "response hidden: click it above, or the palette's 'log: clear filter'" in status(app), status(app)
        assert "Enter on an empty filter clears it" not in status(app)
        assert "palette: log: clear filter" in app.event_log.empty_text()
        app.clear_filter()
        await pilot.pause()
        assert app.filter_bar.active == "" and not app.filter_bar.hidden_families


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@pytest.mark.parametrize("families", [[Family.RESPONSE], [Family.RESPONSE, Family.CONVERSATION]])
async def test_on_a_narrow_bar_the_hint_keeps_the_palette_s_action_whole(
    size: tuple[int, int], families: list[Family]
) -> None:
    """`38 of 386 frames · response hidden: click it above, or the palette's 'log:` lost the very
    name of the action, the only keyboard way to the toggles (review 55c); at 100x30 its first
    short form was cut too (review 55e): the first shorter form that fits is shown."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=size) as pilot:
        app.ingest([sent("response.create"), received("response.created", response={"id": "r1"})] * 200)
        await pilot.pause()
        for family in families:
            app.toggle_family(family)
        await pilot.press("f")
        await pilot.pause()
        said = status(app)
        assert said.endswith("hidden: ctrl+p, 'log: clear filter'"), said
        assert len(said) <= app.filter_bar.status_room(), said
