"""The bench's traffic: the frames of an hour's push-to-talk session, as the wire carries them.

One exchange (about 8 s of a real session) is the user talking for 4 s (200
`input_audio_buffer.append` of 20 ms, 1.3 KB of base64 each, at 50/s), the commit and its items,
20 transcription deltas, then a spoken reply: 80 audio deltas of 100 ms (6.4 KB of base64 each)
interleaved with 80 transcript deltas, and the control events that close it: 397 frames. 450
exchanges and the session's 3 opening frames make an hour: 178,653 frames holding 345.6 MB of
base64 audio (90,000 appends, 36,000 audio deltas, 45,000 transcript deltas, 7,653 others).

Frames are produced lazily, as wire text; :func:`envelopes` turns them into envelopes the way the
session does (received frames parsed from their text, with their wire size), so the parsed and
raw copies of each payload exist as they do live. Deterministic (seeded), stdlib and tui only.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tui.protocol import Direction, Envelope, next_seq, parse
from tui.protocol.envelope import utf8_size

HOUR_EXCHANGES = 450
"""Exchanges in an hour's session (8 s each)."""
APPENDS_PER_TURN = 200
"""20 ms chunks the user sends per turn (4 s of speech)."""
USER_WORDS = 20
REPLY_WORDS = 80
"""Reply transcript deltas; each comes with one 100 ms audio delta."""
APPEND_PCM_BYTES = 960
"""20 ms of 24 kHz PCM16."""
DELTA_PCM_BYTES = 4800
"""100 ms of 24 kHz PCM16 (6,400 characters of base64)."""

WORDS = (
    "the weather in London tomorrow will be mild with light rain in the morning and sun later "
    "please turn on the kitchen lights and book a table for two at eight near the station "
    "I can help with that here is what I found about your question and a few more details"
).split()
ID_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
MARKER_WORD = "kitchen"
"""A word of the vocabulary, for the free-word filter."""


def _pcm_pool(size: int, count: int, rng: random.Random) -> list[str]:
    """Base64 of noise-like PCM chunks (a few, reused: the wire text of each frame is still its own)."""
    return [base64.b64encode(rng.randbytes(size)).decode() for _ in range(count)]


@dataclass
class Ids:
    """Realistic ids: a prefix and 21 characters, as the service makes them."""

    rng: random.Random

    def make(self, prefix: str) -> str:
        return prefix + "".join(
            self.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=21)
        )


class HourSession:
    """The frames of a synthetic session of `exchanges` turns (None: endless), as (direction, wire text)."""

    def __init__(self, exchanges: int | None = HOUR_EXCHANGES, *, seed: int = 7) -> None:
        self.exchanges = exchanges
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.appends = _pcm_pool(APPEND_PCM_BYTES, 16, self.rng)
        self.deltas = _pcm_pool(DELTA_PCM_BYTES, 16, self.rng)
        self.item_ids: list[str] = []
        """Every item id, in order (the filter bench picks one)."""
        self._previous: str | None = None

    # -- building blocks --------------------------------------------------------------------

    def _out(self, data: dict[str, object]) -> tuple[Direction, str]:
        data["event_id"] = self.ids.make("evt_")
        return Direction.OUT, _dumps(data)

    def _in(self, data: dict[str, object]) -> tuple[Direction, str]:
        return Direction.IN, _dumps({"type": data.pop("type"), "event_id": self.ids.make("event_"), **data})

    def _words(self, count: int) -> list[str]:
        return [" " + self.rng.choice(WORDS) for _ in range(count)]

    def start(self) -> Iterator[tuple[Direction, str]]:
        """The session's opening frames."""
        session = {
            "id": self.ids.make("sess_"),
            "object": "realtime.session",
            "type": "realtime",
            "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": {"model": "gpt-4o-transcribe"},
                    "turn_detection": None,
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
            },
        }
        yield self._in({"type": "session.created", "session": session})
        yield self._out({"type": "session.update", "session": {"type": "realtime", "audio": session["audio"]}})
        yield self._in({"type": "session.updated", "session": session})

    def user_turn(self) -> Iterator[tuple[Direction, str]]:
        """The user talks for 4 s, commits, and the item and its transcript arrive."""
        for n in range(APPENDS_PER_TURN):
            yield self._out({"type": "input_audio_buffer.append", "audio": self.appends[n % len(self.appends)]})
        yield self._out({"type": "input_audio_buffer.commit"})
        user = self.ids.make("item_")
        self.item_ids.append(user)
        yield self._in({"type": "input_audio_buffer.committed", "previous_item_id": self._previous, "item_id": user})
        item = {
            "id": user,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        yield self._in({"type": "conversation.item.added", "previous_item_id": self._previous, "item": item})
        yield self._in({"type": "conversation.item.done", "previous_item_id": self._previous, "item": item})
        self._previous = user
        words = self._words(USER_WORDS)
        for word in words:
            yield self._in(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": user,
                    "content_index": 0,
                    "delta": word,
                }
            )
        yield self._in(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": user,
                "content_index": 0,
                "transcript": "".join(words).strip(),
                "usage": {"type": "tokens", "total_tokens": 42, "input_tokens": 30, "output_tokens": 12},
            }
        )

    def reply(self, words: int = REPLY_WORDS) -> Iterator[tuple[Direction, str]]:
        """`response.create` and a spoken reply of `words` audio + transcript delta pairs."""
        yield self._out({"type": "response.create"})
        response = self.ids.make("resp_")
        yield self._in({"type": "response.created", "response": _response(response, "in_progress", [])})
        yield from self.reply_stream(response, words)

    def reply_stream(self, response: str, words: int) -> Iterator[tuple[Direction, str]]:
        """An assistant item streaming `words` (audio delta, transcript delta) pairs, then done."""
        item_id = self.ids.make("item_")
        self.item_ids.append(item_id)
        item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        yield self._in({"type": "response.output_item.added", "response_id": response, "output_index": 0, "item": item})
        yield self._in({"type": "conversation.item.added", "previous_item_id": self._previous, "item": item})
        where = {"response_id": response, "item_id": item_id, "output_index": 0, "content_index": 0}
        yield self._in({"type": "response.content_part.added", **where, "part": {"type": "audio", "transcript": ""}})
        said = self._words(words)
        for n, word in enumerate(said):
            audio = self.deltas[n % len(self.deltas)]
            yield self._in({"type": "response.output_audio.delta", **where, "delta": audio})
            yield self._in({"type": "response.output_audio_transcript.delta", **where, "delta": word})
        transcript = "".join(said).strip()
        part = {"type": "audio", "transcript": transcript}
        done: dict[str, object] = {
            **item,
            "status": "completed",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        yield self._in({"type": "response.output_audio.done", **where})
        yield self._in({"type": "response.output_audio_transcript.done", **where, "transcript": transcript})
        yield self._in({"type": "response.content_part.done", **where, "part": part})
        yield self._in({"type": "response.output_item.done", "response_id": response, "output_index": 0, "item": done})
        yield self._in({"type": "conversation.item.done", "previous_item_id": self._previous, "item": done})
        self._previous = item_id
        yield self._in({"type": "response.done", "response": _response(response, "completed", [done])})
        limits = [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 400000, "remaining": 399000, "reset_seconds": 0.15},
        ]
        yield self._in({"type": "rate_limits.updated", "rate_limits": limits})

    def exchange(self) -> Iterator[tuple[Direction, str]]:
        """One turn and its reply (397 frames)."""
        yield from self.user_turn()
        yield from self.reply()

    def history_exchange(self) -> Iterator[tuple[Direction, str]]:
        """A finished exchange in 7 frames, no audio (to give a transcript many earlier turns quickly)."""
        user = self.ids.make("item_")
        item = {
            "id": user,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        yield self._in({"type": "input_audio_buffer.committed", "previous_item_id": self._previous, "item_id": user})
        yield self._in({"type": "conversation.item.added", "previous_item_id": self._previous, "item": item})
        yield self._in(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": user,
                "content_index": 0,
                "transcript": "".join(self._words(USER_WORDS)).strip(),
            }
        )
        self._previous = user
        response = self.ids.make("resp_")
        answer = self.ids.make("item_")
        transcript = "".join(self._words(REPLY_WORDS)).strip()
        done: dict[str, object] = {
            "id": answer,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        yield self._in({"type": "response.output_item.added", "response_id": response, "output_index": 0, "item": done})
        yield self._in({"type": "conversation.item.added", "previous_item_id": user, "item": done})
        yield self._in({"type": "response.output_item.done", "response_id": response, "output_index": 0, "item": done})
        yield self._in({"type": "response.done", "response": _response(response, "completed", [done])})
        self._previous = answer

    def frames(self) -> Iterator[tuple[Direction, str]]:
        """The whole session: opening frames, then every exchange."""
        yield from self.start()
        n = 0
        while self.exchanges is None or n < self.exchanges:
            yield from self.exchange()
            n += 1

    def received(self) -> Iterator[str]:
        """Only what the server sends (for a server streaming this session to a client)."""
        for direction, raw in self.frames():
            if direction is Direction.IN:
                yield raw


def _response(response_id: str, status: str, output: list[dict[str, object]]) -> dict[str, object]:
    usage = {"total_tokens": 412, "input_tokens": 230, "output_tokens": 182} if status == "completed" else None
    return {"id": response_id, "object": "realtime.response", "status": status, "output": output, "usage": usage}


def _dumps(data: dict[str, object]) -> str:
    return json.dumps(data, separators=(",", ":"))


def envelope(direction: Direction, raw: str) -> Envelope:
    """The envelope the session would publish for this wire text (parsed as the reader parses)."""
    data = parse(raw)
    return Envelope(next_seq(), direction, str(data["type"]), data, raw, wire_size=utf8_size(raw))


def envelopes(frames: Iterable[tuple[Direction, str]]) -> Iterator[Envelope]:
    """Envelopes of `frames`, made one at a time."""
    for direction, raw in frames:
        yield envelope(direction, raw)


def batches(items: Iterable[Envelope], size: int) -> Iterator[list[Envelope]]:
    """`items` in lists of `size` (the last may be shorter)."""
    batch: list[Envelope] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def audio_bytes(frames: Iterable[tuple[Direction, str]]) -> int:
    """Characters of base64 audio in `frames` (for the figures' labels)."""
    total = 0
    for _, raw in frames:
        data = json.loads(raw)
        for key in ("audio", "delta"):
            value = data.get(key)
            if isinstance(value, str) and len(value) > 200:
                total += len(value)
    return total
