"""`python -m tui` and the `rt-tui` console script."""

from __future__ import annotations

import errno
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # Textual paints a changed screen at most TEXTUAL_FPS times a second (60 unless set), and its
    # paint timer waits one to two periods after a paint before the next, so a key's effect waits
    # up to 33 ms for its paint at 60; at 240 it waits under 9. The streaming views keep their own
    # cap (tui.app.app.VIEWS_MIN_INTERVAL), so this adds no repaints under load. Set before Textual
    # is imported, which reads it once; a user's own setting wins.
    os.environ.setdefault("TEXTUAL_FPS", "240")
    from tui.cli import run

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        return _reader_went_away()
    except OSError as exc:
        # No command writes a file but to standard output (a capture's own failures are reported
        # where it is written): `> file` on a full disk raised a traceback from every command.
        if exc.errno not in _FULL:
            raise
        return _output_failed(exc)


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A write refused for room: a full disk, a quota, a file size limit."""


def _output_failed(exc: OSError) -> int:
    """Standard output could not be written (`> file` on a full disk): say so in one line, and keep
    the interpreter's last flush, at exit, from failing again with a traceback."""
    from tui.stdout import drop_stdout

    drop_stdout()
    print(
        f"rt-tui: cannot write standard output: {exc.strerror or exc}; what came before it was written", file=sys.stderr
    )
    return 1


def _reader_went_away() -> int:
    """The reader of standard output closed it (`| head`): not a failure to report."""
    from tui.stdout import EXIT_BROKEN_PIPE, drop_stdout

    drop_stdout()
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
