"""Frames that reached rt-tui before it closed are kept: `send` stops at the first error, and the
frames the server sent with it are still read, printed with --json and written to the capture.

The server puts every frame on the wire in one write, before rt-tui can answer the first: each one
has reached rt-tui's socket when it decides to close, so a frame missing from the capture was
dropped by rt-tui (the reader cancelled with messages still waiting in websockets' queue). An
error that comes after the turn has ended is said on stderr, not only kept."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import soundfile
from websockets.asyncio.server import ServerConnection, serve

from tui.session.capture import read_capture

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"

BURST = 5000
"""Error frames the server sends at once: far more than the reader takes in one slice."""


def error_frame(n: int) -> str:
    return json.dumps(
        {
            "type": "error",
            "event_id": f"evt_burst_{n:04d}",
            "error": {"type": "invalid_request_error", "code": "invalid_value", "message": f"refused ({n})"},
        }
    )


@asynccontextmanager
async def bursting_server() -> AsyncIterator[str]:
    """A server that answers session.update with BURST error frames in a single socket write."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "event_id": "evt_c", "session": {"id": "sess_b"}}))
        async for message in ws:
            if json.loads(message).get("type") == "session.update":
                for n in range(BURST):
                    ws.protocol.send_text(error_frame(n).encode())
                ws.send_data()  # the whole burst in one write: all of it reaches rt-tui together

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


async def send_a_tone(url: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """The real `rt-tui send` of a short tone to `url`, its data folder under `tmp_path`."""
    wav = tmp_path / "turn.wav"
    tone = (1000 * np.sin(2 * np.pi * 440 * np.arange(7200) / 24000)).astype(np.int16)
    soundfile.write(wav, tone, 24000, subtype="PCM_16")
    env = {**os.environ, "RT_TUI_API_KEY": "sk-test-close", "RT_TUI_DATA_DIR": str(tmp_path / "data")}
    return await asyncio.to_thread(
        subprocess.run,
        [RT_TUI, "send", str(wav), "--url", url, *options, "--timeout", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


async def test_send_keeps_every_frame_that_came_before_it_closed(tmp_path: Path) -> None:
    async with bursting_server() as url:
        run = await send_a_tone(url, tmp_path, "--json")
    # The burst names no frame: said as what it is, a server error while the update's answer was awaited.
    said = "server error while waiting for the answer to session.update (the error names no frame)"
    assert run.returncode == 1 and said in run.stderr, run.stderr
    expected = {f"evt_burst_{n:04d}" for n in range(BURST)}
    printed = {(json.loads(line).get("frame") or {}).get("event_id") for line in run.stdout.splitlines()}
    assert expected <= printed, f"{len(expected - printed)} of {BURST} frames not printed"
    (capture,) = sorted((tmp_path / "data").glob("sessions/*/frames.jsonl"))
    captured = {env.data.get("event_id") for env in read_capture(capture)}
    assert expected <= captured, f"{len(expected - captured)} of {BURST} frames not in the capture"


@asynccontextmanager
async def late_error_server() -> AsyncIterator[str]:
    """A server that plays one whole turn and sends an error right after its response.done."""

    def frame(etype: str, **fields: object) -> str:
        return json.dumps({"type": etype, "event_id": f"evt_{etype}", **fields})

    async def handler(ws: ServerConnection) -> None:
        await ws.send(frame("session.created", session={"id": "sess_late", "type": "realtime"}))
        async for message in ws:
            etype = json.loads(message).get("type")
            if etype == "session.update":
                await ws.send(frame("session.updated", session={"id": "sess_late", "type": "realtime"}))
            elif etype == "input_audio_buffer.commit":
                await ws.send(frame("input_audio_buffer.committed", item_id="item_u", previous_item_id=None))
                await ws.send(
                    frame(
                        "conversation.item.input_audio_transcription.completed",
                        item_id="item_u",
                        content_index=0,
                        transcript="hello there",
                    )
                )
            elif etype == "response.create":
                content = [{"type": "output_text", "text": "hi back"}]
                reply = {"type": "message", "id": "item_a", "role": "assistant", "content": content}
                await ws.send(frame("response.created", response={"id": "resp_1", "status": "in_progress"}))
                done = {"id": "resp_1", "status": "completed", "output": [reply]}
                await ws.send(frame("response.done", response=done))
                error = {"type": "server_error", "code": "late_one", "message": "sent after the reply"}
                await ws.send(frame("error", error=error))

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


async def test_send_says_an_error_that_came_after_the_turn_ended(tmp_path: Path) -> None:
    """The error is kept in the capture either way; said on stderr, a script learns of it (it
    printed the reply alone and exited 0 without a word). The turn itself succeeded: still 0."""
    async with late_error_server() as url:
        run = await send_a_tone(url, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "user: hello there" in run.stdout, run.stdout
    assert "late_one" in run.stderr and "sent after the reply" in run.stderr, run.stderr
