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


def test_times_in_a_form_not_read_are_said_not_dropped_unseen(tmp_path: Path) -> None:
    """A log timed as `12:03:04.100` (time of day only): its events were placed a millisecond
    apart without a word, so a replay's pacing and Δt said nothing true and nobody knew why."""
    records = [
        {"time": "12:03:04.100", "direction": "sent", "event": {"type": "response.create"}},
        {"time": "12:03:05.300", "direction": "received", "event": {"type": "response.created"}},
        {"time": "2025-11-30T12:03:06.000Z", "direction": "received", "event": {"type": "rate_limits.updated"}},
    ]
    log = tmp_path / "client.jsonl"
    log.write_text("".join(json.dumps(record) + "\n" for record in records))
    done = rt_tui("lint", str(log))
    assert '2 of the 3 events\' lines give a time in a form rt-tui does not read (line 1: time: "12:03:04.100")' in (
        done.stderr
    ), done.stderr
    log.write_text(json.dumps(records[0]) + "\n" + json.dumps(records[2]) + "\n")
    assert "line 1 gives a time in a form" in rt_tui("replay", "--json", str(log)).stderr
    log.write_text(json.dumps(records[2]) + "\n")
    assert "a form rt-tui does not read" not in rt_tui("lint", str(log)).stderr
