"""Review 31 of the proxy: what it holds of a client's burst while the upstream takes nothing."""

from __future__ import annotations

import asyncio
import json
import resource
import signal
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.proxy_helpers import Recorded, listening_url, start_headless_proxy
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


async def test_a_capture_that_fails_is_said_on_stderr_and_the_proxy_exits_1(tmp_path: Path) -> None:
    """The disk fills (here the kernel's file-size limit) while a client talks through `proxy
    --json`: the capture stopped without a word, stderr still said `captured in …`, the exit was 0,
    and `rt-tui lint` on the cut file said it was clean. The relay goes on; stderr says the capture
    failed, once, and the run exits 1, as `send` does."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    process = start_headless_proxy(tmp_path / "data", "--local", preexec_fn=small_files)
    assert process.stderr is not None and process.stdout is not None
    try:
        url, said = await listening_url(process.stderr, 30)
        async with connect(f"{url}?model=gpt-realtime", compression=None) as client:
            created = json.loads(await client.recv())
            assert created["type"] == "session.created"
            padding = "x" * 4000  # each frame's line is about 4 KB: the second one crosses the limit
            for n in range(6):
                await client.send(json.dumps({"type": "session.update", "session": {"instructions": f"{n}{padding}"}}))
                assert json.loads(await client.recv())["type"] in ("session.updated", "error")
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    lines = said + err.splitlines()
    failed = [line for line in lines if line.startswith("[conn 1] capture: ")]
    assert len(failed) == 1 and "File too large" in failed[0], lines
    assert lines[-1] == "rt-tui proxy: the capture of 1 connection failed: those files are incomplete", lines
    assert process.returncode == 1
    relayed = [json.loads(line) for line in out.splitlines()]
    assert sum(1 for record in relayed if record["type"] == "session.update") == 6  # the relay went on


async def test_proxy_json_keeps_a_client_s_lone_surrogate_as_its_escape(tmp_path: Path) -> None:
    """A client sends text with a lone surrogate (the server refuses it, naming `\\ud800`): the
    proxy's line showed U+FFFD instead, hiding the very character the error is about."""
    process = start_headless_proxy(tmp_path / "data", "--local")
    assert process.stderr is not None and process.stdout is not None
    try:
        url, _ = await listening_url(process.stderr, 30)
        async with connect(f"{url}?model=gpt-realtime", compression=None) as client:
            await client.recv()
            item = '{"type":"message","role":"user","content":[{"type":"input_text","text":"hi \\ud800 there"}]}'
            await client.send('{"type":"conversation.item.create","item":' + item + "}")
            assert json.loads(await client.recv())["type"] == "error"
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    [line] = [line for line in out.splitlines() if '"type":"conversation.item.create"' in line]
    assert "\\ud800" in line and "\ufffd" not in line
    assert json.loads(line)["frame"]["item"]["content"][0]["text"] == "hi \ud800 there"
