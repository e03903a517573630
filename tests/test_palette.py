"""rt-tui's own colours follow the theme: Tokyo Night's on a dark theme, Tokyo Night Day's on a
light one (the pastels washed out on a light background: a cyan append on light grey)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.scripted import scripted_envelopes
from tui.app import RtApp
from tui.config import Settings
from tui.widgets.palette import NIGHT_TO_DAY, themed

NIGHT = set(NIGHT_TO_DAY)
DAY = set(NIGHT_TO_DAY.values())


def test_a_style_keeps_its_words_and_swaps_only_its_colours() -> None:
    assert themed("bold #7DCFFF on #123456", False) == "bold #007197 on #123456"
    assert themed("italic #ff9e64", True) == "italic #ff9e64"
    assert themed("dim", False) == "dim"


@given(st.sampled_from(sorted(NIGHT)), st.sampled_from(["", "bold ", "italic ", "bold italic "]))
def test_every_night_colour_has_a_day_colour_and_back_to_itself_on_a_dark_theme(colour: str, words: str) -> None:
    assert themed(words + colour, True) == words + colour
    assert themed(words + colour, False) == words + NIGHT_TO_DAY[colour]


def colours_on_screen(app: RtApp) -> set[str]:
    """Every colour the screen's text is drawn in (from Textual's own SVG export of it)."""
    return {colour.lower() for colour in re.findall(r"fill: (#[0-9a-fA-F]{6})", app.export_screenshot())}


async def test_the_panes_draw_their_own_colours_from_the_theme_s_palette() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest_for_display(scripted_envelopes())  # a turn, an error, findings: every family
        await pilot.pause()
        dark = colours_on_screen(app)
        assert len(dark & NIGHT) >= 5 and not dark & DAY, sorted(dark)
        app.theme = "textual-light"
        await pilot.pause()
        light = colours_on_screen(app)
        assert not light & NIGHT, sorted(light & NIGHT)
        assert len(light & DAY) >= 5, sorted(light)
        app.theme = "textual-dark"
        await pilot.pause()
        assert colours_on_screen(app) == dark


async def test_the_findings_view_takes_a_theme_chosen_while_it_is_open() -> None:
    """The palette (ctrl+p → Theme) works over the findings view: its findings took the new theme's
    colours only when it was opened again."""
    from tui.widgets.findings import FindingsView

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest_for_display(scripted_envelopes())
        await pilot.pause()
        app.action_findings()
        await pilot.pause()
        assert isinstance(app.screen, FindingsView)
        assert colours_on_screen(app) & NIGHT
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        shown = colours_on_screen(app)
        assert not shown & NIGHT and shown & DAY, sorted(shown)
