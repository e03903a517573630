"""`make bench`: performance figures, printed (not asserted). Run as `python -m tests.bench`.

- commit → transcription `.completed` for a ~3 s utterance, through the real client session and
  the real simulator (moonshine), over loopback;
- time to first paint of the app, in-process and as the real binary in tmux;
- key press to capture running for the first push-to-talk turn of a fresh process;
- frames per second the session reader publishes on the bus, and the event-log pane ingests.
- the simulator under concurrent real-time talkers, and one session's event rate (tests/bench_server.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_server import bench_simulator
from tests.server_helpers import speech_pcm24
from tui.audio import chunk_bytes, to_b64
from tui.bus import Bus, Mode
from tui.conversation import Conversation, TextState
from tui.protocol import ClientSessionOptions, Direction, Envelope, session_update
from tui.server import Simulator, SimulatorConfig, warm_up
from tui.session import FRAMES, RealtimeSession, url_target

UTTERANCE = "could you please tell me what the weather will be like in London tomorrow"


def _fmt(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, n={len(values)}"


async def bench_commit_to_completed(runs: int = 10) -> None:
    pcm = speech_pcm24(UTTERANCE)
    warm_up(wait=True)
    latencies: list[float] = []
    async with Simulator(SimulatorConfig()) as sim:
        bus = Bus()
        sub = bus.subscribe(FRAMES, Mode.LOSSLESS)
        session = RealtimeSession(url_target(sim.url + "?model=gpt-realtime"), bus)
        await session.connect()
        session.send(session_update(ClientSessionOptions()))
        conv = Conversation()
        for _ in range(runs):
            for chunk in chunk_bytes(pcm, 100):
                session.send({"type": "input_audio_buffer.append", "audio": to_b64(chunk)})
            session.send({"type": "input_audio_buffer.commit"})
            done = None
            while done is None:
                env = await asyncio.wait_for(sub.get(), 30)
                conv.apply(env)
                users = [i for i in conv.ordered() if i.role == "user"]
                if users and users[-1].state is TextState.DONE and users[-1].transcription_latency is not None:
                    if len(users) > len(latencies):
                        done = users[-1].transcription_latency
            latencies.append(done)
        await session.close()
    print(
        f"commit → transcription.completed, {len(pcm) / 48000:.1f} s utterance (gpt-4o-transcribe deltas): "
        f"{_fmt(latencies)}"
    )
    print(f"  last transcript: {users[-1].text!r}")


async def bench_first_paint_in_process(runs: int = 5) -> None:
    from tui.app import RtApp
    from tui.config import Settings

    times: list[float] = []
    for _ in range(runs):
        t0 = time.monotonic()
        app = RtApp(Settings(playback=False), connect=False)
        async with app.run_test(size=(140, 40)) as pilot:
            while app.first_paint_at is None:
                await pilot.pause(0.005)
            times.append(app.first_paint_at - t0)
    print(f"first paint, in process (App() to first refresh, headless): {_fmt(times)}")


def bench_first_paint_binary(runs: int = 3) -> None:
    if shutil.which("tmux") is None:
        print("first paint of the real binary: skipped (no tmux)")
        return
    binary = str(Path(sys.executable).parent / "rt-tui")
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            name = f"rt-bench-{os.getpid()}-{i}"
            env = f"RT_TUI_DATA_DIR={tmp} TERM=xterm-256color"
            t0 = time.monotonic()
            subprocess.run(
                [
                    "tmux",
                    "new-session",
                    "-d",
                    "-s",
                    name,
                    "-x",
                    "140",
                    "-y",
                    "40",
                    f"env -u OPENAI_API_KEY {env} {binary} --local --no-playback",
                ],
                check=True,
            )
            try:
                while time.monotonic() - t0 < 20:
                    screen = subprocess.run(
                        ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
                    ).stdout
                    if "Transcript" in screen and "Talk" in screen:
                        times.append(time.monotonic() - t0)
                        break
                    time.sleep(0.01)
            finally:
                subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    print(f"first paint, real binary in tmux (process start to a drawn screen): {_fmt(times)}")


async def bench_reader_throughput(frames: int = 20_000) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    delta = json.dumps(
        {
            "type": "response.output_audio.delta",
            "response_id": "resp_x",
            "item_id": "item_x",
            "output_index": 0,
            "content_index": 0,
            "delta": to_b64(bytes(4800)),
        }
    )

    async def firehose(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_bench"}}))
        for _ in range(frames):
            await ws.send(delta)
        await ws.wait_closed()

    async with serve(firehose, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        bus = Bus()
        sub = bus.subscribe(FRAMES, Mode.LOSSLESS)
        session = RealtimeSession(url_target(f"ws://127.0.0.1:{port}/v1/realtime"), bus)
        t0 = time.monotonic()
        await session.connect()
        got = 0
        while got < frames:
            env = await sub.get()
            got += env.type == "response.output_audio.delta"
        elapsed = time.monotonic() - t0
        await session.close()
    print(f"session reader: {frames / elapsed:,.0f} audio-delta frames/s (6.4 KB each) published on the bus")


async def bench_event_log_ingest(frames: int = 50_000) -> None:
    from tui.app import RtApp
    from tui.config import Settings
    from tui.widgets import EventLog

    envs = []
    for i in range(frames):
        kind = "response.output_audio.delta" if i % 2 else "response.output_audio_transcript.delta"
        data = {"type": kind, "item_id": "item_x", "delta": to_b64(bytes(4800)) if i % 2 else " word"}
        envs.append(Envelope(i, Direction.IN, kind, data, json.dumps(data)))
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        log = app.query_one(EventLog)
        t0 = time.monotonic()
        for start in range(0, frames, 500):  # the pump's batches
            log.extend(envs[start : start + 500])
            await pilot.pause()
        elapsed = time.monotonic() - t0
    print(
        f"event-log pane: {frames / elapsed:,.0f} frames/s ingested and painted in batches of 500 "
        f"({len(log.rows)} rows kept, {log.forgotten} forgotten)"
    )


def bench_first_turn_start(runs: int = 3) -> None:
    """Key press to capture running on the first turn, each in a fresh process (cold PortAudio)."""
    for flag, label in (
        ([], "audio stack loaded after first paint (default)"),
        (["--no-warm-up"], "loaded on the key"),
    ):
        times = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench_first_turn", *flag], capture_output=True, text=True, check=True
            ).stdout
            times.append(float(json.loads(out.strip().splitlines()[-1])["seconds"]))
        print(f"first push-to-talk turn, key to capture running, {label}: {_fmt(times)}")


async def main() -> None:
    await bench_commit_to_completed()
    bench_first_turn_start()
    await bench_first_paint_in_process()
    bench_first_paint_binary()
    await bench_reader_throughput()
    await bench_event_log_ingest()
    await bench_simulator()


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(main())
