"""Playing a recording onto the bus: at once (the default), in real time, or ×N, with pause.

The player is a source like a live session: it publishes envelopes on a bus topic and whoever
shows them drains the topic into a pipeline. Instant playback publishes in chunks, yielding to the
loop between them, so a recording of an hour fills the views without freezing them.

Timed playback follows a clock that reads recording time: it runs at `speed` while playing, stands
still while paused, and a frame is published when the clock reaches the frame's time. A silence
longer than `MAX_GAP` of waiting is shortened to `MAX_GAP`: the clock jumps over the rest, which
`skipped_seconds` counts, so the status can say what was left out.

The player may hold a lean recording (tui.replay.lean: frames without their parsed copy, which would
hold an audio frame's base64 twice for the whole run); each is parsed again as it is published, so a
subscriber gets every frame whole, and the recording stays lean to be played again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from tui.bus import Bus, Topic
from tui.protocol import Envelope
from tui.protocol.records import has_time

from .lean import Frames, hydrated

CHUNK = 2000
"""Envelopes published per loop turn in instant playback."""

MAX_GAP = 5.0
"""Longest wait, in seconds of the wall clock, between two frames in timed playback: a recording's
idle minutes are shortened to this (and counted in `ReplayPlayer.skipped_seconds`)."""


class ReplayPlayer:
    """Publishes a recording's envelopes on `topic`, paced by their recorded times."""

    def __init__(
        self,
        envelopes: Sequence[Envelope],
        bus: Bus,
        topic: Topic[Envelope],
        *,
        speed: float | None,
        scrub: Callable[[Iterable[Envelope]], Iterable[Envelope]] | None = None,
    ) -> None:
        self.envelopes = envelopes
        """The recording, as given (lean or whole): it is never copied."""
        self._monos: Sequence[float] = (
            envelopes.monos() if isinstance(envelopes, Frames) else [env.mono for env in envelopes]
        )
        """Each envelope's time, which paces playback: read without making the envelope (a capture's
        frame's text is read from its file only to be published)."""
        whole = hydrated(envelopes)
        self._published: Iterator[Envelope] = iter(scrub(whole) if scrub is not None else whole)
        """What is published, one for each of `envelopes` in order: hydrated, then scrubbed (a
        scrubber that follows text across deltas must see them in order, once)."""
        self.bus = bus
        self.topic = topic
        self._speed = speed
        self.position = 0
        """Envelopes published so far."""
        self.stopped = ""
        """Why the recording could not be played to its end (its file changed since it was read), or ""."""
        self.skipped_seconds = 0.0
        """Recording time left out: the part of each silence beyond `MAX_GAP` of waiting."""
        self._running = asyncio.Event()
        self._running.set()
        self._wake = asyncio.Event()
        """Set by pause and by a new speed: a wait for the next frame is cut short and recomputed."""
        start = self._monos[0] if envelopes else 0.0
        self._clock_wall = time.monotonic()
        self._clock_mono = start
        """The timed clock: it read `_clock_mono` (recording time) at `_clock_wall` (monotonic)."""
        self._timing = False
        """True once timed playback runs (the clock means nothing in instant playback)."""
        self.done = asyncio.Event()
        walls = envelopes.walls() if isinstance(envelopes, Frames) else [env.wall for env in envelopes]
        self.timed = any(has_time(wall) for wall in walls)
        """Whether any line of the recording has a time (a log may have none: only its lines' order,
        which the player paces a millisecond apart, a clock that means nothing to show)."""

    @property
    def speed(self) -> float | None:
        """None: as fast as possible; 1.0: real time; 2.0: twice as fast. Set to None while playing,
        the rest is published at once."""
        return self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        # The clock goes on from where it reads now, at the new rate; a wait under way is recomputed.
        self._anchor()
        self._speed = value
        self._wake.set()

    @property
    def paused(self) -> bool:
        """True while playback waits for `resume`."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop publishing until `resume`; the clock stands still."""
        if self.paused or self.done.is_set():
            return
        self._anchor()
        self._running.clear()
        self._wake.set()

    def resume(self) -> None:
        """Go on from where it stopped (the rest of a silence paused in is still waited)."""
        if not self.paused:
            return
        self._clock_wall = time.monotonic()
        self._running.set()

    def toggle(self) -> None:
        """Pause, or resume."""
        if self.paused:
            self.resume()
        else:
            self.pause()

    @property
    def first_mono(self) -> float:
        """The recording's first time (0.0 when it is empty)."""
        return self._monos[0] if self._monos else 0.0

    @property
    def recorded_seconds(self) -> float:
        """The recording's length."""
        if not self.envelopes:
            return 0.0
        return self._monos[-1] - self._monos[0]

    @property
    def played_seconds(self) -> float:
        """How far into the recording playback is: in timed playback this moves on while the next
        frame is awaited (at `speed`, and never past that frame), and includes skipped silence."""
        if not self.envelopes:
            return 0.0
        start = self._monos[0]
        published = self._monos[self.position - 1] if self.position else start
        if not self._timing or self.position >= len(self.envelopes):
            return published - start
        reading = min(self._reading(), self._monos[self.position])
        return max(reading, published) - start

    def _reading(self) -> float:
        """The clock's recording time now."""
        if self.paused:
            return self._clock_mono
        return self._clock_mono + (time.monotonic() - self._clock_wall) * (self._speed or 1.0)

    def _anchor(self) -> None:
        """Restart the clock from its reading now (before its rate changes or it stops)."""
        if self._timing and not self.paused:
            now = time.monotonic()
            self._clock_mono, self._clock_wall = self._reading(), now

    async def run(self) -> None:
        """Publish every envelope, then set `done`."""
        try:
            if self._speed is None:
                await self._instant()
            else:
                await self._timed()
        finally:
            self.done.set()

    async def _instant(self) -> None:
        while self.position < len(self.envelopes):
            await self._running.wait()
            end = min(len(self.envelopes), self.position + CHUNK)
            bus, topic = self.bus, self.topic
            for env in itertools.islice(self._published, end - self.position):
                bus.publish(topic, env)
            self.position = end
            await asyncio.sleep(0)

    async def _timed(self) -> None:
        self._clock_wall, self._clock_mono, self._timing = time.monotonic(), self._monos[0], True
        while self.position < len(self.envelopes):
            if self.paused:
                await self._running.wait()
                continue
            if self._speed is None:  # the rest at once (`speed = None` while playing)
                await self._instant()
                return
            mono = self._monos[self.position]
            speed = self._speed or 1.0
            wait = (mono - self._reading()) / speed
            if wait > MAX_GAP:
                # A long silence: the clock jumps to MAX_GAP before the frame (a capture's idle
                # half hour is not replayed literally), and the jump is counted for the status.
                skip = (wait - MAX_GAP) * speed
                self._clock_mono += skip
                self.skipped_seconds += skip
                wait = MAX_GAP
            if wait > 0:
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that comes in the
                # loop turn the wake does (`p` or `]`, then `r`), and the old player went on
                # publishing into the restarted replay's views.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                    continue  # paused, or a new speed: the wait is recomputed from the clock
                if self._reading() < mono:
                    continue  # woken early by the timer's granularity
            self.bus.publish(self.topic, next(self._published))
            self.position += 1
