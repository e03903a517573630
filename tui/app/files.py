"""Where the app writes what the user asks it to keep: copies, saved frames, exports, screenshots.

Everything goes into the session's own folder (next to its capture file), or, before any session,
into rt-tui's data folder; both are created private (0700) and files are 0600, like the capture.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from tui.session import data_dir

PRIVATE_FILE = 0o600


def output_folder(session_folder: Path | None) -> Path:
    """The folder for user-requested files: the session's, else `<data dir>/saved`."""
    folder = session_folder if session_folder is not None else data_dir() / "saved"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def safe_name(name: str) -> str:
    """A file name from a frame type or a title: no separators, no surprises."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120] or "file"


def write_private(folder: Path, name: str, text: str) -> Path:
    """Write `text` to `folder/name` (0600), never overwriting: a clash gets a time suffix."""
    path = folder / safe_name(name)
    if path.exists():
        stem, dot, suffix = path.name.partition(".")
        path = folder / f"{stem}-{time.strftime('%H%M%S')}-{os.getpid() % 1000}{dot}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return path
