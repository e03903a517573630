"""The websocket client: one reader task and one writer task per connection.

Every frame in and out becomes an :class:`Envelope`, published on the bus topic :data:`FRAMES`
and appended to the capture file. Connection facts (connecting, open, closed, failed) are
published as local envelopes, so the event log shows them among the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import ssl
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    PayloadTooBig,
)
from websockets.frames import CloseCode

from tui.bus import Bus, Topic
from tui.config import DEFAULT_MAX_FRAME_BYTES
from tui.protocol import (
    Dialect,
    Direction,
    Envelope,
    FrameError,
    client_event_for,
    client_event_id,
    error_summary,
    field,
    local_envelope,
    next_seq,
    parse_frame,
    printable,
    serialize,
    server_dialect,
    text,
)
from tui.protocol.envelope import DIR_IN, utf8_size

from .capture import CaptureWriter
from .scrub import Scrubber
from .streamed import DeltaGuard
from .targets import Target, redirect_location
from .wire import Stamp, WireConnection

FRAMES: Topic[Envelope] = Topic("frames")
"""Every frame in both directions, plus local connection facts."""

MAX_FRAME_BYTES = DEFAULT_MAX_FRAME_BYTES
"""The default limit on a frame from the server (16 MiB, `--max-frame-mib`): a whole item's audio in
`conversation.item.retrieved` fits (about 5.8 minutes of 24 kHz PCM16), far above websockets' 1 MiB
default; a bigger frame is refused by websockets before it is read (close 1009) and reported."""

HANDSHAKE_GRACE = 1.0
"""After an `error` as the first frame, how long to wait for the close that makes it fatal (§1.2)."""

DEFAULT_OPEN_TIMEOUT = 15.0
"""Seconds a connect waits for the handshake and then the first frame (`send` lowers it to its --timeout)."""

CLOSE_TIMEOUT = 1.0
"""Seconds `close()` gives the server to answer rt-tui's close before it drops the connection.
websockets' own wait (10 s) held ctrl+r and quit that long against a server that reads nothing
more; and when the socket was full (our audio unread), its close frame waited for room for ever."""

SEND_STALL = 20.0
"""Seconds the socket may stay full with not a byte of it taken before rt-tui drops the connection:
the server reads nothing more (hung). websockets' keepalive cannot tell: its ping waits for room
in the full socket before its timeout starts, so the session stayed open for good, the microphone's
audio piling up unsent. As long as websockets' own pong wait (ping_timeout)."""

READ_SLICE = 0.002
"""Seconds the reader may run before it yields to the loop. websockets returns messages it has
already buffered without yielding, so a burst of frames would otherwise hold up a key press and its
screen update for as long as the burst takes to parse (40 frames: over 10 ms)."""


READ_REST = 2.0
"""Seconds `close()` lets the reader take the messages that came before the close (then it is
cancelled): a frame that reached rt-tui is printed and captured even when rt-tui is the one closing."""


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
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
        max_frame_bytes: int = MAX_FRAME_BYTES,
    ) -> None:
        self.target = target
        self.bus = bus
        self._scrub = Scrubber(target.secrets)
        self._deltas = DeltaGuard(target.secrets)
        self._secrets = frozenset(target.secrets)
        self._capture_scrubbed = capture is not None and capture.secrets <= self._secrets
        """The session's scrubbing covers every secret the capture keeps out (see `CaptureWriter.write`)."""
        self.capture = capture
        self.capture_error: str | None = None
        """Why the capture file stopped, if it did (the session goes on without it)."""
        if capture is not None:
            capture.on_error = self._capture_failed
        self.open_timeout = open_timeout
        self.max_frame_bytes = max_frame_bytes
        self.state = ConnectionState.IDLE
        self.session_id: str | None = None
        self.close_reason: str | None = None
        self.close_code: int | None = None
        """The close code that ended the connection, or that refused it at connect: the server's
        (1006: gone without a close frame), or rt-tui's own when rt-tui refused the server (1009)."""
        self.connected_at: float | None = None
        self.expired = False
        """The server said the session expired (an `error` with code `session_expired`): its close
        (1001, as a server going away also sends) ends an expired session, not worth retrying."""
        self.dialect: Dialect | None = None
        """The dialect the server speaks, read from its `session.created` (beta:
        `transcription_session.created`); None until then, or when that frame shows neither shape.
        Client events are built GA-shaped and leave in this dialect (None: as GA)."""
        self._ws: WireConnection | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self._closing = False
        """Set when rt-tui closes the socket, so the reader does not report a close by the server."""
        self._watchdog: asyncio.TimerHandle | None = None
        self._stalled = False
        """Set when the server took nothing from a full socket for SEND_STALL (see `_watch_writes`)."""
        self._frames_sent = 0
        """Frames the writer has written: with the socket's bytes taken, the watch's sign of progress."""

    # -- lifecycle --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket and wait for the first server frame.

        Raises ConnectionFailed when the socket cannot be opened, or when the server completes
        the handshake and then sends `error` followed by a close (bad key, bad model, beta header).
        """
        self._set_state(ConnectionState.CONNECTING, f"connecting to {self.target.label}")
        try:
            ws = await connect_no_redirects(
                self.target.url,
                additional_headers=self.target.headers,
                compression=None,
                max_size=self.max_frame_bytes,
                open_timeout=self.open_timeout,
                user_agent_header="rt-tui",
                create_connection=WireConnection,  # each message's arrival time, and its bytes for the capture
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes one readable line
            raise self._fail(_describe_connect_error(exc, self.target)) from None
        assert isinstance(ws, WireConnection)  # what create_connection makes
        self._ws = ws
        if self.capture is not None:
            self.capture.unread = lambda: ws.unread() > 0  # asked at a turn's end (see `CaptureWriter.unread`)
        self.connected_at = time.monotonic()
        first = await self._read_first_frame()
        if first is not None and first.type == "error":
            await self._raise_if_closed_after_error(first)
        self._set_state(ConnectionState.OPEN, f"connected to {self.target.label}")
        self._tasks = [
            asyncio.create_task(self._reader(), name="rt-session-reader"),
            asyncio.create_task(self._writer(), name="rt-session-writer"),
        ]
        self._watch_writes(None)

    async def _read_first_frame(self) -> Envelope | None:
        assert self._ws is not None
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel (ctrl+r, quit) that
            # comes in the loop turn the frame does, and the session opened beside the next one.
            async with asyncio.timeout(self.open_timeout):
                message = await self._ws.recv()
            wire, stamp = self._ws.take()
        except TimeoutError:
            # Bounded: a server that sends nothing may not answer a close either, and websockets'
            # own wait (10 s) made "sent nothing within 15 s" come 25 s after the connect.
            await _close_within(self._ws, CLOSE_TIMEOUT)
            raise self._fail(f"{self.target.label} sent nothing within {self.open_timeout:.0f} s") from None
        except ConnectionClosed as exc:
            self.close_code = self._ending_code(exc)
            refused = self._refused_by_us(exc)
            if refused:
                raise self._fail(refused) from None
            raise self._fail(f"{self.target.label} closed the connection at once ({_close_text(exc)})") from None
        return self._receive(message, stamp, wire)

    async def _raise_if_closed_after_error(self, first: Envelope) -> None:
        assert self._ws is not None
        reason = error_summary(first.data)
        try:
            # A fatal error is followed at once by a close; any other frame means the session lives.
            async with asyncio.timeout(HANDSHAKE_GRACE):  # not wait_for: see _read_first_frame
                message = await self._ws.recv()
            wire, stamp = self._ws.take()
        except TimeoutError:
            return
        except ConnectionClosed as exc:
            self.close_code = self._ending_code(exc)
            refused = self._refused_by_us(exc)
            if refused:
                raise self._fail(refused) from None
            raise self._fail(f"server refused the session: {reason} (close {self._ws.close_code})") from None
        self._receive(message, stamp, wire)

    async def close(self) -> None:
        """Close the socket and stop both tasks. Safe to call more than once."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._ws is not None:
            await _close_within(self._ws, CLOSE_TIMEOUT)  # see CLOSE_TIMEOUT: a deaf server
        if self._tasks and asyncio.current_task() not in self._tasks:
            # Messages websockets took in before the close are read, not dropped: the reader ends
            # by itself once its queue is empty (the socket is closed), within READ_REST.
            await asyncio.wait(self._tasks[:1], timeout=READ_REST)
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
            if self.dialect is Dialect.BETA:
                # Translated here, not by the caller, so the envelope and the capture show the
                # frame exactly as it went on the wire; the caller's dict is left as it built it.
                event = client_event_for(event, Dialect.BETA)
            try:
                raw = serialize(event)
                await self._ws.send(raw)
                self._frames_sent += 1
                self._publish(Envelope(next_seq(), Direction.OUT, str(event.get("type")), event, raw))
            except ConnectionClosed:
                self._outbox.task_done()
                return
            except Exception as exc:  # noqa: BLE001 - one event that cannot go must not end the writer
                what = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                self._publish(local_envelope("rt.client_error", f"{event.get('type')!r} not sent: {what}"))
            self._outbox.task_done()

    def _watch_writes(self, last: tuple[int, int] | None) -> None:
        """Every SEND_STALL: drop the connection when the socket was full at the last look (`last`:
        the bytes waiting then, and the frames written by then) and is still, with no frame written
        since and no byte of those waiting taken (see SEND_STALL)."""
        self._watchdog = None
        ws = self._ws
        if ws is None or self._closing or self.state is not ConnectionState.OPEN:
            return
        now = (ws.transport.get_write_buffer_size(), self._frames_sent) if ws.paused else None
        if now is not None and last is not None and now[1] == last[1] and now[0] >= last[0]:
            self._stalled = True
            ws.transport.abort()  # the reader reports the drop; the writer's wait for room ends
            return
        self._watchdog = asyncio.get_running_loop().call_later(SEND_STALL, self._watch_writes, now)

    # -- receiving --------------------------------------------------------------------------

    async def _reader(self) -> None:
        ws = self._ws
        assert ws is not None
        received = ws.received
        capturing = self.capture is not None
        closed: ConnectionClosed | None = None
        clock = time.perf_counter
        yield_at = clock() + READ_SLICE
        try:
            while True:
                message = await ws.recv()
                try:
                    # `take` inlined (see `WireConnection.received`); the socket's backlog is asked
                    # by the capture only at a turn's end (`CaptureWriter.unread`)
                    wire, stamp = received.popleft() if received else (None, None)
                    if capturing:
                        self._receive(message, stamp, wire, bool(received))
                    else:
                        self._receive(message, stamp)
                except Exception as exc:  # noqa: BLE001 - one bad frame must not end the session
                    self._publish(local_envelope("rt.client_error", f"frame not handled: {type(exc).__name__}: {exc}"))
                now = clock()
                if now >= yield_at:
                    await asyncio.sleep(0)  # let keys and the screen's update in (see READ_SLICE)
                    yield_at = clock() + READ_SLICE
        except ConnectionClosedOK:
            pass  # a normal close (what `async for` over the socket ends on quietly)
        except ConnectionClosed as exc:
            closed = exc
        finally:
            if self.state is ConnectionState.OPEN and not self._closing:
                refused = self._refused_by_us(closed)
                if refused:
                    text = refused
                elif self._stalled:
                    text = (
                        f"connection dropped: the server took none of rt-tui's frames for {SEND_STALL:.0f} s "
                        "(it reads nothing more)"
                    )
                else:
                    code, reason = ws.close_code, ws.close_reason
                    if code == CloseCode.ABNORMAL_CLOSURE:  # no close frame came: the server did not close it
                        text = f"connection dropped: no close frame from the server (code {code})"
                    else:
                        text = f"connection closed by server (code {code}{': ' + reason if reason else ''})"
                self.close_reason = text = self._scrub.text(text)
                self.close_code = self._ending_code(closed)
                self._set_state(ConnectionState.CLOSED, text, **self._close_facts(closed))
            for note in self._deltas.held_back_notes():
                # Left out without a word, 11 received characters were simply gone from the text.
                self._publish(local_envelope("rt.warning", note))
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._drop_outbox()
            if self.capture is not None:
                self.capture.flush()
            self._closed.set()

    def _refused_by_us(self, exc: ConnectionClosed | None) -> str | None:
        """A one-line reason when rt-tui, not the server, ended the connection (a frame over the size
        limit, bad UTF-8, a protocol error), else None. websockets closes with a code of its own and
        reports a closed socket; who sent the close first tells them apart."""
        if self._ws is None:
            return None
        protocol = self._ws.protocol
        sent = protocol.close_sent
        if sent is None or protocol.close_rcvd_then_sent or sent.code == CloseCode.NORMAL_CLOSURE or self._closing:
            return None
        if sent.code == CloseCode.MESSAGE_TOO_BIG:
            size = _frame_size(exc, sent.reason)
            limit = _mib(self.max_frame_bytes)
            what = f"a frame of {_megabytes(size)}" if size else "a message"
            return (
                f"server sent {what}, over the {limit} limit: rt-tui closed the connection ({sent.code}); "
                "--max-frame-mib raises the limit"
            )
        reason = f" ({sent.reason})" if sent.reason else ""
        if sent.code == CloseCode.INVALID_DATA:
            return f"server sent a text frame that is not UTF-8{reason}: rt-tui closed the connection ({sent.code})"
        if sent.code == CloseCode.PROTOCOL_ERROR:
            return f"server broke the WebSocket protocol{reason}: rt-tui closed the connection ({sent.code})"
        return f"rt-tui closed the connection (code {sent.code}{': ' + sent.reason if sent.reason else ''})"

    def _ending_code(self, exc: ConnectionClosed | None) -> int | None:
        """The code of the close that ended the connection: rt-tui's own when it refused what the
        server sent (a frame over the limit: 1009; the server's answer may never arrive, stuck behind
        the rest of that frame), else the server's (1006 when none came)."""
        if self._ws is None:
            return None
        sent = self._ws.protocol.close_sent
        if sent is not None and self._refused_by_us(exc):
            return int(sent.code)
        return self._ws.close_code

    def _close_facts(self, exc: ConnectionClosed | None) -> dict[str, Any]:
        """Machine-readable facts of a close for its `rt.connection` record: who closed, with what code."""
        if self._ws is None:
            return {}
        protocol = self._ws.protocol
        sent, rcvd = protocol.close_sent, protocol.close_rcvd
        if self._refused_by_us(exc) and sent is not None:
            facts: dict[str, Any] = {"closed_by": "rt-tui", "code": int(sent.code)}
            if sent.code == CloseCode.MESSAGE_TOO_BIG:
                facts["max_frame_bytes"] = self.max_frame_bytes
                size = _frame_size(exc, sent.reason)
                if size:
                    facts["frame_bytes"] = size
            return facts
        if rcvd is not None:
            return {"closed_by": "server", "code": int(rcvd.code)}
        return {"closed_by": "network", "code": int(CloseCode.ABNORMAL_CLOSURE)}

    def _receive(
        self,
        message: str | bytes,
        stamp: Stamp | None = None,
        wire: bytes | bytearray | None = None,
        more: bool = False,
    ) -> Envelope:
        """Publish one message from the server. `stamp`: when it arrived (`WireConnection`; now if
        None); `wire`: its bytes as they came; `more`: other messages have arrived behind it (see
        `CaptureWriter.write`)."""
        mono, wall = stamp if stamp is not None else (time.monotonic(), time.time())
        try:
            data, strict = parse_frame(message)
        except Exception as exc:  # noqa: BLE001 - FrameError, or anything else a parser may raise on hostile input
            reason = str(exc) if isinstance(exc, FrameError) else f"{type(exc).__name__}: {exc}"
            reason = reason.splitlines()[0][:300] if reason else type(exc).__name__
            info = {"type": "rt.malformed", "message": f"malformed frame from server: {reason}"}
            if isinstance(message, bytes):
                env = Envelope(
                    next_seq(),
                    DIR_IN,
                    "rt.malformed",
                    info,
                    f"<binary {len(message)} bytes>",
                    mono=mono,
                    wall=wall,
                    binary=message,
                )
            else:  # the exact text is kept, so the capture holds what the server sent
                size = utf8_size(message)
                env = Envelope(next_seq(), DIR_IN, "rt.malformed", info, message, mono=mono, wall=wall, wire_size=size)
            self._publish(env, more=more)
            return env
        assert isinstance(message, str)  # parse() refuses binary frames
        env = Envelope(
            next_seq(), DIR_IN, str(data["type"]), data, message, mono=mono, wall=wall, wire_size=utf8_size(message)
        )
        if env.type in ("session.created", "session.updated", "transcription_session.created"):
            self.session_id = text(field(data, "session").get("id")) or self.session_id
            if self.dialect is None:
                self.dialect = server_dialect(data)
        elif env.type == "error" and field(data, "error").get("code") == "session_expired":
            self.expired = True
        guarded = self._deltas.envelope(env)  # a secret streamed across deltas, which no one frame holds
        self._publish(guarded, wire if strict and guarded is env else None, more)
        return guarded

    # -- helpers ----------------------------------------------------------------------------

    def _publish(self, env: Envelope, wire: bytes | bytearray | None = None, more: bool = False) -> None:
        """Scrub, capture and publish one envelope. `wire`: a received frame's bytes, strict JSON,
        which the capture may write as they are unless scrubbing changed the frame; `more`: received
        frames wait behind it."""
        clean = self._scrub.envelope(env)
        capture = self.capture
        if capture is not None:
            # Written before it is published, so the file is in wire order however far a subscriber lags.
            # A write error does not come back here: the writer reports it through `_capture_failed`.
            if wire is not None and clean is env and self._capture_scrubbed:
                capture.write_wire(clean, wire, more)  # the usual received frame (positional: see write_wire)
            else:
                capture.write(clean, scrubbed=self._capture_scrubbed, wire=wire if clean is env else None, more=more)
        self.bus.publish(FRAMES, clean)

    def _capture_failed(self, message: str) -> None:
        """The capture file stopped (a full disk): a visible local fact; the session goes on."""
        self.capture_error = message
        fact = local_envelope("rt.capture", message, state="failed", notify=True)  # the app shows it as a notice
        self.bus.publish(FRAMES, self._scrub.envelope(fact))

    def _set_state(self, state: ConnectionState, message: str, **facts: Any) -> None:
        self.state = state
        self._publish(local_envelope("rt.connection", message, state=state.value, target=self.target.label, **facts))

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


def _frame_size(exc: BaseException | None, reason: str) -> int | None:
    """The size of the frame websockets refused: from its PayloadTooBig (the closed-connection
    exception's cause), else from the reason of the close it sent ("frame with N bytes exceeds …")."""
    while exc is not None:
        if isinstance(exc, PayloadTooBig) and getattr(exc, "size", None):
            return int(exc.size) + int(exc.current_size or 0)  # type: ignore[arg-type]
        exc = exc.__cause__
    found = re.search(r"frame with (\d+) bytes", reason)
    return int(found.group(1)) if found else None


def _megabytes(size: int) -> str:
    """A size as people read it: `70 MB`, `1.5 MB`, `900 KB`."""
    if size >= 10_000_000:
        return f"{size / 1e6:.0f} MB"
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.0f} KB"


def _mib(limit: int) -> str:
    """A limit in the unit the flag takes: `16 MiB`."""
    mib = limit / 2**20
    return f"{mib:.0f} MiB" if mib == int(mib) else f"{mib:.2f} MiB"


def _close_text(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    if frame is None:
        return "no close frame"
    return f"code {frame.code}{': ' + frame.reason if frame.reason else ''}"


MAX_REFUSAL_TEXT = 300
"""The most of an HTTP refusal's body quoted (Azure's and gateways' say why in a sentence)."""


def _refusal_text(body: bytes | bytearray | None, scrub: Callable[[str], str]) -> str:
    """What the body of an HTTP refusal says, on one line: an `error.message` (or `message`) when it
    is JSON, else its text; scrubbed of the key (a server may quote it) before it is cut to
    MAX_REFUSAL_TEXT characters, so a key across the cut leaves no part of it behind."""
    if not body:
        return ""
    decoded = body.decode("utf-8", "replace")
    text = decoded
    with contextlib.suppress(ValueError):
        data = json.loads(decoded)
        if isinstance(data, dict):
            error = data.get("error")
            found = error.get("message") if isinstance(error, dict) else error
            found = found if isinstance(found, str) else data.get("message")
            if isinstance(found, str):
                text = found
    text = " ".join(printable(scrub(text), lines=True).split())  # one line: no control characters, no runs of space
    return text if len(text) <= MAX_REFUSAL_TEXT else text[: MAX_REFUSAL_TEXT - 1] + "…"


_URI_REASONS = {
    "username provided without password": (
        "a user name without a password (ws://KEY@host is never sent: put the key in $RT_TUI_API_KEY)"
    ),
    "scheme isn't ws or wss": "the scheme is not ws:// or wss://",
}
"""websockets' reasons for refusing a URL, as rt-tui says them (a reason not listed is left out)."""


class connect_no_redirects(connect):  # noqa: N801 - used as `connect` is, a call awaited
    """websockets' `connect`, following no redirect: a 3xx is the refusal it is (see
    `redirect_location`). websockets followed one to any host with the target's headers, stripping
    only `Authorization` and `Cookie` across origins: an Azure `api-key` header went along."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        """Never a URI to follow: the redirect is raised as the `InvalidStatus` it is."""
        return exc


def _label_and_host(target: Target) -> str:
    """The target's label, with the host it connects to when the label does not name it
    (`OpenAI · gpt-realtime (api.openai.com)`): a network error is about the host."""
    host = urlsplit(target.url).hostname or ""
    return f"{target.label} ({host})" if host and host not in target.label else target.label


_OS_ERROR_WORDS: dict[type[BaseException], str] = {
    ConnectionResetError: "the connection was reset",
    ConnectionAbortedError: "the connection was aborted",
    BrokenPipeError: "the connection was closed",
}
"""What a socket error that carries no text of its own means (`ConnectionResetError()`)."""


def _describe_connect_error(exc: BaseException, target: Target) -> str:
    """One line for a user, never containing the key."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = " (check the API key)" if status in (401, 403) else ""
        scrub = Scrubber(target.secrets).text
        said = _refusal_text(exc.response.body, scrub)
        where = redirect_location(status, exc.response.headers.get("Location"), target.url, scrub)
        redirect = f" (a redirect to {where}: rt-tui follows none, your key would go with it; connect there directly)"
        redirect = redirect if where is not None else ""
        return (
            f"{target.label} rejected the WebSocket upgrade: HTTP {status}{redirect}{hint}{': ' + said if said else ''}"
        )
    if isinstance(exc, InvalidURI):
        # websockets' reason ("username provided without password"), never its text: that quotes the URL whole.
        why = _URI_REASONS.get(exc.msg, "")
        return f"invalid URL: {target.label}{': ' + why if why else ''}"
    where = _label_and_host(target)
    if isinstance(exc, TimeoutError):
        return f"timed out connecting to {where}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}: is the server running?"
    if isinstance(exc, socket.gaierror):
        return f"cannot reach {where}: the name did not resolve ({exc.strerror or exc}): check the network or the URL"
    tls = target.url.lower().startswith("wss:")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} was not accepted: {exc.verify_message or exc.reason or exc}"
    if isinstance(exc, ssl.SSLError) or (tls and isinstance(exc, ConnectionResetError)):
        # A wss:// URL to a plain ws:// server: it reads the TLS hello as a bad request and hangs up.
        # The reset has no words of its own ("cannot reach …: " ended there) and was retried forever.
        why = f" ({exc.reason})" if isinstance(exc, ssl.SSLError) and exc.reason else ""
        return f"TLS handshake with {where} failed{why}: is it a plain ws:// server? (then connect with ws://)"
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {exc.strerror or str(exc) or _OS_ERROR_WORDS.get(type(exc), type(exc).__name__)}"
    if isinstance(exc, InvalidHandshake | websockets.exceptions.WebSocketException):
        return f"WebSocket handshake with {target.label} failed: {exc}"
    return f"cannot connect to {target.label}: {type(exc).__name__}: {exc}"


async def _close_within(ws: ClientConnection, seconds: float) -> None:
    """Close `ws`, giving the server `seconds` to answer; then drop the connection (the close is
    owed either way: nothing that goes wrong here is worth more than that)."""
    try:
        async with asyncio.timeout(seconds):
            await ws.close()
    except TimeoutError:
        ws.transport.abort()
    except Exception:  # noqa: BLE001, S110 - closing: the connection is going either way
        pass
