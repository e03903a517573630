"""A reader that goes away (`rt-tui lint --json FILE | head -1`): the command ends quietly, as a
Unix tool killed by SIGPIPE does, never with a traceback or the status that means "findings"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RT_TUI = [sys.executable, "-m", "tui"]

EXIT_FINDINGS = 1


def many_findings(path: Path) -> Path:
    """A JSONL of events with a few thousand misspelt client events: megabytes of findings."""
    lines = [json.dumps({"type": "session.created", "session": {"id": "sess_1", "type": "realtime"}})]
    lines += [json.dumps({"direction": "out", "event": {"type": "response.craete"}}) for _ in range(3000)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("command", "status"),
    [(["lint", "--json"], EXIT_FINDINGS), (["lint"], EXIT_FINDINGS), (["replay", "--json"], 0)],
)
def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path, command: list[str], status: int) -> None:
    """A replay's dump has no verdict: the reader has what it wanted (0). The linter's status is its
    verdict (1: error findings), whoever read how much of its output."""
    events = many_findings(tmp_path / "events.jsonl")
    process = subprocess.Popen(
        [*RT_TUI, *command, str(events)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()  # one line, then the reader goes, as `head -1` does
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(60) == status, err
    assert "Traceback" not in err and "Broken pipe" not in err, err
