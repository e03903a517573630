"""The proxy with a client that gives up while the upstream is still being opened."""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request

from tests.test_proxy import Recorder, proxy_for


async def test_a_client_that_leaves_before_the_upstream_opens_gets_its_upstream_closed() -> None:
    client_gone = asyncio.Event()
    upstream_opened = asyncio.Event()
    upstream_closed = asyncio.Event()

    async def slow_handshake(connection: ServerConnection, request: Request) -> None:
        await client_gone.wait()  # the upstream answers only once the client has given up

    async def upstream(ws: ServerConnection) -> None:
        upstream_opened.set()
        try:
            await ws.wait_closed()
        finally:
            upstream_closed.set()

    recorder = Recorder()
    async with serve(upstream, "127.0.0.1", 0, process_request=slow_handshake) as peer:
        port = peer.sockets[0].getsockname()[1]
        server = await proxy_for(f"ws://127.0.0.1:{port}/v1/realtime", recorder)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: proxy\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            await writer.drain()
            writer.close()  # the client gives up (its open timeout, a Ctrl+C) mid-handshake
            await writer.wait_closed()
            client_gone.set()
            await asyncio.wait_for(upstream_opened.wait(), 10)
            # Without the fix the upstream stayed open until the proxy stopped.
            await asyncio.wait_for(upstream_closed.wait(), 10)
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 10)
            assert not server._pending
        finally:
            await server.close()
    closed = [env for env in recorder.envelopes[1] if env.data.get("state") == "closed"]
    assert closed[-1].data["message"] == "client left before its connection opened; closed the upstream connection"
