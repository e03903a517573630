"""`replay --json` and `proxy --json` print what a frame that did not parse held (`raw`, or
`raw_b64` for a binary frame) beside rt-tui's note: they printed the note alone, and a jq user never
saw the bytes the capture keeps. Real websockets: a scripted server, the session and its capture,
the real proxy in a child process."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import captured_until_closed, running_simulator
from tui.session import new_session_dir

GARBAGE = "this is not json {"
BINARY = b"\x00\x01\xfe\xff binary"


async def test_replay_json_prints_the_bytes_of_a_frame_that_did_not_parse(tmp_path: Path) -> None:
    async def odd(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_1"}}))
        await ws.send(GARBAGE)
        await ws.send(BINARY)
        await ws.close()

    _, capture = await captured_until_closed(odd, new_session_dir(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "tui", "replay", "--json", str(capture.path)], capture_output=True, text=True, timeout=60
    )
    malformed = [r for r in map(json.loads, done.stdout.splitlines()) if r["type"] == "rt.malformed"]
    assert [r.get("raw") for r in malformed] == [GARBAGE, None]
    assert base64.b64decode(malformed[1]["raw_b64"]) == BINARY
    assert all(r["frame"]["type"] == "rt.malformed" for r in malformed)  # rt-tui's note, as before


async def test_proxy_json_prints_the_bytes_of_a_client_frame_that_did_not_parse(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        process = start_headless_proxy(tmp_path / "data", "--url", sim.url)
        assert process.stderr is not None and process.stdout is not None
        try:
            url, _ = await listening_url(process.stderr, 30)
            async with connect(url + "?model=gpt-realtime") as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
                await ws.send(GARBAGE)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.recv(), 10)  # the simulator's error for it
            async with asyncio.timeout(30):
                while True:
                    line = await asyncio.to_thread(process.stdout.readline)
                    assert line, "the proxy ended first"
                    record = json.loads(line)
                    if record["type"] == "rt.malformed":
                        break
        finally:
            process.terminate()
            process.communicate(timeout=10)
    assert record["dir"] == "out" and record["raw"] == GARBAGE, record
