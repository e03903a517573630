"""One ordered outbound stream per connection."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.protocol import Dialect

from . import ids
from .audio_format import ResponseAudio
from .beta import BetaWire
from .faults import Drop, Outgoing, drop_connection
from .scheduler import Scheduler

_log = logging.getLogger(__name__)

#: Default bound of what waits for a client that does not read (serialized characters).
MAX_QUEUED_CHARS = 32 * 1024 * 1024
#: Close code and reason when that bound is passed (policy violation, as for oversized frames).
SLOW_CLIENT_CLOSE_CODE = 1008
SLOW_CLIENT_REASON = "client is not reading"


@dataclass(slots=True)
class _Frame:
    """A serialized event waiting to be sent, with what to run once it was."""

    text: str
    on_sent: Callable[[], None] | None = None


def _serialize(event: dict[str, Any]) -> str:
    # allow_nan=False: NaN and Infinity are not JSON; a bug producing them must not reach a client.
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


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
        max_queued_chars: int = MAX_QUEUED_CHARS,
    ) -> None:
        self._ws = ws
        self._dialect = dialect
        self._audio = ResponseAudio()
        self._beta = (beta or BetaWire()) if dialect is Dialect.BETA else None
        self._queue: asyncio.Queue[_Frame | Drop | None] = asyncio.Queue()
        self._queued_chars = 0
        self._max_queued_chars = max_queued_chars
        self._on_sent: dict[str, Callable[[], None]] = {}
        """Callbacks by internal event id, run once that event's frame was sent."""
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._closed = False
        # Scenario hooks: reordering and injected faults at emit time, pacing at send time.
        self._scheduler = scheduler
        if scheduler is not None:
            scheduler.bind(self._enqueue)

    def start(self) -> None:
        """Start the sending task (needs a running loop)."""
        self._task = asyncio.create_task(self._run(), name="rt-sim-writer")

    def emit(self, event_type: str, /, *, on_sent: Callable[[], None] | None = None, **fields: Any) -> dict[str, Any]:
        """Queue one server event; returns it in its internal form (GA, with its `event_id`).

        `on_sent` runs once the event's frame was actually sent (after any reordering or hold by
        the scenario); never when it is dropped or the connection ends first.
        """
        event: dict[str, Any] = {"type": event_type, "event_id": ids.event_id(), **fields}
        if on_sent is not None and not self._closed:
            self._on_sent[event["event_id"]] = on_sent
        if not self._closed:
            self._enqueue(self._scheduler.route(event) if self._scheduler is not None else [event])
        return event

    def _enqueue(self, items: list[Outgoing]) -> None:
        for item in items:
            if self._closed:
                return
            if isinstance(item, dict):
                wire = self.wire_form(item)
                if wire is None:
                    continue
                try:
                    text = _serialize(wire)
                except ValueError:
                    _log.exception("simulator: unserializable %s event not sent", item.get("type"))
                    continue
                self._put(_Frame(text, self._on_sent.pop(str(item.get("event_id")), None)))
            elif isinstance(item, str):
                self._put(_Frame(item))
            else:
                self._queue.put_nowait(item)

    def _put(self, frame: _Frame) -> None:
        self._queued_chars += len(frame.text)
        if self._queued_chars > self._max_queued_chars:
            # The client stopped reading: keep no more for it and end the connection (1008).
            _log.warning("simulator: outbound queue over %d characters, closing", self._max_queued_chars)
            self._closed = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queued_chars = 0
            self._on_sent.clear()
            if self._task is not None:
                self._task.cancel()
            self._closing = asyncio.get_running_loop().create_task(
                self._ws.close(SLOW_CLIENT_CLOSE_CODE, SLOW_CLIENT_REASON)
            )
            return
        self._queue.put_nowait(frame)

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
        except asyncio.CancelledError:
            if not self._task.cancelled():
                raise
        finally:
            self._closed = True
            self._on_sent.clear()
        if self._closing is not None:
            await self._closing

    async def _run(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            if isinstance(frame, Drop):
                self._closed = True
                await drop_connection(self._ws, frame.mode)
                return
            self._queued_chars -= len(frame.text)
            try:
                if self._scheduler is not None and self._scheduler.paced:
                    await self._scheduler.pace(frame.text)
                await self._ws.send(frame.text)
                if frame.on_sent is not None:
                    frame.on_sent()
            except ConnectionClosed:
                self._closed = True
                return
            except Exception:  # pragma: no cover - a send failure must not kill the connection silently
                _log.exception("simulator: failed to send an event")
                self._closed = True
                return
