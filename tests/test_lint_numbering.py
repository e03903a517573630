"""`rt-tui lint` of a capture made after ctrl+r: its frames go on with the app's numbers (#223 on),
and a finding naming `#300` in an 80-line file sent a reader looking for line 300. The summary
says how the file's frames are numbered when they do not start at #1. The real binary."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_replay_inputs import rt_tui


def _capture(path: Path, first_seq: int) -> None:
    lines = [
        {"seq": first_seq, "dir": "local", "t": 0.0, "wall": 1.0e9, "type": "rt.connection", "size": 40,
         "info": {"type": "rt.connection", "message": "connecting", "state": "connecting", "target": "simulator"}},
        {"seq": first_seq + 1, "dir": "in", "t": 0.01, "wall": 1.0e9, "type": "session.created", "size": 60,
         "frame": {"type": "session.created", "event_id": "e1", "session": {"id": "sess_1", "type": "realtime"}}},
        {"seq": first_seq + 2, "dir": "out", "t": 0.02, "wall": 1.0e9, "type": "response.cancel", "size": 30,
         "frame": {"type": "response.cancel", "event_id": "evt_c"}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_capture_numbered_from_past_1_says_its_numbers_and_one_from_1_does_not(tmp_path: Path) -> None:
    later, first = tmp_path / "later.jsonl", tmp_path / "first.jsonl"
    _capture(later, 223)
    _capture(first, 1)
    done = rt_tui("lint", str(later), str(first))
    summaries = [line for line in done.stdout.splitlines() if " frames (" in line]
    assert summaries[0].startswith(f"{later}: 3 frames (capture, numbered #223–#225), "), done.stdout
    assert summaries[1].startswith(f"{first}: 3 frames (capture), "), done.stdout
