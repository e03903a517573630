"""Simulator engines: loaded once, on their own thread, never on the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

from tui.server import warm_up
from tui.server.asr import get_asr
from tui.server.tts import get_tts
from tui.server.worker import SerialWorker


async def test_worker_loads_once_off_the_loop_and_serializes_calls() -> None:
    loads: list[int] = []

    def slow_factory() -> str:
        loads.append(threading.get_ident())
        time.sleep(0.3)
        return "engine"

    worker: SerialWorker[str] = SerialWorker("test-worker", slow_factory)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    results = await asyncio.gather(*(worker.run(lambda e: (e, threading.get_ident())) for _ in range(5)))
    ticking.cancel()
    assert len(loads) == 1 and worker.loaded
    assert loads[0] != threading.get_ident()
    assert {thread for _, thread in results} == {loads[0]}
    assert {engine for engine, _ in results} == {"engine"}
    # The loop kept running while the engine loaded.
    assert ticks >= 10


async def test_warm_up_loads_both_engines_and_they_round_trip() -> None:
    await asyncio.to_thread(warm_up, wait=True)
    assert get_asr().loaded and get_tts().loaded
    text = "You said: the weather in London is cloudy today. Thanks for telling me."
    normal = await get_tts().synthesize(text, voice="cedar", speed=1.0)
    fast = await get_tts().synthesize(text, voice="cedar", speed=1.5)
    assert len(fast) < 0.85 * len(normal)
    assert "london" in (await get_asr().transcribe(normal)).lower()
