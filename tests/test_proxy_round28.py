"""Round 28: the proxy passes an upstream's close as it was sent (a close frame without a status, a
reason of the full 123 bytes), and follows no redirect (an upstream's 3xx reaches the client as
such; our key never goes where it points); and `proxy --json` ends when the reader of its output
goes away. A real relay on loopback and hand-written upstream peers (the simulator sends neither),
or the real `rt-tui proxy --json --local`."""

from __future__ import annotations

import asyncio
import contextlib
import http
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Event

from tests.proxy_helpers import Recorded, listening_url, start_headless_proxy
from tests.server_helpers import scripted_peer
from tui.proxy import ProxyServer, ProxyTarget

AZURE_KEY = "azure-proxy-key-0123456789abcdef"


async def close_seen_by_client(upstream_close: tuple[int | None, str]) -> tuple[int, str]:
    """The close a client of the proxy reads when the upstream closes with `upstream_close` (code
    None: a close frame with no status): its code (1005 for none) and its reason."""

    async def closer(ws: ServerConnection) -> None:
        code, reason = upstream_close
        await ws.close(code, reason)  # type: ignore[arg-type]  # None: websockets sends no status

    async with scripted_peer(closer) as url, ProxyServer(ProxyTarget(url, "upstream"), capture=False) as proxy:
        async with connect(proxy.url) as client:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(client.recv(), 10)
            received = client.protocol.close_rcvd
            assert received is not None
            return received.code, received.reason


async def test_an_upstream_close_frame_without_a_status_reaches_the_client_as_one() -> None:
    """RFC 6455 lets a close frame carry no code (read as 1005): the client read 1011, an internal
    error neither side had sent."""
    code, reason = await close_seen_by_client((None, ""))
    assert (code, reason) == (1005, "")


async def test_an_upstream_close_reason_of_the_full_123_bytes_reaches_the_client_whole() -> None:
    """A close reason may be 123 bytes: the relay cut every reason to 120 characters."""
    reason = "r" * 120 + "end"
    code, got = await close_seen_by_client((4001, reason))
    assert (code, got) == (4001, reason)


def redirecting_to(location: str) -> Callable[[ServerConnection, Request], Response]:
    """A `process_request` answering every upgrade with a 302 to `location`."""

    def answer(connection: ServerConnection, request: Request) -> Response:
        response = connection.respond(http.HTTPStatus.FOUND, "moved\n")
        response.headers["Location"] = location
        return response

    return answer


async def test_an_upstream_redirect_reaches_the_client_and_our_key_goes_nowhere_else() -> None:
    """websockets' `connect` followed a 3xx to any host, stripping only `Authorization` and
    `Cookie`: an Azure target's `api-key` header (ours) went to the host the redirect named, and
    the client, relayed there, never heard of the redirect. Now the client gets the 302, nothing
    connects to the other host, and the connection's line says where the redirect pointed."""
    elsewhere: list[list[tuple[str, str]]] = []

    async def other_host(ws: ServerConnection) -> None:
        assert ws.request is not None
        elsewhere.append(list(ws.request.headers.raw_items()))
        await ws.send('{"type":"session.created","event_id":"e1","session":{"type":"realtime"}}')
        await ws.wait_closed()

    recorded = Recorded()
    async with serve(other_host, "localhost", 0) as other:
        location = f"ws://localhost:{other.sockets[0].getsockname()[1]}/elsewhere"
        async with serve(other_host, "127.0.0.1", 0, process_request=redirecting_to(location)) as redirector:
            url = f"ws://127.0.0.1:{redirector.sockets[0].getsockname()[1]}/v1/realtime"
            target = ProxyTarget(url, "Azure", {"api-key": AZURE_KEY}, (AZURE_KEY,))
            async with ProxyServer(target, on_connection=recorded.on_connection, capture=False) as proxy:
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(proxy.url + "?model=gpt-realtime"):
                        pass
                await asyncio.wait_for(recorded.connections[0].closed.wait(), 10)
    assert refused.value.response.status_code == 302
    assert elsewhere == []
    failed = [e.data["message"] for e in recorded.envelopes if e.data.get("state") == "failed"]
    assert failed and f"a redirect to {location}" in failed[0], failed
    assert AZURE_KEY not in "".join(failed)


async def test_the_headless_proxy_whose_stdout_reader_goes_away_ends_with_141_saying_why(tmp_path: Path) -> None:
    """README: `proxy --json`, as every headless command, ends when the reader of its output goes
    away (`rt-tui proxy --json | head -1`), with SIGPIPE's 141. It went on relaying for good, its
    lines going nowhere, and `head` never got its pipeline back. Its clients are cut: one line on
    stderr says why (it said nothing)."""
    read_end, write_end = os.pipe()
    process = start_headless_proxy(tmp_path / "data", "--local", stdout=write_end)
    os.close(write_end)
    assert process.stderr is not None
    try:
        url, _ = await listening_url(process.stderr, 30)
        async with connect(url + "?model=gpt-realtime") as client:
            await asyncio.wait_for(client.recv(), 10)  # session.created: its line is on stdout
            with os.fdopen(read_end, "rb") as reader:
                assert reader.readline().startswith(b'{"conn":1,')  # `head -1`: one line, then gone
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(30):
                    while True:  # each frame's line finds the pipe closed: the proxy stops
                        await client.send('{"type":"input_audio_buffer.clear"}')
                        await client.recv()
        assert client.close_code == 1001  # the proxy stopping closes its clients with "going away"
        status = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    said = process.stderr.read()
    assert status == 141, said
    assert "Traceback" not in said and "Broken pipe" not in said, said
    # Its clients were cut: why is said, once (the one who ran the proxy sees it in the terminal).
    assert said.count("rt-tui proxy: stopped: the reader of its output went away") == 1, said


class PingCounting(ServerConnection):
    """An upstream's connection that counts the pings it receives (websockets answers them itself)."""

    pings = 0
    more: asyncio.Event | None = None

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            PingCounting.pings += 1
            if PingCounting.more is not None:
                PingCounting.more.set()
        super().process_event(event)


WEBSOCKETS_PING_TIMEOUT = 20.0
"""websockets' own deadline for a pong, which the relay used: longer than any wait below must outlast."""


async def test_a_client_that_stops_reading_keeps_its_session_through_the_relay() -> None:
    """A client paused (a debugger's breakpoint, a busy loop) reads nothing; the relay then reads
    nothing from the upstream either, so neither side's pong reached it, and websockets' 20 s
    keepalive deadline closed both sides with 1011 "keepalive ping timeout" (blaming the upstream),
    where the same client connected directly kept its session. The relay keeps pinging (the pings
    reach the upstream), and the client, reading again, finds its session open."""
    interval = 0.5
    frame = '{"type":"response.output_audio.delta","delta":"' + "A" * 65536 + '"}'
    flooding = asyncio.Event()

    async def flood(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(frame)
                flooding.set()

    PingCounting.pings, PingCounting.more = 0, asyncio.Event()
    recorded = Recorded()
    async with serve(flood, "127.0.0.1", 0, create_connection=PingCounting, compression=None) as upstream:
        url = f"ws://127.0.0.1:{upstream.sockets[0].getsockname()[1]}/v1/realtime"
        proxy = ProxyServer(ProxyTarget(url, "upstream"), on_connection=recorded.on_connection, ping_interval=interval)
        async with (
            proxy,
            connect(proxy.url, ping_interval=None, max_queue=1, compression=None, close_timeout=0.5) as client,
        ):
            await asyncio.wait_for(flooding.wait(), 10)
            # The client reads nothing until the relay has pinged the upstream past websockets' deadline.
            loop = asyncio.get_running_loop()
            stalled = loop.time()
            async with asyncio.timeout(WEBSOCKETS_PING_TIMEOUT * 2):
                while loop.time() - stalled < WEBSOCKETS_PING_TIMEOUT + 2 * interval:
                    PingCounting.more.clear()
                    await PingCounting.more.wait()
            for _ in range(100):  # reading again: the stream goes on
                assert await asyncio.wait_for(client.recv(), 10) == frame
            closed = [e.data["message"] for e in recorded.envelopes if e.data.get("state") == "closed"]
            assert closed == [], closed  # the relay was never closed under it
