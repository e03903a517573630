"""`frame-refused`: a connection closed over one frame a side could not take. A proxied client's
20 MiB append closed its connection with 1009 and the capture linted as `0 findings`: nothing was
in flight for `connection-dropped` to name. Through the real proxy (a child process) and simulator."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
from pathlib import Path

from websockets.asyncio.client import connect

from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import running_simulator
from tui.lint import lint_envelopes
from tui.replay import load


async def test_a_client_frame_over_the_proxy_s_limit_is_a_finding(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        process = start_headless_proxy(tmp_path / "data", "--url", sim.url, stdout=subprocess.DEVNULL)
        assert process.stderr is not None
        try:
            url, _ = await listening_url(process.stderr, 30)
            # Not `async with`: its exit closes a socket the proxy has already closed mid-send.
            ws = await connect(url + "?model=gpt-realtime", max_size=None)
            assert json.loads(await ws.recv())["type"] == "session.created"
            audio = base64.b64encode(bytes(13 << 20)).decode()  # 17.3 MB of base64: over the 16 MiB limit
            with contextlib.suppress(Exception):
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
            await ws.wait_closed()
            assert ws.close_code == 1009
        finally:
            process.terminate()
            process.communicate(timeout=10)
    [capture] = (tmp_path / "data").rglob("frames.jsonl")
    findings = lint_envelopes(load(capture).envelopes)
    refused = [f for f in findings if f.rule == "frame-refused"]
    assert len(refused) == 1, [(f.rule, f.message) for f in findings]
    assert "(a frame over the size limit)" in refused[0].message and "1009" in refused[0].message
    assert [f.rule for f in findings if f.rule != "frame-refused"] == [], findings
    assert any(f.rule == "frame-refused" for f in findings)  # "frame-refused") for the catalogue's test
