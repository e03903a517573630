"""The event-log pane: every frame in both directions, rendered with the Line API over the journal.

The pane owns no frames: it renders the lines of a :class:`~tui.journal.LogView` (the frames that
pass the filter, grouped into rows) and keeps only what the user did to it: the selection (by
absolute frame index, so it never jumps when frames arrive), tail mode, and the find pattern.
Rendered lines are cached under everything that changes their look.
"""

from __future__ import annotations

import asyncio
import bisect
import textwrap
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import partial
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scrollbar import ScrollTo, ScrollUp
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input

from tui.conversation import NO_OUTPUT_PREFIX
from tui.journal import Finder, Journal, Line, LogView, QueryError, Row
from tui.journal.logview import Mark
from tui.protocol import printable

from .log_format import (
    Columns,
    RunDigest,
    counted,
    fit_segments,
    line_pieces,
    render_line,
    row_text,
    run_label,
    summary_at_match,
)
from .palette import themed
from .timers import after
from .virtual import LineView, LookCache, line_width, set_border_subtitle, set_virtual_height

_COMPONENTS = ("event-log--cursor", "event-log--match")
"""The component classes a line is drawn with, in the order its look gives their styles."""

SEARCHING = -1
"""What `EventLog.find` returns while the frames searched so far do not tell the match yet."""

WAIT_AT_MOST = 30.0
"""Seconds a key waits at most for a filter's whole view (`after_whole_view`): a safety, after which
the rest is built at once; its slices end long before (seconds for the slowest regex over an hour)."""

HELD_KEY_GAP = 0.05
"""Seconds at least between keys handed on after a wait for a filter's whole view (`_release_held`),
as a typist's next key would come."""

HELD_KEY_CHECK = 0.01
"""Seconds between two looks at the message queues before the next held key goes (`_hand_on_when_settled`)."""

HELD_KEY_SETTLE_AT_MOST = 0.5
"""Seconds at most the next held key waits for the message queues to go quiet (`_hand_on_when_settled`):
a live session's stream can keep the app's queue from being empty twice in a row for long."""

Typed = events.Key | events.Paste
"""What the user types: a key, or a bracketed paste (which arrives as one event)."""


def retyped(typed: Typed) -> Typed:
    """A fresh copy of a typed event, to post again (an event is handled once)."""
    return events.Paste(typed.text) if isinstance(typed, events.Paste) else events.Key(typed.key, typed.character)


def types_into(widget: Widget, typed: Typed) -> bool:
    """Whether `typed`, reaching the focused `widget`, is text it takes (an input's characters, a
    paste into an input): it opens no screen and moves no focus."""
    if isinstance(typed, events.Paste):
        return isinstance(widget, Input)
    return typed.is_printable and widget.check_consume_key(typed.key, typed.character)


FIND_SLICE_SECONDS = 0.01
"""How long a find searches between two screen updates: an hour's journal takes a few hundred
milliseconds, in slices, and the screen (and keys) never wait for more than one."""

EMPTY_TEXT_ROWS = 3
"""Rows the words of an empty pane (`EventLog.empty_text`) wrap onto at most; the last is cut with an ellipsis."""

CACHE_LINES = 256
"""Rendered lines kept: six screens of 40 rows. Each is a Strip with caches of its own, which every full
garbage collection walks, so the cache stays small."""


class EventLog(LineView, can_focus=True):
    """A virtual, tail-following list of frames, with runs that expand in place."""

    DEFAULT_CSS = """
    EventLog { background: $surface; overflow-x: hidden; scrollbar-gutter: stable; }
    EventLog > .event-log--cursor { background: $accent 30%; }
    EventLog > .event-log--match { background: $warning 40%; }
    """
    COMPONENT_CLASSES = {"event-log--cursor", "event-log--match"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "tail", "Follow", id="log.follow", show=False),
        Binding("right", "expand", "Expand", show=False),
        Binding("left", "collapse", "Collapse", show=False),
        Binding("enter", "enter", "Open", id="log.open"),
        Binding("d", "details", "Details", id="log.details", show=False),
        Binding("c", "cause", "Cause ↔ error", id="log.cause"),
        Binding("n", "find_next", "Next match", id="log.find-next", show=False),
        Binding("N", "find_previous", "Previous match", id="log.find-previous", show=False),
        Binding("o", "transcript", "Its transcript row", id="log.transcript"),
        Binding("i", "item_frames", "Its item's frames", id="log.item-frames"),
        Binding("y", "copy", "Copy frame", id="log.copy", show=False),
    ]
    FOOTER_COMPACT: ClassVar[Mapping[str, str]] = {
        "log.cause": "Cause",
        "log.transcript": "Row",
        "log.item-frames": "Item",
    }
    """The frame keys' words in a footer too narrow for every key in its own (see `footer_compact`)."""
    FOOTER_COMPACT_FROM_CAUSE: ClassVar[Mapping[str, str]] = {
        "log.cause": "Error",
        "log.transcript": "Row",
        "log.item-frames": "Item",
    }
    """The same, on a frame we sent that an error answered: `c` goes to the error."""
    FOOTER_RELATED: ClassVar[frozenset[str]] = frozenset({"filter", "find", "findings", "unzoom"})
    """The app's keys that act on the log (and the way back from its zoom): a narrow footer keeps
    them before Talk and Type."""
    FRAME_ACTIONS = frozenset({"enter", "details", "cause", "transcript", "item_frames", "copy", "toggle_run"})
    """The keys that act on the selected line: left out while the log shows no frame (after a clear,
    under a filter that matches none, before the first frame), dimmed while nothing is selected
    (following: `↑` selects the last line)."""

    tail: reactive[bool] = reactive(True, repaint=False)
    """Follow new frames. Off as soon as the user moves; `end` turns it back on."""

    class Details(Message):
        """The user asked for the details of frames (one frame, or every frame of a run, with the
        run's label as the log shows it)."""

        def __init__(self, indices: list[int], label: str = "") -> None:
            self.indices = indices
            self.label = label
            super().__init__()

    class ShowItem(Message):
        """The user asked for the transcript row of an item (the first of `count` the frame concerns:
        a response can output several). `missing`: what to say when the row is not there (a
        response that output no item has a row under its own id only when it ended early)."""

        def __init__(self, item_id: str, count: int = 1, missing: str = "", *, frames: bool = False) -> None:
            self.item_id = item_id
            self.count = count
            self.missing = missing
            self.frames = frames
            """The item's frames were asked for (`i`), not its row (`o`)."""
            super().__init__()

    class CopyFrame(Message):
        """The user asked to copy a frame, or every frame of a run (what its row stands for)."""

        def __init__(self, indices: list[int]) -> None:
            self.indices = indices
            super().__init__()

    class Notice(Message):
        """Something to tell the user (nothing to expand, no match…). `of_view`: it says what the
        view shows now (a frame hidden by the filter or a clear): untrue once the view changes.
        `of_selection`: it says nothing is selected: untrue once something is (`Selected`)."""

        def __init__(self, text: str, *, of_view: bool = False, of_selection: bool = False) -> None:
            self.text = text
            self.of_view = of_view
            self.of_selection = of_selection
            super().__init__()

    class Selected(Message):
        """A frame (or run) is selected where none was: "no frame is selected" is no longer so."""

    class Reveal(Message):
        """A jump's target (`c`: a cause or its error) is not in the view: the app lifts the filter
        that hides it, or says why it cannot be shown (`again`: the keys that went there)."""

        def __init__(self, index: int, again: str) -> None:
            self.index = index
            self.again = again
            super().__init__()

    class Found(Message):
        """Find selected a match: which one, of how many (1-based, in log order); `count` None
        while the frames after it are still being searched (a `Counted` follows)."""

        def __init__(self, position: int, count: int | None, wrapped: str = "") -> None:
            self.position = position
            self.count = count
            self.wrapped = wrapped
            """`top` when `n` went past the last match to the first, `bottom` when `N` went past
            the first to the last; empty otherwise."""
            super().__init__()

    class Counted(Message):
        """Find has searched every frame the log shows: its count is final."""

    class FindMissed(Message):
        """A find (one that went on in slices, or `n` or `N`) found no match."""

    class FramesUnderFind(Message):
        """Frames came into the view while a find is in force: its count may have grown."""

    class WaitingForView(Message):
        """A key waits for a filter's whole view (built in slices: the screen stays live), or, with
        `waiting` False, no longer does (`after_whole_view`)."""

        def __init__(self, waiting: bool) -> None:
            self.waiting = waiting
            super().__init__()

    def __init__(self, view: LogView, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.view = view
        self.finder: Finder | None = None
        self._marks_of: tuple[object, Finder | None] = (None, None)
        """The filter (its query) the row marks were made for, and its finder (`_filter_marks`)."""
        self._find_ticket = 0
        """Bumped by each find and pattern: the slices of an older search stop."""
        self._find_opened: list[Row] = []
        """The runs a find expanded to show a match: collapsed again when it ends (`set_finder`)."""
        self._searching: int | None = None
        """The ticket whose search goes on in slices, if any."""
        self._waiting: bool | None = None
        """The direction of the find waiting in slices for its match (None: none waits)."""
        self._more = 0
        """`n`/`N` pressed while it waited, as one count: the matches to move on by once it is found,
        in its direction (negative: back)."""
        self.selected: int | None = None
        """Journal index of the selected frame (a collapsed run: its first frame); None when following."""
        self.selection_moved: Callable[[], None] | None = None
        """Called when a key or a jump selects a frame, or following resumes: the app names what
        the selection is in (the file of a replay of several), which the log itself does not know."""
        self.on_member = False
        """Whether the selection is a frame's own line inside an expanded run."""
        self._left_tail: Mark = view.mark()
        """Where the view stood when the user stopped following (`unseen` counts the frames after)."""
        self.payloads_note = ""
        self._cache: OrderedDict[tuple[object, ...], Strip] = OrderedDict()
        self._drawn_epoch = -1
        """The journal's epoch at the last batch taken in: a new one redraws every line (their clock)."""
        self._digests: dict[tuple[int, int], RunDigest] = {}
        """Each shown run's summary, taken in as the run grows (keyed by view generation and row)."""
        self._cursor_line: int | None = None
        self._flagged_key: tuple[int, int, int, int] | None = None
        self._flagged = False
        """Whether a flagged row with other frames is shown (`_flagged_shown`), for the view as at `_flagged_key`."""
        self._keys_state: tuple[bool, bool, bool, bool, bool] | None = None
        """(shows a frame, has a selection, `c` can act, `o` can act, the line is a cause) when the
        footer's frame keys were last brought in line."""
        self._subtitle: str | None = None
        self._look = LookCache(self, *_COMPONENTS)
        """What the cached lines are drawn with."""
        self._finish_view: Callable[[], None] | None = None
        self._resume: list[Callable[[], object]] = []
        """What waits for a filter's whole view (`after_whole_view`), in the order it was asked."""
        self._held_keys: list[Typed] | None = None
        """Keys (and pastes) that came while something waits for the whole view: they act after it, in order."""
        self._handing_on: list[Typed] | None = None
        """Held keys (and keys typed since) still to hand on to the app, one at a time (`_release_held`)."""
        self._in_flight: set[Typed] = set()
        """The keys handed on since the hand-on began, and the copies the app made of them to hold
        (`copy_of`): on their way through the app, which routes them as typed. A set (events hash by
        identity): every key the app routes asks `handed_on`, and a long hand-on keeps them all."""
        self._wait_timer: asyncio.TimerHandle | None = None
        self._claim: int | None = None
        """The find (its ticket) whose match, still searched for in slices, may take the selection:
        a key that moves the selection meanwhile takes it back (`_user_moved`)."""

    @property
    def finish_view(self) -> Callable[[], None] | None:
        """Set while the view shown is a filter's first screen (its newest matches) and the whole view
        is still being built in slices: calling it builds the rest at once and shows it (`settle`).
        A key that needs the whole view (Home, ↑ past the first screen's top, a run's details)
        waits for it instead (`after_whole_view`), never acting on the partial view."""
        return self._finish_view

    @finish_view.setter
    def finish_view(self, finish: Callable[[], None] | None) -> None:
        self._finish_view = finish
        if finish is None and (self._resume or self._held_keys is not None):
            # The whole view is shown now (or the app dropped the build: a clear, another session):
            # what waited acts on what is shown, once the view's rows are in place.
            self.call_later(self._resume_waiting)

    @property
    def holding_keys(self) -> bool:
        """Whether keys wait for a filter's whole view (the app sends the log every key meanwhile)."""
        return self._held_keys is not None

    def hold_key(self, key: events.Key) -> None:
        """Hold a key the app took before the log saw it (a priority key: ctrl+p) with the keys that
        wait for the whole view, in its turn (see `holding_keys`)."""
        if self._held_keys is not None:
            self._held_keys.append(retyped(key))

    def after_whole_view(self, action: Callable[[], object]) -> bool:
        """On a filter's first screen, True: `action` runs once the whole view is shown (its slices
        go on, the screen live; until then the keys that come wait, then act in order). Else False:
        the whole view is shown, act now. Building it at once held the screen: 0.3 s for a JSON path
        over an hour, seconds for a slow regex."""
        if self._finish_view is None:
            return False
        self._resume.append(action)
        if self._held_keys is None:
            self._held_keys = []
            self.post_message(self.WaitingForView(True))
            self._wait_timer = after(self, WAIT_AT_MOST, self._waited_too_long)
        return True

    def _waited_too_long(self) -> None:
        """A safety: a build that never ends (none should) is finished now, and what waited acts."""
        if self._held_keys is not None:
            self.settle()

    def _resume_waiting(self) -> None:
        if self._finish_view is not None:
            return  # another first screen came meanwhile: its whole view is waited for in turn
        actions, self._resume = self._resume, []
        held, self._held_keys = self._held_keys, None
        if self._wait_timer is not None:
            self._wait_timer.cancel()  # this wait's safety: it must not cut a later wait short
            self._wait_timer = None
        for action in actions:
            action()
        if held is not None:
            self.post_message(self.WaitingForView(False))
            self._release_held(held)

    @property
    def keys_pending(self) -> bool:
        """Whether keys held for a filter's whole view are still waiting or still being handed on:
        False once the last one has been handed on and what it set off has been handled."""
        return self._held_keys is not None or self._handing_on is not None

    def handed_on(self, typed: Typed) -> bool:
        """Whether `typed` is a held key the log has just handed on (the app routes it as typed, where
        a key typed meanwhile joins the queue)."""
        return typed in self._in_flight

    @property
    def handing_on(self) -> bool:
        """Whether held keys are being handed on to the app (`_release_held`): a key typed meanwhile
        joins their queue (`queue_key`)."""
        return self._handing_on is not None

    def copy_of(self, typed: Typed) -> Typed:
        """A copy of `typed` for the app to hold and post again; the copy of a key the log has handed
        on is one it handed on too. Not so, `f` held behind the log's own queue came back as a key
        typed meanwhile, queued behind the paste after it: the paste went to the log (lost), and the
        filter opened after it."""
        copy = retyped(typed)
        if self.handed_on(typed):
            self._in_flight.add(copy)
        return copy

    def queue_key(self, typed: Typed) -> None:
        """Queue a key (or a paste) typed while held keys are being handed on: it goes after them, in
        order, where before it overtook them (`donex` typed into the filter as `dxone`)."""
        if self._handing_on is not None:
            self._handing_on.append(retyped(typed))

    def put_back_keys(self, keys: list[Typed]) -> None:
        """Put keys taken from the handing on (by the app's own hold after a bar's Enter) back at
        the head of the queue: they came before those still queued."""
        if self._handing_on is not None:
            self._handing_on[:0] = keys

    def _release_held(self, keys: list[Typed]) -> None:
        """Hand the held keys to the app one at a time, each once the one before it has been handled
        and the screen refreshed: its routing (priority keys, the focus moves of `f` `/` `t`, then
        the focused widget) takes each as a terminal's key, and a screen one of them opens (`d`'s
        details) is there for the next (`q` closes it, not the app). Posted to the log all at once,
        its own keys overtook `/` or `f`, and `d` `q` quit. Keys typed meanwhile join the queue
        (`queue_key`), and `keys_pending` holds until the last has settled."""
        running = self._handing_on is not None  # its next step is already due: not a second chain
        self._handing_on = [*keys, *(self._handing_on or ())]
        if not running:
            self._hand_on_next()

    def _hand_on_next(self) -> None:
        queue = self._handing_on
        if not queue:
            self._handing_on, self._in_flight = None, set()
            return
        batch = [queue.pop(0)]
        focused = self.app.focused
        if focused is not None and types_into(focused, batch[0]):
            # Text typed into an input opens no screen and moves no focus: it goes at once, where a
            # pause per key made a typist's 30 characters take 2 s to show.
            while queue and types_into(focused, queue[0]):
                batch.append(queue.pop(0))
        # Kept with those before (until the queue is done): one the app holds a while comes back after
        # the log has handed on the next.
        sent = [retyped(typed) for typed in batch]
        self._in_flight.update(sent)
        for typed in sent:
            self.app.post_message(typed)
        # A screen a key opens comes a few messages later (the log's `Details` bubbles up to the
        # app, which pushes the screen): the next key waits a short pause, as a typist's next key
        # would (the keys typed while a view was built are a handful), then until what the key set
        # off has been handled. Not `call_after_refresh`: that runs after the log's screen repaints,
        # and a details screen pushed on top of it first held `q` until it was closed (1 run in 6
        # of `d` `q`). The last key is waited for too, so `keys_pending` ends once it has acted.
        after(self, HELD_KEY_GAP, self._hand_on_when_settled)

    def _hand_on_when_settled(self, quiet_looks: int = 0, since: float | None = None) -> None:
        """Hand on the next held key once every message queue from the log up to the app, and the
        app's top screen's, has been empty at two looks in a row: the key before has been routed, and
        what it set off (a message bubbling up, a screen pushed and mounting) has been handled. Or
        after `HELD_KEY_SETTLE_AT_MOST` seconds all the same."""
        if not self.app.screen_stack:
            self._handing_on, self._in_flight = None, set()  # the app is closing: nothing is left to act on
            return
        now = time.monotonic()
        since = now if since is None else since
        nodes = (self, *self.ancestors, self.app.screen)
        busy = any(node.message_queue_size for node in nodes)
        if (busy or quiet_looks < 1) and now - since < HELD_KEY_SETTLE_AT_MOST:
            looks = 0 if busy else quiet_looks + 1
            after(self, HELD_KEY_CHECK, partial(self._hand_on_when_settled, looks, since))
            return
        self._hand_on_next()

    @property
    def journal(self) -> Journal:
        """The journal the view reads."""
        return self.view.journal

    # -- data -------------------------------------------------------------------------------

    def frames_added(self) -> int:
        """Take in frames journaled since the last call (one refresh per batch)."""
        view = self.view
        lines, cursor = view.line_count, self._cursor_line
        added = view.catch_up()
        if added:
            epoch, self._drawn_epoch = self._drawn_epoch, self.journal.epoch
            if not self._repainted_in_place(lines, epoch, cursor):
                self._layout_changed()
            if self.finder is not None:
                self.post_message(self.FramesUnderFind())
        elif view.query and self._update_title() and not view.line_count:
            # None passed the filter, but the "of N frames" they were taken from grew: the title says
            # so, and the empty pane's own "No frame matches the filter, of N frames" too (it kept
            # the count of when the filter was set while a replay played on, review 56a).
            self.refresh()
        return added

    def attach(self, view: LogView, *, keep_selection: bool = False, finish: Callable[[], None] | None = None) -> None:
        """Show another view: another session's (following its end, nothing selected), or the same
        journal through another filter (`keep_selection`: the selected frame stays selected, or the
        nearest one before it that the new view shows, and comes on screen). The view is first
        brought up to its journal's end: only the shown session's log takes frames in as they
        arrive, so another session's may lag behind its journal, and nothing else would catch it up
        when no frame comes after the switch.

        `finish`: `view` is a filter's first screen, and this builds the whole view (see
        `finish_view`); a selected frame older than the first screen is kept for the whole view.
        A selected frame on screen keeps its place on screen (a first screen's whole view coming,
        a filter refined), as far as the new view's lines allow."""
        view.catch_up()
        cursor, top = self._cursor_line, self.scroll_offset.y
        on_screen = keep_selection and cursor is not None and top <= cursor < top + self.size.height
        self.view = view
        self.finish_view = finish
        if not keep_selection:
            self.selected = None
            self.tail = True
        self.rebuilt(screen_row=cursor - top if on_screen and cursor is not None else None)

    def rebuilt(self, *, screen_row: int | None = None) -> None:
        """The view's rows were rebuilt (a new filter, a clear): keep the selection on its frame, and
        that frame on screen (the rows before it changed, so its line did): on `screen_row` (where
        it was), else in the middle."""
        self._cache.clear()
        self._digests.clear()
        self._left_tail = self.view.mark()  # other rows: what the user has seen of them is not known
        if self.selected is not None and self.view.locate(self.selected) is None and not self._held():
            # Hidden by the new filter: the user's place in time is kept, on the nearest frame shown
            # before it ("what did I send right before this error?": `error`, then `dir:out`).
            self.selected = self._nearest(self.selected)
            self.on_member = False
            self.tail = self.selected is None
        self._layout_changed()
        if self._cursor_line is not None and not self.tail and screen_row is not None:
            self.scroll_to(y=max(0, self._cursor_line - screen_row), animate=False, immediate=True, force=True)
        elif self._cursor_line is not None and not self.tail:
            self._scroll_to_line(self._cursor_line, center=True)
        elif self.selected is not None and not self.tail:
            # Held for the whole view, older than every row of the first screen: its top is nearest.
            self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def _held(self) -> bool:
        """Whether the selected frame, older than a filter's first screen, waits for the whole view
        (which shows it, or the frame `_nearest` it). Dropped, the selection was lost by every filter
        changed or cleared in a session of more than a screen's frames."""
        selected, view = self.selected, self.view
        return self.finish_view is not None and selected is not None and view.floor <= selected < view.start

    def _nearest(self, index: int) -> int | None:
        """The row of the last frame shown before frame `index` (the first one, when none is), as a
        selection: its first frame; None when the view shows no frame."""
        view = self.view
        if not view.indices:
            return None
        position = max(0, bisect.bisect_right(view.indices, index) - 1)
        found = view.locate(view.indices[position])
        return found.row.first if found is not None else None

    def settle(self) -> None:
        """Show the whole view now if only a filter's first screen is shown (see `finish_view`)."""
        finish, self.finish_view = self.finish_view, None
        if finish is not None:
            finish()

    def _repainted_in_place(self, lines: int, epoch: int, cursor: int | None) -> bool:
        """Repaint only the lines that changed, when nothing else moved: the runs that took new
        frames, and a paused log's new lines where they are on screen. That is the case with the
        same connection as the batch before (`epoch`), the same selected line, and either as many
        lines as before (every frame joined a collapsed run) with a following log still at its end,
        or lines added after the old last one to a paused log. True when that was the case.

        A reply streams 50 audio deltas a second into one run: its line is the only one that
        changes, and a whole-pane repaint for it sent every row of both panes through the
        compositor again (the rows it paints are whole screen lines, the transcript's beside it).
        A user reading up the log (paused) while frames stream in below the screen saw nothing
        change but the scrollbar and the "+N new" count, yet paid for a whole repaint per batch:
        the cost stood in front of each of their key presses."""
        view = self.view
        count = view.line_count
        if self.journal.epoch != epoch or not self.is_mounted:
            return False  # an epoch changed every line's clock
        if count != lines and not self._appended_below(lines, count):
            return False  # lines moved, or a following log scrolls to its new end: the layout's way
        if self._resolve_cursor() != cursor or (self.tail and self.scroll_offset.y != self.max_scroll_y):
            return False
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if count != lines:
            set_virtual_height(self, count, repaint=False)
            first, last = max(lines, top), min(count, top + height)
            if first < last:
                self.refresh_lines(first, last - first)
        rows = view.rows
        for position in view.grown:
            line = view.line_of(rows[position])
            if top <= line < top + height:
                self.refresh_line(line)
        self._update_title()
        self._keys_follow()
        return True

    def _appended_below(self, lines: int, count: int) -> bool:
        """Whether a paused log's `lines` lines became `count` by lines added after them only (no
        expanded run grew: the lines after it moved). A scrollbar that comes with them lays the
        screen out, and so repaints it whole (`set_virtual_height`)."""
        if self.tail or count < lines:
            return False
        rows = self.view.rows
        return not any(rows[position].expanded for position in self.view.grown)

    def _layout_changed(self) -> None:
        settled = set_virtual_height(self, self.view.line_count)
        self._cursor_line = self._resolve_cursor()
        if self.tail:
            self._scroll_to_end(immediate=settled)
        self._update_title()
        self._keys_follow()
        self.refresh()

    def on_paste(self, event: events.Paste) -> None:
        """A paste while keys wait for a filter's whole view waits with them: it goes where the keys
        before it put the focus (`f`, then a pasted query, lands in the filter)."""
        if self._held_keys is not None:
            event.stop()
            event.prevent_default()
            self._held_keys.append(retyped(event))

    async def on_key(self, event: events.Key) -> None:
        """The log's own keys act here, as each reaches it, in the order they were typed.

        Textual runs a binding once the key has bubbled back up to the app, after the log has taken
        the next key: `↑` then `d` in one burst ran `d` first, with nothing selected yet. A frame key
        with nothing selected (following: the footer dims it) says how to select a frame; while
        something waits for a filter's whole view every key waits too (`after_whole_view`)."""
        if self._held_keys is not None:
            event.stop()
            event.prevent_default()
            self._held_keys.append(retyped(event))
            return
        found = self._binding_for(event.key)
        if found is None:
            if self._cleared_error_said(event.key):
                event.stop()
                event.prevent_default()
            return  # not one of the log's keys: on its way to the app's bindings
        binding, enabled = found
        event.stop()
        event.prevent_default()
        if enabled:
            await self.run_action(binding.action)
        elif binding.action in self.LINKED_ACTIONS and self._cursor_line is not None:
            # Dimmed on a row with nowhere to go: called as it is (Textual runs no dimmed action), it says why.
            if binding.action == "cause":
                self.action_cause()
            else:
                self.action_transcript(frames=binding.action == "item_frames")
        elif binding.action == "cause" and self.selected is None:
            # Dimmed with nothing selected (no error has a linked cause): a dropped connection's row
            # may still lead somewhere (its finding's frames); else it says how to select a frame.
            self._cause_with_nothing_selected()
        elif binding.action in self.FRAME_ACTIONS:
            text = f"{binding.description}: no frame is selected (↑ selects the newest)"
            self.post_message(self.Notice(text, of_selection=True))

    def _cause_with_nothing_selected(self) -> None:
        """`c` while following: from the newest error to its cause; else where a clear took the
        error; else how to select a frame."""
        if (newest := self._newest_linked()) is not None:
            self._cause_of_newest(newest)
        elif (flagged := self._newest_flagged_with_others()) is not None and self.select_frame(flagged):
            self.action_cause()  # a dropped connection's row: to the work its finding names
        elif (gone := self._cleared_error()) is not None:
            # The newest error went with a clear (frames came since): said, not "no frame is selected".
            self.post_message(self.Notice(self.why_hidden(gone), of_view=True))
        else:
            said = "Cause ↔ error: no frame is selected (↑ selects the newest)"
            self.post_message(self.Notice(said, of_selection=True))

    def _flagged_shown(self) -> bool:
        """Whether `_newest_flagged_with_others` finds a row, asked again only when the view, its rows,
        its floor or its badges change (every batch of frames asks, through `_row_links`; frames that
        bring no finding change nothing, but for a flagged row more than 4,096 frames back)."""
        view = self.view
        key = (id(view), view.generation, view.floor, view.marks_version)
        if self._flagged_key != key:
            self._flagged_key, self._flagged = key, self._newest_flagged_with_others() is not None
        return self._flagged

    def _newest_flagged_with_others(self, looked: int = 4096) -> int | None:
        """Of the last `looked` frames shown, the newest a finding blames (an error or a warning) and that
        names other frames with it (`LogView.related`): where `c` with nothing selected goes when no
        error has a linked cause (a 1006 drop's row; it said "no frame is selected")."""
        view = self.view
        marks = view.marks
        if marks is None or view.related is None:
            return None
        for index in reversed(view.indices[-looked:]):
            if marks(index) in ("error", "warning") and view.related(index) is not None:
                return index
        return None

    def _cause_of_newest(self, newest: int) -> None:
        """`c` with nothing selected: "what did I send before this error?" for the newest one with a
        cause (`newest`): it said "no frame is selected" with that error on screen. One the filter
        hides (and its cause) is shown as any jump's target: the filter is lifted."""
        if self.select_frame(newest):
            self.action_cause()
        elif (link := self.view.links.cause_of.get(newest) if self.view.links else None) is not None:
            self.post_message(self.Reveal(link.cause, "c"))

    def _cleared_error_said(self, key: str) -> bool:
        """`c` on a log a clear emptied, after an error: say where the error went, as `!` does (it
        did nothing, and said nothing). Whether it was said."""
        if self.view.rows:
            return False
        if not any(binding.action == "cause" for binding in self._bindings.key_to_bindings.get(key, ())):
            return False
        gone = self._cleared_error()
        if gone is None:
            return False
        self.post_message(self.Notice(self.why_hidden(gone), of_view=True))
        return True

    def _cleared_error(self) -> int | None:
        """The newest linked frame (an error first, as `_newest_linked` takes them), when a clear
        took it: the view's floor is past it. None when there is none, or it is after the clear (a
        filter hides it, and `c` lifts the filter)."""
        links = self.view.links
        if links is None or not links.cause_of:
            return None
        newest = next((i for i in reversed(links.cause_of) if links.is_fault(i)), next(reversed(links.cause_of)))
        return newest if newest < self.view.floor else None

    def _newest_linked(self) -> int | None:
        """The newest frame the view shows that is linked to its cause and is an error (an `error`,
        a failed response or transcription, as `is:error` says), else the newest linked one (a
        barge-in's cancelled response); None when there is none. A barge-in after an error took
        `c` to its `response.cancel`, not to the error the README says `c` starts from."""
        links = self.view.links
        if links is None or self.selected is not None or not links.cause_of:
            return None
        linked = list(reversed(links.cause_of))
        for candidates in ([index for index in linked if links.is_fault(index)], linked):
            for index in candidates:
                if self.view.locate(index) is not None:
                    return index
            # None shown: the newest of all, unless a clear took it (the filter is lifted to show it).
            if candidates and candidates[0] >= self.view.floor:
                return candidates[0]
        return None

    def _binding_for(self, key: str) -> tuple[Binding, bool] | None:
        """The log's binding for a key that reached it, and whether it is enabled; None if the key is
        not the log's.

        A key reaches the log because the log had the focus when the app forwarded it; a burst's next
        key may have moved the focus since (`f` runs on the app's turn, `RtApp._focus_move`), and
        the screen's active bindings, looked up from the new focus, gave Home to the filter's input
        (its cursor moved, the log's selection did not). Away from the focus, the log's own table
        answers, as the screen's would have when the key was typed."""
        if self.screen.focused is self:  # not `has_focus`: it changes only once the blur, queued, is handled
            active = self.screen.active_bindings.get(key)
            return None if active is None or active.node is not self else (active.binding, active.enabled)
        for binding in self._bindings.key_to_bindings.get(key, ()):
            state = self.app._check_action_state(binding.action, self)
            if state is not False:
                return binding, bool(state)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The frame keys (`FRAME_ACTIONS`) only where they can act (see there); `c`, `o` and `i`
        dimmed on a row they have nothing to go to from (pressed, they say so)."""
        if action in self.FRAME_ACTIONS:
            if not self.view.rows:
                return False
            if self._cursor_line is None and self.selected is None:
                if action == "cause" and (self._has_links() or self._flagged_shown()):
                    # Nothing selected: `c` goes from the newest error to its cause, or from a flagged
                    # row (a dropped connection's) to the work its finding names.
                    return True
                return None  # a selection held for a filter's whole view acts: the view is built first
            if action in self.LINKED_ACTIONS:
                can_cause, can_transcript = self._row_links()
                if not (can_cause if action == "cause" else can_transcript):  # `i` goes where `o` does
                    return None
        return True

    LINKED_ACTIONS = frozenset({"cause", "transcript", "item_frames"})
    """The frame keys that go somewhere from the selected row: dimmed where it has nowhere to go."""

    def _has_links(self) -> bool:
        """Some frame is linked to its cause (`c` with nothing selected has somewhere to go)."""
        links = self.view.links
        return links is not None and bool(links.cause_of)

    def _row_links(self) -> tuple[bool, bool]:
        """Whether `c` and `o` have somewhere to go from the selected line: a cause or an effect, and
        a conversation item (or the response of a reply that made none). A collapsed run's line: yes
        (each of its frames is asked only when pressed; a run of thousands is not read per batch)."""
        number = self._cursor_line
        line = self.view.line(number) if number is not None else None
        if line is None:
            return self._has_links() or self._flagged_shown(), True
        if line.member < 0 and line.row.count > 1:
            return True, True
        index = line.frame_index
        links = self.view.links
        if links is None:
            frame = self.journal[index]
            return False, bool(frame.item_id or frame.response_id)
        linked = index in links.cause_of or index in links.effects_of or self._related(index) is not None
        return linked, bool(links.items_of(index) or self.journal[index].response_id)

    def _row_is_cause(self) -> bool:
        """Whether the selected line is a frame we sent that an error answered (and no error itself):
        `c` goes to the error from it, which a narrow footer's `c Cause` did not say."""
        number = self._cursor_line
        line = self.view.line(number) if number is not None else None
        links = self.view.links
        if line is None or links is None or (line.member < 0 and line.row.count > 1):
            return False
        index = line.frame_index
        return index in links.effects_of and index not in links.cause_of

    def footer_compact(self) -> Mapping[str, str]:
        """The frame keys' words in a footer too narrow for every key in its own (see `KeyFooter`):
        `c` says where it goes from the selected line, to its cause or to the error it caused."""
        return self.FOOTER_COMPACT_FROM_CAUSE if self._keys_state and self._keys_state[-1] else self.FOOTER_COMPACT

    def _related(self, index: int) -> tuple[str, list[int]] | None:
        """The frames a finding names with frame `index` (`LogView.related`), or None."""
        related = self.view.related
        return related(index) if related is not None else None

    def on_collapsed_run(self) -> bool:
        """Whether the selected line is a collapsed run's (it stands for every frame of the run)."""
        number = self._cursor_line
        line = self.view.line(number) if number is not None else None
        return line is not None and line.member < 0 and line.row.count > 1

    @property
    def has_selection(self) -> bool:
        """A line is selected (the log is not following with nothing selected)."""
        return self._cursor_line is not None or self.selected is not None

    def _keys_follow(self) -> None:
        """Refresh the footer when the frame keys' state changed: a few tests and lookups per call
        (every batch of frames calls it: a frame may gain its link later), and a footer repaint only
        on a change."""
        state = (
            bool(self.view.rows),
            self._cursor_line is not None or self.selected is not None,
            *self._row_links(),
            self._row_is_cause(),
        )
        if state != self._keys_state:
            if state[1] and not (self._keys_state is not None and self._keys_state[1]):
                self.post_message(self.Selected())
            self._keys_state = state
            if self.is_attached:  # not `is_mounted`: during shutdown a last pump tick finds the log
                self.refresh_bindings()  # still mounted but cut from its screen, and the lookup raised

    def _scroll_to_end(self, *, immediate: bool) -> None:
        """Show the log's last line (`immediate`: now, else after the next refresh).

        Forced: Textual allows a vertical scroll only once a layout has shown the scrollbar, and a
        pane under another screen (the palette that ran "undo clear") is laid out only when that
        screen closes, well after the deferred scroll has run and been refused."""
        if immediate:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        else:
            # After the refresh, and only if still following: a key that waited for a filter's
            # whole view (Home) selects a line between this call and that refresh.
            self.call_after_refresh(self._scroll_to_end_if_following)

    def _scroll_to_end_if_following(self) -> None:
        if self.tail:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def _resolve_cursor(self) -> int | None:
        if self.selected is None:
            return None
        found = self.view.locate(self.selected)
        if found is None:
            return None
        member = found.member if (self.on_member and found.row.expanded) else -1
        return self.view.line_of(found.row, member)

    def empty_text(self) -> str:
        """What the pane says while it shows no frame though the journal holds some: a filter that
        matches none, a clear. Nothing while a filter's view is still being built, or before any frame."""
        view = self.view
        if view.line_count or self._finish_view is not None or not len(self.journal):
            return ""
        if view.query is not None and view.in_range:
            of = counted(view.in_range, "frame")
            # A family turned off stays off after an empty Enter: then the palette clears it all.
            empty = "palette: log: clear filter" if "-family:" in view.query.text else "empty: all frames"
            return f"No frame matches the filter, of {of}: f changes it ({empty})"
        if view.floor and not view.in_range:
            kept = "the frame before is kept" if view.floor == 1 else f"the {view.floor:,} frames before are kept"
            return f"Cleared: new frames appear here; {kept} (palette: log: undo clear)"
        return ""

    def _update_title(self) -> bool:
        """Set the pane's subtitle (counts, following or not); True when it changed. Only its border
        line is repainted, and an unchanged one is not set again."""
        view = self.view
        so_far = " so far" if self._finish_view is not None else ""  # a first screen: the rest is still read
        parts = [
            # Unfiltered too while it is built (a filter cleared over an hour's journal): `200 frames`
            # read as all there was, for the 0.3 s the rest took (review 58c).
            f"{view.shown:,}{so_far} of {counted(view.in_range, 'frame')}"
            if view.query or so_far
            else counted(view.shown, "frame")
        ]
        if view.floor:
            parts.append("since clear")
        if not self.tail:
            unseen = self.unseen
            parts.append(f"+{unseen:,} new below · end: follow" if unseen else "paused · end: follow")
            if (at := self._selected_seqs()) is not None:
                # The selected frame's number, after the counts: an error's `← #241` and a finding's
                # `type #N` name frames by it, and no row shows it (review 57a).
                parts.insert(1, at)
        if self.journal.payloads_dropped:
            # Last: a border too narrow for it all cuts this note, not the key that follows again (at
            # 140 columns under a stream, `end: follow` went past the border's end).
            parts.append(f"{self.journal.payloads_dropped:,} payloads on disk only")
        subtitle = " · ".join(parts)
        if subtitle == self._subtitle:
            return False
        self._subtitle = subtitle
        set_border_subtitle(self, subtitle)
        return True

    def _selected_seqs(self) -> str | None:
        """`#241` for the selected frame, `#20–#102` for a collapsed run's line; None with none."""
        number = self._cursor_line
        line = self.view.line(number) if number is not None else None
        if line is None:
            return None
        if line.member < 0 and line.row.count > 1:
            members = line.row.members
            return f"#{self.journal[members[0]].seq}–#{self.journal[members[-1]].seq}"
        return f"#{self.journal[line.frame_index].seq}"

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Render screen line `y` (the Line API asks only for lines on screen)."""
        width = self.paint_width()
        number = self.scroll_offset.y + y
        line = self.view.line(number)
        if line is None:
            base = self._look.get()[1]
            if number < EMPTY_TEXT_ROWS and (said := self.empty_text()):
                # Said on the pane: a blank pane under a filter read as a log that had stopped.
                rows = textwrap.wrap(said, max(10, width - 2))
                if number < len(rows):
                    row = rows[number] if number < EMPTY_TEXT_ROWS - 1 else " ".join(rows[number:])
                    text = Text(f" {row}", style=base + Style(dim=True, italic=True))
                    text.truncate(width, overflow="ellipsis", pad=True)
                    return Strip(list(text.render(self.app.console)), width)
            return Strip.blank(width, base)
        selected = number == self._cursor_line
        finder = self.finder or self._filter_marks()
        # Whether the row came inside a run above: that run grows after the row was drawn.
        in_run = line.member < 0 and self.view.arrived_in_run(line.row)
        key = (
            in_run,
            self.view.generation,
            self.view.marks_version,
            self.journal.epoch,  # a new connection moves its capture fact, drawn before, to its clock
            line.row.position,
            line.member,
            line.row.count,
            line.row.expanded,
            selected,
            width,
            finder.text if finder is not None else "",
            finder.across(line.frame_index) if finder is not None else None,  # known once searched
        )
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_strip(line, selected, width, finder, in_run)
            self._cache[key] = strip
            if len(self._cache) > CACHE_LINES:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return strip

    def _filter_marks(self) -> Finder | None:
        """A finder of the filter's free text (`kitchen`, `/kit.h/`), to show where each row it
        passed matched while no find is active; None for a filter that searches no text."""
        query = self.view.query
        if query is None:
            return None
        cached_query, marks = self._marks_of
        if cached_query is not query:
            highlight = query.highlight
            try:
                marks = Finder(highlight) if highlight is not None else None
            except QueryError:
                marks = None  # a pattern the filter took but the find does not: rows stay plain
            self._marks_of = (query, marks)
        return marks

    def _render_strip(self, line: Line, selected: bool, width: int, finder: Finder | None, in_run: bool) -> Strip:
        view = self.view
        index = line.frame_index
        previous_index = view.previous_of_line(line)
        previous = self.journal[previous_index] if previous_index is not None else None
        digest = None
        if line.member < 0 and line.row.count > 1:
            key = (view.generation, line.row.position)
            digest = self._digests.get(key)
            if digest is None:
                digest = self._digests[key] = RunDigest()
                if len(self._digests) > CACHE_LINES:  # runs scrolled away: rebuilt the same if seen again
                    del self._digests[next(iter(self._digests))]
        pieces = line_pieces(view, line.row, line.member, Columns.fit(width), previous, digest, in_run=in_run)
        if not self.app.current_theme.dark:  # the pieces name the dark palette's colours
            pieces = [(piece, themed(style, False) if style else style) for piece, style in pieces]
        _, base, (cursor_style, match_style) = self._look.get()
        # Every piece over the pane's own style: a piece names only its foreground, and a cell with
        # no background is drawn on the terminal's default one, not the theme's (stripes behind text).
        if finder is None:
            # The common case, straight to segments of the pane's width: a line's pieces never overlap.
            return Strip(fit_segments(pieces, width, base, cursor_style if selected else None), width)
        # Matches cut across pieces: Rich's text resolves the overlapping styles.
        summary, summary_style = pieces[-1]
        room = width - sum(cell_len(piece) for piece, _ in pieces[:-1])
        # One frame's row (not a collapsed run's) shows its match from its text when the summary lacks it.
        one_frame = line.member >= 0 or line.row.count == 1
        searched = partial(self.journal.search_text, index) if one_frame else None
        etype = self.journal.type_at(index) if one_frame else ""
        pieces[-1] = (summary_at_match(summary, finder, room, searched, etype), summary_style)
        text = Text(no_wrap=True, overflow="crop", style=base)
        for piece, style in pieces:
            text.append(piece, style)
        if selected:
            text.stylize(cursor_style)
        # Over the cursor: the row a find stops on, or selected under a filter of words, showed its
        # match no more than a row without one.
        for start, end in finder.spans(text.plain):
            text.stylize(match_style, start, end)
        if one_frame:
            _mark_across(text, finder.across(index), len(text.plain) - len(pieces[-1][0]), match_style)
        segments = list(text.render(self.app.console))
        length = Segment.get_line_length(segments)  # what the Strip would measure for its crop
        if length > width:
            return Strip(_ellipsized(segments, width, base), width)
        return Strip(segments, length).crop_extend(0, width, base)

    def notify_style_update(self) -> None:
        """A new look (a theme) invalidates every cached line; a focus moving does not."""
        super().notify_style_update()
        if self._look.changed():
            self._cache.clear()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """Textual's, then a following log back at its end at once: in the layout's own screen
        update, not at the Resize event after it (a bar opening above the log painted every line of
        it twice: at the old scroll offset, then at the end). A selected line that was on screen
        stays on it (at the foot of a shorter pane: the filter bar opening, the window resized)."""
        old_height = self.container_size.height  # before Textual's takes the new size
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if not self.is_mounted:
            return resized
        if self.tail:
            if self.scroll_y != self.max_scroll_y:
                self.scroll_y = self.max_scroll_y
        elif self._cursor_line is not None:
            cursor, top, new_height = self._cursor_line, self.scroll_offset.y, self.container_size.height
            # On screen before, below the new edge now: brought back to the foot of the pane.
            if 0 < new_height and top <= cursor < top + old_height and cursor >= top + new_height:
                self.scroll_y = cursor - new_height + 1
        return resized

    def on_resize(self) -> None:
        """Width is part of the cache key; keep the virtual size in step, and a following log at its
        end: the scroll offset outlives a resize, so a shorter pane would keep its old top and leave
        the newest rows below its edge until the next frame came."""
        settled = set_virtual_height(self, self.view.line_count)
        if self.tail:
            self._scroll_to_end(immediate=settled)
        else:
            self._update_title()  # a taller pane shows more of the new frames ("+N new below")

    # -- selection --------------------------------------------------------------------------

    def _line_at_cursor(self) -> Line | None:
        """The selected line, in the view shown (on a filter's first screen, see `_whole_line`)."""
        return self.view.line(self._cursor_line) if self._cursor_line is not None else None

    def _whole_line(self, again: Callable[[], object]) -> tuple[bool, Line | None]:
        """(wait, the selected line) for a key that acts on it. On a filter's first screen a frame's
        line is the frame it will be in the whole view, so the key acts now; a run's line may lack the
        run's older frames (they are in the rest of the view), and a selection older than the first
        screen is not on it: the key waits (`after_whole_view` runs `again`), and wait is True."""
        line = self._line_at_cursor()
        if self._finish_view is None:
            return False, line
        partial_run = line is not None and line.member < 0 and line.row.count > 1
        if (partial_run or self._held()) and self.after_whole_view(again):
            return True, None
        return False, line

    def select_line(self, number: int, *, center: bool = False) -> None:
        """Select screen line `number` (clamped); selecting stops following. `center`: a line off
        screen comes to the middle of the pane, not to its edge (a jump: see `select_frame`)."""
        count = self.view.line_count
        if not count:
            return
        number = max(0, min(count - 1, number))
        line = self.view.line(number)
        if line is None:
            return
        previous = self._cursor_line
        self.selected = line.frame_index
        self.on_member = line.member >= 0 and line.row.expanded
        self._cursor_line = number
        self.tail = False
        self._update_title()
        self._keys_follow()
        if self.selection_moved is not None:
            self.selection_moved()
        if self._scroll_to_line(number, center=center):
            self.refresh()
        else:
            # Only the lines whose highlight moved change (one, from following): a held arrow key
            # repaints two lines per step, not the pane (which matters while frames stream in).
            if previous is not None:
                self.refresh_line(previous)
            self.refresh_line(number)

    def select_frame(self, index: int, *, expand: bool = True) -> bool:
        """Select journal frame `index`, expanding the run that holds it; False if not shown.

        A jump (error ↔ cause, a find, a finding, a detail's linked frame): a frame off screen comes
        to the middle of the pane, with what came before it and after it in view. At the pane's top
        edge, "what did I send right before this error?" needed more keys.
        """
        self.settle()  # a frame older than a filter's first screen is in the whole view
        found = self.view.locate(index)
        if found is None:
            return False
        if found.member >= 0 and expand and not found.row.expanded:
            self.view.set_expanded(found.row, True)
            set_virtual_height(self, self.view.line_count)
        self.select_line(self.view.line_of(found.row, found.member if found.row.expanded else -1), center=True)
        return True

    def _scroll_to_line(self, number: int, *, center: bool = False) -> bool:
        """Scroll just enough to show screen line `number` (`center`: to the pane's middle, when it
        is off screen); True when it scrolled."""
        top, height = self.scroll_offset.y, max(1, self.size.height)
        if center and not top <= number < top + height:
            self.scroll_to(y=max(0, number - height // 2), animate=False, immediate=True, force=True)
        elif number < top:
            self.scroll_to(y=number, animate=False, immediate=True, force=True)
        elif number >= top + height:
            self.scroll_to(y=number - height + 1, animate=False, immediate=True, force=True)
        else:
            return False
        return True

    def _user_moved(self) -> None:
        """The user moved the selection: a find still searching does not take it (see `_claim`)."""
        self._claim = None

    def action_move(self, delta: int) -> None:
        """Move the selection; the first move from following starts at the last line. On a filter's
        first screen a move that stays on it does not wait for the whole view (the selection is a
        frame, kept when the whole view comes); one past its top, or from a selected frame older
        than the first screen (held for the whole view), waits for the whole view (`after_whole_view`)."""
        self._user_moved()
        if self._finish_view is not None and (self._move_target(delta) < 0 or self._held()):
            # Past the first screen's top, or from a frame older than it: once the whole view is shown.
            if self.after_whole_view(partial(self.action_move, delta)):
                return
        count = self.view.line_count
        if not count:
            return
        target = self._move_target(delta)
        if self._cursor_line is not None and delta > 0 and target >= count:
            self.action_tail()
            return
        self.select_line(target)

    def _move_target(self, delta: int) -> int:
        """The line a move of `delta` lines goes to (unclamped). Following, the first ↑ selects the
        last line (the one just read), a page goes a page up."""
        if self._cursor_line is None:
            return self.view.line_count - 1 + (delta + 1 if delta < -1 else 0)
        return self._cursor_line + delta

    def action_page(self, direction: int) -> None:
        """Move by a screen."""
        self.action_move(direction * max(1, self.size.height - 1))

    def action_first(self) -> None:
        """Select the first line (of a filter's whole view: once it is shown)."""
        self._user_moved()
        if self.after_whole_view(self.action_first):
            return
        self.select_line(0)

    def action_tail(self) -> None:
        """Follow new frames again."""
        self._user_moved()
        self.selected = None
        self._cursor_line = None
        self.tail = True
        self._scroll_to_end(immediate=True)
        self._update_title()
        self._keys_follow()
        self.refresh()
        if self.selection_moved is not None:
            self.selection_moved()

    def watch_tail(self, tail: bool) -> None:
        if not tail:
            self._left_tail = self.view.mark()
        self._update_title()

    @property
    def unseen(self) -> int:
        """Frames that came since the user stopped following and are below the last line on screen
        (0 while following). Counted from what the screen shows, not as they came: the first rows
        after the user's place are on screen, and a user two rows up read "+12 new" with them in
        view; it goes down as the user scrolls down to them."""
        if self.tail:
            return 0
        mark, view = self._left_tail, self.view
        if mark.generation != view.generation:
            # Rebuilt under the mark without `rebuilt` (none should be): nothing shown is new.
            mark = self._left_tail = view.mark()
        return view.new_below(self.scroll_offset.y + self.size.height - 1, mark)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Textual's, then the "+N new" of a paused log follows the screen (scrolled down to the new
        frames, they are no longer below it)."""
        super().watch_scroll_y(old_value, new_value)
        if not self.tail and round(old_value) != round(new_value):
            self._update_title()

    def on_mouse_scroll_up(self) -> None:
        """Scrolling up means the user wants to read: stop following."""
        self.tail = False

    def on_scroll_up(self, _message: ScrollUp) -> None:
        """A click on the scrollbar above its thumb: a page up, read as the wheel is (following
        stops, or the next frames would take the view back to the end)."""
        if self.max_scroll_y > 0:
            self.tail = False

    def on_scroll_to(self, message: ScrollTo) -> None:
        """The scrollbar's thumb dragged (handled before Textual scrolls): away from the end,
        following stops."""
        if message.y is not None and message.y < self.max_scroll_y:
            self.tail = False

    def on_click(self, event: events.Click) -> None:
        """Select the clicked line (counted inside the border: `event.y` counts from its edge)."""
        self._user_moved()
        offset = event.get_content_offset(self)
        if offset is not None:
            # On a filter's first screen too: the frame clicked stays selected in the whole view.
            self.select_line(self.scroll_offset.y + offset.y)

    # -- runs, details, links ---------------------------------------------------------------

    def action_expand(self) -> None:
        """Expand the run under the selection to one line per frame."""
        wait, line = self._whole_line(self.action_expand)
        if wait:
            return
        if line is None or line.row.count == 1 or line.row.expanded:
            return
        self.view.set_expanded(line.row, True)
        self.select_line(self.view.line_of(line.row))
        self._layout_changed()

    def action_collapse(self) -> None:
        """Collapse the run the selection is in back to one line."""
        wait, line = self._whole_line(self.action_collapse)
        if wait:
            return
        if line is None or not line.row.expanded:
            return
        self.view.set_expanded(line.row, False)
        self.on_member = False
        self.select_line(self.view.line_of(line.row))
        self._layout_changed()

    def action_toggle_run(self) -> None:
        """The palette's way to `→` and `←`: the selected run opened in place, or closed again (a
        line of an opened run closes it). A single frame's line says it is not a run, where the
        arrows do nothing."""
        wait, line = self._whole_line(self.action_toggle_run)
        if wait or line is None:
            return
        if line.row.count == 1:
            self.post_message(
                self.Notice("this row is one frame, not a run: a run of deltas or appends opens in place")
            )
        elif line.row.expanded:
            self.action_collapse()
        else:
            self.action_expand()

    def action_enter(self) -> None:
        """A run's line toggles it; a frame's line opens its details."""
        wait, line = self._whole_line(self.action_enter)
        if wait:
            return
        if line is None:
            self.action_move(-1)
            line = self._line_at_cursor()
            if line is None:
                return
        if line.member < 0 and line.row.count > 1:
            if line.row.expanded:
                self.action_collapse()
            else:
                self.action_expand()
            return
        self.post_message(self.Details([line.frame_index]))

    def action_details(self) -> None:
        """Details of the selected frame, or of every frame of the selected run."""
        wait, line = self._whole_line(self.action_details)
        if wait:
            return
        if line is None:
            return
        if line.member < 0 and line.row.count > 1:
            self.post_message(self.Details(list(line.row.members), run_label(self.journal, line.row)))
        else:
            self.post_message(self.Details([line.frame_index]))

    def action_cause(self) -> None:
        """Jump from an error to the frame that caused it, and back. On a collapsed run's line, from
        the run's linked frame (the first, saying how many, when several are): the row stands for
        every frame of the run, and its first was asked alone ("no linked cause" on a run of appends
        holding the one an error names). With nothing selected, from the newest error (see
        `_cause_of_newest`)."""
        if self._cursor_line is None and self.selected is None:
            self._cause_with_nothing_selected()
            return
        wait, line = self._whole_line(self.action_cause)
        links = self.view.links
        if wait or line is None or links is None:
            return
        if line.member < 0 and line.row.count > 1:
            linked = [index for index in line.row.members if index in links.cause_of or index in links.effects_of]
            if not linked:
                self.post_message(self.Notice("no frame in this run has a linked cause or error", of_selection=True))
                return
            if len(linked) > 1:
                self.post_message(self.Notice(f"{len(linked)} frames in this run are linked: the first one's link"))
            index = linked[0]
        else:
            index = line.frame_index
        cause = links.cause_of.get(index)
        related = self._related(index) if cause is None and index not in links.effects_of else None
        if cause is not None:
            target = cause.cause
        elif index in links.effects_of:
            target = links.effects_of[index][-1].effect
        elif related is not None:
            # No cause or error: the frames a finding names with it (a dropped connection's, the
            # work it cut), which `c` from a 1006 row did not reach ("has no linked cause or error").
            rule, others = related
            target = others[0]
            named = ", ".join(f"#{self.journal[other].seq} {self.journal[other].type}" for other in others[:3])
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            self.post_message(self.Notice(f"no linked cause or error; its finding {rule} names it with {named}{more}"))
        else:
            # Said once however often c is pressed (three presses stacked three of it over the rows),
            # naming the frame: the notice outlives a move to another.
            frame = self.journal[index]
            said = f"#{frame.seq} ({frame.type}) has no linked cause or error"
            self.post_message(self.Notice(said, of_selection=True))
            return
        if self.view.locate(target) is None and self.after_whole_view(self.action_cause):
            return  # not on a filter's first screen: perhaps in the rest of its view
        if self.select_frame(target):
            return
        if target < self.view.floor:
            self.post_message(self.Notice(self.why_hidden(target), of_view=True))
        else:
            self.post_message(self.Reveal(target, "c"))  # the filter hides it: the app lifts it

    def why_hidden(self, index: int, again: str = "c") -> str:
        """Why frame `index` is not in the log, and how to show it: before a clear (which a filter
        did not hide), or the filter (named, with the keys that clear it: "hidden by the filter"
        alone was a dead end), then `again`: the keys that went there, which go once it shows (a
        cleared filter keeps the selection). A clear alone said "hidden by the filter", with no
        filter in force."""
        frame = self.journal[index]
        seq = frame.seq
        if index < self.view.floor:
            return f"frame #{seq} is from before the clear: the palette's 'log: undo clear' brings it back"
        query = self.view.query
        named = f" {query.text!r}" if query is not None else ""
        # Enter on an empty filter leaves the bar's family toggles as they are: the palette's clear
        # turns them back on too (it said "f, ctrl+u, Enter clears it (and its families turned back
        # on)", which did not).
        if "-family:" in named:
            how = f"the palette's 'log: clear filter' clears it; then {again}"
        else:
            how = f"f, ctrl+u, Enter clears it; then {again}"
        return f"frame #{seq} ({frame.type}) is hidden by the filter{named}: {how}"

    def action_transcript(self, frames: bool = False) -> None:
        """Ask for the transcript row of the selected frame's item: the one it names, or the first
        its response output, or the one it made (a commit, an item.create, a response.create).
        `frames`: for only that item's frames instead (`i`)."""
        wait, line = self._whole_line(partial(self.action_transcript, frames))
        if wait:
            return
        if line is None:
            return
        frame = self.journal[line.frame_index]
        links = self.view.links
        if links is not None:
            items = links.items_of(frame.index)
        else:
            items = [frame.item_id] if frame.item_id else []
        if items:
            self.post_message(self.ShowItem(items[0], len(items), frames=frames))
        elif frame.response_id:
            # A response.done is the end of it: "(yet)" would promise an item that never comes.
            yet = "" if frame.type == "response.done" else " (yet)"
            # One that ended early without output has a row of its own, under its id.
            missing = f"{frame.response_id} has output no conversation item{yet}"
            self.post_message(self.ShowItem(NO_OUTPUT_PREFIX + frame.response_id, 1, missing, frames=frames))
        else:
            self.post_message(self.Notice("this frame names no conversation item, nor made one"))

    def action_item_frames(self) -> None:
        """Ask for only the selected frame's item's frames (its response's, and what we sent that
        made it), in one key: `o` then `o` in the transcript did it, and nothing on screen said so."""
        self.action_transcript(frames=True)

    def action_copy(self) -> None:
        """Ask for the selected frame to be copied; on a collapsed run's line, the whole run (as `d`
        shows it and its `c` copies it): the row stands for all of its frames, not its first."""
        wait, line = self._whole_line(self.action_copy)
        if wait:
            return
        if line is None:
            return
        if line.member < 0 and line.row.count > 1:
            self.post_message(self.CopyFrame(list(line.row.members)))
        else:
            self.post_message(self.CopyFrame([line.frame_index]))

    # -- find -------------------------------------------------------------------------------

    def set_finder(self, finder: Finder | None) -> None:
        """Highlight `finder`'s matches (None: none); a search in slices of the one before ends, and
        the runs it opened close again (`_close_runs_found`)."""
        self._close_runs_found()
        self.finder = finder
        self._find_ticket += 1
        self._waiting, self._more = None, 0
        self.refresh()

    def find(self, *, forward: bool = True) -> int | None:
        """Select the next (or previous) frame holding the find pattern, inside runs too; returns
        its journal index, None when no frame holds it, or :data:`SEARCHING` when the frames
        searched within :data:`FIND_SLICE_SECONDS` do not tell: the search goes on in slices
        between screen updates and ends with `Found` or `FindMissed`. A found match's count
        follows (`Counted`) once every frame is searched. On a filter's first screen the search
        waits for the whole view, which the app builds in slices too (`finish_view`)."""
        finder = self.finder
        if finder is None:
            return None
        if self._waiting is not None and self._searching == self._find_ticket:
            # `n` or `N` typed ahead while a match is searched for: moves on from it, once found.
            self._more += 1 if forward == self._waiting else -1
            return SEARCHING
        self._find_ticket += 1
        self._claim = self._find_ticket
        self._waiting, self._more = None, 0
        if self.finish_view is not None:
            self._search_later(forward)
            return SEARCHING
        finder.advance(self.view, time.perf_counter() + FIND_SLICE_SECONDS)
        found, known = finder.find_known(self.view, self.selected, forward=forward)
        if not known:
            self._search_later(forward)
            return SEARCHING
        if found is not None:
            self._found(finder, found, forward)
        return found

    def _close_runs_found(self) -> None:
        """Collapse the runs a find expanded to show its matches, but the one the selection is on: a
        find ended with Esc left every reply it passed through open, 54 lines of audio deltas each.
        A run the user collapsed since is left so; one from a view rebuilt since (another filter)
        is not this view's."""
        opened, self._find_opened = self._find_opened, []
        kept = self.view.locate(self.selected) if self.selected is not None and self.on_member else None
        rows = self.view.rows
        closed = False
        for row in opened:
            if row.expanded and row.position < len(rows) and rows[row.position] is row:
                if kept is None or kept.row is not row:
                    self.view.set_expanded(row, False)
                    closed = True
        if closed:
            self._layout_changed()
            if self._cursor_line is not None:
                self._scroll_to_line(self._cursor_line)

    def count_matches(self) -> None:
        """Search the rest of the frames shown, in slices, for the find's count (`Counted`)."""
        if self.finder is not None and not self.finder.searched(self.view) and self._searching != self._find_ticket:
            self._search_later(None)  # (a search going on, for a match or the count, counts too)

    def _found(self, finder: Finder, found: int, forward: bool) -> None:
        start = self.selected
        # Past the end and round (the log's order is the journal's): said, or `N` from match 1 to
        # match 9 of 9 looked like a match before the first.
        wrapped = start is not None and (found <= start if forward else found >= start)
        at = self.view.locate(found)
        was_open = at is None or at.member < 0 or at.row.expanded
        self.select_frame(found)
        if at is not None and not was_open and at.row.expanded:
            self._find_opened.append(at.row)
        position = finder.known_position(found)
        if position is not None:
            searched = finder.searched(self.view)
            count = len(finder.hits(self.view)) if searched else None
            self.post_message(self.Found(position, count, ("top" if forward else "bottom") if wrapped else ""))
        if not finder.searched(self.view):
            self._search_later(None)

    def _search_later(self, forward: bool | None) -> None:
        self._searching = self._find_ticket
        self._waiting = forward
        after(self, 0.001, partial(self._search_on, self._find_ticket, forward))

    def _search_on(self, ticket: int, forward: bool | None) -> None:
        """One slice of a find that waits for its match (`forward`: its direction), or for its
        count (None)."""
        finder = self.finder
        if ticket != self._find_ticket or finder is None:
            return  # another find, or the find ended
        self._searching = None
        if self.finish_view is not None:
            self._search_later(forward)  # a filter's whole view is still being built: search that
            return
        done = finder.advance(self.view, time.perf_counter() + FIND_SLICE_SECONDS)
        if forward is not None:
            found, known = finder.find_known(self.view, self.selected, forward=forward)
            if known:
                self._waiting, more, self._more = None, self._more, 0
                if found is None:
                    self.post_message(self.FindMissed())
                    return
                if self._claim != ticket:
                    # A key moved the selection while the match was searched for: it stays where the
                    # user put it (Home after a find on a filter's first screen); the count goes on.
                    self._search_later(None)
                    return
                self._found(finder, found, forward)  # which counts the rest, if any
                onward = forward if more >= 0 else not forward
                for left in range(abs(more), 0, -1):
                    if self.find(forward=onward) == SEARCHING:
                        self._more = left - 1  # the presses after this one, once it is found
                        break
                return
        elif done:
            self.post_message(self.Counted())
            return
        self._search_later(forward)

    def action_find_next(self) -> None:
        """The next match."""
        if self.finder is None:
            self.post_message(self.Notice("nothing to find: press / first"))
        elif self.find() is None:
            self.post_message(self.FindMissed())  # the find bar says it (a toast each press piled up)

    def action_find_previous(self) -> None:
        """The previous match."""
        if self.finder is None:
            self.post_message(self.Notice("nothing to find: press / first"))  # as `n` says
        elif self.find(forward=False) is None:
            self.post_message(self.FindMissed())

    # -- for tests and exports --------------------------------------------------------------

    def line_texts(self) -> list[str]:
        """Plain text of every line, as rendered at the current width."""
        columns = Columns.fit(max(40, line_width(self)))
        out = []
        for number in range(self.view.line_count):
            line = self.view.line(number)
            if line is None:
                continue
            previous_index = self.view.previous_of_line(line)
            previous = self.journal[previous_index] if previous_index is not None else None
            in_run = line.member < 0 and self.view.arrived_in_run(line.row)
            out.append(render_line(self.view, line.row, line.member, columns, previous, in_run=in_run).plain)
        return out

    def row_texts(self) -> list[str]:
        """Every row as plain text without times (arrow, type or run, summary)."""
        return [row_text(self.view, row) for row in self.view.rows]

    @property
    def cursor_line(self) -> int | None:
        """The selected screen line, or None while following."""
        return self._cursor_line


def _ellipsized(segments: list[Segment], width: int, base: Style) -> list[Segment]:
    """A line longer than `width` cells cut to exactly `width`, the last an ellipsis in the style of
    the text it replaces: a summary cut at the pane's edge must say so, or a cut id looks whole.
    Cut here, not by a Strip's crop: that would build a second Strip (and its caches) per line."""
    if width < 1:
        return []
    cut = Segment.adjust_line_length(segments, width - 1, base)  # a wide character cut in two: a space
    return [*cut, Segment("…", cut[-1].style if cut else base)]


__all__ = ["EventLog"]


def _mark_across(text: Text, part: str | None, summary_at: int, style: Style) -> None:
    """Highlight a delta's `part` of a match that began in its stream's earlier deltas (see
    `Finder.across`): the start of the delta's quoted text, which begins the summary (at
    `summary_at`). Nothing when the summary does not show it there (a summary brought to another
    match in the frame's text)."""
    if not part:
        return
    shown = printable(part)
    begin = summary_at + 1  # after the opening quote
    end = min(len(text.plain), begin + len(shown))
    if begin < end and text.plain[begin:end] == shown[: end - begin]:
        text.stylize(style, begin, end)
