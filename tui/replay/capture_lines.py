"""A capture's lines read into envelopes with each frame parsed once.

`tui.session.capture` reads a line by parsing the whole record (the frame inside it included) and
then parsing the frame's text once more, for its data: every frame of a recording parsed twice
before it plays (an hour's capture: twice 395 MB of JSON). A line whose frame is embedded (what the
capture writes for every frame that parsed: see `tui.protocol.records.capture_line`) is a small
header, `,"frame":`, the frame's exact text and the record's closing brace; here the header and the
frame are parsed apart, each once. Any other line (a `raw`, `raw_b64` or `info` record, a damaged
or cut line, anything unusual) goes to the capture's own reader, so the envelopes and the errors
are the same as `iter_capture_lines` gives, line for line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tui.protocol import DIR_IN, DIR_OUT, Envelope, parse
from tui.protocol.records import FRAME_KEY

_INTEGER = rb"-?(?:0|[1-9][0-9]*)"
_NUMBER = _INTEGER + rb"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_HEADER = re.compile(
    rb'\{"seq":(' + _INTEGER + rb'),"dir":"(in|out)","t":(' + _NUMBER + rb'),"wall":(' + _NUMBER + rb")"
    rb',"type":"([^"\\\x00-\x1f]*)","size":(' + _INTEGER + rb")" + FRAME_KEY.encode()
)
"""The fields before an embedded frame as the capture writes them (`tui.protocol.records`), and no
others, in JSON's own syntax (a type with an escape, a key more or a blank: the long way). Matched
rather than parsed: json.loads of the header cost more than a whole audio frame's parse."""

_WAYS = {DIR_IN.value.encode(): DIR_IN, DIR_OUT.value.encode(): DIR_OUT}
"""The directions a frame can have (a local fact's data is its `info`, never a frame: the long way)."""


def iter_capture_lines(
    lines: Iterable[bytes], path: Path, *, on_cut_line: Callable[[str], None] | None = None
) -> Iterator[Envelope]:
    """`tui.session.capture.iter_capture_lines`, with each embedded frame parsed once."""
    from tui.session.capture import CaptureError, _envelope, _whole_before

    number = 0
    for number, line in enumerate(lines, start=1):
        envelope = embedded_envelope(line)
        if envelope is None:
            try:
                envelope = _envelope(line, number, path)
            except CaptureError:
                # The capture's own rule for a last line cut short (see its iter_capture_lines).
                if on_cut_line is None or line.endswith(b"\n") or number == 1:
                    raise
                on_cut_line(
                    f"{path}: line {number} is cut short: the file ends inside it (the writer was stopped "
                    f"mid-line); {_whole_before(number)} read, up to line {number - 1}"
                )
                return
        yield envelope
    if number == 0:
        raise CaptureError(f"{path}: empty file, not an rt-tui capture")


def embedded_envelope(line: bytes) -> Envelope | None:
    """The envelope of a well-formed embedded-frame line, its header and frame each parsed once; None
    for any line the capture's reader must judge (its envelope, or its error, is that reader's).

    What it returns is what that reader returns for the line: the line is the header's object with
    the frame as its last member, so it is valid JSON exactly when both parts are, and the reader
    takes the same fields from it and the frame's data from the same text with the same `parse`.
    """
    if line.endswith(b"}\n"):
        end = -2
    elif line.endswith(b"}"):
        end = -1  # a last line without its newline, whole (a cut one fails to parse below)
    else:
        return None
    header = _HEADER.match(line)
    if header is None:
        return None
    seq, direction, t, wall, etype, size = header.groups()
    mono, when = float(t), float(wall)  # a JSON integer too: the reader's float() of json's int
    if not (math.isfinite(mono) and math.isfinite(when)):
        return None  # an integer past a float's range, which the reader's float() refuses
    try:
        number, wire_size, name = int(seq), int(size), etype.decode("utf-8")
        # Decoded straight from the line (one copy of the frame's text, not a line's then a slice's).
        raw = str(memoryview(line)[header.end() : end], "utf-8")
        data = parse(raw)
    except (ValueError, RecursionError):  # FrameError, UnicodeDecodeError, int()'s digit limit
        return None
    return Envelope(number, _WAYS[direction], name, data, raw, mono, when, None, wire_size)


__all__ = ["embedded_envelope", "iter_capture_lines"]
