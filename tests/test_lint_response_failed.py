"""`response-failed`: a response the server ended `failed` says so only in its `response.done`; the
linter names it, its error, the response.create that began it, and the fix for its code. `rt-tui
lint` passed such a recording with 0 findings while `rt-tui send` failed the same turn."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.journal_helpers import connecting, received, sent
from tests.lint_helpers import ga_created, lint, of_rule
from tests.test_replay_inputs import rt_tui
from tui.lint import Severity
from tui.protocol import Envelope

QUOTA = "You exceeded your current quota, please check your plan and billing details."


def failed(code: str, message: str, output: list[Any] | None = None) -> Envelope:
    details = {"type": "failed", "error": {"type": code, "code": code, "message": message}}
    response = {"id": "resp_1", "status": "failed", "status_details": details, "output": output or []}
    return received("response.done", response=response)


def turn(done: Envelope) -> list[Envelope]:
    create = sent("response.create")
    return [connecting(), ga_created(), create, received("response.created", response={"id": "resp_1"}), done]


def test_a_failed_response_is_an_error_naming_its_code_and_the_create_that_began_it() -> None:
    frames = turn(failed("insufficient_quota", QUOTA))
    findings, journal = lint(*frames)
    (found,) = of_rule(findings, "response-failed")
    assert found.severity is Severity.ERROR
    assert "response resp_1 failed: insufficient_quota: You exceeded your current quota" in found.message
    assert re.search(r"it made no output: the user got no reply\. response\.create #\d+ began it\.$", found.message)
    assert "add credit" in found.fix
    create = next(i for i, f in enumerate(journal) if f.type == "response.create")
    done = next(i for i, f in enumerate(journal) if f.type == "response.done")
    assert found.frames == (done, create)


def test_a_server_error_is_a_warning_and_a_cut_reply_says_it_stops_short() -> None:
    item = {"id": "item_a", "type": "message", "role": "assistant", "content": []}
    findings, _ = lint(*turn(failed("server_error", "The server had an error.", [item])))
    (found,) = of_rule(findings, "response-failed")
    assert found.severity is Severity.WARNING and "retry" in found.fix
    assert "its output stops where it failed: the reply is cut short" in found.message


def test_a_completed_or_cancelled_response_is_not_a_failure() -> None:
    for status in ("completed", "cancelled", "incomplete"):
        done = received("response.done", response={"id": "resp_1", "status": status, "output": []})
        findings, _ = lint(*turn(done))
        assert of_rule(findings, "response-failed") == [], status


def test_rt_tui_lint_fails_a_recording_whose_reply_failed(tmp_path: Path) -> None:
    """The real binary over a JSONL log of the client's side (the shape a developer's own client logs)."""
    details = {
        "type": "failed",
        "error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": QUOTA},
    }
    lines = [
        {"type": "session.created", "session": {"id": "sess_1", "type": "realtime"}},
        {"type": "response.create", "event_id": "evt_1"},
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}},
        {"type": "response.done", "response": {"id": "resp_1", "status": "failed", "status_details": details}},
    ]
    path = tmp_path / "client.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = rt_tui("lint", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "response-failed" in done.stdout and "insufficient_quota" in done.stdout, done.stdout


def test_an_error_event_that_said_it_already_is_the_one_finding() -> None:
    """The service may send an `error` with the failed response.done: server-error says it, with its
    fix; response-failed ("no error event says so") would say it twice, once wrongly."""
    error = received("error", error={"type": "insufficient_quota", "code": "insufficient_quota", "message": QUOTA})
    frames = turn(failed("insufficient_quota", QUOTA))
    findings, _ = lint(*frames[:-1], error, frames[-1])
    assert of_rule(findings, "response-failed") == [] and len(of_rule(findings, "server-error")) == 1


def test_an_error_given_as_a_string_is_quoted() -> None:
    details = {"type": "failed", "error": "Internal error: upstream timed out"}
    done = received("response.done", response={"id": "resp_1", "status": "failed", "status_details": details})
    findings, _ = lint(*turn(done))
    (found,) = of_rule(findings, "response-failed")
    assert "failed: Internal error: upstream timed out" in found.message
