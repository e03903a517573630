"""A server that completes the WebSocket handshake and then says nothing, not even to a close.

`connect` gave up after `open_timeout` ("sent nothing within 15 s"), then waited websockets' own
10 s for the close to be answered: the failure came 25 s after the connect, saying 15.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tui.bus import Bus
from tui.session import ConnectionFailed, RealtimeSession, url_target

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@asynccontextmanager
async def mute_server() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A server that answers the upgrade, then reads nothing and sends nothing; the event is set
    when the client's side of the connection goes (EOF or reset)."""
    gone = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", request)
        assert key is not None
        accept = base64.b64encode(hashlib.sha1(key.group(1) + _GUID).digest())  # noqa: S324 - the protocol's
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        # Deaf from here on: the client's close frame is read (to see the socket go) but never answered.
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        gone.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime", gone
    finally:
        server.close()


async def test_a_server_that_sends_nothing_is_left_without_waiting_for_its_close() -> None:
    async with mute_server() as (url, gone):
        session = RealtimeSession(url_target(url), Bus(), open_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(ConnectionFailed, match=r"sent nothing within 1 s$"):
            await session.connect()
        # Said after the open timeout and CLOSE_TIMEOUT (1 s) at most, not websockets' 10 s more.
        assert time.monotonic() - started < 1.0 + 5
        await asyncio.wait_for(gone.wait(), 5)  # and the connection is gone, not left half-closed
        await session.close()
