"""A reader that goes away (`rt-tui lint --json FILE | head -1`): the command ends quietly, as a
Unix tool killed by SIGPIPE does, never with a traceback or the status that means "findings"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_helpers import espeak_wav

RT_TUI = [sys.executable, "-m", "tui"]

EXIT_FINDINGS = 1
EXIT_BROKEN_PIPE = 141


def many_findings(path: Path) -> Path:
    """A JSONL of events with a few thousand misspelt client events: megabytes of findings."""
    lines = [json.dumps({"type": "session.created", "session": {"id": "sess_1", "type": "realtime"}})]
    lines += [json.dumps({"direction": "out", "event": {"type": "response.craete"}}) for _ in range(3000)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("command", "status"),
    [(["lint", "--json"], EXIT_FINDINGS), (["lint"], EXIT_FINDINGS), (["replay", "--json"], EXIT_BROKEN_PIPE)],
)
def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path, command: list[str], status: int) -> None:
    """A replay's dump has no verdict: it ends as a command SIGPIPE ended (141), the status every
    command but lint gives (it was 0, which under `set -o pipefail` passed a cut dump as whole). The
    linter's status is its verdict (1: error findings), whoever read how much of its output."""
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


@pytest.mark.parametrize("json_out", [True, False])
def test_send_whose_reader_goes_away_ends_quietly_with_141_and_a_whole_capture(tmp_path: Path, json_out: bool) -> None:
    """BrokenPipeError is a ConnectionError: `send` took its reader's going for a dropped connection
    and said `rt-tui send: [Errno 32] Broken pipe`, exit 1. Its capture is still closed whole."""
    wav = espeak_wav("what is the weather like", tmp_path / "q.wav")
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [*RT_TUI, "send", str(wav), "--local", *(["--json"] if json_out else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
    )
    assert process.stdout is not None and process.stderr is not None
    if json_out:
        assert process.stdout.readline()  # one line, then the reader goes, as `head -1` does
    process.stdout.close()  # without --json, before its two lines: `| head -0`
    err = process.stderr.read()
    assert process.wait(120) == EXIT_BROKEN_PIPE, err
    assert err == "", err
    (capture,) = data_dir.glob("sessions/*/frames.jsonl")
    last = json.loads(capture.read_text().splitlines()[-1])
    assert (last["type"], last["info"]["state"]) == ("rt.connection", "closed")
