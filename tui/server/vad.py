"""Energy-based server VAD: speech start and stop on the session audio clock."""

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
#: semantic_vad has no silence setting; its "auto" eagerness waits longer than server_vad.
_SEMANTIC_SILENCE_MS = {"low": 1500, "medium": 800, "auto": 800, "high": 400}


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

    @classmethod
    def from_turn_detection(cls, config: dict[str, Any]) -> VadSettings:
        """Settings from a GA `turn_detection` object (server_vad or semantic_vad)."""
        if config.get("type") == "semantic_vad":
            eagerness = str(config.get("eagerness") or "auto")
            return cls(silence_duration_ms=_SEMANTIC_SILENCE_MS.get(eagerness, 800))
        return cls(
            threshold=float(config.get("threshold", 0.5)),
            prefix_padding_ms=int(config.get("prefix_padding_ms", 300)),
            silence_duration_ms=int(config.get("silence_duration_ms", 200)),
        )


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech detected; `audio_start_ms` already includes the prefix padding."""

    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended; `audio_end_ms` includes the trailing silence window."""

    audio_end_ms: int


VadEvent = SpeechStarted | SpeechStopped


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

    @property
    def in_speech(self) -> bool:
        """True between a SpeechStarted and its SpeechStopped."""
        return self._in_speech

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Consume appended audio; return the events it triggers, in order."""
        self._pending.extend(pcm)
        events: list[VadEvent] = []
        whole = len(self._pending) - len(self._pending) % _FRAME_BYTES
        if whole == 0:
            return events
        frames = np.frombuffer(bytes(self._pending[:whole]), dtype="<i2").reshape(-1, _FRAME_BYTES // 2)
        del self._pending[:whole]
        energies = np.mean(np.square(frames.astype(np.float64) / 32768.0), axis=1)
        for energy in energies:
            event = self._step(float(energy))
            if event is not None:
                events.append(event)
            self._frame_start_byte += _FRAME_BYTES
        return events

    def reset(self) -> None:
        """Forget any speech in progress (after `input_audio_buffer.clear`)."""
        self._frame_start_byte += len(self._pending)
        self._pending.clear()
        self._in_speech = False
        self._loud_run = 0
        self._quiet_ms = 0

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
            return None
        self._quiet_ms += FRAME_MS
        if self._quiet_ms < self.settings.silence_duration_ms:
            return None
        self._in_speech = False
        self._loud_run = 0
        return SpeechStopped(frame_ms + FRAME_MS)
