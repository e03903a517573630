"""The simulator inside other people's test suites: start it on a free port, hand out its URL.

```
from tui.server.testing import realtime_simulator

async def test_my_client() -> None:
    async with realtime_simulator() as sim:
        client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=sim.base_url)
        async with client.realtime.connect(model="gpt-realtime") as conn:
            ...
```

`background_simulator` does the same from synchronous code (the server runs on its own thread
and event loop), which is what the pytest fixtures of `tui.pytest_plugin` use.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tui.protocol import Dialect

from .app import REALTIME_PATH, Simulator
from .config import SimulatorConfig
from .scenario import Scenario

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0

ScenarioSpec = Scenario | Mapping[str, Any] | str | Path | None
"""A Scenario, a mapping of scenario keys (`{"transcription": "after_response"}`), or a file path."""


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """Where a started simulator listens."""

    url: str
    """`ws://127.0.0.1:PORT/v1/realtime`: add `?model=gpt-realtime` for a raw WebSocket client."""
    base_url: str
    """`ws://127.0.0.1:PORT/v1`: the official client's `websocket_base_url`."""
    port: int
    api_key: str | None
    """The key clients must present, or None when any (or no) key is accepted."""
    config: SimulatorConfig

    def query(self, **scenario: Any) -> dict[str, str]:
        """`sim_*` query parameters for one connection (the official client's `extra_query`).

        Keys are those of a scenario file, e.g. `query(transcription="after_response", seed=7)`;
        they are validated here, so a typo fails in the test rather than at the server.
        """
        return Scenario.from_mapping(scenario).to_query()

    def url_for(self, model: str = "gpt-realtime", **scenario: Any) -> str:
        """The full WebSocket URL of one connection, with `?model=` and any scenario keys."""
        return f"{self.url}?{urlencode({'model': model, **self.query(**scenario)})}"


def simulator_config(
    *,
    scenario: ScenarioSpec = None,
    dialect: Dialect | str = Dialect.GA,
    api_key: str | None = None,
    **overrides: Any,
) -> SimulatorConfig:
    """A SimulatorConfig on a free loopback port; `overrides` are other SimulatorConfig fields."""
    config = SimulatorConfig(host="127.0.0.1", port=0, dialect=Dialect(dialect), api_key=api_key)
    if scenario is not None:
        overrides["scenario"] = _scenario(scenario)
    return replace(config, **overrides)


@contextlib.asynccontextmanager
async def realtime_simulator(
    *,
    scenario: ScenarioSpec = None,
    dialect: Dialect | str = Dialect.GA,
    api_key: str | None = None,
    warm: bool = False,
    **overrides: Any,
) -> AsyncIterator[RunningSimulator]:
    """Serve a simulator on a free loopback port in the running event loop while the block runs.

    `scenario` applies to every connection (each may still add `sim_*` query parameters);
    `api_key` makes clients present that key; `warm=True` waits until the speech engines are
    loaded (otherwise they load in the background and the first turn waits for them).
    """
    config = simulator_config(scenario=scenario, dialect=dialect, api_key=api_key, **overrides)
    from . import warm_up

    if warm:
        await asyncio.get_running_loop().run_in_executor(None, lambda: warm_up(wait=True))
    else:
        warm_up()
    async with Simulator(config) as simulator:
        yield _running(simulator)


@contextlib.contextmanager
def background_simulator(
    *,
    scenario: ScenarioSpec = None,
    dialect: Dialect | str = Dialect.GA,
    api_key: str | None = None,
    warm: bool = False,
    **overrides: Any,
) -> Iterator[RunningSimulator]:
    """`realtime_simulator` for synchronous code: the server runs on a thread of its own."""
    # Validate here, so a bad option raises in the caller's thread.
    simulator_config(scenario=scenario, dialect=dialect, api_key=api_key, **overrides)
    started: queue.Queue[RunningSimulator | BaseException] = queue.Queue()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with realtime_simulator(
                scenario=scenario, dialect=dialect, api_key=api_key, warm=warm, **overrides
            ) as running:
                started.put(running)
                await stop.wait()
        except BaseException as exc:  # reported to the caller, who is waiting on `started`
            started.put(exc)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="rt-simulator", daemon=True)
    thread.start()
    try:
        outcome = started.get(timeout=_START_TIMEOUT_S)
        if isinstance(outcome, BaseException):
            raise outcome
        yield outcome
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(_STOP_TIMEOUT_S)
        if not thread.is_alive():
            loop.close()


def _running(simulator: Simulator) -> RunningSimulator:
    url = simulator.url
    return RunningSimulator(
        url=url,
        base_url=url.removesuffix(REALTIME_PATH) + "/v1",
        port=int(url.rsplit(":", 1)[1].split("/", 1)[0]),
        api_key=simulator.config.api_key,
        config=simulator.config,
    )


def _scenario(spec: Scenario | Mapping[str, Any] | str | Path) -> Scenario:
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, str | Path):
        return Scenario.load(spec)
    return Scenario.from_mapping(spec)
