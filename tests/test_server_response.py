"""Simulator: response lifecycle (§6.1), cancellation, and server VAD turns."""

from __future__ import annotations

import base64
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.server_helpers import (
    append_audio,
    client,
    of_type,
    pcm_of,
    recv,
    recv_for,
    recv_until,
    rms_dbfs,
    send,
    session_patch,
    silence,
    speech_pcm24,
    types,
)
from tui.server import Simulator
from tui.server.asr import get_asr

WEATHER = "what is the weather like in London today"

AUDIO_SEQUENCE_HEAD = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
]
AUDIO_SEQUENCE_TAIL = [
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "conversation.item.done",
    "response.output_item.done",
    "response.done",
]
AUDIO_DELTAS = {"response.output_audio.delta", "response.output_audio_transcript.delta"}


async def commit_utterance(ws: ClientConnection, text: str = WEATHER) -> str:
    """Push-to-talk turn without transcription; returns the user item id."""
    await send(ws, session_patch(transcription=None))
    await recv(ws)
    await append_audio(ws, speech_pcm24(text))
    await send(ws, {"type": "input_audio_buffer.commit"})
    events = await recv_until(ws, "conversation.item.done")
    return str(events[0]["item_id"])


async def test_response_follows_the_ga_audio_sequence(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        user_item = await commit_utterance(ws)
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
        after = await recv_until(ws, "rate_limits.updated", timeout=2)
    names = types(events)
    middle = names[len(AUDIO_SEQUENCE_HEAD) : -len(AUDIO_SEQUENCE_TAIL)]
    assert names[: len(AUDIO_SEQUENCE_HEAD)] == AUDIO_SEQUENCE_HEAD
    assert names[-len(AUDIO_SEQUENCE_TAIL) :] == AUDIO_SEQUENCE_TAIL
    assert set(middle) == AUDIO_DELTAS
    # Interleaved: transcript text appears before the last audio chunk, not all at the end.
    assert middle.index("response.output_audio_transcript.delta") < len(middle) - 1 - middle[::-1].index(
        "response.output_audio.delta"
    )
    assert types(after) == ["rate_limits.updated"]

    created, item_added, conv_added, part_added = events[:4]
    response_id = created["response"]["id"]
    assert created["response"]["status"] == "in_progress"
    assert created["response"]["object"] == "realtime.response"
    assert created["response"]["output"] == [] and created["response"]["usage"] is None
    assert created["response"]["conversation_id"].startswith("conv_")
    assert created["response"]["output_modalities"] == ["audio"]
    assert created["response"]["audio"]["output"]["voice"] == "marin"
    item_id = item_added["item"]["id"]
    assert item_added["item"]["status"] == "in_progress" and item_added["item"]["content"] == []
    assert conv_added["previous_item_id"] == user_item
    assert part_added["part"] == {"type": "audio", "transcript": ""}
    for event in events[1:]:
        if "response_id" in event:
            assert event["response_id"] == response_id
        if "item_id" in event:
            assert event["item_id"] == item_id
            assert event["output_index"] == 0 and event["content_index"] == 0

    transcript = "".join(e["delta"] for e in of_type(events, "response.output_audio_transcript.delta"))
    assert of_type(events, "response.output_audio_transcript.done")[0]["transcript"] == transcript
    assert "weather" in transcript.lower()

    chunks = [base64.b64decode(e["delta"]) for e in of_type(events, "response.output_audio.delta")]
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    pcm = b"".join(chunks)
    seconds = len(pcm) / 48000
    words = len(transcript.split())
    assert 1.5 <= words / seconds <= 5.0, (words, seconds)
    assert rms_dbfs(pcm) > -35
    heard = await get_asr().transcribe(pcm)
    assert "weather" in heard.lower()

    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["id"] == item_id
    assert done["output"][0]["status"] == "completed"
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": transcript}]
    usage = done["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_token_details"]["audio_tokens"] > 0
    assert usage["output_token_details"]["audio_tokens"] > 0
    assert usage["output_token_details"]["text_tokens"] > 0
    limits = after[0]["rate_limits"]
    assert limits[0]["name"] == "tokens" and limits[0]["remaining"] < limits[0]["limit"]


async def test_text_mode_answers_a_text_item(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"]))
        await recv(ws)
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Is it sunny in Paris?"}],
        }
        await send(ws, {"type": "conversation.item.create", "item": item})
        await recv_until(ws, "conversation.item.done")
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
    names = types(events)
    assert names[:4] == AUDIO_SEQUENCE_HEAD
    assert names[-5:] == [
        "response.output_text.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
    ]
    assert set(names[4:-5]) == {"response.output_text.delta"}
    assert events[3]["part"] == {"type": "text", "text": ""}
    text = of_type(events, "response.output_text.done")[0]["text"]
    assert "Paris" in text
    assert events[-1]["response"]["output"][0]["content"] == [{"type": "output_text", "text": text}]
    assert events[-1]["response"]["output_modalities"] == ["text"]


async def test_max_output_tokens_cuts_the_response_short(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await commit_utterance(ws)
        await send(ws, {"type": "response.create", "response": {"max_output_tokens": 25}})
        events = await recv_until(ws, "response.done")
    response = events[-1]["response"]
    assert response["status"] == "incomplete"
    assert response["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert response["output"][0]["status"] == "incomplete"
    assert 25 <= response["usage"]["output_tokens"] < 40
    assert types(events)[-6:] == AUDIO_SEQUENCE_TAIL


async def test_second_response_while_active_is_an_error(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await commit_utterance(ws)
        await send(ws, {"type": "response.create"})
        await send(ws, {"type": "response.create", "event_id": "evt_second"})
        events = await recv_until(ws, "error")
        await send(ws, {"type": "response.cancel"})
        await recv_until(ws, "response.done")
    error = events[-1]["error"]
    assert error["code"] == "conversation_already_has_active_response"
    assert error["event_id"] == "evt_second"
    assert len(of_type(events, "response.created")) == 1


async def test_cancel_closes_open_parts_then_reports_cancelled(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await commit_utterance(ws)
        await send(ws, {"type": "response.create"})
        started = await recv_until(ws, "response.output_audio.delta")
        await send(ws, {"type": "response.cancel"})
        events = await recv_until(ws, "response.done")
        await send(ws, {"type": "response.cancel", "event_id": "evt_late"})
        late = await recv_until(ws, "error")
    tail = [name for name in types(events) if name not in AUDIO_DELTAS]
    assert tail == AUDIO_SEQUENCE_TAIL
    response = events[-1]["response"]
    assert response["status"] == "cancelled"
    assert response["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert response["output"][0]["status"] == "incomplete"
    full_reply_ms = len(speech_pcm24(WEATHER)) // 48  # the echo reply is longer than the question
    assert len(pcm_of(started + events)) // 48 < full_reply_ms
    assert late[-1]["error"]["code"] == "response_cancel_not_active"
    assert late[-1]["error"]["event_id"] == "evt_late"


async def test_cancel_with_nothing_active_is_an_error(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "response.cancel"})
        error = await recv(ws)
    assert error["type"] == "error"
    assert error["error"]["code"] == "response_cancel_not_active"


async def test_server_vad_detects_commits_and_answers(sim: Simulator) -> None:
    lead_ms = 600
    speech = speech_pcm24(WEATHER)
    async with client(sim.url) as ws:
        await send(ws, session_patch(vad=True))
        await recv(ws)
        await append_audio(ws, silence(lead_ms) + speech + silence(1000), chunk_ms=20)
        events = await recv_until(ws, "response.done")
    names = types(events)
    assert names[:5] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert names[5] == "response.created"
    started, stopped, committed, added = events[:4]
    item_id = started["item_id"]
    assert stopped["item_id"] == committed["item_id"] == added["item"]["id"] == item_id
    # Prefix padding (300 ms) reaches back before the onset of speech at 600 ms.
    assert lead_ms - 300 - 40 <= started["audio_start_ms"] <= lead_ms
    speech_end_ms = lead_ms + len(speech) // 48
    assert speech_end_ms - 500 <= stopped["audio_end_ms"] <= speech_end_ms + 300
    transcript = events[-1]["response"]["output"][0]["content"][0]["transcript"]
    assert "weather" in transcript.lower()


async def test_server_vad_ignores_pure_silence(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(vad=True))
        await recv(ws)
        await append_audio(ws, silence(3000), chunk_ms=20)
        events = await recv_for(ws, 1.0)
    assert events == []


async def test_speech_during_a_response_interrupts_it(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await send(ws, session_patch(vad=True))
        await recv(ws)
        await append_audio(ws, speech_pcm24(WEATHER) + silence(600), chunk_ms=20)
        first: list[dict[str, Any]] = await recv_until(ws, "response.output_audio.delta")
        await append_audio(ws, speech_pcm24("stop talking please") + silence(600), chunk_ms=20)
        events = await recv_until(ws, "input_audio_buffer.speech_stopped")
    response_id = of_type(first, "response.created")[0]["response"]["id"]
    names = types(events)
    barge_in = names.index("input_audio_buffer.speech_started")
    done = [e for e in events if e["type"] == "response.done" and e["response"]["id"] == response_id]
    assert done and events.index(done[0]) > barge_in
    assert done[0]["response"]["status"] == "cancelled"
    assert done[0]["response"]["status_details"]["reason"] == "turn_detected"
