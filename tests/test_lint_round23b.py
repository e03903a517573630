"""Round 23d: a response summary with no status, and the key's fix given only to a refused handshake
(an error before the session began, or an upgrade refused with HTTP 401/403), worded for a missing
key or a wrong one."""

from __future__ import annotations

import asyncio
import http
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from tests.test_lint_round23 import RIGHT, WRONG
from tui.lint.server_rules import EITHER_KEY_FIX, MISSING_KEY_FIX, WRONG_KEY_FIX
from tui.protocol.summary import summarize_event
from tui.proxy import ProxyConnection, ProxyServer, ProxyTarget
from tui.server.testing import background_simulator


def test_a_response_without_status_names_its_reason_or_error_as_a_part_of_its_own() -> None:
    """6035d83 put the status first and tied the reason to it: with no status the summary began
    `" (max_output_tokens) · resp_1"`, `": error: boom · resp_1"`."""

    def done(response: dict[str, object]) -> str:
        return summarize_event({"type": "response.done", "response": {"id": "resp_1", **response}})

    assert done({"status_details": {"reason": "max_output_tokens"}}) == "max_output_tokens · resp_1"
    assert done({"status_details": {"error": {"code": "x", "message": "boom"}}}) == "x: boom · resp_1"
    assert done({"status": "incomplete", "status_details": {"reason": "max_output_tokens"}}) == (
        "incomplete (max_output_tokens) · resp_1"
    )
    assert done({"status": "failed", "status_details": {"error": {"code": "x", "message": "boom"}}}) == (
        "failed: x: boom · resp_1"
    )


# -- the key's fix: only for a refused handshake, worded for what was refused -----------------------

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))

CREATED = {"type": "session.created", "event_id": "e0", "session": {"type": "realtime", "id": "sess_1"}}
KEY_FIXES = (MISSING_KEY_FIX, WRONG_KEY_FIX, EITHER_KEY_FIX)


def _env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_API_KEY", "AZURE_OPENAI_API_KEY")
    }


def _lint(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, env=_env(), timeout=60)
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def _lint_frames(tmp_path: Path, *frames: dict[str, Any]) -> list[dict[str, Any]]:
    path = tmp_path / "frames.jsonl"
    path.write_text("".join(json.dumps(f) + "\n" for f in frames), encoding="utf-8")
    return _lint(path)


def of_rule(findings: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == rule]


def _error(code: str | None, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "event_id": "e9",
        "error": {"type": "invalid_request_error", "code": code, "message": message},
    }


@pytest.mark.parametrize(
    "error",
    [
        _error(None, "Error retrieving tool list from MCP server 'x': Http status code: 401 (Unauthorized)"),
        _error(None, "Unknown parameter: 'api_key'."),
        _error("invalid_api_key", "Incorrect API key provided for MCP server 'x'."),
    ],
)
def test_an_error_naming_a_key_after_the_session_began_does_not_get_the_keys_fix(
    tmp_path: Path, error: dict[str, Any]
) -> None:
    """ee99ddf gave every error without a frame and with a key's words the handshake's fix ('the
    server closes the connection before any event'): an MCP tool server's 401 mid-session too."""
    findings = of_rule(
        _lint_frames(tmp_path, CREATED, {"type": "session.updated", "session": {"type": "realtime"}}, error),
        "server-error",
    )
    assert len(findings) == 1, findings
    fix = findings[0]["fix"]
    assert fix not in KEY_FIXES and "when the socket opens" not in fix and "Authorization" not in fix, findings


def test_an_error_naming_a_key_in_a_log_without_session_created_after_other_events_is_not_a_refusal(
    tmp_path: Path,
) -> None:
    """A user's log that left out the session events: the server answering anything says the key
    was accepted."""
    done = {"type": "response.done", "response": {"id": "resp_1", "status": "completed", "output": []}}
    unauthorized = _error(None, "Error retrieving tool list from MCP server 'x': Http status code: 401 (Unauthorized)")
    (found,) = of_rule(_lint_frames(tmp_path, done, unauthorized), "server-error")
    assert "when the socket opens" not in found["fix"], found


@pytest.mark.parametrize(("sent", "fix"), [(None, MISSING_KEY_FIX), (WRONG, WRONG_KEY_FIX)])
def test_a_missing_key_and_a_wrong_one_get_their_own_fix(tmp_path: Path, sent: str | None, fix: str) -> None:
    """The simulator refuses the handshake as the service does (an error, then close 3000): 'send the
    key' for none, 'check which key is sent' for a wrong one."""
    audio = tmp_path / "a.raw"
    audio.write_bytes(b"\x10\x00" * 2400)
    env = _env() | {"RT_TUI_DATA_DIR": str(tmp_path)} | ({"RT_TUI_API_KEY": sent} if sent else {})
    with background_simulator(api_key=RIGHT) as sim:
        refused = subprocess.run(
            [RT_TUI, "send", "--url", sim.url_for(), str(audio)], capture_output=True, text=True, env=env, timeout=60
        )
    assert refused.returncode == 1 and "3000" in refused.stderr, refused.stderr
    findings = _lint(next((tmp_path / "sessions").glob("*/frames.jsonl")))
    assert [f["fix"] for f in of_rule(findings, "server-error")] == [fix], findings


def _refusing(status: int, body: str) -> Callable[[ServerConnection, Request], Response]:
    def refuse(conn: ServerConnection, request: Request) -> Response:
        return conn.respond(http.HTTPStatus(status), body)

    return refuse


AZURE_401 = '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}'


@pytest.mark.parametrize(("status", "body"), [(401, AZURE_401), (403, "Forbidden"), (404, "Not found")])
async def test_an_upgrade_refused_with_401_or_403_through_the_proxy_gets_the_keys_fix(
    tmp_path: Path, status: int, body: str
) -> None:
    """Azure refuses a missing or wrong key with HTTP 401 on the upgrade, no error frame: the proxy's
    capture held only 'upstream refused the upgrade: HTTP 401', and linted clean."""
    connections: list[ProxyConnection] = []
    async with serve(_noop, "127.0.0.1", 0, process_request=_refusing(status, body)) as peer:
        port = peer.sockets[0].getsockname()[1]
        target = ProxyTarget(f"ws://127.0.0.1:{port}/openai/v1/realtime?model=d", "azure")
        async with ProxyServer(target, on_connection=lambda c: _kept(connections, c)) as proxy:
            with pytest.raises(InvalidStatus):
                async with connect(proxy.url + "?model=d", additional_headers={"api-key": "client-key-0123456789"}):
                    pass
            await connections[0].closed.wait()
    assert connections[0].capture is not None
    findings = _lint(connections[0].capture.path)
    if status == 404:
        assert of_rule(findings, "upgrade-refused") == [], findings  # not the key's: the URL's
        return
    (found,) = of_rule(findings, "upgrade-refused")
    assert found["severity"] == "error" and f"HTTP {status}" in found["message"], found
    # Today the proxy's fact does not quote the body (either fix); once it does, Azure's words say which.
    assert found["fix"].startswith(EITHER_KEY_FIX if status == 403 else (EITHER_KEY_FIX, WRONG_KEY_FIX)), found
    assert "api-key" in found["fix"] and "AZURE_OPENAI_API_KEY" in found["fix"], found
    assert ("403 can also mean" in found["fix"]) == (status == 403), found


async def test_an_upgrade_refused_with_401_to_rt_tui_itself_gets_the_keys_fix(tmp_path: Path) -> None:
    """The app's own capture of a refused upgrade (`… rejected the WebSocket upgrade: HTTP 401 (check
    the API key): <what the server said>`): Azure's words name an invalid key, so the fix says to
    check which key is sent."""
    audio = tmp_path / "a.raw"
    audio.write_bytes(b"\x10\x00" * 2400)
    async with serve(_noop, "127.0.0.1", 0, process_request=_refusing(401, AZURE_401)) as peer:
        port = peer.sockets[0].getsockname()[1]
        env = _env() | {"RT_TUI_DATA_DIR": str(tmp_path), "RT_TUI_API_KEY": WRONG}
        process = await asyncio.create_subprocess_exec(
            RT_TUI, "send", "--url", f"ws://127.0.0.1:{port}/v1/realtime?model=d", str(audio),
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1 and b"HTTP 401" in stderr, stderr
    findings = _lint(next((tmp_path / "sessions").glob("*/frames.jsonl")))
    (found,) = of_rule(findings, "upgrade-refused")
    assert found["fix"] == WRONG_KEY_FIX and "invalid subscription key" in found["message"], found
    assert "wrong API endpoint. The server refused the key" in found["message"], found  # one period
    assert WRONG not in json.dumps(findings)


def _kept(connections: list[ProxyConnection], connection: ProxyConnection) -> None:
    """The proxy's on_connection: keep each connection, give it no sink of ours."""
    connections.append(connection)


async def _noop(ws: ServerConnection) -> None:
    """Never reached: every upgrade is refused."""
