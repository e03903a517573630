"""Shared fixtures: an isolated data directory, no API key, and simulators on port 0."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from tui.server import Simulator

# Hypothesis profiles: property tests never set max_examples, the profile does. "default" is what
# `make test` runs (a few hundred examples per property test, a few thousand in all); "fuzz" is what
# `make fuzz` runs (HYPOTHESIS_PROFILE=fuzz: 100,000 examples per property test). No deadline in
# either: the machine is shared and loaded, and a slow example is not a failure.
_NO_TIMING = [HealthCheck.too_slow]
settings.register_profile("default", max_examples=400, deadline=None, suppress_health_check=_NO_TIMING)
settings.register_profile("fuzz", max_examples=100_000, deadline=None, suppress_health_check=_NO_TIMING)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Capture files go to a temporary folder; tests never reach OpenAI by accident."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "rt-tui-data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield


@pytest.fixture
def microphone() -> Iterator[None]:
    """A microphone for the app to find (the fake ALSA device, giving digital silence): a live
    session on this machine, which has no sound card, says "no microphone" before any press."""
    from tests.audio_helpers import fake_alsa

    with fake_alsa(None, None):
        yield


@pytest.fixture
async def simulator_url() -> AsyncIterator[str]:
    """A real simulator on a free loopback port, GA dialect; the URL names the model, as the service requires."""
    from tui.server import Simulator, SimulatorConfig

    async with Simulator(SimulatorConfig(host="127.0.0.1", port=0)) as sim:
        yield sim.url + "?model=gpt-realtime"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator that sends responses as fast as it can (tests need not wait for real-time speech)."""
    from tests.server_helpers import running_simulator

    async with running_simulator(response_speed=0) as simulator:
        yield simulator


@pytest.fixture
async def beta_sim() -> AsyncIterator[Simulator]:
    """`sim` speaking the beta dialect."""
    from tests.server_helpers import running_simulator
    from tui.protocol import Dialect

    async with running_simulator(response_speed=0, dialect=Dialect.BETA) as simulator:
        yield simulator


@pytest.fixture
async def slow_sim() -> AsyncIterator[Simulator]:
    """A simulator streaming at real-time speed, so a response is still running when a test interrupts it."""
    from tests.server_helpers import running_simulator

    async with running_simulator(response_speed=1.0) as simulator:
        yield simulator


@pytest.fixture
async def proxy_process(tmp_path: Path) -> AsyncIterator[tuple[subprocess.Popen[str], str]]:
    """The real `rt-tui proxy --local --json` (headless, on its own simulator) in a child process, and
    the ws:// URL it listens on; terminated at the end."""
    from tests.proxy_helpers import listening_url, start_headless_proxy

    process = start_headless_proxy(tmp_path / "data", "--local")
    assert process.stderr is not None
    url, _ = await listening_url(process.stderr, 30)
    try:
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=10)
