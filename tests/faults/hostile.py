"""A hostile Realtime server for the fault suite: a real websockets server on loopback, scripted
per case, that records every frame it sends.

Each connection follows a `Plan`. The server sends the plan's `first` frames, then relays the
upstream simulator (when there is one) frame for frame in both directions, until it has relayed
the n-th frame of the type the plan names (`at`); there it sends the plan's `inject` frames and
then commits its `fault`: a close with a code and reason, a drop without a close frame (FIN or
RST), a frame of a chosen size, or a text frame that is not UTF-8. A plan without `at` injects and
faults right after `first`, without opening the upstream at all. When the upstream itself drops
(the simulator's `sim_drop_after`), the drop is passed on to the client in the mode the URL asked
for (`sim_drop_mode`); its closes are passed on as they are. Connections past the plans given are
plain relays, so a client that reconnects meets a working server.
A plan can also ask the simulator for one of its own faults (`upstream_query`, `sim_*` parameters)
on its connection only.

`Connection.sent` holds every data frame the server finished sending on that connection, in
order, exactly as it went on the wire (str for a text frame, bytes for a binary one): what the
client's capture file must hold. Nothing is sent after the fault, so that list is also "every
frame sent before the fault".
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import socket
import struct
import termios
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Frame = str | bytes | dict[str, Any]
"""A frame to send: text, binary, or an object sent as its compact JSON text."""

_FLUSH_DEADLINE_S = 10.0


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection with a close frame of this code and reason."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Drop:
    """End the TCP connection without a close frame: `eof` sends FIN, `reset` sends RST."""

    mode: Literal["eof", "reset"]


@dataclass(frozen=True, slots=True)
class Oversize:
    """Send one text frame of exactly `size` bytes (over the client's limit, it is the fault)."""

    size: int

    def frame(self) -> str:
        """The frame itself (sent as an ordinary frame when it is under the client's limit)."""
        return oversize_frame(self.size)


@dataclass(frozen=True, slots=True)
class NotUtf8:
    """Send `data`, which is not UTF-8, as a text frame (the client must refuse it: close 1007)."""

    data: bytes


Fault = Close | Drop | Oversize | NotUtf8


@dataclass(frozen=True, slots=True)
class Plan:
    """What the server does on one connection (see the module docstring)."""

    first: tuple[Frame, ...] = ()
    at: tuple[str, int] | None = None
    """(event type, n): act right after relaying the n-th upstream frame of that type."""
    inject: tuple[Frame, ...] = ()
    fault: Fault | None = None
    upstream_query: dict[str, str] = field(default_factory=dict)
    """`sim_*` parameters added to this connection's upstream URL (a fault of the simulator's own,
    for this connection only: a reconnect meets a healthy simulator)."""


@dataclass(slots=True)
class Connection:
    """What happened on one accepted connection."""

    number: int
    plan: Plan
    sent: list[str | bytes] = field(default_factory=list)
    """Every data frame the server finished sending, in order, as it went on the wire."""
    received: list[str | bytes] = field(default_factory=list)
    """Every data frame the client sent."""
    acted_at: int | None = None
    """How many frames had been sent when the plan's injection and fault were done: every frame
    from there on was sent after the fault."""
    fault: str = ""
    """What ended the connection on the server's side ("close 3000", "drop reset", ...), if it did."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)


def text_of(frame: Frame) -> str | bytes:
    """The wire form of a frame: objects as compact JSON, the rest as given."""
    if isinstance(frame, dict):
        return json.dumps(frame, separators=(",", ":"))
    return frame


def oversize_frame(size: int) -> str:
    """A valid Realtime event of exactly `size` bytes (ASCII): a retrieved item padded with audio."""
    head = '{"type":"conversation.item.retrieved","event_id":"event_big","item":{"id":"item_big","audio":"'
    tail = '"}}'
    return head + "A" * (size - len(head) - len(tail)) + tail


class HostileServer:
    """The server: `url` to connect to, `connections` as they were accepted (see module doc)."""

    def __init__(self, plans: list[Plan], upstream: str | None) -> None:
        self.plans = plans
        self.upstream = upstream
        """The upstream simulator's `ws://HOST:PORT` (no path), or None."""
        self.connections: list[Connection] = []
        self.url = ""

    def connection(self, number: int) -> Connection:
        """The `number`-th accepted connection (0-based)."""
        return self.connections[number]

    async def handle(self, ws: ServerConnection) -> None:
        number = len(self.connections)
        plan = self.plans[number] if number < len(self.plans) else Plan()
        conn = Connection(number, plan)
        self.connections.append(conn)
        try:
            await self._run(ws, conn)
        finally:
            conn.ended.set()

    async def _run(self, ws: ServerConnection, conn: Connection) -> None:
        plan = conn.plan
        assert ws.request is not None
        path = ws.request.path + "".join(f"&{key}={quote(value)}" for key, value in plan.upstream_query.items())
        upstream: ClientConnection | None = None
        if self.upstream is not None and (plan.at is not None or plan.fault is None):
            upstream = await connect(self.upstream + path, compression=None, max_size=None, open_timeout=30)
        try:
            for frame in plan.first:
                await _send(ws, conn, frame)
            if plan.at is None:
                for frame in plan.inject:
                    await _send(ws, conn, frame)
                conn.acted_at = len(conn.sent)
                if plan.fault is not None:
                    await _commit(ws, conn, plan.fault)
                    return
            if upstream is None:
                async for message in ws:  # no upstream: listen until the client leaves
                    conn.received.append(message)
                return
            await self._relay(ws, upstream, conn, _drop_mode(path))
        except ConnectionClosed:
            return  # the client left
        finally:
            if upstream is not None:
                _leave(upstream)

    async def _relay(self, ws: ServerConnection, upstream: ClientConnection, conn: Connection, mode: str) -> None:
        async def client_to_upstream() -> None:
            async for message in ws:
                conn.received.append(message)
                await upstream.send(message)

        async def upstream_to_client() -> None:
            plan = conn.plan
            seen = 0
            while True:
                try:
                    message = await upstream.recv()
                except ConnectionClosed as exc:  # the simulator ended it (a client that left raises from _send)
                    conn.acted_at = len(conn.sent)
                    if exc.rcvd is None:  # it dropped the socket: drop ours the same way
                        await _commit(ws, conn, Drop("reset" if mode == "reset" else "eof"))
                    else:
                        await _commit(ws, conn, Close(exc.rcvd.code, exc.rcvd.reason))
                    return
                await _send(ws, conn, message)
                if plan.at is not None and isinstance(message, str) and _type(message) == plan.at[0]:
                    seen += 1
                    if seen == plan.at[1]:
                        for frame in plan.inject:
                            await _send(ws, conn, frame)
                        conn.acted_at = len(conn.sent)
                        if plan.fault is not None:
                            await _commit(ws, conn, plan.fault)
                            return

        tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task


async def _send(ws: ServerConnection, conn: Connection, frame: Frame) -> None:
    """Send one frame; it counts as sent once websockets has handed all of it to the socket."""
    data = text_of(frame)
    await ws.send(data)
    conn.sent.append(data)


async def _commit(ws: ServerConnection, conn: Connection, fault: Fault) -> None:
    """Commit a fault; nothing is sent on this connection after it."""
    if isinstance(fault, Close):
        conn.fault = f"close {fault.code}"
        await ws.close(fault.code, fault.reason)
    elif isinstance(fault, Drop):
        conn.fault = f"drop {fault.mode}"
        await _drop(ws, fault.mode)
    elif isinstance(fault, NotUtf8):
        conn.fault = "not utf-8"
        with contextlib.suppress(ConnectionClosed):
            await ws.send(fault.data, text=True)  # websockets sends bytes as a text frame unchecked
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), _FLUSH_DEADLINE_S)
    else:
        conn.fault = f"oversize {fault.size}"
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            # The client refuses it from its header and closes; the rest of it never leaves our buffer.
            await asyncio.wait_for(ws.send(fault.frame()), _FLUSH_DEADLINE_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), _FLUSH_DEADLINE_S)
        ws.transport.abort()


async def _drop(ws: ServerConnection, mode: str) -> None:
    """End the TCP connection without a close frame, once every byte already sent has left.

    For RST the kernel's send queue must be empty too (every byte acknowledged by the client's
    kernel): a reset discards what is still queued, and those frames would not have been "sent".
    """
    transport = ws.transport
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _FLUSH_DEADLINE_S
    sock = transport.get_extra_info("socket")
    while (transport.get_write_buffer_size() > 0 or _unacked(sock) > 0) and loop.time() < deadline:
        await asyncio.sleep(0.002)
    if mode == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST
        transport.abort()
    else:
        transport.close()


def _unacked(sock: Any) -> int:
    """Bytes in the kernel's send queue not yet acknowledged by the peer (Linux SIOCOUTQ)."""
    if sock is None:
        return 0
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return int(struct.unpack("i", buf)[0])


def _leave(upstream: ClientConnection) -> None:
    """Cut the upstream connection. The relay stops reading it first, so its frames fill
    websockets' queue and reading pauses: a close handshake would wait for an answer never read."""
    upstream.transport.abort()


def _type(message: str) -> str:
    try:
        return str(json.loads(message).get("type"))
    except (ValueError, AttributeError):
        return ""


def _drop_mode(path: str) -> str:
    return parse_qs(urlsplit(path).query).get("sim_drop_mode", ["eof"])[0]


@contextlib.asynccontextmanager
async def hostile_server(plans: list[Plan], upstream: str | None = None) -> AsyncIterator[HostileServer]:
    """A HostileServer on a free loopback port; `upstream` is a simulator's `ws://HOST:PORT/...` URL
    (only its scheme, host and port are used: each connection's path and query are passed on)."""
    base = None
    if upstream is not None:
        parts = urlsplit(upstream)
        base = f"{parts.scheme}://{parts.netloc}"
    server = HostileServer(plans, base)
    async with serve(server.handle, "127.0.0.1", 0, compression=None, max_size=None) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        yield server
