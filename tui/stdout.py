"""Standard output whose reader went away (`rt-tui lint --json | head -1`)."""

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
