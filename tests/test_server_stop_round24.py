"""The simulator stops soon with a client that no longer reads (round 24)."""

from __future__ import annotations

import asyncio
import base64
import os
import time

from tui.server import Simulator, SimulatorConfig


async def test_the_simulator_stops_soon_with_a_client_that_answers_no_close() -> None:
    """`rt-tui serve` took 10 s to stop (websockets' default close timeout, per connection) when a
    client had stopped reading: its close frame was never answered."""
    async with Simulator(SimulatorConfig()) as sim:
        port = sim.url.split(":")[2].split("/")[0]
        reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        await reader.read(1)  # session.created has begun to come: the session is open; then read nothing more
        started = time.monotonic()
    took = time.monotonic() - started
    writer.close()
    assert took < 5, f"the simulator took {took:.1f} s to stop"
