"""Playing a recording onto the bus: at once (the default), in real time, or ×N, with pause.

The player is a source like a live session: it publishes envelopes on a bus topic and whoever
shows them drains the topic into a pipeline. Instant playback publishes in chunks, yielding to the
loop between them, so a recording of an hour fills the views without freezing them.
"""

from __future__ import annotations

import asyncio
import time

from tui.bus import Bus, Topic
from tui.protocol import Envelope

CHUNK = 2000
"""Envelopes published per loop turn in instant playback."""

MAX_GAP = 5.0
"""Longest wait between two frames in timed playback (a recording's idle minutes are skipped)."""


class ReplayPlayer:
    """Publishes a recording's envelopes on `topic`, paced by their recorded times."""

    def __init__(self, envelopes: list[Envelope], bus: Bus, topic: Topic[Envelope], *, speed: float | None) -> None:
        self.envelopes = envelopes
        self.bus = bus
        self.topic = topic
        self.speed = speed
        """None: as fast as possible; 1.0: real time; 2.0: twice as fast."""
        self.position = 0
        """Envelopes published so far."""
        self._running = asyncio.Event()
        self._running.set()
        self.done = asyncio.Event()

    @property
    def paused(self) -> bool:
        """True while playback waits for `resume`."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop publishing until `resume`."""
        self._running.clear()

    def resume(self) -> None:
        """Go on from where it stopped."""
        self._running.set()

    def toggle(self) -> None:
        """Pause, or resume."""
        if self.paused:
            self.resume()
        else:
            self.pause()

    @property
    def recorded_seconds(self) -> float:
        """The recording's length."""
        if not self.envelopes:
            return 0.0
        return self.envelopes[-1].mono - self.envelopes[0].mono

    @property
    def played_seconds(self) -> float:
        """How far into the recording playback is."""
        if not self.envelopes or self.position == 0:
            return 0.0
        return self.envelopes[self.position - 1].mono - self.envelopes[0].mono

    async def run(self) -> None:
        """Publish every envelope, then set `done`."""
        try:
            if self.speed is None:
                await self._instant()
            else:
                await self._timed()
        finally:
            self.done.set()

    async def _instant(self) -> None:
        while self.position < len(self.envelopes):
            await self._running.wait()
            end = min(len(self.envelopes), self.position + CHUNK)
            for env in self.envelopes[self.position : end]:
                self.bus.publish(self.topic, env)
            self.position = end
            await asyncio.sleep(0)

    async def _timed(self) -> None:
        anchor_wall, anchor_mono, anchor_speed = time.monotonic(), self.envelopes[0].mono, self.speed or 1.0
        while self.position < len(self.envelopes):
            env = self.envelopes[self.position]
            if self.paused or (self.speed or 1.0) != anchor_speed:
                await self._running.wait()
                # Resumed, or a new speed: time counts again from this frame.
                anchor_wall, anchor_mono, anchor_speed = time.monotonic(), env.mono, self.speed or 1.0
            wait = anchor_wall + (env.mono - anchor_mono) / anchor_speed - time.monotonic()
            if wait > MAX_GAP:
                anchor_wall -= wait - MAX_GAP  # skip a long silence
                wait = MAX_GAP
            if wait > 0:
                await asyncio.sleep(wait)
                if self.paused or (self.speed or 1.0) != anchor_speed:
                    continue
            self.bus.publish(self.topic, env)
            self.position += 1
