"""Which pane has the focus shows on its border: the accent on the focused pane, a neutral line on
the other (each pane's own colour at 60% told the panes apart, not which one the keys act on). The
Keys panel at 80 columns shows each of the log's descriptions on one line."""

from __future__ import annotations

from textual.color import Color
from textual.widget import Widget

from tests.app_helpers import screen_text
from tests.journal_helpers import connecting, received
from tui.app import RtApp
from tui.config import Settings


def border_colour(widget: Widget) -> Color:
    return widget.styles.border_top[1]


def is_accent(colour: Color, accent: Color) -> bool:
    """Equal to the theme's accent, but for the rounding its CSS variable went through."""
    return all(abs(a - b) <= 2 for a, b in zip(colour.rgb, accent.rgb, strict=True)) and colour.a == accent.a


async def test_the_focused_pane_alone_has_the_accent_border() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        transcript = app.query_one("#transcript")
        accent = Color.parse(app.current_theme.accent or "")
        app.event_log.focus()
        await pilot.pause()
        assert is_accent(border_colour(app.event_log), accent)
        assert not is_accent(border_colour(transcript), accent)
        # The unfocused pane's title is not in the focus colour either (the transcript's was).
        assert not is_accent(transcript.styles.border_title_color, accent)
        transcript.focus()
        await pilot.pause()
        assert is_accent(border_colour(transcript), accent)
        assert is_accent(transcript.styles.border_title_color, accent)
        assert not is_accent(border_colour(app.event_log), accent)
        await pilot.press("t")  # the message input: neither pane
        await pilot.pause()
        assert border_colour(transcript) == border_colour(app.event_log)
        assert not is_accent(border_colour(transcript), accent)


async def test_the_keys_panel_at_80_columns_fits_the_log_s_descriptions_on_one_line() -> None:
    """At Textual's 30 cells the panel wrapped `Cause ↔ error` and `Its transcript row` over two and
    three lines."""
    from textual.widgets import HelpPanel

    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest([connecting(), received("session.created", session={"type": "realtime"})])
        app.event_log.focus()
        await pilot.pause()
        app.action_show_help_panel()
        await pilot.pause()
        assert app.screen.query_one(HelpPanel)
        shown = screen_text(app)
        for description in ("Cause ↔ error", "Its transcript row", "Previous match"):
            assert description in shown, shown
