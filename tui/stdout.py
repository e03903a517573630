"""The standard streams: output whose reader went away (`rt-tui lint --json | head -1`), and
whether the full-screen app has a terminal to run in."""

from __future__ import annotations

import os
import sys

EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command killed by SIGPIPE (128 + 13): `rt-tui send --json | head -1`
ends as `yes | head -1` does, quietly. `lint` keeps its verdict instead (CI reads it)."""


def drop_stdout() -> None:
    """Point standard output at /dev/null: its reader closed it, and the interpreter's last flush,
    at exit, must not fail again with a traceback the user did not cause. Safe to call twice."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def terminal_problem(instead: str) -> str | None:
    """Why the full-screen app cannot start here, in one line naming the headless way (`instead`),
    for the caller to prefix with its command; None when standard input and output are a terminal.

    Without one (CI, a pipe, `</dev/null`), the app wrote escape codes to a file and waited for
    keys that never came, for ever."""
    streams = (sys.stdin, sys.stdout)
    if all(stream is not None and stream.isatty() for stream in streams):
        return None
    return f"the app needs a terminal, and standard input or output is not one: {instead}"
