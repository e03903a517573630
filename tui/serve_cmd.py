"""`rt-tui serve`: run the local Realtime simulator in the foreground and print its URL."""

from __future__ import annotations

import asyncio
import os
import sys

#: Environment variable holding the key clients must present, when `--api-key` is not given.
API_KEY_ENV = "RT_TUI_SIM_API_KEY"


def serve(host: str, port: int, dialect: str, *, api_key: str | None = None, scenario: str | None = None) -> int:
    """Serve until interrupted; returns the exit status.

    `api_key` (or $RT_TUI_SIM_API_KEY) turns on the key check; without either, any client is let in.
    `scenario` is a TOML or JSON scenario file applied to every connection.
    """
    from tui.protocol import Dialect
    from tui.server import SimulatorConfig, run_server
    from tui.server.scenario import Scenario, ScenarioError

    key = api_key or os.environ.get(API_KEY_ENV) or None
    try:
        loaded = Scenario.load(scenario) if scenario is not None else Scenario()
    except ScenarioError as err:
        print(f"rt-tui serve: {err.message}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(url, flush=True)
        print(f"rt-tui simulator ({dialect}) listening; Ctrl+C stops it", file=sys.stderr, flush=True)

    try:
        config = SimulatorConfig(host=host, port=port, dialect=Dialect(dialect), api_key=key, scenario=loaded)
        asyncio.run(run_server(config, on_ready=ready))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"rt-tui serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
