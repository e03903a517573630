"""What a response reads: the default conversation, or the `input` items of a `response.create`.

`input` replaces the conversation as the model's context (protocol reference §2.2, §4.4 D): it
holds whole items or `{"type": "item_reference", "id": ...}` pointers to items of the
conversation. Referenced items are read as they are at response creation.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
from typing import Any

from .client_items import normalize_client_item
from .errors import ProtocolError, invalid_type, missing_parameter
from .hearing import BacklogFull, Hearing
from .item_store import ItemStore, StoredItem
from .pieces import estimate_text_tokens
from .reply import ToolResult

_log = logging.getLogger(__name__)

AUDIO_IN_TOKENS_PER_SECOND = 10


def resolve_input(raw: Any, store: ItemStore) -> list[StoredItem]:
    """The items of a `response.input`; raises ProtocolError naming the bad entry."""
    if not isinstance(raw, list):
        raise invalid_type("response.input", raw, "an array")
    items: list[StoredItem] = []
    # A `function_call_output` answers a call of the conversation or one earlier in this input.
    calls: set[str] = set()

    def call_exists(call_id: str) -> bool:
        return call_id in calls or store.has_call(call_id)

    for index, entry in enumerate(raw):
        param = f"response.input[{index}]"
        if not isinstance(entry, dict):
            raise invalid_type(param, entry, "an object")
        if entry.get("type") == "item_reference":
            ref = entry.get("id")
            if ref is None:
                raise missing_parameter(f"{param}.id")
            stored = store.get(ref) if isinstance(ref, str) else None
            if stored is None:
                raise ProtocolError(
                    "invalid_value", f"Item with id '{ref}' does not exist in the conversation.", param=f"{param}.id"
                )
            items.append(StoredItem(copy.deepcopy(stored.item), dict(stored.audio)))
            _note_call(stored.item, calls)
            continue
        try:
            item, audio = normalize_client_item(entry, call_exists=call_exists)
        except ProtocolError as err:
            # Same checks as conversation.item.create, reported at this entry's path.
            path = err.param or "item"
            here = param + path[len("item") :]
            # The message names the path too ("Missing required parameter: 'item.name'.").
            message = err.message.replace(f"'{path}'", f"'{here}'")
            raise ProtocolError(err.code, message, param=here, error_type=err.error_type) from None
        items.append(StoredItem(item, audio))
        _note_call(item, calls)
    return items


def _note_call(item: dict[str, Any], calls: set[str]) -> None:
    if item.get("type") == "function_call" and isinstance(item.get("call_id"), str):
        calls.add(item["call_id"])


def last_user_message(items: list[StoredItem]) -> StoredItem | None:
    """The newest user message of a context: what the simulated model answers."""
    for stored in reversed(items):
        if stored.item.get("type") == "message" and stored.item.get("role") == "user":
            return stored
    return None


def pending_tool_result(items: list[StoredItem]) -> ToolResult | None:
    """The newest `function_call_output` when no user message came after it, with its call's name."""
    for index in range(len(items) - 1, -1, -1):
        item = items[index].item
        if item.get("type") == "message" and item.get("role") == "user":
            return None
        if item.get("type") != "function_call_output":
            continue
        call_id = item.get("call_id")
        name = next(
            (
                str(other.item.get("name"))
                for other in reversed(items[:index])
                if other.item.get("type") == "function_call" and other.item.get("call_id") == call_id
            ),
            "the tool",
        )
        return ToolResult(name=name, output=str(item.get("output") or ""))
    return None


async def heard_text(stored: StoredItem | None, hearing: Hearing) -> str | None:
    """The typed and recognized words of a user message; None when there is no message."""
    if stored is None:
        return None
    parts: list[str] = []
    for index, part in enumerate(stored.item.get("content") or []):
        if part.get("type") == "input_text":
            parts.append(str(part.get("text") or ""))
        elif part.get("type") == "input_audio" and index in stored.audio:
            try:
                parts.append(await hearing.hear(stored.id, stored.audio[index]))
            except asyncio.CancelledError:
                raise
            except BacklogFull:
                # Audio faster than real time: the model answers what it could hear (see hearing.py).
                _log.info("simulator: %s not heard, the recognition backlog is full", stored.id)
            except Exception:
                _log.exception("simulator: speech recognition failed for %s", stored.id)
    return " ".join(p.strip() for p in parts if p.strip())


def context_tokens(items: list[StoredItem], instructions: str, tools: list[dict[str, Any]]) -> tuple[int, int]:
    """(text, audio) tokens the model reads: instructions, tool definitions and every item."""
    text = estimate_text_tokens(instructions)
    if tools:
        text += estimate_text_tokens(repr(tools))
    audio = 0
    for stored in items:
        audio += math.ceil(stored.audio_ms() / 1000.0 * AUDIO_IN_TOKENS_PER_SECOND)
        item = stored.item
        if item.get("type") == "function_call":
            text += estimate_text_tokens(str(item.get("name") or "") + str(item.get("arguments") or ""))
        elif item.get("type") == "function_call_output":
            text += estimate_text_tokens(str(item.get("output") or ""))
        for part in item.get("content") or []:
            if part.get("type") in ("input_text", "output_text"):
                text += estimate_text_tokens(str(part.get("text") or ""))
            elif part.get("type") == "output_audio" and 0 not in stored.audio:
                text += estimate_text_tokens(str(part.get("transcript") or ""))
    return text, audio
