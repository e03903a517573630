"""Helpers for tests that run `rt-tui proxy --json` as a process of its own."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tui.protocol import Envelope
from tui.proxy import ProxyConnection

RELAYING = re.compile(r"^rt-tui proxy: relaying (ws://[^\s?]+)\S* → ", re.MULTILINE)
"""The line on stderr that names the address the proxy listens on (stdout holds only JSON lines)."""


async def listening_url(stderr: IO[str], timeout: float) -> tuple[str, list[str]]:
    """Read the proxy's stderr until it names its address; returns the address and the lines read
    (a warning may come first, and a test that scans stderr must scan those too)."""
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = await asyncio.to_thread(stderr.readline)
            if not line:
                raise AssertionError(f"rt-tui proxy ended before it listened: {''.join(lines)[-2000:]}")
            lines.append(line)
            found = RELAYING.match(line)
            if found:
                return found.group(1), lines


def start_headless_proxy(
    data_dir: Path,
    *args: str,
    stdout: int = subprocess.PIPE,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.Popen[str]:
    """The real `rt-tui proxy --listen 127.0.0.1:0 --json ARGS` in a child process: its data under
    `data_dir`, no API key from the test's own environment (`env` adds variables), stderr piped
    (`listening_url` reads its address there)."""
    environment = {**os.environ, "RT_TUI_DATA_DIR": str(data_dir), **(env or {})}
    if "OPENAI_API_KEY" not in (env or {}):
        environment.pop("OPENAI_API_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "proxy", *args, "--listen", "127.0.0.1:0", "--json"],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        preexec_fn=preexec_fn,
    )


class Recorded:
    """What a `ProxyServer`'s `on_connection` is handed: each connection, and every envelope they record."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.connections: list[ProxyConnection] = []

    def on_connection(self, connection: ProxyConnection) -> Callable[[Envelope], None]:
        """Keep `connection`; its envelopes go to `envelopes`."""
        self.connections.append(connection)
        return self.envelopes.append
