"""Review fixes: strict `response.create`, tool outputs in `response.input`, bad JSON, limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.server_helpers import (
    append_audio,
    b64,
    client,
    of_type,
    recv,
    recv_until,
    running_simulator,
    send,
    session_patch,
    speech_pcm24,
    types,
)
from tests.surface_helpers import beta_client
from tui.protocol import Dialect
from tui.server import Simulator
from tui.server.connection import Connection
from tui.server.hearing import MAX_RECOGNITIONS_IN_FLIGHT, Hearing
from tui.server.item_store import ItemStore
from tui.server.pieces import estimate_text_tokens
from tui.server.responder import MAX_REPLY_CHARS, fit_reply
from tui.server.tts import TtsEngine
from tui.server.writer import EventWriter

COMPLETED = "conversation.item.input_audio_transcription.completed"


async def response_error(ws: Any, response: Any) -> dict[str, Any]:
    """Send a response.create that must fail; return the error object (and check nothing started)."""
    await send(ws, {"type": "response.create", "event_id": "evt_bad_response", "response": response})
    event = await recv(ws)
    assert event["type"] == "error", event
    error: dict[str, Any] = event["error"]
    assert error["event_id"] == "evt_bad_response"
    return error


@pytest.mark.parametrize(
    ("response", "code", "param"),
    [
        ({"modalities": ["text"]}, "unknown_parameter", "response.modalities"),
        ({"temperature": 0.8}, "unknown_parameter", "response.temperature"),
        ({"bogus": 1}, "unknown_parameter", "response.bogus"),
        ({"voice": "alloy"}, "unknown_parameter", "response.voice"),
        ({"audio": {"output": {"voice": 42}}}, "invalid_type", "response.audio.output.voice"),
        ({"audio": {"output": {"speed": 1.0}}}, "unknown_parameter", "response.audio.output.speed"),
        ({"instructions": {}}, "invalid_type", "response.instructions"),
        ({"metadata": "x"}, "invalid_type", "response.metadata"),
        ({"conversation": "mine"}, "invalid_value", "response.conversation"),
        ({"output_modalities": ["text", "audio"]}, "invalid_value", "response.output_modalities"),
        ({"max_output_tokens": 0}, "integer_below_min_value", "response.max_output_tokens"),
        ({"tools": [{"type": "retrieval"}]}, "invalid_value", "response.tools[0].type"),
        ({"tools": [{"type": "function"}]}, "missing_required_parameter", "response.tools[0].name"),
        ({"tool_choice": "sometimes"}, "invalid_value", "response.tool_choice"),
        ({"tool_choice": {"type": "function"}}, "missing_required_parameter", "response.tool_choice.name"),
        ("text please", "invalid_type", "response"),
    ],
)
async def test_response_create_is_validated_like_session_update(
    sim: Simulator, response: Any, code: str, param: str
) -> None:
    async with client(sim.url) as ws:
        error = await response_error(ws, response)
        # Nothing ran: the next valid request is the only response.
        await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
        events = await recv_until(ws, "response.done")
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == (code, param), error
    assert len(of_type(events, "response.created")) == 1


async def test_every_field_of_the_official_response_type_is_accepted(sim: Simulator) -> None:
    request = {
        "audio": {"output": {"format": {"type": "audio/pcmu"}, "voice": {"id": "voice_custom"}}},
        "conversation": "none",
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "instructions": "Be brief.",
        "max_output_tokens": 200,
        "metadata": {"topic": "test"},
        "output_modalities": ["text"],
        "parallel_tool_calls": False,
        "prompt": {"id": "pmpt_1", "version": None, "variables": None},
        "reasoning": {"effort": "low"},
        "tool_choice": "none",
        "tools": [{"type": "function", "name": "get_weather", "description": "Weather.", "parameters": {}}],
    }
    async with client(sim.url) as ws:
        await send(ws, {"type": "response.create", "response": request})
        events = await recv_until(ws, "response.done")
    assert not of_type(events, "error"), events
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["metadata"] == {"topic": "test"}


async def test_beta_response_create_is_still_translated() -> None:
    async with running_simulator(response_speed=0, dialect=Dialect.BETA) as beta_sim:
        async with beta_client(beta_sim.url) as ws:
            await send(
                ws,
                {
                    "type": "response.create",
                    "response": {"modalities": ["text"], "temperature": 0.8, "max_response_output_tokens": 50},
                },
            )
            events = await recv_until(ws, "response.done")
            await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
            error = await recv(ws)
    assert events[-1]["response"]["status"] in ("completed", "incomplete")
    assert error["type"] == "error"
    assert error["error"]["code"] == "unknown_parameter"


async def test_response_input_may_answer_a_call_of_the_same_input(sim: Simulator) -> None:
    call = {"type": "function_call", "call_id": "call_in_input_1", "name": "get_weather", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_in_input_1", "output": '{"sunny": true}'}
    orphan = {"type": "function_call_output", "call_id": "call_nowhere", "output": "{}"}
    async with client(sim.url) as ws:
        request = {"output_modalities": ["text"], "conversation": "none", "input": [call, output]}
        await send(ws, {"type": "response.create", "response": request})
        events = await recv_until(ws, "response.done")
        error = await response_error(ws, {"input": [orphan]})
    assert not of_type(events, "error"), events
    assert events[-1]["response"]["status"] == "completed"
    assert "get_weather" in events[-1]["response"]["output"][0]["content"][0]["text"]
    assert (error["code"], error["param"]) == ("invalid_value", "response.input[0].call_id")


async def test_response_input_may_answer_a_call_of_the_conversation(sim: Simulator) -> None:
    call = {"type": "function_call", "call_id": "call_in_conv_1", "name": "get_time", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_in_conv_1", "output": '{"time": "noon"}'}
    async with client(sim.url) as ws:
        await send(ws, {"type": "conversation.item.create", "item": call})
        await recv_until(ws, "conversation.item.done")
        request = {"output_modalities": ["text"], "input": [output]}
        await send(ws, {"type": "response.create", "response": request})
        events = await recv_until(ws, "response.done")
    assert not of_type(events, "error"), events
    assert events[-1]["response"]["status"] == "completed"


async def test_retrieve_hides_a_transcript_whose_completed_is_still_held() -> None:
    pcm = speech_pcm24("what is the weather like in London today")
    async with running_simulator(response_speed=1.0, transcription_delta_interval=0) as slow:
        url = f"{slow.url}?model=gpt-realtime&sim_transcription=after_response"
        async with connect(url, compression=None) as ws:
            await recv(ws)
            await send(ws, session_patch(transcription="gpt-4o-transcribe", output_modalities=["text"]))
            await recv_until(ws, "session.updated")
            await append_audio(ws, pcm)
            await send(ws, {"type": "input_audio_buffer.commit"})
            item_id = (await recv_until(ws, "input_audio_buffer.committed"))[-1]["item_id"]
            await send(ws, {"type": "response.create"})
            # The reply is being written: recognition is done, so `.completed` was emitted but is held.
            early = await recv_until(ws, "response.output_text.delta")
            await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
            before = await recv_until(ws, "conversation.item.retrieved")
            rest = await recv_until(ws, COMPLETED)
            await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
            after = await recv_until(ws, "conversation.item.retrieved")
    assert COMPLETED not in types(early + before)
    assert before[-1]["item"]["content"][0]["transcript"] is None
    assert types(rest).index("response.done") < types(rest).index(COMPLETED)
    assert after[-1]["item"]["content"][0]["transcript"] == rest[-1]["transcript"]


def strict_json(raw: str | bytes) -> Any:
    """Parse a frame as RFC 8259 JSON: NaN and Infinity are refused."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the simulator sent {name}")

    return json.loads(raw, parse_constant=refuse)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_invalid_json(sim: Simulator, literal: str) -> None:
    vad = '{"type":"server_vad","threshold":' + literal + "}"
    frame = '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":' + vad + "}}}}"
    async with client(sim.url) as ws:
        await ws.send(frame)
        error = strict_json(await ws.recv())
        await send(ws, session_patch(vad=True))
        updated = strict_json(await ws.recv())
    assert error["type"] == "error"
    assert error["error"]["code"] == "invalid_json"
    assert updated["type"] == "session.updated"
    assert updated["session"]["audio"]["input"]["turn_detection"]["threshold"] == 0.5


async def test_an_overflowing_number_is_an_invalid_value(sim: Simulator) -> None:
    # 1e999 is valid JSON but parses to infinity.
    frame = '{"type":"session.update","session":{"type":"realtime","audio":{"output":{"speed":1e999}}}}'
    async with client(sim.url) as ws:
        await ws.send(frame)
        error = strict_json(await ws.recv())
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_value", "session.audio.output.speed")


async def test_a_failed_response_reports_a_generic_message(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: TtsEngine, text: str, **_: Any) -> bytes:
        raise RuntimeError("internal secret detail")

    monkeypatch.setattr(TtsEngine, "synthesize", broken)
    async with client(sim.url) as ws:
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
    done = events[-1]["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["type"] == "server_error"
    assert "secret" not in json.dumps(events)
    assert done["status_details"]["error"]["message"] == "The server had an error while processing your request."


async def test_deeply_nested_json_is_invalid_json_and_keeps_the_socket(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await ws.send("[" * 200_000)
        error = await recv(ws)
        await send(ws, session_patch())
        alive = await recv(ws)
    assert (error["type"], error["error"]["code"]) == ("error", "invalid_json")
    assert alive["type"] == "session.updated"


async def test_a_crashing_handler_answers_server_error_and_keeps_the_socket(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: Any, *args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ItemStore, "delete", crash)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    async with client(sim.url) as ws:
        await send(ws, {"type": "conversation.item.create", "item": item})
        added = (await recv_until(ws, "conversation.item.done"))[-1]
        await send(ws, {"type": "conversation.item.delete", "event_id": "evt_del", "item_id": added["item"]["id"]})
        error = await recv(ws)
        await send(ws, session_patch())
        alive = await recv(ws)
    assert error["error"]["type"] == "server_error"
    assert error["error"]["event_id"] == "evt_del"
    assert "boom" not in error["error"]["message"]
    assert alive["type"] == "session.updated"


async def test_a_broken_connection_closes_with_1011(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, raw: Any) -> None:
        raise RuntimeError("state lost")

    monkeypatch.setattr(Connection, "_on_frame", broken)
    async with client(sim.url) as ws:
        await send(ws, session_patch())
        with pytest.raises(ConnectionClosed):
            await recv(ws, timeout=3)
    assert ws.close_code == 1011


async def test_a_client_that_stops_reading_is_closed_with_1008() -> None:
    clip = b64(bytes(24_000 * 2 * 20))  # 20 s of silence: each retrieve sends about 1.3 MB
    item = {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": clip}]}
    async with running_simulator(max_queued_bytes=200_000) as small:
        async with connect(f"{small.url}?model=gpt-realtime", max_size=None, max_queue=1) as ws:
            await send(ws, {"type": "conversation.item.create", "item": item})
            created_id = None
            while created_id is None:
                event = await recv(ws)
                if event["type"] == "conversation.item.added":
                    created_id = event["item"]["id"]
            # Then stop reading while asking for far more than the 200 000-character bound.
            for _ in range(40):
                await send(ws, {"type": "conversation.item.retrieve", "item_id": created_id})
            await asyncio.sleep(0.5)
            with pytest.raises(ConnectionClosed):
                for _ in range(200):
                    await recv(ws, timeout=15)  # a loaded machine builds each 1.3 MB reply slowly
    assert ws.close_code == 1008
    assert ws.close_reason == "client is not reading"


async def test_an_append_over_15_mib_is_refused() -> None:
    # 15 MiB of audio is 20 MiB of base64: only a server configured for frames that large gets
    # as far as the per-append limit (the default 16 MiB frame limit refuses the frame first).
    async with running_simulator(max_frame_bytes=24 * 1024 * 1024) as large, client(large.url) as ws:
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(bytes(15 * 1024 * 1024 + 2))})
        error = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.commit"})
        empty = await recv(ws)
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_value", "audio")
    # Nothing was appended.
    assert empty["error"]["code"] == "input_audio_buffer_commit_empty"


async def test_the_input_buffer_holds_at_most_ten_minutes(sim: Simulator) -> None:
    minute = b64(bytes(60 * 48_000))
    async with client(sim.url) as ws:
        # Manual turns: VAD would drop idle silence from the buffer.
        await send(ws, session_patch())
        await recv(ws)
        for _ in range(10):
            await send(ws, {"type": "input_audio_buffer.append", "audio": minute})
        await send(ws, {"type": "input_audio_buffer.append", "event_id": "evt_eleventh", "audio": b64(bytes(96))})
        error = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.clear"})
        cleared = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(bytes(96))})
        await send(ws, {"type": "input_audio_buffer.clear"})
        again = await recv(ws)
    assert error["error"]["event_id"] == "evt_eleventh"
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_value", "audio")
    assert cleared["type"] == again["type"] == "input_audio_buffer.cleared"


def test_replies_are_cut_before_synthesis() -> None:
    long = " ".join(f"word{i}" for i in range(2000))
    capped, cut = fit_reply(long, "inf")
    assert len(capped) <= MAX_REPLY_CHARS and not cut
    assert long.startswith(capped) and capped.endswith("word" + capped.rsplit("word", 1)[1])
    short, cut = fit_reply(long, 10)
    assert cut and long.startswith(short)
    assert estimate_text_tokens(short) <= 12
    whole, cut = fit_reply("Hello there.", 10)
    assert (whole, cut) == ("Hello there.", False)


async def test_a_huge_text_input_is_not_synthesized_in_full(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    spoken: list[str] = []
    original = TtsEngine.synthesize

    async def recording(self: TtsEngine, text: str, **kwargs: Any) -> bytes:
        spoken.append(text)
        return await original(self, text, **kwargs)

    monkeypatch.setattr(TtsEngine, "synthesize", recording)
    huge = " ".join(["weather"] * 20_000)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": huge}]}
    async with client(sim.url) as ws:
        await send(ws, {"type": "conversation.item.create", "item": item})
        await send(ws, {"type": "response.create"})
        done = (await recv_until(ws, "response.done"))[-1]["response"]
        await send(ws, {"type": "response.create", "response": {"max_output_tokens": 5}})
        limited = (await recv_until(ws, "response.done"))[-1]["response"]
    assert done["status"] == "completed"
    assert len(spoken[0]) <= MAX_REPLY_CHARS
    # The echo is shortened, not cut mid-word in a reply said `completed` (which read as lost deltas):
    # its quote ends with an ellipsis and the reply keeps its last sentence.
    assert spoken[0].startswith('You said: "weather weather') and '…". ' in spoken[0]
    assert spoken[0].endswith((".", "?", "!")), spoken[0][-40:]
    assert limited["status"] == "incomplete"
    assert estimate_text_tokens(spoken[1]) <= 6


async def test_one_connection_has_at_most_two_recognitions_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    peak = 0
    gate = asyncio.Event()

    class SlowAsr:
        async def transcribe(self, pcm: bytes) -> str:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await gate.wait()
            running -= 1
            return "hello"

    hearing = Hearing(SlowAsr())  # type: ignore[arg-type]
    waits = [asyncio.create_task(hearing.hear(f"item_{i}", bytes([i]) * 10)) for i in range(5)]
    await asyncio.sleep(0.05)
    assert (running, peak) == (MAX_RECOGNITIONS_IN_FLIGHT, MAX_RECOGNITIONS_IN_FLIGHT)
    other = Hearing(SlowAsr())  # type: ignore[arg-type]
    # Another connection is not queued behind the first one's backlog.
    other_wait = asyncio.create_task(other.hear("item_other", b"x"))
    await asyncio.sleep(0.05)
    assert running == MAX_RECOGNITIONS_IN_FLIGHT + 1
    gate.set()
    assert await asyncio.gather(*waits, other_wait) == ["hello"] * 6
    assert peak == MAX_RECOGNITIONS_IN_FLIGHT + 1


async def test_rate_limits_update_is_cancelled_when_the_connection_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    emitted: list[str] = []
    original = EventWriter.emit

    def spy(self: EventWriter, event_type: str, /, **fields: Any) -> dict[str, Any]:
        emitted.append(event_type)
        return original(self, event_type, **fields)

    monkeypatch.setattr(EventWriter, "emit", spy)
    # 1.5 s: the client's close reaches the server well before the update is due, even on a loaded
    # machine (0.3 s was not always: the update was then due, and sent, before the close came).
    async with running_simulator(response_speed=0, rate_limits_delay=1.5) as fast:
        async with client(fast.url) as ws:
            await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
            await recv_until(ws, "response.done")
        await asyncio.sleep(2)  # past the update's time: had it not been cancelled, it would be sent
        async with client(fast.url) as ws:
            await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
            await recv_until(ws, "response.done")
            await recv_until(ws, "rate_limits.updated", timeout=10)
    # The first connection's update was cancelled with it; the second one's was sent.
    assert emitted.count("rate_limits.updated") == 1
