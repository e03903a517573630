"""`rt-tui serve`: run the local Realtime simulator in the foreground and print its URL."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from tui.stdout import QUIT_SIGNALS

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


async def _until_stopped(serving: Coroutine[Any, Any, None]) -> None:
    """Run `serving` until Ctrl+C, SIGTERM or SIGHUP, each of which stops it the same way: every
    client is closed with 1001 (going away). Killed by SIGTERM (`kill`, `timeout`, a container's
    stop) the simulator dropped its clients without a close frame, and their turns read as dropped
    connections (1006) in `rt-tui send` and `rt-tui lint`."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(serving)
    for signum in QUIT_SIGNALS:
        loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # Ctrl+C: asyncio.run cancelled this task, and raises KeyboardInterrupt once it ends
        # A signal's handler cancelled the serving task alone: stopped as asked.
    finally:
        for signum in QUIT_SIGNALS:
            loop.remove_signal_handler(signum)


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
            f"rt-tui send --url '{url}?model=gpt-realtime' FILE; Ctrl+C (or SIGTERM) stops it",
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
        asyncio.run(_until_stopped(run_server(config, on_ready=ready)))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"rt-tui serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
