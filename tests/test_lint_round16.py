"""`rt-tui lint` shows a server's control characters as the app does (symbols), never as escapes."""

from __future__ import annotations

import json
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
