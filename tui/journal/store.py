"""The journal: every envelope of a run, in order, under an absolute index that is never reused.

Each frame keeps its metadata for the life of the journal (index, seq, times, direction, type,
size, the ids it names), in flat columns; only payloads are subject to the memory policy. Small payloads always
stay; large ones (audio) are kept while they fit a byte budget and are then dropped oldest first,
to be read back from the capture file when someone asks for them. Parsed JSON is kept only for
the most recent frames and re-parsed from the wire text on demand: a parsed audio delta holds its
base64 a second time, which is what made the old event-log ring cost 118 MB an hour.
"""

from __future__ import annotations

import contextlib
import json
import re
from array import array
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tui.protocol import DIR_LOCAL, DIR_OUT, Direction, Envelope, string_span
from tui.protocol.events import AUDIO_FIELDS
from tui.protocol.summary import audio_tag_bytes

from .families import Family, family_of


@dataclass(frozen=True, slots=True)
class PayloadPolicy:
    """How much payload the journal keeps in memory."""

    small_bytes: int = 4096
    """Payloads up to this size are always kept (every control frame, every transcript delta), but
    for audio frames, which count against the budget below whatever their size."""
    large_budget_bytes: int = 16 * 1024 * 1024
    """Bytes of audio and other large payloads kept, newest first (about four minutes of a
    conversation's audio, base64 included); older ones are dropped and read back from the capture
    file when asked for (a detail view, an export)."""
    text_budget_bytes: int = 64 * 1024 * 1024
    """Bytes of large payloads that are not audio (a session.update with long instructions and
    tools, a long reply's done events) kept, newest first, apart from the audio's budget: a free-word
    filter and a find read them (a dropped payload is searched by its type and ids only), and an
    hour of audio pushed them out within minutes, instructions first. Never less than
    `large_budget_bytes`."""
    parsed_recent: int = 4096
    """Small frames whose parsed JSON is kept as received; older ones are re-parsed when read."""
    reparse_cache: int = 512
    """Re-parsed frames kept (the rows on screen and their neighbours)."""


_DIRECTIONS = (Direction.OUT, Direction.IN, Direction.LOCAL)

SENT_LOOKBACK = 200_000
"""Frames searched backwards for the frame an `error` names (an hour of traffic)."""

_DIRECTION_CODES = {direction: code for code, direction in enumerate(_DIRECTIONS)}
_LOCAL_CODE = _DIRECTION_CODES[DIR_LOCAL]
_NONE = -1
"""The name code of an absent id."""


class Frame:
    """One journal entry, as a view over the journal's columns (made when asked for, a few bytes).

    The journal keeps every frame's metadata for its whole life in flat arrays (about 60 bytes a
    frame: an hour's 180,000 frames in 11 MB, where one object per frame with its boxed numbers
    took 50); a Frame reads them by index.
    """

    __slots__ = ("_journal", "index")

    def __init__(self, journal: Journal, index: int) -> None:
        self._journal = journal
        self.index = index
        """Absolute position in the journal: stable, never reused."""

    @property
    def seq(self) -> int:
        """The envelope's sequence number."""
        return self._journal._seq[self.index]

    @property
    def mono(self) -> float:
        """Monotonic time the frame was seen."""
        return self._journal._mono[self.index]

    @property
    def wall(self) -> float:
        """Unix time the frame was seen."""
        return self._journal._wall[self.index]

    @property
    def direction(self) -> Direction:
        """Sent, received, or a fact of rt-tui's."""
        return _DIRECTIONS[self._journal._dir[self.index]]

    @property
    def type(self) -> str:
        """The event type."""
        journal = self._journal
        return journal._names[journal._type[self.index]]

    @property
    def size(self) -> int:
        """Bytes on the wire."""
        return self._journal._size[self.index]

    @property
    def family(self) -> Family:
        """The event's family (session, input buffer, conversation…)."""
        return family_of(self.type)

    @property
    def epoch(self) -> int:
        """Connection number: 0 before the first connect, then one more per connection attempt."""
        return self._journal._epoch[self.index]

    @property
    def item_id(self) -> str | None:
        """The item the frame names (`item_id`, or its `item.id`)."""
        journal = self._journal
        code = journal._item[self.index]
        return journal._names[code] if code != _NONE else None

    @property
    def response_id(self) -> str | None:
        """The response the frame names (`response_id`, or its `response.id`)."""
        journal = self._journal
        code = journal._response[self.index]
        return journal._names[code] if code != _NONE else None

    @property
    def event_id(self) -> str | None:
        """The `event_id` of a frame that was sent (servers name it in an `error`), else None."""
        journal = self._journal
        found = journal._event_ids.get(self.index)
        if found is not None or journal._dir[self.index] != 0:
            return found
        raw = journal._raw[self.index]  # an append's id is not kept apart: read it from its text
        if raw is None:
            return None
        span = string_span(raw, "event_id")
        return raw[span[0] : span[1]] if span is not None and span[1] > span[0] else None

    @property
    def raw(self) -> str | None:
        """The exact wire text, or None once the memory policy dropped it."""
        return self._journal._raw[self.index]

    @property
    def data(self) -> dict[str, Any] | None:
        """The parsed frame while recent, or always for local facts (they cannot be re-parsed)."""
        return self._journal._data[self.index]

    @property
    def binary(self) -> bytes | None:
        """A binary frame's bytes (while its payload is kept)."""
        return self._journal._binary.get(self.index)

    @property
    def payload_dropped(self) -> bool:
        """True when the payload left memory (it is still in the capture file)."""
        journal = self._journal
        return journal._raw[self.index] is None and journal._data[self.index] is None

    def __repr__(self) -> str:
        return f"Frame(#{self.index} seq={self.seq} {self.direction.value} {self.type})"


class Journal:
    """Append-only store of envelopes with absolute indices and a payload memory policy."""

    def __init__(self, policy: PayloadPolicy | None = None) -> None:
        self.policy = policy or PayloadPolicy()
        # Columns, one entry per frame.
        self._seq = array("q")
        self._mono = array("d")
        self._wall = array("d")
        self._size = array("q")
        self._dir = bytearray()
        self._type = array("l")
        self._epoch = array("l")
        self._item = array("l")
        self._response = array("l")
        self._raw: list[str | None] = []
        self._data: list[dict[str, Any] | None] = []
        self._event_ids: dict[int, str] = {}
        """Ids of frames we sent, but appends (thousands, rarely named): theirs are read from their text."""
        self._sent_id = array("q")
        """Per frame, the hash of the `event_id` of a frame we sent (0 for none): eight bytes that
        outlive a dropped payload, so an error can still name its append an hour later."""
        self._audio_chars = array("i")
        """Base64 characters of an audio frame's audio (0: not audio), noted as it comes, for once its
        payload is dropped: a run's audio length, read from its size alone, counted the JSON around it
        (4.27 s for 4.00 s of appends). Noted then, from the parsed frame, rather than found in the
        text when the payload is dropped: by then the text had left the CPU's caches, and the search
        through its base64 cost more than all the rest of a frame's journaling."""
        self._binary: dict[int, bytes] = {}
        self._names: list[str] = []
        """Every type and id string once; the columns hold their positions."""
        self._codes: dict[str, int] = {}
        self._type_codes: dict[str, int] = {}
        """The codes of the names used as event types (a filter asks which types pass, not every id)."""
        self._large: deque[int] = deque()
        """Indices of kept large payloads, oldest first."""
        self._large_bytes = 0
        self._large_text: deque[int] = deque()
        """Indices of kept large payloads that are not audio, oldest first (their own budget)."""
        self._large_text_bytes = 0
        self._parsed: deque[int] = deque()
        """Indices whose `data` is kept from ingestion, oldest first."""
        self._reparsed: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.payloads_dropped = 0
        """Frames whose payload the memory policy dropped."""
        self.epoch = 0
        self.epoch_starts: list[int] = [0]
        """Index of each epoch's connecting fact, its clock's start (epoch 0, before any
        connection, starts at 0). The new session's capture fact right before it is of the epoch
        too, at its time 0 (see `_move_capture_before`)."""
        self.capture_path: str | None = None
        """The capture file that holds every payload, for frames whose payload was dropped."""
        self.scrub_read_back: Callable[[str], str] | None = None
        """Applied to a payload read back from `capture_path`: a replay's secrets, which its player
        scrubbed from what it played (a live session's capture never held them)."""
        self.numbers_its_connections = False
        """True: its connections are named by its own count (`epoch`), never by the number a
        recorded frame carries. A proxied client's capture says which of the proxy's clients it
        was (`connection 4`): right in the proxy, where each client has a journal of its own, but
        in a replay of several captures beside the findings' and the status line's own count
        (`connection 2`, `conn 2`) it named another connection."""

    # -- writing ----------------------------------------------------------------------------

    def append(self, env: Envelope) -> Frame:
        """Add one envelope; returns its frame (whose `index` is its absolute position)."""
        return Frame(self, self.append_index(env))

    def append_index(self, env: Envelope) -> int:
        """Add one envelope; returns its absolute index (`append` without making a Frame).

        Runs for every frame of a session (50 audio deltas a second), so it does the least it can:
        a few dictionary lookups, a dozen array appends, and the memory policy's bookkeeping.
        """
        index = len(self._raw)
        direction, etype, data = env.direction, env.type, env.data
        local = direction is DIR_LOCAL or etype.startswith("rt.")
        if local and etype == "rt.connection" and data.get("state") == "connecting":
            self.epoch += 1  # a connection attempt: its frames count time from here
            self.epoch_starts.append(index)
            self._move_capture_before(index)
        item_id = data.get("item_id")
        if not isinstance(item_id, str) or not item_id:
            item_id = _nested_id(data, "item") if "item" in data else None  # most frames name neither
        response_id = data.get("response_id")
        if not isinstance(response_id, str) or not response_id:
            response_id = _nested_id(data, "response") if "response" in data else None
        size = env.size
        policy = self.policy
        # Audio frames count against the budget whatever their size: an hour of 20 ms appends is
        # 90,000 small frames, 125 MB of base64 nobody reads again but a detail view.
        large = (size > policy.small_bytes or etype in AUDIO_FIELDS) and not local
        code = self._code
        self._seq.append(env.seq)
        self._mono.append(env.mono)
        self._wall.append(env.wall)
        self._size.append(size)
        self._dir.append(_DIRECTION_CODES[direction])
        type_code = self._type_codes.get(etype)
        if type_code is None:
            type_code = self._type_codes[etype] = code(etype)
        self._type.append(type_code)
        self._epoch.append(self.epoch)
        self._item.append(code(item_id) if item_id else _NONE)
        self._response.append(code(response_id) if response_id else _NONE)
        self._raw.append(env.raw)
        # A large frame's parsed copy would hold its payload (audio) a second time: only the wire
        # text stays; the few who read it again (a detail view) re-parse it.
        self._data.append(None if large else data)
        sent_id = 0
        if direction is DIR_OUT:
            event_id = data.get("event_id")
            if isinstance(event_id, str):
                sent_id = hash(event_id) or 1
                if etype != "input_audio_buffer.append":
                    self._event_ids[index] = event_id
        self._sent_id.append(sent_id)
        audio_field = AUDIO_FIELDS.get(etype)
        self._audio_chars.append(_audio_chars(data.get(audio_field)) if audio_field is not None else 0)
        if env.binary is not None:
            self._binary[index] = env.binary
        if large and (
            etype in AUDIO_FIELDS
            or env.binary is not None
            # Audio sent as an item (a file added with item.create): audio's budget, not text's.
            or (etype == "conversation.item.create" and '"input_audio"' in env.raw)
        ):
            self._large.append(index)
            self._large_bytes += size
            while self._large_bytes > policy.large_budget_bytes and len(self._large) > 1:
                self._drop(self._large.popleft())
        elif large:
            self._large_text.append(index)
            self._large_text_bytes += size
            # Never less than the audio's budget (a policy that keeps every payload keeps these too).
            budget = max(policy.text_budget_bytes, policy.large_budget_bytes)
            while self._large_text_bytes > budget and len(self._large_text) > 1:
                oldest = self._large_text.popleft()
                self._large_text_bytes -= self._size[oldest]
                self._drop(oldest, audio=False)
        elif not local:
            parsed = self._parsed
            parsed.append(index)
            if len(parsed) > policy.parsed_recent:
                old = parsed.popleft()
                if self._raw[old] is not None:
                    self._data[old] = None  # re-parsed from raw on demand
        return index

    def _code(self, name: str) -> int:
        found = self._codes.get(name)
        if found is None:
            found = self._codes[name] = len(self._names)
            self._names.append(name)
        return found

    def _drop(self, index: int, *, audio: bool = True) -> None:
        if audio:
            self._large_bytes -= self._size[index]
        self._raw[index] = None
        self._data[index] = None
        self._binary.pop(index, None)
        self._reparsed.pop(index, None)
        self.payloads_dropped += 1

    # -- reading ----------------------------------------------------------------------------

    def direction_counts(self, epoch: int) -> tuple[int, int]:
        """(received, sent) frames of connection `epoch`: what the status line counts for the
        latest connection (`SessionFacts.frames_in`, `frames_out`), for any of them. A connection's
        frames are one stretch of the journal; counted in C, asked when a selection moves."""
        if not 0 <= epoch < len(self.epoch_starts):
            return 0, 0
        start = self.epoch_starts[epoch]
        end = self.epoch_starts[epoch + 1] if epoch + 1 < len(self.epoch_starts) else len(self._raw)
        codes = self._dir
        received = codes.count(_DIRECTION_CODES[Direction.IN], start, end)
        return received, codes.count(_DIRECTION_CODES[DIR_OUT], start, end)

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index: int) -> Frame:
        if index < 0:
            index += len(self._raw)
        if not 0 <= index < len(self._raw):
            raise IndexError(f"no frame {index} in a journal of {len(self._raw)}")
        return Frame(self, index)

    def __iter__(self) -> Iterator[Frame]:
        return (Frame(self, index) for index in range(len(self._raw)))

    def find_sent(self, event_id: str, before: int, lookback: int = SENT_LOOKBACK) -> int | None:
        """The index of the latest frame we sent with `event_id`, before index `before` and at most
        `lookback` frames back, or None. Found by the id's hash, kept for every frame (an append's
        text may have left memory); where the text is still there, it confirms the match."""
        wanted = hash(event_id) or 1
        ids = self._sent_id
        for index in range(min(before, len(ids)) - 1, max(-1, before - 1 - lookback), -1):
            if ids[index] == wanted:
                found = Frame(self, index).event_id
                if found is None or found == event_id:
                    return index
        return None

    def type_at(self, index: int) -> str:
        """Frame `index`'s event type, read without making a Frame (loops over thousands of frames)."""
        return self._names[self._type[index]]

    def size_at(self, index: int) -> int:
        """Frame `index`'s size on the wire, read without making a Frame."""
        return self._size[index]

    def raw_at(self, index: int) -> str | None:
        """Frame `index`'s wire text (None once the memory policy dropped it), without making a Frame."""
        return self._raw[index]

    def frames(self, start: int = 0, stop: int | None = None) -> list[Frame]:
        """A slice of the frames, by absolute index."""
        end = len(self._raw) if stop is None else min(stop, len(self._raw))
        return [Frame(self, index) for index in range(start, end)]

    def data(self, index: int) -> dict[str, Any]:
        """The parsed frame at `index`: kept, re-parsed from its wire text, or {} when dropped."""
        kept = self._data[index]
        if kept is not None:
            return kept
        cached = self._reparsed.get(index)
        if cached is not None:
            self._reparsed.move_to_end(index)
            return cached
        raw = self._raw[index]
        if raw is None:
            return {}
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            return {}
        if not isinstance(parsed, dict):
            return {}
        self._reparsed[index] = parsed
        if len(self._reparsed) > self.policy.reparse_cache:
            self._reparsed.popitem(last=False)
        return parsed

    def first_naming(self, ids: Iterable[str], stop: int) -> int | None:
        """The first index below `stop` whose frame names one of `ids` as its item or response, or
        None. A scan of the id columns in C (a millisecond over an hour's frames), for a key press
        that must know whether frames a clear hid belong to something."""
        found: int | None = None
        for name in ids:
            code = self._codes.get(name)
            if code is None:
                continue  # no frame ever named it
            for column in (self._item, self._response):
                end = stop if found is None else found
                with contextlib.suppress(ValueError):
                    found = column.index(code, 0, end)
        return found

    @property
    def type_codes(self) -> dict[str, int]:
        """Every event type journaled so far, with its code in the type column (read-only)."""
        return self._type_codes

    def code_of(self, name: str) -> int | None:
        """The code of a type or id in the columns, or None when no frame ever named it."""
        return self._codes.get(name)

    def type_share(self, codes: set[int], end: int, sample: int = 2048) -> float:
        """The share of the `sample` frames before `end` whose type is one of `codes` (0 to 1): how
        dense a set of types is where a filter's first screen looks."""
        begin = max(0, end - sample)
        if begin >= end:
            return 0.0
        return sum(1 for code in self._type[begin:end] if code in codes) / (end - begin)

    def positions(self, column: str, codes: Iterable[int], start: int, end: int, limit: int) -> list[int] | None:
        """The indices from `start` to `end` whose `column` ("type", "item", "response" or "seq")
        holds one of `codes` (for "seq", sequence numbers), ascending; None past `limit` of them (a
        frame-by-frame pass is as quick then). A C scan per code (a few milliseconds over an hour's
        frames), where a filter asking each frame in Python took half a second: the index behind
        an item's or an error's filter."""
        array_ = {"type": self._type, "item": self._item, "response": self._response, "seq": self._seq}[column]
        end = min(end, len(array_))
        found: list[int] = []
        several = False
        for code in codes:
            several = several or bool(found)
            at = start
            while True:
                try:
                    at = array_.index(code, at, end)
                except ValueError:
                    break
                found.append(at)
                if len(found) > limit:
                    return None
                at += 1
        if several:
            found.sort()
        return found

    def index_of_seq(self, seq: int, stop: int) -> int | None:
        """The first index below `stop` of the frame numbered `seq`, or None (a C scan, like `first_naming`)."""
        try:
            return self._seq.index(seq, 0, stop)
        except ValueError:
            return None

    def envelope(self, index: int) -> Envelope:
        """The envelope of frame `index` as far as memory holds it (see `payload_dropped`)."""
        frame = self[index]
        data = self.data(index)
        if not data and frame.payload_dropped:
            data = {"type": frame.type}
        raw = frame.raw if frame.raw is not None else ""
        return Envelope(frame.seq, frame.direction, frame.type, data, raw, frame.mono, frame.wall, frame.binary)

    def search_text(self, index: int) -> str:
        """The text a free-word filter or a search looks in: the wire text, without audio payloads.

        Audio frames are searched by type and ids only: base64 never matches a word anyone means.
        """
        names = self._names
        etype = names[self._type[index]]
        raw = self._raw[index]
        if etype in AUDIO_FIELDS or index in self._binary or raw is None:
            # A dropped payload too: its type and ids are all that is left to search.
            item, response = self._item[index], self._response[index]
            return " ".join(
                x for x in (etype, names[item] if item >= 0 else "", names[response] if response >= 0 else "") if x
            )
        if "\\" in raw:
            raw = unescaped(raw)
        data = self._data[index]
        if data is not None and (self._dir[index] == 2 or etype.startswith("rt.")):
            message = data.get("message")
            return raw + " " + (message if isinstance(message, str) else "")
        return raw

    def streamed_piece(self, index: int) -> tuple[tuple[int, int], str] | None:
        """A delta's stream (its type's and its item's codes) and the text it adds (its `delta`),
        read without parsing the frame unless it holds an escape; None when it adds no text."""
        raw = self._raw[index]
        if raw is None:
            return None
        if "\\" in raw:
            delta = self.data(index).get("delta")
        else:
            span = string_span(raw, "delta")
            delta = raw[span[0] : span[1]] if span is not None else None
        if not isinstance(delta, str) or not delta:
            return None
        return (self._type[index], self._item[index]), delta

    def sent_id_is(self, index: int, event_id: str) -> bool:
        """Whether frame `index` is one we sent with `event_id`, by the id's hash (kept for every
        frame we sent: an append's text, which held it, may have left memory)."""
        return self._dir[index] == _DIRECTION_CODES[DIR_OUT] and self._sent_id[index] == (hash(event_id) or 1)

    def text_test(self, search: Callable[[str], object]) -> Callable[[int], bool]:
        """A test of frame `index`'s `search_text` by `search` (a free word's, a find's), asked once
        per type and ids for audio frames: their text is only those (`search_text`), and they are
        most of an hour's frames (90,000 appends, 36,000 audio deltas), so a find over the hour
        runs the pattern over the frames that have text of their own."""
        answers: dict[tuple[int, int, int], bool] = {}
        names, types, items, responses, binary = self._names, self._type, self._item, self._response, self._binary

        def test(index: int) -> bool:
            code = types[index]
            if names[code] in AUDIO_FIELDS or index in binary:
                key = (code, items[index], responses[index])
                answer = answers.get(key)
                if answer is None:
                    answer = answers[key] = bool(search(self.search_text(index)))
                return answer
            return bool(search(self.search_text(index)))

        return test

    def _move_capture_before(self, index: int) -> None:
        """Move the new session's capture fact right before connecting fact `index` (t=0.0 in the
        file it names) to that connection's epoch, when it was taken on the connection before's
        clock: it shows 00:00.000, not the old clock's time (`since_connect` of a frame before its
        epoch's start is 0). A row drawn since is drawn again: the event log redraws its lines when
        an epoch begins. Before the first connection too: epoch 0's clock counts from the first
        frame, which is not the capture fact when the command line's warning (rt.warning) came
        before it: the capture read 00:00.001, then the connecting fact 00:00.000. A capture fact
        that is the first frame stays in epoch 0, at its 0 already."""
        before = index - 1
        if before <= 0:
            return
        if self._names[self._type[before]] != "rt.capture" or self._dir[before] != _LOCAL_CODE:
            return
        data = self._data[before]
        if data is not None and (data.get("notify") or data.get("state") == "failed"):
            return  # a capture's trouble mid-session, or a replay's note: the old session's
        self._epoch[before] = self.epoch

    def epoch_start(self, epoch: int) -> Frame | None:
        """The connecting fact of connection epoch `epoch` (its time base; the epoch's capture fact
        may come right before it)."""
        if 0 <= epoch < len(self.epoch_starts) and self.epoch_starts[epoch] < len(self._raw):
            return Frame(self, self.epoch_starts[epoch])
        return None

    def since_connect(self, frame: Frame) -> float:
        """Seconds from the start of the frame's connection to the frame (0 for its capture fact,
        which comes right before its connecting fact)."""
        epoch = self._epoch[frame.index]
        start = self.epoch_starts[epoch] if 0 <= epoch < len(self.epoch_starts) else frame.index
        return self._mono[frame.index] - self._mono[min(start, frame.index)]

    def audio_chars(self, index: int) -> int | None:
        """The base64 length of the audio of frame `index` once its payload was dropped, else None
        (for a size tag, an export without audio, the length of the audio it stands for)."""
        return self._audio_chars[index] or None

    @property
    def kept_large_bytes(self) -> int:
        """Bytes of large payloads held in memory (audio and binary frames; others: `kept_text_bytes`)."""
        return self._large_bytes

    @property
    def kept_text_bytes(self) -> int:
        """Bytes of large payloads other than audio held in memory."""
        return self._large_text_bytes


_ESCAPE = re.compile(r'\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(["\\/]))')
"""A JSON string escape a word is written with: `\\uXXXX` (a surrogate pair as one), `\\"`, `\\\\`, `\\/`.
Matched left to right, so the second backslash of an escaped one never starts an escape."""


def _unescape(match: re.Match[str]) -> str:
    high, low, code, char = match.groups()
    if char is not None:
        return char
    if code is not None:
        return chr(int(code, 16))
    return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))


def unescaped(raw: str) -> str:
    """Wire text with its strings' escapes read as the characters they stand for, as a user types
    them: a client that escapes what is not ASCII (the official Python SDK sends `json.dumps`'s
    `caf\\u00e9`) or a quote (`\\"hi\\"`) is found by `café` and `"hi"`. Line breaks and tabs stay
    escaped: a one-line bar cannot type them."""
    return _ESCAPE.sub(_unescape, raw)


def _audio_chars(audio: object) -> int:
    """The base64 length of an audio field's value (for a size tag, an export without audio: of the
    audio it stands for); 0 when it holds no string."""
    if not isinstance(audio, str):
        return 0
    if audio.startswith("[audio "):
        said = audio_tag_bytes(audio)
        if said is not None:
            return -(-said * 4 // 3)
    return len(audio)


def _nested_id(data: dict[str, Any], key: str) -> str | None:
    """`data[key]["id"]` when it is a non-empty string (a frame's item or response)."""
    value = data.get(key)
    if isinstance(value, dict):
        found = value.get("id")
        if isinstance(found, str) and found:
            return found
    return None
