"""Parsing and serializing Realtime frames. Pure functions: no sockets, no loop.

`parse` runs for every frame (50+ audio deltas a second), so its guards are cheap checks of the raw
text (a `memchr` for a backslash or a bracket) that send the rare suspicious frame down a slower path;
a plain frame costs one `json.loads` and a few hundred nanoseconds more.

What a successful parse promises, whatever the server sent:

- a dict with a str `type`;
- nesting of at most :data:`MAX_DEPTH` containers, so code that walks a frame recursively (display
  redaction, secret scrubbing, the capture encoder) never meets a `RecursionError`;
- every string (keys too) encodable as UTF-8: a JSON escape of a lone surrogate (`"\\ud800"`) becomes
  U+FFFD, the replacement character, so the rest of the frame is kept and can be shown and written;
- numbers as JSON allows and Python reads them: `NaN`, `Infinity` and overflowing literals
  (`1e999`) are accepted as non-finite floats (`serialize` writes them back as `NaN`/`Infinity`; the
  capture file marks them for strict JSON).

Everything else is a :class:`FrameError` with a one-line reason: binary frames, text that is not
JSON, nesting past the limit, integers longer than Python converts (4,300 digits), and text holding a
lone surrogate character itself (a str that cannot have come from a UTF-8 text frame).
"""

from __future__ import annotations

import json
import re
import secrets
import string
import sys
from typing import Any

MAX_DEPTH = 128
"""Deepest nesting a frame may have (the top-level object is depth 1). Real frames stay under 20
(a session with JSON-schema tools); recursive walkers use about two Python frames per level."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_REPLACEMENT = "\ufffd"


class FrameError(ValueError):
    """A frame that is not a JSON object with a string `type` (the message is one line)."""


_non_finite_tokens = 0
"""How many `NaN`/`Infinity`/`-Infinity` tokens the parser has met, ever (see `parse_frame`)."""


def _non_finite(token: str) -> float:
    """The parser's hook for the three words JSON lacks: counted, then read as Python reads them."""
    global _non_finite_tokens  # noqa: PLW0603 - a counter the hook can only reach this way
    _non_finite_tokens += 1
    return float(token)


_DECODER = json.JSONDecoder(parse_constant=_non_finite)
"""`json.loads`'s own decoder (the C scanner), with the hook: free for a frame without those words."""


def parse_frame(raw: str | bytes) -> tuple[dict[str, Any], bool]:
    """`parse`, and whether the text is strict JSON as it stands: False when it holds `NaN`,
    `Infinity` or `-Infinity` (which Python reads and jq refuses). Known from the parse itself, so
    a writer of strict JSON need not walk the frame's values to find out."""
    before = _non_finite_tokens
    data = parse(raw)
    return data, _non_finite_tokens == before


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape of a surrogate (one half of a pair, or a lone one `parse` replaced with U+FFFD)."""


def exact_data(data: dict[str, Any], raw: str | None) -> dict[str, Any]:
    """`data` as the frame's text `raw` holds it, lone surrogates and all, where `parse` put U+FFFD
    for them (for a JSON line, which writes them back as escapes: `strict_json.dumps_line`); `data`
    itself for every other frame (the test is a `memchr` for a backslash, then a search for the
    escape). A frame that parsed holds no deeper nesting than `parse` allows, so this parse is safe."""
    if not raw or "\\" not in raw or not _SURROGATE_ESCAPE.search(raw):
        return data
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return data
    return value if isinstance(value, dict) else data


def json_type_name(value: object) -> str:
    """What JSON calls `value`'s type (`null`, `array`, `number`…): messages say what a frame held in
    the protocol's words, not Python's (`NoneType`, `list`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def parse(raw: str | bytes) -> dict[str, Any]:
    """Parse one text frame into its JSON object, with the guarantees of this module's docstring.

    Raises FrameError, and only FrameError, with a one-line reason for any frame it cannot return.
    """
    if not isinstance(raw, str):
        if isinstance(raw, bytes | bytearray | memoryview):
            raise FrameError(f"binary frame of {len(raw)} bytes (the Realtime API sends text frames only)")
        raise FrameError(f"frame of type {type(raw).__name__}, expected text")
    if not raw.isascii() and _LONE_SURROGATE.search(raw):
        raise FrameError("text holds a lone surrogate character (not valid Unicode)")
    try:
        data = _DECODER.decode(raw)
    except json.JSONDecodeError as exc:
        reason = exc.msg.removesuffix(" at")  # json's "Unterminated string starting at" (the place follows)
        raise FrameError(f"not JSON: {reason} at column {exc.colno}") from None
    except RecursionError:
        raise FrameError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        # json hands integer literals to int(), which refuses more digits than this limit.
        raise FrameError(
            f"not JSON rt-tui can read: an integer of over {sys.get_int_max_str_digits()} digits"
        ) from None
    if not isinstance(data, dict):
        raise FrameError(f"JSON {json_type_name(data)}, expected an object")
    escapes = "\\" in raw and _SURROGATE_ESCAPE.search(raw) is not None
    if escapes or _may_be_deep(raw):
        _check_and_repair(data, replace_surrogates=escapes)
    if not isinstance(data.get("type"), str):
        raise FrameError("JSON object without a string 'type' field")
    return data


def checked(value: Any, raw: str | None = None, *, max_depth: int | None = MAX_DEPTH) -> Any:
    """`value`, parsed by another reader (`json.loads` of a log's line, a HAR, a capture record), held
    to `parse`'s promises: each lone surrogate (keys too) becomes U+FFFD, and past `max_depth`
    (None: no limit) it raises FrameError. Changed in place, and returned (a str is returned cleaned).

    Given the JSON text `raw` it was parsed from, a value that cannot hold either (no surrogate
    escape, too few brackets: nearly every frame) is returned at once, as `parse` does.
    """
    if isinstance(value, str):
        return _clean(value)
    if not isinstance(value, dict | list):
        return value
    escapes = raw is None or ("\\" in raw and _SURROGATE_ESCAPE.search(raw) is not None)
    if escapes or max_depth is not None and (raw is None or _may_be_deep(raw)):
        _check_and_repair(value, replace_surrogates=escapes, max_depth=max_depth)
    return value


def _may_be_deep(raw: str) -> bool:
    """False when the text cannot nest past MAX_DEPTH; True sends the frame to the exact check.

    Nesting needs an opening bracket per level: a short frame cannot have enough, and most long
    frames (audio deltas) have no bracket after the first, which two `memchr` scans find at once.
    """
    if len(raw) <= 2 * MAX_DEPTH:
        return False
    if "[" not in raw and raw.find("{", raw.find("{") + 1) < 0:
        return False
    return raw.count("[") + raw.count("{") > MAX_DEPTH


def _check_and_repair(
    root: dict[str, Any] | list[Any], *, replace_surrogates: bool, max_depth: int | None = MAX_DEPTH
) -> None:
    """Raise FrameError past `max_depth` (None: never); with `replace_surrogates`, put U+FFFD for each
    lone surrogate.

    Iterative, so a document just under the parser's own recursion limit cannot overflow here. json
    has already joined escaped surrogate pairs, so any surrogate left in a string is a lone one.
    """
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            raise FrameError(f"JSON nested deeper than {max_depth} levels")
        children: Any
        if isinstance(node, dict):
            if replace_surrogates:
                pairs = [
                    (_clean(key), _clean(value) if isinstance(value, str) else value) for key, value in node.items()
                ]
                node.clear()
                node.update(pairs)
            children = node.values()
        else:
            if replace_surrogates:
                node[:] = [_clean(value) if isinstance(value, str) else value for value in node]
            children = node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _clean(value: str) -> str:
    return value if value.isascii() else _LONE_SURROGATE.sub(_REPLACEMENT, value)


_MARKERS: dict[str, str] = {}
"""`string_span`'s marker of each key asked for (its callers name a few constant keys)."""


def string_span(raw: str, key: str) -> tuple[int, int] | None:
    """Where the string value of the first `"key":"…"` in a frame's wire text lies (start, end), found
    without parsing it (an id, an audio field's length). Escaped quotes are not followed: for the
    values read this way (ids, base64) there are none."""
    quoted = _MARKERS.get(key)
    if quoted is None:
        quoted = _MARKERS[key] = f'"{key}"'  # a handful of keys (ids, audio fields), each made once
    # The key's name, then a colon and a string with or without blanks between (compact JSON, or
    # Python's `json.dumps` by default): one pass over the text for a key it does not hold.
    at = raw.find(quoted)
    size = len(raw)
    while at >= 0:
        i = at + len(quoted)
        while i < size and raw[i] in _JSON_SPACE:
            i += 1
        if i < size and raw[i] == ":":
            i += 1
            while i < size and raw[i] in _JSON_SPACE:
                i += 1
            if i < size and raw[i] == '"':
                end = raw.find('"', i + 1)
                return (i + 1, end) if end >= 0 else None
        at = raw.find(quoted, at + 1)
    return None


_JSON_SPACE = frozenset(" \t\r\n")


def serialize(event: dict[str, Any]) -> str:
    """Serialize an event compactly, as the official clients do. A lone surrogate (`"\\ud800"`
    typed in a hand-written event) cannot be UTF-8: such an event is written with every non-ASCII
    character escaped, as the JSON it was typed as (written raw, the socket's encode failed and
    the session dropped)."""
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(event, separators=(",", ":"), ensure_ascii=True)
    return text


_BASE62 = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    """A random id shaped like the service's: `prefix` + `length` base62 characters."""
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(length))


def client_event_id() -> str:
    """An id for a client event, so the server can echo it in an `error`."""
    return new_id("evt_", 16)


def json_reason(exc: json.JSONDecodeError) -> str:
    """Why one line is not JSON, in a message that names the line already: json's reason, and
    where it says "at", the column (`Invalid control character at column 57`, `Unterminated
    string starting at column 40`; `Expecting ',' delimiter` as is). `exc.msg` alone left those
    on a dangling "at"; `str(exc)` adds "line 1", the line's own count, beside the file's."""
    return f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else exc.msg
