"""The standard streams: output whose reader went away (`rt-tui lint --json | head -1`), whether
the full-screen app has a terminal to run in, and the signals a command ends on as a shell reports."""

from __future__ import annotations

import os
import signal
import sys

EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command killed by SIGPIPE (128 + 13): `rt-tui send --json | head -1`
ends as `yes | head -1` does, quietly. `lint` keeps its verdict instead (CI reads it)."""


QUIT_SIGNALS = {
    signum: 128 + signum
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None))  # no SIGHUP on Windows
    if signum is not None
}
"""The signals the app and `send` end on cleanly (what arrived kept, the capture closed), each with
its exit status (their `--help` lists them), the status a shell reports for a command the signal
ended: SIGTERM (`kill`, `timeout`, a service manager) and SIGHUP (the terminal window closed, the
ssh link or the tmux pane gone)."""

SIGNAL_WORDS = {signal.SIGTERM: "terminated"} | ({signal.SIGHUP: "hung up"} if hasattr(signal, "SIGHUP") else {})
"""How a command says which of QUIT_SIGNALS ended it, as a shell says it (no SIGHUP on Windows)."""


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
