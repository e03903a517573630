"""Replaying recorded sessions: captures, HAR files and JSONL of frames, through the same pipeline
as a live session (the app's pump, or a headless command)."""

from __future__ import annotations

from dataclasses import dataclass

from .player import ReplayPlayer
from .sources import Recording, ReplayError, guess_direction, load, load_many, recording_name


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """What `rt-tui replay` asks of the app: a recording, played at once (None) or at a speed."""

    recording: Recording
    speed: float | None = None


__all__ = [
    "Recording",
    "ReplayError",
    "ReplayPlayer",
    "ReplayRequest",
    "guess_direction",
    "load",
    "load_many",
    "recording_name",
]
