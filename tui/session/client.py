"""The websocket client: one reader task and one writer task per connection.

Every frame in and out becomes an :class:`Envelope`, published on the bus topic :data:`FRAMES`
and appended to the capture file. Connection facts (connecting, open, closed, failed) are
published as local envelopes, so the event log shows them among the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from enum import StrEnum
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from tui.bus import Bus, Topic
from tui.protocol import (
    Direction,
    Envelope,
    FrameError,
    client_event_id,
    error_summary,
    field,
    local_envelope,
    next_seq,
    parse,
    serialize,
    text,
)

from .capture import CaptureWriter
from .scrub import Scrubber
from .targets import Target

FRAMES: Topic[Envelope] = Topic("frames")
"""Every frame in both directions, plus local connection facts."""

MAX_FRAME_BYTES = 64 * 1024 * 1024
"""`conversation.item.retrieved` carries a whole item's audio: far above websockets' 1 MiB default."""

HANDSHAKE_GRACE = 1.0
"""After an `error` as the first frame, how long to wait for the close that makes it fatal (§1.2)."""


class ConnectionState(StrEnum):
    """The session's connection state, as shown in the status line."""

    IDLE = "idle"
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"
    FAILED = "failed"


class ConnectionFailed(Exception):
    """The session could not be opened; the message is one line fit for a user."""


class RealtimeSession:
    """A Realtime session over a websocket, publishing every frame on a bus."""

    def __init__(
        self,
        target: Target,
        bus: Bus,
        *,
        capture: CaptureWriter | None = None,
        open_timeout: float = 15.0,
    ) -> None:
        self.target = target
        self.bus = bus
        self._scrub = Scrubber(target.secrets)
        self.capture = capture
        self.open_timeout = open_timeout
        self.state = ConnectionState.IDLE
        self.session_id: str | None = None
        self.close_reason: str | None = None
        self.connected_at: float | None = None
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self._closing = False
        """Set when rt-tui closes the socket, so the reader does not report a close by the server."""

    # -- lifecycle --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket and wait for the first server frame.

        Raises ConnectionFailed when the socket cannot be opened, or when the server completes
        the handshake and then sends `error` followed by a close (bad key, bad model, beta header).
        """
        self._set_state(ConnectionState.CONNECTING, f"connecting to {self.target.label}")
        try:
            self._ws = await connect(
                self.target.url,
                additional_headers=self.target.headers,
                compression=None,
                max_size=MAX_FRAME_BYTES,
                open_timeout=self.open_timeout,
                user_agent_header="rt-tui",
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes one readable line
            raise self._fail(_describe_connect_error(exc, self.target)) from None
        self.connected_at = time.monotonic()
        first = await self._read_first_frame()
        if first is not None and first.type == "error":
            await self._raise_if_closed_after_error(first)
        self._set_state(ConnectionState.OPEN, f"connected to {self.target.label}")
        self._tasks = [
            asyncio.create_task(self._reader(), name="rt-session-reader"),
            asyncio.create_task(self._writer(), name="rt-session-writer"),
        ]

    async def _read_first_frame(self) -> Envelope | None:
        assert self._ws is not None
        try:
            message = await asyncio.wait_for(self._ws.recv(), timeout=self.open_timeout)
        except TimeoutError:
            await self._ws.close()
            raise self._fail(f"{self.target.label} sent nothing within {self.open_timeout:.0f} s") from None
        except ConnectionClosed as exc:
            raise self._fail(f"{self.target.label} closed the connection at once ({_close_text(exc)})") from None
        return self._receive(message)

    async def _raise_if_closed_after_error(self, first: Envelope) -> None:
        assert self._ws is not None
        reason = error_summary(first.data)
        try:
            # A fatal error is followed at once by a close; any other frame means the session lives.
            message = await asyncio.wait_for(self._ws.recv(), timeout=HANDSHAKE_GRACE)
        except TimeoutError:
            return
        except ConnectionClosed:
            raise self._fail(f"server refused the session: {reason} (close {self._ws.close_code})") from None
        self._receive(message)

    async def close(self) -> None:
        """Close the socket and stop both tasks. Safe to call more than once."""
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self.state is ConnectionState.OPEN:
            self._set_state(ConnectionState.CLOSED, "closed by rt-tui")
        if self.capture is not None:
            self.capture.flush()
        self._closed.set()

    async def wait_closed(self) -> None:
        """Wait until the connection has ended, for whatever reason."""
        await self._closed.wait()

    @property
    def is_open(self) -> bool:
        """True while frames can be sent."""
        return self.state is ConnectionState.OPEN

    # -- sending ----------------------------------------------------------------------------

    def send(self, event: dict[str, Any]) -> None:
        """Queue a client event for the writer task (order is kept). Adds an `event_id`."""
        if not self.is_open:
            raise ConnectionError(f"cannot send {event.get('type')!r}: the session is {self.state.value}")
        event.setdefault("event_id", client_event_id())
        self._outbox.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every queued event has been written to the socket."""
        await self._outbox.join()

    async def _writer(self) -> None:
        assert self._ws is not None
        while True:
            event = await self._outbox.get()
            try:
                raw = serialize(event)
                await self._ws.send(raw)
                self._publish(Envelope(next_seq(), Direction.OUT, str(event.get("type")), event, raw))
            except ConnectionClosed:
                self._outbox.task_done()
                return
            self._outbox.task_done()

    # -- receiving --------------------------------------------------------------------------

    async def _reader(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                try:
                    self._receive(message)
                except Exception as exc:  # noqa: BLE001 - one bad frame must not end the session
                    self._publish(local_envelope("rt.client_error", f"frame not handled: {type(exc).__name__}: {exc}"))
        except ConnectionClosed:
            pass
        finally:
            if self.state is ConnectionState.OPEN and not self._closing:
                code, reason = self._ws.close_code, self._ws.close_reason
                text = self._scrub.text(f"connection closed by server (code {code}{': ' + reason if reason else ''})")
                self.close_reason = text
                self._set_state(ConnectionState.CLOSED, text)
            self._drop_outbox()
            if self.capture is not None:
                self.capture.flush()
            self._closed.set()

    def _receive(self, message: str | bytes) -> Envelope:
        try:
            data = parse(message)
        except FrameError as exc:
            raw = message if isinstance(message, str) else f"<binary {len(message)} bytes>"
            env = Envelope(
                next_seq(),
                Direction.IN,
                "rt.malformed",
                {"type": "rt.malformed", "message": f"malformed frame from server: {exc}"},
                raw,
            )
            self._publish(env)
            return env
        env = Envelope(next_seq(), Direction.IN, str(data["type"]), data, message)  # type: ignore[arg-type]
        if env.type in ("session.created", "session.updated", "transcription_session.created"):
            self.session_id = text(field(data, "session").get("id")) or self.session_id
        self._publish(env)
        return env

    # -- helpers ----------------------------------------------------------------------------

    def _publish(self, env: Envelope) -> None:
        env = self._scrub.envelope(env)
        if self.capture is not None:
            try:
                self.capture.write(env)
            except OSError as exc:
                # A full or vanished disk stops the capture, never the session.
                capture, self.capture = self.capture, None
                capture.close()
                self.bus.publish(FRAMES, local_envelope("rt.capture", f"capture stopped: {exc.strerror or exc}"))
        self.bus.publish(FRAMES, env)

    def _set_state(self, state: ConnectionState, message: str) -> None:
        self.state = state
        self._publish(local_envelope("rt.connection", message, state=state.value, target=self.target.label))

    def _fail(self, message: str) -> ConnectionFailed:
        message = self._scrub.text(message)
        self.close_reason = message
        self._set_state(ConnectionState.FAILED, message)
        if self.capture is not None:
            self.capture.flush()
        self._closed.set()
        return ConnectionFailed(message)

    def _drop_outbox(self) -> None:
        while not self._outbox.empty():
            self._outbox.get_nowait()
            self._outbox.task_done()


def _close_text(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    if frame is None:
        return "no close frame"
    return f"code {frame.code}{': ' + frame.reason if frame.reason else ''}"


def _describe_connect_error(exc: BaseException, target: Target) -> str:
    """One line for a user, never containing the key."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = " (check the API key)" if status in (401, 403) else ""
        return f"{target.label} rejected the WebSocket upgrade: HTTP {status}{hint}"
    if isinstance(exc, InvalidURI):
        return f"invalid URL: {target.label}"
    if isinstance(exc, TimeoutError):
        return f"timed out connecting to {target.label}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {target.label}: is the server running?"
    if isinstance(exc, OSError):
        return f"cannot reach {target.label}: {exc.strerror or exc}"
    if isinstance(exc, InvalidHandshake | websockets.exceptions.WebSocketException):
        return f"WebSocket handshake with {target.label} failed: {exc}"
    return f"cannot connect to {target.label}: {type(exc).__name__}: {exc}"
