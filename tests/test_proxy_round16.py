"""The proxy with a client that gives up while the upstream is still being opened, a frame over the
limit, and the headless proxy with a stdout nobody reads or none at all."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import scripted_peer
from tests.test_proxy import Recorder, proxy_for
from tui.protocol import Direction, Envelope, local_envelope
from tui.proxy import ProxyConnection, ProxyServer, ProxyTarget
from tui.proxy_cmd import FramePrinter
from tui.session.scrub import Scrubber


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


class _Stalled(io.StringIO):
    """A stdout whose reader has stopped reading: a write blocks until `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.blocked = threading.Event()

    def write(self, text: str) -> int:
        self.blocked.set()
        self.release.wait(10)
        return super().write(text)


def test_frame_lines_a_stalled_stdout_missed_are_said_on_stderr_not_lost_in_silence() -> None:
    class SmallPrinter(FramePrinter):
        MAX_PENDING = 4000

    out, err = _Stalled(), io.StringIO()
    printer = SmallPrinter(out, err)
    connection = ProxyConnection(1, "127.0.0.1:5000", "/v1/realtime", "upstream", Scrubber(()))
    sink = printer.sink_for(connection)
    sink(local_envelope("rt.connection", "connected", state="connecting", target=connection.label))
    assert out.blocked.wait(10)  # the writer thread is stuck in the first line
    for n in range(200):
        raw = json.dumps({"type": "response.output_text.delta", "item_id": "item_1", "delta": f"word {n} "})
        sink(Envelope(n + 2, Direction.IN, "response.output_text.delta", json.loads(raw), raw))
    out.release.set()
    printer.close()
    written = out.getvalue().splitlines()
    said = err.getvalue()
    missed = 201 - len(written)
    assert missed > 0
    assert "rt-tui proxy: stdout is not read fast enough: frame lines are left out" in said
    assert f"rt-tui proxy: {missed:,} frame lines left out of stdout, not read fast enough" in said
    assert said.count("not read fast enough") == 2  # said once as it starts, then counted at the end


async def test_a_client_frame_over_the_limit_is_said_as_the_relays_1009_not_a_client_that_vanished() -> None:
    upstream_close: list[int | None] = []
    upstream_done = asyncio.Event()

    async def upstream(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        try:
            await ws.wait_closed()
        finally:
            upstream_close.append(ws.close_code)
            upstream_done.set()

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = ProxyServer(ProxyTarget(url, "upstream"), port=0, on_connection=recorder, max_frame_bytes=1024)
        await server.start()
        try:
            async with connect(server.url + "?model=gpt-realtime") as client:
                await client.recv()
                await client.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * 2048}))
                with pytest.raises(ConnectionClosed):
                    await client.recv()
                assert client.close_code == 1009
            await asyncio.wait_for(upstream_done.wait(), 10)
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 10)
        finally:
            await server.close()
    assert upstream_close == [1011]
    closed = [env for env in recorder.envelopes[1] if env.data.get("state") == "closed"][-1]
    assert closed.data["code"] == 1009
    assert closed.data["message"].startswith("rt-tui closed the client connection with 1009: frame with ")
    assert closed.data["message"].endswith(
        "exceeds limit of 1024 bytes (--max-frame-mib raises the limit); closed the other side with 1011"
    )


async def test_the_headless_proxy_with_standard_output_closed_relays_and_stops_without_a_traceback(
    tmp_path: Path,
) -> None:
    process = start_headless_proxy(
        tmp_path / "data",
        "--local",
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(1),  # `>&-`: Python starts with no sys.stdout
    )
    assert process.stderr is not None
    try:
        url, said = await listening_url(process.stderr, 30)
        async with connect(url + "?model=gpt-realtime") as client:
            assert json.loads(await client.recv())["type"] == "session.created"
        said.append(await asyncio.to_thread(process.stderr.readline))  # [conn 1] connection: … connected
        said.append(await asyncio.to_thread(process.stderr.readline))  # [conn 1] connection: client closed
    finally:
        process.send_signal(signal.SIGINT)
        rest = await asyncio.to_thread(process.stderr.read)
        status = process.wait(timeout=10)
    assert "Traceback" not in "".join(said) + rest, "".join(said) + rest
    assert said[-1].startswith("[conn 1] connection: client closed with 1000")
    assert status == 0
