"""What the simulated model heard in each user audio item: one ASR run per item, shared."""

from __future__ import annotations

import asyncio
import zlib

from .asr import AsrEngine

#: Recognitions one connection may have in the shared engine at once; more wait their turn.
MAX_RECOGNITIONS_IN_FLIGHT = 2
#: Recognitions one connection may have waiting behind those. Past that the audio is arriving
#: faster than it can be recognized (a client streaming faster than real time with turn
#: detection on): the new turn is not recognized (`BacklogFull`), so the backlog, and the audio
#: it holds, stays bounded however fast the client sends. Turns already waiting keep their place.
MAX_RECOGNITIONS_WAITING = 8


class BacklogFull(Exception):
    """A recognition refused because the connection already has a full backlog of them."""

    def __init__(self, pending: int) -> None:
        super().__init__(f"{pending} recognitions already pending on this connection")
        self.pending = pending


class Hearing:
    """Caches one recognition task per item (and per exact audio).

    The realtime model hears audio natively, whether or not input transcription is on, so a
    response needs the words even when no transcription events are sent. When transcription is
    on too, both consumers await the same task instead of running the model twice. semantic_vad
    listens to a turn before it is committed, under the id the item will get: if the committed
    audio is the same, that early run is reused; if the turn went on, the audio differs and it
    is recognized again.
    """

    def __init__(
        self,
        asr: AsrEngine,
        *,
        max_in_flight: int = MAX_RECOGNITIONS_IN_FLIGHT,
        max_waiting: int = MAX_RECOGNITIONS_WAITING,
    ) -> None:
        self._asr = asr
        self._tasks: dict[str, tuple[tuple[int, int], asyncio.Task[str]]] = {}
        self._max_pending = max_in_flight + max_waiting
        self._pending = 0
        """Recognitions started and not finished (in flight or waiting for a slot)."""
        # The engine is shared by every connection: one connection committing many turns queues
        # them here, behind each other, not in the engine ahead of other connections' turns.
        self._slots = asyncio.Semaphore(max_in_flight)

    async def hear(self, item_id: str, pcm: bytes) -> str:
        """The text recognized in `pcm` for `item_id` (recognized once, on first request).

        Raises BacklogFull when this connection already has its most recognitions pending.
        """
        fingerprint = (len(pcm), zlib.crc32(pcm))
        cached = self._tasks.get(item_id)
        if cached is None or cached[0] != fingerprint:
            if self._pending >= self._max_pending:
                raise BacklogFull(self._pending)
            self._pending += 1
            task = asyncio.create_task(self._recognize(pcm), name=f"rt-sim-asr-{item_id}")
            task.add_done_callback(self._finished)
            self._tasks[item_id] = (fingerprint, task)
        else:
            task = cached[1]
        # Shielded: a cancelled response must not cancel the run a transcription is waiting on.
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[str]) -> None:
        self._pending -= 1

    async def _recognize(self, pcm: bytes) -> str:
        async with self._slots:
            return await self._asr.transcribe(pcm)

    def forget(self, item_id: str) -> None:
        """Drop the cached result of a deleted item (a consumer already waiting still gets it)."""
        self._tasks.pop(item_id, None)

    def close(self) -> None:
        """Cancel recognitions nobody will read (the connection is gone)."""
        for _, task in self._tasks.values():
            if not task.done():
                task.cancel()
        self._tasks.clear()
