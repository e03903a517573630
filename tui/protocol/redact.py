"""Display helpers: base64 audio replaced by a size tag, long strings cut, one-line summaries.

Nothing here decodes audio: a base64 string of n characters holds about 3n/4 bytes, and 24 kHz
mono PCM16 is 48 bytes per millisecond (G.711, 8 kHz, 8: the session's formats say which).
"""

from __future__ import annotations

import re
from typing import Any

from .events import AUDIO_FIELDS, GA_SERVER_EVENTS, to_ga
from .summary import PCM16_RATES, AudioRates, audio_tag, looks_base64, rate_of

#: Strings longer than this are cut for display (the capture file keeps them whole).
MAX_DISPLAY_STRING = 200

_BASE64_RUN = re.compile(r"^[A-Za-z0-9+/]{64,}={0,2}$")

_TEXT_FIELDS = frozenset({"message", "text", "transcript", "instructions", "arguments", "code", "param", "reason"})
"""Fields that hold words, never audio: a long one is cut, not called base64 because its first
characters happen to be letters and digits (a hex digest, a word-less error message)."""


def _known(event_type: str) -> bool:
    """Whether `event_type` is a server event of the protocol (either dialect's name)."""
    return to_ga(event_type) in GA_SERVER_EVENTS


def redact(value: Any, *, max_string: int = MAX_DISPLAY_STRING, rates: AudioRates = PCM16_RATES, _key: str = "") -> Any:
    """Return a copy of `value` fit for display: audio fields tagged (their lengths in `rates`, the
    formats the session had applied when the frame passed), long strings cut."""
    if isinstance(value, dict):
        event_type = value.get("type")
        audio_field = AUDIO_FIELDS.get(event_type) if isinstance(event_type, str) else None
        out: dict[str, Any] = {}
        for key, item in value.items():
            if (
                isinstance(item, str)
                and (key == audio_field or (key == "audio" and len(item) > 16))
                and looks_base64(item)
            ):
                out[key] = audio_tag(item, rate_of(event_type, rates))
            elif key == "delta" and audio_field is None and isinstance(event_type, str) and _known(event_type):
                # A known event's delta that is not audio holds words (a text or transcript delta),
                # cut as words are: 80,000 characters of "wordword…" read as "[base64 60000 B]".
                out[key] = redact(item, max_string=max_string, rates=rates, _key="text")
            else:
                out[key] = redact(item, max_string=max_string, rates=rates, _key=key)
        return out
    if isinstance(value, list):
        return [redact(item, max_string=max_string, rates=rates, _key=_key) for item in value]
    if isinstance(value, str):
        if len(value) > max_string and _key not in _TEXT_FIELDS and _BASE64_RUN.match(value[:4096]):
            return f"[base64 {len(value) * 3 // 4} B]"
        if len(value) > max_string:
            return value[:max_string] + f"… (+{len(value) - max_string} chars)"
    return value
