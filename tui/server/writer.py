"""One ordered outbound stream per connection."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.protocol import Dialect, serialize

from . import ids
from .audio_format import ResponseAudio
from .beta import BetaWire
from .faults import Drop, Outgoing, drop_connection
from .scheduler import Scheduler

_log = logging.getLogger(__name__)


class EventWriter:
    """Stamps, names and sends server events in exactly the order they were emitted.

    `emit` is synchronous so that handlers and response tasks can never interleave half an
    event sequence; a single task drains the queue onto the socket. Callers write events in the
    internal GA form; this is the edge where they take their wire form: response audio encoded
    in the response's output format, then, for the beta dialect, beta names and shapes.
    """

    def __init__(
        self,
        ws: ServerConnection,
        dialect: Dialect,
        *,
        beta: BetaWire | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._ws = ws
        self._dialect = dialect
        self._audio = ResponseAudio()
        self._beta = (beta or BetaWire()) if dialect is Dialect.BETA else None
        self._queue: asyncio.Queue[str | Drop | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # Scenario hooks: reordering and injected faults at emit time, pacing at send time.
        self._scheduler = scheduler
        if scheduler is not None:
            scheduler.bind(self._enqueue)

    def start(self) -> None:
        """Start the sending task (needs a running loop)."""
        self._task = asyncio.create_task(self._run(), name="rt-sim-writer")

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Queue one server event; returns it in its internal form (GA, with its `event_id`)."""
        event: dict[str, Any] = {"type": event_type, "event_id": ids.event_id(), **fields}
        if not self._closed:
            self._enqueue(self._scheduler.route(event) if self._scheduler is not None else [event])
        return event

    def _enqueue(self, items: list[Outgoing]) -> None:
        for item in items:
            if self._closed:
                return
            if isinstance(item, dict):
                wire = self.wire_form(item)
                if wire is not None:
                    self._queue.put_nowait(serialize(wire))
            else:
                self._queue.put_nowait(item)

    def wire_form(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """What goes on the socket for an internal event; None when this dialect has no such event."""
        wire = self._audio.transcode(event)
        return self._beta.outbound(wire) if self._beta is not None else wire

    async def close(self) -> None:
        """Send what is queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await self._task
        finally:
            self._closed = True

    async def _run(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                return
            if isinstance(text, Drop):
                self._closed = True
                await drop_connection(self._ws, text.mode)
                return
            try:
                if self._scheduler is not None and self._scheduler.paced:
                    await self._scheduler.pace(text)
                await self._ws.send(text)
            except ConnectionClosed:
                self._closed = True
                return
            except Exception:  # pragma: no cover - a send failure must not kill the connection silently
                _log.exception("simulator: failed to send an event")
                self._closed = True
                return
