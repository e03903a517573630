"""Items sent by the client in `conversation.item.create`: checked and put in stored shape."""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from . import ids
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter

_ITEM_TYPES = ["message", "function_call", "function_call_output"]
_ROLES = ["user", "assistant", "system"]
_PART_TYPES = {
    "user": ["input_text", "input_audio", "input_image"],
    "system": ["input_text"],
    "assistant": ["output_text", "output_audio"],
}


def normalize_client_item(item: Any) -> tuple[dict[str, Any], dict[int, bytes]]:
    """Return the item as the server announces it (no audio bytes) and its decoded audio.

    A client-supplied `id` is honoured; a client `transcript` on audio is kept (it is stored
    "for reference" and never replaced by server ASR, since item.create audio is not transcribed).
    """
    if item is None:
        raise missing_parameter("item")
    if not isinstance(item, dict):
        raise invalid_type("item", item, "an object")
    item_type = item.get("type")
    if item_type is None:
        raise missing_parameter("item.type")
    if item_type not in _ITEM_TYPES:
        raise invalid_value("item.type", item_type, _ITEM_TYPES)
    item_id = item.get("id")
    if item_id is not None and not isinstance(item_id, str):
        raise invalid_type("item.id", item_id, "a string")
    out = copy.deepcopy(item)
    out["id"] = item_id or ids.item_id()
    out["object"] = "realtime.item"
    out["status"] = "completed"
    audio: dict[int, bytes] = {}
    if item_type == "message":
        out["content"] = _message_content(item, audio)
    return out, audio


def _message_content(item: dict[str, Any], audio: dict[int, bytes]) -> list[dict[str, Any]]:
    role = item.get("role")
    if role is None:
        raise missing_parameter("item.role")
    if role not in _ROLES:
        raise invalid_value("item.role", role, _ROLES)
    content = item.get("content")
    if content is None:
        raise missing_parameter("item.content")
    if not isinstance(content, list):
        raise invalid_type("item.content", content, "an array")
    parts: list[dict[str, Any]] = []
    for index, raw in enumerate(content):
        param = f"item.content[{index}]"
        if not isinstance(raw, dict):
            raise invalid_type(param, raw, "an object")
        part_type = raw.get("type")
        if part_type not in _PART_TYPES[role]:
            raise invalid_value(f"{param}.type", part_type, _PART_TYPES[role])
        part = copy.deepcopy(raw)
        if part_type in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise missing_parameter(f"{param}.text")
        if part_type in ("input_audio", "output_audio"):
            encoded = part.pop("audio", None)
            if encoded is not None:
                audio[index] = decode_audio(encoded, f"{param}.audio")
            part.setdefault("transcript", None)
        parts.append(part)
    return parts


def decode_audio(encoded: Any, param: str) -> bytes:
    """Decode base64 audio from a client event; ProtocolError names `param` when it is not base64."""
    if not isinstance(encoded, str):
        raise invalid_type(param, encoded, "a string")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(
            "invalid_value", f"Invalid '{param}': expected base64-encoded audio.", param=param
        ) from None
