"""What the simulated assistant says: an echo of what it heard, so tests can assert keywords."""

from __future__ import annotations

import zlib

_FOLLOW_UPS = (
    "That is an interesting question.",
    "Thanks for telling me.",
    "I am only a local simulator, so that is all I can say.",
    "Let me know if there is anything else.",
)

_NOTHING_HEARD = "Sorry, I could not make out what you said. Could you say it again?"
_EMPTY_CONVERSATION = "Hello! I am the local Realtime simulator. Say something and I will repeat it."


def compose_reply(heard: str | None) -> str:
    """The assistant's answer to the last user message.

    `heard` is the recognized or typed text of that message: None when the conversation has
    no user message, "" when its audio held nothing intelligible.
    """
    if heard is None:
        return _EMPTY_CONVERSATION
    words = " ".join(heard.split()).strip()
    if not words:
        return _NOTHING_HEARD
    quoted = words.rstrip(".!?,;:")
    # Deterministic per input so repeated test runs hear the same answer.
    follow_up = _FOLLOW_UPS[zlib.crc32(quoted.lower().encode("utf-8")) % len(_FOLLOW_UPS)]
    return f'You said: "{quoted}". {follow_up}'
