"""Valid Unicode in and out: client strings with lone surrogates, and frames that must be UTF-8.

A JSON text may spell a lone UTF-16 surrogate as an escape (`"\\ud800"`). Python's `json`
accepts it and yields a `str` that cannot be encoded as UTF-8, so any frame that later quotes
it (an item echoed in `conversation.item.added`, instructions in `session.updated`, a type name
in an `error`) fails in the socket's encoder. Strict parsers (serde_json, orjson) refuse such
escapes outright, and so does the simulator: the frame is answered with `invalid_json` before
any handler sees it, so the string lands nowhere. The writer still encodes every outgoing frame
through `utf8_frame`, which replaces any surrogate code point with U+FFFD instead of failing,
so no bug elsewhere can ever turn into a connection dropped without a close frame.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_surrogates(raw: str) -> bool:
    """False when the JSON text `raw` cannot decode to a lone surrogate (it has no `\\u` escape).

    `raw` itself came off the wire as UTF-8, so only an escape can produce one: a cheap test that
    spares the walk over an audio frame's megabytes of base64.
    """
    return "\\u" in raw


def find_lone_surrogate(value: Any) -> tuple[str, str] | None:
    """Where the first surrogate of a parsed JSON value is: its path (`item.content[0].text`) and
    the escape the client wrote (`\\ud800`); None when every string and key is valid Unicode.

    Iterative, so a value nested as deeply as `json` allows cannot exhaust the stack here.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if (match := _SURROGATE.search(node)) is not None:
                return _join(path), _escape(match.group())
        elif isinstance(node, dict):
            for key, child in node.items():
                step = _key_step(key, path)
                if (match := _SURROGATE.search(key)) is not None:
                    return _join((*path, step)), _escape(match.group())
                stack.append((child, (*path, step)))
        elif isinstance(node, list):
            stack.extend((child, (*path, f"[{index}]")) for index, child in enumerate(node))
    return None


def utf8_frame(text: str) -> bytes:
    """`text` as UTF-8; a surrogate code point (never valid in UTF-8) becomes U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}"


def _key_step(key: str, path: tuple[str, ...]) -> str:
    # Keys are shown escaped (ASCII), so a message naming the path never carries the surrogate.
    shown = json.dumps(key)[1:-1]
    return f".{shown}" if path else shown


def _join(path: tuple[str, ...]) -> str:
    return "".join(path) or "(the event)"
