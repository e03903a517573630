"""Real captures for the replay and lint tests: `rt-tui send` sessions against the simulator."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import wave
from pathlib import Path

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))


def tone_wav(path: Path) -> Path:
    """One second of a 24 kHz tone: `send` streams it, the simulator answers (its transcript fails)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(b"".join(int(8000 * math.sin(i / 10)).to_bytes(2, "little", signed=True) for i in range(24000)))
    return path


def sent_captures(folder: Path, count: int = 2) -> list[Path]:
    """The captures of `count` real `rt-tui send` sessions against the simulator, oldest first,
    under `folder`'s data directory."""
    from tui.server.testing import background_simulator

    audio = tone_wav(folder / "tone.wav")
    data = folder / "data"
    environment = {**os.environ, "RT_TUI_DATA_DIR": str(data)}
    with background_simulator() as sim:
        for _ in range(count):
            done = subprocess.run(
                [RT_TUI, "send", "--url", sim.url_for(), str(audio)],
                capture_output=True,
                text=True,
                timeout=120,
                env=environment,
            )
            assert "assistant:" in done.stdout, done.stderr
    found = sorted(data.glob("sessions/*/frames.jsonl"))
    assert len(found) == count
    return found
