"""The capture file: every frame of a session, in both directions, as JSON lines on disk.

One folder per session under the user data directory, so nothing the event-log ring forgets is
lost. The API key is never written: frames are scrubbed of it before they reach the disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import IO, Any

from tui.protocol import Envelope

from .scrub import Scrubber


def data_dir() -> Path:
    """rt-tui's user data directory (RT_TUI_DATA_DIR, else $XDG_DATA_HOME/rt-tui)."""
    override = os.environ.get("RT_TUI_DATA_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rt-tui"


def new_session_dir(root: Path | None = None) -> Path:
    """Create and return a fresh per-session folder, named by start time."""
    root = root or data_dir() / "sessions"
    path = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def envelope_record(env: Envelope, t0: float) -> dict[str, Any]:
    """The JSON-lines record of one envelope: direction, time since connect, type, size, frame."""
    record: dict[str, Any] = {
        "seq": env.seq,
        "dir": env.direction.value,
        "t": round(env.mono - t0, 6),
        "wall": round(env.wall, 6),
        "type": env.type,
        "size": env.size,
    }
    if env.data and not env.type.startswith("rt."):
        record["frame"] = env.data
    else:
        record["raw"] = env.raw
        if env.data:
            record["info"] = env.data
    return record


FLUSH_INTERVAL = 0.25
"""Seconds of frames a crash may lose from the capture file at most."""


class CaptureWriter:
    """Appends envelopes to `frames.jsonl` in a session folder, scrubbing the secret."""

    FILENAME = "frames.jsonl"

    def __init__(self, folder: Path, secrets: tuple[str | None, ...] = ()) -> None:
        self.folder = folder
        self.path = folder / self.FILENAME
        self._scrub = Scrubber(secrets)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._t0: float | None = None
        self._flushed_at = 0.0

    def write(self, env: Envelope) -> None:
        """Append one envelope; the file is flushed at least every FLUSH_INTERVAL seconds."""
        if self._file is None:
            return
        if self._t0 is None:
            self._t0 = env.mono
        # The session scrubs what it publishes, so this is one substring search per secret; it also
        # covers envelopes written directly. Scrubbed before serializing, so the line stays JSON.
        env = self._scrub.envelope(env)
        line = json.dumps(envelope_record(env, self._t0), separators=(",", ":"), ensure_ascii=False)
        self._file.write(line + "\n")
        if env.mono - self._flushed_at > FLUSH_INTERVAL:
            # Bounded loss on a crash (the last frames are the ones a debugger needs) without a
            # system call per audio delta.
            self._file.flush()
            self._flushed_at = env.mono

    def flush(self) -> None:
        """Push buffered lines to disk."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (a disk error here is not worth losing the session over)."""
        if self._file is not None:
            file, self._file = self._file, None
            with contextlib.suppress(OSError):
                file.close()
