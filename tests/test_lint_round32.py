"""lint on a developer's own log: a finding's `#N` is the record's line in the file (session 32's
review: it was the frame's position among the events, which the log's blank lines and its records
of other things moved away from the line an editor shows)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.test_replay_inputs import rt_tui

LOG = [
    {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
    },
    {"msg": "websocket connected", "level": "info"},  # the app's own record: no event
    {},
    {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "AAAA"}]},
    },
    {"type": "response.create"},
]


def test_a_finding_names_the_frame_by_its_line_in_a_jsonl_log(tmp_path: Path) -> None:
    lines = [json.dumps(record) if record else "" for record in LOG]  # line 3 is blank
    log = tmp_path / "client.jsonl"
    log.write_text("\n".join(lines) + "\n")
    done = rt_tui("lint", "--json", str(log))
    assert done.returncode == 1, done.stderr
    report = [json.loads(line) for line in done.stdout.splitlines()]  # one finding per line
    findings = [f for f in report if f["rule"] == "item-create-audio-not-transcribed"]
    assert findings, report
    assert re.search(r"conversation\.item\.create #4\b", findings[0]["message"]), findings[0]["message"]
    assert findings[0]["frames"][0]["seq"] == 4
    assert "line 2" in done.stderr  # the left-out record is named by its line too


def test_an_element_of_a_json_array_is_named_by_its_number(tmp_path: Path) -> None:
    log = tmp_path / "client.json"
    log.write_text(json.dumps([LOG[0], LOG[1], LOG[3]]))
    done = rt_tui("lint", str(log))
    assert done.returncode == 1, done.stderr
    assert "conversation.item.create #3 carries audio" in done.stdout, done.stdout
