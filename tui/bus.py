"""An in-process async publish/subscribe bus with three kinds of subscription.

- lossless: every item is kept, in order. The queue is unbounded so a critical producer (the
  websocket reader) never waits; non-critical producers may `await publish_wait()` to back off
  while any lossless subscriber is above its high-water mark.
- lossy: a ring that drops the oldest item when full and counts the drops (the event-log view;
  the capture file keeps everything, so forgetting here loses nothing).
- latest: a single slot; a new item replaces the unread one (audio level, counters).

All methods run on the event loop's thread; none blocks it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Topic(Generic[T]):
    """A typed channel name: `Topic[Envelope]("frames")` carries envelopes only."""

    name: str


class Mode(StrEnum):
    """How a subscription treats items it has not consumed yet."""

    LOSSLESS = "lossless"
    LOSSY = "lossy"
    LATEST = "latest"


class Subscription(Generic[T]):
    """One subscriber's view of a topic."""

    def __init__(self, bus: Bus, topic: Topic[T], mode: Mode, maxlen: int) -> None:
        self.topic = topic
        self.mode = mode
        self.maxlen = maxlen
        self.dropped = 0
        """Items this subscription lost (lossy: evicted from the ring; latest: overwritten)."""
        self._bus = bus
        self._items: deque[T] = deque(maxlen=1 if mode is Mode.LATEST else None)
        self._ready = asyncio.Event()
        self._closed = False

    def _offer(self, item: T) -> None:
        if self.mode is Mode.LATEST:
            if self._items:
                self.dropped += 1
            self._items.clear()
        elif self.mode is Mode.LOSSY and len(self._items) >= self.maxlen:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._ready.set()

    @property
    def pending(self) -> int:
        """How many items wait to be consumed."""
        return len(self._items)

    def drain(self) -> list[T]:
        """Take every waiting item at once (the UI pump's batch), oldest first."""
        items = list(self._items)
        self._items.clear()
        self._ready.clear()
        self._bus._notify_drained()
        return items

    def get_nowait(self) -> T | None:
        """Take the oldest waiting item, or None."""
        if not self._items:
            return None
        item = self._items.popleft()
        if not self._items:
            self._ready.clear()
        self._bus._notify_drained()
        return item

    async def get(self) -> T:
        """Wait for and take the oldest item. Raises EOFError once closed and empty."""
        while not self._items:
            if self._closed:
                raise EOFError(f"subscription to {self.topic.name!r} closed")
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()  # type: ignore[return-value]

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            try:
                yield await self.get()
            except EOFError:
                return

    def close(self) -> None:
        """Stop receiving; waiters wake up and iteration ends after the remaining items."""
        self._closed = True
        self._bus._unsubscribe(self)
        self._ready.set()


class Bus:
    """Topic-based fan-out of items to subscriptions."""

    HIGH_WATER = 10_000
    """Lossless backlog above which `publish_wait` makes non-critical producers wait."""

    def __init__(self) -> None:
        self._subs: dict[Topic[Any], list[Subscription[Any]]] = {}
        self._drained = asyncio.Event()
        self.published = 0

    def subscribe(self, topic: Topic[T], mode: Mode = Mode.LOSSLESS, maxlen: int = 10_000) -> Subscription[T]:
        """Subscribe to `topic`. `maxlen` bounds a lossy ring."""
        sub: Subscription[T] = Subscription(self, topic, mode, maxlen)
        self._subs.setdefault(topic, []).append(sub)
        return sub

    def publish(self, topic: Topic[T], item: T) -> None:
        """Deliver `item` to every subscription of `topic`. Never waits."""
        self.published += 1
        for sub in self._subs.get(topic, ()):
            sub._offer(item)

    async def publish_wait(self, topic: Topic[T], item: T) -> None:
        """Publish, after waiting while a lossless subscriber is backlogged (for bulk producers)."""
        while self._backlogged():
            self._drained.clear()
            await self._drained.wait()
        self.publish(topic, item)

    def _backlogged(self) -> bool:
        return any(
            sub.mode is Mode.LOSSLESS and sub.pending >= self.HIGH_WATER for subs in self._subs.values() for sub in subs
        )

    def _notify_drained(self) -> None:
        self._drained.set()

    def _unsubscribe(self, sub: Subscription[Any]) -> None:
        subs = self._subs.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)

    def close(self) -> None:
        """Close every subscription."""
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.close()
