"""Simulator: transcription options (protocol reference §4.1-4.2): model styles, prompt, logprobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection

from tests.server_helpers import (
    append_audio,
    client,
    of_type,
    recv,
    running_simulator,
    send,
    speech_pcm24,
)
from tui.server import Simulator
from tui.server.transcription import TranscriptionOptions, apply_vocabulary, logprobs_of

WEATHER = "what is the weather like in London today"
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
FAILED = "conversation.item.input_audio_transcription.failed"
LOGPROBS = "item.input_audio_transcription.logprobs"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(transcription_delta_interval=0) as simulator:
        yield simulator


def transcription_update(transcription: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {"input": {"transcription": transcription, "turn_detection": None}},
            **extra,
        },
    }


async def transcribe(
    ws: ClientConnection, transcription: dict[str, Any], pcm: bytes, **extra: Any
) -> list[dict[str, Any]]:
    """Configure, commit `pcm`, and return the transcription events up to .completed or .failed."""
    await send(ws, transcription_update(transcription, **extra))
    assert (await recv(ws))["type"] == "session.updated"
    await append_audio(ws, pcm)
    await send(ws, {"type": "input_audio_buffer.commit"})
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] not in (COMPLETED, FAILED):
        events.append(await recv(ws))
    return [e for e in events if e["type"].startswith("conversation.item.input_audio_transcription.")]


# ---- units ---------------------------------------------------------------------------------------


def test_options_come_from_the_session_at_commit_time() -> None:
    transcription: dict[str, Any] = {"model": "gpt-4o-transcribe", "language": "en", "prompt": "Expect Kubernetes."}
    session: dict[str, Any] = {
        "type": "realtime",
        "include": [LOGPROBS],
        "audio": {"input": {"transcription": transcription}},
    }
    assert TranscriptionOptions.from_session(session) == TranscriptionOptions(
        model="gpt-4o-transcribe", language="en", vocabulary=("Expect", "Kubernetes"), logprobs=True
    )
    session["audio"]["input"]["transcription"] = None
    assert TranscriptionOptions.from_session(session) is None


def test_vocabulary_respells_close_words_only() -> None:
    vocabulary = ("Kubernetes", "Wether")
    assert apply_vocabulary("deploy it on kubernetis", vocabulary) == "deploy it on Kubernetes"
    assert apply_vocabulary("the weather is fine", vocabulary) == "the Wether is fine"
    assert apply_vocabulary("the sun is out", vocabulary) == "the sun is out"


def test_logprobs_cover_the_text_token_by_token() -> None:
    entries = logprobs_of(" Hello world.\n")
    assert "".join(e["token"] for e in entries) == " Hello world.\n"
    for entry in entries:
        assert set(entry) == {"token", "logprob", "bytes"}
        assert -1.0 < entry["logprob"] < 0.0
        assert bytes(entry["bytes"]).decode("utf-8") == entry["token"]
    assert logprobs_of(" Hello world.\n") == entries


# ---- over the wire -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "incremental", "usage_type"),
    [
        ("whisper-1", False, "duration"),
        ("gpt-4o-mini-transcribe", True, "tokens"),
        ("gpt-4o-mini-transcribe-2025-12-15", True, "tokens"),
        ("gpt-4o-transcribe", True, "tokens"),
        ("gpt-realtime-whisper", True, "duration"),
        ("gpt-transcribe", True, "tokens"),
    ],
)
async def test_the_model_selects_the_delta_style(
    sim: Simulator, model: str, incremental: bool, usage_type: str
) -> None:
    async with client(sim.url) as ws:
        events = await transcribe(ws, {"model": model, "language": "en"}, speech_pcm24(WEATHER))
    deltas, completed = of_type(events, DELTA), events[-1]
    assert completed["type"] == COMPLETED
    assert "".join(d["delta"] for d in deltas) == completed["transcript"]
    assert (len(deltas) > 1) is incremental
    assert completed["transcript"].endswith("\n") is (model == "whisper-1")
    assert completed["usage"]["type"] == usage_type
    assert all(d["logprobs"] is None for d in deltas) and completed["logprobs"] is None
    assert ("languages" in completed) is (model == "gpt-transcribe")
    if model == "gpt-transcribe":
        assert completed["languages"] == [{"code": "en"}]


async def test_include_logprobs_adds_them_to_deltas_and_completed(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        events = await transcribe(ws, {"model": "gpt-4o-transcribe"}, speech_pcm24(WEATHER), include=[LOGPROBS])
    deltas, completed = of_type(events, DELTA), events[-1]
    for delta in deltas:
        assert "".join(e["token"] for e in delta["logprobs"]) == delta["delta"]
    assert "".join(e["token"] for e in completed["logprobs"]) == completed["transcript"]
    assert all(e["logprob"] < 0 for e in completed["logprobs"])


async def test_prompt_biases_spelling(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        plain = await transcribe(ws, {"model": "gpt-4o-transcribe"}, speech_pcm24(WEATHER))
        biased = await transcribe(
            ws, {"model": "gpt-4o-transcribe", "prompt": "Words like Wether may occur."}, speech_pcm24(WEATHER)
        )
    assert "weather" in plain[-1]["transcript"].lower()
    assert "Wether" in biased[-1]["transcript"] and "weather" not in biased[-1]["transcript"].lower()


@pytest.mark.parametrize("what", ["noise", "too short"])
async def test_unintelligible_audio_fails(sim: Simulator, what: str) -> None:
    if what == "noise":
        noise = np.random.default_rng(7).normal(0, 3000, 24000 * 2)
        pcm = np.asarray(np.clip(noise, -32768, 32767), dtype="<i2").tobytes()
    else:
        pcm = speech_pcm24("hi")[: 120 * 48]
    async with client(sim.url) as ws:
        events = await transcribe(ws, {"model": "gpt-4o-mini-transcribe"}, pcm)
    assert [e["type"] for e in events] == [FAILED]
    assert events[0]["error"]["type"] == "transcription_error"
    assert events[0]["error"]["code"] == "audio_unintelligible"
    assert events[0]["content_index"] == 0
