"""A session that drops while its session.update awaits an answer: `send` said only `connection
dropped … (code 1006)`, with no path to its capture, and `lint` of that capture said `0 findings`,
exit 0, even with `--fail-on warning`: in CI a session that never got configured, and never sent
the user's audio, passed the gate (review 54b)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from tests.audio_helpers import espeak_wav
from tests.journal_helpers import received, sent
from tests.lint_helpers import ga_created, lint, rules
from tests.test_lint import one
from tests.test_replay_inputs import rt_tui
from tests.test_send import run_cli
from tui.lint import Severity
from tui.protocol import Envelope, local_envelope


def dropped() -> Envelope:
    return local_envelope(
        "rt.connection",
        "connection dropped: no close frame from the server (code 1006)",
        state="closed",
        closed_by="network",
        code=1006,
    )


def update() -> Envelope:
    return sent("session.update", event_id="evt_update_1", session={"type": "realtime"})


def test_a_drop_while_the_session_update_awaits_its_answer_is_a_warning_naming_it() -> None:
    findings, journal = lint(ga_created(), update(), dropped())
    found = one(findings, "connection-dropped")
    assert found.severity is Severity.WARNING
    assert "with work in flight: session.update #" in found.message
    assert "was awaiting its session.updated" in found.message
    assert [journal[i].type for i in found.frames] == ["rt.connection", "session.update"]


def test_an_update_the_server_answered_or_refused_is_no_longer_in_flight() -> None:
    answered = lint(ga_created(), update(), received("session.updated", session={}), dropped())[0]
    assert "connection-dropped" not in rules(answered)
    error = {"type": "invalid_request_error", "code": "unknown_parameter", "event_id": "evt_update_1"}
    refused = lint(ga_created(), update(), received("error", error=error), dropped())[0]
    assert "connection-dropped" not in rules(refused)
    other = {**error, "event_id": "evt_something_else"}
    still = lint(ga_created(), update(), received("error", error=other), dropped())[0]
    assert "connection-dropped" in rules(still)


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak_wav("turn on the kitchen lights", tmp_path_factory.mktemp("wav") / "q.wav")


def test_send_says_where_the_frames_are_and_lint_fails_on_warning(spoken_wav: Path, tmp_path: Path) -> None:
    """Through the real command: a server that takes the session.update and drops the socket (no
    close frame) before answering it. stderr names the capture, and lint --fail-on warning fails
    it. (The simulator's `drop_after=session.created:1` raced `send`'s update under load: the drop
    sometimes came first, and then nothing was in flight.)"""
    from websockets.asyncio.server import ServerConnection

    from tests.server_helpers import scripted_peer

    async def drops_at_the_update(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_drop", "type": "realtime"}}))
        async for message in ws:
            if json.loads(message)["type"] == "session.update":
                ws.transport.abort()  # gone without a close frame, the update unanswered
                return

    async def run() -> subprocess.CompletedProcess[str]:
        async with scripted_peer(drops_at_the_update) as url:
            return await asyncio.to_thread(
                run_cli, "send", str(spoken_wav), "--url", url, env_extra={"RT_TUI_DATA_DIR": str(tmp_path)}
            )

    done = asyncio.run(run())
    assert done.returncode == 1, done.stderr
    [capture] = tmp_path.glob("sessions/*/frames.jsonl")
    assert "connection dropped" in done.stderr, done.stderr
    assert f"rt-tui lint {capture}" in done.stderr, done.stderr
    verdict = rt_tui("lint", "--fail-on", "warning", str(capture))
    assert verdict.returncode == 1, verdict.stdout
    assert "warning: connection-dropped:" in verdict.stdout and "session.updated" in verdict.stdout
