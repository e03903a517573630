"""The beta dialect: beta names and flat shapes on the wire, one GA model inside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server_helpers import (
    b64,
    of_type,
    recv,
    recv_until,
    running_simulator,
    send,
    silence,
    speech_pcm24,
    types,
)
from tests.surface_helpers import beta_client, golden, judge_beta, raw, shape_of
from tui.protocol import Dialect
from tui.server import Simulator

#: GA names a beta server never sends.
GA_ONLY = {
    "conversation.item.added",
    "conversation.item.done",
    "response.output_text.delta",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "input_audio_buffer.timeout_triggered",
}


@pytest.fixture
async def beta() -> AsyncIterator[Simulator]:
    async with running_simulator(dialect=Dialect.BETA, response_speed=0) as simulator:
        yield simulator


async def test_beta_session_created_is_flat(beta: Simulator) -> None:
    async with raw(
        beta.url + "?model=gpt-4o-realtime-preview-2024-12-17", headers={"OpenAI-Beta": "realtime=v1"}
    ) as ws:
        created = await recv(ws)
    session = created["session"]
    assert created["type"] == "session.created"
    assert "type" not in session and "audio" not in session and "output_modalities" not in session
    assert session["modalities"] == ["text", "audio"]
    assert (session["input_audio_format"], session["output_audio_format"]) == ("pcm16", "pcm16")
    assert session["voice"] == "alloy" and session["temperature"] == 0.8
    assert session["input_audio_transcription"] is None
    assert session["max_response_output_tokens"] == "inf"
    assert shape_of(created) == shape_of(golden("beta_session_created.json"))
    judge_beta(created)


async def test_beta_is_also_chosen_by_subprotocol_and_tolerates_a_missing_header(beta: Simulator) -> None:
    offered = ["realtime", "openai-beta.realtime-v1"]
    async with raw(beta.url + "?model=gpt-4o-realtime-preview", subprotocols=offered) as ws:
        assert ws.subprotocol == "realtime"
        assert "modalities" in (await recv(ws))["session"]
    async with raw(beta.url + "?model=gpt-4o-realtime-preview") as ws:
        assert "modalities" in (await recv(ws))["session"]


async def test_beta_session_update_is_flat_and_strict(beta: Simulator) -> None:
    async with beta_client(beta.url) as ws:
        await send(
            ws,
            {
                "type": "session.update",
                "event_id": "evt_beta_update",
                "session": {
                    "modalities": ["text"],
                    "input_audio_format": "g711_ulaw",
                    "input_audio_transcription": {"model": "whisper-1", "language": "en"},
                    "turn_detection": None,
                    "voice": "verse",
                    "temperature": 0.7,
                    "max_response_output_tokens": 300,
                },
            },
        )
        updated = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"type": "realtime"}})
        ga_field = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"audio": {"input": {}}}})
        nested = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"temperature": 2.0, "instructions": "no"}})
        hot = await recv(ws)
        await send(ws, {"type": "session.update", "session": {}})
        unchanged = await recv(ws)
    session = updated["session"]
    assert updated["type"] == "session.updated" and "evt_beta_update" not in json.dumps(updated)
    assert session["modalities"] == ["text"]
    assert session["input_audio_format"] == "g711_ulaw"
    assert session["input_audio_transcription"] == {"model": "whisper-1", "language": "en"}
    assert session["turn_detection"] is None
    assert (session["voice"], session["temperature"], session["max_response_output_tokens"]) == ("verse", 0.7, 300)
    judge_beta(updated)
    assert (ga_field["error"]["code"], ga_field["error"]["param"]) == ("unknown_parameter", "session.type")
    assert (nested["error"]["code"], nested["error"]["param"]) == ("unknown_parameter", "session.audio")
    assert (hot["error"]["code"], hot["error"]["param"]) == ("decimal_above_max_value", "session.temperature")
    assert unchanged["session"]["temperature"] == 0.7
    assert unchanged["session"]["instructions"] != "no"


async def test_beta_commit_sends_one_item_created(beta: Simulator) -> None:
    async with beta_client(beta.url) as ws:
        await send(ws, {"type": "session.update", "session": {"turn_detection": None}})
        await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(200))})
        await send(ws, {"type": "input_audio_buffer.commit"})
        committed, created = await recv(ws), await recv(ws)
        await send(ws, {"type": "input_audio_buffer.clear"})
        cleared = await recv(ws)
    assert committed["type"] == "input_audio_buffer.committed"
    assert created["type"] == "conversation.item.created"
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert shape_of(created) == shape_of(golden("beta_item_created_user_audio.json"))
    assert cleared["type"] == "input_audio_buffer.cleared"
    for event in (committed, created, cleared):
        judge_beta(event)


async def _beta_turn(ws: Any, response: dict[str, Any]) -> list[dict[str, Any]]:
    await send(
        ws,
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello moon"}]},
        },
    )
    await send(ws, {"type": "response.create", "response": response})
    events = await recv_until(ws, "response.done")
    return events + await recv_until(ws, "rate_limits.updated")


async def test_beta_text_and_audio_responses_use_beta_names_and_shapes(beta: Simulator) -> None:
    async with beta_client(beta.url) as ws:
        text_events = await _beta_turn(ws, {"modalities": ["text"], "temperature": 0.9})
        audio_events = await _beta_turn(ws, {"modalities": ["audio", "text"], "voice": "echo"})
    text_types, audio_types = types(text_events), types(audio_events)
    assert not GA_ONLY & (set(text_types) | set(audio_types))
    assert "response.text.delta" in text_types and "response.text.done" in text_types
    assert {"response.audio.delta", "response.audio.done", "response.audio_transcript.done"} <= set(audio_types)
    # One conversation.item.created per item: the user's, then the assistant's after output_item.added.
    assert text_types.count("conversation.item.created") == 2
    assert text_types.index("response.output_item.added") < len(text_types) - text_types[::-1].index(
        "conversation.item.created"
    )
    text_done = of_type(text_events, "response.done")[0]["response"]
    audio_done = of_type(audio_events, "response.done")[0]["response"]
    assert text_done["modalities"] == ["text"] and "output_modalities" not in text_done
    assert text_done["output"][0]["content"][0]["type"] == "text"
    assert audio_done["voice"] == "echo" and audio_done["output_audio_format"] == "pcm16"
    assert audio_done["output"][0]["content"][0]["type"] == "audio"
    assert all("obfuscation" not in event for event in text_events + audio_events)
    for event in text_events + audio_events:
        judge_beta(event)


async def test_beta_items_use_beta_content_types(beta: Simulator) -> None:
    assistant = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "Hi."}]}
    async with beta_client(beta.url) as ws:
        await send(ws, {"type": "conversation.item.create", "item": assistant})
        created = await recv(ws)
        ga_typed = {**assistant, "content": [{"type": "output_text", "text": "Hi."}]}
        await send(ws, {"type": "conversation.item.create", "item": ga_typed})
        refused = await recv(ws)
        await send(ws, {"type": "conversation.item.retrieve", "item_id": created["item"]["id"]})
        retrieved = await recv(ws)
    assert created["type"] == "conversation.item.created"
    assert created["item"]["content"] == [{"type": "text", "text": "Hi."}]
    assert (refused["error"]["code"], refused["error"]["param"]) == ("invalid_value", "item.content[0].type")
    assert retrieved["item"]["content"][0]["type"] == "text"
    judge_beta(created)
    judge_beta(retrieved)


async def test_beta_transcription_sessions(beta: Simulator) -> None:
    async with raw(beta.url + "?intent=transcription", headers={"OpenAI-Beta": "realtime=v1"}) as ws:
        created = await recv(ws)
        await send(
            ws,
            {
                "type": "transcription_session.update",
                "session": {
                    "input_audio_transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"},
                    "turn_detection": None,
                    "include": ["item.input_audio_transcription.logprobs"],
                },
            },
        )
        updated = await recv(ws)
        await send(ws, {"type": "session.update", "session": {}})
        wrong_event = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(speech_pcm24("tell me a joke"))})
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, "conversation.item.input_audio_transcription.completed")
    assert created["type"] == "transcription_session.created"
    assert shape_of(created) == shape_of(golden("beta_transcription_session_created.json"))
    assert updated["type"] == "transcription_session.updated"
    assert updated["session"]["input_audio_transcription"]["model"] == "gpt-4o-mini-transcribe"
    assert updated["session"]["turn_detection"] is None
    assert updated["session"]["include"] == ["item.input_audio_transcription.logprobs"]
    assert (wrong_event["error"]["code"], wrong_event["error"]["param"]) == ("invalid_value", "type")
    assert types(events)[:2] == ["input_audio_buffer.committed", "conversation.item.created"]
    assert "joke" in events[-1]["transcript"].lower()
    for event in [created, updated, wrong_event, *events]:
        judge_beta(event)
