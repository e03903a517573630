"""The session's input audio clock, for splitting a server-VAD turn's appends at its end.

Server VAD commits the buffer on its own at `speech_stopped.audio_end_ms`, which counts
milliseconds of all the audio appended during the session (not per turn, not reset by a commit or
a clear). Appends we sent meanwhile reached the server after that point: they are the next
turn's. Each append's end on that clock (in `UNITS_PER_MS`ths of a millisecond, from its base64
length and the session's input format) tells which side of `audio_end_ms` it is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.protocol import field as obj_field
from tui.protocol import text

UNITS_PER_MS = 48
"""Clock units per millisecond: a unit is a byte of 24 kHz PCM16, six of 8 kHz G.711 (integers both)."""

_UNITS_PER_BYTE = {
    "audio/pcm": 1,
    "pcm16": 1,
    "audio/pcmu": 6,
    "audio/pcma": 6,
    "g711_ulaw": 6,
    "g711_alaw": 6,
}

UNKNOWN_FORMAT = 0
"""`input_units_per_byte` of a format whose rate is not known: appends in it lose the clock."""


def input_units_per_byte(session: dict[str, Any]) -> int | None:
    """Clock units per byte of a GA or beta session object's input audio; `UNKNOWN_FORMAT` for a
    format of unknown rate; None when the session does not say (an update of other things)."""
    fmt = obj_field(obj_field(obj_field(session, "audio"), "input"), "format")
    if fmt:
        kind = text(fmt.get("type"))
        rate = fmt.get("rate", 24000) if kind == "audio/pcm" else None
        if rate is not None and rate != 24000:
            return UNKNOWN_FORMAT
        return _UNITS_PER_BYTE.get(kind, UNKNOWN_FORMAT)
    beta = session.get("input_audio_format")
    if beta is None:
        return None
    return _UNITS_PER_BYTE.get(beta, UNKNOWN_FORMAT) if isinstance(beta, str) else UNKNOWN_FORMAT


@dataclass(slots=True)
class AppendRun:
    """Appends we sent, in order, with where each one's audio ends on the session's clock."""

    base: int = 0
    """Where the first one's audio starts on the clock (units)."""
    frames: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    unsure: bool = False
    """One of them had an audio field that is not text: the server refused it, or not."""

    def restart(self, clock: int) -> None:
        """Empty, the next append starting at `clock`."""
        self.base = clock
        self.frames = []
        self.ends = []
        self.unsure = False

    def extend(self, later: AppendRun) -> None:
        """Add the appends of `later`, sent after these (it is left as it was)."""
        if not self.frames:
            self.base = later.base
        self.frames = self.frames + later.frames
        self.ends = self.ends + later.ends
        self.unsure = self.unsure or later.unsure

    def unclock(self, index: int) -> int | None:
        """Take append `index`'s audio off the clock (the server refused it: it added none), moving
        the later ones back; the units it had, or None when it is not in this run."""
        frames = self.frames
        at = len(frames) - 1
        while at >= 0 and frames[at] != index:  # a refusal comes soon after: near the end
            at -= 1
        if at < 0:
            return None
        ends = self.ends
        units = ends[at] - (ends[at - 1] if at else self.base)
        for later in range(at, len(ends)):
            ends[later] -= units
        return units

    def shift(self, units: int) -> None:
        """Move every append `units` along the clock (an earlier one's audio was taken off)."""
        self.base += units
        self.ends = [end + units for end in self.ends]

    def split(self, start_ms: int | None, end_ms: int | None) -> list[int] | None:
        """The appends whose audio overlaps `start_ms`..`end_ms` (the committed turn's), or None
        when the clock cannot tell (no `end_ms`, an unreadable append, a span outside the run).
        Those after are kept (the next turn's); those before are dropped (the server discarded
        them before the speech)."""
        if end_ms is None or self.unsure or not self.frames:
            return None
        end = end_ms * UNITS_PER_MS
        if end <= self.base:
            return None  # before every append here: our clock and the server's disagree
        ends = self.ends
        stop = len(ends)
        # The first append ending at or after `end` holds it (ends rise: a backward scan is short).
        while stop > 1 and ends[stop - 2] >= end:
            stop -= 1
        first = 0
        if start_ms is not None:
            start = start_ms * UNITS_PER_MS
            while first < stop and ends[first] <= start:
                first += 1
            if first == stop:
                return None  # the speech began after the turn's end: not this run's clock
        made = self.frames[first:stop]
        self.base = ends[stop - 1]
        self.frames = self.frames[stop:]
        self.ends = ends[stop:]
        return made
