"""The API key in every spelling a leak could take, and a scanner for anything rt-tui outputs.

Written independently of `tui.session.scrub` (the base64 cores here are found by comparing
encodings, not by bit arithmetic), so a mistake there is not mirrored here. Later outputs (exports,
replay, the proxy) are scanned by passing their text to `assert_no_leak`.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
import string
from pathlib import Path
from urllib.parse import quote, quote_plus

WINDOW = 16
"""A leak is any run of this many characters of a spelling: a key cut in two by a line wrap or an
ellipsis still leaks its halves (the test key is over twice as long)."""


def new_test_key() -> str:
    """A fresh key shaped like OpenAI's project keys, with `+/=` inside so that percent-encoding,
    JSON's `\\/` and URL-safe base64 all spell it differently."""

    def part(n: int) -> str:
        return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))

    return f"sk-proj-{part(10)}+{part(6)}/{part(6)}={part(4)}"


def base64_core(data: bytes, shift: int) -> str:
    """The characters of base64(`shift` filler bytes + data + filler) that do not depend on the filler:
    the encodings with two different fillers agree exactly there."""
    encodings = [
        base64.b64encode(bytes([fill]) * shift + data + bytes([fill]) * 3).decode("ascii") for fill in (0x00, 0xFF)
    ]
    same = [a == b for a, b in zip(*encodings, strict=True)]
    start = same.index(True, shift)  # the filler's own characters differ
    end = start
    while end < len(same) and same[end]:
        end += 1
    return encodings[0][start:end]


def leak_forms(key: str) -> list[str]:
    """Every spelling of `key` whose presence in an output is a leak (JSON escapes are decoded by the
    scanner first, see `decoded`)."""
    raw = key.encode("utf-8")
    forms = [key, quote(key, safe=""), quote(key), quote_plus(key)]
    forms += [re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms]
    cores = [base64_core(raw, shift) for shift in range(3)]
    forms += cores + [c.replace("+", "-").replace("/", "_") for c in cores]
    bearer = base64.b64encode(b"Bearer " + raw).decode("ascii")
    forms += [bearer, bearer.replace("+", "-").replace("/", "_")]
    every = "".join("%" + format(byte, "02X") for byte in raw)  # every byte escaped, as some encoders do
    forms += [every, every.lower(), raw.hex(), raw.hex().upper(), key.upper(), key.lower()]
    return sorted(set(forms), key=len, reverse=True)


def decoded(text: str) -> str:
    """`text` with the escapes of JSON (`\\uXXXX`, `\\/`) and of HTML/SVG (`&#47;`, `&amp;`) decoded,
    so a key hidden behind them is visible to a plain search."""
    text = html.unescape(text)
    text = text.replace("\\/", "/")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def find_leaks(text: str, key: str) -> list[str]:
    """Where `text` holds a piece of `key` in any spelling: a short context for each, empty if none."""
    found: list[str] = []
    for hay in dict.fromkeys((text, decoded(text))):
        for form in leak_forms(key):
            width = min(WINDOW, len(form))
            for start in range(len(form) - width + 1):
                at = hay.find(form[start : start + width])
                if at >= 0:
                    found.append(f"{form[start : start + width]!r} in …{hay[max(0, at - 40) : at + width + 40]!r}…")
                    break
    return found


def assert_no_leak(text: str, key: str, where: str) -> None:
    """Fail, saying where, if `text` holds any piece of `key` in any spelling."""
    leaks = find_leaks(text, key)
    assert not leaks, f"the key leaks into {where}: " + "; ".join(leaks[:5])


def assert_no_leak_in_captures(data_dir: Path, key: str) -> list[str]:
    """Fail if any session capture under `data_dir` holds `key`, or if there is none; their texts."""
    captures = sorted(data_dir.glob("sessions/*/frames.jsonl"))
    assert captures, f"no capture under {data_dir}"
    texts = [capture.read_text() for capture in captures]
    for capture, text in zip(captures, texts, strict=True):
        assert_no_leak(text, key, f"the capture {capture}")
    return texts


def svg_text(svg: str) -> str:
    """The text a screenshot shows: the SVG's text content, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg))
