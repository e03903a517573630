"""Exporting frames as JSONL, and reading dropped payloads back from the capture file.

An export has the capture file's shape, line for line as the capture writes them (see
tui.protocol.records), so `rt-tui replay` opens it like a capture. With audio left out, a frame's
audio fields are replaced by a size tag, and the record says so (`"elided": "audio"`): its `frame`
is then no longer the wire text. Frames are already scrubbed of the API key when they reach the journal.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from tui.protocol import DIR_LOCAL, Envelope, strict_json
from tui.protocol.events import AUDIO_FIELDS
from tui.protocol.records import capture_line, embedded_frame, line_seq, record_header
from tui.protocol.redact import redact

from .facts import audio_rates_at
from .store import Frame, Journal

PRIVATE_FILE = 0o600


class ExportError(ValueError):
    """An export that cannot be written as asked (one line)."""


def export_jsonl(journal: Journal, indices: Iterable[int], path: Path, *, keep_audio: bool = True) -> int:
    """Write the frames at `indices` to `path` (created 0600, never overwritten); returns how many.

    Payloads the journal dropped from memory are read back from its capture file in one pass (a
    replay's from the capture it plays, or none: a HAR's, a pipe's are all kept).
    """
    chosen = list(indices)
    missing = {journal[i].seq for i in chosen if journal[i].payload_dropped}
    recovered: dict[int, str] = {}
    if missing:
        if journal.capture_path is None:
            raise ExportError(f"{len(missing)} frames left memory and there is no capture file to read them from")
        recovered = read_back(journal, missing)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        return _write_lines(journal, chosen, recovered, fd, keep_audio=keep_audio)
    except BaseException:
        with contextlib.suppress(OSError):  # half an export (a full disk) would pass for a whole one
            path.unlink()
        raise


def _write_lines(journal: Journal, chosen: list[int], recovered: dict[int, str], fd: int, *, keep_audio: bool) -> int:
    """`export_jsonl`'s writing, to the open file `fd` (closed on return)."""
    starts: dict[int, float] = {}
    written = 0
    latest = (-math.inf, -math.inf)
    with os.fdopen(fd, "wb") as file:
        for index in chosen:
            frame = journal[index]
            t0 = starts.get(frame.epoch)
            if t0 is None:
                t0 = starts[frame.epoch] = capture_clock_start(journal, frame.epoch)
            # A line's times never go back, as in the capture: a frame read from the socket before
            # a fact noted since keeps its arrival in the journal, and written with it the file's
            # `t` would go back, which replay reads as two captures joined.
            when = latest if frame.mono < latest[0] else (frame.mono, frame.wall)
            latest = when
            line = frame_line(journal, frame, t0, recovered.get(frame.seq), keep_audio=keep_audio, when=when)
            file.write(line)
            written += 1
    return written


def capture_clock_start(journal: Journal, epoch: int) -> float:
    """The time `t` counts from for the frames of connection `epoch`, as its capture file counts
    it: from the capture's first frame. Each connection has a capture of its own (ctrl+r, each
    file of a replay of several): its capture fact, right before its connecting fact, or the
    connecting fact itself; the first connection's from the journal's first frame. A filtered
    export's first frame keeps the time the capture shows for it, not 0, and a replay of several
    files, played on one clock (the time between them cut), writes each file's own times, as
    `replay --json` prints them."""
    if not len(journal):
        return 0.0
    if epoch <= 1 or epoch >= len(journal.epoch_starts) or journal.epoch_starts[epoch] >= len(journal):
        return journal[0].mono
    start = journal.epoch_starts[epoch]
    before = journal[start - 1] if start > 0 else None
    if before is not None and before.type == "rt.capture" and before.epoch == epoch:
        return before.mono
    return journal[start].mono


def frame_line(
    journal: Journal,
    frame: Frame,
    t0: float,
    recovered: str | None = None,
    *,
    keep_audio: bool,
    when: tuple[float, float] | None = None,
) -> bytes:
    """One frame as a capture line: a frame whole is written exactly as the capture writes it.
    `when`: the (monotonic, Unix) times to write, the frame's own by default."""
    raw = frame.raw if frame.raw is not None else recovered
    whole = frame.direction is not DIR_LOCAL and not frame.type.startswith("rt.") and frame.binary is None
    tagged = None if keep_audio or raw is None else _audio_tagged(journal, frame, raw)
    mono, wall = when if when is not None else (frame.mono, frame.wall)
    if whole and raw is not None and tagged is None:
        # Not journal.data(): exports run in a worker thread, and its re-parse cache is the UI's.
        data = frame.data if frame.data is not None else _parsed(raw)
        env = Envelope(frame.seq, frame.direction, frame.type, data, raw, mono, wall, wire_size=frame.size)
        return capture_line(env, t0)
    record = frame_record(journal, frame, t0, recovered, keep_audio=keep_audio, tagged=tagged, when=(mono, wall))
    return strict_json.dumps_bytes(record) + b"\n"


class _Unmade:
    """`frame_record`'s `tagged` when the caller has not tagged the frame's audio."""


UNMADE = _Unmade()


def frame_record(
    journal: Journal,
    frame: Frame,
    t0: float,
    recovered: str | None = None,
    *,
    keep_audio: bool = True,
    tagged: dict[str, Any] | None | _Unmade = UNMADE,
    when: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One frame as a capture-shaped record (its frame, when present, the last key). `tagged`: what
    `_audio_tagged` made of the frame, when the caller made it already (`UNMADE`: not made); `when`:
    the (monotonic, Unix) times to write, the frame's own by default."""
    mono, wall = when if when is not None else (frame.mono, frame.wall)
    record = record_header(frame.seq, frame.direction, mono - t0, wall, frame.type, frame.size)
    local = frame.direction is DIR_LOCAL or frame.type.startswith("rt.")
    embedded: dict[str, Any] | None = None
    if frame.binary is not None:
        record["raw_b64"] = base64.b64encode(frame.binary).decode("ascii")
    elif frame.direction is not DIR_LOCAL:
        raw = frame.raw if frame.raw is not None else recovered
        made = None
        if raw is not None and not keep_audio:
            made = _audio_tagged(journal, frame, raw) if isinstance(tagged, _Unmade) else tagged
        if raw is None:
            record["elided"] = "payload"  # neither in memory nor in the capture file
        elif made is None:
            record["raw"] = raw
        else:
            record["elided"] = "audio"
            embedded = made
    # After the payload, as the capture writes a frame that did not parse (`raw`, then `info`);
    # an embedded frame stays the last key.
    if local and frame.data:
        record["info"] = frame.data
    if embedded is not None:
        record["frame"] = embedded
    return record


def _audio_tagged(journal: Journal, frame: Frame, raw: str) -> dict[str, Any] | None:
    """The frame with its audio payloads as size tags (their lengths in `rates`, the session's
    formats when the frame passed, so a G.711 tag says so), or None when it carries none (a session's
    `"audio": {…}` configuration is no payload: such a frame is written whole, as it came). A text
    that is no JSON object (a malformed frame) cannot be tagged: it is left out whole (`{}`)."""
    if frame.type not in AUDIO_FIELDS and '"audio"' not in raw:
        return None  # most frames: settled without a parse or a look at the session's formats
    parsed = _parsed(raw)
    if not parsed:
        return {}
    # The display's redaction with no string cut: the same tags, everything else as it came.
    tagged = redact(parsed, max_string=sys.maxsize, rates=audio_rates_at(journal, frame.index))
    return tagged if tagged != parsed else None


def _parsed(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


SEEK_AT_MOST = 64
"""Frames looked up by bisection (a detail view's run); more (an export's) are read in one pass."""


def read_back(journal: Journal, seqs: set[int]) -> dict[int, str]:
    """The wire text of the journal's frames with sequence numbers `seqs`, read back from its capture
    file (`recover_payloads`) and scrubbed as the journal asks (`Journal.scrub_read_back`: a
    replay's secrets); empty without a capture file."""
    if journal.capture_path is None:
        return {}
    found = recover_payloads(Path(journal.capture_path), seqs)
    scrub = journal.scrub_read_back
    return found if scrub is None else {seq: scrub(raw) for seq, raw in found.items()}


def recover_payloads(capture: Path, seqs: set[int]) -> dict[int, str]:
    """The wire text of the frames with sequence numbers `seqs`, read from a capture file.

    A few are found by bisection over the file (its lines are in `seq` order), each in a few dozen
    reads: one pass per frame from the file's start took 0.5 s at an hour's capture, and a detail
    view of a 69-frame run 28 s, the UI frozen. Many, or any bisection misses (a file out of
    order), are read in one pass; only lines whose `seq` is wanted are parsed.
    """
    found: dict[int, str] = {}
    if not seqs:
        return found
    try:
        file = capture.open("rb")
    except OSError:
        return found
    with file:
        if len(seqs) <= SEEK_AT_MOST:
            size = os.fstat(file.fileno()).st_size
            for wanted in seqs:
                line = _bisect_line(file, size, wanted)
                raw = _line_raw(line) if line is not None else None
                if raw is not None:
                    found[wanted] = raw
            if len(found) == len(seqs):
                return found
            file.seek(0)
        for line in file:
            seq = line_seq(line)
            if seq is None or seq not in seqs or seq in found:
                continue
            raw = _line_raw(line)
            if raw is not None:
                found[seq] = raw
                if len(found) == len(seqs):
                    break
    return found


def _line_raw(line: bytes) -> str | None:
    """A capture line's wire text: its embedded `frame` as the line holds it, or its `raw`."""
    raw = embedded_frame(line)
    if raw is not None:
        return raw
    try:
        record = json.loads(line)
    except ValueError:
        return None
    value = record.get("raw") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def _bisect_line(file: BinaryIO, size: int, seq: int) -> bytes | None:
    """The line of `seq` in a capture file of `size` bytes whose lines are in `seq` order, or None."""
    low, high = 0, size
    while low < high:
        middle = (low + high) // 2
        start, line = _line_from(file, middle)
        if not line:
            high = middle
            continue
        found = line_seq(line)
        if found is None:
            return None  # not a capture line: the caller reads the file through
        if found < seq:
            low = start + len(line)
        elif found > seq:
            high = middle  # no line starts between `middle` and `start`: it is before both
        else:
            return line
    return None


def _line_from(file: BinaryIO, offset: int) -> tuple[int, bytes]:
    """The first line that starts at or after `offset`, and where it starts."""
    if offset == 0:
        file.seek(0)
    else:
        file.seek(offset - 1)
        file.readline()  # the rest of the line `offset` falls in (just its newline, at a line's start)
    start = file.tell()
    return start, file.readline()
