"""Linter corrections from a tester's sessions (round 20b).

`response-while-active`: the server's error refusing a create found when it was sent becomes part of
that one finding (its frame and its words), with or without `event_id` (the official SDK sends
`event_id: null`); the remark that server VAD starts responses itself is made only when the active
response was not the client's own. The frames are real: clients talking through the real proxy to
the simulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from tests.server_helpers import recv_until, running_simulator, send
from tests.test_proxy import Recorder
from tui.journal import Journal
from tui.lint import Finding, lint_envelopes
from tui.lint.context import duration
from tui.lint.shapes import PCM16
from tui.model import new_model
from tui.protocol import Envelope
from tui.protocol.summary import audio_size_tag, audio_tag
from tui.proxy import ProxyServer, ProxyTarget
from tui.replay import load

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
