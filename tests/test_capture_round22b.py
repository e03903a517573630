"""A capture line that is not JSON is named with json's reason and its column (review 22: a line
cut in its middle said `(Invalid control character at)`, the column json gives left out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.journal_helpers import received, sent
from tui.protocol.codec import json_reason
from tui.protocol.records import capture_line
from tui.session import CaptureError, read_capture

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))


def damaged_capture(path: Path) -> int:
    """Three whole lines, the second cut in the middle of a string (a newline follows the cut, as
    when a later write landed after lost bytes); the column json names for the cut."""
    envs = [received("session.created"), sent("conversation.item.create", text="x" * 80), received("session.updated")]
    lines = [capture_line(env, 0.0) for env in envs]
    cut = lines[1].index(b"xxxx") + 20  # inside the text: the newline after it is a raw control character
    path.write_bytes(lines[0] + lines[1][:cut] + b"\n" + lines[2])
    return cut + 1  # json counts columns from 1 (the line is ASCII: bytes are characters)


def test_a_line_cut_in_its_middle_says_json_s_reason_and_its_column(tmp_path: Path) -> None:
    path = tmp_path / "frames.jsonl"
    column = damaged_capture(path)
    with pytest.raises(CaptureError) as info:
        read_capture(path)
    said = str(info.value)
    assert f"line 2 is not JSON (Invalid control character at column {column}): a damaged capture" in said, said

    # The same line, as `rt-tui lint` and `rt-tui replay --json` say it.
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    for command in (["lint"], ["replay", "--json"]):
        result = subprocess.run([RT_TUI, *command, str(path)], capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 2, result.stderr
        assert f"(Invalid control character at column {column}): a damaged capture" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "b\n"}', "Invalid control character at column 9"),
        ('{"a": "b', "Unterminated string starting at column 7"),
        ('{"seq":1,"dir":"in"\n', "Expecting ',' delimiter"),  # nothing dangles: said as json says it
        ("hello", "Expecting value"),
    ],
)
def test_json_s_reasons_that_end_on_at_get_the_column(text: str, expected: str) -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads(text)
    assert json_reason(info.value) == expected


def test_an_event_log_line_cut_in_its_middle_names_its_column_not_json_s_line_one(tmp_path: Path) -> None:
    """A JSONL of the user's own events (not a capture): the same reason, without json's `line 1`
    beside the file's own line number."""
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "session.update", "session": {}}\n{"type": "response.create", "event_id": "ev\n')
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    result = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2, result.stderr
    assert "line 2 is not JSON (Unterminated string starting at column 41)" in result.stderr, result.stderr
    assert "line 1 column" not in result.stderr
