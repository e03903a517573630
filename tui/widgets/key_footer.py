"""The footer: the keys that work where the focus is, on one line that only ever repaints.

Textual's `Footer` is a container with one widget per key, recomposed whenever the focus changes
which bindings are active: every focus change (opening the filter bar, leaving the message box)
unmounts and mounts a dozen widgets and lays out the whole screen, 15–40 ms idle and far more while
frames stream in. This footer shows the same keys, in the same order and compact style, as one line
of text: a focus change costs one repaint of one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

_UNNAMED_CHARACTERS = {"slash": "/"}
"""Key names Textual's `key_to_character` cannot turn back into their character (the Unicode name
of `/` is SOLIDUS), so its check that a focused input types the key misses them."""

_ENABLED = Style()
_DISABLED = Style(dim=True)
"""A key whose action cannot run now is shown dimmed (Textual's footer does the same)."""


@dataclass(frozen=True, slots=True)
class FooterKey:
    """One key shown in the footer, and the columns it takes."""

    key: str
    """The key to press (what a click presses)."""
    start: int
    end: int
    enabled: bool


class KeyFooter(Widget, can_focus=False):
    """The active bindings that ask to be shown, as `key description` pairs; the command palette's
    key on the right. A click on a key presses it, as on Textual's footer."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name for it
        super().__init__(id=id)
        self.keys: list[FooterKey] = []
        """The keys as last drawn, left to right (what a click finds)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()  # one line, same size: no layout

    def render(self) -> Text:
        """The app's and the screen's keys, then the focused pane's (with the app's keys it names, see
        `_named_here`; Quit last), then the palette's key at the right. Keys of one binding group
        (Textual's `Binding.Group`) that follow each other share its description (`< > Session`).
        A narrow footer leaves keys out whole (see `_fitted`): the pane's dimmed ones first, then
        the app's from the right (but its first, talk), then the pane's; never Quit."""
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        app = self.app
        seen_actions: set[str] = set()
        palette = None
        focused = self.screen.focused
        screen = self.screen
        named = _named_here(focused)
        entries: list[tuple[str, Binding, bool, bool]] = []
        for pressed, (node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            here = node is not app and node is not screen
            if binding.id is not None and binding.id in named:
                # The app's binding, named by the focused widget: shown among its keys, in its words.
                binding, here = replace(binding, description=named[binding.id], show=True), True
            entries.append((pressed, binding, enabled, here))
        # The app's and the screen's keys first; in a focused pane's, Quit last (as the app's is).
        entries.sort(key=lambda entry: (entry[3], entry[3] and entry[1].action in _KEPT_ACTIONS))
        shown: list[tuple[Binding, bool]] = []
        pane_keys: set[str] = set()
        for pressed, binding, enabled, here in entries:
            if app.ENABLE_COMMAND_PALETTE and pressed == app.COMMAND_PALETTE_BINDING:
                palette = (binding, enabled)
                continue
            character = _UNNAMED_CHARACTERS.get(pressed)
            if character is not None and focused is not None and focused.check_consume_key(pressed, character):
                continue  # the focused input types it: the key does not do what the footer would say
            if not binding.show or binding.action in seen_actions:
                continue  # one key per action, as Textual's footer shows them
            seen_actions.add(binding.action)
            shown.append((binding, enabled))
            if here:
                pane_keys.add(binding.action)
        room = self.size.width
        label = Text()
        if palette is not None:
            # The palette's key stays at the right edge, as Textual's footer docks it: the other keys
            # that fit whole in the room left of it are kept.
            binding, enabled = palette
            dim = _ENABLED if enabled else _DISABLED
            label = Text.assemble(
                "▏",
                (app.get_key_display(binding), key_style + dim),
                (" " + binding.description, description_style + dim),
            )
            room = max(0, room - label.cell_len)
        units = _units(shown)
        compact = _compact_here(focused)
        if compact and sum(_width(unit, app.get_key_display) for unit in units) - 1 > room:
            # Not every key fits in its own words: the pane's in their short ones before any goes.
            shown = [
                (replace(binding, description=compact.get(binding.id or "", binding.description)), enabled)
                for binding, enabled in shown
            ]
            units = _units(shown)
        units = _fitted(units, room, app.get_key_display, pane_keys, _related_here(focused))
        line = Text(no_wrap=True, overflow="crop", end="")
        keys: list[FooterKey] = []
        for unit in units:
            description = unit[0][0].group.description if len(unit) > 1 and unit[0][0].group else ""
            for binding, enabled in unit:
                start = line.cell_len
                dim = _ENABLED if enabled else _DISABLED
                line.append(app.get_key_display(binding), key_style + dim)
                if len(unit) == 1 and binding.description:
                    line.append(" " + binding.description, description_style + dim)
                keys.append(FooterKey(binding.key, start, line.cell_len, enabled))
                line.append(" ")
            if description:
                enabled = any(enabled for _, enabled in unit)
                line.append(description, description_style + (_ENABLED if enabled else _DISABLED))
                line.append(" ")
        if palette is not None:
            binding, enabled = palette
            line.truncate(min(line.cell_len, room))
            line.pad_right(room - line.cell_len)
            line.append_text(label)
            keys.append(FooterKey(binding.key, room + 1, line.cell_len, enabled))
        self.keys = keys
        return line

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it, a dimmed one too: pressed, a dimmed key says why it cannot act
        now (the log's frame keys: no frame is selected; space and v: ctrl+r opens a session), where
        Textual's footer only rings the bell."""
        for key in self.keys:
            if key.start <= event.x < key.end:
                self.app.simulate_key(key.key)
                return


_Unit = list[tuple[Binding, bool]]
"""A key, or the keys of one binding group shown side by side under its description."""

_KEPT_ACTIONS = frozenset({"quit", "app.quit"})
"""Keys a narrow footer keeps whatever else it leaves out (a text input's `ctrl+q` runs `app.quit`)."""


_FIRST_TO_GO = frozenset({"zoom", "app.zoom"})
"""The app's keys a narrow footer leaves out before its others: shown where there is room (`z`,
which an app's footer of 80 columns would show in the place of `! Findings`)."""


def _named_here(focused: Widget | None) -> Mapping[str, str]:
    """The app's bindings, by id, that the focused widget asks the footer to show among its own
    keys, and in what words (`FOOTER_SHOWN`): a key the app must keep handling itself, such as Esc
    in the message input, which a binding of the input's would take from it."""
    named = getattr(focused, "FOOTER_SHOWN", None)
    return named if isinstance(named, Mapping) else {}


def _related_here(focused: Widget | None) -> frozenset[str]:
    """The ids of the app's bindings that act on the focused widget (`FOOTER_RELATED`): a narrow
    footer keeps them before the app's others (the log's Filter, Find and Findings beside its
    frame keys, where Talk and Type do nothing to the log)."""
    related = getattr(focused, "FOOTER_RELATED", None)
    return related if isinstance(related, frozenset) else frozenset()


def _compact_here(focused: Widget | None) -> Mapping[str, str]:
    """Shorter words for the focused widget's keys, by binding id (its `footer_compact()`, else its
    `FOOTER_COMPACT`): used when the footer cannot show every key in its own words (`c Cause` for
    `c Cause ↔ error`)."""
    words = getattr(focused, "footer_compact", None)
    compact = words() if callable(words) else getattr(focused, "FOOTER_COMPACT", None)
    return compact if isinstance(compact, Mapping) else {}


def _units(shown: list[tuple[Binding, bool]]) -> list[_Unit]:
    """The keys in footer order, the neighbours of one binding group as one unit."""
    units: list[_Unit] = []
    for binding, enabled in shown:
        group = binding.group
        if group is not None and units and units[-1][0][0].group is group:
            units[-1].append((binding, enabled))
        else:
            units.append([(binding, enabled)])
    return units


def _width(unit: _Unit, display: Callable[[Binding], str]) -> int:
    """The cells a unit takes in the footer, the space after it included."""
    keys = sum(cell_len(display(binding)) + 1 for binding, _ in unit)
    if len(unit) > 1 and unit[0][0].group is not None:
        return keys + cell_len(unit[0][0].group.description) + 1
    binding = unit[0][0]
    return keys + (cell_len(binding.description) + 1 if binding.description else 0)


def _fitted(
    units: list[_Unit],
    room: int,
    display: Callable[[Binding], str],
    pane_keys: set[str],
    related: frozenset[str] = frozenset(),
) -> list[_Unit]:
    """The units that fit in `room` cells, in order. Those that give way, each kind from the right:
    the focused pane's dimmed keys (nothing selected for them to act on), then the app's extras
    (`_FIRST_TO_GO`) and its dimmed keys (at 80 columns with no microphone, `space Talk` and `v
    Hands-free` stayed while `t Type`, the one way left to talk, went), then the app's others,
    then its first (talk), then the app's keys that act on the focused pane (`related`, by binding
    id), then the pane's that can act now: with a frame selected in the log at 80 columns, Enter,
    c and o are what the next key will be, and Filter, Find and Findings what the log is searched
    with. Quit never."""

    def rank(i: int) -> int:
        """Lower gives way sooner."""
        unit = units[i]
        if any(binding.action in pane_keys for binding, _ in unit):
            return 5 if any(enabled for _, enabled in unit) else 0
        if any(binding.id in related for binding, _ in unit):
            return 4
        if any(binding.action in _FIRST_TO_GO for binding, _ in unit) or not any(enabled for _, enabled in unit):
            return 1  # an extra, or a key that cannot act now (space and v with no microphone found)
        return 3 if i == 0 else 2

    widths = [_width(unit, display) for unit in units]
    kept = list(range(len(units)))
    total = sum(widths) - 1  # the space after the last key is not needed
    while total > room and kept:
        droppable = [i for i in kept if not any(binding.action in _KEPT_ACTIONS for binding, _ in units[i])]
        if not droppable:
            break
        lowest = min(rank(i) for i in droppable)
        dropped = [i for i in droppable if rank(i) == lowest][-1]
        kept.remove(dropped)
        total -= widths[dropped]
    # A key that left for one wider than it, which left after it, fits again: back in its place
    # (`t Type` went before `v Hands-free`, and the room `v` left was not used).
    for i in sorted(range(len(units)), key=lambda i: -rank(i)):  # those that went last first
        if i not in kept and rank(i) > 0 and total + widths[i] <= room:
            kept.append(i)
            total += widths[i]
    return [units[i] for i in sorted(kept)]
