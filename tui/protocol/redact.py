"""Display helpers: base64 audio replaced by a size tag, long strings cut, one-line summaries.

Nothing here decodes audio: a base64 string of n characters holds about 3n/4 bytes, and 24 kHz
mono PCM16 is 48 bytes per millisecond.
"""

from __future__ import annotations

import re
from typing import Any

from .events import AUDIO_FIELDS
from .fields import error_summary, field, text
from .summary import audio_tag

#: Strings longer than this are cut for display (the capture file keeps them whole).
MAX_DISPLAY_STRING = 200

_BASE64_RUN = re.compile(r"^[A-Za-z0-9+/]{64,}={0,2}$")

_TEXT_FIELDS = frozenset({"message", "text", "transcript", "instructions", "arguments", "code", "param", "reason"})
"""Fields that hold words, never audio: a long one is cut, not called base64 because its first
characters happen to be letters and digits (a hex digest, a word-less error message)."""


def redact(value: Any, *, max_string: int = MAX_DISPLAY_STRING, _key: str = "") -> Any:
    """Return a copy of `value` fit for display: audio fields tagged, long strings cut."""
    if isinstance(value, dict):
        event_type = value.get("type")
        audio_field = AUDIO_FIELDS.get(event_type) if isinstance(event_type, str) else None
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and (key == audio_field or (key == "audio" and len(item) > 16)):
                out[key] = audio_tag(item)
            else:
                out[key] = redact(item, max_string=max_string, _key=key)
        return out
    if isinstance(value, list):
        return [redact(item, max_string=max_string, _key=_key) for item in value]
    if isinstance(value, str):
        if len(value) > max_string and _key not in _TEXT_FIELDS and _BASE64_RUN.match(value[:4096]):
            return f"[base64 {len(value) * 3 // 4} B]"
        if len(value) > max_string:
            return value[:max_string] + f"… (+{len(value) - max_string} chars)"
    return value


def summarize(data: dict[str, Any]) -> str:
    """A one-line human summary of an event's payload (without its type)."""
    etype = text(data.get("type"))
    if etype == "error":
        return error_summary(data)
    audio_field = AUDIO_FIELDS.get(etype)
    if audio_field and isinstance(data.get(audio_field), str):
        return audio_tag(data[audio_field])
    if "delta" in data and isinstance(data["delta"], str):
        return repr(_cut(data["delta"], 60))
    if "transcript" in data and isinstance(data["transcript"], str):
        return repr(_cut(data["transcript"].strip(), 80))
    if etype.startswith("session."):
        session = field(data, "session")
        return f"{text(session.get('id'))} {text(session.get('model'))}".strip()
    if etype in ("response.created", "response.done"):
        response = field(data, "response")
        return f"{text(response.get('id'))} {text(response.get('status'))}".strip()
    if "item" in data and isinstance(data["item"], dict):
        item = data["item"]
        return f"{text(item.get('id'))} {text(item.get('role')) or text(item.get('type'))}".strip()
    if "item_id" in data:
        return text(data["item_id"])
    if etype.startswith("rt."):
        return text(data.get("message"))
    return ""


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
