"""Growing a Line-API view without laying the whole screen out again, changing its subtitle
without repainting it, and telling a change of its look from a style update that changed nothing.

`Widget.virtual_size` is a reactive with `layout=True`: every change lays out the whole screen and
repaints every widget, which is what a log that grows 30 times a second must not do. A taller
virtual size only moves the scrollbar, unless the scrollbar appears or disappears (the content
area then changes width): only that case needs a layout.
"""

from __future__ import annotations

from math import ceil
from typing import Any, ClassVar, Self

from rich.color import Color
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

from .framed_rows import FramedStylesCache

_DEFAULT_BACK = Color.parse("#555555")
_DEFAULT_BAR = Color.parse("bright_magenta")
"""`ScrollBarRender`'s colors for a style that names none."""

_EIGHTHS = len(ScrollBar.renderer.VERTICAL_BARS)
"""A vertical thumb's ends are drawn to the eighth of a cell (Textual's bar glyphs)."""


def set_virtual_height(view: ScrollView, height: int, *, repaint: bool = True) -> bool:
    """Set `view`'s virtual height, laying out the screen only when its scrollbar comes or goes.

    Returns True when the new height is in effect at once (no layout pending), so a scroll to the
    new end can be done immediately, in the same screen update as the new lines: a deferred scroll
    would repaint the whole view a second time, after the update that showed them.

    `repaint=False`: the caller repaints the lines that changed (rows added below a paused log's
    screen change none of the lines on it); the scrollbar is repainted either way.
    """
    new = Size(view.size.width, height)
    old = view.virtual_size
    if new == old:
        return True
    viewport = view.scrollable_content_region.height
    if (old.height > viewport) != (height > viewport) or old.width != new.width or not view.is_mounted:
        view.virtual_size = new  # the scrollbar appears or goes, or the width changed: lay out
        return False
    # The same scrollbar, longer or shorter: update it and repaint this widget only. Textual's own
    # size update does exactly this when no layout is asked for (Widget._size_updated).
    view.set_reactive(Widget.virtual_size, new)
    _scroll_update(view, new)
    if repaint:
        view.refresh()
    return True


def _scroll_update(view: ScrollView, virtual_size: Size) -> None:
    """Textual's `Widget._scroll_update` (the scrollbars follow a new virtual size), less the
    repaint it asks of a vertical `SteadyScrollBar`, which repaints itself when its thumb moves."""
    bar = view._vertical_scrollbar
    if not isinstance(bar, SteadyScrollBar) or view.show_horizontal_scrollbar:
        view._scroll_update(virtual_size)
        return
    view._refresh_scrollbars()
    if view.show_vertical_scrollbar and view.styles.scrollbar_size_vertical:
        bar.window_virtual_size = virtual_size.height
        bar.window_size = view.container_size.height - view.scrollbar_size_horizontal
    view.scroll_x = view.validate_scroll_x(view.scroll_x)
    view.scroll_y = view.validate_scroll_y(view.scroll_y)


def set_border_subtitle(widget: Widget, subtitle: str) -> None:
    """Set `widget`'s border subtitle (plain text, never markup), repainting only its bottom border
    line.

    Assigning `border_subtitle` repaints the whole widget: every line of a log pane goes through the
    compositor again (most of a key's screen update) when only a few words at its foot changed. This
    stores the subtitle as Textual's own setter does and marks only the line that shows it.
    """
    outer = widget.outer_size
    drawn = widget.styles.border_bottom[0] not in ("", "none", "hidden")
    if not widget.is_mounted or widget._border_subtitle is None or not outer or not drawn:
        widget.border_subtitle = Text(subtitle)  # the first, or no bottom border to draw it on: the plain way
        return
    widget._border_subtitle = Content(subtitle).expand_tabs(4).split()[0]
    offset = widget.content_offset  # refresh() takes regions relative to the content area
    widget.refresh(Region(-offset.x, outer.height - 1 - offset.y, outer.width, 1))


Look = tuple[str, Style, tuple[Style, ...]]
"""The theme, a widget's own style and its component classes' styles."""


def look_of(widget: Widget, *component_classes: str) -> Look:
    """What a Line-API view's cached lines are drawn with: the theme, the widget's own style and its
    component classes' styles."""
    return (
        widget.app.theme,
        widget.rich_style,
        tuple(widget.get_component_rich_style(name) for name in component_classes),
    )


class LookCache:
    """A Line-API view's look (`look_of`), taken once per style change.

    Textual derives a widget's style from its ancestors' on every call (tens of microseconds, per
    line when asked per line), and calls `notify_style_update` for every style update, a focus
    moving in or out included (a bar opening): a view keeps its rendered lines across those, and
    renders them again only when its look changed.
    """

    def __init__(self, widget: Widget, *component_classes: str) -> None:
        self._widget = widget
        self._components = component_classes
        self._look: Look | None = None

    def get(self) -> Look:
        """The current look: (theme, the widget's style, its component styles in the order given)."""
        if self._look is None:
            self._look = look_of(self._widget, *self._components)
        return self._look

    def changed(self) -> bool:
        """Take the look again after a style update; True when the rendered lines are stale."""
        look = look_of(self._widget, *self._components) if self._widget.is_mounted else None
        changed = look is None or look != self._look
        self._look = look
        return changed


def line_width(view: ScrollView) -> int:
    """Cells a line of `view` may use: its content width less the vertical scrollbar's gutter.
    The panes keep that gutter whether or not the scrollbar shows (`scrollbar-gutter: stable`), so
    the width does not change, and nothing is wrapped again, when the scrollbar comes or goes; and
    no text ever lies under the scrollbar."""
    return view.scrollable_content_region.width


class LineView(ScrollView, inherit_bindings=False):
    """A pane's Line-API view (the log, the transcript). Its lines are asked for one paint at a
    time, so its line width (`line_width`: a region computed from its styles, ~5 µs) is taken once
    per paint (`render_lines`), not once for each of its lines (`paint_width`); and its vertical
    scrollbar is a `SteadyScrollBar`.

    Its lines are cut to its width, so it never scrolls sideways: of a scrollable's keys it keeps
    the vertical ones (each view binds its own rows' keys), and the keys panel lists no Page Left
    or Scroll Right that would do nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    _paint_width: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles_cache = FramedStylesCache()  # each row framed in a few µs, not Textual's ~40

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """A scrollbar that repaints only when what it draws changes (`SteadyScrollBar`)."""
        return steady_vertical_scrollbar(self)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's, with the line width taken once for every line it renders."""
        self._paint_width = line_width(self)
        try:
            return super().render_lines(crop)
        finally:
            self._paint_width = None

    def paint_width(self) -> int:
        """`line_width` of this view: the paint's own while one is under way, else measured now (a
        line asked for outside a paint: a test, a copy)."""
        width = self._paint_width
        return width if width is not None else line_width(self)


def thumb_extent(length: int, virtual: int, window: int, position: float) -> tuple[int, int, int]:
    """(the bar's length in cells, its thumb's start and end in eighths of a cell; -1, -1 when it has
    none): all that `ScrollBarRender.render_bar` draws depends on, by its own arithmetic."""
    if not (window and length and virtual and length != virtual):
        return (length, -1, -1)
    thumb = max(1, window / (virtual / length))
    start = int((length - thumb) * (position / (virtual - window)) * _EIGHTHS)
    return (length, start, start + ceil(thumb * _EIGHTHS))


class SteadyScrollBar(ScrollBar):
    """A vertical scrollbar that repaints only when what it draws changes.

    Textual repaints a scrollbar whenever the view's virtual size or scroll position changes, and
    every scrollbar on screen at every layout (a bar opening above the log, the focus moving to it):
    for a log following a stream, each row of both panes' bars through the compositor at each views
    refresh, though the one-cell thumb at the foot of a long log moves by less than the eighth of a
    cell it can show. This bar compares what it would draw (the thumb by Textual's own arithmetic,
    `thumb_extent`, and its colors) with what it drew, and repaints only when they differ.
    """

    window_virtual_size: Reactive[int] = Reactive(100, repaint=False)
    window_size: Reactive[int] = Reactive(0, repaint=False)
    position: Reactive[float] = Reactive(0, repaint=False)

    def __init__(self, *, thickness: int = 1) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._styles_cache = FramedStylesCache()
        self._drawn: tuple[object, ...] | None = None
        self._check_pending = False
        self._rows: list[Strip] | None = []
        self._rows_key: tuple[object, ...] | None = None

    def thumb(self) -> tuple[int, int, int]:
        """Where the thumb is now (see `thumb_extent`)."""
        window = self.window_size if self.window_size < self.window_virtual_size else 0
        return thumb_extent(self.size.height, ceil(self.window_virtual_size), ceil(window), self.position)

    def look(self) -> tuple[object, ...]:
        """Everything `ScrollBar.render` draws from: the thumb, the bar's state, its view's colors.

        Left out, as Textual 8.2.8 (pinned) repaints them by other paths than `refresh()`: the bar's
        size (its region; a resize marks it dirty) and its thickness (fixed when it is made)."""
        parent = self.parent
        if not isinstance(parent, Widget):
            return (self.thumb(), self.grabbed, self.mouse_over)
        styles = parent.styles
        colors = (
            styles.scrollbar_background,
            styles.scrollbar_background_hover,
            styles.scrollbar_background_active,
            styles.scrollbar_color,
            styles.scrollbar_color_hover,
            styles.scrollbar_color_active,
        )
        return (
            self.thumb(),
            self.grabbed,
            self.mouse_over,
            colors,
            parent.background_colors,
            self.screen.styles.scrollbar_color,
        )

    def render(self) -> RenderableType:
        """Textual's bar, noting what it shows."""
        self._drawn = self.look()
        return super().render()

    def render_lines(self, crop: Region) -> list[Strip]:
        """The bar's rows, made again only when what it draws or its size changed.

        Textual renders a bar as a Rich renderable, through the console: about 60 µs a row, two
        milliseconds for a pane's bar at each thumb move of a log that follows a stream. Its rows
        are one segment each (`ScrollBarRender.render_bar`, Textual's own drawing), so they are
        made into strips directly and served by `render_line`."""
        key = (self.look(), self.size, self.visual_style)  # the style under every row too
        if key != self._rows_key:
            self._rows = self._bar_rows()  # its `render()` notes what is drawn
            self._rows_key = key
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Row `y` of the bar (see `render_lines`)."""
        rows = self._rows
        if rows is None:
            return super().render_line(y)
        if 0 <= y < len(rows):
            return rows[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _bar_rows(self) -> list[Strip] | None:
        """Each row of the bar as Textual draws it: `render()`'s renderer, its thumb and colors."""
        bar = self.render()
        if not isinstance(bar, ScrollBarRender) or not isinstance(bar.style, Style):
            return None  # not Textual's own bar: drawn Textual's way
        style = bar.style
        width, height = self.size
        segments = bar.render_bar(
            size=height,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=width,
            vertical=True,
            back_color=style.bgcolor or _DEFAULT_BACK,
            bar_color=style.color or _DEFAULT_BAR,
        )
        base = self.visual_style.rich_style  # under each row, as Textual's rendering puts it
        # `render_bar` repeats a handful of segment objects (the track above the thumb, the thumb,
        # the track below, the thumb's two ends): one strip each, shared by the rows that show it.
        strips: dict[int, Strip] = {}
        rows: list[Strip] = []
        for segment in segments.segments:
            strip = strips.get(id(segment))  # the segments list keeps each object alive: ids stay unique
            if strip is None:
                strip = strips[id(segment)] = Strip([Segment(segment.text, base + segment.style)], width)
            rows.append(strip)
        return rows

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Repaint, unless asked for a plain repaint of a bar that would draw what it shows already.

        A layout asked of the bar is a repaint: its place and size are its view's to decide (the
        scrollbar gutter), never its own content's. Textual asks for one when the bar's size or a
        style of it changes during a layout (the log shrinking under an opening filter bar, the
        focus leaving it), and that second layout of the whole screen cost a third of the key's."""
        if layout and not recompose:
            return super().refresh(*regions, repaint=True)
        if not regions and repaint and not layout and not recompose and self._drawn is not None:
            if self.is_mounted and self.look() == self._drawn:
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _repaint_if_moved(self) -> None:
        """Compare once the view's update is done: a view that grows and then scrolls to its new end
        moves the thumb up and back down within one update, which must not cost a repaint."""
        if not self._check_pending:
            self._check_pending = True
            self.call_later(self._check)

    def _check(self) -> None:
        self._check_pending = False
        self.refresh()

    def watch_window_virtual_size(self) -> None:
        """The view grew or shrank: repaint if the thumb moved."""
        self._repaint_if_moved()

    def watch_window_size(self) -> None:
        """The view's height changed: repaint if the thumb moved."""
        self._repaint_if_moved()

    def watch_position(self) -> None:
        """The view scrolled: repaint if the thumb moved."""
        self._repaint_if_moved()


def steady_vertical_scrollbar(view: Widget) -> ScrollBar:
    """`view`'s vertical scrollbar, made a `SteadyScrollBar` (as `Widget.vertical_scrollbar` makes
    Textual's own: hidden until a layout shows it, started as the view's)."""
    if view._vertical_scrollbar is None:
        bar = SteadyScrollBar(thickness=view.scrollbar_size_vertical)
        bar.display = False
        view._vertical_scrollbar = bar
        view.app._start_widget(view, bar)
    return view._vertical_scrollbar
