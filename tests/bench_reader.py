"""The session reader's frames/s with and without the capture file.

Run alone with `python -m tests.bench_reader`; `make bench` runs it. Figures are printed, never
asserted.

A firehose server in a child process (tests/bench_wsserver.py, so its sending does not share this
loop) sends the server's side of the bench's mix (40% audio deltas of 6.4 KB, transcript deltas,
control events) as fast as the socket takes it; the real `RealtimeSession` parses, scrubs,
captures (or not) and publishes each frame on the bus, drained as the app's pump drains it.
Without the capture the session does only what `--no-capture` does: it neither takes the frames'
bytes nor asks the socket for a backlog (work done for the capture alone, counted in its cost).
Runs come in pairs, one with and one without the capture, in alternating order (ABBA: a machine
that drifts during the bench favours neither); the capture's cost is the median of the pairs' ratios,
which a slow spell of the machine moves less than a ratio of two medians taken apart.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench_helpers import ChildServer
from tui.bus import Bus, Mode
from tui.protocol import Direction
from tui.session import FRAMES, CaptureWriter, RealtimeSession, new_session_dir, url_target

FRAMES_PER_RUN = 20_000
PAIRS = 6


async def read_rate(url: str, frames: int, capture_root: Path | None) -> tuple[float, float, float]:
    """(frames/s, CPU µs/frame, process CPU µs/frame) the reader publishes, from the end of the
    handshake to the last frame.

    The CPU is this thread's (the loop's: reader, scrubbing, capture, bus, drain), the capture's
    final write included; the process CPU adds the capture's writer thread (its copies into the
    kernel). The server's process and the machine's other load are not counted.
    """
    bus = Bus()
    feed = bus.subscribe(FRAMES, Mode.LOSSLESS)
    capture = CaptureWriter(new_session_dir(capture_root)) if capture_root is not None else None
    session = RealtimeSession(url_target(url), bus, capture=capture)
    await session.connect()  # returns after the first frame, session.created
    started, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
    got = 0
    while got < frames:
        first = await feed.get()
        batch = [first, *feed.drain()]
        got += sum(1 for env in batch if env.direction is Direction.IN and env.type != "session.created")
    elapsed = time.perf_counter() - started
    if capture is not None:
        capture.flush()
    cpu, process = time.thread_time() - cpu, time.process_time() - process
    await session.close()
    if capture is not None:
        capture.close()
        lines = capture.path.read_bytes().count(b"\n")
        assert lines >= frames, f"the capture holds {lines} frames of {frames}"
    return frames / elapsed, cpu / frames * 1e6, process / frames * 1e6


async def bench_reader() -> None:
    """Print the reader's rate without and with the capture file, and what the capture costs."""
    plain: list[tuple[float, float, float]] = []
    captured: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with ChildServer() as server:
            url = server.url("firehose", frames=FRAMES_PER_RUN)
            await read_rate(url, FRAMES_PER_RUN, None)  # warm-up: imports, the server's first send
            for pair in range(PAIRS):
                if pair % 2:
                    captured.append(await read_rate(url, FRAMES_PER_RUN, Path(tmp)))
                    plain.append(await read_rate(url, FRAMES_PER_RUN, None))
                else:
                    plain.append(await read_rate(url, FRAMES_PER_RUN, None))
                    captured.append(await read_rate(url, FRAMES_PER_RUN, Path(tmp)))
    rate, rate_captured = (statistics.median(r for r, _, _ in runs) for runs in (plain, captured))
    cpu, cpu_captured = (statistics.median(c for _, c, _ in runs) for runs in (plain, captured))
    cpu_cost = statistics.median(c / p - 1 for (_, p, _), (_, c, _) in zip(plain, captured, strict=True))
    process_cost = statistics.median(c / p - 1 for (_, _, p), (_, _, c) in zip(plain, captured, strict=True))
    rate_cost = statistics.median(1 - c / p for (p, _, _), (c, _, _) in zip(plain, captured, strict=True))
    print(
        f"session reader, the server's side of the mix from a firehose ({FRAMES_PER_RUN:,} frames, {PAIRS} pairs "
        f"of runs): with the capture file {rate_captured:,.0f} frames/s, {cpu_captured:.1f} µs CPU/frame; without "
        f"{rate:,.0f} frames/s, {cpu:.1f} µs/frame (medians): the capture costs {cpu_cost:.0%} more CPU per frame "
        f"on the loop ({process_cost:.0%} more with its writer thread), {rate_cost:.0%} of the rate (medians of the "
        "pairs' ratios; target ≤ 15%)"
    )


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(bench_reader())
