"""A handshake refused for its credential (a missing key: code null, 'Missing bearer or basic
authentication in header', close 3000; a wrong one: invalid_api_key) is linted with the key's fix
(send Authorization: Bearer …, or let the proxy add one), not the generic 'send the frame again,
set an event_id': no frame of the client's was at fault. The fix never prints the key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.server.testing import background_simulator

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"
RIGHT, WRONG = "sim-key-right-0123456789abcdef", "sim-key-wrong-9876543210zyxwvu"


@pytest.mark.parametrize(("sent", "said"), [(None, "Missing bearer"), (WRONG, "invalid_api_key")])
def test_a_refused_handshake_gets_the_fix_about_the_key(tmp_path: Path, sent: str | None, said: str) -> None:
    audio = tmp_path / "a.raw"
    audio.write_bytes(b"\x10\x00" * 24000)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_API_KEY")}
    env["RT_TUI_DATA_DIR"] = str(tmp_path)
    if sent is not None:
        env["RT_TUI_API_KEY"] = sent
    with background_simulator(api_key=RIGHT) as sim:
        refused = subprocess.run(
            [RT_TUI, "send", "--url", sim.url_for(), str(audio)], capture_output=True, text=True, env=env, timeout=60
        )
    assert refused.returncode == 1 and "3000" in refused.stderr, refused.stderr
    capture = next((tmp_path / "sessions").glob("*/frames.jsonl"))
    lint = subprocess.run([RT_TUI, "lint", "--json", str(capture)], capture_output=True, text=True, env=env, timeout=60)
    findings = [json.loads(line) for line in lint.stdout.splitlines()]
    assert [f["rule"] for f in findings] == ["server-error"], lint.stdout
    assert said in findings[0]["message"]
    fix = findings[0]["fix"]
    assert "Authorization: Bearer" in fix and "RT_TUI_API_KEY" in fix, fix
    assert "send the frame again" not in fix and "event_id" not in fix, fix
    assert WRONG not in lint.stdout + lint.stderr and RIGHT not in lint.stdout + lint.stderr
