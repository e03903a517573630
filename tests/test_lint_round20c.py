"""The linter names the frame an error refused when the client sends no event_id (the official
openai SDK sends `event_id: null`), as the app's log links it: `server-error` names its frame (and
does not ask for an event_id when it found it), and a refused short commit's `commit-too-short`
lists the error that refused it. An error tied to no one kind of frame names none.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.journal_helpers import connecting, frame, received
from tests.proxy_helpers import listening_url, start_headless_proxy
from tui.journal import Links, Pipeline, SessionFacts
from tui.lint import Linter
from tui.protocol import Direction

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))
SET_AN_EVENT_ID = "Set an event_id on every client event"


async def _next_error(conn: Any) -> tuple[str, str]:
    """(code, param) of the next error the server sends."""
    async for event in conn:
        if event.type == "error":
            return str(event.error.code), str(event.error.param)
    raise AssertionError("the connection ended before an error came")


async def _until(conn: Any, etype: str) -> None:
    async for event in conn:
        assert event.type != "error", event.error
        if event.type == etype:
            return
    raise AssertionError(f"the connection ended before {etype}")


async def test_findings_name_the_frames_refused_without_event_id(tmp_path: Path) -> None:
    process = start_headless_proxy(tmp_path / "data", "--local", stdout=subprocess.DEVNULL)
    try:
        assert process.stderr is not None
        url, _ = await listening_url(process.stderr, 30)
        client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=url.rstrip("/") + "/v1")
        errors: list[tuple[str, str]] = []
        async with client.realtime.connect(model="gpt-realtime") as connection:
            conn: Any = connection  # it sends frames the SDK's types refuse: the server must refuse them
            await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
            await _until(conn, "session.updated")
            await conn.input_audio_buffer.commit()  # nothing appended
            errors.append(await _next_error(conn))
            await conn.input_audio_buffer.append(audio=base64.b64encode(b"\x01\x00" * 1200).decode())  # 50 ms
            await conn.input_audio_buffer.commit()
            errors.append(await _next_error(conn))
            text = [{"type": "input_text", "text": "one"}]
            await conn.conversation.item.create(item={"type": "message", "role": "user", "content": text})
            await _until(conn, "conversation.item.done")  # answered: never the cause of a later refusal
            wizard = {"type": "message", "role": "wizard", "content": text}
            await conn.send({"type": "conversation.item.create", "item": wizard})
            errors.append(await _next_error(conn))
            await conn.send(
                {
                    "type": "conversation.item.create",
                    "previous_item_id": "item_nope",
                    "item": {"type": "message", "role": "user", "content": text},
                }
            )
            errors.append(await _next_error(conn))
            await conn.conversation.item.truncate(item_id="item_nope", content_index=0, audio_end_ms=99999)
            errors.append(await _next_error(conn))
            await conn.conversation.item.delete(item_id="item_nope")
            errors.append(await _next_error(conn))
            await conn.send({"type": "conversation.item.delete"})  # its error names item_id: any item event's
            errors.append(await _next_error(conn))
        assert [code for code, _ in errors] == [
            "input_audio_buffer_commit_empty",
            "input_audio_buffer_commit_empty",
            "invalid_value",
            "invalid_value",
            "item_truncate_invalid_item_id",
            "item_delete_invalid_item_id",
            "missing_required_parameter",
        ], errors
        assert [param for _, param in errors[2:4]] == ["item.role", "previous_item_id"]
    finally:
        process.terminate()  # the capture is whole once the proxy has ended
        process.communicate(timeout=10)
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    sent = [record["frame"] for record in records if record["dir"] == "out"]
    assert len(sent) == 10 and all(frame.get("event_id") is None for frame in sent)  # the SDK named no frame
    done = subprocess.run([RT_TUI, "lint", "--json", str(capture)], capture_output=True, text=True, timeout=120)
    findings = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def named(finding: dict[str, Any]) -> list[tuple[str, str]]:
        return [(frame["direction"], frame["type"]) for frame in finding["frames"]]

    short = [f for f in findings if f["rule"] == "commit-too-short"]
    assert [named(f) for f in short] == [
        [("out", "input_audio_buffer.commit"), ("in", "error")],
        [("out", "input_audio_buffer.commit"), ("in", "error"), ("out", "input_audio_buffer.append")],
    ], short
    for finding in short:  # each names its own refusal: the error right after its commit
        commit, refusal = finding["frames"][:2]
        assert refusal["seq"] > commit["seq"]
    assert short[0]["frames"][1]["seq"] < short[1]["frames"][0]["seq"]

    errors_found = [f for f in findings if f["rule"] == "server-error"]
    creates = [f for f in errors_found if "conversation.item.create" in f["message"]]
    assert [named(f) for f in creates] == [[("in", "error"), ("out", "conversation.item.create")]] * 2
    assert "(param item.role)" in creates[0]["message"] and "(param previous_item_id)" in creates[1]["message"]
    first_create, second_create = (f["frames"][1]["seq"] for f in creates)
    assert first_create < second_create  # each refusal names its own create, not the one answered
    for finding in creates:
        error_frame, create = finding["frames"]
        assert f"error #{error_frame['seq']} refuses conversation.item.create #{create['seq']}" in finding["message"]
        assert SET_AN_EVENT_ID not in finding["fix"]
    for code, etype in (
        ("item_truncate_invalid_item_id", "conversation.item.truncate"),
        ("item_delete_invalid_item_id", "conversation.item.delete"),
    ):
        [finding] = [f for f in errors_found if code in f["message"]]
        assert named(finding) == [("in", "error"), ("out", etype)], finding
        assert f"refuses {etype} #{finding['frames'][1]['seq']}" in finding["message"]
        assert SET_AN_EVENT_ID not in finding["fix"]
    # Tied to no one kind of frame (item_id: truncate, delete and retrieve all have it): no guess.
    [ambiguous] = [f for f in errors_found if "missing_required_parameter" in f["message"]]
    assert named(ambiguous) == [("in", "error")]
    assert SET_AN_EVENT_ID in ambiguous["fix"]


def test_a_linter_reads_the_pipelines_links_when_given_them() -> None:
    """The app's pipeline has links before the linter: the linter reads them (not fed twice), and
    pairs the same frames; given them, it must start with the journal, as with the facts."""
    pipeline = Pipeline()
    facts, links = SessionFacts(), Links(pipeline.journal)
    pipeline.add(facts)
    pipeline.add(links)
    linter = Linter(pipeline.journal, facts, links)
    pipeline.add(linter)
    body = {"type": "invalid_request_error", "code": "item_delete_invalid_item_id", "message": "no", "event_id": None}
    pipeline.ingest(
        [
            connecting(),
            frame(Direction.OUT, {"type": "conversation.item.delete", "item_id": "x", "event_id": None}),
            received("error", error={**body, "param": "item_id"}),
        ]
    )
    assert linter.links is links
    [finding] = linter.findings
    assert (finding.rule, finding.frames) == ("server-error", (2, 1))
    assert SET_AN_EVENT_ID not in finding.fix
    with pytest.raises(ValueError, match="facts or links"):
        Linter(pipeline.journal, links=Links(pipeline.journal))
