"""`replay --json` prints each frame's `wall` (its Unix time) where the recording has one, as the
capture and `proxy --json` do; a log without times has none to print (its clock is its lines'
order), and says nothing rather than a made-up time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tui.protocol import Direction, Envelope
from tui.session import CaptureWriter


def replay_json(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "replay", "--json", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_captures_wall_times_are_printed_as_the_capture_has_them(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    writer = CaptureWriter(folder)
    for n, wall in enumerate((1_764_000_000.25, 1_764_000_001.5), start=1):
        raw = json.dumps({"type": "response.done", "n": n})
        writer.write(Envelope(n, Direction.IN, "response.done", json.loads(raw), raw, mono=10.0 + n, wall=wall))
    writer.close()
    captured = [json.loads(line) for line in writer.path.read_text().splitlines()]
    printed = replay_json(writer.path)
    assert [r["wall"] for r in printed] == [r["wall"] for r in captured] == [1_764_000_000.25, 1_764_000_001.5]
    assert list(printed[0])[:6] == ["seq", "dir", "t", "wall", "type", "size"]  # the capture's order


def test_a_log_without_times_prints_no_wall(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"type":"session.created","session":{}}\n{"type":"session.updated","session":{}}\n')
    printed = replay_json(path)
    assert len(printed) == 2 and all("wall" not in record for record in printed)
