"""The top level of a client event: which fields each event type may carry, and which it must.

The service checks a client event's own fields before acting on it: a field the event does not
declare is `unknown_parameter` (param = its name, e.g. `foo`), a missing required one is
`missing_required_parameter`, and nothing of the event is applied (protocol reference §1.6, §7).
The field lists follow the official SDK's client event types (openai-python
`types/realtime/*_event_param.py` and `types/beta/realtime/*_event_param.py`, which declare the
same fields in both dialects); tests/test_server_round28.py cross-checks them. What each field
holds is checked by the event's handler.
"""

from __future__ import annotations

from typing import Any

from .errors import ProtocolError, invalid_type, missing_parameter, string_too_long, unknown_parameter

EVENT_ID_CHARS = 512
"""GA's limit on a client `event_id` (`maxLength: 512` in the spec's client event schemas)."""

#: Event type → (optional fields, required fields), beside `type` and `event_id`.
CLIENT_EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "session.update": ((), ("session",)),
    "transcription_session.update": ((), ("session",)),
    "input_audio_buffer.append": ((), ("audio",)),
    "input_audio_buffer.commit": ((), ()),
    "input_audio_buffer.clear": ((), ()),
    "output_audio_buffer.clear": ((), ()),
    "conversation.item.create": (("previous_item_id",), ("item",)),
    "conversation.item.retrieve": ((), ("item_id",)),
    "conversation.item.truncate": ((), ("item_id", "content_index", "audio_end_ms")),
    "conversation.item.delete": ((), ("item_id",)),
    "response.create": (("response",), ()),
    "response.cancel": (("response_id",), ()),
}
_ENVELOPE = ("type", "event_id")


def check_event_id(event: dict[str, Any], *, max_chars: int | None) -> None:
    """Refuse an `event_id` that is not a string, or (GA) longer than `max_chars`. A null one is
    taken as none: the official SDK sends `"event_id": null` for an event the caller gave none."""
    event_id = event.get("event_id")
    if event_id is None:
        return
    if not isinstance(event_id, str):
        raise invalid_type("event_id", event_id, "a string")
    if max_chars is not None and len(event_id) > max_chars:
        raise string_too_long("event_id", len(event_id), max_chars)


def check_fields(event: dict[str, Any], event_type: str) -> None:
    """Refuse a client event missing a required field or carrying one its type does not declare.

    Required fields are checked first, as for the `session` object (schema.obj). Types not
    listed here are left to their handler.
    """
    fields = CLIENT_EVENT_FIELDS.get(event_type)
    if fields is None:
        return
    optional, required = fields
    for key in required:
        if key not in event:
            raise missing_parameter(key)
    allowed = (*_ENVELOPE, *optional, *required)
    for key in event:
        if key not in allowed:
            raise unknown_parameter(key)


def valid_event_id(event: dict[str, Any], *, max_chars: int | None) -> str | None:
    """The client's `event_id` to echo in an error about this event: None unless it is valid."""
    try:
        check_event_id(event, max_chars=max_chars)
    except ProtocolError:
        return None
    event_id = event.get("event_id")
    return event_id if isinstance(event_id, str) else None
