"""Shared fixtures: an isolated data directory, no API key, and a simulator on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Capture files go to a temporary folder; tests never reach OpenAI by accident."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "rt-tui-data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield


@pytest.fixture
async def simulator_url() -> AsyncIterator[str]:
    """A real simulator on a free loopback port, GA dialect; the URL names the model, as the service requires."""
    from tui.server import Simulator, SimulatorConfig

    async with Simulator(SimulatorConfig(host="127.0.0.1", port=0)) as sim:
        yield sim.url + "?model=gpt-realtime"
