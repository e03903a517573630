"""The Envelope: one frame in either direction, or a local fact, as every subscriber sees it."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Envelope:
    """One frame (or local event) with the facts the UI and the capture file need.

    `data` is the parsed JSON object (empty for a frame that did not parse); `raw` is the exact
    text that crossed the wire, kept so the capture file is lossless.
    """

    seq: int
    direction: Direction
    type: str
    data: dict[str, Any]
    raw: str
    mono: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        """The frame's size in bytes on the wire (UTF-8)."""
        return len(self.raw.encode("utf-8")) if not self.raw.isascii() else len(self.raw)

    @property
    def is_error(self) -> bool:
        """True for server `error` events and local failures."""
        return self.type == "error" or self.type.endswith(".failed") or self.type == "rt.malformed"


def local_envelope(event_type: str, message: str, **fields: Any) -> Envelope:
    """A local fact (type `rt.*`) for the event log: connection state, device trouble, bad frames."""
    data: dict[str, Any] = {"type": event_type, "message": message, **fields}
    return Envelope(next_seq(), Direction.LOCAL, event_type, data, json.dumps(data, separators=(",", ":")))
