"""Review 31 of the proxy: what it holds of a client's burst while the upstream takes nothing."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.proxy_helpers import Recorded
from tui.proxy import ProxyServer, ProxyTarget
from tui.proxy.relay import CLIENT_QUEUE_FRAMES

MIB = 1 << 20
SEND_STALLED = 3.0
"""Seconds a client's send may wait before it counts as held back (a send the sockets take is
done in milliseconds; this only bounds the wait for one that is not)."""


async def test_a_client_s_burst_is_held_back_while_the_upstream_takes_nothing() -> None:
    """A client that sends 1 MiB frames as fast as it can while the upstream reads nothing: the
    proxy takes a bounded number of them and then leaves the rest in the client's socket, as the
    service would. It read 64 frames ahead, each up to 16 MiB: about 1 GiB per connection."""
    stop = asyncio.Event()

    async def deaf(ws: ServerConnection) -> None:
        await stop.wait()  # reads nothing: its own queue and the sockets fill, then the relay waits

    frame = '{"type":"input_audio_buffer.append","audio":"' + "A" * MIB + '"}'
    recorded = Recorded()
    async with serve(deaf, "127.0.0.1", 0, compression=None, max_size=None) as upstream:
        url = f"ws://127.0.0.1:{upstream.sockets[0].getsockname()[1]}/v1/realtime"
        async with (
            ProxyServer(ProxyTarget(url, "upstream"), on_connection=recorded.on_connection) as proxy,
            connect(proxy.url, compression=None, max_size=None, close_timeout=0.5) as client,
        ):
            sent = 0
            for _ in range(200):
                try:
                    await asyncio.wait_for(client.send(frame), SEND_STALLED)
                except TimeoutError:
                    break
                sent += 1
            stop.set()
    relayed = sum(1 for env in recorded.envelopes if env.type == "input_audio_buffer.append")
    # Sent by the client, not relayed: in the proxy's queue, or in the sockets between (a few).
    held = sent - relayed
    assert sent < 200, "the client was never held back"
    assert held <= CLIENT_QUEUE_FRAMES + 8 <= 24, (held, sent, relayed)  # 64 queued: held 70
