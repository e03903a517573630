"""The server killed mid-reply and started again on the same port: the app says so, keeps what
arrived, and is back in a working session within 2 s of the server's return, on its own.

The server is the real simulator as a user runs it (`rt-tui serve --port P`, a subprocess), killed
with SIGKILL. The reconnect is timed with the journal's own frame times: from the moment the new
server printed its URL (it listens before it prints) to the new connection's `session.created`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tests.app_helpers import items, notices, session_ready, wait_for
from tests.faults.evidence import FIGURES, assert_holds_every_frame, captures, received, strict_lines
from tests.faults.test_faults import ask, say
from tui.app import RtApp
from tui.bus import Mode
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.session import FRAMES

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"
REAL_TIME_REPLY = ("response.output_audio_transcript.delta", 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(port: int) -> AsyncIterator[tuple[asyncio.subprocess.Process, float]]:
    """`rt-tui serve --port PORT` as a subprocess; yields it and the moment it was listening."""
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        listening = time.monotonic()
        assert line.decode().startswith(f"ws://127.0.0.1:{port}/"), line
        yield proc, listening
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_the_app_reconnects_within_2_s_of_a_killed_server_coming_back() -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    wire = app.bus.subscribe(FRAMES, Mode.LOSSLESS)  # what the socket delivered, frame by frame
    async with serve(port) as (first, _):
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 30, "the session")
            await say(pilot, app, "please describe the weather in Paris and in London this week")
            await wait_for(
                pilot, lambda: bool(items(app, "assistant")) and items(app, "assistant")[0].text, 30, "the reply"
            )
            first.send_signal(signal.SIGKILL)  # mid-reply: the server streams at real-time pace
            await first.wait()
            await wait_for(pilot, lambda: app.facts.ended, 15, "the app to see the server gone")
            said = "connection dropped: no close frame from the server (code 1006)"
            await wait_for(pilot, lambda: ("Disconnected", said) in notices(app), 10, "the notice")
            assert app.is_running and said in app.facts.describe()
            kept = items(app, "assistant")[0].text
            assert kept  # what arrived of the reply is kept
            epoch = app.journal.epoch
            async with serve(port) as (second, back_at):
                await wait_for(pilot, lambda: app.journal.epoch > epoch and session_ready(app), 30, "the reconnect")
                [created] = [
                    frame
                    for frame in app.journal
                    if frame.epoch == app.journal.epoch and frame.type == "session.created"
                ]
                reconnected_in = created.mono - back_at
                FIGURES["reconnect after the server's return"] = f"{reconnected_in:.2f} s"
                assert reconnected_in < 2.0, f"reconnected {reconnected_in:.2f} s after the server came back"
                assert items(app, "assistant")[0].text == kept
                await ask(pilot, app, "what is the weather in Oslo")  # the new session works
    # The first session's capture holds every frame the socket delivered before the kill (the
    # server is another process: what it wrote is what reached the client's websocket).
    delivered = wire.drain()
    second_start = [
        env.seq
        for env in delivered
        if env.direction is Direction.LOCAL and env.type == "rt.connection" and env.data.get("state") == "connecting"
    ][1]
    sessions = captures()
    assert len(sessions) == 2
    assert_holds_every_frame(received([env for env in delivered if env.seq < second_start]), sessions[0])
    strict_lines()
