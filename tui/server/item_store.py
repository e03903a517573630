"""The server's copy of the conversation: ordered items, their audio, their transcripts.

Bounded: the store holds at most `max_bytes` (items as JSON plus their raw audio). A server-made
item (a committed turn, a response's message) always goes in; to make room the audio of the
oldest items is released first, as the service's context truncation lets the model forget the
oldest turns: those items keep their place, id and transcript, and `conversation.item.retrieved`
shows them without `audio`. A client item that cannot fit even then is refused (`fits`), so a
client cannot grow the conversation without bound with text either.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .audio_buffer import BYTES_PER_MS

#: Default cap of one conversation: about 11 minutes of 24 kHz PCM16, or that much text.
MAX_CONVERSATION_BYTES = 32 * 1024 * 1024
#: What an item costs beyond its JSON (dicts, lists and the StoredItem itself), so that many
#: tiny items count too.
ITEM_OVERHEAD_BYTES = 512


@dataclass(slots=True)
class StoredItem:
    """One conversation item in its public GA shape, with audio kept aside as raw PCM.

    Events that announce items never carry audio bytes; only `conversation.item.retrieved`
    does, so the bytes live next to the item rather than inside it.
    """

    item: dict[str, Any]
    audio: dict[int, bytes] = field(default_factory=dict)
    """Raw PCM16 per content index."""

    @property
    def id(self) -> str:
        """The item id."""
        return str(self.item["id"])

    def audio_ms(self) -> int:
        """Milliseconds of audio across all content parts (24 kHz PCM16)."""
        return sum(len(pcm) for pcm in self.audio.values()) // BYTES_PER_MS


def text_bytes(item: dict[str, Any]) -> int:
    """What an item's JSON (without audio) and its objects cost in the store."""
    return len(json.dumps(item)) + ITEM_OVERHEAD_BYTES


class ItemStore:
    """Items in conversation order, addressed by id, insertable after any item or at the root.

    `meter(delta)` is told every change of the bytes held (the connection's memory account).
    The store must be changed only through its methods, so that what it holds stays counted.
    """

    def __init__(self, max_bytes: int = MAX_CONVERSATION_BYTES, meter: Callable[[int], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self._meter = meter
        self._items: list[StoredItem] = []
        self._by_id: dict[str, StoredItem] = {}
        self._text: dict[str, int] = {}
        """Text bytes per item id (its JSON plus overhead)."""
        self._text_total = 0
        self._audio_total = 0
        self._calls: Counter[str] = Counter()
        """`call_id`s of the `function_call` items held."""
        self._audio_order: dict[str, None] = {}
        """Ids of the items holding audio, oldest first: whose audio is released first."""

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and item_id in self._by_id

    @property
    def held(self) -> int:
        """Bytes held: item JSON plus raw audio."""
        return self._text_total + self._audio_total

    @property
    def last_id(self) -> str | None:
        """Id of the newest item in conversation order, or None when empty."""
        return self._items[-1].id if self._items else None

    def fits(self, stored: StoredItem) -> bool:
        """Whether `stored` can go in, once the audio of every other item was released if need be."""
        return self._text_total + text_bytes(stored.item) + _audio_bytes(stored) <= self.max_bytes

    def insert(self, stored: StoredItem, after: str | None) -> str | None:
        """Insert after item `after` ("root" = first, None = last); return the previous item id.

        The caller has checked that `after` exists. The oldest audio is released to make room.
        """
        if after is None:
            previous = self.last_id
            self._items.append(stored)
        elif after == "root":
            previous = None
            self._items.insert(0, stored)
        else:
            self._items.insert(self._index(after) + 1, stored)
            previous = after
        self._by_id[stored.id] = stored
        if stored.item.get("type") == "function_call":
            self._calls[str(stored.item.get("call_id"))] += 1
        self._count_text(stored)
        self._count_audio(stored, +1)
        self._make_room(keep=stored.id)
        return previous

    def get(self, item_id: str) -> StoredItem | None:
        """The stored item, or None."""
        return self._by_id.get(item_id)

    def delete(self, item_id: str) -> bool:
        """Remove an item; False when it does not exist."""
        stored = self._by_id.pop(item_id, None)
        if stored is None:
            return False
        del self._items[self._position(stored)]
        if stored.item.get("type") == "function_call":
            call_id = str(stored.item.get("call_id"))
            self._calls[call_id] -= 1
            if self._calls[call_id] <= 0:
                del self._calls[call_id]
        self._count_audio(stored, -1)
        self._change(-self._text.pop(item_id, 0), text=True)
        return True

    def replace(self, item_id: str, item: dict[str, Any], audio: dict[int, bytes] | None = None) -> None:
        """Put the final form of an item in place (a response's message when it is done)."""
        stored = self._by_id.get(item_id)
        if stored is None:
            return
        self._count_audio(stored, -1)
        stored.item = item
        if audio is not None:
            stored.audio = audio
        self._count_text(stored)
        self._count_audio(stored, +1)
        self._make_room(keep=item_id)

    def truncate_audio(self, item_id: str, content_index: int, nbytes: int) -> None:
        """Keep only the first `nbytes` of one part's audio, and clear the part's transcript."""
        stored = self._by_id.get(item_id)
        if stored is None or content_index not in stored.audio:
            return
        self._count_audio(stored, -1)
        stored.audio[content_index] = stored.audio[content_index][:nbytes]
        content = stored.item.get("content") or []
        # The unheard part of the transcript leaves the context with the audio.
        content[content_index]["transcript"] = ""
        self._count_text(stored)
        self._count_audio(stored, +1)

    def items(self) -> list[StoredItem]:
        """All items in conversation order."""
        return list(self._items)

    def with_audio(
        self, item_id: str, encode: Callable[[dict[str, Any], bytes], bytes] | None = None
    ) -> dict[str, Any]:
        """A copy of the item with base64 audio in its audio parts, as `retrieved` sends it.

        `encode(item, pcm)` turns the stored PCM16 into the session's wire format (G.711).
        """
        stored = self.get(item_id)
        if stored is None:
            raise KeyError(item_id)
        item = copy.deepcopy(stored.item)
        for index, pcm in stored.audio.items():
            wire = encode(item, pcm) if encode is not None else pcm
            item["content"][index]["audio"] = base64.b64encode(wire).decode("ascii")
        return item

    def set_transcript(self, item_id: str, content_index: int, transcript: str) -> None:
        """Record a finished transcription on an item that may since have been deleted."""
        stored = self.get(item_id)
        if stored is None:
            return
        content = stored.item.get("content") or []
        if 0 <= content_index < len(content):
            content[content_index]["transcript"] = transcript
            self._count_text(stored)

    def has_call(self, call_id: str) -> bool:
        """True when a `function_call` item with this `call_id` is in the conversation."""
        return call_id in self._calls

    def clear(self) -> None:
        """Forget every item and its audio (the connection is gone)."""
        held = self.held
        self._items.clear()
        self._by_id.clear()
        self._text.clear()
        self._calls.clear()
        self._audio_order.clear()
        self._text_total = self._audio_total = 0
        if self._meter is not None and held:
            self._meter(-held)

    def _make_room(self, keep: str) -> None:
        # Oldest audio first; the item just stored keeps its own, even when it alone is over.
        while self.held > self.max_bytes:
            oldest = next((item_id for item_id in self._audio_order if item_id != keep), None)
            if oldest is None:
                return
            stored = self._by_id[oldest]
            self._count_audio(stored, -1)
            stored.audio = {}

    def _count_text(self, stored: StoredItem) -> None:
        size = text_bytes(stored.item)
        self._change(size - self._text.get(stored.id, 0), text=True)
        self._text[stored.id] = size

    def _count_audio(self, stored: StoredItem, sign: int) -> None:
        size = _audio_bytes(stored)
        if sign > 0 and size:
            self._audio_order[stored.id] = None
        elif sign < 0:
            self._audio_order.pop(stored.id, None)
        self._change(sign * size, text=False)

    def _change(self, delta: int, *, text: bool) -> None:
        if text:
            self._text_total += delta
        else:
            self._audio_total += delta
        if self._meter is not None and delta:
            self._meter(delta)

    def _index(self, item_id: str) -> int:
        stored = self._by_id.get(item_id)
        if stored is None:
            raise KeyError(item_id)
        return self._position(stored)

    def _position(self, stored: StoredItem) -> int:
        # By identity: two items may be equal as values (dataclass equality), never the same object.
        return next(index for index, other in enumerate(self._items) if other is stored)


def _audio_bytes(stored: StoredItem) -> int:
    return sum(len(pcm) for pcm in stored.audio.values())
