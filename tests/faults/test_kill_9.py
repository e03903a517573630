"""`rt-tui send` killed with SIGKILL: mid-stream, the capture loses at most the frames of its last
flush interval (250 ms); after a turn has ended and the session is idle, it loses nothing.

The real console script streams a turn through the hostile server (which counts what it sent) in
front of the real simulator; `--json` prints each frame after the capture has taken it, so a frame
printed but not on disk is a frame the capture lost. Each kill's figures go to the suite's summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.evidence import FIGURES, assert_holds_every_frame, captures, lost_frames, received, strict_lines
from tests.faults.hostile import Plan, hostile_server
from tests.faults.test_faults import RT_TUI
from tui.server.testing import RunningSimulator, realtime_simulator
from tui.session.capture import FLUSH_INTERVAL

STALE_SECONDS = 1.0
"""A lost frame must be younger than this at the kill: the flush interval (0.25 s), plus room for a
timer that fires late on a loaded machine."""


@pytest.fixture
async def real_time_upstream() -> AsyncIterator[RunningSimulator]:
    """The simulator streaming its replies at real-time pace, so a kill lands in the middle of one."""
    async with realtime_simulator(response_speed=1.0) as sim:
        yield sim


async def send_until(url: str, wav: Path, data_dir: Path, stop: Any, *extra: str) -> tuple[list[dict[str, Any]], float]:
    """Run `send --json` and SIGKILL it once `stop(records)` holds; every record it printed, and
    the wall time of the kill."""
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "send",
        str(wav),
        "--url",
        url,
        "--json",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
    )
    assert proc.stdout is not None
    printed: list[dict[str, Any]] = []
    killed_at: float | None = None
    try:
        while not stop(printed):
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, f"send ended before the kill: {[r['type'] for r in printed]}"
            printed.append(json.loads(line))
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        rest = await asyncio.wait_for(proc.stdout.read(), 30)  # printed before it died: taken too
        printed += [json.loads(line) for line in rest.splitlines() if line.endswith(b"}")]
    finally:
        if killed_at is None:  # only then: a second signal would reap the child under asyncio's watcher
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return printed, killed_at


def audio_deltas(records: list[dict[str, Any]]) -> int:
    return sum(r["type"] == "response.output_audio.delta" for r in records)


@pytest.mark.parametrize("deltas", [2, 5, 8])
async def test_kill_9_mid_stream_loses_at_most_the_last_flush_interval(
    deltas: int, real_time_upstream: RunningSimulator, tone_wav: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    async with hostile_server([Plan()], real_time_upstream.url) as server:
        printed, killed_at = await send_until(
            server.url, tone_wav, data_dir, lambda r: audio_deltas(r) >= deltas, "--no-transcription"
        )
        await asyncio.wait_for(server.connection(0).ended.wait(), 30)
    strict_lines(data_dir)  # whole lines only, even cut off by SIGKILL
    [capture] = captures(data_dir)
    on_disk = {env.seq for env in capture}
    lost = [r for r in printed if r["seq"] not in on_disk]
    ages_ms = sorted(round((killed_at - r["wall"]) * 1000) for r in lost)
    sent = server.connection(0).sent
    kept = received(capture)
    FIGURES[f"kill -9 of send after {deltas} audio deltas"] = (
        f"{len(lost)} of {len(printed)} printed frames lost (aged {ages_ms} ms at the kill; flush interval "
        f"{FLUSH_INTERVAL * 1000:.0f} ms); {lost_frames(sent, kept)} of {len(sent)} server frames not on disk"
    )
    assert all(age < STALE_SECONDS * 1000 for age in ages_ms), ages_ms
    # What is on disk is what the server sent, text for text, in order, with no gap.
    assert kept == sent[: len(kept)]


async def test_kill_9_after_an_idle_turn_end_loses_nothing(
    upstream: RunningSimulator, tone_wav: Path, tmp_path: Path
) -> None:
    """The turn has ended (`rate_limits.updated`); the transcript is held back 4 s: the session is
    idle, and everything the server sent is on disk at once."""
    data_dir = tmp_path / "data"
    held = {"sim_transcription": "after_response", "sim_transcription_delay_ms": "4000"}
    async with hostile_server([Plan(upstream_query=held)], upstream.url) as server:
        printed, _ = await send_until(
            server.url, tone_wav, data_dir, lambda r: bool(r) and r[-1]["type"] == "rate_limits.updated"
        )
        await asyncio.wait_for(server.connection(0).ended.wait(), 30)
    strict_lines(data_dir)
    [capture] = captures(data_dir)
    on_disk = {env.seq for env in capture}
    lost = [r for r in printed if r["seq"] not in on_disk]
    sent = server.connection(0).sent
    FIGURES["kill -9 of send after an idle turn end"] = (
        f"{len(lost)} of {len(printed)} printed frames lost; {lost_frames(sent, received(capture))} of "
        f"{len(sent)} server frames not on disk"
    )
    assert not lost
    assert_holds_every_frame(sent, capture)
