"""Keeping a secret out of text a server streams in pieces.

The `Scrubber` looks at one frame at a time, but a transcript or a reply arrives as deltas that
every view joins: a server reading the key back ("your key is sk-proj-…") splits it across
deltas, none of which holds it whole, and the transcript, the log's run of deltas and the exports
would show it joined. `DeltaGuard` follows each text stream (its type, item and content part):

- a delta that ends with the start of a secret (at least `HOLD_MIN` characters of it) keeps that
  start back and hands it on to the stream's next delta, so a secret completed there is replaced
  whole (`[redacted]`), and one that never completes is left out (the stream's `.done` frame, which
  carries the whole text, scrubbed as any frame, is what the views keep);
- a secret that began in what was already shown (fewer than `HOLD_MIN` characters of it) is
  replaced from where this delta takes it up.

A frame it changes is written again from its data (the capture keeps the scrubbed frame, as for
any scrubbed frame). Audio deltas are not text and are left alone.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from tui.protocol import DIR_IN, Envelope
from tui.protocol.events import AUDIO_FIELDS

from .scrub import MIN_SECRET_LENGTH, REDACTED, Scrubber

HOLD_MIN = 6
"""The shortest start of a secret held back: shorter ones (`sk-pr`) say nothing about a key, and
holding every `s` at a delta's end would move text between frames for nothing."""

MAX_STREAMS = 256
"""Streams followed at once; the oldest is forgotten first (a stream lives one response), all but
what it holds back (see `DeltaGuard._unknown_start`)."""

_StreamKey = tuple[str, str, object]

_TEXT_ENDS = (".done", ".completed")
"""The type endings of a text stream's last frame (`response.output_text.done`, a transcription's
`.completed`), which carries the whole text."""

_AUDIO_DELTAS = frozenset(kind for kind, name in AUDIO_FIELDS.items() if name == "delta")


class DeltaGuard:
    """Scrubs secrets split across the text deltas of a stream (see the module's docstring)."""

    def __init__(self, secrets: tuple[str | None, ...] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._longest = len(self._secrets[0]) if self._secrets else 0
        self._held: dict[_StreamKey, str] = {}
        self._shown: OrderedDict[_StreamKey, str] = OrderedDict()
        """The end of each stream's text as shown (its last `longest - 1` characters)."""

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Guard these too from now on (a proxy learns a new client's key while streams are open)."""
        merged = {*self._secrets, *(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)}
        self._secrets = sorted(merged, key=len, reverse=True)
        self._longest = len(self._secrets[0]) if self._secrets else 0

    def envelope(self, env: Envelope) -> Envelope:
        """`env` itself, or a copy whose `delta` had a piece of a secret replaced or held back."""
        if not self._secrets or env.type in _AUDIO_DELTAS:
            return env  # audio deltas first: most of a session's frames, and never text
        if not env.type.endswith(".delta"):
            if self._held and env.type.endswith(_TEXT_ENDS):
                # The stream's last frame, whole and scrubbed as any frame: what it held back is in it.
                base = env.type.rsplit(".", 1)[0]
                self._held.pop((f"{base}.delta", str(env.data.get("item_id")), env.data.get("content_index")), None)
            return env
        delta = env.data.get("delta")
        if not isinstance(delta, str) or env.direction != DIR_IN:
            return env
        key: _StreamKey = (env.type, str(env.data.get("item_id")), env.data.get("content_index"))
        text = self._held.pop(key, "") + delta
        shown = self._shown.pop(key, None)
        if shown is None:
            shown = self._unknown_start(text)
        text, held = self._guard(shown, text)
        self._shown[key] = (shown + text)[-(self._longest - 1) :]
        if held:
            self._held[key] = held
        while len(self._shown) > MAX_STREAMS:
            # What a forgotten stream holds back is kept (a key's start, at most a secret's length):
            # dropped, the stream's next delta went on from the middle of the key, shown.
            self._shown.popitem(last=False)
        if text == delta:
            return env
        data = {**env.data, "delta": text}
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return dataclasses.replace(env, data=data, raw=raw, wire_size=env.size)

    def held_back_notes(self) -> list[str]:
        """`held_back`, said for the log: one line per stream, never the characters themselves."""
        return [
            f"the last {count} characters of item {item}'s {kind.removesuffix('.delta')} text are not shown: they "
            "began like the API key, and the connection ended before the rest could tell"
            for kind, item, count in self.held_back()
        ]

    def held_back(self) -> list[tuple[str, str, int]]:
        """What the streams still hold back, as (delta type, item id, characters), and forget it: a
        connection that ended before a stream's next delta or its end leaves that text unshown,
        which its session says (the characters themselves may be a key's start)."""
        held = [(kind, item, len(text)) for (kind, item, _), text in self._held.items()]
        self._held.clear()
        return held

    def _unknown_start(self, text: str) -> str:
        """What a stream this guard does not remember (a new one, or one forgotten among
        `MAX_STREAMS` others) may have shown of a secret: the start `secret[:k]`, too short to have
        been held, that `text` continues. A server that showed `sk-pr`, then made the guard forget
        the stream with 256 others, had the rest of the key shown whole after it."""
        for secret in self._secrets:
            for k in range(HOLD_MIN - 1, 0, -1):
                rest = secret[k:]
                if text and (text.startswith(rest) or rest.startswith(text)):
                    return secret[:k]
        return ""

    def _guard(self, shown: str, text: str) -> tuple[str, str]:
        """(what of `text` to show, what to hold back), given the stream's `shown` end."""
        joined = shown + text
        start = len(shown)
        spans: list[tuple[int, int]] = []  # spans of `text` to replace
        for secret in self._secrets:
            at = joined.find(secret)
            while at != -1:
                spans.append((max(at, start) - start, at + len(secret) - start))
                at = joined.find(secret, at + len(secret))
        cut = _merged(spans)
        held_from = self._held_from(joined, start, cut[-1][1] if cut else 0)
        kept, held = text[:held_from], text[held_from:]
        for begin, end in reversed(cut):
            kept = kept[:begin] + REDACTED + kept[end:]
        return kept, held

    def _held_from(self, joined: str, start: int, after: int) -> int:
        """Where in the delta (an index into `joined[start:]`) the held-back start of a secret
        begins: the earliest position, at or past `after`, from which the rest of `joined` is the
        start of a secret and at least `HOLD_MIN` long; the delta's length when there is none."""
        # A start may begin in what was shown (`sk-pr`, too short to hold), unless a secret was cut.
        first = start + after if after else max(len(joined) - self._longest + 1, 0)
        found = len(joined)
        for secret in self._secrets:
            # Only where the secret's first HOLD_MIN characters are: one C-level search per secret.
            at = joined.find(secret[:HOLD_MIN], first)
            while at != -1 and at < found:
                if secret.startswith(joined[at:]):
                    found = at
                    break
                at = joined.find(secret[:HOLD_MIN], at + 1)
        return max(found - start, after) if found < len(joined) else len(joined) - start


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined, in order."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def scrubbed(envelopes: Iterable[Envelope], secrets: tuple[str, ...]) -> Iterator[Envelope]:
    """`envelopes` with `secrets` scrubbed from each frame and from text streamed across deltas:
    how a recording (a replay, `lint`) is cleaned, as a live session cleans what it receives. An
    envelope nothing changed is yielded as itself."""
    if not any(secrets):
        yield from envelopes
        return
    scrub, guard = Scrubber(secrets), DeltaGuard(secrets)
    for env in envelopes:
        yield guard.envelope(scrub.envelope(env))
