"""`python -m tui` and the `rt-tui` console script."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # Textual paints a changed screen at most TEXTUAL_FPS times a second (60 unless set), so a key's
    # effect waits up to a period for its paint; 120 halves that wait. The streaming views keep their
    # own cap (tui.app.app.VIEWS_MIN_INTERVAL), so this adds no repaints under load. Set before
    # Textual is imported, which reads it once; a user's own setting wins.
    os.environ.setdefault("TEXTUAL_FPS", "120")
    from tui.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
