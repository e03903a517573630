"""Event families: the groups the event log colours by and the filter toggles."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from tui.protocol import is_known, to_ga


class Family(StrEnum):
    """What part of the protocol an event belongs to."""

    SESSION = "session"
    INPUT = "input"
    """The input audio buffer (and the WebRTC output buffer events)."""
    CONVERSATION = "conversation"
    TRANSCRIPTION = "transcription"
    """User-audio transcription: `conversation.item.input_audio_transcription.*`."""
    RESPONSE = "response"
    ERROR = "error"
    LOCAL = "local"
    """Facts of rt-tui itself: connection state, capture, devices."""
    UNKNOWN = "unknown"
    """A type neither dialect defines."""


ERROR_LOCAL_TYPES = frozenset({"rt.malformed", "rt.client_error", "rt.refused"})
"""Local facts that report a fault rather than a state."""


@lru_cache(maxsize=4096)
def family_of(event_type: str) -> Family:
    """The family of an event type (GA or beta name, or a local `rt.*` type)."""
    if event_type.startswith("rt."):
        return Family.ERROR if event_type in ERROR_LOCAL_TYPES else Family.LOCAL
    if event_type == "error" or event_type.endswith(".failed"):
        return Family.ERROR
    if not is_known(event_type):
        return Family.UNKNOWN
    ga = to_ga(event_type)
    if ga.startswith("conversation.item.input_audio_transcription."):
        return Family.TRANSCRIPTION
    if ga.startswith(("session.", "transcription_session.", "rate_limits.")) or ga == "conversation.created":
        return Family.SESSION
    if ga.startswith(("input_audio_buffer.", "output_audio_buffer.")):
        return Family.INPUT
    if ga.startswith("conversation."):
        return Family.CONVERSATION
    if ga.startswith("response."):
        return Family.RESPONSE
    return Family.UNKNOWN
