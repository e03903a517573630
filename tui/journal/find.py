"""Find in the event log: a word, a phrase or a /regex/ over the frames the view shows.

Searches the same text the filter's free words look in (the wire text, audio payloads left out),
so a word inside a collapsed run is found, and the caller expands the run to show it. Streamed
text (a transcript's deltas, a reply's text, a call's arguments) is also searched as the stream
says it: a phrase the server sent in two deltas (`in the` then ` kitchen`, as it streams word by
word) is found in the delta that completes it, where it first appeared, not only in the `.done`
frame that repeats the whole text. A /regex/
gives up on a frame that takes it too long (see `query.UserPattern`): it then finds nothing more,
and :attr:`Finder.problem` says why. Given the journal, a new Finder tries its regex on the newest
frames first and refuses one that gives up there, as a filter does.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from tui.protocol import to_ga

from .logview import LogView
from .query import REGEX_FLAGS, QueryError, compile_pattern, literal_pattern, probe_newest
from .store import Journal

STEP = 2048
"""Frames searched between two looks at the clock (`Finder.advance`)."""

STREAMED_TEXT = frozenset(
    {
        "response.output_text.delta",
        "response.output_audio_transcript.delta",
        "response.function_call_arguments.delta",
        "conversation.item.input_audio_transcription.delta",
    }
)
"""The deltas (GA names; beta's are read as theirs) whose `delta` text continues the text of the
ones before in their stream."""

CARRY = 200
"""Characters of a stream's earlier text a match found in a delta may begin in: a phrase longer
than that, split between deltas, is found only in the frames that hold it whole."""

StreamKey = tuple[int, int]
"""A stream of deltas: its type's and its item's codes in the journal's columns."""


class Finder:
    """A compiled search pattern over a view's frames.

    The frames are searched from the view's first, once each, and the hits kept: `advance` searches
    some more until a deadline (a find over an hour's journal takes a few hundred milliseconds, so
    the log searches in slices and the screen never waits for it), `find_known` answers from what
    was searched so far when it can, and `find`, `count`, `position` search to the end first.
    """

    def __init__(self, text: str, journal: Journal | None = None) -> None:
        """QueryError for a malformed pattern, or (`journal` given) a regex that takes too long
        over its newest frames: the find bar then says why instead of finding nothing."""
        self.text = text.strip()
        if not self.text:
            raise QueryError("nothing to find")
        self.quoted = len(self.text) > 2 and self.text[0] == self.text[-1] == '"' and '"' not in self.text[1:-1]
        """Whether the text is a `"phrase"` in quotes, found as the phrase (as the filter takes it, and the
        find bar's help offers it); text with other quotes in it (`"type":"error"`, a frame's JSON)
        is found as it is typed."""
        end = self.text.rfind("/")
        flags = self.text[end + 1 :]
        # A /regex/ ends at its last slash, flags (i, s) aside; any other text after it makes the
        # whole a path to find as it is (`/v1/realtime`, in a connection's URL), as is `//` (in
        # every URL), and so does a pattern in quotes (`"/kit/"`: a phrase, see `quoted`).
        if self.text.startswith("/") and end > 1 and set(flags) <= set(REGEX_FLAGS):
            self.pattern = compile_pattern(self.text[1:end], flags or "i")
            if journal is not None:
                self._probe(journal)
        else:
            self.pattern = literal_pattern(self.text[1:-1] if self.quoted else self.text)
        self._indices: object = None
        """The view's index list the hits were found in."""
        self._scanned = 0
        """How many of its indices were searched."""
        self._hits: list[int] = []
        self._tests: dict[int, tuple[Journal, Callable[[int], bool]]] = {}
        """Per journal (the proxy shows several), its `text_test` of the pattern."""
        self._streams: dict[StreamKey, str] = {}
        """The last `CARRY` characters of each stream of deltas read so far (`_across_deltas`)."""
        self._read_to = 0
        """The journal index the streams were read up to (all their deltas, shown or not)."""
        self._stream_codes: tuple[int, int, frozenset[int]] = (0, 0, frozenset())
        """(the journal's id, how many types it had, the codes of the streamed text's types among them)."""
        self._across: dict[int, str] = {}
        """The hits found only across deltas: each delta's text that ends the match (its highlight)."""

    def _probe(self, journal: Journal) -> None:
        pattern = self.pattern
        probe_newest(len(journal), lambda index: pattern.search(journal.search_text(index)), lambda: pattern.problem)

    def find(self, view: LogView, after: int | None, *, forward: bool = True) -> int | None:
        """The journal index of the next (or previous) shown frame holding the pattern.

        `after` is the journal index to start from (None: the first or last match);
        the search wraps around once.
        """
        hits = self.hits(view)
        if not hits:
            return None
        if after is None:
            return hits[0] if forward else hits[-1]
        if forward:
            return hits[bisect_right(hits, after) % len(hits)]
        return hits[bisect_left(hits, after) - 1]  # -1: wrapped round to the last

    def count(self, view: LogView) -> int:
        """How many shown frames hold the pattern."""
        return len(self.hits(view))

    def position(self, view: LogView, index: int) -> int | None:
        """Which match (1-based, in log order) frame `index` is, or None if it is not one."""
        hits = self.hits(view)
        at = bisect_left(hits, index)
        return at + 1 if at < len(hits) and hits[at] == index else None

    def hits(self, view: LogView) -> list[int]:
        """The journal indices of the shown frames holding the pattern, in order (all searched).

        Each frame is searched once: the view's index list only grows until it is rebuilt (a new
        filter, a clear), which makes it a new list, and the search starts again.
        """
        self.advance(view)
        return self._hits

    def advance(self, view: LogView, deadline: float | None = None) -> bool:
        """Search the view's frames not searched yet, until `deadline` (a `time.perf_counter()`
        value; one step of :data:`STEP` frames at least) or all of them; True once all are."""
        indices = view.indices
        if indices is not self._indices:
            self._indices, self._scanned, self._hits = indices, 0, []
            self._streams, self._read_to, self._across = {}, 0, {}
        if self._scanned < len(indices):
            journal = view.journal
            test = self._tests.get(id(journal))
            if test is None or test[0] is not journal:
                test = self._tests[id(journal)] = (journal, journal.text_test(self.pattern.search))
            holds, hits = test[1], self._hits
            while self._scanned < len(indices):
                stop = len(indices) if deadline is None else min(len(indices), self._scanned + STEP)
                chunk = indices[self._scanned : stop]
                found = [index for index in chunk if holds(index)]
                across = self._across_deltas(journal, chunk)
                if across:
                    found = sorted(set(found).union(across))
                hits += found
                self._scanned = stop
                if deadline is not None and time.perf_counter() >= deadline:
                    break
        return self._scanned >= len(indices)

    def _across_deltas(self, journal: Journal, chunk: Sequence[int]) -> list[int]:
        """The frames of `chunk` (shown, in order) where a match begins in their stream's earlier
        deltas and ends in theirs. Every delta of the journal up to the chunk's last is read, shown
        or not (from `STEP` frames before the view's first): the stream's text is what the server
        sent, whatever the view leaves out."""
        if not chunk:
            return []
        # A view's first frames: their streams' earlier deltas are read from a step before them.
        start, end = self._read_to or max(0, chunk[0] - STEP), chunk[-1] + 1
        self._read_to = max(self._read_to, end)
        codes = self._codes_of_streams(journal)
        if not codes or start >= end:
            return []
        deltas = journal.positions("type", codes, start, end, limit=end - start)
        if not deltas:
            return []
        shown = set(chunk)
        streams, pattern, found = self._streams, self.pattern, []
        for index in deltas:
            piece = journal.streamed_piece(index)
            if piece is None:
                continue
            key, delta = piece
            before = streams.get(key, "")
            if before and index in shown:
                taken = pattern.across(before, delta)
                if taken is not None:
                    found.append(index)
                    self._across[index] = delta[:taken]
            streams[key] = (before + delta)[-CARRY:]
        return found

    def _codes_of_streams(self, journal: Journal) -> frozenset[int]:
        """The type codes of the journal's streamed-text deltas (found again when a type is new)."""
        types = journal.type_codes
        of, known, codes = self._stream_codes
        if of != id(journal) or known != len(types):
            codes = frozenset(code for name, code in types.items() if to_ga(name) in STREAMED_TEXT)
            self._stream_codes = (id(journal), len(types), codes)
        return codes

    def across(self, index: int) -> str | None:
        """For a match found only across deltas (see the module doc), the text of frame `index`'s
        delta that ends it (its highlight in the row); None for any other frame."""
        return self._across.get(index)

    def searched(self, view: LogView) -> bool:
        """Whether every frame the view shows now has been searched."""
        return view.indices is self._indices and self._scanned >= len(view.indices)

    def find_known(self, view: LogView, after: int | None, *, forward: bool = True) -> tuple[int | None, bool]:
        """`find` from what is searched so far (call `advance` first): (the match, True) when the
        frames searched decide it, (None, True) when all are searched and none holds the pattern,
        (None, False) when the answer lies in frames not searched yet."""
        if view.indices is not self._indices:
            return None, False
        hits, indices = self._hits, self._indices
        complete = self._scanned >= len(indices)
        if forward:
            at = 0 if after is None else bisect_right(hits, after)
            if at < len(hits):
                return hits[at], True  # searched from the first frame on: nothing comes between
            return (hits[0] if hits and complete else None), complete  # wrapped round, or none at all
        # Backwards: every frame before `after` must be searched (all of them for the last match).
        if not complete and (after is None or indices[self._scanned] < after):
            return None, False
        at = len(hits) if after is None else bisect_left(hits, after)
        if at > 0:
            return hits[at - 1], True
        return (hits[-1] if hits and complete else None), complete

    def known_position(self, index: int) -> int | None:
        """Which match frame `index` is (1-based), from the frames searched so far (all before a
        match found by `find_known` are)."""
        at = bisect_left(self._hits, index)
        return at + 1 if at < len(self._hits) and self._hits[at] == index else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the pattern occurs in a rendered line (for highlighting)."""
        return self.pattern.spans(text)

    @property
    def problem(self) -> str | None:
        """Why the pattern gave up on a frame (it finds nothing more), or None."""
        return self.pattern.problem
