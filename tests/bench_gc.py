"""Full garbage collections while a stream comes in: the app's policy (tui/app/heap.py) against
CPython's own thresholds, in the same run.

Run alone with `python -m tests.bench_gc`; `make bench` runs it. Figures are printed, never asserted.

The app (`RtApp` under `run_test`, a real websocket session) takes the server's side of the bench's
mix at `LOAD_RATE` events/s from tests/bench_wsserver.py (a child process) for `SECONDS`; a
`gc.callbacks` hook counts the collections of each generation after the first paint and times
them (the UI loop waits for each). The baseline is the same app with CPython's thresholds put
back after its first paint (its start-up heap frozen all the same). Each design runs in a fresh
interpreter (this module runs itself with `--design`), so neither inherits the other's heap.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any

from tests.bench_helpers import ChildServer, child_env

LOAD_RATE = 2000
SECONDS = 30.0
SIZE = (140, 40)


class Collections:
    """Counts and CPU time of the collections of each generation, while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        took = time.perf_counter() - self._started
        self.count[generation] += 1
        self.seconds[generation] += took
        self.longest[generation] = max(self.longest[generation], took)


async def run_design(url: str, cpython: bool) -> dict[str, Any]:
    """One app taking the stream for SECONDS; its collections after the first paint."""
    from tui.app import RtApp, heap
    from tui.config import Settings, TargetChoice

    if cpython:
        heap.FULL_COLLECTION_AFTER = gc.get_threshold()[2]  # the freeze stays, CPython's thresholds
    collections = Collections()
    gc.callbacks.append(collections)
    settings = Settings(target=TargetChoice.URL, url=url, playback=False, capture=False, reconnect=False)
    app = RtApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        while app.first_paint_at is None:
            await pilot.pause(0.05)
        frames = len(app.journal)
        collections.on = True
        started = time.perf_counter()
        await asyncio.sleep(SECONDS)
        collections.on = False
        frames = len(app.journal) - frames
        wall = time.perf_counter() - started
    return {
        "rate": frames / wall,
        "count": collections.count,
        "ms": [round(s * 1000, 1) for s in collections.seconds],
        "longest_ms": [round(s * 1000, 1) for s in collections.longest],
    }


def _describe(figures: dict[str, Any]) -> str:
    count, ms, longest = figures["count"], figures["ms"], figures["longest_ms"]
    return (
        f"{count[2]} full ({ms[2]:,.0f} ms in all, the longest {longest[2]:.0f} ms), "
        f"{count[1]} middle ({ms[1]:,.0f} ms, ≤ {longest[1]:.0f} ms), {count[0]} young ({ms[0]:,.0f} ms); "
        f"{figures['rate']:,.0f} frames/s taken"
    )


async def main() -> None:
    async with ChildServer() as server:
        url = server.url("mix", rate=LOAD_RATE)
        results = {}
        for design in ("app", "cpython"):
            done = subprocess.run(
                [sys.executable, "-m", "tests.bench_gc", "--design", design, url],
                capture_output=True,
                text=True,
                env=child_env(),
                check=True,
            )
            results[design] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"garbage collections in {SECONDS:.0f} s of {LOAD_RATE:,} events/s (the UI loop waits for each): "
        f"the app's policy {_describe(results['app'])}; vs CPython's thresholds {_describe(results['cpython'])}"
    )


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    if sys.argv[1:2] == ["--design"]:
        print(json.dumps(asyncio.run(run_design(sys.argv[3], sys.argv[2] == "cpython"))))
    else:
        asyncio.run(main())
