"""The server's copy of the conversation: ordered items, their audio, their transcripts."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .audio_buffer import BYTES_PER_MS


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


class ItemStore:
    """Items in conversation order, addressed by id, insertable after any item or at the root."""

    def __init__(self) -> None:
        self._items: list[StoredItem] = []

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        return any(stored.id == item_id for stored in self._items)

    @property
    def last_id(self) -> str | None:
        """Id of the newest item in conversation order, or None when empty."""
        return self._items[-1].id if self._items else None

    def insert(self, stored: StoredItem, after: str | None) -> str | None:
        """Insert after item `after` ("root" = first, None = last); return the previous item id.

        The caller has checked that `after` exists.
        """
        if after is None:
            previous = self.last_id
            self._items.append(stored)
            return previous
        if after == "root":
            self._items.insert(0, stored)
            return None
        index = self._index(after)
        self._items.insert(index + 1, stored)
        return after

    def get(self, item_id: str) -> StoredItem | None:
        """The stored item, or None."""
        index = self._find(item_id)
        return None if index is None else self._items[index]

    def delete(self, item_id: str) -> bool:
        """Remove an item; False when it does not exist."""
        index = self._find(item_id)
        if index is None:
            return False
        del self._items[index]
        return True

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

    def has_call(self, call_id: str) -> bool:
        """True when a `function_call` item with this `call_id` is in the conversation."""
        return any(
            stored.item.get("type") == "function_call" and stored.item.get("call_id") == call_id
            for stored in self._items
        )

    def _find(self, item_id: str) -> int | None:
        for index, stored in enumerate(self._items):
            if stored.id == item_id:
                return index
        return None

    def _index(self, item_id: str) -> int:
        index = self._find(item_id)
        if index is None:
            raise KeyError(item_id)
        return index
