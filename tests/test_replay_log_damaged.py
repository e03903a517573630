"""A JSONL log of events with a damaged line (a logger killed mid-line, a power cut's NUL bytes, an
edit) was refused whole: `line 73 is not JSON (…): expected one Realtime event per line`, exit 2,
nothing read. rt-tui's own captures were read around such lines; a log of the user's own client is
now read the same way. The real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

EVENTS: list[dict[str, Any]] = [
    {"type": "session.created", "session": {"id": "sess_1"}},
    {"type": "input_audio_buffer.committed", "item_id": "item_1"},
    {"type": "conversation.item.input_audio_transcription.completed", "item_id": "item_1", "transcript": "hi"},
    {"type": "response.done", "response": {"id": "resp_1", "status": "completed", "output": []}},
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60)


def log_of(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def types(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [json.loads(line)["type"] for line in done.stdout.splitlines()]


def test_a_last_line_cut_short_is_left_out_with_a_note_and_the_rest_read(tmp_path: Path) -> None:
    whole = [json.dumps(event) for event in EVENTS]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(line + "\n" for line in whole) + whole[0][:20])  # killed mid-line
    done = run("replay", "--json", str(path))
    assert done.returncode == 0, done.stderr  # as a capture cut short: what came before is whole
    assert types(done) == [event["type"] for event in EVENTS]
    assert done.stderr == (
        f"rt-tui replay: note: {path}: line 5 is not JSON (Unterminated string starting at column 10), its last "
        "line: cut short as it was written? The lines before it are read\n"
    )
    linted = run("lint", str(path))
    assert linted.returncode == 0 and "4 frames" in linted.stdout, (linted.stdout, linted.stderr)


def test_a_damaged_line_inside_is_left_out_and_the_exit_status_says_lines_are_missing(tmp_path: Path) -> None:
    lines = [json.dumps(EVENTS[0]), '{"type": "x', "\0\0\0\0", *(json.dumps(event) for event in EVENTS[1:])]
    path = log_of(tmp_path / "events.jsonl", lines)
    done = run("replay", "--json", str(path))
    assert done.returncode == 2  # every frame read is printed; a script learns that lines were missing
    assert types(done) == [event["type"] for event in EVENTS]
    said = done.stderr.splitlines()
    assert said[0] == (
        f"rt-tui replay: note: {path}: line 2 is not JSON (Unterminated string starting at column 10): "
        "left out, the other lines are read"
    )
    assert len(said) == 2 and said[1].startswith(f"rt-tui replay: note: {path}: line 3 "), said
    # One of several files: the file named once, before `note:` (it was named twice; review 55d).
    several = run("lint", str(path), str(path)).stderr.splitlines()
    assert several[
        0
    ] == f"rt-tui lint: {path}: note: line 2 is not JSON (Unterminated string starting at column 10): " + (
        "left out, the other lines are read"
    ), several
    linted = run("lint", str(path))
    assert linted.returncode == 2 and "2 damaged lines left out" in linted.stdout, (linted.stdout, linted.stderr)


def test_a_file_that_is_no_log_is_still_refused_whole(tmp_path: Path) -> None:
    first_bad = log_of(tmp_path / "a.jsonl", ["garbage", *(json.dumps(event) for event in EVENTS)])
    done = run("replay", "--json", str(first_bad))
    assert done.returncode == 2 and done.stdout == "" and "not JSON" in done.stderr
    # One event, then more damage than events: no log of events, refused with the first line's reason.
    mostly_bad = log_of(tmp_path / "b.jsonl", [json.dumps(EVENTS[0]), "x", "y", "z"])
    done = run("replay", "--json", str(mostly_bad))
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr == (
        f"rt-tui replay: {mostly_bad}: line 2 is not JSON (Expecting value): expected one Realtime event per line\n"
    )


def test_a_session_that_leaves_transcription_out_is_not_said_to_be_missing(tmp_path: Path) -> None:
    """A log whose session.created says nothing of transcription was told it "holds no
    session.created or session.updated"."""
    events = [EVENTS[0], EVENTS[1], EVENTS[3]]  # no transcription event for the commit
    path = log_of(tmp_path / "events.jsonl", [json.dumps(event) for event in events])
    linted = run("lint", str(path))
    assert "transcript-never-came" in linted.stdout, linted.stdout
    assert "The session of session.created #1 leaves input transcription out, so it does not show" in linted.stdout
    assert "holds no session.created" not in linted.stdout


def test_a_cut_last_line_is_not_counted_against_the_log(tmp_path: Path) -> None:
    """One event, one bad line, then a cut last line: refused whole (two unreadable lines outnumbered
    the one event), though the cut line is a note, not damage."""
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENTS[0]) + "\ngarbage\n" + json.dumps(EVENTS[1])[:20])
    done = run("replay", "--json", str(path))
    assert done.returncode == 2 and types(done) == ["session.created"], done.stderr  # a damaged line: exit 2
    said = done.stderr.splitlines()
    assert len(said) == 2 and "line 2 is not JSON" in said[0] and "left out" in said[0], said
    assert "line 3 is not JSON" in said[1] and "its last line: cut short as it was written?" in said[1], said


def test_a_whole_bad_last_line_before_blank_ones_is_damage_not_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENTS[0]) + "\ngarbage\n   ")  # the file ends in blanks, not inside a line
    done = run("replay", "--json", str(path))
    assert done.returncode == 2, done.stderr
    assert "line 2 is not JSON (Expecting value): left out, the other lines are read" in done.stderr, done.stderr
    assert "cut short" not in done.stderr
