"""Growing a Line-API view without laying the whole screen out again.

`Widget.virtual_size` is a reactive with `layout=True`: every change lays out the whole screen and
repaints every widget, which is what a log that grows 30 times a second must not do. A taller
virtual size only moves the scrollbar, unless the scrollbar appears or disappears (the content
area then changes width): only that case needs a layout.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_virtual_height(view: ScrollView, height: int) -> None:
    """Set `view`'s virtual height, laying out the screen only when its scrollbar comes or goes."""
    new = Size(view.size.width, height)
    old = view.virtual_size
    if new == old:
        return
    viewport = view.scrollable_content_region.height
    if (old.height > viewport) != (height > viewport) or old.width != new.width or not view.is_mounted:
        view.virtual_size = new  # the scrollbar appears or goes, or the width changed: lay out
        return
    # The same scrollbar, longer or shorter: update it and repaint this widget only. Textual's own
    # size update does exactly this when no layout is asked for (Widget._size_updated).
    view.set_reactive(Widget.virtual_size, new)
    view._scroll_update(new)
    view.refresh()
