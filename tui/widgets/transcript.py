"""The transcript pane: both sides of the conversation, one block per item, in conversation order.

Rendered with the Line API, so an hour of conversation costs nothing per tick: each item's block
is wrapped once per change (and per width); a streaming reply re-renders only its own block, about
`MAX_REFRESH_HZ` times a second (never sooner than `FLUSH_SLACK` before it is due), and of it only
the lines the delta changed (`block_wrap`: the same rows as a whole render), and the screen is laid
out again only when a block's height changed. Every item keeps its height; only the
`CACHED_BLOCKS` most recently shown keep their rendered lines, so the memory the garbage collector
walks does not grow with the conversation.
Rows appear the moment an item exists (a committed recording shows "(transcribing…)" at once) and
fill in where they stand when late transcripts land.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, islice
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import ConsoleOptions
from rich.segment import Segment
from rich.style import Style, StyleType
from rich.text import Span, Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from tui.conversation import NO_OUTPUT, Item, Origin, TextState
from tui.conversation.export import OUT_OF_BAND, ended_early
from tui.protocol import printable

from .block_wrap import LastParagraph, last_paragraph, regrow, worth_regrowing, wrapped_rows, wraps_by_paragraph
from .palette import themed
from .timers import after
from .virtual import LineView, LookCache, line_width, set_border_subtitle, set_virtual_height

_COMPONENTS = ("transcript--cursor", "transcript--muted")
"""The component classes rows are drawn with, in the order their look gives their styles."""

MAX_REFRESH_HZ = 15
"""A streaming reply repaints at most this often (deltas arriving in between coalesce)."""
FLUSH_SLACK = 1 / 60
"""A repaint due within this long is done now. The app's views refresh 15 times a second, timed from
its pump's tick, a few milliseconds before the transcript flushes within that refresh: the next
refresh found the flush due a few milliseconds later still, deferred it, and the transcript came as
a screen update of its own (a third more compositor passes while a reply streamed after an hour)."""
NEAR_ROWS = 60
"""Rows a resize counts at once around the view (a screen holds fewer: every row is two lines at
least); the others are estimated, and counted in slices of `COUNT_SLICE_SECONDS`."""

COUNT_SLICE_SECONDS = 0.01

CACHED_BLOCKS = 48
"""Items whose rendered lines are kept (least recently shown dropped first): several screens' worth.
A block is a dozen Strips, each with caches of its own: keeping all of an hour's would make every
full garbage collection walk them."""

UNHEARD_STYLE = "dim strike"
"""The look of a truncated reply's words after the cut: what the user never heard."""

SHOWN_CHARACTERS = 200_000
"""The most of one item's text a row shows (wrapping it takes about 70 ms); the rest is counted.
A spoken turn is a few hundred characters; a server's 50 MB delta, wrapped whole at each repaint,
held the app frozen for minutes."""

_ROLE_LABELS = {"user": "you", "assistant": "assistant", "tool": "tool", "system": "system"}
_ROLE_STYLES = {"user": "#7dcfff", "assistant": "#9ece6a", "tool": "#e0af68", "system": "#bb9af7"}
VOICE_HINT = (
    "Press space to talk (again to send), or t to type a message.",
    "Your words appear here as soon as you stop, and fill in when the transcription lands.",
)
"""What the empty pane says in a live session (each paragraph wrapped to the pane's width)."""
RECORDED_AUDIO = "recorded audio"
"""A live session's label for user audio committed from the input buffer: rt-tui recorded it."""


_NO_WORDS = {
    TextState.SPEAKING: "yet: the user is still speaking",
    TextState.TRANSCRIBING: "yet: its transcript has not come",
    TextState.FAILED: "(its transcription failed)",
    TextState.TRANSCRIPTION_OFF: "(input transcription was off)",
    TextState.NOT_TRANSCRIBED: "(the server does not transcribe audio sent with conversation.item.create)",
    TextState.INTERRUPTED: "(the connection ended before any came)",
    TextState.UNRECORDED: "(the recording ends before any came)",
    TextState.DONE: "(its text is empty)",
}
"""Why a row has no words to copy, by its text state (any other: "yet")."""


LONGEST_REASON = 64
"""Characters of the reason a row's head gives for a reply that ended early (`failed (code:
message)`) at most: a longer one is cut (the log's frame and the exports have it whole)."""


def _no_hold() -> float:
    return 0.0


def render_item(item: Item, *, buffer_audio: str = RECORDED_AUDIO, dark: bool = True) -> Text:
    """The Rich text of one item: a role line with its facts, then the words (plain text).

    `buffer_audio` labels user audio committed from the input buffer (see `Transcript.buffer_audio`);
    `dark`: the theme is dark (`tui.widgets.palette`).
    """
    head, body = render_parts(item, buffer_audio=buffer_audio, dark=dark)
    return head if body is None else Text.assemble(head, "\n", body)


def render_parts(
    item: Item, *, buffer_audio: str = RECORDED_AUDIO, dark: bool = True, width: int | None = None, source: str = ""
) -> tuple[Text, Text | None]:
    """`render_item`'s text in its two parts: the role line and the words (None for a session's
    separator row, which is one row: fitted to `width` cells when given, see `session_rule`).
    `source`: for a separator, the file its connection is replayed from, named in the target's place."""
    if item.role == "session":
        text = printable(item.text)
        if source:
            stamp = text.rpartition(" · ")[2]
            # The file last: a narrow rule gives up the time first (a session folder's name holds it).
            text = " · ".join(["new session", *([stamp] if _CLOCK.fullmatch(stamp) else []), printable(source)])
        return Text(session_rule(text, width), style=themed("bold #737aa2", dark)), None
    label = _ROLE_LABELS.get(item.role, item.role)
    head = Text(label, style="bold")
    facts: list[str] = []
    if item.role == "user" and item.has_audio:
        facts.append(buffer_audio if item.origin is Origin.BUFFER else "audio via conversation.item.create")
    if item.kind == "function_call" and item.name:
        facts.append(f"call {printable(item.name)}")
    if item.origin is Origin.OUT_OF_BAND:
        facts.append(OUT_OF_BAND)  # a reply the server kept out of the conversation
    if item.state is TextState.STREAMING and item.text:
        # A user's words stream in as their transcription: said so, as "(transcribing…)" is before them.
        facts.append("transcribing…" if item.role == "user" else "streaming…")
    # A reply that never came shows its error's message in its body: the head names the code. Any
    # other keeps the message in its head, cut when long (the service's quota message, a web address
    # in it, took six lines of a narrow pane).
    early = ended_early(item, brief=item.kind == NO_OUTPUT, reason_limit=LONGEST_REASON)
    if early is not None:
        facts.extend(printable(early).split(" · "))  # the reason is server text; each mark a fact
    if item.state is TextState.INTERRUPTED:
        facts.append("cut off: the connection ended")
    elif item.state is TextState.UNRECORDED:
        facts.append("cut off: the recording ends")
    latency = item.transcription_latency
    if latency is not None and item.role == "user" and item.state is TextState.DONE:
        # Seconds past one (`3.0 s`): `transcript in 3004 ms` wrapped its unit onto the next line.
        facts.append(f"transcript in {latency:.1f} s" if latency >= 1 else f"transcript in {latency * 1000:.0f} ms")
    if facts:
        head.append(_fitted_facts(head.cell_len, facts, width), style="dim")
    if item.state is TextState.FAILED:
        body = Text(f"(transcription failed: {printable(item.error or '')})", style="bold red")
    elif (heard := item.heard_split) is not None and len(item.display_text) <= SHOWN_CHARACTERS:
        # The words the audio never reached are struck out: the user did not hear them, and the
        # model no longer has them (the head says how much audio was heard).
        body = Text(printable(heard[0], lines=True))
        body.append(printable(heard[1], lines=True), style=UNHEARD_STYLE)
    elif item.kind == NO_OUTPUT:
        # The head names the error's code; its message (the service's words: why, what to do) here.
        message = item.status_message
        body = Text(printable(f"(no reply: {message})" if message else item.display_text), style="italic dim")
    else:
        shown = item.display_text
        if len(shown) > SHOWN_CHARACTERS:
            more = len(shown) - SHOWN_CHARACTERS
            shown = f"{shown[:SHOWN_CHARACTERS]}… ({more:,} more characters: the frames hold them)"
        body = Text(printable(shown, lines=True))  # server text: never markup, never a terminal command
        if not item.text or item.origin is Origin.OUT_OF_BAND:
            body.stylize("italic dim")
    return head, body


def _fitted_facts(start: int, facts: list[str], width: int | None) -> str:
    """The facts after a role label `start` cells wide, joined by ` · `; given the row's `width`, a
    fact that would not fit on the line begins the next one, so none is broken in its middle
    (`truncated at 1.23` / `s of 1.30 s`, `transcript in 447` / `ms`)."""
    if width is None:
        return "  " + " · ".join(facts)
    first = cell_len(facts[0])
    if start + 2 + first <= width:
        said, used = "  " + facts[0], start + 2 + first
    else:
        said, used = "\n" + facts[0], first  # the label alone on its row rather than a fact cut
    for fact in facts[1:]:
        size = cell_len(fact)
        if used + 3 + size <= width:
            said, used = f"{said} · {fact}", used + 3 + size
        else:
            said, used = f"{said} ·\n{fact}", size
    return said


_CLOCK = re.compile(r"\d\d:\d\d:\d\d")
"""A separator's time of day (`HH:MM:SS`), its last part when the recording has times."""


def session_rule(text: str, width: int | None) -> str:
    """A session separator as one row of `width` cells (any length without one): `── text ──`
    drawn across the row when it fits; else the text cut in its middle, so that both its start
    ("new session to …") and its end (the time) stay; else, too narrow for the dashes, the text
    alone cut at its end. A rule that wrapped put its closing dashes on a row of their own.

    Before any cut, whole parts go: the target's address (`new session to simulator · 127.0.0.1:8765
    · 17:03:24` → `… to simulator · 17:03:24`), then the target (`new session · 17:03:24`): a cut
    in the middle read `new session to… · 17:03:24` at 100 columns."""
    if width is None:
        return f"── {text} ──"
    room = width - 6  # "── " and " ──"
    parts = text.split(" · ")
    while cell_len(text) > room and len(parts) > 2:
        del parts[-2]
        text = " · ".join(parts)
    if cell_len(text) > room and " to " in parts[0] and len(parts) > 1:
        text = " · ".join([parts[0].partition(" to ")[0], *parts[1:]])
    if cell_len(text) > room:
        head, dot, tail = text.rpartition(" · ")
        if head and not _CLOCK.fullmatch(tail) and room - cell_len(head) - 4 >= 8:
            # A replayed file's name: its end tells the files apart (`new session · …020029-e2208d`),
            # where a cut in the middle read `new sessi… · 20261206-020029-e2208d`.
            return _rule(f"{head} · …{_end_cells(tail, room - cell_len(head) - 4)}", width)
        tail = dot + tail
        if head and room - cell_len(tail) >= 4:
            text = set_cell_size(head, room - cell_len(tail) - 1).rstrip() + "…" + tail
        elif room >= 8:
            text = set_cell_size(text, room - 1) + "…"
        else:
            return set_cell_size(text, width - 1) + "…" if cell_len(text) > width else text
    return _rule(text, width)


def _rule(text: str, width: int) -> str:
    rule = f"── {text} "
    return rule + "─" * max(2, width - cell_len(rule))


def _end_cells(text: str, cells: int) -> str:
    """The end of `text` in at most `cells` cells."""
    while cell_len(text) > cells:
        text = text[1:]
    return text


def _row_strip(segments: list[Segment], base: Style, full: int) -> Strip:
    """One row of a block: `segments` over the pane's own style `base`, padded to `full` cells.

    Padded once, here, not on every repaint; every segment is drawn over `base`, since one with no
    background would be drawn on the terminal's default, not the theme's. One Strip, where
    `Strip(...).crop_extend(0, full, base)` made two: the same segments and cell length.
    """
    row = list(Segment.apply_style(segments, style=base))
    used = sum(cell_len(text) for text, _, control in row if not control)
    if used >= full:  # never for a wrapped line (it is at most `full - 1` cells with its bar)
        return Strip(row).crop_extend(0, full, base)
    row.append(Segment(" " * (full - used), base))
    return Strip(row, full)


class _Look(NamedTuple):
    """All a block's rows are made from but its body's text."""

    width: int
    head: str
    head_style: StyleType
    head_spans: tuple[Span, ...]
    body_styles: tuple[StyleType, ...]
    """The body's own style, then its spans' (each over the whole body): see `_body_styles`."""
    bar: str
    bar_style: Style
    base: Style
    """The pane's own style, under every segment."""


def _body_styles(body: Text) -> tuple[StyleType, ...] | None:
    """The body's own style and its spans' styles, when each span covers the whole body (the only
    styling a body that grows in place can keep); None otherwise."""
    end = len(body)
    if any(span.start or span.end != end for span in body.spans):
        return None
    return (body.style, *(span.style for span in body.spans))


class _ViewTop(NamedTuple):
    """Where the view begins, in a layout about to be replaced."""

    order: list[str]
    """The order that layout was made for (a list `sync` never changes in place)."""
    position: int
    """The position in `order` of the row at the view's top."""
    into: int
    """How many of that row's lines are above the view."""


@dataclass(slots=True)
class _Block:
    """An item's rendered lines at one width (a trailing blank line separates blocks)."""

    strips: list[Strip]
    width: int
    look: _Look | None = None
    """What the rows were made from besides the body's text; None: they are never grown in place."""
    body: str = ""
    last: LastParagraph | None = None
    """The body's last paragraph among the rows, once a grown body asked for it."""


class Transcript(LineView, can_focus=True):
    """The conversation, ordered by the server's item chain."""

    DEFAULT_CSS = """
    Transcript { background: $surface; overflow-x: hidden; scrollbar-gutter: stable; }
    Transcript > .transcript--cursor { background: $accent 20%; }
    Transcript > .transcript--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"transcript--cursor", "transcript--muted"}
    BINDINGS = [
        Binding("up", "move(-1)", "Previous row", show=False),
        Binding("down", "move(1)", "Next row", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "follow", "Follow", show=False),
        Binding("o,enter", "frames", "Its frames", id="transcript.frames"),
        Binding("y", "copy", "Copy row", id="transcript.copy"),
    ]

    class ShowFrames(Message):
        """The user asked to see only this item's frames in the event log."""

        def __init__(self, item_id: str) -> None:
            self.item_id = item_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: dict[str, Item] = {}
        self._order: list[str] = []
        self._laid_order: list[str] = []
        """The order `_heights` and `_offsets` were laid out for: the rows on screen until the next
        layout (`sync` takes a new order at once, the layout waits for the next repaint)."""
        self._heights: list[int] = []
        self._offsets: list[int] = []
        self._positions: dict[str, int] = {}
        self._blocks: OrderedDict[str, _Block] = OrderedDict()
        """Rendered blocks, most recently shown last, at most `CACHED_BLOCKS`."""
        self._block_heights: dict[str, tuple[int, int]] = {}
        """Every item's (width, height) as last rendered: the layout needs no rendered lines."""
        self._estimated: set[str] = set()
        """Items whose height at the width is estimated after a resize, until counted (`_count_slice`)."""
        self._resizing = False
        self._counting = False
        self._dirty: set[str] = set()
        self._reordered = False
        self._more_below = False
        """The corner says rows came in below the view."""
        self._following = True
        """The view is at the end and goes on showing it as rows come: kept as a state, not read off
        the scroll position at each repaint, which lags behind a layout still pending (the first
        rows that bring a scrollbar): read then, it said "not at the end" and the view stayed put."""
        """The order changed since the last layout: every row's position is laid out again."""
        self._last_flush = 0.0
        self._flush_pending = False
        self._selected: str | None = None
        self.renders = 0
        """Blocks rendered since start (the cost the bench measures)."""
        self.regrown = 0
        """Of `renders`, those that wrapped only the end of a body that grew (a streaming delta)."""
        self._look = LookCache(self, *_COMPONENTS)
        """What the rendered blocks are drawn with."""
        self.paint_after: Callable[[], float] = _no_hold
        self._buffer_audio = RECORDED_AUDIO
        """See `buffer_audio`."""
        self.separator_source: Callable[[str], str] | None = None
        """Given a separator row's id, the file its connection is replayed from (a replay of several
        files: "new session to simulator" said which server it was recorded against, not which
        file's conversation follows); None, or an empty name, for a separator as the reducer says it."""
        self._hint: tuple[str, ...] = VOICE_HINT
        self._hint_lines: tuple[int, list[str]] = (-1, [])
        """The hint wrapped to a width: (width, lines)."""
        """The earliest time (monotonic) a deferred repaint may run: the app holds streaming
        repaints back while a key's own screen update goes first."""

    # -- data -------------------------------------------------------------------------------

    @property
    def hint(self) -> tuple[str, ...]:
        """The paragraphs the empty pane shows: how this mode's conversation gets here."""
        return self._hint

    @hint.setter
    def hint(self, paragraphs: tuple[str, ...]) -> None:
        self._hint, self._hint_lines = paragraphs, (-1, [])
        if not self._order:
            set_virtual_height(self, self._hint_height())
            self.refresh()

    def _source(self, item: Item) -> str:
        """The file a separator's connection is replayed from (`separator_source`), else empty."""
        if item.role != "session" or self.separator_source is None:
            return ""
        return self.separator_source(item.id)

    @property
    def buffer_audio(self) -> str:
        """How user audio committed from the input buffer is labelled: "recorded audio" in a live
        session, where rt-tui recorded it; a mode showing audio it did not record (a proxied
        client's, a replay's) says where the audio went instead."""
        return self._buffer_audio

    @buffer_audio.setter
    def buffer_audio(self, label: str) -> None:
        if label == self._buffer_audio:
            return
        self._buffer_audio = label
        # Every rendered block may carry the old label: render them all again on the next flush.
        self._blocks.clear()
        self._block_heights.clear()
        if self._order:
            self._dirty |= set(self._order)
            self._reordered = True
            self._schedule_flush()

    def _wrapped_hint(self, width: int) -> list[str]:
        """The hint's lines at `width` (wrapped at spaces; a word longer than a line is cut)."""
        if self._hint_lines[0] != width:
            lines: list[str] = []
            for paragraph in self._hint:
                wrapped = Text(paragraph).wrap(self.app.console, max(1, width - 1))
                lines += [line.plain for line in wrapped]
            self._hint_lines = (width, lines)
        return self._hint_lines[1]

    def _hint_height(self) -> int:
        return len(self._wrapped_hint(line_width(self))) + 1 if self.is_mounted else len(self._hint) + 1

    @property
    def selected(self) -> str | None:
        """Item id of the selected row; None while following the end."""
        return self._selected

    @selected.setter
    def selected(self, item_id: str | None) -> None:
        was, self._selected = self._selected, item_id
        if (was is None) != (item_id is None) and self.is_attached:
            self.refresh_bindings()  # the row keys dim while nothing is selected (`check_action`)

    ROW_ACTIONS = frozenset({"frames", "copy"})
    """The keys that act on the selected row."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The row keys dimmed while nothing is selected: after `↓` past the last row the footer
        still offered `o Its frames`, and `o` said "Select a row first" (review 57a). Pressed, they
        say so still (`on_key`)."""
        if action in self.ROW_ACTIONS and self._selected is None:
            return None
        return True

    def on_key(self, event: events.Key) -> None:
        """A dimmed row key (nothing selected) says how to select a row: Textual runs no dimmed action."""
        if self._selected is not None:
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.action in self.ROW_ACTIONS:
                event.stop()
                event.prevent_default()
                if binding.action == "copy":
                    self.action_copy()
                else:
                    self.action_frames()
                return

    def reset(self) -> None:
        """Forget every row (another session is about to be shown)."""
        self._items, self._order, self._heights, self._offsets = {}, [], [], []
        self._laid_order = []
        self._positions = {}
        self._blocks.clear()
        self._block_heights.clear()
        self._dirty.clear()
        self.selected = None
        self._following = True
        self._say_more_below(False)
        set_virtual_height(self, self._hint_height())
        self.refresh()

    def sync(self, items: Mapping[str, Item], order: Sequence[str], changed: set[str]) -> None:
        """Take the conversation's items by id, their order, and the ids changed since the last call.

        Nothing is rendered here: changed blocks are marked, and repainted about
        `MAX_REFRESH_HZ` times a second (see `FLUSH_SLACK`). While no item comes or goes, a call costs the changed ids
        and one C-level comparison of the order, never a pass over the items in Python.
        """
        if not changed:
            return
        self._dirty |= changed
        if order != self._order:
            # Items came or went (a few times a turn): take a consistent copy of the order and items.
            self._order = list(order)
            self._items = dict(items)
            self._reordered = True
            self._dirty |= set(order) - set(self._block_heights)
            for gone in set(self._block_heights) - set(order):
                del self._block_heights[gone]
                self._blocks.pop(gone, None)
        else:
            for item_id in changed:
                item = items.get(item_id)
                if item is not None:
                    self._items[item_id] = item
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_pending:
            return
        wait = self._last_flush + 1 / MAX_REFRESH_HZ - time.monotonic()
        if wait <= FLUSH_SLACK or not self.is_mounted:
            self._flush()
        else:
            self._flush_pending = True
            after(self, wait, self._flush_later)

    def _flush_later(self) -> None:
        """The deferred repaint, unless `paint_after` holds it back a little longer."""
        hold = self.paint_after() - time.monotonic()
        if hold > 0:
            after(self, hold, self._flush_later)
        else:
            self._flush()

    def _flush(self) -> None:
        self._flush_pending = False
        self._last_flush = time.monotonic()
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        width = self._text_width()
        at_end = self._following
        layout, self._reordered = self._reordered or len(self._heights) != len(self._order), False
        grown: list[int] = []  # positions of rows whose height changed (nothing else did)
        added: list[str] = []  # rows drawn for the first time
        for item_id in dirty:
            if item_id not in self._items:
                continue
            old = self._block_heights.get(item_id)
            if old is None:
                added.append(item_id)
            if item_id in self._blocks:
                # Drawn before: grown in place (a streaming reply's cost is the change's).
                height = len(self._store(item_id, self._render_block(self._items[item_id], width)).strips)
            else:
                # Not drawn yet (a new row), or not kept: counted now, drawn when shown (`_block`).
                # A replay or a busy stream brings rows by the hundred a second, most of them
                # scrolled past before any paint: wrapping each with Rich held a repaint 100 ms.
                height = self._rows_at(item_id, width)
            if old is None or old[0] != width:
                layout = True
            elif old[1] != height:
                position = self._positions.get(item_id)
                if position is None or position >= len(self._heights):
                    layout = True
                else:
                    grown.append(position)
        if layout or grown:
            # A streaming reply that wraps onto a new line moves only the rows below it (none, at the
            # end): re-lay out from there, not the whole history.
            # A selected row holds the view only while the pane has the focus (moving through the
            # rows); once the user is elsewhere (`o` took them to the log, `t` to the message box) new
            # turns come into view, unless the user has since scrolled the row out of view to read.
            if self.selected is None:
                follow = at_end
            else:
                follow = not self.has_focus and (at_end or self._in_view(self.selected))
            top = None if follow else self._view_top()
            settled = self._relayout() if layout else self._relayout_from(min(grown))
            if follow:
                self._scroll_to_end(immediate=settled)
                self._say_more_below(False)
            else:
                # A row above the view that grew (a late transcript), came or went must not move
                # the rows the user scrolled up to read.
                self._keep_top(top, settled)
                # Only rows that came or grew below the view are news there: a row put above it
                # (a late item ordered by previous_item_id) is not "below".
                added_at = [self._positions[item_id] for item_id in added if item_id in self._positions]
                if self._below_view(grown) or self._below_view(added_at):
                    self._say_more_below(True)
            self.refresh()
        else:
            for item_id in dirty:
                region = self._region_of(item_id)
                if region is not None:
                    self.refresh(region)
            if at_end and self.selected is None and self.scroll_offset.y < self.max_scroll_y:
                self.scroll_end(animate=False, immediate=True)  # the end moved since (a late layout)

    def _scroll_to_end(self, *, immediate: bool) -> None:
        """Show the end: now, or once a pending layout has given the view its new height (and then
        again after that refresh, should the height have come later still)."""
        self.scroll_end(animate=False, immediate=immediate)
        if not immediate:
            self.call_after_refresh(self._catch_up_with_end)

    def _catch_up_with_end(self) -> None:
        if self._following and self.scroll_offset.y < self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """A scroll the user made (wheel, keys, a selection) decides whether the view follows: it
        does while it is at the end. The end moving away as rows come does not call this."""
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y - 1
        if self._following:
            self._say_more_below(False)  # scrolled down to them (the wheel, PgDn): none are below now

    def _relayout(self) -> bool:
        """Heights and offsets of every block: each block's height is its cached line count (a block
        is wrapped again only when it changed or the width did), the offsets one C-level pass.
        True when the new height is in effect at once (see `set_virtual_height`)."""
        width = self._text_width()
        known = self._block_heights
        heights = []
        near = self._near_view() if self._resizing else range(len(self._order))
        for position, item_id in enumerate(self._order):
            height = known.get(item_id)
            if height is None or height[0] != width:
                if height is not None and position not in near:
                    # Off screen after a resize: estimated from its rows at the old width now,
                    # counted in slices later (`_count_slice`); an hour's count held the screen.
                    rows = max(2, -(-(height[1] - 1) * height[0] // width) + 1)
                    known[item_id] = (width, rows)
                    self._estimated.add(item_id)
                    heights.append(rows)
                else:
                    heights.append(self._rows_at(item_id, width))
            else:
                heights.append(height[1])
        self._heights = heights
        self._offsets = list(accumulate(heights, initial=0))[:-1]
        self._positions = {item_id: position for position, item_id in enumerate(self._order)}
        self._laid_order = self._order
        return set_virtual_height(self, sum(heights) if self._order else self._hint_height())

    def _near_view(self) -> range:
        """The rows a resize counts at once: around the top of the view (by the layout before it),
        or the last ones while the view follows the end; the others are estimated."""
        count = len(self._order)
        if self._following or not self._offsets:
            return range(max(0, count - NEAR_ROWS), count)
        top = max(0, bisect_right(self._offsets, self.scroll_offset.y) - 1)
        return range(max(0, top - 8), top + NEAR_ROWS)

    def _count_slice(self) -> None:
        """Count the rows of estimated blocks for `COUNT_SLICE_SECONDS`, then lay out again with the
        row at the view's top kept in place (or the end shown, when following)."""
        self._counting = False
        if not self._estimated or not self.is_mounted:
            return
        width = self._text_width()
        deadline = time.perf_counter() + COUNT_SLICE_SECONDS
        while self._estimated and time.perf_counter() < deadline:
            item_id = self._estimated.pop()
            if item_id in self._items and self._block_heights.get(item_id, (0, 0))[0] == width:
                self._rows_at(item_id, width)
        self._relayout_in_place()
        self.refresh()
        self._count_later()

    def _relayout_in_place(self) -> None:
        """`_relayout`, the row at the view's top kept where it is on screen (the end shown, when
        following): rows above it that change height (a new width, a count) do not move the view."""
        top = None if self._following else self._view_top()
        settled = self._relayout()
        if self._following:
            self._scroll_to_end(immediate=settled)
        else:
            self._keep_top(top, settled)

    def _view_top(self) -> _ViewTop | None:
        """Where the view begins in the last layout (see `_ViewTop`); None before any layout."""
        offsets, order = self._offsets, self._laid_order
        if not offsets or len(offsets) != len(order):
            return None
        y = self.scroll_offset.y
        top = max(0, bisect_right(offsets, y) - 1)
        return _ViewTop(order, top, y - offsets[top])

    def _keep_top(self, top: _ViewTop | None, settled: bool) -> None:
        """After a new layout, scroll so that the row at the view's top before it (`_view_top`)
        begins where it did on screen; were it gone, the next row still there starts the view."""
        if top is None:
            return
        order, position, into = top
        for item_id in islice(order, position, None):  # nearly always the first: no copy of the rest
            now = self._positions.get(item_id)
            if now is not None:
                y = self._offsets[now] + min(into, self._heights[now] - 1)
                if y != self.scroll_offset.y:
                    self.scroll_to(y=y, animate=False, immediate=settled)
                return
            into = 0

    def _count_later(self) -> None:
        if self._estimated and not self._counting:
            self._counting = True
            after(self, 0.001, self._count_slice)

    def _rows_at(self, item_id: str, width: int) -> int:
        """A block's rows at `width`: counted from its text where Rich's wrap can be (`wrapped_rows`),
        the block itself rendered only when it is shown (`_block`); else rendered now. A resize of
        an hour's transcript wrapped its 900 blocks with Rich, twice, and held the screen a second."""
        item = self._items[item_id]
        dark, source = self.app.current_theme.dark, self._source(item)
        head, body = render_parts(item, buffer_audio=self._buffer_audio, dark=dark, width=width, source=source)
        rows = None
        # Assembled with a body, the text wraps as the options say; a head alone, as it says itself.
        if wraps_by_paragraph(self.app.console.options.update_width(width)) and (
            body is not None
            or (head.justify in (None, "default") and head.overflow in (None, "fold") and not head.no_wrap)
        ):
            rows = wrapped_rows(head.plain if body is None else f"{head.plain}\n{body.plain}", width)
        if rows is None:
            return len(self._store(item_id, self._render_block(item, width)).strips)
        self._block_heights[item_id] = (width, rows + 1)  # and the blank row after it
        self._estimated.discard(item_id)
        return rows + 1

    def _relayout_from(self, position: int) -> bool:
        """`_relayout` when only heights changed, none above row `position`: the rows from there
        take their cached heights and new offsets (O(rows below), one row for a streaming reply)."""
        known = self._block_heights
        heights, order = self._heights, self._order
        for at in range(position, len(order)):
            heights[at] = known[order[at]][1]
        offsets = self._offsets
        offsets[position:] = list(accumulate(heights[position:-1], initial=offsets[position]))
        return set_virtual_height(self, offsets[-1] + heights[-1])

    def _in_view(self, item_id: str) -> bool:
        """Whether any line of the item's row shows in the view (by the last layout)."""
        position = self._positions.get(item_id)
        if position is None or position >= len(self._offsets):
            return False
        top, y = self._offsets[position], self.scroll_offset.y
        return top < y + self.size.height and top + self._heights[position] > y

    def _region_of(self, item_id: str) -> Region | None:
        position = self._positions.get(item_id)
        if position is None or position >= len(self._offsets):
            return None
        top = self._offsets[position] - self.scroll_offset.y
        height = self._heights[position]
        if top + height < 0 or top > self.size.height:
            return None  # off screen: nothing to repaint
        return Region(0, max(0, top), self.size.width, height)

    # -- rendering --------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(10, line_width(self) - 3)

    def _block(self, item_id: str) -> _Block:
        block = self._blocks.get(item_id)
        width = self._text_width()
        if block is None or block.width != width:
            counted = self._block_heights.get(item_id)
            block = self._store(item_id, self._render_block(self._items[item_id], width))
            if counted is not None and counted[0] == width and counted[1] != len(block.strips):
                # Rendered otherwise than counted (`_rows_at`; never seen): the offsets follow it.
                self.call_after_refresh(self._heights_corrected)
            return block
        self._blocks.move_to_end(item_id)
        return block

    def _heights_corrected(self) -> None:
        self._relayout_in_place()
        self.refresh()

    def _store(self, item_id: str, block: _Block) -> _Block:
        """Keep a freshly rendered block (and its height), dropping the least recently shown."""
        blocks = self._blocks
        blocks[item_id] = block
        blocks.move_to_end(item_id)
        if len(blocks) > CACHED_BLOCKS:
            blocks.popitem(last=False)
        self._block_heights[item_id] = (block.width, len(block.strips))
        self._estimated.discard(item_id)
        return block

    def _render_block(self, item: Item, width: int) -> _Block:
        """The item's block at `width`: its cached block grown in place when only its body's end
        changed (a streaming delta: the cost of the change), else rendered whole."""
        self.renders += 1
        console = self.app.console
        options = console.options.update_width(width)
        dark = self.app.current_theme.dark
        head, body = render_parts(
            item, buffer_audio=self._buffer_audio, dark=dark, width=width, source=self._source(item)
        )
        bar_style = Style.parse(themed(_ROLE_STYLES.get(item.role, "#737aa2"), dark))
        if item.state is TextState.FAILED:
            bar_style = Style.parse(themed("#f7768e", dark))
        bar = "┃ " if body is not None else "  "
        if body is None:
            return _Block(self._rows(console.render_lines(head, options, pad=False), bar, bar_style, width), width)
        styles = _body_styles(body)
        base = self._look.get()[1]
        look = None
        if styles is not None:
            look = _Look(width, head.plain, head.style, tuple(head.spans), styles, bar, bar_style, base)
        previous = self._blocks.get(item.id)
        if look is not None and previous is not None and previous.look == look and wraps_by_paragraph(options):
            block = self._regrow(previous, body.plain, options)
            if block is not None:
                self.regrown += 1
                return block
        lines = console.render_lines(Text.assemble(head, "\n", body), options, pad=False)
        return _Block(self._rows(lines, bar, bar_style, width), width, look, body.plain)

    def _regrow(self, previous: _Block, body: str, options: ConsoleOptions) -> _Block | None:
        """`previous` with only the end of its body wrapped again, when the body grew at its end and
        nothing else changed (see `block_wrap`); None when only a whole render will do."""
        look = previous.look
        assert look is not None
        if body == previous.body:
            return previous
        if not look.base:
            # The rows below come from a text without the head's spans: Rich gives their segments no
            # style (None) where the whole text's have a null Style; only a base style makes them equal.
            return None
        if not worth_regrowing(previous.body, look.width):
            return None  # a paragraph with no word breaks near its end (CJK): whole renders cost less
        last = previous.last or last_paragraph(previous.body, look.width, len(previous.strips) - 1)
        plan = None if last is None else regrow(last, previous.body, body, look.width)
        if plan is None:
            return None
        # The body's styles as spans over it, as `Text.assemble` carries them into the whole text.
        end = len(body) - plan.start
        own, *others = look.body_styles
        spans = [Span(0, end, style) for style in ([own] if own else []) + others]
        lines = self.app.console.render_lines(Text(body[plan.start :], spans=spans), options, pad=False)
        if len(lines) != plan.rows:
            return None  # not seen: Rich wrapped otherwise than `block_wrap` expects; trust Rich
        strips = previous.strips[: plan.keep] + self._rows(lines, look.bar, look.bar_style, look.width)
        return _Block(strips, look.width, look, body, plan.last)

    def _rows(self, lines: list[list[Segment]], bar: str, bar_style: Style, width: int) -> list[Strip]:
        """A block's rows from its rendered lines: each with its bar, then the blank row after it."""
        full, base = width + 3, self._look.get()[1]
        strips = [_row_strip([Segment(bar, bar_style), *segments], base, full) for segments in lines]
        strips.append(Strip.blank(full, base))
        return strips

    def render_line(self, y: int) -> Strip:
        """Render screen line `y` from the cached blocks."""
        width = self.paint_width()
        number = self.scroll_offset.y + y
        if not self._order:
            _, base, (_, muted) = self._look.get()
            hint = self._wrapped_hint(width)
            if 1 <= number <= len(hint):
                return Strip([Segment(" " + hint[number - 1], base + muted)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if not self._offsets or self._laid_order is not self._order:
            # Rows came or went since the last layout (its repaint is still to come): lay out now,
            # the rows the view shows kept in place (a view following the end follows it then).
            top = None if self._following else self._view_top()
            self._keep_top(top, self._relayout())
        position = bisect_right(self._offsets, number) - 1
        if position < 0 or position >= len(self._order):
            return Strip.blank(width, self._look.get()[1])
        item_id = self._order[position]
        block = self._block(item_id)
        within = number - self._offsets[position]
        if within >= len(block.strips):
            return Strip.blank(width, self._look.get()[1])
        strip = block.strips[within]
        if item_id == self.selected and within < len(block.strips) - 1:
            # Over the row's own backgrounds: the cursor's, the whole width of the row.
            cursor = Style(bgcolor=self._look.get()[2][0].bgcolor)
            return Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip

    def on_resize(self) -> None:
        """A new width: the rows near the view are counted again from their text (`_rows_at`), the
        others estimated and counted in slices after (`_count_slice`); a block is wrapped again only
        when it is shown. The row at the view's top stays there; a view following the end still
        shows it."""
        if not self._order:
            set_virtual_height(self, self._hint_height())
            self.refresh()
            return
        self._resizing = True
        try:
            self._relayout_in_place()
        finally:
            self._resizing = False
        self._count_later()
        self.refresh()

    def notify_style_update(self) -> None:
        """A new look (a theme) invalidates the rendered blocks; a focus moving does not."""
        super().notify_style_update()
        if not self._look.changed():
            return
        self._blocks.clear()
        if self._order:
            self._relayout()

    # -- selection --------------------------------------------------------------------------

    def select_item(self, item_id: str) -> bool:
        """Select and show an item's row; False when the item is not in the transcript."""
        if item_id not in self._items:
            return False
        self.selected = item_id
        if len(self._heights) != len(self._order):
            self._relayout()
        position = self._order.index(item_id)
        top = self._offsets[position]
        if top < self.scroll_offset.y or top + self._heights[position] > self.scroll_offset.y + self.size.height:
            self.scroll_to(y=top, animate=False, immediate=True)
        self.refresh()
        return True

    def action_move(self, delta: int) -> None:
        """Select the previous or next row (the first move selects the last one)."""
        rows = [item_id for item_id in self._order if self._items[item_id].role != "session"]
        if not rows:
            return
        if self.selected not in rows:
            self.select_item(rows[-1])
            return
        position = rows.index(self.selected) + delta
        if position >= len(rows):
            self.action_follow()
        else:
            self.select_item(rows[max(0, position)])

    def action_first(self) -> None:
        """Select the first row (the conversation's start)."""
        rows = [item_id for item_id in self._order if self._items[item_id].role != "session"]
        if rows:
            self.select_item(rows[0])

    def action_follow(self) -> None:
        """Follow the end of the conversation again."""
        self.selected = None
        self._following = True
        self.scroll_end(animate=False, immediate=True)
        self._say_more_below(False)
        self.refresh()

    def _below_view(self, positions: list[int]) -> bool:
        """Whether any of the rows at `positions` begins below what the pane shows."""
        bottom = self.scroll_offset.y + self.size.height
        laid_out = len(self._offsets)  # a row not laid out yet comes at the end
        return any(position >= laid_out or self._offsets[position] >= bottom for position in positions)

    def _say_more_below(self, more: bool) -> None:
        """Say in the pane's corner that rows came in below the view, which does not follow them."""
        if more != self._more_below:
            self._more_below = more
            set_border_subtitle(self, "new rows below · End follows" if more else "")

    def action_frames(self) -> None:
        """Ask for the selected item's frames in the event log."""
        if self.selected is not None:
            self.post_message(self.ShowFrames(self.selected))
        else:
            self._no_row_selected("show the frames of")

    def action_copy(self) -> None:
        """Copy the selected row's words to the clipboard (OSC 52), as the server sent them: one reply
        or transcript, where the palette's copy takes the whole conversation."""
        item = self._items.get(self.selected) if self.selected is not None else None
        if item is None:
            self._no_row_selected("copy")
            return
        words = item.text.strip()
        if item.kind == NO_OUTPUT:
            words = f"{ended_early(item) or item.status}: {item.display_text}"  # why the reply never came
        if not words or item.state is TextState.FAILED:
            said = f"nothing to copy: the row has no words {_NO_WORDS.get(item.state, 'yet')}"
            self.notify(said, title="Copy", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(words)
        said = f"copied the row's {len(words):,} characters (OSC 52: your terminal must allow it)"
        self.notify(said, title="Copy", markup=False)

    def _no_row_selected(self, doing: str) -> None:
        """Say how to select a row for a row's action (the palette offers them on an empty pane too)."""
        if any(self._items[item_id].role != "session" for item_id in self._order):
            if self.has_focus:
                self.notify("Select a row first: ↑ selects the last one, Home the first.", markup=False)
            else:
                # From the palette with the log focused, ↑ selected a frame (review 56b): the
                # transcript takes the focus, so the keys said work on its rows.
                self.focus()
                said = "Select a transcript row first: the transcript has the focus now; ↑ selects its last row."
                self.notify(said, markup=False)
        else:
            said = f"no row to {doing}: the conversation is empty"
            self.notify(said, title="Transcript", severity="warning", markup=False)

    def on_click(self, event: events.Click) -> None:
        """Select the clicked row."""
        if not self._order:
            return
        if len(self._heights) != len(self._order):
            self._relayout()
        position = bisect_right(self._offsets, self.scroll_offset.y + event.y) - 1
        if 0 <= position < len(self._order) and self._items[self._order[position]].role != "session":
            self.select_item(self._order[position])

    # -- for tests and exports --------------------------------------------------------------

    def text(self) -> str:
        """The transcript as plain text, in order."""
        label = self._buffer_audio
        return "\n".join(render_item(self._items[item_id], buffer_audio=label).plain for item_id in self._order)
