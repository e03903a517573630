"""Growing a Line-API view without laying the whole screen out again, changing its subtitle
without repainting it, and telling a change of its look from a style update that changed nothing.

`Widget.virtual_size` is a reactive with `layout=True`: every change lays out the whole screen and
repaints every widget, which is what a log that grows 30 times a second must not do. A taller
virtual size only moves the scrollbar, unless the scrollbar appears or disappears (the content
area then changes width): only that case needs a layout.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_virtual_height(view: ScrollView, height: int) -> bool:
    """Set `view`'s virtual height, laying out the screen only when its scrollbar comes or goes.

    Returns True when the new height is in effect at once (no layout pending), so a scroll to the
    new end can be done immediately, in the same screen update as the new lines: a deferred scroll
    would repaint the whole view a second time, after the update that showed them.
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
    view._scroll_update(new)
    view.refresh()
    return True


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
