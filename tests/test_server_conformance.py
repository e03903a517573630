"""Simulator events judged by the official openai package's GA pydantic types."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from openai.types.realtime import RealtimeServerEvent

from tests.server_helpers import (
    append_audio,
    client,
    recv,
    recv_until,
    running_simulator,
    send,
    session_patch,
    silence,
    speech_pcm24,
    types,
)

_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RealtimeServerEvent)
#: Fields the service sends (protocol reference §1.6, §2.3) that the SDK models do not declare.
_UNDECLARED_OK = {"obfuscation", "session.id", "session.object", "session.expires_at"}


def unknown_fields(model: Any, path: str = "") -> list[str]:
    """Dotted paths of fields the SDK model does not declare (the openai models allow extras)."""
    found: list[str] = []
    if isinstance(model, pydantic.BaseModel):
        for key in model.model_extra or {}:
            dotted = f"{path}.{key}".lstrip(".")
            if key not in _UNDECLARED_OK and dotted not in _UNDECLARED_OK:
                found.append(dotted)
        for name in type(model).model_fields:
            found += unknown_fields(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for index, value in enumerate(model):
            found += unknown_fields(value, f"{path}[{index}]")
    return found


def judge(event: dict[str, Any]) -> None:
    model = _ADAPTER.validate_python(event)
    assert type(model).__name__ != "dict"
    assert model.type == event["type"]
    assert unknown_fields(model) == [], (event["type"], unknown_fields(model))


def test_judge_rejects_a_malformed_event() -> None:
    with pytest.raises(pydantic.ValidationError):
        judge({"type": "response.output_audio.delta", "event_id": "event_x", "delta": "AAAA"})
    with pytest.raises(AssertionError):
        judge({"type": "input_audio_buffer.cleared", "event_id": "event_x", "surprise": 1})


async def test_every_event_of_a_full_turn_validates() -> None:
    async with running_simulator(response_speed=0) as sim:
        async with client(sim.url) as ws:
            await send(ws, session_patch(vad=True, transcription="gpt-4o-transcribe"))
            events = [await recv(ws)]
            await append_audio(
                ws,
                silence(300) + speech_pcm24("what is the weather like in London today") + silence(800),
                chunk_ms=20,
            )
            events += await recv_until(ws, "rate_limits.updated")
            if "conversation.item.input_audio_transcription.completed" not in types(events):
                events += await recv_until(ws, "conversation.item.input_audio_transcription.completed")
            item_id = events[1]["item_id"]
            await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
            await send(ws, {"type": "conversation.item.delete", "item_id": item_id})
            await send(ws, {"type": "input_audio_buffer.clear"})
            await send(ws, {"type": "bogus.event", "event_id": "evt_bogus"})
            for expected in (
                "conversation.item.retrieved",
                "conversation.item.deleted",
                "input_audio_buffer.cleared",
                "error",
            ):
                events.append(await recv(ws))
                assert events[-1]["type"] == expected
        async with client(sim.url, model="gpt-realtime") as ws2:
            await send(ws2, session_patch(output_modalities=["text"], transcription="whisper-1"))
            events.append(await recv(ws2))
            await append_audio(ws2, speech_pcm24("tell me a joke about the moon"))
            await send(ws2, {"type": "input_audio_buffer.commit"})
            await send(ws2, {"type": "response.create"})
            events += await recv_until(ws2, "response.done")
            await send(ws2, {"type": "input_audio_buffer.append", "audio": ""})
            await send(ws2, {"type": "input_audio_buffer.commit"})
            events += await recv_until(ws2, "error")

    seen = set(types(events))
    assert {
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
        "conversation.item.retrieved",
        "conversation.item.deleted",
        "input_audio_buffer.cleared",
        "error",
    } <= seen
    for event in events:
        judge(event)


async def test_session_created_validates() -> None:
    async with running_simulator() as sim:
        from websockets.asyncio.client import connect

        async with connect(sim.url + "?model=gpt-realtime", compression=None) as ws:
            judge(await recv(ws))
