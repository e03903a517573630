"""The bus: lossless keeps everything in order, lossy drops the oldest and counts, latest keeps one."""

from __future__ import annotations

import asyncio

from tui.bus import Bus, Mode, Topic

NUMBERS: Topic[int] = Topic("numbers")
OTHER: Topic[int] = Topic("other")


async def test_lossless_keeps_every_item_in_order() -> None:
    bus = Bus()
    sub = bus.subscribe(NUMBERS)
    for i in range(50_000):
        bus.publish(NUMBERS, i)
    assert sub.drain() == list(range(50_000))
    assert sub.dropped == 0


async def test_lossy_drops_oldest_and_counts() -> None:
    bus = Bus()
    sub = bus.subscribe(NUMBERS, Mode.LOSSY, maxlen=10)
    for i in range(25):
        bus.publish(NUMBERS, i)
    assert sub.drain() == list(range(15, 25))
    assert sub.dropped == 15


async def test_latest_keeps_one_slot() -> None:
    bus = Bus()
    sub = bus.subscribe(NUMBERS, Mode.LATEST)
    for i in range(5):
        bus.publish(NUMBERS, i)
    assert sub.get_nowait() == 4
    assert sub.get_nowait() is None
    assert sub.dropped == 4


async def test_fan_out_to_several_kinds_and_topics_are_separate() -> None:
    bus = Bus()
    lossless, lossy, latest = (
        bus.subscribe(NUMBERS),
        bus.subscribe(NUMBERS, Mode.LOSSY, 2),
        bus.subscribe(NUMBERS, Mode.LATEST),
    )
    other = bus.subscribe(OTHER)
    for i in range(3):
        bus.publish(NUMBERS, i)
    assert lossless.drain() == [0, 1, 2]
    assert lossy.drain() == [1, 2]
    assert latest.drain() == [2]
    assert other.drain() == []


async def test_get_waits_for_publish_and_close_ends_iteration() -> None:
    bus = Bus()
    sub = bus.subscribe(NUMBERS)

    async def producer() -> None:
        for i in range(3):
            await asyncio.sleep(0)
            bus.publish(NUMBERS, i)
        sub.close()

    task = asyncio.create_task(producer())
    got = [i async for i in sub]
    await task
    assert got == [0, 1, 2]


async def test_publish_wait_backs_off_while_a_lossless_subscriber_is_backlogged() -> None:
    bus = Bus()
    bus.HIGH_WATER = 5
    sub = bus.subscribe(NUMBERS)
    for i in range(5):
        bus.publish(NUMBERS, i)
    blocked = asyncio.create_task(bus.publish_wait(NUMBERS, 99))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    assert sub.drain() == [0, 1, 2, 3, 4]
    await asyncio.wait_for(blocked, 1)
    assert sub.drain() == [99]
