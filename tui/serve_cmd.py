"""`rt-tui serve`: run the local Realtime simulator in the foreground and print its URL."""

from __future__ import annotations

import asyncio
import sys


def serve(host: str, port: int, dialect: str) -> int:
    """Serve until interrupted; returns the exit status."""
    from tui.protocol import Dialect
    from tui.server import SimulatorConfig, run_server

    def ready(url: str) -> None:
        print(url, flush=True)
        print(f"rt-tui simulator ({dialect}) listening; Ctrl+C stops it", file=sys.stderr, flush=True)

    try:
        asyncio.run(run_server(SimulatorConfig(host=host, port=port, dialect=Dialect(dialect)), on_ready=ready))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"rt-tui serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
