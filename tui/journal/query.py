"""The event-log filter language: field-aware predicates over journal frames.

    type:response.* dir:in          frames whose type matches the glob, received
    -type:*.delta                   anything but deltas
    item:item_abc | response:resp_1 a `|` (or `OR`) between alternatives; juxtaposition (or `AND`)
                                    is all of them; `NOT` is `-`
    for:item_abc                    an item's (or a response's) frames and the frames we sent that made it
    response.status!=completed      a JSON path into the frame; `:`/`=` match (glob), `!=`, `~` (regex),
                                    `>` `<` `>=` `<=` (numbers); the path must exist for any of them
    error                           errors and failures (`is:error`): error frames, a response.done
                                    failed or incomplete (not one a barge-in cancelled);
                                    `is:unknown`, `is:linked`, `is:dropped`
    kitchen  "two words"  /kit.h/i  free text (case-insensitive) or a regex over the frame's text
    fam:transcription  size>4k  seq:120..200  event:evt_123  ( … )

Shortcut fields read the journal's metadata, so most filters never parse a frame; JSON paths parse
only frames whose wire text holds the path's last key. A query that names rare types, an item, a
response or errors knows its candidates from the journal's columns (`Query.candidates`, a C scan
per code) and asks only those frames: an item's frames an hour back are found in milliseconds.
Every malformed query raises :class:`QueryError` with one line fit for the filter bar.

A user's regex is run by the `regex` package, never by `re`: `re` backtracks for ever on a pattern
like /(\\w+\\s?)+!$/ over a long transcript, holding the GIL, and the app froze for good. Each search
of one frame's text gives up after :data:`SEARCH_TIMEOUT`, and a pattern that reads frames far
slower than any sane one (:data:`MIN_SPEED`) is given up too; a query is tried on the newest frames
when it is made, so such a pattern is refused with a reason (in the bar, the filter in force stays).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from tui.protocol import Direction, to_beta, to_ga

from .families import Family, family_of
from .links import Links, response_failed
from .store import Frame, Journal
from .type_names import spellings


class QueryError(ValueError):
    """A query that cannot be understood; the message is one line."""


SEARCH_TIMEOUT = 0.1
"""Seconds one search of a user's regex over one frame's text may take. A sane pattern takes
microseconds over the longest transcript; one that needs more is backtracking its way to hours."""

MIN_SPEED = 2_000_000
"""Characters a second a user's regex must read once it has run :data:`SLOW_AFTER` seconds. Sane
patterns read 30-80 MB/s of an hour's transcripts; /(\\w+\\s?)+\\d$/ reads 60 KB/s and never times
out on one frame, yet would take five minutes over the hour, 30 s per slice of the filter's build."""

SLOW_AFTER = 0.015
"""Seconds of searching before a pattern's speed is judged (a few frames prove nothing)."""

_CALL_CHARS = 64
"""Characters a search is credited beyond its text's: a search's fixed cost over a short text is
no slowness of the pattern."""

CANDIDATE_LIMIT = 20_000
"""Candidates a query takes from the journal's columns at most; a query that passes more frames
(every response event, every delta) asks frame by frame: its first screen is near the end anyway."""

DENSE_SHARE = 1 / 16
"""A pure query whose types are more than this share of the newest frames asks frame by frame:
scanning the columns for its types would collect thousands, and its first screen is near."""

Candidates = Callable[[int, int], "list[int] | None"]
"""The indices from `start` to `end` that may pass a term, ascending (a superset: each is still
asked), or None when the term cannot narrow them down."""

MAX_NESTING = 64
"""Groups a query may nest: deeper is no query anyone types (a paste gone wrong), and the parser,
which recurses once per group, would overflow Python's stack near 330 (a RecursionError, which
no filter bar catches: the app stopped)."""

PROBE_SECONDS = 0.05
"""How long a new query with a regex is tried on the newest frames (the filter's first screen
reads them first): long enough to meet a transcript, short enough to run on each keystroke."""


def probe_newest(count: int, test: Callable[[int], object], problem: Callable[[], str | None]) -> None:
    """Run `test` over frames `count - 1` down to 0 for :data:`PROBE_SECONDS` at most; QueryError
    with the reason as soon as `problem` says a regex gave up (a filter's or a find's check)."""
    deadline = time.perf_counter() + PROBE_SECONDS
    for index in range(count - 1, -1, -1):
        test(index)
        said = problem()
        if said is not None:
            raise QueryError(said)
        if time.perf_counter() > deadline:
            return


_GAVE_UP = object()
"""What a search that timed out returns (its pattern is spent)."""


class UserPattern:
    """A user's compiled regex whose every search is bounded by :data:`SEARCH_TIMEOUT`, and
    which must read at :data:`MIN_SPEED` at least.

    After a timeout, or once it proves slower, the pattern is spent: every later search fails at
    once (an hour's journal would otherwise cost a timeout per frame) and :attr:`problem` says
    why in one line.
    """

    def __init__(self, source: str, compiled: Any) -> None:
        self.source = source
        """The pattern as typed (between the slashes)."""
        self.literal_length: int | None = None
        """For a literal (`literal_pattern`), its length in characters."""
        self._compiled = compiled
        self.problem: str | None = None
        """Set when the pattern is given up: "this pattern takes too long: …"."""
        self._seconds = 0.0
        self._chars = 0
        self._longest = 0.0
        """The longest search, left out of the speed: the process may have been preempted in it."""

    def search(self, text: str) -> bool:
        """Whether the pattern occurs in `text` (False once spent)."""
        if self.problem is not None:
            return False
        found = self._timed(lambda: self._compiled.search(text, timeout=SEARCH_TIMEOUT), len(text), "frame")
        return found is not None and found is not _GAVE_UP

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the pattern occurs in `text`, empty matches left out ([] once spent)."""
        if self.problem is not None:
            return []

        def every() -> list[tuple[int, int]]:
            return [m.span() for m in self._compiled.finditer(text, timeout=SEARCH_TIMEOUT) if m.end() > m.start()]

        found = self._timed(every, len(text), "line")
        return [] if found is _GAVE_UP else cast("list[tuple[int, int]]", found)

    def across(self, before: str, text: str) -> int | None:
        """How many of `text`'s first characters a match that begins in `before` (the text that
        came right before it) takes, or None when no match runs from one into the other: a phrase
        split between two deltas of a stream. Matches may overlap (`aa` over `a` then `aa`)."""
        if self.problem is not None or not before:
            return None
        length = self.literal_length
        if length is not None:
            # A literal of n characters that crosses lies in the n - 1 on either side: one search
            # of that window (a match there always crosses), never long enough to need a bound.
            if length < 2:
                return None
            window = before[1 - length :]
            match = self._compiled.search(window + text[: length - 1])
            return None if match is None else int(match.end() - len(window))
        joined, cut = before + text, len(before)

        def crossing() -> int | None:
            for match in self._compiled.finditer(joined, overlapped=True, timeout=SEARCH_TIMEOUT):
                if match.start() < cut < match.end():
                    return int(match.end() - cut)
            return None

        found = self._timed(crossing, len(joined), "frame")
        return None if found is _GAVE_UP else cast("int | None", found)

    def _timed(self, search: Callable[[], object], length: int, what: str) -> object:
        """Run one search, timed and bounded; `_GAVE_UP` when it timed out (the pattern is spent)."""
        run = self._run(search, what)
        if run is None:
            return _GAVE_UP
        found, took = run
        if self._slow(took, length):
            # One search this slow is either the pattern or the process held off the CPU during it;
            # the speed rule leaves the longest search out for that reason, so a pattern that takes
            # 90 ms a transcript was judged only after a second one (a filter's first-screen probe
            # lasts 50 ms: it let it through). A second run of the same search tells the two apart.
            again = self._run(search, what)
            if again is None:
                return _GAVE_UP
            took = again[1]  # the first run may have been held off the CPU: the second is its time
            if self._slow(took, length):
                self._spend(f"reads frames at {(length + _CALL_CHARS) / took / 1000:,.0f} KB/s")
                return found
        self._account(took, length)
        return found

    def _run(self, search: Callable[[], object], what: str) -> tuple[object, float] | None:
        """What one search found and how long it took; None (the pattern spent) when it timed out."""
        started = time.perf_counter()
        try:
            found = search()
        except TimeoutError:
            self._spend(f"gave up after {SEARCH_TIMEOUT:g} s on one {what}")
            return None
        return found, time.perf_counter() - started

    @staticmethod
    def _slow(took: float, length: int) -> bool:
        """Whether one search of `length` characters that took `took` seconds is below MIN_SPEED
        (long enough to tell: at least SLOW_AFTER)."""
        return took >= SLOW_AFTER and length + _CALL_CHARS < MIN_SPEED * took

    def _account(self, took: float, length: int) -> None:
        self._seconds += took
        self._longest = max(self._longest, took)
        self._chars += length + _CALL_CHARS
        seconds = self._seconds - self._longest
        if seconds >= SLOW_AFTER and self._chars < MIN_SPEED * seconds:
            self._spend(f"reads frames at {self._chars / self._seconds / 1000:,.0f} KB/s")

    def _spend(self, why: str) -> None:
        shown = _shown(self.source)
        self.problem = f"this pattern takes too long: /{shown}/ {why} (nested repeats like (a+)+ backtrack)"


Predicate = Callable[[Frame], bool]


def _EVERY(frame: Frame) -> bool:
    """The empty query's test."""
    return True


@dataclass(slots=True)
class _Node:
    test: Predicate
    cost: int
    """0: metadata only, 1: the frame's text, 2: the parsed frame."""
    pure: bool = False
    """Depends on the frame's type and direction only: answered once per (type, direction)."""
    pure_part: Predicate | None = None
    """For an AND of pure and other terms: the pure terms together (checked first)."""
    rest_part: Predicate | None = None
    """...and the other terms together."""
    candidates: Candidates | None = None
    """Where the frames that may pass are, read from the journal's columns (see `Candidates`)."""


class _TypeProbe:
    """What a pure test reads of a frame (type, direction, family), for a type no frame need have:
    which types a pure term passes is asked of their names, once each, not of the frames."""

    __slots__ = ("direction", "family", "type")

    def __init__(self, event_type: str, direction: Direction) -> None:
        self.type = event_type
        self.direction = direction
        self.family = family_of(event_type)


def _pure_candidates(journal: Journal, test: Predicate) -> Candidates:
    """The frames of the types a pure test passes (in any direction: the test still decides)."""
    answers: dict[str, bool] = {}

    def candidates(start: int, end: int) -> list[int] | None:
        codes = []
        for name, code in journal.type_codes.items():
            answer = answers.get(name)
            if answer is None:
                probes = (cast(Frame, _TypeProbe(name, direction)) for direction in Direction)
                answer = answers[name] = any(test(probe) for probe in probes)
            if answer:
                codes.append(code)
        if journal.type_share(set(codes), end) > DENSE_SHARE:
            return None  # most frames pass: asking each one is as quick, and the first screen is near
        return journal.positions("type", codes, start, end, CANDIDATE_LIMIT)

    return candidates


def _id_candidates(journal: Journal, column: str, value: str) -> Candidates:
    """The frames whose `column` ("item" or "response") names `value`."""

    def candidates(start: int, end: int) -> list[int] | None:
        code = journal.code_of(value)
        return [] if code is None else journal.positions(column, (code,), start, end, CANDIDATE_LIMIT)

    return candidates


def _fewest(parts: Iterable[list[int] | None]) -> list[int] | None:
    """The shortest of `parts` that is not None (None when all are)."""
    known = [part for part in parts if part is not None]
    return min(known, key=len) if known else None


def _union(parts: Iterable[list[int] | None]) -> list[int] | None:
    """Every index of `parts`, ascending and once; None when one of them is None (anything)."""
    found: set[int] = set()
    for part in parts:
        if part is None:
            return None
        found.update(part)
        if len(found) > CANDIDATE_LIMIT:
            return None
    return sorted(found)


def _column_memo(journal: Journal, test: Predicate) -> Callable[[int], bool]:
    """A pure test asked once per (type, direction), read from the journal's columns: a filter
    over an hour's journal then makes a Frame only for the frames whose type could pass."""
    answers: dict[tuple[int, int], bool] = {}
    types, directions = journal._type, journal._dir

    def check(index: int) -> bool:
        key = (types[index], directions[index])
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = test(Frame(journal, index))
        return answer

    return check


class Query:
    """A compiled filter. `Query("")` matches every frame."""

    def __init__(self, text: str, journal: Journal, links: Links | None = None, *, probe: bool = True) -> None:
        """Parse `text` (QueryError, one line, when it is malformed); with `probe`, a regex in it is
        tried on the newest frames first (`_probe`)."""
        self.text = text.strip()
        self._journal = journal
        self._links = links
        self._tokens = _tokenize(self.text)
        self._pos = 0
        self._depth = 0
        """Groups open at the parser's position (a `)` outside any is said so, not "empty group")."""
        self._literal = False
        """Whether the value of the term being read was quoted (an id then matches as it is)."""
        self._patterns: list[UserPattern] = []
        """The query's regexes (`/…/` terms and `~` values), whose searches may give up."""
        self.operator_words: list[str] = []
        """Free words spelled like an operator but not in capitals (`and`, `not`): searched as text,
        which a query that matches nothing says (`suggestion`)."""
        self.searched_texts: list[str] = []
        """The free text the query searches for, each as a regex (a word or phrase escaped): what
        the log highlights in the rows it shows (`highlight`)."""
        self.near_misses: list[tuple[str, str]] = []
        """Fields of the query that are no shortcut but spelled like one (`typ` → `type`): a query
        that matches nothing says so (`suggestion`); a frame field of that name is possible, so
        they are not refused."""
        self.alternatives: list[str] = []
        """`type:` values written as a choice (`(response.done|error)`), which no type's name is:
        a query that matches nothing says how to write it (`suggestion`)."""
        node = self._parse_or() if self._tokens else _Node(_EVERY, 0, True)
        if self._pos < len(self._tokens):
            if self._tokens[self._pos].kind == "close":
                raise QueryError("')' without '('")
            raise QueryError(f"unexpected {self._tokens[self._pos].text!r}")
        self._node = node
        if node.test is not _EVERY:
            node.candidates = self._candidates_of(node)
        # What decides by type and direction alone is asked of the columns, once per pair.
        self._prefilter: Callable[[int], bool] | None = None
        self._rest: Predicate | None = node.test
        if node.pure:
            self._prefilter, self._rest = _column_memo(journal, node.test), None
        elif node.pure_part is not None:
            self._prefilter, self._rest = _column_memo(journal, node.pure_part), node.rest_part
        if self._patterns and probe:
            self._probe()

    def _probe(self) -> None:
        """Try the query on the newest frames for :data:`PROBE_SECONDS`, as the filter's first
        screen will: a regex that gives up on one of them is refused here, where the filter bar
        (which validates by making the query) shows why and the filter in force stays."""
        probe_newest(len(self._journal), self.match_index, lambda: self.problem)

    @property
    def suggestion(self) -> str | None:
        """For a query that matches nothing: the shortcut a field of it was likely meant to be
        (`typ:response.*` → "typ: is read as a field of the frames; did you mean type:?"), or None."""
        if self.near_misses:
            typed, meant = self.near_misses[0]
            return f"{typed}: is read as a field of the frames; did you mean {meant}:?"
        if self.alternatives:
            value = self.alternatives[0]
            terms = " | ".join(f"type:{name}" for name in value.strip("()").split("|") if name)
            return f"type:{value} is one name, '|' and all; for either: {terms}"
        if self.operator_words:
            return f"{self.operator_words[0]!r} is a word here; {_OPERATOR_HINT}"
        return None

    @property
    def highlight(self) -> str | None:
        """The query's free text as one find pattern (`kitchen`, `/kit.h|two words/i`), for the log
        to show where each row matched, as a find does; None when it searches no text. A filter of
        `kitchen` listed rows such as `conversation.item.added  item_9p1c… us…`: nothing showed
        why they passed."""
        texts = self.searched_texts
        if not texts:
            return None
        if len(texts) == 1 and texts[0] == re.escape(texts[0]) and not texts[0].startswith("/"):
            return texts[0]  # a plain word: found as itself
        return "/" + "|".join(f"(?:{text})" for text in texts) + "/i"

    @property
    def problem(self) -> str | None:
        """Why a regex of this query gave up on a frame (it then matches nothing more), or None.
        The probe catches most such patterns; one that only a frame further back defeats is
        found while the view is built."""
        return next((p.problem for p in self._patterns if p.problem is not None), None)

    def candidates(self, start: int, end: int) -> list[int] | None:
        """The indices from `start` to `end` that may pass, ascending (each must still be asked:
        `match_index`), read from the journal's columns; None when the query cannot narrow them
        down (a free word, a JSON path, a type most frames have): every frame must be asked."""
        found = self._node.candidates
        return None if found is None else found(start, end)

    @property
    def is_empty(self) -> bool:
        """True for the query that matches everything."""
        return not self.text

    def match(self, frame: Frame) -> bool:
        """Whether `frame` passes the filter."""
        return self.match_index(frame.index)

    def match_index(self, index: int) -> bool:
        """Whether the journal's frame `index` passes the filter (no Frame made when its type says no)."""
        if self._prefilter is not None and not self._prefilter(index):
            return False
        return self._rest is None or self._rest(Frame(self._journal, index))

    # -- parser -----------------------------------------------------------------------------

    def _peek(self) -> _Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _parse_or(self) -> _Node:
        alternatives = [self._parse_and()]
        while (token := self._peek()) is not None and token.kind == "or":
            self._pos += 1
            if self._peek() is None or self._peek().kind in ("or", "and", "close"):  # type: ignore[union-attr]
                raise QueryError(f"{token.text!r} needs a term on both sides")  # `|` or `OR`, as typed
            alternatives.append(self._parse_and())
        if len(alternatives) == 1:
            return alternatives[0]
        tests = [node.test for node in alternatives]
        pure = all(n.pure for n in alternatives)
        node = _Node(lambda frame: any(test(frame) for test in tests), max(n.cost for n in alternatives), pure)
        parts = [self._candidates_of(alternative) for alternative in alternatives]
        if not pure and all(part is not None for part in parts):
            every = cast(list[Candidates], parts)
            node.candidates = lambda start, end: _union(part(start, end) for part in every)
        return node

    def _parse_and(self) -> _Node:
        first = self._peek()
        if first is not None and first.kind == "or":
            raise QueryError(f"{first.text!r} needs a term on both sides")
        if first is not None and first.kind == "and":
            raise QueryError(f"{first.text!r} needs a term on both sides")
        terms: list[_Node] = []
        while (token := self._peek()) is not None and token.kind not in ("or", "close"):
            if token.kind == "and":  # what juxtaposition says: a term must follow it
                self._pos += 1
                after = self._peek()
                if after is None or after.kind in ("or", "and", "close"):
                    raise QueryError(f"{token.text!r} needs a term on both sides")
                continue
            terms.append(self._parse_term())
        if not terms:
            if token is not None and token.kind == "close" and not self._depth:
                raise QueryError("')' without '('")  # `)` or `) dir:in`: no group was open
            raise QueryError("empty group")
        if len(terms) == 1:
            return terms[0]
        terms.sort(key=lambda node: node.cost)  # cheap tests first: most frames stop there
        tests = [node.test for node in terms]
        node = _Node(lambda frame: all(test(frame) for test in tests), terms[-1].cost, all(n.pure for n in terms))
        pure = [term.test for term in terms if term.pure]
        rest = [term.test for term in terms if not term.pure]
        if pure and rest:
            node.pure_part = pure[0] if len(pure) == 1 else (lambda frame: all(test(frame) for test in pure))
            node.rest_part = rest[0] if len(rest) == 1 else (lambda frame: all(test(frame) for test in rest))
        if not node.pure:
            # A frame must pass every term: any term's candidates will do; the fewest are asked.
            # The pure terms are asked of the types together (`pure_part`), the others each.
            parts = [self._candidates_of(term) for term in terms if not term.pure]
            if node.pure_part is not None:
                parts.append(_pure_candidates(self._journal, node.pure_part))
            narrowing = [part for part in parts if part is not None]
            if narrowing:
                node.candidates = lambda start, end: _fewest(part(start, end) for part in narrowing)
        return node

    def _candidates_of(self, node: _Node) -> Candidates | None:
        """Where the frames that may pass `node` are (its own, or those of the types it passes)."""
        if node.candidates is not None:
            return node.candidates
        if node.pure:
            return _pure_candidates(self._journal, node.test)
        return None

    def _parse_term(self) -> _Node:
        token = self._tokens[self._pos]
        self._pos += 1
        if token.kind == "not":
            if self._peek() is None or self._peek().kind in ("or", "and", "close"):  # type: ignore[union-attr]
                raise QueryError(f"{token.text!r} must be followed by a term")  # `-` or `NOT`, as typed
            inner = self._parse_term()
            return _Node(lambda frame: not inner.test(frame), inner.cost, inner.pure)
        if token.kind == "open":
            if self._peek() is None:
                raise QueryError("unclosed '('")  # before "empty group": the user has not finished
            if self._depth >= MAX_NESTING:
                raise QueryError(f"groups nested over {MAX_NESTING} deep")
            self._depth += 1
            node = self._parse_or()
            closing = self._peek()
            if closing is None or closing.kind != "close":
                raise QueryError("unclosed '('")
            self._pos += 1
            self._depth -= 1
            return node
        if token.kind == "close":
            raise QueryError("')' without '('")
        if token.kind == "regex":
            if not token.text:
                raise QueryError("// is an empty /regex/: put a pattern between the slashes")
            return self._text_regex(token.text, token.flags)
        if token.kind == "phrase":
            if not token.text:
                raise QueryError('"" is an empty phrase: put words between the quotes')
            return self._text_phrase(token.text)
        return self._word(token.text)

    # -- terms ------------------------------------------------------------------------------

    def _word(self, word: str) -> _Node:
        match = _FIELD_TERM.match(word)
        if match is None:
            if word.lower() in ("error", "errors"):
                return self._is("error")
            if word.upper() in _OPERATORS:
                self.operator_words.append(word)  # `and`, `Not`: a word searched for (see `suggestion`)
            return self._text_phrase(word)
        key, op, value = match.group("key"), match.group("op"), match.group("value")
        # A quoted id is the id itself: `term()` quotes the ids `o` puts in a filter, and a server
        # may name an item `it*` (a glob would take every item starting `it`).
        self._literal = len(value) >= 2 and value[0] == value[-1] == '"'
        value = _unquote(value)
        if value == "":
            raise QueryError(f"{key}{op} needs a value")
        shortcut = _SHORTCUTS.get(key.lower())
        if shortcut is not None:
            return shortcut(self, op, value)
        return self._path(key, op, value)

    def _text_phrase(self, phrase: str) -> _Node:
        self.searched_texts.append(re.escape(phrase))
        needle = re.compile(re.escape(phrase), re.IGNORECASE)
        test = self._journal.text_test(needle.search)
        return _Node(lambda frame: test(frame.index), 1)

    def _text_regex(self, pattern: str, flags: str) -> _Node:
        compiled = compile_pattern(pattern, flags)
        self.searched_texts.append(pattern)
        self._patterns.append(compiled)
        test = self._journal.text_test(compiled.search)
        return _Node(lambda frame: test(frame.index), 1)

    def _type(self, op: str, value: str) -> _Node:
        _only(op, "type", ":", "=", "!=")
        if value.startswith("…"):  # a name the log's column cut from the left (`…transcript.done`), typed back
            value = "*" + value[1:]
        if "|" in value and not self._literal and sum(1 for name in value.strip("()").split("|") if name) >= 2:
            self.alternatives.append(value)
        glob = any(c in value for c in "*?[")
        if glob:
            pattern = re.compile(fnmatch.translate(value))

            def test(frame: Frame) -> bool:
                return any(pattern.match(name) is not None for name in _spellings(frame.type))
        else:
            prefix = value.rstrip(".") + "."

            def test(frame: Frame) -> bool:
                return any(name == value or name.startswith(prefix) for name in _spellings(frame.type))

        return _negate_if(op, _Node(test, 0, True))

    def _dir(self, op: str, value: str) -> _Node:
        _only(op, "dir", ":", "=", "!=")
        direction = _DIRECTIONS.get(value.lower())
        if direction is None:
            raise QueryError(f"dir:{value}: expected in, out or local")
        return _negate_if(op, _Node(lambda frame: frame.direction is direction, 0, True))

    def _item(self, op: str, value: str) -> _Node:
        _only(op, "item", ":", "=", "!=")
        return _negate_if(op, self._id_node("item", value))

    def _id_node(self, column: str, value: str) -> _Node:
        """Frames naming `value` as their item or response (`column`): a glob unless quoted; an
        id itself is found in the journal's column."""
        node = _Node(_id_test(f"{column}_id", value, self._literal), 0)
        if self._literal or not any(c in value for c in "*?["):
            node.candidates = _id_candidates(self._journal, column, value)
        return node

    def _for(self, op: str, value: str) -> _Node:
        """`for:ID`: an item's or a response's frames and the frames we sent that made it (the
        appends and commit of a recorded turn, the item.create of a typed one, the response.create
        of a reply: `Links.made`). An item a response output (a reply) brings that response's
        frames and its response.create too: `for:ITEM` is what `o` on its row shows."""
        _only(op, "for", ":", "=")
        own_item = _id_test("item_id", value, self._literal)
        own_response = _id_test("response_id", value, self._literal)
        made = self._links.made if self._links is not None else {}
        response_of = self._links.response_of if self._links is not None else {}
        cached: dict[str, tuple[int, frozenset[int]]] = {}  # id → its made list's length, as a set

        def sent_for(made_id: str, index: int) -> bool:
            frames = made.get(made_id)
            if not frames:
                return False
            known = cached.get(made_id)
            if known is None or known[0] != len(frames):
                known = cached[made_id] = (len(frames), frozenset(frames))
            return index in known[1]

        def test(frame: Frame) -> bool:
            if own_item(frame) or own_response(frame):
                return True
            response = response_of.get(value)  # known once the reply begins: asked per frame
            if response is not None and frame.response_id == response:
                return True
            if frame.direction is not Direction.OUT:
                return False
            return sent_for(value, frame.index) or (response is not None and sent_for(response, frame.index))

        node = _Node(test, 0)
        if self._literal or not any(c in value for c in "*?["):
            journal = self._journal
            own = (_id_candidates(journal, "item", value), _id_candidates(journal, "response", value))

            def candidates(start: int, end: int) -> list[int] | None:
                response = response_of.get(value)
                theirs = _id_candidates(journal, "response", response)(start, end) if response else []
                sent = [
                    i for made_id in (value, response) if made_id for i in made.get(made_id, ()) if start <= i < end
                ]
                return _union([own[0](start, end), own[1](start, end), theirs, sent])

            node.candidates = candidates
        return node

    def _response(self, op: str, value: str) -> _Node:
        _only(op, "response", ":", "=", "!=")
        return _negate_if(op, self._id_node("response", value))

    def _family(self, op: str, value: str) -> _Node:
        _only(op, "family", ":", "=", "!=")
        matches = [family for family in Family if family.value.startswith(value.lower())]
        if len(matches) != 1:
            names = ", ".join(family.value for family in Family)
            raise QueryError(f"family:{value}: expected one of {names}")
        family = matches[0]
        return _negate_if(op, _Node(lambda frame: frame.family is family, 0, True))

    def _event(self, op: str, value: str) -> _Node:
        _only(op, "event", ":", "=", "!=")
        journal = self._journal

        def test(frame: Frame) -> bool:
            found = frame.event_id
            if found is not None:
                return found == value
            index = frame.index
            if journal.sent_id_is(index, value):
                return True  # an append we sent whose text left memory: its id's hash stayed
            # A received frame's id is in its text (not in `search_text`: an audio delta's is only
            # its type and ids).
            raw = frame.raw
            return raw is not None and value in raw and journal.data(index).get("event_id") == value

        return _negate_if(op, _Node(test, 1))

    def _number(self, name: str, getter: Callable[[Frame], float], op: str, value: str) -> _Node:
        if op in (":", "=") and ".." in value:
            low_text, _, high_text = value.partition("..")
            low = _parse_number(name, low_text) if low_text else float("-inf")
            high = _parse_number(name, high_text) if high_text else float("inf")
            if low > high:
                swapped = f"{name}:{high_text}..{low_text}"
                raise QueryError(f"{name}:{value}: the range is backwards (did you mean {swapped}?)")
            return _Node(lambda frame: low <= getter(frame) <= high, 0)
        number = _parse_number(name, value)
        compare = _COMPARE.get(op)
        if compare is None:
            raise QueryError(f"{name}{op}{value}: use {name}>N, {name}<N, {name}:N or {name}:A..B")
        return _Node(lambda frame: compare(getter(frame), number), 0)

    def _seq(self, op: str, value: str) -> _Node:
        node = self._number("seq", lambda frame: frame.seq, op, value)
        if op in (":", "=") and ".." not in value:
            # One frame's number (what `o` adds for a typed message's create): found in its column.
            number = _parse_number("seq", value)
            journal = self._journal

            def candidates(start: int, end: int) -> list[int] | None:
                if number != int(number):
                    return []
                return journal.positions("seq", (int(number),), start, end, CANDIDATE_LIMIT)

            node.candidates = candidates
        return node

    def _index(self, op: str, value: str) -> _Node:
        return self._number("index", lambda frame: frame.index, op, value)

    def _size(self, op: str, value: str) -> _Node:
        return self._number("size", lambda frame: frame.size, op, value)

    def _is(self, value: str, op: str = ":") -> _Node:
        _only(op, "is", ":", "=", "!=")
        links, journal = self._links, self._journal

        def is_error(frame: Frame) -> bool:
            if frame.family is Family.ERROR:
                return True
            if frame.type == "response.done":
                # Its status decides, not its link: a barge-in's cancel is linked (to the
                # response.cancel, or the create) and is no error (`response_failed`).
                data = journal.data(frame.index)
                if not data and links is not None:
                    return frame.index in links.failed_responses  # its payload left memory
                return response_failed(data.get("response"))
            return links is not None and frame.index in links.cause_of

        tests: dict[str, Predicate] = {
            "error": is_error,
            "unknown": lambda frame: frame.family is Family.UNKNOWN,
            "linked": lambda frame: (
                links is not None and (frame.index in links.cause_of or frame.index in links.effects_of)
            ),
            "dropped": lambda frame: frame.payload_dropped,
            "delta": lambda frame: frame.type.endswith(".delta") or frame.type == "input_audio_buffer.append",
        }
        test = tests.get(value.lower())
        if test is None:
            raise QueryError(f"is:{value}: expected one of {', '.join(tests)}")
        node = _Node(test, 0, value.lower() in ("unknown", "delta"))
        if value.lower() == "error":
            node.candidates = self._error_candidates
        elif value.lower() == "linked" and links is not None:
            linked = links

            def candidates(start: int, end: int) -> list[int] | None:
                return sorted({i for i in (*linked.cause_of, *linked.effects_of) if start <= i < end})

            node.candidates = candidates
        return _negate_if(op, node)

    def _error_candidates(self, start: int, end: int) -> list[int] | None:
        """`is:error`'s: the error family's frames, every `response.done` (its status decides) and
        every frame the links name an effect."""
        journal, links = self._journal, self._links
        types = journal.type_codes
        codes = [code for name, code in types.items() if name == "response.done" or family_of(name) is Family.ERROR]
        effects = [i for i in links.cause_of if start <= i < end] if links is not None else []
        return _union([journal.positions("type", codes, start, end, CANDIDATE_LIMIT), effects])

    def _is_shortcut(self, op: str, value: str) -> _Node:
        return self._is(value, op)

    def _path(self, key: str, op: str, value: str) -> _Node:
        if not _PATH.match(key):
            raise QueryError(f"{key!r} is not a field name (fields look like type, dir, item, response.status)")
        if "." not in key:
            close = difflib.get_close_matches(key.lower(), _SHORTCUTS, n=1, cutoff=0.7)
            # Two letters swapped (`dri`, `tpye`) read as far for a short name: 0.67 for `dri`.
            swapped = [name for name in _SHORTCUTS if len(name) >= 3 and _one_swap(name, key.lower())]
            if close or swapped:
                self.near_misses.append((key, (close or swapped)[0]))
        parts = key.split(".")
        last_key = f'"{parts[-1]}"'
        journal = self._journal
        compare = _value_test(key, op, value, self._patterns)

        def test(frame: Frame) -> bool:
            raw = frame.raw
            if raw is not None and last_key not in raw and not parts[-1].isdigit():
                return False  # the wire text does not even name the field: no parse needed
            found = _lookup(journal.data(frame.index), parts)
            return any(compare(v) for v in found)

        return _Node(test, 2)


# -- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    """word, phrase, regex, or, not, open, close."""
    text: str
    flags: str = ""


_FIELD_TERM = re.compile(r"^(?P<key>[A-Za-z_][\w.\-]*?)(?P<op>!=|>=|<=|[:=~<>])(?P<value>.*)$", re.DOTALL)
_PATH = re.compile(r"^[A-Za-z_][\w\-]*(\.[\w\-]+)*$")
_DIRECTIONS = {
    "in": Direction.IN,
    "received": Direction.IN,
    "recv": Direction.IN,
    "server": Direction.IN,
    "out": Direction.OUT,
    "sent": Direction.OUT,
    "client": Direction.OUT,
    "local": Direction.LOCAL,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ":": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_SUFFIXES = {"k": 1024, "kb": 1024, "m": 1024 * 1024, "mb": 1024 * 1024, "b": 1}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            tokens.append(_Token("open", c))
            i += 1
        elif c == ")":
            tokens.append(_Token("close", c))
            i += 1
        elif c == "|":
            tokens.append(_Token("or", c))
            i += 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and (not tokens or _separated(text, i)):
            tokens.append(_Token("not", c))
            i += 1
        elif c == '"':
            phrase, i = _read_quoted(text, i)
            tokens.append(_Token("phrase", phrase))
        elif c == "/":
            end = text.find("/", i + 1)
            while end != -1 and text[end - 1] == "\\":
                end = text.find("/", end + 1)
            if end == -1:
                raise QueryError("unclosed /regex/")
            j = end + 1
            while j < n and text[j].isalpha():
                j += 1
            tokens.append(_Token("regex", text[i + 1 : end], text[end + 1 : j]))
            i = j
        elif c == "-" and _separated(text, i):
            raise QueryError("'-' must be followed by a term")
        else:
            j = _word_end(text, i)
            word = text[i:j]
            tokens.append(_Token(_OPERATORS.get(word, "word"), word))
            i = j
    return tokens


_OPERATORS = {"OR": "or", "AND": "and", "NOT": "not"}
"""Operator words, in capitals only (as search engines spell them): `or` and `not` are words a
frame's text holds (`response_cancel_not_active`). `AND` is what juxtaposition already says."""

_OPERATOR_HINT = "the operators are NOT, OR, AND, in capitals"


def _word_end(text: str, start: int) -> int:
    """Where a word ends: at a space, or at `(`, `)` or `|` outside a field's value.

    Inside a value (after `:`, `=`, `~`…) brackets that open in the word belong to it, so
    `error.code~(a|b)` is one term, while `(type:a)` closes the group.
    """
    j, n, depth, in_value = start, len(text), 0, False
    while j < n and not text[j].isspace():
        c = text[j]
        if c == '"':
            _, j = _read_quoted(text, j)  # key:"quoted value"
            continue
        if c in ":=~<>!":
            in_value = True
        elif c == "(" and in_value:
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c in "()" or (c == "|" and not depth):
            break
        j += 1
    return j


def _separated(text: str, i: int) -> bool:
    return i == 0 or text[i - 1].isspace() or text[i - 1] in "(|"


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    i = start + 1
    out: list[str] = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise QueryError('unclosed "quote"')


_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.\-]+")


def term(key: str, value: str) -> str:
    """`key:value` as the filter reads it back: a value that is not a plain id (a server may name
    an item anything: quotes, spaces, parentheses) is quoted, its quotes and backslashes escaped."""
    if _PLAIN_VALUE.fullmatch(value):
        return f"{key}:{value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}:"{escaped}"'


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _read_quoted(value, 0)[0]
    return value


REGEX_FLAGS = "is"
"""The flags a user's /regex/ takes: i (any case), s (`.` takes a line break too)."""


def compile_pattern(pattern: str, flags: str) -> UserPattern:
    """A user's regex for a filter or a search, with `i`/`s` flags; QueryError for a bad one.
    VERSION0: the `re` dialect, so a pattern means what it meant before the timeouts."""
    regex = _regex()
    bits = regex.VERSION0
    for flag in flags:
        if flag == "i":
            bits |= regex.IGNORECASE
        elif flag == "s":
            bits |= regex.DOTALL
        else:
            raise QueryError(f"unknown regex flag {flag!r} (use i or s)")
    try:
        return UserPattern(pattern, regex.compile(pattern, bits))
    except regex.error as exc:
        raise QueryError(f"bad regex /{_shown(pattern)}/: {exc}") from None
    except RecursionError:
        # `regex` parses groups recursively: a thousand nested ones overflow the stack, which no
        # bar catches (the app stopped). No sane pattern nests that deep.
        raise QueryError(f"bad regex /{_shown(pattern)}/: its groups are nested too deep") from None


def _shown(pattern: str, limit: int = 40) -> str:
    """A pattern as a one-line message quotes it: a pasted one can run to thousands of characters."""
    return pattern if len(pattern) <= limit else pattern[:limit] + "…"


def _regex() -> Any:
    """The `regex` package, imported when a user's pattern is first compiled: importing the
    journal loads the standard library only (tests/test_import_hygiene.py), so the linter and
    the headless commands that build on it stay light."""
    import regex  # type: ignore[import-untyped]  # no stubs; UserPattern is its typed face here

    return regex


def literal_pattern(text: str) -> UserPattern:
    """`text` itself, case-insensitive, as a pattern (a find for a plain word)."""
    regex = _regex()
    pattern = UserPattern(regex.escape(text), regex.compile(regex.escape(text), regex.VERSION0 | regex.IGNORECASE))
    pattern.literal_length = len(text)
    return pattern


def _only(op: str, name: str, *allowed: str) -> None:
    if op not in allowed:
        raise QueryError(f"{name} takes {name}:VALUE or {name}!=VALUE, not {op!r}")


def _negate_if(op: str, node: _Node) -> _Node:
    if op != "!=":
        return node
    test = node.test
    return _Node(lambda frame: not test(frame), node.cost, node.pure)


def _spellings(event_type: str) -> tuple[str, ...]:
    """The names a `type:` term matches: the type, its GA name, and the short spellings the log
    shows for both (`c.item.added`, `r.o_a_transcript.delta`, `r.o_a_t.delta`) or a user would guess from them
    (`r.created`: `type:r.*` is every response event). A pure term: asked once per type."""
    if event_type.startswith("rt."):
        return (event_type,)  # rt-tui's own facts: `rt` is no `response`, and the log shows them whole
    ga = to_ga(event_type)
    names = spellings(event_type)
    # The other dialect's name too, both ways: a beta frame answers to its GA name, and a GA frame
    # to the beta name a user who read the beta's docs types (`type:response.audio_transcript.*`).
    other = ga if ga != event_type else _ITEM_COUNTERPART.get(event_type, to_beta(event_type))
    return names if other == event_type else (*names, *spellings(other))


_ITEM_COUNTERPART = {
    "conversation.item.created": "conversation.item.added",
    "conversation.item.added": "conversation.item.created",
}
"""An item's arrival in each dialect: beta's one `conversation.item.created` where GA sends
`conversation.item.added` (then `.done`). No rename (the protocol's `to_ga` keeps both, since GA's
SDK still knows `…created`), yet a user who read the beta's docs types `type:conversation.item.created`
into a GA session's filter and meant its items: it matched nothing, without a word."""


def _id_test(attribute: str, value: str, literal: bool = False) -> Predicate:
    """Frames whose `attribute` is `value`: a glob unless `literal` (the value was quoted)."""
    if not literal and any(c in value for c in "*?["):
        pattern = re.compile(fnmatch.translate(value))
        return lambda frame: (v := getattr(frame, attribute)) is not None and pattern.match(v) is not None
    return lambda frame: getattr(frame, attribute) == value


def _parse_number(name: str, text: str) -> float:
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)([A-Za-z]*)", text.strip())
    if match is None:
        raise QueryError(f"{name}: {text!r} is not a number")
    number, suffix = float(match.group(1)), match.group(2).lower()
    if suffix and suffix not in _SUFFIXES:
        raise QueryError(f"{name}: unknown unit {suffix!r} (use k or m)")
    return number * _SUFFIXES.get(suffix, 1)


def _value_test(key: str, op: str, value: str, patterns: list[UserPattern]) -> Callable[[Any], bool]:
    """A test on one JSON value found at a path (a `~` regex is added to `patterns`)."""
    if op == "~":
        pattern = compile_pattern(value, "i")
        patterns.append(pattern)
        return lambda v: pattern.search(_as_text(v))
    if op in (">", "<", ">=", "<="):
        number = _parse_number(key, value)
        compare = _COMPARE[op]
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and compare(float(v), number)
    if any(c in value for c in "*?["):
        glob = re.compile(fnmatch.translate(value), re.IGNORECASE)
        equal: Callable[[Any], bool] = lambda v: glob.match(_as_text(v)) is not None  # noqa: E731
    else:
        lowered = value.lower()
        equal = lambda v: _as_text(v).lower() == lowered  # noqa: E731
    if op == "!=":
        return lambda v: not equal(v)
    return equal


def _as_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return ""


def _lookup(data: Any, parts: list[str]) -> list[Any]:
    """Every value at a dotted path; a list on the way is searched element by element."""
    current: list[Any] = [data]
    for part in parts:
        found: list[Any] = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    found.append(value[part])
            elif isinstance(value, list):
                if part.isdigit():
                    if int(part) < len(value):
                        found.append(value[int(part)])
                else:
                    found.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        current = found
        if not current:
            break
    return current


def _one_swap(name: str, typed: str) -> bool:
    """Whether `typed` is `name` with two neighbouring letters swapped (`dri` for `dir`), not any
    word of the same letters (`time` is no misspelt `item`)."""
    if len(name) != len(typed) or name == typed:
        return False
    differ = [i for i, (a, b) in enumerate(zip(name, typed, strict=True)) if a != b]
    return len(differ) == 2 and differ[1] == differ[0] + 1 and name[differ[0]] == typed[differ[1]]


_SHORTCUTS: dict[str, Callable[[Query, str, str], _Node]] = {
    "type": Query._type,
    "t": Query._type,
    "dir": Query._dir,
    "item": Query._item,
    "for": Query._for,
    "response": Query._response,
    "resp": Query._response,
    "family": Query._family,
    "fam": Query._family,
    "seq": Query._seq,
    "index": Query._index,
    "size": Query._size,
    "event": Query._event,
    "is": Query._is_shortcut,
}
