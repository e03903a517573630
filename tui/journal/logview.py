"""The event log's view model: the frames that pass the filter, grouped into rows, laid out as lines.

Consecutive streaming frames collapse into one row per stream: every delta of one response (audio,
transcript, text, arguments: they interleave on the wire), the appends of the input buffer, the
transcription deltas of one item. Streams that interleave stay separate rows, each collapsed; any
other frame closes them. A collapsed row expands in place to one line per frame it holds.

Rows hold absolute journal indices and only ever grow at the end, so a selection made by frame
index never moves when frames arrive; changing the filter rebuilds the rows from the journal.
"""

from __future__ import annotations

import bisect
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, chain

from tui.protocol import DIR_OUT, to_ga

from .links import Links
from .query import Query
from .store import _DIRECTIONS, Frame, Journal

RESPONSE_STREAM_TYPES = frozenset(
    {
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
    }
)

MAX_OPEN_LOOKBACK = 64
"""Rows searched backwards for the run that holds a frame (runs interleave only at the tail)."""


@lru_cache(maxsize=1024)  # decided once per (type, direction code), looked up for every frame
def _stream_kind(event_type: str, code: int) -> str | None:
    direction = _DIRECTIONS[code]
    ga = to_ga(event_type)
    if ga in RESPONSE_STREAM_TYPES:
        return "response"
    if ga == "input_audio_buffer.append" and direction is DIR_OUT:
        return "append"
    if ga == "conversation.item.input_audio_transcription.delta":
        return "transcription"
    if ga.endswith(".delta"):
        return "delta"
    return None


PASSING_TYPES = frozenset({"rate_limits.updated", "rt.audio"})
"""Frames that stand alone in their row but do not end the runs open around them: the server sends
`rate_limits.updated` in the middle of a response (at its start), and the response's deltas on
either side of it are one run. So are rt-tui's notes on its own devices (`rt.audio`): the speaker
opens on a reply's first audio delta, and its "speaker: default" split every session's first reply
in two runs ('You' ×3, then the rest of the sentence ×42). Notes about the wire (a malformed frame,
the connection) still end them: where they fell among the frames is part of the story."""


def run_key(frame: Frame) -> tuple[object, ...] | None:
    """The stream a frame belongs to, or None for a frame that stands alone in its row."""
    return run_key_at(frame._journal, frame.index)


def run_key_at(journal: Journal, index: int) -> tuple[object, ...] | None:
    """`run_key` of the journal's frame `index`, read from its columns (no Frame made)."""
    event_type = journal._names[journal._type[index]]
    code = journal._dir[index]
    kind = _stream_kind(event_type, code)
    if kind is None:
        return None
    names = journal._names
    if kind == "response":
        response = journal._response[index]
        return ("response", names[response] if response >= 0 else None, code)
    if kind == "append":
        return ("append", journal._epoch[index])
    item = journal._item[index]
    item_id = names[item] if item >= 0 else None
    if kind == "transcription":
        return ("transcription", item_id)
    return ("delta", event_type, item_id, code)


RUN_LOOKBACK = 8
"""Rows above a row looked at for a run it arrived in (`LogView.arrived_in_run`)."""


@dataclass(slots=True)
class Row:
    """One row of the log: a single frame, or a run of one stream's frames."""

    position: int
    """The row's place in the view (stable until the filter changes)."""
    members: array[int]
    """Journal indices of the frames in the row, ascending."""
    key: tuple[object, ...] | None = None
    expanded: bool = False

    @property
    def first(self) -> int:
        """Journal index of the row's first frame."""
        return self.members[0]

    @property
    def last(self) -> int:
        """Journal index of the row's last frame."""
        return self.members[-1]

    @property
    def count(self) -> int:
        """Frames in the row."""
        return len(self.members)

    @property
    def is_run(self) -> bool:
        """True for a row that can hold several frames."""
        return self.key is not None

    @property
    def lines(self) -> int:
        """Screen lines the row takes: one, plus one per frame when expanded."""
        return 1 + len(self.members) if self.expanded else 1


def _line_in(row: Row, index: int) -> Line | None:
    """The line of `row` that shows journal frame `index` (its own line for a lone frame, the
    member's for a run's), or None when the row does not hold it."""
    if row.first == index:
        return Line(row, -1 if row.count == 1 else 0)
    if row.is_run and row.first < index <= row.last:
        found = bisect.bisect_left(row.members, index)
        if found < len(row.members) and row.members[found] == index:
            return Line(row, found)
    return None


@dataclass(slots=True)
class Line:
    """What one screen line of the log shows."""

    row: Row
    member: int
    """-1 for the row's own line; else the position in `row.members` of the frame shown."""

    @property
    def frame_index(self) -> int:
        """The journal index the line stands for (a collapsed run: its first frame)."""
        return self.row.members[self.member] if self.member >= 0 else self.row.first


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a view stood when the user stopped following: the frames it takes in after are new."""

    index: int
    """The first journal index not looked at then: frames from here on arrived since."""
    row: int
    """The first row made since: rows from here on hold new frames only."""
    open_rows: tuple[int, ...]
    """The runs open then (their positions): the only older rows a new frame can join."""
    generation: int
    """The view's generation then: a rebuild (a filter, a clear) lays out other rows."""


@dataclass(slots=True)
class LogView:
    """Rows over the journal's frames that pass `query`, from `floor` (a clear) on."""

    journal: Journal
    links: Links | None = None
    query: Query | None = None
    floor: int = 0
    """Frames before this index are hidden (the view was cleared); the journal keeps them."""
    start: int = 0
    """The first frame the view looked at: its floor, or later for a filter's first screen (its
    newest matches, shown while the whole view is built). Frames from `floor` to here are not
    hidden by a clear: they are not looked at yet."""
    rows: list[Row] = field(default_factory=list)
    indices: array[int] = field(default_factory=lambda: array("q"))
    """Every journal index the view shows, ascending (rows interleave; this does not)."""
    generation: int = 0
    """Bumped whenever rows are rebuilt, so cached renderings of the old rows are not reused."""
    marks: Callable[[int], str | None] | None = None
    """A badge for a frame (the worst severity of the linter's findings on it), or None."""
    marks_version: int = 0
    """Bumped when badges change (a finding can name frames that are already on screen)."""
    related: Callable[[int], tuple[str, list[int]] | None] | None = None
    """For a frame a linter's finding names with others (a dropped connection and the work it cut):
    the finding's rule and its other frames, in its order; None for a frame no such finding names.
    Where `c` goes from a frame with no linked cause or error."""
    grown: set[int] = field(default_factory=set)
    """Positions of the rows the last `catch_up` added frames to (not the rows it made): a view
    whose lines did not move repaints only these (a reply's run taking its next deltas)."""
    _open: dict[tuple[object, ...], Row] = field(default_factory=dict)
    _seen: int = 0
    """Journal frames looked at so far."""
    _known: tuple[int, int, list[int]] | None = None
    """(start, end, the indices in between that pass the query), known from a first screen's scan:
    the slices that reach them take them as found (`expect_matches`)."""
    _expanded: int = 0
    _offsets: list[int] = field(default_factory=list)
    """First line of each row; valid for rows before `_offsets_valid`."""
    _offsets_valid: int = 0

    # -- building ---------------------------------------------------------------------------

    def derived(self, query: Query | None, start: int | None = None) -> LogView:
        """A new, empty view of the same journal for `query` (from `start`, this view's floor by
        default: a filter's first screen starts later), with the same links and badges; fill it
        with `catch_up`. It keeps this view's floor (a clear), whatever its start."""
        view = LogView(self.journal, self.links, None if query is None or query.is_empty else query)
        view.floor = self.floor
        view.start = view._seen = self.floor if start is None else max(self.floor, start)
        view.marks, view.marks_version, view.related = self.marks, self.marks_version, self.related
        return view

    def tail_matches(
        self, query: Query | None, wanted: int, deadline: float, *, lower: int | None = None
    ) -> tuple[int, list[int] | None]:
        """Where a view must start to hold about `wanted` matching frames at its end (the first
        screen of a filter over an hour's journal, found by scanning backwards until `deadline`, a
        `time.perf_counter()` value, at the latest), and the indices from there to the journal's end
        that pass `query`, ascending
        (None without a query: every frame passes), for `catch_up(matches=…)` to take them without
        matching each frame a second time (a sparse filter's scan is the whole of its time).
        `lower`: no frame before it is looked at (a view that has taken them in already: `behind`);
        the floor by default."""
        journal, floor = self.journal, self.floor if lower is None else max(self.floor, lower)
        if query is None or query.is_empty:
            return max(floor, len(journal) - wanted), None
        found: list[int] = []
        match = query.match_index
        candidates = query.candidates(floor, len(journal))
        if candidates is not None:
            # The journal's columns said where the frames that may pass are (an item's, the
            # errors): all of them are asked, for the whole view at once, unless that runs late.
            for position in range(len(candidates) - 1, -1, -1):
                index = candidates[position]
                if match(index):
                    found.append(index)
                if position % 256 == 0 and position and time.perf_counter() > deadline:
                    found.reverse()
                    return index, found
            found.reverse()
            return floor, found
        index = len(journal) - 1
        while index >= floor:
            if match(index):
                found.append(index)
                if len(found) >= wanted:
                    break
            if index % 1024 == 0 and time.perf_counter() > deadline:
                break
            index -= 1
        found.reverse()
        return max(index, floor), found

    def set_query(self, query: Query | None) -> None:
        """Show only frames that pass `query` (None: every frame); rebuilds the rows."""
        self.query = None if query is None or query.is_empty else query
        self.rebuild()

    def clear(self) -> None:
        """Hide everything journaled so far (new frames keep coming in)."""
        self.floor = len(self.journal)
        self.rebuild()

    def unclear(self) -> None:
        """Show the frames a clear hid again (the journal kept them)."""
        self.floor = 0
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute every row from the journal."""
        self.rows = []
        self.indices = array("q")
        self._open = {}
        self.start = self._seen = self.floor
        self._known = None
        self._expanded = 0
        self._offsets = []
        self._offsets_valid = 0
        self.generation += 1
        self.catch_up()

    def expect_matches(self, start: int, end: int, matches: list[int]) -> None:
        """The indices from `start` to `end` that pass the query are `matches` (a first screen's
        scan found them): `catch_up` takes them as found when it gets there, not matching again."""
        self._known = (start, end, matches)

    def catch_up(self, limit: int | None = None, *, matches: list[int] | None = None) -> int:
        """Take in frames journaled since the last call (at most `limit` of them, to build a big
        view in slices); returns how many passed the filter. `matches`: the indices from here to
        the journal's end that pass it, ascending, known already (`tail_matches`): not matched again."""
        journal, query = self.journal, self.query
        seen = self._seen
        self.grown = grown = set()
        end = len(journal) if limit is None else min(len(journal), seen + limit)
        match = query.match_index if query is not None and matches is None else None
        candidates: Iterable[int] = range(seen, end)
        if matches is not None:
            candidates = [i for i in matches if seen <= i < end]
        elif self._known is not None and match is not None:
            low, high, found = self._known
            if end >= high:
                self._known = None
            if seen < high and end > low:
                # The frames a first screen's scan matched are taken as found; the rest are matched.
                middle = [i for i in found if max(seen, low) <= i < min(end, high)]
                candidates = chain(range(seen, min(end, low)), middle, range(max(seen, high), end))
                base = match
                match = lambda index: low <= index < high or base(index)  # noqa: E731
        indices, rows, opened = self.indices, self.rows, self._open
        added = 0
        for index in candidates:
            if match is not None and not match(index):
                continue
            added += 1
            indices.append(index)
            key = run_key_at(journal, index)
            if key is None:
                if journal._names[journal._type[index]] not in PASSING_TYPES:
                    opened.clear()
                rows.append(Row(len(rows), array("q", (index,))))
                continue
            row = opened.get(key)
            if row is None:
                row = opened[key] = Row(len(rows), array("q", (index,)), key)
                rows.append(row)
            else:
                row.members.append(index)
                grown.add(row.position)
                if row.expanded:
                    self._invalidate(row.position)
        self._seen = end
        return added

    @property
    def behind(self) -> int:
        """Journaled frames not looked at yet (a session's log while another session is shown)."""
        return len(self.journal) - self._seen

    @property
    def seen(self) -> int:
        """The journal index up to which frames have been looked at."""
        return self._seen

    @property
    def complete(self) -> bool:
        """True once every journaled frame has been looked at."""
        return self._seen >= len(self.journal)

    @property
    def progress(self) -> float:
        """How far a slice-by-slice build has come, 0 to 1."""
        total = len(self.journal) - self.floor
        return 1.0 if total <= 0 else (self._seen - self.floor) / total

    # -- new frames -------------------------------------------------------------------------

    def mark(self) -> Mark:
        """Where the view stands now: the frames taken in after it are new (`new_below`)."""
        return Mark(self._seen, len(self.rows), tuple(row.position for row in self._open.values()), self.generation)

    def new_below(self, line: int, mark: Mark) -> int:
        """Frames shown on screen lines after `line` (the last one on screen) that the view took in
        after `mark`: what a user who stopped following has not seen yet. A new frame in a
        collapsed run on screen is on screen (the run's line says it); in an expanded one, on its
        own line. Asked for every batch of frames: the common case (the screen above every new row)
        is a few bisections; with new rows on screen, a sum over the shorter side of the screen."""
        total = len(self.indices) - bisect.bisect_left(self.indices, mark.index)
        if not total or line < 0:
            return total
        here = self.line(line)
        if here is None:
            return 0  # past the view's last line: every frame is on screen or above it
        row = here.row
        new_in_row = self._new_in(row, mark)
        # A collapsed row's frames are all on its line; an expanded one's, each on its own line.
        shown_in_row = new_in_row if not row.expanded else max(0, here.member + 1 - (row.count - new_in_row))
        position = row.position
        if position - mark.row <= len(self.rows) - position:
            return total - self._new_in_rows(0, position, mark) - shown_in_row
        return self._new_in_rows(position + 1, len(self.rows), mark) + new_in_row - shown_in_row

    @staticmethod
    def _new_in(row: Row, mark: Mark) -> int:
        """The frames of `row` taken in after `mark` (its last ones: members ascend)."""
        return row.count - bisect.bisect_left(row.members, mark.index)

    def _new_in_rows(self, start: int, end: int, mark: Mark) -> int:
        """The frames taken in after `mark` held by the rows from position `start` to `end`: every
        frame of a row made since, and those the runs open then gained."""
        rows = self.rows
        older = sum(self._new_in(rows[p], mark) for p in mark.open_rows if start <= p < end and p < len(rows))
        return older + sum(len(row.members) for row in rows[max(start, mark.row) : end])

    # -- lines ------------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Screen lines the whole view takes."""
        if not self._expanded:
            return len(self.rows)
        self._refresh_offsets()
        return (self._offsets[-1] + self.rows[-1].lines) if self.rows else 0

    def line(self, y: int) -> Line | None:
        """What screen line `y` shows, or None past the end."""
        if y < 0:
            return None
        if not self._expanded:
            return Line(self.rows[y], -1) if y < len(self.rows) else None
        self._refresh_offsets()
        position = bisect.bisect_right(self._offsets, y) - 1
        if position < 0 or position >= len(self.rows):
            return None
        row = self.rows[position]
        within = y - self._offsets[position]
        if within >= row.lines:
            return None
        return Line(row, within - 1)

    def line_of(self, row: Row, member: int = -1) -> int:
        """The screen line of a row (member -1) or of one of its frames (an expanded row)."""
        if not self._expanded:
            return row.position
        self._refresh_offsets()
        return self._offsets[row.position] + (member + 1 if row.expanded and member >= 0 else 0)

    def set_expanded(self, row: Row, expanded: bool) -> None:
        """Expand a run to one line per frame, or collapse it back to one line."""
        if not row.is_run or row.count == 1 or row.expanded == expanded:
            return
        row.expanded = expanded
        self._expanded += 1 if expanded else -1
        self._invalidate(row.position)

    def _invalidate(self, position: int) -> None:
        self._offsets_valid = min(self._offsets_valid, position)

    def _refresh_offsets(self) -> None:
        rows = self.rows
        if self._offsets_valid >= len(rows) and len(self._offsets) == len(rows):
            return
        start = min(self._offsets_valid, len(self._offsets))
        del self._offsets[start:]
        base = (self._offsets[-1] + rows[start - 1].lines) if start else 0
        self._offsets.extend(
            accumulate((row.lines for row in rows[start:-1]), initial=base) if start < len(rows) else ()
        )
        self._offsets_valid = len(rows)

    # -- finding ----------------------------------------------------------------------------

    def locate(self, index: int) -> Line | None:
        """The row (and member) that holds journal frame `index`, or None when it is not shown."""
        rows = self.rows
        position = bisect.bisect_right(rows, index, key=lambda row: row.first) - 1
        lookback = max(-1, position - MAX_OPEN_LOOKBACK)
        for candidate in range(position, lookback, -1):
            found = _line_in(rows[candidate], index)
            if found is not None:
                return found
        at = bisect.bisect_left(self.indices, index)
        if lookback < 0 or at == len(self.indices) or self.indices[at] != index:
            return None  # not shown
        # Shown, in a run older than the rows looked at: a filter that hides what closes runs
        # (`is:delta`: the appends' run stays open past every reply's) lets one span any number
        # of rows. Rare, and the older rows are searched once, newest first.
        for candidate in range(lookback, -1, -1):
            found = _line_in(rows[candidate], index)
            if found is not None:
                return found
        return None

    def arrived_in_run(self, row: Row) -> bool:
        """Whether `row`'s first frame came while a run on a row above it was still streaming: a
        frame that passes through a run without ending it (`rate_limits.updated`, a local fact, our
        appends beside a reply) is shown after the run's row, where rows begin, so its time reads
        earlier than the run's last frames (a reviewer read the expanded run's times as going back).
        The runs still open are looked at, and the rows above up to `RUN_LOOKBACK` for the runs that
        have ended: rows come between a run's first and last frames only while it is open, and runs
        open beside one another are few."""
        rows, first = self.rows, row.first
        for position in range(row.position - 1, max(-1, row.position - 1 - RUN_LOOKBACK), -1):
            earlier = rows[position]
            if earlier.count > 1 and earlier.last > first:
                return True
        # A run still open can be any number of rows above (a filter hiding what ends runs keeps the
        # appends' run open past every reply): those few are looked at whatever their distance.
        return any(run.position < row.position and run.last > first for run in self._open.values())

    def previous_index(self, index: int) -> int | None:
        """The shown frame just before journal frame `index` (for Δt), or None."""
        position = bisect.bisect_left(self.indices, index)
        return self.indices[position - 1] if position > 0 else None

    def previous_of_line(self, line: Line) -> int | None:
        """The frame a line's Δt counts from: for a frame of an expanded run after its first, the
        run's frame on the line above it; else the shown frame just before it. A run's frames
        interleave with another run's (a reply's transcript deltas with its audio deltas): counted
        from the frame before in the journal, its transcription deltas read `+0`, `+15ms`, `+0`
        where they came 21 ms apart."""
        member, row = line.member, line.row
        if member > 0 and row.expanded:
            return row.members[member - 1]
        return self.previous_index(line.frame_index)

    def next_shown(self, index: int, *, forward: bool = True) -> int | None:
        """The position in `indices` to start a search after (or before) frame `index`."""
        if forward:
            position = bisect.bisect_right(self.indices, index)
            return position if position < len(self.indices) else None
        position = bisect.bisect_left(self.indices, index) - 1
        return position if position >= 0 else None

    @property
    def shown(self) -> int:
        """Frames the view shows."""
        return len(self.indices)

    @property
    def in_range(self) -> int:
        """Frames journaled since the floor (what a clear left in view)."""
        return len(self.journal) - self.floor
