"""The panes' fast row framing (`FramedStylesCache`) paints exactly what Textual's `StylesCache`
paints: the same segments, row by row, through the states a pane goes through (focus, theme,
scrolling, a cursor, a narrow screen, a partial crop), with the pane's own cache kept across them
as it is in use, and a pane whose style it cannot frame handed to Textual's way."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from tests.app_helpers import views_settled
from tests.bench_traffic import HourSession, envelopes
from tui.app import RtApp
from tui.config import Settings
from tui.session import FRAMES
from tui.widgets import EventLog, Transcript
from tui.widgets.framed_rows import FramedStylesCache


def rows(strips: list[Strip]) -> list[tuple[list[tuple[str, object]], int]]:
    """What a terminal gets of each row: its segments' text and style, and its width."""
    return [([(seg.text, seg.style) for seg in strip], strip.cell_length) for strip in strips]


def assert_painted_as_textual_paints(widget: Widget, crop: Region | None = None) -> None:
    """The widget's own (framed) cache, as it is after whatever came before, gives the rows a fresh
    Textual `StylesCache` gives."""
    crop = crop or Region(0, 0, widget.region.width, widget.region.height)
    assert isinstance(widget._styles_cache, FramedStylesCache)
    framed = widget._styles_cache.render_widget(widget, crop)
    textual = StylesCache().render_widget(widget, crop)
    assert rows(framed) == rows(textual), f"{widget!r} at {crop}"


def framed(widget: Widget) -> int:
    """Rows the widget's last paints framed by the fast path."""
    cache = widget._styles_cache
    assert isinstance(cache, FramedStylesCache)
    return len(cache._rows)


def panes(app: RtApp) -> list[Widget]:
    """The two Line-API panes and their scrollbars (framed the same way)."""
    log, transcript = app.query_one(EventLog), app.query_one(Transcript)
    return [log, transcript, log.vertical_scrollbar, transcript.vertical_scrollbar]


async def feed(pilot: Pilot[None], app: RtApp, exchanges: int) -> None:
    for env in envelopes(HourSession(exchanges, seed=7).frames()):
        app.bus.publish(FRAMES, env)
    await views_settled(pilot, app)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)])
async def test_the_panes_rows_are_textual_s_through_a_session_s_states(size: tuple[int, int]) -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=size) as pilot:
        await feed(pilot, app, 3)
        log, transcript = app.query_one(EventLog), app.query_one(Transcript)
        # The fast path is the one taken (a pane it silently declined would pass the rest).
        log._styles_cache.render_widget(log, Region(0, 0, log.region.width, log.region.height))
        assert framed(log)

        def check() -> None:
            for widget in panes(app):
                assert_painted_as_textual_paints(widget)

        check()
        log.focus()  # the focused pane's border is another color
        await pilot.pause()
        check()
        log.action_move(-1)  # a cursor row
        log.action_move(-3)
        await pilot.pause()
        check()
        transcript.focus()
        await pilot.pause()
        check()
        app.theme = "textual-light"
        await pilot.pause()
        check()
        await feed(pilot, app, 2)  # new rows scroll in under the cursor
        check()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        check()
        assert_painted_as_textual_paints(log, Region(3, 2, 20, 5))  # a crop of the pane's middle
        assert_painted_as_textual_paints(transcript, Region(0, 0, transcript.region.width, 1))  # its border


@pytest.mark.parametrize("height", [6, 7, 8, 9, 10])
async def test_panes_of_a_short_terminal_keep_their_border(height: int) -> None:
    """A pane two rows tall has no content rows: its content size is a Size of 0 rows (falsy), which
    was taken for "no content size given" and framed the border's bottom as a too-wide content row."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, height)) as pilot:
        await feed(pilot, app, 2)
        for widget in (app.query_one(EventLog), app.query_one(Transcript)):
            if widget.region:
                assert_painted_as_textual_paints(widget)


class Identity(LineFilter):
    """A line filter the fast path does not know (it sends a paint Textual's way)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return list(segments)


async def test_rows_framed_since_a_paint_textual_s_way_are_not_served_stale_by_it() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await feed(pilot, app, 2)
        log = app.query_one(EventLog)
        log.focus()
        await pilot.pause()
        crop = Region(0, 0, log.region.width, log.region.height)
        unknown = Identity()
        app._filters.append(unknown)  # Textual's path fills its own row cache
        log._styles_cache.render_widget(log, crop)
        app._filters.remove(unknown)  # the fast path again
        log._styles_cache.render_widget(log, crop)
        log.action_move(-3)  # rows repainted (their dirty marks used up) by the fast path
        log._styles_cache.render_widget(log, crop)
        app._filters.append(unknown)  # Textual's way again, with no clear between
        assert_painted_as_textual_paints(log)


@pytest.mark.parametrize(
    "css",
    ["tint: red 30%", "opacity: 0.5", "text-opacity: 0.7", "padding: 0 2", "outline: solid green", "hatch: cross red"],
)
async def test_a_style_the_fast_path_does_not_frame_is_painted_textual_s_way(css: str) -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await feed(pilot, app, 2)
        log = app.query_one(EventLog)
        rule, value = css.split(": ")
        log.set_styles(f"{rule}: {value};")
        await pilot.pause()
        assert_painted_as_textual_paints(log)
        assert not framed(log), "the fast path framed a style it does not know"
