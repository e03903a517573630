"""Framing a Line-API pane's content rows in its border for a few microseconds, not forty.

Textual styles every line a widget renders (`StylesCache.render_line`): it reads the border,
outline, padding, tint, hatch and opacity rules, builds the border's two styles and looks its box
up for each line, then wraps the result in a new `Strip`. For a pane that repaints every row as a
stream scrolls it (the event log, the transcript) that is ~40 µs a row, ten times the cost of the
row itself, and most of a paint. `FramedStylesCache` works out once per paint what frames a
content row (the two border cells, the background a short line is padded with), and frames each
content row from that. It takes the fast path only where the result is the very strip Textual
builds: no tint, hatch, outline, horizontal padding or opacity (the panes use none); every other
row (the border's top and bottom, padding rows) and every other style goes Textual's way.
`tests/test_framed_rows.py` holds the two equal, segment by segment, across the panes' looks.

Textual 8.2.8 (pinned): `StylesCache.render` and `render_line` are internal; a Textual upgrade
re-runs that test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.terminal_theme import TerminalTheme
from textual._ansi_theme import DEFAULT_TERMINAL_THEME
from textual._border import get_box
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.content import Content
from textual.css.styles import StylesBase
from textual.filter import ANSIToTruecolor, DimFilter, LineFilter, Monochrome, NoColor
from textual.geometry import Region, Size, Spacing
from textual.strip import Strip
from textual.style import Style

PER_SEGMENT_FILTERS: frozenset[type[LineFilter]] = frozenset({ANSIToTruecolor, DimFilter, Monochrome, NoColor})
"""Textual's line filters, each of which maps a row's segments one by one (so a row's border and
its line can be filtered apart); a filter of another kind sends the paint Textual's way."""


class RowFrame(NamedTuple):
    """What frames every content row of one paint."""

    top: int
    """Rows above the content (the border's top, padding)."""
    height: int
    """Content rows."""
    width: int
    """Cells of a content row (what `adjust_cell_length` pads or cuts a line to)."""
    background: RichStyle
    """The style a short line is padded with."""
    left: Segment | None
    right: Segment | None
    total: int
    """Cells of the framed row."""


def _plain(styles: StylesBase, padding: Spacing, opacity: float) -> bool:
    """True when Textual's styling of a content row is only the border around it: none of the
    rules its general path applies to the row itself is in effect."""
    return (
        opacity == 1.0
        and styles.text_opacity == 1.0
        and not styles.tint.a
        and not padding.left
        and not padding.right
        and not (styles.has_rule("hatch") and styles.hatch != "none")
        and not any(edge for edge, _color in styles.outline)
    )


def row_frame(
    cache: StylesCache,
    styles: StylesBase,
    size: Size,
    content_size: Size,
    padding: Spacing,
    base_background: Color,
    background: Color,
    opacity: float,
) -> RowFrame | None:
    """The frame of this paint's content rows, or None when Textual's general path must style them."""
    if not _plain(styles, padding, opacity):
        return None
    inner, outer = cache.get_inner_outer(base_background, background)
    (_top, _top_color), (border_right, right_color), (_bottom, _bottom_color), (border_left, left_color) = styles.border
    # The same styles and box lookups as `StylesCache.render_line`'s content rows.
    left = right = None
    if border_left:
        left_style = Style(foreground=base_background + left_color.multiply_alpha(opacity))
        left = get_box(border_left, inner, outer, left_style)[1][0]
    if border_right:
        right_style = Style(foreground=base_background + right_color.multiply_alpha(opacity))
        right = get_box(border_right, inner, outer, right_style)[1][2]
    return RowFrame(
        styles.gutter.top, content_size.height, content_size.width, inner.rich_style, left, right, size.width
    )


class FramedStylesCache(StylesCache):
    """Textual's styles cache with a fast path for content rows (see the module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[int, Strip] = {}
        """Framed, filtered content rows by y (Textual's `_cache` keeps its other rows, unfiltered)."""
        self._rows_key: tuple[object, ...] | None = None
        """The frame and filters `_rows` were made with."""

    def clear(self) -> None:
        """Forget every row (Textual's and the framed ones)."""
        super().clear()
        self._rows.clear()

    def render(
        self,
        styles: StylesBase,
        size: Size,
        base_background: Color,
        background: Color,
        render_content_line: Callable[[int], Strip],
        filters: Sequence[LineFilter],
        border_title: tuple[Content, Color, Color, Style] | None,
        border_subtitle: tuple[Content, Color, Color, Style] | None,
        content_size: Size | None = None,
        padding: Spacing | None = None,
        crop: Region | None = None,
        opacity: float = 1.0,
        ansi_theme: TerminalTheme = DEFAULT_TERMINAL_THEME,
        native_ansi: bool = False,
    ) -> list[Strip]:
        """Textual's `render`, with the content rows framed from one `RowFrame` per paint."""
        content_size = size if content_size is None else content_size  # not `or`: a 0-row Size is falsy
        padding = styles.padding if padding is None else padding
        frame = None
        if all(type(line_filter) in PER_SEGMENT_FILTERS for line_filter in filters):
            frame = row_frame(self, styles, size, content_size, padding, base_background, background, opacity)
        if frame is None:
            self._rows.clear()
            return super().render(
                styles,
                size,
                base_background,
                background,
                render_content_line,
                filters,
                border_title,
                border_subtitle,
                content_size,
                padding,
                crop,
                opacity,
                ansi_theme,
                native_ansi,
            )
        width = size.width
        if width != self._width:
            self.clear()
            self._width = width
        key = (frame, tuple(filters), background)
        if key != self._rows_key:
            self._rows.clear()
            self._rows_key = key
        left, right = _filtered_edges(frame, filters, background)
        crop = size.region if crop is None else crop  # an empty crop paints nothing, as Textual's
        rows, cache, dirty = self._rows, self._cache, self._dirty_lines
        top, height, content_width, padded_with = frame.top, frame.height, frame.width, frame.background
        strips: list[Strip] = []
        for y in crop.line_range:
            strip = None if y in dirty else rows.get(y)
            if strip is None:
                if 0 <= y - top < height:
                    # As Textual's content row: the line cut or padded to the content width, in its
                    # border, then filtered; filtered before the border is added (each filter maps
                    # segments one by one), so a line seen before takes its filtered copy from the
                    # line's own cache.
                    line = render_content_line(y - top).adjust_cell_length(content_width, padded_with)
                    for line_filter in filters:
                        line = line.apply_filter(line_filter, background)
                    segments = list(line)
                    if left is not None:
                        segments.insert(0, left)
                    if right is not None:
                        segments.append(right)
                    strip = rows[y] = Strip(segments, width)
                    cache.pop(y, None)  # Textual's copy of this row, if a paint its way made one, is stale now
                else:  # the border's top or bottom, a padding row: Textual's way, and its cache
                    if y in dirty or y not in cache:
                        cache[y] = self.render_line(
                            styles,
                            y,
                            size,
                            content_size,
                            padding,
                            base_background,
                            background,
                            render_content_line,
                            border_title,
                            border_subtitle,
                            opacity,
                            ansi_theme,
                            native_ansi,
                        )
                    strip = cache[y]
                    for line_filter in filters:
                        strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        dirty.difference_update(crop.line_range)
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips


def _filtered_edges(
    frame: RowFrame, filters: Sequence[LineFilter], background: Color
) -> tuple[Segment | None, Segment | None]:
    """The frame's border cells with the paint's filters applied, as Textual filters a whole row."""
    edges = [frame.left, frame.right]
    for line_filter in filters:
        edges = [None if edge is None else line_filter.apply([edge], background)[0] for edge in edges]
    return edges[0], edges[1]
