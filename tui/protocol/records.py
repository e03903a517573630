"""The capture file's record: one envelope as one line of strict JSON (see tui.session.capture).

Shared by everything that writes frames in that shape: the capture file, `send --json`, the
event log's exports. Standard library only.
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

from . import strict_json
from .codec import parse
from .envelope import DIR_IN, DIR_LOCAL, DIR_OUT, Direction, Envelope


def record_header(seq: int, direction: Direction, t: float, wall: float, etype: str, size: int) -> dict[str, Any]:
    """The fields every record starts with, in the capture's order (`t`: seconds since its start)."""
    return {"seq": seq, "dir": direction.value, "t": round(t, 6), "wall": round(wall, 6), "type": etype, "size": size}


def envelope_record(env: Envelope, t0: float, *, parsed: bool = False) -> dict[str, Any]:
    """The JSON-lines record of one envelope (the capture's shape: see the module docstring).

    With `parsed`, a frame that parsed carries its parsed object under `frame` instead of `raw`
    (what `rt-tui send --json` prints, for tools like jq).
    """
    record = record_header(env.seq, env.direction, env.mono - t0, env.wall, env.type, env.size)
    # Facts rt-tui attached (local facts, frames that did not parse) go under `info`; a frame's
    # data is its raw text parsed, so it is not written twice.
    own_data = env.direction is DIR_LOCAL or env.type.startswith("rt.")
    if env.binary is not None:
        record["raw_b64"] = base64.b64encode(env.binary).decode("ascii")
    elif parsed and not own_data:
        record["frame"] = env.data
    elif env.direction is not DIR_LOCAL:
        record["raw"] = env.raw
    if own_data and env.data:
        record["info"] = env.data
    return record


def unparsed_bytes(direction: Direction, event_type: str, raw: str | None, binary: bytes | None) -> dict[str, str]:
    """What a frame that did not parse held, for a `--json` line beside rt-tui's note under `frame`:
    `raw` (its text) or `raw_b64` (a binary frame's bytes), as the capture keeps them; nothing for
    any other frame. `proxy --json` and `replay --json` printed the note alone, and a jq user never
    saw the bytes the capture and the detail view show."""
    if direction is DIR_LOCAL or event_type != "rt.malformed":
        return {}
    if binary is not None:
        return {"raw_b64": base64.b64encode(binary).decode("ascii")}
    return {"raw": raw} if raw is not None else {}


_quote = json.encoder.encode_basestring  # C: a str as a JSON string literal

UNIX_TIME_FLOOR = 1e9
"""The least `wall` taken for a Unix time (2001-09-09): a recording without times gets its lines'
order for a clock, numbers far below it (shown as a time of day, 0.001 read as midnight)."""

NO_TIME = 0.0
"""The `wall` of a log's line that gave no time: its place in the replay's clock is only its line's
order, a millisecond after the line before, which no view or output shows as measured."""


def has_time(wall: float) -> bool:
    """Whether a frame with this `wall` has a time of its own (see `NO_TIME`)."""
    return wall != NO_TIME


TIME_LIMIT = 1e11
"""Seconds no time in a recording reaches (3170 years; as a Unix time, the year 5138). A larger one,
or one not finite, is damage: the views' clocks (minutes and seconds, a time of day) cannot show it."""
INT64_LIMIT = 1 << 63
"""A capture's `seq` and `size` must lie within ±INT64_LIMIT: the replay's and the journal's columns
hold them as 64-bit integers, and one past that (never written: damage) raised OverflowError."""
FRAME_KEY = ',"frame":'
"""Where an embedded frame begins in a capture line (the last key: the frame runs to the final `}`)."""


#: The start of an embedded-frame line for each wire direction, up to the type's value (a `%`
#: template: seq, t, wall). Times are fixed six decimals: the same numbers as round(x, 6) (both
#: correctly rounded), at a third of the cost of the shortest repr of a rounded float.
_LINE_HEAD = {
    direction: '{"seq":%d,"dir":"' + direction.value + '","t":%.6f,"wall":%.6f,"type":'
    for direction in (Direction.IN, Direction.OUT)
}

WIRE_WHEN = b'"t":%.6f,"wall":%.6f,'
"""A received frame's times in its line (t, wall): formatted once for the frames that share them
(the frames of one read from the socket: see `tui.session.wire.Stamp`)."""

WIRE_HEAD_IN = ('{"seq":%d,"dir":"' + Direction.IN.value + '",%s"type":%s,"size":%d' + FRAME_KEY).encode()
"""The start of a received frame's line as bytes, through the `frame` key (seq, `WIRE_WHEN`
formatted, the quoted type in bytes, size): the same bytes as `_LINE_HEAD`'s."""

QUOTED_TYPE_BYTES: dict[str, bytes] = {}
"""Event types as JSON string literals in UTF-8 (bounded like `_QUOTED_TYPES`), filled by
`wire_line_head`: a type found here is one it has embedded (never an `rt.*` type), which is what
the capture's hot path needs to know (`CaptureWriter.write`)."""

WIRE_LINE_END = b"}\n"
"""What follows the wire bytes after `wire_line_head`: the record's end."""

_QUOTED_TYPES: dict[str, str] = {}
"""Event types as JSON string literals, quoted once each (bounded: a server may invent types)."""
_QUOTED_TYPES_MAX = 1024


def capture_line(env: Envelope, t0: float) -> bytes:
    """One capture line, UTF-8, newline included.

    A text frame that parsed is valid JSON: it is embedded as it came, with no escaping (one copy of
    its text), unless it would not be strict one-line JSON (NaN, Infinity, line breaks between
    tokens) or holds a lone surrogate (text rt-tui sent): those take the general path, `raw`.
    This runs for every frame on the loop's thread, so it is written for speed.
    """
    raw = env.raw
    head = _LINE_HEAD.get(env.direction)  # None for local facts
    data = env.data  # parsed from (or serialized to) `raw`: valid JSON text, when not empty
    etype = env.type
    if (
        head is not None
        and data
        and env.binary is None
        and not etype.startswith("rt.")
        and "\n" not in raw
        and "\r" not in raw
        and all_finite(data)  # NaN/Infinity: not strict JSON (found by values, not by bytes)
    ):
        quoted = _QUOTED_TYPES.get(etype)
        if quoted is None:
            quoted = _quote(etype)
            if len(_QUOTED_TYPES) < _QUOTED_TYPES_MAX:
                _QUOTED_TYPES[etype] = quoted
        line = f'{head % (env.seq, env.mono - t0, env.wall)}{quoted},"size":{env.size}{FRAME_KEY}{raw}}}\n'
        try:
            return line.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate in text rt-tui sent: the general path escapes it
    return strict_json.dumps_bytes(envelope_record(env, t0)) + b"\n"


def wire_line_head(env: Envelope, t0: float, wire: bytes | bytearray) -> bytes | None:
    """The capture line of a received frame, up to where its wire bytes go (they follow it as
    they are, then `WIRE_LINE_END`: the same line `capture_line` builds), or None when they
    cannot be embedded: the frame spans lines, or is not one rt-tui parsed.

    `wire` must be the frame's exact bytes, whose text is `env.raw`, and must have parsed without
    NaN/Infinity (`tui.protocol.parse_frame` says so for free). Writing them as they came spares
    the encode that `capture_line` does: a copy of the whole frame, on the loop's thread.
    """
    raw = env.raw  # the text of `wire`: a str's memchr is twice as fast as a bytearray's
    etype = env.type
    if env.direction is not DIR_IN or not env.data or "\n" in raw or "\r" in raw or etype.startswith("rt."):
        return None
    quoted = QUOTED_TYPE_BYTES.get(etype)
    if quoted is None:
        try:
            quoted = _quote(etype).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (never in a type parsed from UTF-8): general path
            return None
        if len(QUOTED_TYPE_BYTES) < _QUOTED_TYPES_MAX:
            QUOTED_TYPE_BYTES[etype] = quoted
    return WIRE_HEAD_IN % (env.seq, WIRE_WHEN % (env.mono - t0, env.wall), quoted, env.size)


def all_finite(data: dict[str, Any]) -> bool:
    """No NaN or Infinity anywhere in a parsed frame: a walk over its values, not its text (an
    audio delta is seven values, but six kilobytes of base64 in which "NaN" is a common sight)."""
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        for value in node.values() if isinstance(node, dict) else node:
            kind = type(value)
            if kind is str or kind is int:  # most values: settled by two identity tests
                continue
            if kind is float:
                if value - value != 0.0:  # NaN and ±Infinity, without a function call
                    return False
            elif kind is dict or kind is list or isinstance(value, dict | list):
                stack.append(value)
    return True


_BOM = b"\xef\xbb\xbf"


def line_seq(line: bytes | bytearray) -> int | None:
    """The `seq` of a capture line without parsing it (every record begins `{"seq":N,`), or None.
    A first line may follow a byte-order mark (an editor's save), which the reader skips too."""
    if line.startswith(_BOM):
        line = line[len(_BOM) :]
    if not line.startswith(b'{"seq":'):
        return None
    try:
        return int(line[7 : line.find(b",", 7)])
    except ValueError:
        return None


def embedded_frame(line: bytes | str) -> str | None:
    """The exact text of a line's embedded `frame` (its last key), or None when it has none."""
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    start = text.find(FRAME_KEY)
    if start < 0:
        return None
    end = text.rstrip().rfind("}")
    return text[start + len(FRAME_KEY) : end] if end > start else None


def record_beside_frame(line: bytes | str) -> Any:
    """A capture line's record read without its embedded frame (`{}` in its place), for a line json
    cannot read whole because of that frame: nested past json's own limit (about 1,000 levels), an
    integer past Python's digit limit. What a server may send is judged by `parse` (a frame it
    refuses is `rt.malformed`), not by json.loads of the line around it. None when the line has no
    embedded frame or the record is still not JSON without it (the record itself is damaged)."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        return None
    start = text.find(FRAME_KEY)
    end = text.rstrip().rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(text[: start + len(FRAME_KEY)] + "{}" + text[end:])
    except (ValueError, RecursionError):
        return None


_INTEGER = rb"-?(?:0|[1-9][0-9]*)"
_NUMBER = _INTEGER + rb"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_HEADER = re.compile(
    rb'\{"seq":(' + _INTEGER + rb'),"dir":"(in|out)","t":(' + _NUMBER + rb'),"wall":(' + _NUMBER + rb")"
    rb',"type":"([^"\\\x00-\x1f]*)","size":(' + _INTEGER + rb")" + FRAME_KEY.encode()
)
"""The fields before an embedded frame as `capture_line` writes them, and no
others, in JSON's own syntax (a type with an escape, a key more or a blank: the long way). Matched
rather than parsed: json.loads of the header cost more than a whole audio frame's parse."""

_WAYS = {DIR_IN.value.encode(): DIR_IN, DIR_OUT.value.encode(): DIR_OUT}
"""The directions a frame can have (a local fact's data is its `info`, never a frame: the long way)."""


def embedded_frame_start(line: bytes) -> int | None:
    """Where a well-formed embedded-frame line's frame begins (after its header, as `capture_line`
    writes it), or None for any other line: the frame `embedded_envelope` reads is the line's bytes
    from there to its closing brace, exactly."""
    header = _HEADER.match(line)
    return header.end() if header is not None else None


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
    if not (abs(mono) < TIME_LIMIT and math.isfinite(when)):
        return None  # a `t` past TIME_LIMIT, which the reader refuses; a `wall` past a float's range
    try:
        number, wire_size, name = int(seq), int(size), etype.decode("utf-8")
        if not (-INT64_LIMIT < number < INT64_LIMIT and wire_size < INT64_LIMIT):
            return None  # past the columns' 64 bits: the reader refuses it, naming the line
        # Decoded straight from the line (one copy of the frame's text, not a line's then a slice's).
        raw = str(memoryview(line)[header.end() : end], "utf-8")
        data = parse(raw)
    except (ValueError, RecursionError):  # FrameError, UnicodeDecodeError, int()'s digit limit
        return None
    return Envelope(number, _WAYS[direction], name, data, raw, mono, when, None, wire_size)


__all__ = [
    "FRAME_KEY",
    "INT64_LIMIT",
    "capture_line",
    "embedded_envelope",
    "embedded_frame",
    "envelope_record",
    "line_seq",
    "record_beside_frame",
]
