"""A recognizer that fails is the server's fault, and the client is told so (not that its audio was bad)."""

from __future__ import annotations

import pytest

from tests.server_helpers import b64, client, recv_until, send, session_patch, silence, speech_pcm24
from tui.server import Simulator
from tui.server.hearing import Hearing

FAILED = "conversation.item.input_audio_transcription.failed"


async def test_a_recognizer_crash_is_a_server_error_not_unintelligible_audio(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(self: Hearing, pcm: bytes) -> str:
        # The fault is injected at the engine's edge: what the model library raised on a bad day
        # ("ORT Error … Invalid input shape").
        raise RuntimeError("Invalid input shape: {1}")

    monkeypatch.setattr(Hearing, "_recognize", crash)
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv_until(ws, "session.updated")
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(speech_pcm24("hello there") + silence(100))})
        await send(ws, {"type": "input_audio_buffer.commit"})
        failed = (await recv_until(ws, FAILED))[-1]
    assert failed["error"]["code"] == "server_error" and failed["error"]["type"] == "server_error"
    assert "recognizer failed (RuntimeError)" in failed["error"]["message"]
    assert "Invalid input shape" not in failed["error"]["message"]  # internals stay in the server's log
