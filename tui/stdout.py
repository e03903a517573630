"""Standard output whose reader went away (`rt-tui lint --json | head -1`)."""

from __future__ import annotations

import os
import sys


def drop_stdout() -> None:
    """Point standard output at /dev/null: its reader closed it, and the interpreter's last flush,
    at exit, must not fail again with a traceback the user did not cause."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
