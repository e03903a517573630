"""Shared pieces of the bench: percentiles, CPU clocks, the RichLog baseline app, child processes.

The baseline every ingest and memory figure is compared with is the naive design: an app whose
pump writes one line per event (direction, type, the project's one-line summary) to a Textual
`RichLog` (Textual's defaults: every line kept, rendered when written).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import RichLog

from tui.bus import Bus, Mode
from tui.protocol import Direction, Envelope
from tui.protocol.summary import summarize_event
from tui.session import FRAMES

PUMP_HZ = 30
"""The app's pump cadence (tui/app/app.py); the baseline drains its bus as often."""

ARROWS = {Direction.OUT: "▲", Direction.IN: "▼", Direction.LOCAL: "●"}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds, or with one decimal below 10 ms."""
    value = seconds * 1000
    return f"{value:.2f}" if value < 1 else f"{value:.1f}" if value < 10 else f"{value:.0f}"


def p50_p99(values: Sequence[float]) -> str:
    """`p50 12 ms, p99 40 ms (n=100)`."""
    return f"p50 {ms(statistics.median(values))} ms, p99 {ms(percentile(values, 0.99))} ms (n={len(values)})"


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    return _status_kb("VmRSS") / 1000


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    return _status_kb("VmHWM") / 1000


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far, all its threads (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU seconds of the calling thread (the UI loop's), summed over the spans measured.

    Thread time, not wall time: sleeps and waits cost nothing, other threads (the audio stack
    loading at start-up) and other processes on this shared machine are not counted.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start: float | None = None

    def start(self) -> None:
        self._start = time.thread_time()

    def stop(self) -> None:
        assert self._start is not None
        self.seconds += time.thread_time() - self._start
        self._start = None


def naive_line(env: Envelope) -> Text:
    """The baseline's line for one event: arrow, type, the project's summary."""
    return Text.assemble(ARROWS.get(env.direction, "?"), " ", (env.type, "bold"), "  ", summarize_event(env.data))


class RichLogApp(App[None]):
    """The naive design: a bus, a 30 Hz pump, one `RichLog.write` per event."""

    def __init__(self) -> None:
        super().__init__()
        self.bus = Bus()
        self._feed = self.bus.subscribe(FRAMES, Mode.LOSSLESS)
        self.events = 0

    def compose(self) -> ComposeResult:
        self.rich_log = RichLog(id="log")
        yield self.rich_log

    def on_mount(self) -> None:
        self.set_interval(1 / PUMP_HZ, self.pump)

    def pump(self) -> None:
        """Write every waiting event as one line."""
        self.ingest(self._feed.drain())

    def ingest(self, batch: list[Envelope]) -> None:
        """One line per event."""
        write = self.rich_log.write
        for env in batch:
            write(naive_line(env))
        self.events += len(batch)


def child_env(data_dir: str | None = None) -> dict[str, str]:
    """The environment of a child rt-tui: no OpenAI key, frames captured under `data_dir`."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_API_KEY", "RT_TUI_URL")}
    if data_dir is not None:
        env["RT_TUI_DATA_DIR"] = data_dir
    return env


def run_child(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run `python -m module args` in a fresh interpreter; its last stdout line is a JSON object."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class ChildServer:
    """tests/bench_wsserver.py in a child process (its own interpreter and loop), on a free port."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def __aenter__(self) -> ChildServer:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench_wsserver", stdout=asyncio.subprocess.PIPE, env=child_env()
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        self.port = int(line)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    def url(self, mode: str, **params: object) -> str:
        """The URL of one of the server's modes (see tests/bench_wsserver.py)."""
        query = "&".join(f"{key}={value}" for key, value in {"model": "gpt-realtime", "mode": mode, **params}.items())
        return f"ws://127.0.0.1:{self.port}/v1/realtime?{query}"
