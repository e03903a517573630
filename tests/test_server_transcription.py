"""Simulator: input-audio transcription of committed buffer audio (and only that)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest

from tests.server_helpers import (
    append_audio,
    b64,
    client,
    of_type,
    recv,
    recv_for,
    recv_until,
    running_simulator,
    send,
    session_patch,
    silence,
    speech_pcm24,
    types,
)
from tui.server import Simulator
from tui.server.asr import AsrEngine

WEATHER = "what is the weather like in London today"
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
FAILED = "conversation.item.input_audio_transcription.failed"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator() as simulator:
        yield simulator


async def test_gpt4o_transcribe_streams_incremental_deltas(sim: Simulator) -> None:
    pcm = speech_pcm24(WEATHER)
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv(ws)
        await append_audio(ws, pcm)
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, COMPLETED)
        await send(ws, {"type": "conversation.item.retrieve", "item_id": events[0]["item_id"]})
        retrieved = await recv_until(ws, "conversation.item.retrieved")
    assert types(events)[:3] == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    committed, added, done = events[:3]
    item_id = committed["item_id"]
    assert committed["previous_item_id"] is None
    for event in (added, done):
        assert event["item"]["id"] == item_id
        assert event["item"]["role"] == "user"
        assert event["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    deltas = of_type(events, DELTA)
    completed = events[-1]
    assert len(deltas) >= 2
    assert all(d["item_id"] == item_id and d["content_index"] == 0 and "obfuscation" in d for d in deltas)
    assert "weather" in completed["transcript"].lower()
    assert "".join(d["delta"] for d in deltas) == completed["transcript"]
    assert completed["usage"]["type"] == "tokens"
    assert (
        completed["usage"]["total_tokens"] == completed["usage"]["input_tokens"] + completed["usage"]["output_tokens"]
    )
    assert completed["usage"]["input_token_details"]["audio_tokens"] > 0
    stored = retrieved[-1]["item"]["content"][0]
    assert stored["transcript"] == completed["transcript"]
    assert base64.b64decode(stored["audio"]) == pcm


async def test_whisper_sends_one_delta_and_a_trailing_newline(sim: Simulator) -> None:
    pcm = speech_pcm24(WEATHER)
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="whisper-1"))
        await recv(ws)
        await append_audio(ws, pcm)
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, COMPLETED)
    deltas = of_type(events, DELTA)
    completed = events[-1]
    assert len(deltas) == 1
    assert deltas[0]["delta"] == completed["transcript"]
    assert completed["transcript"].endswith("\n")
    assert "weather" in completed["transcript"].lower()
    assert completed["usage"]["type"] == "duration"
    assert completed["usage"]["seconds"] == pytest.approx(len(pcm) / 48000, abs=0.01)


async def test_no_transcription_events_when_transcription_is_off(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription=None))
        await recv(ws)
        await append_audio(ws, speech_pcm24(WEATHER))
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_for(ws, 2.0)
    assert types(events) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]


async def test_item_create_audio_is_never_transcribed(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv(ws)
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": b64(speech_pcm24(WEATHER))}],
        }
        await send(ws, {"type": "conversation.item.create", "item": item})
        events = await recv_for(ws, 2.0)
    assert types(events) == ["conversation.item.added", "conversation.item.done"]
    for event in events:
        assert event["item"]["content"] == [{"type": "input_audio", "transcript": None}]


async def test_silence_fails_as_unintelligible(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-mini-transcribe"))
        await recv(ws)
        await append_audio(ws, silence(1000))
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, FAILED)
    failed = events[-1]
    assert failed["item_id"] == events[0]["item_id"]
    assert failed["content_index"] == 0
    assert failed["error"]["type"] == "transcription_error"
    assert failed["error"]["code"] == "audio_unintelligible"
    assert not of_type(events, COMPLETED)


async def test_cancelling_a_response_does_not_cancel_the_shared_recognition(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recognition is held until the cancel was handled, so the response is surely waiting on
    # the run it shares with the transcription (each connection recognizes its items afresh).
    started = asyncio.Event()
    release = asyncio.Event()
    original = AsrEngine.transcribe

    async def gated(self: AsrEngine, pcm: bytes) -> str:
        started.set()
        await release.wait()
        return await original(self, pcm)

    monkeypatch.setattr(AsrEngine, "transcribe", gated)
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv(ws)
        await append_audio(ws, speech_pcm24("please describe the weather on the moon"))
        await send(ws, {"type": "input_audio_buffer.commit"})
        await send(ws, {"type": "response.create"})
        await asyncio.wait_for(started.wait(), 5)
        await send(ws, {"type": "response.cancel"})
        cancelled = await recv_until(ws, "response.done")
        release.set()
        events = cancelled + await recv_until(ws, COMPLETED)
    done = of_type(events, "response.done")
    assert done and done[0]["response"]["status"] == "cancelled"
    assert done[0]["response"]["output"] == []
    assert "weather" in events[-1]["transcript"].lower()


def mislabelled(text: str, kind: str) -> bytes:
    """`text` as 48 kHz mono or as 24 kHz interleaved stereo PCM16: what a client sends when it
    skips resampling or downmixing and still declares `audio/pcm` at 24 kHz."""
    import numpy as np
    import soxr

    mono = np.frombuffer(speech_pcm24(text), dtype="<i2")
    if kind == "48k":
        return np.asarray(soxr.resample(mono, 24000, 48000), dtype="<i2").tobytes()
    return np.repeat(mono, 2).astype("<i2").tobytes()  # L R L R …


@pytest.mark.parametrize("kind", ["48k", "stereo"])
async def test_audio_in_the_wrong_format_is_accepted_and_not_understood(sim: Simulator, kind: str) -> None:
    """The server does not sniff audio (protocol §3.2): the bytes are taken as 24 kHz mono, the
    clock counts them as such, and the recognizer hears slowed-down speech, not the words."""
    pcm = mislabelled(WEATHER, kind)
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv(ws)
        await append_audio(ws, pcm)
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, "conversation.item.done")
        while not of_type(events, COMPLETED) and not of_type(events, FAILED):
            events.append(await recv(ws, timeout=15))
        item_id = events[0]["item_id"]
        await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
        retrieved = (await recv_until(ws, "conversation.item.retrieved"))[-1]
    assert not of_type(events, "error"), events
    assert types(events)[:3] == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    ending = (of_type(events, COMPLETED) or of_type(events, FAILED))[0]
    heard = str(ending.get("transcript", "")).lower()
    assert not {"weather", "london"} & set(heard.replace(".", " ").replace(",", " ").split()), heard
    # Stored as sent: no resampling, no downmix, no guessing.
    assert base64.b64decode(retrieved["item"]["content"][0]["audio"]) == pcm
