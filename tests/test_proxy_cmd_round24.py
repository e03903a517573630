"""`rt-tui proxy --json` stopped while a client is still connected (round 24)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.proxy_helpers import listening_url, start_headless_proxy


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
async def test_a_connection_open_when_the_proxy_stops_says_so_on_stderr(
    simulator_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    """The printer closed before the server closed its connections: the `[conn N] connection: …`
    line that ends a connection still open at Ctrl+C never reached stderr (nor stdout), though its
    capture had it; README: "clients coming and going go to stderr". SIGHUP (the terminal the
    proxy ran in closed) killed it where it stood: the capture lost what was not yet flushed."""
    proxy = start_headless_proxy(tmp_path, "--url", simulator_url)
    try:
        url, _ = await listening_url(proxy.stderr, 30)  # type: ignore[arg-type]
        async with connect(url + "?model=gpt-realtime") as client:
            assert json.loads(await asyncio.wait_for(client.recv(), 30))["type"] == "session.created"
            proxy.send_signal(signum)
            out, err = await asyncio.to_thread(proxy.communicate, timeout=30)
    finally:
        if proxy.poll() is None:
            proxy.kill()
    assert proxy.returncode == 0, err
    said = re.findall(r"^\[conn 1\] connection: (.*)$", err, re.MULTILINE)
    assert len(said) == 2 and "closed" in said[1], err  # connected, then how it ended
    capture = next((tmp_path / "sessions").glob("*/frames.jsonl")).read_text().splitlines()
    last = json.loads(capture[-1])
    assert last["type"] == "rt.connection" and json.loads(out.splitlines()[-1])["type"] == "rt.connection"
