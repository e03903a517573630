"""One ordered outbound stream per connection."""

from __future__ import annotations

import asyncio
import contextlib
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
from .faults import Drop, Outgoing, Stall, drop_connection
from .scheduler import Scheduler
from .unicode import utf8_frame

_log = logging.getLogger(__name__)

#: Default bound of what waits for a client that does not read (UTF-8 bytes of serialized frames).
MAX_QUEUED_BYTES = 32 * 1024 * 1024
#: Close code and reason when that bound is passed (policy violation, as for oversized frames).
SLOW_CLIENT_CLOSE_CODE = 1008
SLOW_CLIENT_REASON = "client is not reading"
#: What a queued frame costs beyond its bytes (the bytes object, the frame, the queue slot), so
#: that a flood of tiny events is counted for what it holds.
FRAME_OVERHEAD_BYTES = 128


@dataclass(slots=True)
class _Frame:
    """A serialized event waiting to be sent (UTF-8), with what to run once it was."""

    data: bytes
    on_sent: Callable[[], None] | None = None


def _cost(frame: _Frame) -> int:
    return len(frame.data) + FRAME_OVERHEAD_BYTES


def _serialize(event: dict[str, Any]) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON; a bug producing them must not reach a client.
    # Encoded here, once: websockets sends the bytes as a text frame without encoding them again,
    # and a string that is not valid Unicode cannot fail in its encoder (see unicode.py).
    return utf8_frame(json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False))


class EventWriter:
    """Stamps, names and sends server events in exactly the order they were emitted.

    `emit` is synchronous so that handlers and response tasks can never interleave half an
    event sequence; a single task drains the queue onto the socket. Callers write events in the
    internal GA form; this is the edge where they take their wire form: response audio encoded
    in the response's output format, then, for the beta dialect, beta names and shapes.

    What waits for the client is bounded: past `max_queued_bytes` (a client that stopped
    reading) the queue is dropped and the connection closed with 1008. The bytes are counted
    from `emit` until websockets has taken the frame off its write buffer, and charged to
    `meter` (the connection's share of the simulator's memory budget).
    """

    def __init__(
        self,
        ws: ServerConnection,
        dialect: Dialect,
        *,
        beta: BetaWire | None = None,
        scheduler: Scheduler | None = None,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
        meter: Callable[[int], None] | None = None,
        on_abandon: Callable[[], None] | None = None,
    ) -> None:
        self._ws = ws
        self._dialect = dialect
        self._audio = ResponseAudio()
        self._beta = (beta or BetaWire()) if dialect is Dialect.BETA else None
        self._queue: asyncio.Queue[_Frame | Drop | Stall | None] = asyncio.Queue()
        self._queued_bytes = 0
        self._max_queued_bytes = max_queued_bytes
        self._meter = meter
        self._on_abandon = on_abandon
        self._on_sent: dict[str, Callable[[], None]] = {}
        """Callbacks by internal event id, run once that event's frame was sent."""
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._closed = False
        self._unstall = asyncio.Event()
        """Set by `close`: a scenario's stall, now or to come, ends at once."""
        # Scenario hooks: reordering and injected faults at emit time, pacing at send time.
        self._scheduler = scheduler
        if scheduler is not None:
            scheduler.bind(self._enqueue)

    @property
    def closed(self) -> bool:
        """True once nothing more will be sent (closed, abandoned, dropped or the socket is gone)."""
        return self._closed

    @property
    def queued_bytes(self) -> int:
        """Bytes emitted (plus a small cost per frame) and not yet through websockets' write buffer."""
        return self._queued_bytes

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
                    data = _serialize(wire)
                except ValueError:
                    _log.exception("simulator: unserializable %s event not sent", item.get("type"))
                    continue
                self._put(_Frame(data, self._on_sent.pop(str(item.get("event_id")), None)))
            elif isinstance(item, str):
                self._put(_Frame(utf8_frame(item)))
            else:
                self._queue.put_nowait(item)

    def _put(self, frame: _Frame) -> None:
        self._count(_cost(frame))
        if self._queued_bytes > self._max_queued_bytes:
            # The client stopped reading: keep no more for it and end the connection (1008).
            _log.warning("simulator: outbound queue over %d bytes, closing", self._max_queued_bytes)
            self.abandon(SLOW_CLIENT_CLOSE_CODE, SLOW_CLIENT_REASON)
            return
        self._queue.put_nowait(frame)

    def abandon(self, code: int, reason: str) -> None:
        """Drop everything queued and close the socket with `code` and `reason` (not awaited here).

        For a connection that must end now: its client is not reading, or the simulator needs
        the memory back. Nothing emitted later is kept.
        """
        if self._closed and self._closing is not None:
            return
        self._closed = True
        self._discard_queue()
        if self._task is not None:
            self._task.cancel()
        self._closing = asyncio.get_running_loop().create_task(self._close_socket(code, reason))
        if self._on_abandon is not None:
            self._on_abandon()

    async def _close_socket(self, code: int, reason: str) -> None:
        try:
            await self._ws.close(code, reason)
        except Exception:  # pragma: no cover - the socket may already be gone
            _log.debug("simulator: closing the socket failed", exc_info=True)

    def wire_form(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """What goes on the socket for an internal event; None when this dialect has no such event."""
        wire = self._audio.transcode(event)
        return self._beta.outbound(wire) if self._beta is not None else wire

    async def close(self) -> None:
        """Send what is queued, then stop; anything left unsent is released."""
        try:
            if self._task is not None and not self._task.done():
                self._queue.put_nowait(None)
                self._unstall.set()  # a stall, now or queued, ends: the rest is sent, then the writer stops
                try:
                    await self._task
                except asyncio.CancelledError:
                    if not self._task.cancelled():
                        raise
            if self._closing is not None:
                await self._closing
        finally:
            self._closed = True
            self._on_sent.clear()
            self._discard_queue()

    def _discard_queue(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Frame):
                self._count(-_cost(item))
        self._on_sent.clear()

    def _count(self, delta: int) -> None:
        self._queued_bytes += delta
        if self._meter is not None:
            self._meter(delta)

    async def _run(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            if isinstance(frame, Drop):
                self._closed = True
                await drop_connection(self._ws, frame.mode)
                return
            if isinstance(frame, Stall):
                # Quiet (websockets still answers pings) until the stall ends or the writer is closed:
                # what waits behind it (a session's expiry error) is sent then, not dropped.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(frame.seconds):
                        await self._unstall.wait()
                continue
            try:
                if self._scheduler is not None and self._scheduler.paced:
                    await self._scheduler.pace(frame.data)
                # Until `send` returns the frame sits in websockets' write buffer: still counted.
                await self._ws.send(frame.data, text=True)
                if frame.on_sent is not None:
                    frame.on_sent()
            except ConnectionClosed:
                self._closed = True
                return
            except Exception:  # pragma: no cover - a send failure must not kill the connection silently
                _log.exception("simulator: failed to send an event")
                self._closed = True
                return
            finally:
                self._count(-_cost(frame))
