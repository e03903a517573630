"""A small websocket server for the bench, run in a child process (its own interpreter and loop).

`python -m tests.bench_wsserver` binds 127.0.0.1 on a free port, prints the port, and serves until
terminated. Each connection picks its behaviour with query parameters:

- `mode=idle`: `session.created`, then nothing;
- `mode=mix&rate=R`: `session.created`, then the server's side of the bench's mix
  (tests/bench_traffic.py) at R events/s on an absolute schedule, until the client leaves;
- `mode=firehose&frames=N`: `session.created`, then the first N frames of the mix as fast as
  the socket takes them;
- `mode=paced&frames=N&rate=R&size=S`: N transcript deltas of about S bytes at R/s, each
  carrying `t`, the server's `time.monotonic()` when it was sent (CLOCK_MONOTONIC is one clock
  for every process of the machine, so the receiver's one-way delivery time is exact);
- `mode=echo`: every message sent back as it came.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.bench_traffic import HourSession

FIREHOSE_FRAMES = 20_000
"""The firehose's default length (made before the port is printed)."""
TICK = 0.01
"""The mix is sent in bursts every 10 ms."""


def session_created() -> str:
    """The opening frame of every mode but echo."""
    return next(HourSession(1, seed=3).received())


async def _drain(ws: ServerConnection) -> None:
    """Read (and drop) what the client sends, so its writes never block."""
    async for _ in ws:
        pass


async def stream_mix(ws: ServerConnection, rate: float) -> None:
    frames = HourSession(None, seed=5).received()
    next(frames)  # its session.created: ours was sent already
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    for tick in itertools.count(1):
        due = int(tick * TICK * rate)
        while sent < due:
            await ws.send(next(frames))
            sent += 1
        delay = start + tick * TICK - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


_FIREHOSE: dict[int, list[str]] = {}
"""The firehose's frames by count, made once (so a connection's frames start at once)."""


def firehose_frames(count: int) -> list[str]:
    """The first `count` frames of the server's side of the mix, after its session.created."""
    if count not in _FIREHOSE:
        _FIREHOSE[count] = list(itertools.islice(HourSession(None, seed=5).received(), 1, count + 1))
    return _FIREHOSE[count]


async def firehose(ws: ServerConnection, count: int) -> None:
    for frame in firehose_frames(count):
        await ws.send(frame)


async def paced(ws: ServerConnection, count: int, rate: float, size: int) -> None:
    pad = "x" * max(0, size - 90)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(count):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await ws.send(
            f'{{"type":"response.output_audio_transcript.delta","n":{n},"t":{time.monotonic()!r},"delta":"{pad}"}}'
        )


async def handler(ws: ServerConnection) -> None:
    assert ws.request is not None
    query = dict(parse_qsl(urlsplit(ws.request.path).query))
    mode = query.get("mode", "idle")
    try:
        if mode == "echo":
            async for message in ws:
                await ws.send(message)
            return
        await ws.send(session_created())
        reader = asyncio.create_task(_drain(ws))
        if mode == "mix":
            await stream_mix(ws, float(query.get("rate", "2000")))
        elif mode == "firehose":
            await firehose(ws, int(query.get("frames", FIREHOSE_FRAMES)))
        elif mode == "paced":
            await paced(
                ws, int(query.get("frames", "1000")), float(query.get("rate", "500")), int(query.get("size", "200"))
            )
        await reader
    except ConnectionClosed:
        return


async def main() -> None:
    firehose_frames(FIREHOSE_FRAMES)
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None, max_queue=None) as server:
        print(json.dumps(server.sockets[0].getsockname()[1]), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
