"""`rt-tui serve` as a real subprocess: where the key comes from, that it is never printed, and the
frame limit flag."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from tests.secret_helpers import new_test_key
from tests.server_helpers import recv

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))
KEY = new_test_key()
"""Made fresh per run: no key-shaped literal is kept in the repository."""
READY_TIMEOUT_S = 60.0


@dataclass
class Served:
    """A running `rt-tui serve`; `stdout` and `stderr` are filled in when it has stopped."""

    proc: subprocess.Popen[str]
    url: str
    stdout: str = ""
    stderr: str = ""
    argv: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        """Everything it printed, both streams."""
        return self.url + "\n" + self.stdout + self.stderr


@contextlib.asynccontextmanager
async def serving(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[Served]:
    """`rt-tui serve --port 0 ARGS` until the block ends (then stopped with Ctrl+C)."""
    argv = [RT_TUI, "serve", "--port", "0", *args]
    environment = {key: value for key, value in os.environ.items() if key != "RT_TUI_SIM_API_KEY"}
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, **(env or {})},
    )
    assert proc.stdout is not None
    served = Served(proc, "", argv=argv)
    try:
        served.url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), READY_TIMEOUT_S)).strip()
        assert served.url.startswith("ws://127.0.0.1:"), served.url
        yield served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        served.stdout, served.stderr = out, err


async def session_with(url: str, key: str | None) -> tuple[str, int | None]:
    """Connect (with `key` as a Bearer token, if any): the first event's type and any close code."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with connect(f"{url}?model=gpt-realtime", additional_headers=headers) as ws:
        first = await recv(ws)
        if first["type"] == "error":
            with pytest.raises(ConnectionClosed):
                await recv(ws)
        closed = ws.close_code if ws.state is State.CLOSED else None
    return str(first["type"]), closed


def assert_never_printed(served: Served) -> None:
    """Neither the key nor its base64 (alone or as a Bearer value) in what the server printed."""
    forms = [KEY, base64.b64encode(KEY.encode()).decode(), base64.b64encode(f"Bearer {KEY}".encode()).decode()]
    for form in forms:
        assert form not in served.output


def cmdline(pid: int) -> str:
    """What `ps` shows for a process: its argv."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_the_key_from_a_file_is_required_and_never_visible(tmp_path: Path) -> None:
    key_file = tmp_path / "sim.key"
    key_file.write_text(f"  {KEY}  \nsecond line is ignored\n")
    key_file.chmod(0o600)
    async with serving("--api-key-file", str(key_file)) as served:
        visible = cmdline(served.proc.pid)
        refused = await session_with(served.url, None)
        wrong = await session_with(served.url, new_test_key())
        accepted = await session_with(served.url, KEY)
    assert refused == ("error", 3000)
    assert wrong == ("error", 3000)
    assert accepted == ("session.created", None)
    assert KEY not in visible and str(key_file) in visible
    assert "warning" not in served.stderr
    assert_never_printed(served)


async def test_a_key_in_argv_still_works_but_warns_once() -> None:
    async with serving("--api-key", KEY) as served:
        accepted = await session_with(served.url, KEY)
        refused = await session_with(served.url, None)
    assert (accepted, refused) == (("session.created", None), ("error", 3000))
    warnings = [line for line in served.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, served.stderr
    assert "--api-key-file" in warnings[0] and "RT_TUI_SIM_API_KEY" in warnings[0] and "ps" in warnings[0]
    assert_never_printed(served)


async def test_the_key_from_the_environment_needs_no_warning() -> None:
    async with serving(env={"RT_TUI_SIM_API_KEY": KEY}) as served:
        accepted = await session_with(served.url, KEY)
        refused = await session_with(served.url, None)
    assert (accepted, refused) == (("session.created", None), ("error", 3000))
    assert "warning" not in served.stderr
    assert_never_printed(served)


@pytest.mark.parametrize("padded", [f"{KEY}\n", f"  {KEY}\r\n", f"\t{KEY} "])
async def test_a_key_from_the_environment_or_argv_with_a_line_end_or_spaces_is_the_key_stripped(padded: str) -> None:
    """`export RT_TUI_SIM_API_KEY="$(cat key)"` or a .env line keeps a line end or spaces: the key
    file's line is stripped, and so is the variable (a padded key refused every client, the key
    sent as it is written)."""
    async with serving(env={"RT_TUI_SIM_API_KEY": padded}) as served:
        accepted = await session_with(served.url, KEY)
        refused = await session_with(served.url, None)
    assert (accepted, refused) == (("session.created", None), ("error", 3000))
    async with serving("--api-key", padded) as served:
        accepted = await session_with(served.url, KEY)
    assert accepted == ("session.created", None)


@pytest.mark.parametrize(
    ("content", "says"),
    [(None, "cannot read the key file"), ("\n  \n", "has no key on its first line"), (b"\xff\xfe", "not a UTF-8")],
)
def test_a_bad_key_file_is_one_line_and_exit_2(tmp_path: Path, content: str | bytes | None, says: str) -> None:
    key_file = tmp_path / "sim.key"
    if isinstance(content, bytes):
        key_file.write_bytes(content)
    elif content is not None:
        key_file.write_text(content)
    done = subprocess.run(
        [RT_TUI, "serve", "--port", "0", "--api-key-file", str(key_file)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and str(key_file) in done.stderr


def test_a_key_file_and_a_key_cannot_both_be_given(tmp_path: Path) -> None:
    key_file = tmp_path / "sim.key"
    key_file.write_text(KEY)
    done = subprocess.run(
        [RT_TUI, "serve", "--api-key", KEY, "--api-key-file", str(key_file)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


async def test_the_frame_limit_flag() -> None:
    async with serving("--max-frame-mib", "1") as served:
        ws = await connect(f"{served.url}?model=gpt-realtime", compression=None)
        try:
            await recv(ws)
            await ws.send('{"type":"input_audio_buffer.append","audio":"' + "A" * (3 * 2**19) + '"}')
            with pytest.raises(ConnectionClosed):
                await recv(ws)
        finally:
            if ws.state is not State.CLOSED:  # see refusing_client in test_server_limits.py
                await ws.close()
    assert ws.protocol.close_rcvd is not None
    assert ws.protocol.close_rcvd.code == 1009
    assert str(2**20) in ws.protocol.close_rcvd.reason


def test_the_frame_limit_flag_is_a_whole_number_of_mib() -> None:
    done = subprocess.run([RT_TUI, "serve", "--max-frame-mib", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "outside 1 to 4096" in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
async def test_each_stop_signal_closes_the_clients_with_1001_and_exits_0(signum: signal.Signals) -> None:
    """SIGTERM (`kill`, `timeout`, a container's stop) dropped the clients without a close frame:
    a CI teardown turned their turns into dropped connections (1006, `connection-dropped`), where
    Ctrl+C closed them with 1001 (review 55d)."""
    async with serving() as served:
        async with connect(f"{served.url}?model=gpt-realtime") as ws:
            assert (await recv(ws))["type"] == "session.created"
            served.proc.send_signal(signum)
            with pytest.raises(ConnectionClosed):
                while True:
                    await recv(ws)
            assert ws.close_code == 1001
        assert await asyncio.to_thread(served.proc.wait, 30) == 0
