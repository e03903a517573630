"""The journal: every envelope of a run, in order, under an absolute index that is never reused.

Each frame keeps its metadata for the life of the journal (index, seq, times, direction, type,
size, the ids it names); only payloads are subject to the memory policy. Small payloads always
stay; large ones (audio) are kept while they fit a byte budget and are then dropped oldest first,
to be read back from the capture file when someone asks for them. Parsed JSON is kept only for
the most recent frames and re-parsed from the wire text on demand: a parsed audio delta holds its
base64 a second time, which is what made the old event-log ring cost 118 MB an hour.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tui.protocol import Direction, Envelope
from tui.protocol.events import AUDIO_FIELDS

from .families import Family, family_of


@dataclass(frozen=True, slots=True)
class PayloadPolicy:
    """How much payload the journal keeps in memory."""

    small_bytes: int = 4096
    """Payloads up to this size are always kept (every control frame, every transcript delta), but
    for audio frames, which count against the budget below whatever their size."""
    large_budget_bytes: int = 32 * 1024 * 1024
    """Bytes of audio and other large payloads kept, newest first (about 90 s of a conversation's
    audio both ways); older ones are dropped and read back from the capture file when asked for."""
    parsed_recent: int = 4096
    """Small frames whose parsed JSON is kept as received; older ones are re-parsed when read."""
    reparse_cache: int = 512
    """Re-parsed frames kept (the rows on screen and their neighbours)."""


@dataclass(slots=True)
class Frame:
    """One journal entry: the metadata of one envelope, kept for the life of the journal."""

    index: int
    """Absolute position in the journal: stable, never reused."""
    seq: int
    mono: float
    wall: float
    direction: Direction
    type: str
    size: int
    family: Family
    epoch: int
    """Connection number: 0 before the first connect, then one more per connection attempt."""
    item_id: str | None
    response_id: str | None
    event_id: str | None
    """The `event_id` of a frame we sent (servers name it in an `error`); None for received frames."""
    raw: str | None
    """The exact wire text, or None once the memory policy dropped it."""
    data: dict[str, Any] | None
    """The parsed frame while recent, or always for local facts (they cannot be re-parsed)."""
    binary: bytes | None = None

    @property
    def payload_dropped(self) -> bool:
        """True when the payload left memory (it is still in the capture file)."""
        return self.raw is None and self.data is None


class Journal:
    """Append-only store of envelopes with absolute indices and a payload memory policy."""

    def __init__(self, policy: PayloadPolicy | None = None) -> None:
        self.policy = policy or PayloadPolicy()
        self._frames: list[Frame] = []
        self._large: deque[int] = deque()
        """Indices of kept large payloads, oldest first."""
        self._large_bytes = 0
        self._parsed: deque[int] = deque()
        """Indices whose `data` is kept from ingestion, oldest first."""
        self._reparsed: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._strings: dict[str, str] = {}
        """One copy of each id string: thousands of deltas name the same item."""
        self.payloads_dropped = 0
        """Frames whose payload the memory policy dropped."""
        self.epoch = 0
        self.epoch_starts: list[int] = [0]
        """Index of the first frame of each epoch (epoch 0 starts at 0)."""
        self.capture_path: str | None = None
        """The capture file that holds every payload, for frames whose payload was dropped."""

    # -- writing ----------------------------------------------------------------------------

    def append(self, env: Envelope) -> Frame:
        """Add one envelope; returns its frame (whose `index` is its absolute position).

        Runs for every frame of a session (50 audio deltas a second), so it does the least it can:
        a few dictionary lookups, one object, and the memory policy's bookkeeping.
        """
        index = len(self._frames)
        direction, etype, data = env.direction, env.type, env.data
        strings = self._strings
        etype = strings.setdefault(etype, etype)
        local = direction is Direction.LOCAL or etype.startswith("rt.")
        if local and etype == "rt.connection" and data.get("state") == "connecting":
            self.epoch += 1  # a connection attempt: its frames count time from here
            self.epoch_starts.append(index)
        item_id = data.get("item_id")
        if not isinstance(item_id, str) or not item_id:
            item_id = _nested_id(data, "item")
        response_id = data.get("response_id")
        if not isinstance(response_id, str) or not response_id:
            response_id = _nested_id(data, "response")
        event_id = data.get("event_id") if direction is Direction.OUT else None
        size = env.size
        policy = self.policy
        # Audio frames count against the budget whatever their size: an hour of 20 ms appends is
        # 90,000 small frames, 125 MB of base64 nobody reads again but a detail view.
        large = (size > policy.small_bytes or etype in AUDIO_FIELDS) and not local
        frame = Frame(
            index,
            env.seq,
            env.mono,
            env.wall,
            direction,
            etype,
            size,
            _FAMILIES.get(etype) or _FAMILIES.setdefault(etype, family_of(etype)),
            self.epoch,
            strings.setdefault(item_id, item_id) if item_id else None,
            strings.setdefault(response_id, response_id) if response_id else None,
            event_id if isinstance(event_id, str) else None,
            env.raw,
            # A large frame's parsed copy would hold its payload (audio) a second time: only the
            # wire text stays; the few who read it again (a detail view) re-parse it.
            None if large else data,
            env.binary,
        )
        self._frames.append(frame)
        if large:
            self._large.append(index)
            self._large_bytes += size
            while self._large_bytes > policy.large_budget_bytes and len(self._large) > 1:
                self._drop(self._frames[self._large.popleft()])
        elif not local:
            parsed = self._parsed
            parsed.append(index)
            if len(parsed) > policy.parsed_recent:
                old = self._frames[parsed.popleft()]
                if old.raw is not None:
                    old.data = None  # re-parsed from raw on demand
        return frame

    def _drop(self, frame: Frame) -> None:
        self._large_bytes -= frame.size
        frame.raw = None
        frame.data = None
        frame.binary = None
        self._reparsed.pop(frame.index, None)
        self.payloads_dropped += 1

    def _intern(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def _intern_opt(self, value: str | None) -> str | None:
        return None if value is None else self._strings.setdefault(value, value)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Frame:
        return self._frames[index]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._frames)

    def frames(self, start: int = 0, stop: int | None = None) -> list[Frame]:
        """A slice of the frames, by absolute index."""
        return self._frames[start:stop]

    def data(self, index: int) -> dict[str, Any]:
        """The parsed frame at `index`: kept, re-parsed from its wire text, or {} when dropped."""
        frame = self._frames[index]
        if frame.data is not None:
            return frame.data
        cached = self._reparsed.get(index)
        if cached is not None:
            self._reparsed.move_to_end(index)
            return cached
        if frame.raw is None:
            return {}
        try:
            parsed = json.loads(frame.raw)
        except (ValueError, RecursionError):
            return {}
        if not isinstance(parsed, dict):
            return {}
        self._reparsed[index] = parsed
        if len(self._reparsed) > self.policy.reparse_cache:
            self._reparsed.popitem(last=False)
        return parsed

    def envelope(self, index: int) -> Envelope:
        """The envelope of frame `index` as far as memory holds it (see `payload_dropped`)."""
        frame = self._frames[index]
        data = self.data(index)
        if not data and frame.payload_dropped:
            data = {"type": frame.type}
        raw = frame.raw if frame.raw is not None else ""
        return Envelope(frame.seq, frame.direction, frame.type, data, raw, frame.mono, frame.wall)

    def search_text(self, index: int) -> str:
        """The text a free-word filter or a search looks in: the wire text, without audio payloads.

        Audio frames are searched by type and ids only: base64 never matches a word anyone means.
        """
        frame = self._frames[index]
        if frame.type in AUDIO_FIELDS or frame.binary is not None:
            return " ".join(x for x in (frame.type, frame.item_id, frame.response_id) if x)
        if frame.raw is None:
            return frame.type
        if frame.data is not None and (frame.direction is Direction.LOCAL or frame.type.startswith("rt.")):
            message = frame.data.get("message")
            return frame.raw + " " + (message if isinstance(message, str) else "")
        return frame.raw

    def epoch_start(self, epoch: int) -> Frame | None:
        """The first frame of a connection epoch (its time base)."""
        if 0 <= epoch < len(self.epoch_starts) and self.epoch_starts[epoch] < len(self._frames):
            return self._frames[self.epoch_starts[epoch]]
        return None

    def since_connect(self, frame: Frame) -> float:
        """Seconds from the start of the frame's connection to the frame."""
        start = self.epoch_start(frame.epoch)
        return frame.mono - (start.mono if start is not None else frame.mono)

    @property
    def kept_large_bytes(self) -> int:
        """Bytes of large payloads held in memory."""
        return self._large_bytes


_FAMILIES: dict[str, Family] = {}
"""family_of's answers, looked up without a function call (a few dozen types in a session)."""


def _nested_id(data: dict[str, Any], key: str) -> str | None:
    """`data[key]["id"]` when it is a non-empty string (a frame's item or response)."""
    value = data.get(key)
    if isinstance(value, dict):
        found = value.get("id")
        if isinstance(found, str) and found:
            return found
    return None
