"""The replay player: at once in slices, or timed at a speed, with pause and resume."""

from __future__ import annotations

import asyncio

import pytest

from tests.journal_helpers import Clock, received
from tui.bus import Bus, Mode, Topic
from tui.protocol import Envelope
from tui.replay import ReplayPlayer
from tui.replay import player as player_module
from tui.replay.player import MAX_GAP

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


class FakeTime:
    """The player's `time` module: a monotonic clock the test moves by hand, so what the status
    shows during a wait is checked without sleeping through the wait."""

    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now


def with_gap(seconds: float) -> list[Envelope]:
    """Two frames `seconds` apart."""
    clock = Clock(step=seconds)
    return [received("rate_limits.updated", clock, n=n) for n in range(2)]


async def test_the_clock_moves_through_a_wait_and_a_long_silence_is_counted_as_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTime()
    monkeypatch.setattr(player_module, "time", fake)
    envs = with_gap(24.0)
    bus = Bus()
    sub = bus.subscribe(TOPIC, Mode.LOSSLESS)
    player = ReplayPlayer(envs, bus, TOPIC, speed=1.0)
    task = asyncio.create_task(player.run())
    assert (await asyncio.wait_for(sub.get(), 5)).seq == envs[0].seq
    # Waiting for the second frame: 24 s of silence are played as MAX_GAP, the rest is skipped at once.
    assert player.position == 1
    assert player.skipped_seconds == pytest.approx(24.0 - MAX_GAP)
    assert player.played_seconds == pytest.approx(19.0)
    fake.now += 2
    assert player.played_seconds == pytest.approx(21.0)  # the clock moves while nothing is published
    player.speed = 2.0
    fake.now += 1
    assert player.played_seconds == pytest.approx(23.0)  # at the new speed, from where it was
    player.pause()
    fake.now += 10
    assert player.played_seconds == pytest.approx(23.0)  # still while paused
    player.resume()
    fake.now += 0.25
    assert player.played_seconds == pytest.approx(23.5)
    fake.now += 100
    assert player.played_seconds == pytest.approx(24.0)  # never past the frame not yet published
    player.speed = 4.0  # wakes the wait: the frame is due, and goes
    await asyncio.wait_for(player.done.wait(), 5)
    await task
    assert [env.seq for env in sub.drain()] == [envs[1].seq]
    assert player.played_seconds == player.recorded_seconds == pytest.approx(24.0)
    assert player.skipped_seconds == pytest.approx(19.0)  # a short wait skips nothing more


async def test_a_finished_replay_cannot_be_paused() -> None:
    player = ReplayPlayer(recording(3, 0.01), Bus(), TOPIC, speed=None)
    await asyncio.wait_for(player.run(), 5)
    assert player.done.is_set()
    player.toggle()
    assert not player.paused  # nothing would ever resume it
