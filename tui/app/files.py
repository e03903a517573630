"""Where the app writes what the user asks it to keep: copies, saved frames, exports, screenshots.

Everything goes into the session's own folder (next to its capture file), or, before any session,
into rt-tui's data folder; both are created private (0700) and files are 0600, like the capture.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from pathlib import Path

from tui.session import data_dir
from tui.session.capture import make_private_dirs

PRIVATE_FILE = 0o600


def output_folder(session_folder: Path | None) -> Path:
    """The folder for user-requested files: the session's, else `<data dir>/saved`."""
    folder = session_folder if session_folder is not None else data_dir() / "saved"
    # Not mkdir(parents=True, mode=0o700): that mode is the last folder's only (and the umask's to
    # cut down), so a missing data folder above it came out 0755; a replay, which opens no session
    # folder, created the data folder that way.
    make_private_dirs(folder)
    return folder


MAX_NAME = 120
"""The longest file name written (an extension is kept whole within it)."""


def safe_name(name: str) -> str:
    """A file name from a frame type or a title: no separators, no surprises (no leading dot, so
    never hidden, `.` or `..`), at most MAX_NAME characters with the extension kept."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")
    stem, ext = split_extension(cleaned)
    return (stem[: MAX_NAME - len(ext)] + ext) or "file"


def split_extension(name: str) -> tuple[str, str]:
    """`("frame-17-response.output_audio_transcript.delta", ".json")`: the extension is what follows
    the last dot, never the first (frame types are dotted); ("name", "") when there is none."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not 1 <= len(ext) <= 10:
        return name, ""
    return stem, dot + ext


def write_private(folder: Path, name: str, text: str) -> Path:
    """Write `text` to `folder/name` (0600), never overwriting: a clash gets a time suffix before the
    extension (`frame-17-response.done-230625-442.json`), and a count after it if that is taken too."""
    first = safe_name(name)
    stem, ext = split_extension(first)
    stamp = _clash_stamp()
    names = itertools.chain((first, f"{stem}-{stamp}{ext}"), (f"{stem}-{stamp}-{n}{ext}" for n in range(2, 1000)))
    for candidate in names:
        path = folder / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            continue  # O_EXCL, not a check before: another save (or process) may take the name meanwhile
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
        except BaseException:
            # A full disk (or a size limit) stopped the write: the part written is not the save the
            # user asked for, and the error says it was not saved, so it must not stay by that name.
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        return path
    raise FileExistsError(f"{folder / first} and 999 other names for it exist already")


def _clash_stamp() -> str:
    """`230625-442`: the time of day and a piece of the pid, telling apart saves of the same name."""
    return f"{time.strftime('%H%M%S')}-{os.getpid() % 1000}"
