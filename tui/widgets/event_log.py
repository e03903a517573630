"""The event-log pane: every frame in both directions, one row each, rendered with the Line API.

Built for a firehose (50+ audio deltas a second): envelopes are kept in a bounded ring of rows,
rows render lazily when visible, and runs of one delta type collapse into a single row with a
count. Payloads are summarized from the parsed frame; base64 audio is shown as a size tag and
never decoded. The capture file on disk keeps what the ring forgets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.protocol import Direction, Envelope, is_known, summarize

MAX_ROWS = 20_000
"""Rows kept in memory; older rows are forgotten (counted in `forgotten`)."""

_ARROWS = {Direction.OUT: "▲", Direction.IN: "▼", Direction.LOCAL: "●"}


def _collapsible(event_type: str) -> bool:
    return event_type.endswith(".delta") or event_type == "input_audio_buffer.append"


@dataclass(slots=True)
class LogRow:
    """One row: an envelope, or a run of same-type deltas collapsed into one."""

    first: Envelope
    last: Envelope
    count: int = 1
    total_bytes: int = 0
    t0: float = 0.0
    """Monotonic time its connection began: rows show time since their own session's connect."""

    @property
    def type(self) -> str:
        """The event type of the row."""
        return self.first.type


def _size_text(nbytes: int) -> str:
    return f"{nbytes / 1024:.1f}K" if nbytes >= 1024 else f"{nbytes}B"


class EventLog(ScrollView, can_focus=True):
    """A virtual, tail-following list of frames."""

    DEFAULT_CSS = """
    EventLog { background: $surface; overflow-x: hidden; }
    EventLog > .event-log--out { color: $accent; }
    EventLog > .event-log--in { color: $success; }
    EventLog > .event-log--local { color: $warning; }
    EventLog > .event-log--error { color: $error; text-style: bold; }
    EventLog > .event-log--unknown { color: $warning; text-style: italic; }
    EventLog > .event-log--cursor { background: $accent 30%; }
    EventLog > .event-log--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "event-log--out",
        "event-log--in",
        "event-log--local",
        "event-log--error",
        "event-log--unknown",
        "event-log--cursor",
        "event-log--dim",
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("end", "tail", "Tail", id="log.tail"),
        Binding("enter", "open", "Details", id="log.details"),
    ]

    tail: reactive[bool] = reactive(True)
    """Follow new rows. Off as soon as the user moves the cursor; `end` turns it back on."""
    cursor: reactive[int] = reactive(-1)

    class Selected(Message):
        """The user asked for the details of a row."""

        def __init__(self, row: LogRow) -> None:
            self.row = row
            super().__init__()

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: deque[LogRow] = deque(maxlen=MAX_ROWS)
        self.total = 0
        """Envelopes received since the start."""
        self.forgotten = 0
        """Rows pushed out of the ring (the capture file still has them)."""
        self.unseen = 0
        """Rows added while not tailing, shown as "+N new"."""
        self.t0: float | None = None
        self._cache: dict[tuple[int, int, bool, int], Strip] = {}
        self._base = 0
        """Absolute index of rows[0], so cache keys survive the ring's rotation."""

    # -- data -------------------------------------------------------------------------------

    def extend(self, envelopes: Iterable[Envelope]) -> None:
        """Add a batch of envelopes (one refresh per batch, never per event)."""
        added = 0
        for env in envelopes:
            if self.t0 is None or _starts_a_connection(env):
                # Each session's rows count from its own connect, so a reconnect starts at 00:00
                # again below its "reconnecting" row, as its capture file does.
                self.t0 = env.mono
            self.total += 1
            last = self.rows[-1] if self.rows else None
            if (
                last is not None
                and _collapsible(env.type)
                and last.type == env.type
                and last.first.direction is env.direction
            ):
                last.count += 1
                last.last = env
                last.total_bytes += env.size
                continue
            if len(self.rows) == self.rows.maxlen:
                self.forgotten += 1
                self._base += 1
            self.rows.append(LogRow(env, env, 1, env.size, self.t0))
            added += 1
        if not self.tail:
            self.unseen += added
        self._update_after_change()

    def clear(self) -> None:
        """Forget every row (the capture file keeps them)."""
        self.rows.clear()
        self._cache.clear()
        self._base = 0
        self.cursor = -1
        self._update_after_change()

    def _update_after_change(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        if self.tail:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self._update_title()
        self.refresh()

    def _update_title(self) -> None:
        parts = [f"{self.total} frames"]
        if self.forgotten:
            parts.append(f"{self.forgotten} rows forgotten (in capture file)")
        if not self.tail:
            parts.append(f"+{self.unseen} new · end: follow" if self.unseen else "paused · end: follow")
        self.border_subtitle = " · ".join(parts)

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Render the visible row `y` (the Line API asks only for rows on screen)."""
        index = self.scroll_offset.y + y
        if index < 0 or index >= len(self.rows):
            return Strip.blank(self.size.width, self.rich_style)
        row = self.rows[index]
        selected = index == self.cursor
        key = (self._base + index, row.count, selected, self.size.width)
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 4000:
                self._cache.clear()
            strip = self._render_row(row, selected).crop_extend(0, self.size.width, self.rich_style)
            self._cache[key] = strip
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)

    def _render_row(self, row: LogRow, selected: bool) -> Strip:
        env = row.first
        direction = env.direction
        style_name = {Direction.OUT: "out", Direction.IN: "in", Direction.LOCAL: "local"}[direction]
        type_style = self.get_component_rich_style(f"event-log--{style_name}")
        if env.is_error or (direction is Direction.LOCAL and env.data.get("state") == "failed"):
            type_style = self.get_component_rich_style("event-log--error")
        elif direction is not Direction.LOCAL and not is_known(env.type):
            type_style = self.get_component_rich_style("event-log--unknown")
        dim = self.get_component_rich_style("event-log--dim")
        t = env.mono - row.t0
        minutes, seconds = divmod(t, 60)
        label = _label(row)
        size = _size_text(row.total_bytes)
        # The type column shrinks on narrow panes (keeping the tail of the name, the telling part)
        # so the summary stays visible.
        type_width = max(28, min(42, self.size.width - 39))
        if len(label) > type_width:
            label = "…" + label[-(type_width - 1) :]
        summary = summarize(row.last.data) if row.count > 1 else summarize(env.data)
        text = Text.assemble(
            (f"{_ARROWS[direction]} ", type_style),
            (f"{int(minutes):02d}:{seconds:06.3f} ", dim),
            (f"{label:<{type_width}} ", type_style),
            (f"{size:>7} ", dim),
            (summary.replace("\n", " "), Style()),
        )
        if selected:
            text.stylize(self.get_component_rich_style("event-log--cursor"))
        return Strip(list(text.render(self.app.console)))

    def notify_style_update(self) -> None:
        """Theme changes invalidate cached rows."""
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        """Width is part of the cache key; keep the virtual size in step."""
        self.virtual_size = Size(self.size.width, len(self.rows))

    # -- interaction ------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        """Move the cursor; leaving the end turns tail mode off."""
        if not self.rows:
            return
        start = self.cursor if self.cursor >= 0 else len(self.rows) - 1
        self.cursor = max(0, min(len(self.rows) - 1, start + delta))
        self.tail = self.cursor >= len(self.rows) - 1 and delta > 0
        self.scroll_to_region_for(self.cursor)

    def scroll_to_region_for(self, index: int) -> None:
        """Keep row `index` in view."""
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def action_tail(self) -> None:
        """Follow new rows again."""
        self.tail = True
        self.cursor = -1
        self.unseen = 0
        self.scroll_end(animate=False)
        self._update_title()

    def action_open(self) -> None:
        """Ask for the details of the row under the cursor."""
        index = self.cursor if self.cursor >= 0 else len(self.rows) - 1
        if 0 <= index < len(self.rows):
            self.post_message(self.Selected(self.rows[index]))

    def watch_cursor(self, old: int, new: int) -> None:
        self._update_title()
        self.refresh()

    def watch_tail(self, tail: bool) -> None:
        if tail:
            self.unseen = 0
        self._update_title()

    def on_mouse_scroll_up(self) -> None:
        """Scrolling up means the user wants to read: stop following."""
        self.tail = False

    def row_texts(self) -> list[str]:
        """Plain text of every row (for tests and exports)."""
        return [f"{_ARROWS[r.first.direction]} {_label(r)} {summarize(r.last.data)}" for r in self.rows]


def _starts_a_connection(env: Envelope) -> bool:
    """A reconnect request or a connection attempt: later rows count from here."""
    if env.direction is not Direction.LOCAL:
        return False
    return env.type == "rt.reconnect" or (env.type == "rt.connection" and env.data.get("state") == "connecting")


def _label(row: LogRow) -> str:
    """The type column of a row: the event type, its run length, and whether rt-tui knows it."""
    env = row.first
    label = env.type if row.count == 1 else f"{env.type} ×{row.count}"
    if env.direction is not Direction.LOCAL and not is_known(env.type) and not env.type.startswith("rt."):
        label += " (unknown type)"
    return label


__all__ = ["EventLog", "LogRow"]
