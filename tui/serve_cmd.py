"""`rt-tui serve`: run the local Realtime simulator in the foreground and print its URL."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

#: Environment variable holding the key clients must present, when no key option is given.
API_KEY_ENV = "RT_TUI_SIM_API_KEY"
#: Printed when the key comes from `--api-key`: argv is readable by every local user (`ps`).
ARGV_KEY_WARNING = (
    "rt-tui serve: warning: --api-key puts the key in the command line, which every user of this machine "
    f"can read (ps, /proc); use --api-key-file FILE or ${API_KEY_ENV} instead"
)


class KeyFileError(Exception):
    """The key file cannot be read or holds no key (the message never quotes its content)."""


def read_key_file(path: str) -> str:
    """The key in `path`: its first line, stripped."""
    try:
        with Path(path).open(encoding="utf-8") as file:
            first = file.readline()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a UTF-8 text file"
        raise KeyFileError(f"cannot read the key file {path}: {reason}") from None
    key = first.strip()
    if not key:
        raise KeyFileError(f"the key file {path} has no key on its first line")
    return key


def serve(
    host: str,
    port: int,
    dialect: str,
    *,
    api_key: str | None = None,
    api_key_file: str | None = None,
    scenario: str | None = None,
    max_frame_mib: int = 16,
) -> int:
    """Serve until interrupted; returns the exit status.

    The key clients must present comes from `api_key_file` (its first line), `api_key` (with a
    warning: argv is public) or $RT_TUI_SIM_API_KEY; with none of them any client is let in. The
    key itself is never printed. `scenario` is a TOML or JSON scenario file applied to every
    connection; `max_frame_mib` is the largest client frame accepted (MiB).
    """
    from tui.protocol import Dialect
    from tui.server import SimulatorConfig, run_server
    from tui.server.scenario import Scenario, ScenarioError

    if api_key is not None and not api_key.strip():
        # Taken as no key, it let every client in after warning that the key was visible: an empty
        # --api-key-file is refused, and so is this.
        print(
            "rt-tui serve: --api-key is empty: give the key clients must send, or leave --api-key out", file=sys.stderr
        )
        return 2
    if api_key is not None:
        print(ARGV_KEY_WARNING, file=sys.stderr, flush=True)
    try:
        key = read_key_file(api_key_file) if api_key_file is not None else api_key
    except KeyFileError as err:
        print(f"rt-tui serve: {err}", file=sys.stderr)
        return 2
    # Stripped as the key file's line is (and as clients strip theirs): `export VAR="$(cat f)"` or a
    # .env line keeps a line end or spaces, and a padded key refused every client that sent the key.
    key = (key or os.environ.get(API_KEY_ENV) or "").strip() or None
    if max_frame_mib < 1:
        print("rt-tui serve: --max-frame-mib must be at least 1 MiB", file=sys.stderr)
        return 2
    try:
        loaded = Scenario.load(scenario) if scenario is not None else Scenario()
    except ScenarioError as err:
        print(f"rt-tui serve: {err.message}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(url, flush=True)
        print(
            f"rt-tui simulator ({dialect}) listening; clients add ?model=gpt-realtime (as the service wants), e.g. "
            f"rt-tui send --url '{url}?model=gpt-realtime' FILE; Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )

    try:
        config = SimulatorConfig(
            host=host,
            port=port,
            dialect=Dialect(dialect),
            api_key=key,
            scenario=loaded,
            max_frame_bytes=max_frame_mib * 1024 * 1024,
        )
        asyncio.run(run_server(config, on_ready=ready))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"rt-tui serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
