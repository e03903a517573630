"""The Envelope: one frame in either direction, or a local fact, as every subscriber sees it."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from . import strict_json

_SEQUENCE = itertools.count(1)


def next_seq() -> int:
    """The next process-wide envelope sequence number (frames and local facts share one order)."""
    return next(_SEQUENCE)


class Direction(StrEnum):
    """Where a frame came from."""

    OUT = "out"
    """Sent by rt-tui to the server."""
    IN = "in"
    """Received from the server."""
    LOCAL = "local"
    """A fact of rt-tui itself (connection state, a malformed frame, an audio device message)."""


# Reading `Direction.IN` costs about 70 ns on Python 3.11 (its metaclass defines `__getattr__`, which
# puts every attribute read of an enum class on a slow path), ten times a module global's cost. Code
# that runs for every frame (journal, projections, linter, scrubbing, capture) compares with these.
DIR_IN: Final = Direction.IN
DIR_OUT: Final = Direction.OUT
DIR_LOCAL: Final = Direction.LOCAL


@dataclass(frozen=True, slots=True)
class Envelope:
    """One frame (or local event) with the facts the UI and the capture file need.

    `data` is the parsed JSON object (empty for a frame that did not parse); `raw` is the exact
    text that crossed the wire, kept so the capture file is lossless (for a local fact, the JSON of
    its data; for a binary frame, a short description: its bytes are in `binary`).
    """

    seq: int
    direction: Direction
    type: str
    data: dict[str, Any]
    raw: str
    mono: float = field(default_factory=time.monotonic)
    """When, by the monotonic clock (a received frame's: when its bytes came off the socket, shared
    by the frames of one read; see `tui.session.wire.Stamp`)."""
    wall: float = field(default_factory=time.time)
    """The same instant as Unix time."""
    binary: bytes | None = None
    """A binary frame's bytes (the Realtime API sends none; a stray one is kept, not lost)."""
    wire_size: int | None = None
    """The frame's size on the wire when it was known on arrival; kept when scrubbing changes `raw`."""

    @property
    def size(self) -> int:
        """The frame's size in bytes on the wire (UTF-8). O(1) for ASCII text, which nearly every frame is."""
        if self.wire_size is not None:
            return self.wire_size
        if self.binary is not None:
            return len(self.binary)
        return utf8_size(self.raw)

    @property
    def is_error(self) -> bool:
        """True for server `error` events and local failures."""
        return self.type == "error" or self.type.endswith(".failed") or self.type == "rt.malformed"


def utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8: O(1) for ASCII (CPython knows), one C pass otherwise."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def local_raw(data: dict[str, Any]) -> str:
    """The raw text of a local fact: its data as compact, strict JSON."""
    return strict_json.dumps(data)


def local_envelope(event_type: str, message: str, **fields: Any) -> Envelope:
    """A local fact (type `rt.*`) for the event log: connection state, device trouble, bad frames."""
    data: dict[str, Any] = {"type": event_type, "message": message, **fields}
    return Envelope(next_seq(), Direction.LOCAL, event_type, data, local_raw(data))
