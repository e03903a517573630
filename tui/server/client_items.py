"""Items sent by the client in `conversation.item.create`: checked and put in stored shape.

The checks follow the GA item types (openai-python `types/realtime/conversation_item_param.py`):
role-appropriate content types, no undeclared fields, and a `function_call_output` only for a
`call_id` the conversation holds (protocol reference §2.4, §9 item 20).
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any

from . import ids
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter
from .schema import Check, enum, obj, tagged, text

ITEM_TYPES = ["message", "function_call", "function_call_output"]
ROLES = ["user", "assistant", "system"]

#: Fields every item may carry; the server sets `object` and `status` itself.
_ITEM_FIELDS: dict[str, Check] = {
    "id": text,
    "type": text,
    "object": enum("realtime.item"),
    "status": enum("completed", "incomplete", "in_progress"),
}
_INPUT_TEXT = obj({"type": text, "text": text}, required=["text"])
_AUDIO_PART = obj({"type": text, "audio": text, "transcript": text})


def _refused(value: Any, path: str) -> None:
    """An assistant `output_audio` part: the service cannot recreate assistant audio from a client.

    The SDK types declare it, but the service reads every assistant part as text and answers
    `missing_required_parameter` on its `text` (openai/openai-agents-js#963, whose SDK now refuses
    such history itself; the beta docs listed the same limitation). Responses still make them.
    """
    raise missing_parameter(f"{path}.text")


_PARTS: dict[str, Check] = {
    "user": tagged(
        {
            "input_text": _INPUT_TEXT,
            "input_audio": _AUDIO_PART,
            "input_image": obj(
                {"type": text, "image_url": text, "detail": enum("auto", "low", "high")}, required=["image_url"]
            ),
        }
    ),
    "system": tagged({"input_text": _INPUT_TEXT}),
    "assistant": tagged(
        {"output_text": obj({"type": text, "text": text}, required=["text"]), "output_audio": _refused}
    ),
}
_FUNCTION_CALL = obj(
    {**_ITEM_FIELDS, "call_id": text, "name": text, "arguments": text}, required=["call_id", "name", "arguments"]
)
_FUNCTION_CALL_OUTPUT = obj({**_ITEM_FIELDS, "call_id": text, "output": text}, required=["call_id", "output"])


def _message(value: Any, path: str) -> None:
    role = value.get("role")
    if role is None:
        raise missing_parameter(f"{path}.role")
    if role not in ROLES:
        raise invalid_value(f"{path}.role", role, ROLES)
    parts = _PARTS[str(role)]

    def content(entries: Any, content_path: str) -> None:
        if not isinstance(entries, list):
            raise invalid_type(content_path, entries, "an array")
        for index, part in enumerate(entries):
            parts(part, f"{content_path}[{index}]")

    obj({**_ITEM_FIELDS, "role": text, "content": content}, required=["content"])(value, path)


_ITEM = tagged({"message": _message, "function_call": _FUNCTION_CALL, "function_call_output": _FUNCTION_CALL_OUTPUT})


def normalize_client_item(
    item: Any,
    *,
    decode: Callable[[str, bytes], bytes] | None = None,
    call_exists: Callable[[str], bool] = lambda call_id: False,
) -> tuple[dict[str, Any], dict[int, bytes]]:
    """Return the item as the server announces it (no audio bytes) and its decoded audio.

    `decode(role, wire)` turns an audio part's bytes into internal PCM16 (G.711 sessions);
    `call_exists` says whether a `function_call` with that `call_id` is in the conversation.
    A client-supplied `id` is honoured; a client `transcript` on audio is kept (it is stored
    "for reference" and never replaced by server ASR, since item.create audio is not transcribed).
    """
    if item is None:
        raise missing_parameter("item")
    _ITEM(item, "item")
    assert isinstance(item, dict)
    if item["type"] == "function_call_output" and not call_exists(item["call_id"]):
        raise ProtocolError(
            "invalid_value",
            f"No function call with call_id '{item['call_id']}' found in the conversation.",
            param="item.call_id",
        )
    out = copy.deepcopy(item)
    out["id"] = item.get("id") or ids.item_id()
    out["object"] = "realtime.item"
    out["status"] = "completed"
    audio: dict[int, bytes] = {}
    role = str(item.get("role", ""))
    for index, part in enumerate(out.get("content") or []):
        if part["type"] not in ("input_audio", "output_audio"):
            continue
        encoded = part.pop("audio", None)
        if encoded is not None:
            wire = decode_audio(encoded, f"item.content[{index}].audio")
            audio[index] = decode(role, wire) if decode is not None else wire
        part.setdefault("transcript", None)
    return out, audio


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
