"""The inspecting proxy (issue 8): latency it adds per frame, and frames/s through it.

Run alone with `python -m tests.bench_proxy`; `make bench` runs it. Figures are printed, never
asserted.

Three processes on loopback: the upstream server (tests/bench_wsserver.py), the real
`rt-tui proxy --url … --json` (headless: a session model, the linter and a JSON line per frame,
to a file; a capture file), and this one, a raw `websockets` client that connects either
directly to the server or through the proxy, alternately:

- one-way delivery: the server stamps each frame with `time.monotonic()` (CLOCK_MONOTONIC, one
  clock for the whole machine) and the client subtracts it on arrival; frames paced at
  `PACED_RATE`/s so nothing queues, a 200-byte transcript delta and a 6.4 KB audio-sized frame;
- round trips through the echo server, one at a time;
- frames/s of the server's side of the mix from a firehose, as fast as the socket takes it.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from websockets.asyncio.client import connect

from tests.bench_helpers import ChildServer, child_env, ms, percentile, process_cpu_seconds
from tests.proxy_helpers import RELAYING

PACED_FRAMES = 1000
PACED_RATE = 500
ROUND_TRIPS = 500
FIREHOSE = 20_000
RUNS = 2
"""Alternating direct / proxied runs of each measurement."""


@asynccontextmanager
async def proxy_process(upstream: str, folder: Path) -> AsyncIterator[tuple[str, int]]:
    """`rt-tui proxy --json` relaying to `upstream`; yields the URL it listens on and its pid."""
    out = folder / "proxy.jsonl"
    binary = str(Path(sys.executable).parent / "rt-tui")
    with out.open("wb") as stdout, (folder / "proxy.err").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            binary,
            "proxy",
            "--url",
            upstream,
            "--listen",
            "127.0.0.1:0",
            "--json",
            stdout=stdout,
            stderr=stderr,
            env=child_env(str(folder)),
        )
    try:
        deadline = time.monotonic() + 30
        # The address is on stderr (stdout holds only the frames' JSON lines).
        while not (found := RELAYING.search((folder / "proxy.err").read_text())):
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rt-tui proxy did not start: {(folder / 'proxy.err').read_text()[-500:]}")
            await asyncio.sleep(0.05)
        yield found.group(1), process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def _via(base: str, server_url: str) -> str:
    """`server_url`'s path and query on another host (the proxy merges the query upstream)."""
    return base.rsplit("/v1/realtime", 1)[0] + server_url[server_url.index("/v1/realtime") :]


async def one_way(url: str) -> list[float]:
    """Delivery time of each paced frame, server send → client receive."""
    delays: list[float] = []
    async with connect(url, compression=None, max_size=None) as ws:
        await ws.recv()  # session.created
        for _ in range(PACED_FRAMES):
            message = await ws.recv()
            arrived = time.monotonic()
            delays.append(arrived - json.loads(message)["t"])
    return delays


async def round_trips(url: str) -> list[float]:
    """Echo round trips of a 200-byte frame, one at a time."""
    frame = json.dumps({"type": "response.output_audio_transcript.delta", "delta": "x" * 150})
    times: list[float] = []
    async with connect(url, compression=None, max_size=None) as ws:
        for _ in range(ROUND_TRIPS):
            started = time.monotonic()
            await ws.send(frame)
            await ws.recv()
            times.append(time.monotonic() - started)
    return times


async def firehose_rate(url: str) -> float:
    """Frames/s received from the firehose, from its first frame to its last."""
    async with connect(url, compression=None, max_size=None) as ws:
        await ws.recv()  # session.created
        await ws.recv()
        started = time.perf_counter()
        for _ in range(FIREHOSE - 1):
            await ws.recv()
        return (FIREHOSE - 1) / (time.perf_counter() - started)


def _added(direct: list[float], proxied: list[float]) -> str:
    return (
        f"direct {ms(statistics.median(direct))} / {ms(percentile(direct, 0.99))} ms, through the proxy "
        f"{ms(statistics.median(proxied))} / {ms(percentile(proxied, 0.99))} ms: added "
        f"{ms(statistics.median(proxied) - statistics.median(direct))} ms median, "
        f"{ms(percentile(proxied, 0.99) - percentile(direct, 0.99))} ms p99"
    )


async def bench_proxy() -> None:
    """Print the proxy's added latency (one way, round trip) and its throughput, each vs direct."""
    with tempfile.TemporaryDirectory() as tmp:
        async with ChildServer() as server:
            async with proxy_process(f"ws://127.0.0.1:{server.port}/v1/realtime", Path(tmp)) as (proxy, pid):
                await firehose_rate(_via(proxy, server.url("firehose", frames=FIREHOSE)))  # warm both up
                for size, label in ((200, "200 B transcript deltas"), (6400, "6.4 KB audio-sized frames")):
                    url = server.url("paced", frames=PACED_FRAMES, rate=PACED_RATE, size=size)
                    direct: list[float] = []
                    proxied: list[float] = []
                    for _ in range(RUNS):
                        direct += await one_way(url)
                        proxied += await one_way(_via(proxy, url))
                    print(
                        f"proxy, one-way delivery of {label} at {PACED_RATE}/s (median / p99, "
                        f"n={len(direct):,}): {_added(direct, proxied)} (target ≤ 1 ms median added)"
                    )
                direct, proxied = [], []
                for _ in range(RUNS):
                    direct += await round_trips(server.url("echo"))
                    proxied += await round_trips(_via(proxy, server.url("echo")))
                print(
                    f"proxy, echo round trips of 200 B (two relay passes; median / p99, n={len(direct):,}): "
                    f"{_added(direct, proxied)}"
                )
                rates: list[float] = []
                relayed: list[float] = []
                cpu = 0.0
                for _ in range(RUNS):
                    rates.append(await firehose_rate(server.url("firehose", frames=FIREHOSE)))
                    before = process_cpu_seconds(pid)
                    relayed.append(await firehose_rate(_via(proxy, server.url("firehose", frames=FIREHOSE))))
                    await asyncio.sleep(0.5)  # its output thread finishes the lines still queued
                    cpu += process_cpu_seconds(pid) - before
    rate, through = statistics.median(rates), statistics.median(relayed)
    print(
        f"proxy throughput, the server's side of the mix from a firehose ({FIREHOSE:,} frames): {through:,.0f} "
        f"frames/s through `rt-tui proxy --json` ({cpu / (RUNS * FIREHOSE) * 1e6:.0f} µs of its CPU per frame) "
        f"vs {rate:,.0f} direct ({through / rate:.0%})"
    )


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(bench_proxy())
