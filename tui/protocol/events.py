"""Realtime event names for the GA and the retired beta dialects, and the mapping between them.

The GA names are canonical everywhere inside rt-tui; beta names are translated at the edge
(the simulator's beta dialect, and the reducer when it reads a beta server).
"""

from __future__ import annotations

from enum import StrEnum


class Dialect(StrEnum):
    """Which shape of the protocol a peer speaks."""

    GA = "ga"
    BETA = "beta"


#: Client events accepted by the GA server over a WebSocket.
GA_CLIENT_EVENTS: frozenset[str] = frozenset(
    {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
        "output_audio_buffer.clear",
    }
)

#: Server events of the GA dialect.
GA_SERVER_EVENTS: frozenset[str] = frozenset(
    {
        "error",
        "session.created",
        "session.updated",
        "conversation.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.created",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "response.created",
        "response.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "rate_limits.updated",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
    }
)

#: Beta server event name -> GA name, where they differ (protocol reference §1.7).
BETA_TO_GA_SERVER: dict[str, str] = {
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "transcription_session.created": "session.created",
    "transcription_session.updated": "session.updated",
}

#: GA server event name -> beta name, the inverse of :data:`BETA_TO_GA_SERVER` for the renamed
#: response events. `conversation.item.added`/`.done` have no one-to-one beta name: a beta server
#: sends a single `conversation.item.created` instead (see :data:`GA_ONLY_SERVER_EVENTS`).
GA_TO_BETA_SERVER: dict[str, str] = {
    ga: beta for beta, ga in BETA_TO_GA_SERVER.items() if not beta.startswith("transcription_session")
}

#: GA server events that a beta server never sends.
GA_ONLY_SERVER_EVENTS: frozenset[str] = frozenset(
    {
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
    }
)

#: Beta client events whose name differs from GA.
BETA_TO_GA_CLIENT: dict[str, str] = {"transcription_session.update": "session.update"}

#: Server events that carry base64 audio in a field, with that field's name.
AUDIO_FIELDS: dict[str, str] = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
    "response.audio.delta": "delta",
}


def to_ga(event_type: str) -> str:
    """Return the GA name of a server or client event type (unchanged when already GA or unknown)."""
    return BETA_TO_GA_SERVER.get(event_type) or BETA_TO_GA_CLIENT.get(event_type) or event_type


def to_beta(event_type: str) -> str:
    """Return the beta name of a GA server event type (unchanged when the name is shared)."""
    return GA_TO_BETA_SERVER.get(event_type, event_type)


MCP_SERVER_EVENTS: frozenset[str] = frozenset(
    {
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    }
)
"""GA server events of the MCP tool family: real events that the tables above leave out (`is_known`
says no), which the linter and `send` must not call unknown."""


def is_known(event_type: str) -> bool:
    """True when the type is a client or server event of either dialect."""
    ga = to_ga(event_type)
    return ga in GA_SERVER_EVENTS or ga in GA_CLIENT_EVENTS
