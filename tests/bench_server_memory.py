"""The simulator's memory under hostile clients: bounded while they run, released when they leave.

Run with `python -m tests.bench_server_memory [--seconds 60] [--runs 2]`; `make bench` may run it
too. Figures are printed, never asserted. It starts `rt-tui serve --port 0` as a subprocess and
reads its resident memory (VmRSS in /proc/PID/status), every figure compared with the idle
baseline of the same run:

1. idle, then after two ordinary spoken turns at once (which load the speech engines, both
   recognizers of the pool and the synthesizer: memory that stays for the life of the process
   whatever the clients do, so it is the baseline for what follows);
2. a client streaming speech faster than real time (100 ms appends, as fast as it can, server VAD
   and transcription on, reading what comes back) for `--seconds`, `--runs` times: the peak while
   it streams, and the figure once it closed; meanwhile a second client times a round trip;
3. five clients that never read while asking for far more than the limits (each retrieves a 1 s
   audio item over and over): the peak, how each was closed, and the figure once they are gone.

`--serve "CMD"` measures another server command instead (e.g. an older checkout), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.server_helpers import BYTES_PER_MS, b64, silence, speech_pcm24

SECONDS = 60.0
RUNS = 2
CHUNK_MS = 100
NON_READERS = 5
RETRIEVES_PER_NON_READER = 600
"""Each asks for 600 × 64 KB, about 38 MB: past the 32 MiB per-connection limit, and five of them
far past the 128 MiB total."""
SETTLE_S = 5.0
SAMPLE_S = 0.25


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Peak:
    """Samples a process's RSS in the background while a phase runs."""

    pid: int
    samples: list[float] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            self.samples.append(rss_mb(self.pid))
            await asyncio.sleep(SAMPLE_S)

    @property
    def peak(self) -> float:
        return max(self.samples)


@contextlib.asynccontextmanager
async def sampling(pid: int) -> AsyncIterator[Peak]:
    """RSS sampled every SAMPLE_S seconds while the block runs."""
    peak = Peak(pid)
    task = asyncio.create_task(peak.run())
    try:
        yield peak
    finally:
        task.cancel()
        peak.samples.append(rss_mb(pid))


async def settled(pid: int) -> float:
    """RSS once it stopped moving (the server has released a closed connection), in MB."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    previous = rss_mb(pid)
    await asyncio.sleep(SETTLE_S)
    current = rss_mb(pid)
    while abs(current - previous) > 1.0 and loop.time() < deadline:
        previous = current
        await asyncio.sleep(1.0)
        current = rss_mb(pid)
    return current


async def session(url: str, **options: Any) -> ClientConnection:
    """A connected client, past `session.created`."""
    ws = await connect(f"{url}?model=gpt-realtime", compression=None, max_size=None, **options)
    first = json.loads(await ws.recv())
    assert first["type"] == "session.created", first
    return ws


async def until(ws: ClientConnection, event_type: str, timeout: float = 60.0) -> dict[str, Any]:
    """The next event of `event_type`."""
    async with asyncio.timeout(timeout):
        while True:
            event: dict[str, Any] = json.loads(await ws.recv())
            if event["type"] == event_type:
                return event


async def ordinary_turn(url: str) -> None:
    """One spoken turn with a spoken answer: loads the speech engines."""
    ws = await session(url)
    try:
        update = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        await ws.send(json.dumps({"type": "session.update", "session": update}))
        await until(ws, "session.updated")
        pcm = speech_pcm24("what is the weather like in London today")
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(pcm)}))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        await ws.send(json.dumps({"type": "response.create"}))
        await until(ws, "response.done", timeout=120)
    finally:
        await ws.close()


async def round_trips(url: str, stop: asyncio.Event, times: list[float]) -> None:
    """A well-behaved client: `input_audio_buffer.clear` → `cleared`, timed, twice a second."""
    ws = await session(url)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            await until(ws, "input_audio_buffer.cleared")
            times.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        await ws.close()


@dataclass
class Flood:
    """What one faster-than-real-time run did."""

    audio_s: float = 0.0
    events: dict[str, int] = field(default_factory=dict)
    close: str = "closed by the client"


async def flood(url: str, seconds: float) -> Flood:
    """Stream speech and silence as 100 ms appends as fast as possible, reading every event."""
    turn = speech_pcm24("turn on the kitchen lights please") + silence(1000)
    step = CHUNK_MS * BYTES_PER_MS
    frames = [
        json.dumps({"type": "input_audio_buffer.append", "audio": b64(turn[i : i + step])})
        for i in range(0, len(turn), step)
    ]
    result = Flood()
    ws = await session(url)

    async def read() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                event = json.loads(raw)
                kind = str(event["type"])
                if kind == "conversation.item.input_audio_transcription.failed":
                    kind += f" ({event['error']['code']})"
                result.events[kind] = result.events.get(kind, 0) + 1

    reader = asyncio.create_task(read())
    await ws.send(json.dumps({"type": "session.update", "session": _transcribing()}))
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    try:
        while loop.time() < end:
            for frame in frames:
                await ws.send(frame)
                result.audio_s += CHUNK_MS / 1000
            await asyncio.sleep(0)  # let the reader keep up
    except ConnectionClosed as closed:
        result.close = f"closed by the server: {closed.rcvd.code if closed.rcvd else 'no close frame'}"
    finally:
        reader.cancel()
        await ws.close()
    return result


def _transcribing() -> dict[str, Any]:
    return {"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}


async def non_reader(url: str, retrieves: int) -> ClientConnection:
    """A client that creates a 1 s audio item, then asks for it over and over without reading."""
    ws = await session(url, max_queue=1)
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": b64(silence(1000))}],
    }
    await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
    item_id = (await until(ws, "conversation.item.added"))["item"]["id"]
    ask = json.dumps({"type": "conversation.item.retrieve", "item_id": item_id})
    with contextlib.suppress(ConnectionClosed):
        for _ in range(retrieves):
            await ws.send(ask)
    return ws


async def how_closed(ws: ClientConnection) -> str:
    """Read everything that is left; how the server closed the connection (if it did)."""
    try:
        async with asyncio.timeout(60):
            async for _ in ws:
                pass
    except TimeoutError:
        await ws.close()
        return "still open"
    except ConnectionClosed:
        pass
    close = ws.protocol.close_rcvd
    return f"{close.code}" if close is not None else "dropped without a close frame"


def line(label: str, mb: float, base: float) -> str:
    """One figure, with its difference from the baseline."""
    return f"  {label:<58} {mb:7.0f} MB  ({mb - base:+.0f} MB)"


async def bench(serve: list[str], seconds: float, runs: int) -> None:
    """Start the server, run the phases, print the figures."""
    proc = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        url = (await asyncio.to_thread(proc.stdout.readline)).strip()
        if not url.startswith("ws://"):
            raise SystemExit(f"the server did not start: {serve}")
        pid = proc.pid
        await asyncio.sleep(2)
        idle = rss_mb(pid)
        print(f"simulator memory: {shlex.join(serve)} (pid {pid}), VmRSS from /proc/{pid}/status")
        print(line("idle, nothing loaded yet", idle, idle))
        # Two at once, so that both recognizers of the pool load, as any busy server has them.
        await asyncio.gather(ordinary_turn(url), ordinary_turn(url))
        base = await settled(pid)
        print(line("after two ordinary turns at once (engines loaded): baseline", base, idle))
        print()

        idle_times: list[float] = []
        calm = asyncio.Event()
        calm_task = asyncio.create_task(round_trips(url, calm, idle_times))
        await asyncio.sleep(3)
        calm.set()
        await calm_task
        afters: list[float] = []
        for run in range(1, runs + 1):
            stop = asyncio.Event()
            times: list[float] = []
            async with sampling(pid) as peak:
                other = asyncio.create_task(round_trips(url, stop, times))
                result = await flood(url, seconds)
                stop.set()
                await other
            after = await settled(pid)
            print(
                f"faster-than-real-time client, run {run}: {result.audio_s:.0f} s of audio in {seconds:.0f} s "
                f"({result.audio_s / seconds:.0f}x real time), {result.close}"
            )
            print(line("peak while it streamed", peak.peak, base))
            print(line("after it closed", after, base))
            if afters:
                print(f"  change since the previous run ended: {after - afters[-1]:+.0f} MB")
            afters.append(after)
            print(f"  what it got: {json.dumps(dict(sorted(result.events.items())))}")
            print(
                "  another client's clear -> cleared round trip: "
                f"idle median {statistics.median(idle_times) * 1000:.1f} ms; during the flood median "
                f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.0f} ms ({len(times)} trips)"
            )
            print()

        async with sampling(pid) as peak:
            clients = await asyncio.gather(*(non_reader(url, RETRIEVES_PER_NON_READER) for _ in range(NON_READERS)))
            await asyncio.sleep(3)
            during = rss_mb(pid)
        closes = await asyncio.gather(*(how_closed(ws) for ws in clients))
        after = await settled(pid)
        counts = {code: closes.count(code) for code in sorted(set(closes))}
        print(f"{NON_READERS} clients that never read, each asking for {RETRIEVES_PER_NON_READER} × 64 KB:")
        print(line("peak while they held the server", peak.peak, base))
        print(line("3 s after their last request", during, base))
        print(line("after they were gone", after, base))
        print(f"  how they were closed (code: clients): {counts}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.bench_server_memory`: print the simulator's memory figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench_server_memory")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of each faster-than-real-time run")
    parser.add_argument("--runs", type=int, default=RUNS, help="faster-than-real-time runs, one after another")
    parser.add_argument("--serve", help="the server command to measure (default: rt-tui serve --port 0)")
    args = parser.parse_args(argv)
    os.environ.pop("OPENAI_API_KEY", None)
    rt_tui = str(Path(sys.executable).with_name("rt-tui"))
    serve = shlex.split(args.serve) if args.serve else [rt_tui, "serve", "--port", "0"]
    asyncio.run(bench(serve, args.seconds, args.runs))


if __name__ == "__main__":
    main()
