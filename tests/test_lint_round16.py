"""`rt-tui lint` shows a server's control characters as the app does (symbols), never as escapes;
it lints an export without audio as it lints the session the export came from."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

RT_TUI = str(Path(sys.executable).parent / "rt-tui")


def test_lint_shows_control_characters_in_server_text_as_symbols_like_the_app(tmp_path: Path) -> None:
    hostile = {
        "type": "invalid_request_error",
        "code": "response_cancel_not_active\x1b[2J",
        "message": "boom \x1b]52;c;aGVsbG8=\x07 \u202eevil\nsecond line",
        "param": None,
    }
    lines = [
        {"type": "session.created", "session": {"type": "realtime", "id": "sess_1"}},
        {"type": "response.cancel"},
        {"type": "error", "error": hostile},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for args in ((), ("--json",)):
        done = subprocess.run([RT_TUI, "lint", *args, str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        message = done.stdout.splitlines()[0] if not args else json.loads(done.stdout.splitlines()[0])["message"]
        assert "response_cancel_not_active␛[2J: boom ␛]52;c;aGVsbG8=␇ ⟨U+202E⟩evil second line" in message
        assert "\\x1b" not in message and "\\u202e" not in message  # escapes that read as the server's text
        assert not any(ch in done.stdout for ch in "\x1b\x07\u202e")


def test_an_export_without_audio_lints_as_clean_as_the_session_it_came_from(tmp_path: Path) -> None:
    """An export with audio replaced by size tags (`e`, "replace audio by a size tag") holds no audio
    to judge: the linter said each tag was invalid base64 and each commit too short (exit 1 for a
    clean session). A real turn through `rt-tui send`, its capture exported both ways, linted."""
    from tests.audio_helpers import espeak_wav
    from tui.journal.export import export_jsonl
    from tui.model import KEEP_EVERY_PAYLOAD, new_model
    from tui.replay import load
    from tui.replay_cmd import lint

    wav = espeak_wav("turn on the kitchen lights", tmp_path / "q.wav")
    data = tmp_path / "data"
    env = {**os.environ, "RT_TUI_DATA_DIR": str(data)}
    sent = subprocess.run([RT_TUI, "send", str(wav), "--local"], capture_output=True, text=True, timeout=120, env=env)
    assert sent.returncode == 0, sent.stderr
    [capture] = data.glob("sessions/*/frames.jsonl")
    model = new_model("capture", policy=KEEP_EVERY_PAYLOAD)
    model.ingest(load(capture).envelopes)
    verdicts = {}
    for keep_audio in (True, False):
        export = tmp_path / f"export-{keep_audio}.jsonl"
        export_jsonl(model.journal, range(len(model.journal)), export, keep_audio=keep_audio)
        if not keep_audio:
            assert '"elided":"audio"' in export.read_text().replace(" ", "")  # the audio really is tagged
        out = io.StringIO()
        verdicts[keep_audio] = (lint(str(export), out=out), out.getvalue())
    assert verdicts[True][0] == 0, verdicts[True][1]
    assert verdicts[False] == verdicts[True] or verdicts[False][0] == 0, verdicts[False][1]
    assert "invalid-base64-audio" not in verdicts[False][1] and "commit-too-short" not in verdicts[False][1]
