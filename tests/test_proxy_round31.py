"""Review 31 of the proxy: a capture that fails, and a client's lone surrogate, in `--json`."""

from __future__ import annotations

import json
import resource
import signal
from pathlib import Path

from websockets.asyncio.client import connect

from tests.proxy_helpers import listening_url, start_headless_proxy


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
