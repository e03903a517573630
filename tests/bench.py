"""`make bench`: performance figures, printed (not asserted). Run as `python -m tests.bench`.

Each figure is printed beside a baseline measured in the same run. The sections, in order (each
module also runs alone as `python -m tests.<module>`):

- commit → transcription `.completed` for a ~3 s utterance, through the real client session and
  the real simulator (moonshine), over loopback;
- key press to capture running for the first push-to-talk turn of a fresh process;
- time to first paint of the app, in-process and as the real binary in tmux;
- the session reader's frames/s with and without the capture file (tests/bench_reader.py, in a
  fresh interpreter);
- what keeping the key out costs per frame with a key set, every form vs the forms before the
  byte and case ones (tests/bench_scrub.py);
- event-log ingest, the pane alone and the whole pipeline, vs a RichLog-per-event app, and the
  journal and projections' rate after 3,000 finished exchanges vs after 600, and the
  transcript's cost per streaming reply after 0 and 900 turns (tests/bench_ingest.py, in a fresh
  interpreter);
- key press → screen through a real pty, idle and under 2,000 events/s (tests/bench_keypress.py);
- garbage collections under 2,000 events/s, the app's policy vs CPython's thresholds
  (tests/bench_gc.py, each in a fresh interpreter);
- RSS after an hour's session vs the RichLog app, and filter times over its journal
  (tests/bench_hour.py);
- RSS after replaying an hour's capture from its file vs from a pipe (tests/bench_replay.py);
- the inspecting proxy's added latency and throughput vs a direct connection (tests/bench_proxy.py);
- the simulator under concurrent real-time talkers, and one session's event rate
  (tests/bench_server.py), and the simulator's memory (tests/bench_server_memory.py, when present).

The synthetic traffic (an hour's session shape) is tests/bench_traffic.py.
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

from tests.bench_helpers import child_env
from tests.bench_hour import bench_hour
from tests.bench_keypress import bench_keypress
from tests.bench_proxy import bench_proxy
from tests.bench_server import bench_simulator
from tests.server_helpers import speech_pcm24
from tui.audio import chunk_bytes, to_b64
from tui.bus import Bus, Mode
from tui.conversation import Conversation, TextState
from tui.protocol import ClientSessionOptions, session_update
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
                    # -u COLUMNS -u LINES: a parent that imported readline exported them (see test_tmux_e2e).
                    f"env -u OPENAI_API_KEY -u COLUMNS -u LINES {env} {binary} --local --no-playback",
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
                _quit_in_tmux(name)
    print(f"first paint, real binary in tmux (process start to a drawn screen): {_fmt(times)}")


def _quit_in_tmux(name: str, timeout: float = 20) -> None:
    """Quit the app in tmux session `name` as a user does (ctrl+q) and wait for its session to end
    with it. Killing the session hangs up the app's terminal: the app then closes its session and
    capture on its own, and was still writing in the data folder the bench was removing."""
    subprocess.run(["tmux", "send-keys", "-t", name, "C-q"], capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["tmux", "has-session", "-t", name], capture_output=True).returncode != 0:
            return
        time.sleep(0.05)
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


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


def bench_server_memory() -> None:
    """The simulator's memory figures, from their own module when it exists (it runs its own loop)."""
    try:
        from tests import bench_server_memory
    except ImportError:
        return
    bench_server_memory.main([])


def _section(module: str) -> None:
    """Run one section's module alone (`python -m module`), its figures printed as it prints them."""
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", module], check=True, env=child_env())


async def main() -> None:
    await bench_commit_to_completed()
    bench_first_turn_start()
    await bench_first_paint_in_process()
    bench_first_paint_binary()
    # The reader's and the pipeline's figures are CPU per frame of this interpreter: each runs in a
    # fresh one (ours and the baseline alike), as an app's process would, not in this one, whose
    # heap the speech engines and five apps of the sections above have grown (every full garbage
    # collection walks it: 35 ms each after the first section, where a fresh process takes a few).
    _section("tests.bench_reader")
    _section("tests.bench_scrub")
    _section("tests.bench_ingest")
    await bench_keypress()
    _section("tests.bench_gc")
    await bench_hour()
    _section("tests.bench_replay")
    await bench_proxy()
    await bench_simulator()


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(main())
    bench_server_memory()
