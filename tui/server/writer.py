"""One ordered outbound stream per connection."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.protocol import Dialect, serialize, to_beta

from . import ids

_log = logging.getLogger(__name__)


class EventWriter:
    """Stamps, names and sends server events in exactly the order they were emitted.

    `emit` is synchronous so that handlers and response tasks can never interleave half an
    event sequence; a single task drains the queue onto the socket. Event names are written in
    GA form by callers and translated here for the beta dialect.
    """

    def __init__(self, ws: ServerConnection, dialect: Dialect) -> None:
        self._ws = ws
        self._dialect = dialect
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the sending task (needs a running loop)."""
        self._task = asyncio.create_task(self._run(), name="rt-sim-writer")

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Queue one server event; returns it as sent (GA names, with its `event_id`)."""
        name = to_beta(event_type) if self._dialect is Dialect.BETA else event_type
        event: dict[str, Any] = {"type": name, "event_id": ids.event_id(), **fields}
        if not self._closed:
            self._queue.put_nowait(serialize(event))
        return event

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
            try:
                await self._ws.send(text)
            except ConnectionClosed:
                self._closed = True
                return
            except Exception:  # pragma: no cover - a send failure must not kill the connection silently
                _log.exception("simulator: failed to send an event")
                self._closed = True
                return
