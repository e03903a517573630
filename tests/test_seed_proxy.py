"""The seed question end to end, through `rt-tui proxy --local`: a developer's own client (raw
websockets, not rt-tui's session code) sends a WAV file inside `conversation.item.create` with
transcription on, and gets `transcript: null`. The proxy's findings name that audio and its WAV
header; the item reaches the client with `transcript: null` exactly as the simulator sent it; the
same client then sends the words through the input buffer, gets the transcript, and no finding."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import speech_pcm24

WORDS = "what is the weather like in London today"


def wav_44k_stereo(pcm24: bytes) -> bytes:
    """The words as the seed question's developer sent them: a WAV file, header and all, 44.1 kHz stereo."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        samples = memoryview(pcm24).cast("h")
        wav.writeframes(b"".join(int(s).to_bytes(2, "little", signed=True) * 2 for s in samples[:44100]))
    return out.getvalue()


@pytest.fixture
async def proxy(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    dialect = request.param
    process = start_headless_proxy(tmp_path / "data", "--local", "--local-dialect", dialect)
    assert process.stderr is not None
    url, _ = await listening_url(process.stderr, 60)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def until(ws: ClientConnection, wanted: str, seen: list[dict[str, Any]], timeout: float = 30) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        seen.append(event)
        if event["type"] == wanted:
            return event


@pytest.mark.parametrize("proxy", ["beta", "ga"], indirect=True)
async def test_the_seed_question_through_the_proxy(proxy: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = proxy
    beta = "beta" in process.args  # type: ignore[operator]
    speech = speech_pcm24(WORDS)
    wav = wav_44k_stereo(speech)
    assert wav[:4] == b"RIFF"
    headers = {"OpenAI-Beta": "realtime=v1"} if beta else {}
    model = "gpt-4o-realtime-preview-2024-12-17" if beta else "gpt-realtime"
    seen: list[dict[str, Any]] = []
    async with connect(f"{url}?model={model}", additional_headers=headers, max_size=None) as ws:
        await until(ws, "session.created", seen)
        if beta:
            session: dict[str, Any] = {"input_audio_transcription": {"model": "whisper-1"}, "turn_detection": None}
        else:
            transcription = {"model": "whisper-1"}
            session = {"type": "realtime", "audio": {"input": {"transcription": transcription, "turn_detection": None}}}
        await ws.send(json.dumps({"type": "session.update", "session": session}))
        await until(ws, "session.updated", seen)
        content = [{"type": "input_audio", "audio": base64.b64encode(wav).decode()}]
        item = {"type": "message", "role": "user", "content": content}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        created = await until(ws, "conversation.item.created" if beta else "conversation.item.added", seen)
        # The item as the simulator sent it, through the proxy untouched: transcript null.
        assert created["item"]["content"][0]["transcript"] is None
        # Now the right way: the same words through the input buffer.
        pcm = base64.b64encode(speech).decode()
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": pcm}))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        completed = await until(ws, "conversation.item.input_audio_transcription.completed", seen, timeout=60)
        assert "weather" in completed["transcript"].lower()
    transcription_events = [e for e in seen if e["type"].startswith("conversation.item.input_audio_transcription")]
    assert all(e["item_id"] != created["item"]["id"] for e in transcription_events)
    process.terminate()  # SIGTERM: the proxy writes every pending line, then exits
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    findings = [line for line in err.splitlines() if line.startswith("[conn 1] ") and "] connection: " not in line]
    rules = {line.split(": ")[1] for line in findings}
    assert {"item-create-audio-not-transcribed", "wav-header-in-audio"} <= rules, err
    assert any("conversation.item.create" in line and "44.1 kHz stereo" in line for line in findings), err
    # The buffered turn (raw 24 kHz PCM16, committed) earns no finding.
    assert not any("input_audio_buffer" in line for line in findings if line.split(": ")[0].endswith("error")), err
    frames = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    relayed = [
        f for f in frames if f["dir"] == "in" and f["type"] in ("conversation.item.created", "conversation.item.added")
    ]
    assert relayed and relayed[0]["frame"]["item"]["content"][0]["transcript"] is None
