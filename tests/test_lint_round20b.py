"""Linter corrections from a tester's sessions (round 20b).

`response-while-active`: the server's error refusing a create found when it was sent becomes part of
that one finding (its frame and its words), with or without `event_id` (the official SDK sends
`event_id: null`); the remark that server VAD starts responses itself is made only when the active
response was not the client's own. The frames are real: clients talking through the real proxy to
the simulator.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.journal_helpers import received
from tests.lint_helpers import ga_created, sent_bare, speech
from tests.server_helpers import b64, recv_until, running_simulator, send
from tests.test_proxy import Recorder
from tui.journal import Journal, Pipeline
from tui.journal.export import export_jsonl
from tui.lint import Finding, Linter, lint_envelopes
from tui.lint.context import duration
from tui.lint.response_rules import MAX_UNANSWERED
from tui.lint.shapes import PCM16
from tui.model import KEEP_EVERY_PAYLOAD, new_model
from tui.protocol import Envelope
from tui.protocol.summary import audio_size_tag, audio_tag
from tui.proxy import ProxyServer, ProxyTarget
from tui.replay import load

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))
GOLDEN_HAR = Path(__file__).parent / "golden" / "replay" / "devtools.har"

ITEM = {
    "type": "conversation.item.create",
    "event_id": None,
    "item": {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "tell me about the kitchen"}],
    },
}
CREATE = {"type": "response.create", "event_id": None}
"""As the official openai SDK sends it: `event_id` null, so nothing pairs the error with it by id."""


async def _proxied(script: Callable[[ClientConnection], Awaitable[None]]) -> list[Envelope]:
    """The frames the real proxy saw while `script` talked through it to the simulator."""
    recorder = Recorder()
    async with running_simulator() as simulator:
        server = ProxyServer(ProxyTarget(simulator.url, "simulator"), port=0, on_connection=recorder)
        await server.start()
        try:
            async with connect(server.url + "?model=gpt-realtime") as ws:
                await recv_until(ws, "session.created")
                await script(ws)
            await recorder.connections[0].closed.wait()
        finally:
            await server.close()
    return recorder.envelopes[1]


def _at(envelopes: list[Envelope], event_type: str, nth: int = 0) -> int:
    return [i for i, env in enumerate(envelopes) if env.type == event_type][nth]


def _while_active(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "response-while-active"]


async def _second_create_after_created(ws: ClientConnection) -> None:
    """The tester's client3: push-to-talk, a create answered, then a second create while it runs."""
    await send(
        ws, {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    await recv_until(ws, "session.updated")
    await send(ws, ITEM)
    await send(ws, CREATE)
    await recv_until(ws, "response.created")
    await send(ws, CREATE)
    error = (await recv_until(ws, "error"))[-1]
    assert error["error"]["code"] == "conversation_already_has_active_response" and error["error"]["event_id"] is None
    await recv_until(ws, "response.done")


async def test_the_servers_error_refusing_a_create_found_at_sending_joins_its_finding() -> None:
    envelopes = await _proxied(_second_create_after_created)
    created, second = _at(envelopes, "response.created"), _at(envelopes, "response.create", 1)
    error = _at(envelopes, "error")
    model = new_model("round20b")
    linter = model.linter
    assert linter is not None
    # Live: the finding is made when the create is sent, foretelling the refusal.
    model.ingest(envelopes[: second + 1])
    [said] = _while_active(linter.take_changes())
    assert said.frames == (second, created)
    assert said.message.endswith("so the server refuses this one (conversation_already_has_active_response).")
    # The error comes: the same one finding now names it and says it was refused by it.
    model.ingest(envelopes[second + 1 :])
    assert _while_active(linter.take_changes()) == []  # not handed out again: no second toast or stderr line
    [found] = _while_active(linter.findings)
    assert found.frames == (second, created, error)
    seq = model.journal[error].seq
    assert f"so it was refused by error #{seq} (conversation_already_has_active_response: " in found.message
    assert found.fix == said.fix and found.severity is said.severity
    assert linter.by_frame[error] == [found] and linter.by_frame[second] == [found]
    assert found in linter.by_frame[created] and said not in linter.by_frame[created]
    marks = model.log_view.marks
    assert marks is not None and marks(second) == "error" and marks(error) is None  # the create is blamed
    assert "server-error" not in [f.rule for f in linter.findings]
    # Read at once, as `rt-tui lint` reads a capture: the same finding.
    journal = Journal()
    assert _while_active(lint_envelopes(envelopes, journal)) == [found]


async def _two_creates_back_to_back(ws: ClientConnection) -> None:
    """The tester's client2: the simulator's default server VAD, a text item, two creates at once."""
    await send(ws, ITEM)
    await send(ws, CREATE)
    await send(ws, CREATE)
    await recv_until(ws, "error")
    await recv_until(ws, "response.done")


async def test_no_vad_remark_when_the_clients_own_create_started_the_active_response() -> None:
    envelopes = await _proxied(_two_creates_back_to_back)
    second, error = _at(envelopes, "response.create", 1), _at(envelopes, "error")
    journal = Journal()
    [found] = _while_active(lint_envelopes(envelopes, journal))
    assert found.frames == (second, error)
    assert found.message.startswith(
        f"response.create #{journal[second].seq} was refused by error #{journal[error].seq}"
    )
    assert "VAD" not in found.message, found.message


# -- durations as the log's audio tags say them --------------------------------------------


def test_durations_read_as_the_log_tags_of_the_same_audio() -> None:
    """The log's tag truncates to the ms (`audio_size_tag`: bytes // 48) and writes seconds to two
    places; the linter rounded (185 ms for the golden HAR's 184 ms item) and wrote one place."""
    for nbytes in (*range(0, 4 * 48 * 1000, 7), 8_879, 47_999, 48_000, 479_999, 480_000, 3_590_000):
        length = audio_size_tag(nbytes).split(" · ")[1][:-1]
        assert duration(nbytes, PCM16) == length, nbytes


def test_the_golden_har_item_audio_lasts_what_its_log_tag_says() -> None:
    envelopes = load(GOLDEN_HAR).envelopes
    [item] = [env for env in envelopes if env.type == "conversation.item.create" and "input_audio" in env.raw]
    tag = audio_tag(item.data["item"]["content"][0]["audio"])
    assert tag.endswith(" · 184 ms]"), tag  # as the log's row shows it
    [found] = [f for f in lint_envelopes(envelopes) if f.rule == "item-create-audio-not-transcribed"]
    assert "carries audio (content[0], 184 ms)" in found.message, found.message


# -- audio given as a size tag counts as the bytes it stands for ------------------------------

SPEECH = b64(speech(1500))
SHORT = b64(speech(40))
ITEM_AUDIO = b64(speech(800))


async def _measured_session(ws: ClientConnection) -> None:
    """Push-to-talk with transcription off: a turn of 1.5 s, a commit of 40 ms, audio in an item,
    a spoken reply and a truncate past its end: findings that each say a length."""
    session = {"type": "realtime", "audio": {"input": {"turn_detection": None, "transcription": None}}}
    await send(ws, {"type": "session.update", "session": session})
    await recv_until(ws, "session.updated")
    for at in range(0, len(SPEECH), 6400):  # 100 ms appends
        await send(ws, {"type": "input_audio_buffer.append", "audio": SPEECH[at : at + 6400]})
    await send(ws, {"type": "input_audio_buffer.commit"})
    await recv_until(ws, "input_audio_buffer.committed")
    await send(ws, {"type": "input_audio_buffer.append", "audio": SHORT})
    await send(ws, {"type": "input_audio_buffer.commit"})
    await recv_until(ws, "error")
    content = [{"type": "input_audio", "audio": ITEM_AUDIO}]
    await send(
        ws, {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": content}}
    )
    await send(ws, CREATE)
    done = (await recv_until(ws, "response.done"))[-1]
    [message] = [item for item in done["response"]["output"] if item["type"] == "message"]
    truncate = {"type": "conversation.item.truncate", "item_id": message["id"], "content_index": 0}
    await send(ws, {**truncate, "audio_end_ms": 600_000})
    await recv_until(ws, "error")


_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?) (ms|s|bytes)\b")


def _numbers(message: str) -> tuple[str, list[float]]:
    """The message with its lengths and sizes taken out, and each of them (ms for lengths)."""
    found = [float(value.replace(",", "")) * (1000 if unit == "s" else 1) for value, unit in _NUMBER.findall(message)]
    return _NUMBER.sub("N", message), found


def _lint_json(path: Path) -> list[dict[str, Any]]:
    done = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def test_an_export_without_audio_lints_with_the_sessions_findings_and_lengths(tmp_path: Path) -> None:
    envelopes = await _proxied(_measured_session)
    pipeline = Pipeline(Journal(KEEP_EVERY_PAYLOAD))
    pipeline.ingest(envelopes)
    journal = pipeline.journal
    whole, bare = tmp_path / "whole.jsonl", tmp_path / "bare.jsonl"
    export_jsonl(journal, range(len(journal)), whole)
    export_jsonl(journal, range(len(journal)), bare, keep_audio=False)
    assert "[audio " in bare.read_text() and ITEM_AUDIO not in bare.read_text()
    want, got = _lint_json(whole), _lint_json(bare)
    rules = [f["rule"] for f in want]
    for rule in ("transcription-off-at-commit", "commit-too-short", "item-create-audio-not-transcribed"):
        assert rule in rules, rules
    assert "truncate-past-audio" in rules, rules
    assert [(f["rule"], f["frames"]) for f in got] == [(f["rule"], f["frames"]) for f in want]
    compared = 0
    for session, export in zip(want, got, strict=True):
        (want_text, want_numbers), (got_text, got_numbers) = _numbers(session["message"]), _numbers(export["message"])
        assert got_text == want_text, (session["message"], export["message"])
        for expected, shown in zip(want_numbers, got_numbers, strict=True):
            assert abs(shown - expected) <= 0.022 * expected + 10, (session["message"], export["message"])
            compared += 1
    assert compared >= 6
    # The server's error refusing the truncate (no event_id) is part of the finding that foretold it.
    assert "server-error" not in rules, rules
    truncate = next(f for f in want if f["rule"] == "truncate-past-audio")
    assert truncate["frames"][-1]["type"] == "error", truncate["frames"]
    error_seq = truncate["frames"][-1]["seq"]
    assert f" The server refused it: error #{error_seq} (invalid_value: Audio content of " in truncate["message"]
    item = next(f for f in got if f["rule"] == "item-create-audio-not-transcribed")
    assert "(content[0], 800 ms)" in item["message"], item["message"]


def test_creates_found_while_active_whose_errors_never_come_are_remembered_within_a_bound() -> None:
    """A log of the client's side only: every create sent while a response runs is said, and the
    linter keeps at most MAX_UNANSWERED of them waiting for an error that will never come."""
    created = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    creates = [sent_bare("response.create") for _ in range(MAX_UNANSWERED * 3)]
    pipeline = Pipeline(Journal())
    linter = Linter(pipeline.journal)
    pipeline.add(linter)
    pipeline.ingest([ga_created(), sent_bare("response.create"), created, *creates])
    assert len(_while_active(linter.findings)) == len(creates)
    assert len(linter._responses._flagged) == MAX_UNANSWERED


async def _vad_without_responses(ws: ClientConnection) -> None:
    """Server VAD commits the turn but, create_response false, leaves answering to the client, which
    sends two creates back to back."""
    vad = {"type": "server_vad", "create_response": False, "silence_duration_ms": 300}
    await send(
        ws, {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": vad}}}}
    )
    await recv_until(ws, "session.updated")
    said = b64(speech(1200) + bytes(48 * 1000))
    for at in range(0, len(said), 6400):
        await send(ws, {"type": "input_audio_buffer.append", "audio": said[at : at + 6400]})
    await recv_until(ws, "input_audio_buffer.committed")
    await send(ws, CREATE)
    await send(ws, CREATE)
    await recv_until(ws, "error")
    await recv_until(ws, "response.done")


async def test_no_vad_remark_when_server_vad_does_not_create_responses() -> None:
    envelopes = await _proxied(_vad_without_responses)
    assert sum(env.type == "response.created" for env in envelopes) == 1  # the client's only
    [found] = _while_active(lint_envelopes(envelopes))
    assert found.frames == (_at(envelopes, "response.create", 1), _at(envelopes, "error"))
    assert "VAD" not in found.message, found.message
