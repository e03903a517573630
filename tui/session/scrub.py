"""Keeping the API key out of everything rt-tui shows or writes.

The session scrubs every envelope before it reaches the bus, so the event log, its detail view,
notifications, `rt-tui send --json` and the capture file all see the same clean frames, even when a
server echoes the key back (some compatible servers do), in whatever spelling it echoes it.

A secret is looked for in every form a frame can carry it (see `secret_forms`): as written,
JSON-escaped, percent-encoded (as URLs do, or every byte), in hex, in upper or lower case, and
inside base64 at any byte alignment (which also covers `Bearer <key>` and `user:<key>` encoded
whole). It is replaced wherever it appears, in object keys
as well as values, in the event type, in a malformed frame's text and in a binary frame's bytes.

The common case costs at most one substring search per form on the raw text, and usually fewer:
each search is for a 16-character piece (`search_needles`), shared by the forms that can share one
(the key and its percent and JSON spellings; the standard and URL-safe base64 cores), chosen so
CPython's search skips ahead by a needle's length on base64 audio, silence (`AAAA…`) included. The
hex, every-byte and case forms need pieces of their own: with a key set, checking a frame of the
bench's mix takes ~5 µs (~3 µs without those forms; a 64 KB audio frame ~80 µs, ~45 µs without:
`python -m tests.bench_scrub`); with no key, nothing. Only a frame where a piece is found is
searched for the whole forms, and rewritten if one is there.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

from tui.protocol import DIR_LOCAL, Envelope
from tui.protocol.envelope import local_raw

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
"""Shorter credentials are not scrubbed (see `Scrubber`)."""

_UNPAIRED = "surrogatepass"
"""How a secret's lone surrogates are encoded: a key variable holding a byte that is not UTF-8
(read as `\udcff`), or a HAR header's `\ud800`, made every form's encoding raise, and `lint`,
a replay and every session end in a traceback. Such a key cannot be sent; it is still scrubbed."""

_PERCENT = re.compile(r"%[0-9A-F]{2}")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def base64_cores(data: bytes) -> list[str]:
    """The base64 text that `data` produces wherever it sits inside a longer byte string.

    Base64 turns 3 bytes into 4 characters, so the text of `data` depends on its offset modulo 3
    and on its neighbours. The characters whose 6 bits all come from `data` do not depend on the
    neighbours: for each of the 3 alignments they form a fixed substring, the *core*. Any base64
    of a string holding `data` (e.g. `Bearer <key>` in a Basic or Bearer header) contains one of
    the three cores, in the standard or the URL-safe alphabet.
    """
    cores: list[str] = []
    for shift in range(3):
        padded = bytes(shift) + data
        encoded = base64.b64encode(padded + bytes(-len(padded) % 3)).decode("ascii")
        first = -(-8 * shift // 6)  # the first character that starts inside `data`
        end = 8 * (shift + len(data)) // 6  # past the last character that ends inside it
        core = encoded[first:end]
        cores += [core, core.translate(_URLSAFE)]
    return cores


_URLSAFE = str.maketrans("+/", "-_")


def percent_forms(secret: str) -> list[str]:
    """`secret` percent-encoded as URLs and forms do it: `quote` (with and without `/` kept) and
    `quote_plus`, each with upper- and lower-case hex."""
    forms = [
        quote(secret, safe="", errors=_UNPAIRED),
        quote(secret, errors=_UNPAIRED),
        quote_plus(secret, errors=_UNPAIRED),
        quote_plus(secret, safe="/", errors=_UNPAIRED),
    ]
    forms += [_PERCENT.sub(lambda m: m.group(0).lower(), form) for form in forms]
    return forms


def json_forms(secret: str) -> list[str]:
    """`secret` as JSON writes it inside a string: escaped quotes and backslashes, non-ASCII as
    written or as `\\u` escapes. (Other escapes are decoded before the search: see `unescape`.)"""
    written = json.dumps(secret, ensure_ascii=False)[1:-1]
    return [written, json.dumps(secret)[1:-1], written.replace("/", "\\/")]


def byte_forms(secret: str) -> list[str]:
    """`secret`'s bytes spelled out: hex (lower and upper case, as a debug dump or a hash tool writes
    them) and every byte percent-encoded (`%73%6B%2D…`, as a URL encoder that escapes all writes it)."""
    raw = secret.encode("utf-8", _UNPAIRED)
    hexed = raw.hex()
    every = "".join(f"%{byte:02X}" for byte in raw)
    return [hexed, hexed.upper(), every, every.lower()]


def case_forms(secret: str) -> list[str]:
    """`secret` in upper and lower case: a server or a logger that changes the case of what it echoes
    still shows the key, all but which letters were capitals."""
    return [secret.upper(), secret.lower()]


def secret_forms(secret: str) -> list[str]:
    """Every spelling of `secret` that is scrubbed, longest first, without duplicates."""
    forms = [
        secret,
        *json_forms(secret),
        *percent_forms(secret),
        *base64_cores(secret.encode("utf-8", _UNPAIRED)),
        *byte_forms(secret),
        *case_forms(secret),
    ]
    # A core can be short for a short secret; never search for something that would match by chance.
    return sorted({f for f in forms if len(f) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


NEEDLE = 16
"""Length of the pieces searched for first: long enough never to match by chance (64^-16 in base64)."""


def search_needles(forms: list[str]) -> list[str]:
    """Few short pieces such that every form contains one: a text that holds no piece holds no form.

    Greedy cover: each step takes the piece found in the most forms still uncovered (the plain key
    and its percent and JSON spellings share their first characters; the standard and URL-safe
    cores share everything but `+/`). Among equals, a piece without `A` (silence in base64) and with
    few distinct characters (modulo 64: CPython's skip table) searches fastest.
    """
    uncovered = set(forms)
    needles: list[str] = []
    while uncovered:
        candidates = {f[i : i + NEEDLE] for f in uncovered for i in range(max(1, len(f) - NEEDLE + 1))}
        best = max(sorted(candidates), key=functools.partial(_rank, uncovered=frozenset(uncovered)))
        needles.append(best)
        uncovered = {f for f in uncovered if best not in f}
    return needles


def _rank(piece: str, uncovered: frozenset[str]) -> tuple[int, bool, int]:
    return (sum(piece in f for f in uncovered), "A" not in piece, -len({ord(c) & 63 for c in piece}))


def unescape(raw: str) -> str:
    """`raw` with the JSON escapes that can hide a secret decoded: `\\/` and `\\uXXXX`.

    For searching (and for rewriting text that held a secret); a secret spelled with other escapes
    (`\\"`, `\\\\`) is found through its `json_forms`. Surrogate escapes are left alone, so the
    result is always valid text.
    """
    if "\\/" in raw:
        raw = raw.replace("\\/", "/")  # one C pass: servers that escape slashes do it in every frame
    if "\\u" in raw:
        raw = _U_ESCAPE.sub(_decode_u, raw)
    return raw


def _may_hide(text: str) -> bool:
    """True if `text` has an escape that `unescape` decodes. A one-character search first: it is a
    `memchr`, while CPython searches two-character needles an order of magnitude slower."""
    return "\\" in text and ("\\/" in text or "\\u" in text)


def _decode_u(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


class Scrubber:
    """Replaces each secret, in every form, with `[redacted]` in text, JSON values and envelopes."""

    def __init__(self, secrets: tuple[str | None, ...] = ()) -> None:
        # Shorter strings are not scrubbed: replacing every "1" or "text" would corrupt the frames
        # themselves, and a credential that short protects nothing anyway.
        kept = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a form that contains another (a key that holds a shorter secret) goes whole.
        self._forms = sorted({f for s in kept for f in secret_forms(s)}, key=len, reverse=True)
        self._needles = search_needles(self._forms)
        self._byte_forms = [f.encode("utf-8", _UNPAIRED) for f in self._forms]
        self._byte_needles = [n.encode("utf-8", _UNPAIRED) for n in self._needles]

    @property
    def forms(self) -> tuple[str, ...]:
        """Every spelling searched for (for tests; never print it)."""
        return tuple(self._forms)

    def holds(self, text: str) -> bool:
        """True if `text` holds a secret in any form: a search per needle, then per form on a hit."""
        return any(needle in text for needle in self._needles) and any(form in text for form in self._forms)

    def text(self, value: str) -> str:
        """`value` with every secret, in every form, replaced. Text that spells a secret with JSON
        escapes (a close reason quoting a frame) comes back with those escapes decoded."""
        if _may_hide(value):
            decoded = unescape(value)
            if self.holds(decoded):
                value = decoded
        return self._replace(value)

    def _replace(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        """A JSON value with every secret replaced in its strings, object keys included (a server may
        echo a key as a field name, and the detail view shows field names)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def envelope(self, env: Envelope) -> Envelope:
        """`env` itself when it holds no secret, else a copy with raw text, data, type and bytes scrubbed.

        A frame's data is parsed from its raw text, so searching the raw text decides, once escapes
        that could hide a secret are decoded. Local facts carry text rt-tui built (from exceptions,
        close reasons), so their data is always checked; they are small.
        """
        if not self._forms:
            return env
        raw = env.raw
        hay = unescape(raw) if _may_hide(raw) else raw
        in_raw = self.holds(hay)
        in_bytes = (
            env.binary is not None
            and any(needle in env.binary for needle in self._byte_needles)
            and any(form in env.binary for form in self._byte_forms)
        )
        parsed = env.direction is not DIR_LOCAL and not env.type.startswith("rt.")
        if parsed:
            if not in_raw:
                return env  # the common case: one substring search per form
            data, raw = self._frame(env.data, raw if hay is raw else None)
            found = data.get("type")
            event_type = found if isinstance(found, str) else self.text(env.type)
            return dataclasses.replace(env, type=event_type, data=data, raw=raw, wire_size=env.size)
        # A local fact or a frame that did not parse: its data is rt-tui's (small), its raw the wire's.
        data = self.value(env.data)
        if env.direction is DIR_LOCAL:
            new_raw = local_raw(data) if data != env.data else raw
        else:
            new_raw = self._replace(hay) if in_raw else raw
        binary = env.binary
        if in_bytes and binary is not None:
            for form in self._byte_forms:
                binary = binary.replace(form, REDACTED.encode("ascii"))
        if data == env.data and new_raw is raw and binary is env.binary:
            return env
        return dataclasses.replace(env, data=data, raw=new_raw, binary=binary, wire_size=env.size)

    def _frame(self, data: dict[str, Any], raw: str | None) -> tuple[dict[str, Any], str]:
        """Scrubbed (data, raw) of a parsed frame that holds a secret.

        `raw` is the wire text when no escape hid the secret: replacing in it keeps the server's own
        spelling of everything else. Otherwise the frame is written again from its data (escapes
        decoded, so the secret is visible to the search). The result is parsed again, so data and raw
        agree; a replacement that broke the JSON (a numeric secret inside a number) falls back to
        scrubbing the data value by value.
        """
        text = raw if raw is not None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        cleaned = self._replace(text)
        try:
            parsed = json.loads(cleaned)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and not self.holds(json.dumps(parsed, ensure_ascii=False)):
            return parsed, cleaned
        scrubbed = self.value(data)
        return scrubbed, json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
