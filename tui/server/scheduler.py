"""The scenario hooks one connection consults: event ordering, faults, pacing, delays, expiry.

The writer routes every emitted event through `route` (ordering, then triggered faults) and
awaits `pace` before each frame; the connection asks `transcription_delay` per turn and runs
`run_expiry` for the session's lifetime. Each kind of random choice has its own generator,
seeded from the scenario's seed, so adding latency does not change which delays are drawn.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from .faults import (
    SESSION_EXPIRED_CLOSE_CODE,
    Faults,
    Outgoing,
    session_expired_error,
    session_expired_message,
)
from .ordering import Event, TranscriptOrdering
from .scenario import Scenario

_log = logging.getLogger(__name__)


class Scheduler:
    """Scenario state for one connection."""

    def __init__(self, scenario: Scenario, *, transcription_delay_s: float, session_seconds: float) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if scenario.seed is not None else random.SystemRandom().randrange(2**32)
        if scenario.seed is None and scenario != Scenario():
            _log.info("simulator: scenario without sim_seed; this connection uses sim_seed=%d", self.seed)
        self.session_seconds = scenario.session_seconds if scenario.session_seconds is not None else session_seconds
        self._default_delay_s = transcription_delay_s
        self._delay_rng = self._rng("transcription_delay")
        self._ordering = TranscriptOrdering(
            scenario.transcription, hold_limit_s=scenario.hold_limit_ms / 1000.0, rng=self._rng("order")
        )
        self._faults = Faults(scenario, counts_rng=self._rng("counts"), latency_rng=self._rng("latency"))
        self._push: Callable[[list[Outgoing]], None] | None = None
        self._ordering.bind(self._released)

    def _rng(self, purpose: str) -> random.Random:
        # String seeds hash with SHA-512: stable across runs and PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{purpose}")

    @property
    def paced(self) -> bool:
        """True when every frame waits in `pace` first."""
        return self._faults.paced

    def bind(self, push: Callable[[list[Outgoing]], None]) -> None:
        """Where the writer takes events released later (by a hold limit)."""
        self._push = push

    def route(self, event: Event) -> list[Outgoing]:
        """What to queue now for one emitted event (GA names), in order."""
        if self._faults.dropped:
            return []
        return self._with_faults(self._ordering.route(event))

    def expect_transcript(self, item_id: str) -> None:
        """Transcription events will follow this item's commit (the ordering mode applies to them)."""
        self._ordering.expect_transcript(item_id)

    async def pace(self, frame: bytes) -> None:
        """Wait before sending `frame` (UTF-8), as the scenario's slow server would."""
        await self._faults.pace(frame)

    def transcription_delay(self) -> float:
        """Seconds to wait after recognizing a turn before its transcription events."""
        if self.scenario.transcription_delay_ms is None:
            return self._default_delay_s
        return self.scenario.transcription_delay_ms.pick(self._delay_rng) / 1000.0

    async def run_expiry(
        self,
        *,
        emit: Callable[..., Any],
        flush: Callable[[], Awaitable[None]],
        ws: ServerConnection,
    ) -> None:
        """At the session's maximum duration: `error` session_expired, then close 1001."""
        await asyncio.sleep(self.session_seconds)
        # The session is over: what an ordering mode still holds is never sent.
        self._ordering.discard()
        emit("error", error=session_expired_error(self.session_seconds))
        await flush()
        await ws.close(SESSION_EXPIRED_CLOSE_CODE, session_expired_message(self.session_seconds))

    def close(self) -> None:
        """Stop the timers (the connection is gone)."""
        self._ordering.discard()

    def _with_faults(self, events: list[Event]) -> list[Outgoing]:
        out: list[Outgoing] = []
        for event in events:
            if self._faults.dropped:
                break
            out.append(event)
            out += self._faults.after(event)
        return out

    def _released(self, events: list[Event]) -> None:
        if self._push is not None and not self._faults.dropped:
            self._push(self._with_faults(events))
