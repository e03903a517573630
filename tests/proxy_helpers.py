"""Helpers for tests that run `rt-tui proxy --json` as a process of its own."""

from __future__ import annotations

import asyncio
import re
from typing import IO

RELAYING = re.compile(r"^rt-tui proxy: relaying (ws://\S+) → ", re.MULTILINE)
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
