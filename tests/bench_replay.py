"""Replaying an hour's capture: the app's memory once the whole recording has played.

Run alone with `python -m tests.bench_replay`; `make bench` runs it. Figures are printed, never
asserted.

The synthetic hour (tests/bench_traffic.py: 178,653 frames, 346 MB of base64 audio) is written as a
capture file by the capture's own writer, one frame every 20 ms, between a connection's opening and
its close. Each way of reading it runs in a fresh interpreter (`--child WAY`): the real `RtApp`
replays it at once (headless, 140×40), and once the player is done and the views have taken it all
in, after a garbage collection, reports VmRSS and its peak (VmHWM):

- `file`: the capture read from its file, which holds the frames' text (`tui.replay.lean.FileText`):
  the recording keeps where each frame lies, the journal reads dropped payloads back from the file;
- `pipe` (the baseline): the same bytes read from standard input, which is not read again (as a pipe), so the
  recording keeps every frame's text and the journal every payload, as every replay did before
  (review 58c measured 533 MB for the hour in the binary).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_helpers import child_env, peak_rss_mb, rss_mb
from tests.bench_traffic import HourSession, envelopes
from tui.protocol import Envelope

FRAME_STEP = 0.02
"""Seconds between two frames of the written hour."""


def write_hour(folder: Path) -> Path:
    """The synthetic hour as a capture file in `folder` (its connection opened and closed)."""
    from tui.protocol import local_envelope
    from tui.session.capture import CaptureWriter

    writer = CaptureWriter(folder)
    session = HourSession()
    start_mono, start_wall = time.monotonic(), time.time() - 7200
    number = 0

    def put(env: Envelope) -> None:
        nonlocal number
        when = number * FRAME_STEP
        writer.write(dataclasses.replace(env, mono=start_mono + when, wall=start_wall + when))
        number += 1

    put(local_envelope("rt.connection", "connecting to synthetic", state="connecting", target="synthetic"))
    put(local_envelope("rt.connection", "connected to synthetic", state="open", target="synthetic"))
    for env in envelopes(session.frames()):
        put(env)
    put(local_envelope("rt.connection", "closed by rt-tui", state="closed", target="synthetic", code=1000))
    writer.close()
    return writer.path


async def replay_child(way: str, path: str) -> None:
    """The app replays the capture read `way`; prints its figures as one JSON line."""
    from tui.app import RtApp
    from tui.config import Settings
    from tui.replay import ReplayRequest, load
    from tui.replay.lean import Frames

    started = time.perf_counter()
    recording = load("-" if way == "pipe" else path, lean=True)
    frames = recording.envelopes
    in_files = frames.in_files if isinstance(frames, Frames) else 0
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(140, 40)) as pilot:
        player = app.player
        assert player is not None
        while not player.done.is_set() or len(app.journal) < len(frames):
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        gc.collect()
        figures = {
            "frames": len(app.journal),
            "in_files": in_files,
            "dropped": app.journal.payloads_dropped,
            "seconds": time.perf_counter() - started,
            "rss": rss_mb(),
            "peak": peak_rss_mb(),
        }
    print(json.dumps(figures), flush=True)


def _child(way: str, path: Path) -> dict[str, float]:
    with path.open("rb") as source:
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench_replay", "--child", way, str(path)],
            stdin=source,
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=900,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the {way} replay failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_replay() -> None:
    """Print the app's RSS after replaying an hour's capture from its file vs from standard input."""
    with tempfile.TemporaryDirectory(prefix="rt-bench-replay-") as folder:
        path = write_hour(Path(folder))
        size = os.path.getsize(path)
        ours, theirs = _child("file", path), _child("pipe", path)
    print(
        f"RSS after replaying an hour's capture ({ours['frames']:,} frames, {size / 1e6:,.0f} MB) at once: "
        f"from its file {ours['rss']:.0f} MB (peak {ours['peak']:.0f}; {ours['in_files']:,} frames' text left "
        f"in the file, {ours['dropped']:,} payloads dropped from memory, read back from it when asked for; "
        f"{ours['seconds']:.0f} s) vs from standard input (read once, as a pipe), every payload held as every "
        f"replay did before, {theirs['rss']:.0f} MB (peak {theirs['peak']:.0f}; {theirs['seconds']:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("file", "pipe"))
    parser.add_argument("path", nargs="?")
    args = parser.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)
    if args.child is not None:
        asyncio.run(replay_child(args.child, args.path))
    else:
        bench_replay()


if __name__ == "__main__":
    main()
