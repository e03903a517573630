"""Simulator behaviour driven through the official `openai` realtime client (GA), every event judged.

Covers turn detection (server_vad with its knobs, semantic_vad, barge-in, idle timeout),
responses (per-response options, out-of-band with metadata and `input`, cancel, usage,
rate limits), function calling and transcription options. Each server event is validated
against the package's own types (`judge`), its ids are checked for the service's shapes, and a
few are compared with hand-written golden fixtures in tests/golden/behaviour/.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.resources.realtime.realtime import AsyncRealtimeConnection

from tests.server_helpers import golden_shape, running_simulator, silence, speech_pcm24
from tests.test_server_conformance import judge
from tui.server import Simulator

GOLDEN = Path(__file__).parent / "golden" / "behaviour"
WEATHER = "what is the weather like in London today"
LOGPROBS = "item.input_audio_transcription.logprobs"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
_ID_SHAPES = {
    "event_id": re.compile(r"^event_[A-Za-z0-9]{21}$"),
    "item_id": re.compile(r"^item_[A-Za-z0-9]{21}$"),
    "response_id": re.compile(r"^resp_[A-Za-z0-9]{21}$"),
    "call_id": re.compile(r"^call_[A-Za-z0-9]{16}$"),
}


def judge_behaviour(event: dict[str, Any]) -> None:
    """`judge` (the SDK types, no undeclared fields) plus the service's id shapes (§2.1)."""
    judge(event)
    for key, shape in _ID_SHAPES.items():
        value = event.get(key)
        if isinstance(value, str):
            assert shape.match(value), (event["type"], key, value)
    item = event.get("item") or {}
    if item.get("type") == "function_call":
        assert _ID_SHAPES["call_id"].match(item["call_id"]), item


def assert_golden(event: dict[str, Any], name: str) -> None:
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    judge_behaviour(golden)  # the fixture itself is a valid event
    assert golden_shape(event) == golden_shape(golden), name


class Wire:
    """The official client's connection, with every received event judged and kept."""

    def __init__(self, conn: AsyncRealtimeConnection) -> None:
        self.conn = conn
        self.seen: list[dict[str, Any]] = []

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv_bytes(), timeout)
        event = json.loads(raw)
        judge_behaviour(event)
        # The SDK's own parser must agree on the type, as a client would dispatch on it.
        assert self.conn.parse_event(raw).type == event["type"]
        self.seen.append(event)
        return dict(event)

    async def until(self, event_type: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not events or events[-1]["type"] != event_type:
            events.append(await self.next(max(deadline - loop.time(), 0.001)))
        return events

    async def quiet_for(self, seconds: float) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            while True:
                events.append(await self.next(seconds))
        return events

    async def stream(self, pcm: bytes, chunk_ms: int = 20) -> None:
        step = chunk_ms * 48
        for start in range(0, len(pcm), step):
            await self.conn.input_audio_buffer.append(audio=base64.b64encode(pcm[start : start + step]).decode())

    async def configure(self, **session: Any) -> None:
        await self.conn.session.update(session={"type": "realtime", **session})  # type: ignore[arg-type]
        assert (await self.until("session.updated"))[-1]["type"] == "session.updated"


@contextlib.asynccontextmanager
async def official(sim: Simulator) -> AsyncIterator[Wire]:
    base = sim.url.rsplit("/realtime", 1)[0]
    sdk = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=base)
    async with sdk.realtime.connect(model="gpt-realtime") as conn:
        wire = Wire(conn)
        assert (await wire.next())["type"] == "session.created"
        yield wire


def types(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["type"]) for e in events]


def first(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == event_type)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(response_speed=0, transcription_delta_interval=0) as simulator:
        yield simulator


def test_golden_fixtures_are_valid_and_shape_checks_can_fail() -> None:
    for path in sorted(GOLDEN.glob("*.json")):
        judge_behaviour(json.loads(path.read_text()))
    golden = json.loads((GOLDEN / "timeout_triggered.json").read_text())
    with pytest.raises(AssertionError):
        assert_golden({**golden, "audio_end_ms": "19250"}, "timeout_triggered")
    with pytest.raises(AssertionError):
        assert_golden({**golden, "type": "input_audio_buffer.speech_started"}, "timeout_triggered")
    with pytest.raises(AssertionError):
        judge_behaviour({**golden, "item_id": "item_short"})


async def test_server_vad_knobs_idle_timeout_and_usage(sim: Simulator) -> None:
    async with official(sim) as wire:
        await wire.configure(
            output_modalities=["text"],
            audio={
                "input": {
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.6,
                        "prefix_padding_ms": 100,
                        "silence_duration_ms": 400,
                        "idle_timeout_ms": 5000,
                    }
                }
            },
        )
        await wire.stream(silence(1000) + speech_pcm24(WEATHER) + silence(600))
        turn = await wire.until("response.done")
        limits = await wire.next()
        await wire.stream(silence(5100), chunk_ms=100)
        idle = await wire.until("response.done")
    started, stopped = turn[0], turn[1]
    assert types(turn)[:5] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert 1000 - 100 <= started["audio_start_ms"] <= 1000 - 100 + 40
    assert started["item_id"] == stopped["item_id"] == turn[2]["item_id"]
    assert_golden(turn[-1], "response_done_with_usage")
    assert limits["type"] == "rate_limits.updated"
    timeout = idle[0]
    assert_golden(timeout, "timeout_triggered")
    # A text reply has no playback: idle time counts from where the clock was when it finished.
    streamed_ms = 1000 + len(speech_pcm24(WEATHER)) // 48 + 600
    assert stopped["audio_end_ms"] <= timeout["audio_start_ms"] <= streamed_ms
    assert timeout["audio_end_ms"] - timeout["audio_start_ms"] == 5000
    assert types(idle)[1:5] == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]


async def test_semantic_vad_and_barge_in(slow_sim: Simulator) -> None:
    async with official(slow_sim) as wire:
        await wire.configure(audio={"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}})
        await wire.stream(speech_pcm24(WEATHER) + silence(800))
        before = await wire.until("response.output_audio.delta")
        await wire.stream(speech_pcm24("wait a moment") + silence(800))
        after = await wire.until("response.done")
        await wire.conn.response.cancel()
        await wire.until("response.done")
    response_id = first(before, "response.created")["response"]["id"]
    cancelled = [e for e in after if e["type"] == "response.done" and e["response"]["id"] == response_id]
    assert cancelled[0]["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert types(after).index("input_audio_buffer.speech_started") < after.index(cancelled[0])


async def test_function_call_and_follow_up(sim: Simulator) -> None:
    async with official(sim) as wire:
        await wire.configure(output_modalities=["text"], tools=[WEATHER_TOOL], tool_choice="auto")
        await wire.conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": WEATHER}]}
        )
        await wire.until("conversation.item.done")
        await wire.conn.response.create()
        call = await wire.until("response.done")
        item = call[-1]["response"]["output"][0]
        await wire.conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": item["call_id"], "output": '{"sky": "clear"}'}
        )
        await wire.until("conversation.item.done")
        await wire.conn.response.create()
        answer = await wire.until("response.done")
    assert_golden(first(call, "response.output_item.done"), "function_call_output_item_done")
    assert_golden(first(call, "response.function_call_arguments.done"), "function_call_arguments_done")
    assert json.loads(item["arguments"]) == {"location": "London"}
    assert "According to get_weather: sky clear" in first(answer, "response.output_text.done")["text"]


async def test_out_of_band_responses_and_cancel(slow_sim: Simulator) -> None:
    async with official(slow_sim) as wire:
        await wire.conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me about Rome"}]}
        )
        user_id = (await wire.until("conversation.item.done"))[-1]["item"]["id"]
        await wire.conn.response.create()
        await wire.until("response.output_audio.delta")
        await wire.conn.response.create(event_id="evt_busy")
        busy = (await wire.until("error"))[-1]
        await wire.conn.response.create(
            response={
                "conversation": "none",
                "output_modalities": ["text"],
                "instructions": "Transcribe the last user turn.",
                "metadata": {"job": "transcript"},
                "input": [{"type": "item_reference", "id": user_id}],
            }
        )
        events = await wire.until("response.done")
        while events[-1]["response"]["metadata"] != {"job": "transcript"}:
            events += await wire.until("response.done")
        await wire.conn.response.cancel()
        cancelled = (await wire.until("response.done"))[-1]
    assert busy["error"]["code"] == "conversation_already_has_active_response"
    assert busy["error"]["event_id"] == "evt_busy"
    oob = events[-1]["response"]
    assert oob["conversation_id"] is None and oob["status"] == "completed"
    assert oob["output"][0]["content"][0]["text"] == "Tell me about Rome"
    assert oob["output"][0]["id"] not in {e["item"]["id"] for e in events if e["type"] == "conversation.item.added"}
    assert cancelled["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}


async def test_transcription_options(sim: Simulator) -> None:
    async with official(sim) as wire:
        await wire.configure(
            include=[LOGPROBS],
            audio={
                "input": {
                    "turn_detection": None,
                    "transcription": {"model": "gpt-4o-transcribe", "language": "en", "prompt": "weather, London"},
                }
            },
        )
        await wire.stream(speech_pcm24(WEATHER), chunk_ms=100)
        await wire.conn.input_audio_buffer.commit()
        streamed = await wire.until("conversation.item.input_audio_transcription.completed")
        await wire.configure(audio={"input": {"transcription": {"model": "whisper-1"}}}, include=[])
        await wire.stream(speech_pcm24(WEATHER), chunk_ms=100)
        await wire.conn.input_audio_buffer.commit()
        whisper = await wire.until("conversation.item.input_audio_transcription.completed")
        await wire.stream(silence(500), chunk_ms=100)
        await wire.conn.input_audio_buffer.commit()
        failed = await wire.until("conversation.item.input_audio_transcription.failed")
    assert_golden(first(streamed, "conversation.item.input_audio_transcription.delta"), "transcription_delta_logprobs")
    assert_golden(streamed[-1], "transcription_completed_logprobs")
    assert "London" in streamed[-1]["transcript"]
    deltas = [e for e in whisper if e["type"] == "conversation.item.input_audio_transcription.delta"]
    assert len(deltas) == 1 and deltas[0]["delta"] == whisper[-1]["transcript"]
    assert whisper[-1]["transcript"].endswith("\n") and whisper[-1]["usage"]["type"] == "duration"
    assert whisper[-1]["logprobs"] is None
    assert failed[-1]["error"]["code"] == "audio_unintelligible"


async def test_audio_turn_events_match_the_hand_written_fixtures(slow_sim: Simulator) -> None:
    """Every event of a VAD turn with an audio reply, barge-in, truncation and whisper-1, against
    fixtures written from the protocol reference (§4.2, §5, §6.1, §6.2)."""
    async with official(slow_sim) as wire:
        await wire.configure(
            audio={
                "input": {
                    "transcription": {"model": "whisper-1"},
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
                }
            }
        )
        await wire.stream(silence(1000) + speech_pcm24(WEATHER) + silence(600))
        turn = await wire.until("response.output_audio.delta")
        turn += await wire.until("response.output_audio_transcript.delta")
        # Talk over the reply: the server cancels it (interrupt_response), then answers the new turn.
        await wire.stream(speech_pcm24("wait a moment") + silence(600))
        barge = await wire.until("response.done")
        cancelled = barge[-1]
        answer = await wire.until("response.done")
        answer += await wire.until("rate_limits.updated")
        spoken = first(answer, "response.output_audio.done")["item_id"]
        await wire.conn.conversation.item.truncate(item_id=spoken, content_index=0, audio_end_ms=500)
        truncated = (await wire.until("conversation.item.truncated"))[-1]
        await wire.configure(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}})
        await wire.stream(silence(600))
        await wire.conn.input_audio_buffer.commit()
        failed = (await wire.until("conversation.item.input_audio_transcription.failed"))[-1]
    seen = wire.seen
    for event_type, name in [
        ("input_audio_buffer.speech_started", "speech_started"),
        ("input_audio_buffer.speech_stopped", "speech_stopped"),
        ("response.created", "response_created_audio"),
        ("response.output_item.added", "output_item_added_assistant"),
        ("response.content_part.added", "content_part_added_audio"),
        ("response.output_audio.delta", "output_audio_delta"),
        ("response.output_audio_transcript.delta", "output_audio_transcript_delta"),
    ]:
        assert_golden(first(turn, event_type), name)
    for event_type, name in [
        ("response.output_audio.done", "output_audio_done"),
        ("response.output_audio_transcript.done", "output_audio_transcript_done"),
        ("response.content_part.done", "content_part_done_audio"),
        ("rate_limits.updated", "rate_limits_updated"),
    ]:
        assert_golden(first(answer, event_type), name)
    assert cancelled["response"]["status"] == "cancelled"
    assert_golden(cancelled, "response_done_cancelled")
    assert_golden(truncated, "item_truncated")
    whisper = first(seen, "conversation.item.input_audio_transcription.completed")
    assert_golden(whisper, "transcription_completed_whisper")
    assert whisper["transcript"].endswith("\n") and "weather" in whisper["transcript"].lower()
    assert_golden(failed, "transcription_failed")
