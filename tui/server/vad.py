"""Energy-based voice activity detection on the session audio clock (protocol reference §5).

`server_vad` is an RMS detector: `threshold` sets the level, `prefix_padding_ms` reaches back
before the onset, and `silence_duration_ms` of quiet ends the turn. `semantic_vad` has no such
knobs on the service (a classifier decides when the user is done); here it is approximated by
two waits per `eagerness`: a short one after which the turn may end, and the documented maximum
after which it always ends. Whether the short wait is enough is decided by the caller from what
was said (see `turns.py`), so the detector reports a `SpeechPaused` candidate at the short wait
and only stops by itself at the long one. Until the caller rules on a pause (`stop_at_pause`
or `resume`), later audio waits unexamined, so the outcome does not depend on how fast the
client sends audio compared with how fast the words are recognized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio_buffer import BYTES_PER_MS

FRAME_MS = 20
_FRAME_BYTES = FRAME_MS * BYTES_PER_MS
#: Consecutive loud frames needed before speech counts as started, so a click is not a turn.
_ONSET_FRAMES = 3
#: semantic_vad: quiet after which a turn that sounds finished ends, per eagerness.
SEMANTIC_PAUSE_MS = {"low": 1500, "medium": 800, "auto": 800, "high": 400}
#: semantic_vad: the documented maximum wait (8 s, 4 s, 2 s) after which the turn always ends.
SEMANTIC_MAX_WAIT_MS = {"low": 8000, "medium": 4000, "auto": 4000, "high": 2000}


def threshold_dbfs(threshold: float) -> float:
    """Map the API's 0..1 `threshold` to a frame-energy level in dBFS.

    0.5 lands at -45 dBFS: speech at normal level (-30..-15 dBFS per frame) is well above it,
    room noise from a decent microphone (-60 dBFS and below) stays under it, and digital
    silence (-inf) can never cross it.
    """
    return -80.0 + 70.0 * threshold


@dataclass(frozen=True, slots=True)
class VadSettings:
    """The parts of `turn_detection` that drive detection."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    """Quiet that ends a turn (server_vad), or that makes it a candidate end (semantic_vad)."""
    max_silence_ms: int | None = None
    """semantic_vad only: quiet that always ends a turn; None means `silence_duration_ms` does."""

    @classmethod
    def from_turn_detection(cls, config: dict[str, Any]) -> VadSettings:
        """Settings from a GA `turn_detection` object (server_vad or semantic_vad)."""
        if config.get("type") == "semantic_vad":
            eagerness = str(config.get("eagerness") or "auto")
            return cls(
                silence_duration_ms=SEMANTIC_PAUSE_MS.get(eagerness, SEMANTIC_PAUSE_MS["auto"]),
                max_silence_ms=SEMANTIC_MAX_WAIT_MS.get(eagerness, SEMANTIC_MAX_WAIT_MS["auto"]),
            )
        return cls(
            threshold=_number(config.get("threshold"), 0.5),
            prefix_padding_ms=int(_number(config.get("prefix_padding_ms"), 300)),
            silence_duration_ms=int(_number(config.get("silence_duration_ms"), 200)),
        )


def _number(value: Any, default: float) -> float:
    # A null field in the session means "the default", as on the service. Integers stay integers:
    # one past float's range (valid JSON, and no maximum is documented) must not overflow here.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech detected; `audio_start_ms` already includes the prefix padding."""

    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """semantic_vad: the short wait has passed; the turn may end at `audio_end_ms`."""

    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended; `audio_end_ms` includes the trailing silence window."""

    audio_end_ms: int


VadEvent = SpeechStarted | SpeechPaused | SpeechStopped


class EnergyVad:
    """Frame-by-frame RMS detector with onset confirmation and a silence hangover."""

    def __init__(self, settings: VadSettings, clock_ms: int = 0) -> None:
        self.settings = settings
        self._level = threshold_dbfs(settings.threshold)
        self._pending = bytearray()
        self._frame_start_byte = clock_ms * BYTES_PER_MS
        self._in_speech = False
        self._loud_run = 0
        self._quiet_ms = 0
        self._paused_at: int | None = None
        self._awaiting_ruling = False

    @property
    def in_speech(self) -> bool:
        """True between a SpeechStarted and its SpeechStopped."""
        return self._in_speech

    @property
    def paused_at(self) -> int | None:
        """The `audio_end_ms` of the latest SpeechPaused, while the quiet since then lasts."""
        return self._paused_at

    @property
    def awaiting_ruling(self) -> bool:
        """True after a SpeechPaused until `stop_at_pause` or `resume`; audio waits meanwhile."""
        return self._awaiting_ruling

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Consume appended audio; return the events it triggers, in order.

        A SpeechPaused is always the last event returned: the audio after it stays pending.
        """
        self._pending.extend(pcm)
        events: list[VadEvent] = []
        whole = len(self._pending) - len(self._pending) % _FRAME_BYTES
        if whole == 0 or self._awaiting_ruling:
            return events
        frames = np.frombuffer(bytes(self._pending[:whole]), dtype="<i2").reshape(-1, _FRAME_BYTES // 2)
        energies = np.mean(np.square(frames.astype(np.float64) / 32768.0), axis=1)
        consumed = 0
        for energy in energies:
            event = self._step(float(energy))
            self._frame_start_byte += _FRAME_BYTES
            consumed += _FRAME_BYTES
            if event is not None:
                events.append(event)
                if isinstance(event, SpeechPaused):
                    self._awaiting_ruling = True
                    break
        del self._pending[:consumed]
        return events

    def stop_at_pause(self) -> SpeechStopped | None:
        """End the turn at the pending SpeechPaused position (the caller judged it finished).

        Audio received since stays pending; `feed(b"")` examines it.
        """
        if not self._in_speech or self._paused_at is None:
            return None
        end = self._paused_at
        self._end_speech()
        return SpeechStopped(end)

    def resume(self) -> None:
        """The pause was not the end of the turn: keep listening (`feed(b"")` catches up)."""
        self._awaiting_ruling = False

    def reset(self) -> None:
        """Forget any speech in progress (after a commit or `input_audio_buffer.clear`)."""
        self._frame_start_byte += len(self._pending)
        self._pending.clear()
        self._end_speech()

    def _end_speech(self) -> None:
        self._in_speech = False
        self._loud_run = 0
        self._quiet_ms = 0
        self._paused_at = None
        self._awaiting_ruling = False

    def _step(self, energy: float) -> VadEvent | None:
        loud = energy > 0.0 and 10.0 * math.log10(energy) >= self._level
        frame_ms = self._frame_start_byte // BYTES_PER_MS
        if not self._in_speech:
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run < _ONSET_FRAMES:
                return None
            self._in_speech = True
            self._quiet_ms = 0
            onset_ms = frame_ms - (_ONSET_FRAMES - 1) * FRAME_MS
            return SpeechStarted(max(onset_ms - self.settings.prefix_padding_ms, 0))
        if loud:
            self._quiet_ms = 0
            self._paused_at = None
            return None
        self._quiet_ms += FRAME_MS
        limit = self.settings.max_silence_ms
        if limit is not None and self._quiet_ms == self.settings.silence_duration_ms:
            self._paused_at = frame_ms + FRAME_MS
            return SpeechPaused(self._paused_at)
        if self._quiet_ms < (limit if limit is not None else self.settings.silence_duration_ms):
            return None
        self._end_speech()
        return SpeechStopped(frame_ms + FRAME_MS)
