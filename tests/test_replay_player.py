"""The replay player: at once in slices, or timed at a speed, with pause and resume."""

from __future__ import annotations

import asyncio

from tests.journal_helpers import Clock, received
from tui.bus import Bus, Mode, Topic
from tui.protocol import Envelope
from tui.replay import ReplayPlayer

TOPIC: Topic[Envelope] = Topic("replay-test")


def recording(frames: int, step: float) -> list[Envelope]:
    clock = Clock(step=step)
    return [received("rate_limits.updated", clock, n=n) for n in range(frames)]


async def test_at_once_publishes_everything_in_order_in_slices() -> None:
    envs = recording(5000, 0.01)
    bus = Bus()
    sub = bus.subscribe(TOPIC, Mode.LOSSLESS)
    player = ReplayPlayer(envs, bus, TOPIC, speed=None)
    task = asyncio.create_task(player.run())
    first_slice = 0
    while not player.done.is_set():
        await asyncio.sleep(0)
        if not first_slice and sub.pending:
            first_slice = sub.pending  # the loop got a turn between slices
    await task
    assert 0 < first_slice < 5000
    assert [env.seq for env in sub.drain()] == [env.seq for env in envs]
    assert player.played_seconds == player.recorded_seconds


async def test_timed_playback_keeps_the_recorded_order_and_pace_and_pauses() -> None:
    envs = recording(40, 0.05)  # two seconds recorded
    bus = Bus()
    sub = bus.subscribe(TOPIC, Mode.LOSSLESS)
    player = ReplayPlayer(envs, bus, TOPIC, speed=20.0)  # a tenth of a second to play
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(player.run())
    got: list[Envelope] = []
    while len(got) < 10:
        got.append(await asyncio.wait_for(sub.get(), 5))
    player.pause()
    paused_at = player.position
    for _ in range(5):
        await asyncio.sleep(0.02)  # it holds while paused (nothing else to wait on)
    assert player.position == paused_at and player.paused
    player.resume()
    await asyncio.wait_for(task, 10)
    got += sub.drain()
    assert [env.seq for env in got] == [env.seq for env in envs]
    assert loop.time() - started >= (envs[-1].mono - envs[0].mono) / 20.0  # never faster than asked
