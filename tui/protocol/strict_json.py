"""Strict JSON for everything rt-tui writes for people or tools (capture records, `send --json`).

Python's `json` writes a non-finite float as the bare word `NaN` or `Infinity`, which is not JSON:
jq, browsers, Go and Rust reject the whole line. A server can put them in a frame (Python's parser
accepts them), so here a non-finite float becomes a marked string instead:

    NaN        -> "rt-tui:non-finite:NaN"
    Infinity   -> "rt-tui:non-finite:Infinity"
    -Infinity  -> "rt-tui:non-finite:-Infinity"

An integer too long for Python to write as text (over 4,300 digits) becomes
`"rt-tui:big-int:<N> bits"` (its value is not kept). `loads` turns the non-finite markers back
into floats. Output is always encodable as UTF-8: a lone surrogate (`"\\ud800"` in a frame) is
written as its `\\u` escape rather than failing the write.

The common case (nothing to mark) is one pass of the C encoder; the marking walk runs only when
that pass refuses the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MARKER = "rt-tui:non-finite:"
"""Prefix of the string written in place of a non-finite float."""

BIG_INT_MARKER = "rt-tui:big-int:"
"""Prefix of the string written in place of an integer too long to write."""

_NON_FINITE = {f"{MARKER}NaN": math.nan, f"{MARKER}Infinity": math.inf, f"{MARKER}-Infinity": -math.inf}


def dumps(value: Any) -> str:
    """`value` as compact, strict JSON text (non-ASCII kept as is, unless it cannot be UTF-8)."""
    return dumps_bytes(value).decode("utf-8")


def dumps_bytes(value: Any) -> bytes:
    """`value` as compact, strict JSON, encoded as UTF-8 (what a file or a pipe takes)."""
    text = _dumps(value, ensure_ascii=False)
    if text.isascii():  # O(1) in CPython: the string knows its widest character
        return text.encode("ascii")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a `\ud800` escape: only the escaped spelling is valid UTF-8.
        return _dumps(value, ensure_ascii=True).encode("ascii")


_TERMINAL_ACTIVE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What `json` writes as it is, though a terminal acts on it: DEL and the C1 controls (U+009B is
a CSI: it starts an escape sequence on many terminals), the bidirectional controls (U+202E shows the
rest of a line reversed: a line that reads other than its bytes) and the line/paragraph separators;
and a lone surrogate (`"\ud800"` in a frame: half an emoji), which UTF-8 cannot carry: written as
it is, the output's encoder put U+FFFD in its place, and the line no longer held the frame's value."""


def dumps_line(value: Any) -> str:
    """`dumps` for a line that may reach a terminal (`--json` on standard output): the characters
    of `_TERMINAL_ACTIVE` are written as `\\u` escapes, so server text in a frame can neither drive
    the terminal nor reorder what the line shows; a JSON parser reads the very same value."""
    text = dumps(value)
    if text.isascii() and "\x7f" not in text:  # nearly every line: one O(1) test and one memchr
        return text
    return _TERMINAL_ACTIVE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def loads(text: str | bytes) -> Any:
    """Parse JSON written by `dumps`, turning the non-finite markers back into floats."""
    return restore(json.loads(text))


def _dumps(value: Any, *, ensure_ascii: bool) -> str:
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=False, separators=(",", ":"))
    except ValueError:
        # A non-finite float, or an integer too long to write: mark them, then write again.
        return json.dumps(_marked(value), ensure_ascii=ensure_ascii, allow_nan=False, separators=(",", ":"))


def _marked(value: Any) -> Any:
    """A copy of `value` with every non-finite float and over-long integer replaced by a marker."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return f"{MARKER}{'NaN' if math.isnan(value) else ('Infinity' if value > 0 else '-Infinity')}"
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            return f"{BIG_INT_MARKER}{value.bit_length()} bits"
        return value
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(v) for v in value]
    return value


def restore(value: Any) -> Any:
    """A parsed JSON value with the non-finite markers turned back into floats."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value) if value.startswith(MARKER) else value
    if isinstance(value, dict):
        return {k: restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v) for v in value]
    return value
