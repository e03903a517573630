"""pytest fixtures that serve the local Realtime simulator on a free port, one per test.

Enable with `pytest_plugins = ["tui.pytest_plugin"]` in a test module or the root
conftest.py (when rt-tui is installed, its `pytest11` entry point loads it already).

- `realtime_simulator_url`: `ws://127.0.0.1:PORT/v1/realtime` (add `?model=gpt-realtime`);
- `realtime_simulator_base_url`: `ws://127.0.0.1:PORT/v1`, the official client's `websocket_base_url`;
- `realtime_simulator_server`: the `RunningSimulator` (`.url`, `.base_url`, `.query(**scenario)`);
- `realtime_simulator_options`: override it to configure the server, e.g.
  `return {"api_key": "sk-test", "scenario": {"transcription": "after_response"}}`
  (the keyword arguments of `tui.server.testing.realtime_simulator`).

The server runs on a thread with its own event loop, so the fixtures are synchronous and work
with sync tests, pytest-asyncio, anyio or trio alike. This module lives outside `tui.server`
and imports only pytest until a fixture is used, so loading the plugin costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tui.server.testing import RunningSimulator


@pytest.fixture
def realtime_simulator_options() -> dict[str, Any]:
    """Keyword arguments for the fixtures' simulator (override in a conftest.py or module)."""
    return {}


@pytest.fixture
def realtime_simulator_server(realtime_simulator_options: dict[str, Any]) -> Iterator[RunningSimulator]:
    """A simulator serving on a free loopback port for the duration of one test."""
    from tui.server.testing import background_simulator

    with background_simulator(**realtime_simulator_options) as running:
        yield running


@pytest.fixture
def realtime_simulator_url(realtime_simulator_server: RunningSimulator) -> str:
    """The simulator's WebSocket URL, `ws://127.0.0.1:PORT/v1/realtime`."""
    return realtime_simulator_server.url


@pytest.fixture
def realtime_simulator_base_url(realtime_simulator_server: RunningSimulator) -> str:
    """`ws://127.0.0.1:PORT/v1`, for `openai.OpenAI(websocket_base_url=...)`."""
    return realtime_simulator_server.base_url
