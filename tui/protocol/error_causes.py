"""Which client event an `error` without `event_id` answers: the types its code or param name.

A client that sends no `event_id` (the official openai SDK sends `event_id: null`) gets errors
that name no frame. Some still say what kind of frame they answer: their `code` is only ever
sent about one client event type (`input_audio_buffer_commit_empty` about a commit), or their
`param` is a field only one type has (`session.…` in `session.update`). Ambiguous ones
(`item_id`, which truncate, delete and retrieve all have; `audio`, of appends, which nothing
acknowledges; `type`) name none: better no link than a wrong one.

Shared by the journal's error ↔ cause links and (proposed) by the linter's error rules.
"""

from __future__ import annotations

CAUSE_OF_CODE: dict[str, tuple[str, ...]] = {
    "input_audio_buffer_commit_empty": ("input_audio_buffer.commit",),
    "conversation_already_has_active_response": ("response.create",),
    "response_cancel_not_active": ("response.cancel",),
    "item_retrieve_invalid_item_id": ("conversation.item.retrieve",),
    "item_delete_invalid_item_id": ("conversation.item.delete",),
    "item_truncate_invalid_item_id": ("conversation.item.truncate",),
}
"""Error codes sent only about one client event type."""

CAUSE_OF_PARAM: dict[str, tuple[str, ...]] = {
    "session": ("session.update", "transcription_session.update"),
    "response": ("response.create",),
    "item": ("conversation.item.create",),
    "previous_item_id": ("conversation.item.create",),
    "audio_end_ms": ("conversation.item.truncate",),
    "content_index": ("conversation.item.truncate",),
}
"""The first segment of an error's `param` → the client event types that have that field.
(The two session updates are one kind of frame: a connection uses one dialect's.)"""

ANSWERED_BY: dict[str, str] = {
    "session.updated": "session.update",
    "transcription_session.updated": "transcription_session.update",
    "conversation.item.deleted": "conversation.item.delete",
    "conversation.item.retrieved": "conversation.item.retrieve",
    "conversation.item.truncated": "conversation.item.truncate",
}
"""Server events that answer the oldest unanswered client event of a type, one for one (the
server answers in order). Commits, creates and cancels have answers that need more care."""

CAUSE_TYPES = frozenset(t for types in (*CAUSE_OF_CODE.values(), *CAUSE_OF_PARAM.values()) for t in types)
"""Every client event type an error without event_id can be tied to."""

UNREADABLE_ANSWERS = frozenset({"invalid_json", "invalid_event"})
"""The error codes a server answers a frame it cannot read with (it has no event_id to name)."""


def cause_types(code: str, param: str) -> tuple[str, ...]:
    """The client event types an error with `code` and `param` can answer; empty when it could be
    about several kinds of frame (or about none of ours)."""
    if code in UNREADABLE_ANSWERS:
        return ()  # its param is a path in a frame of any type
    by_code = CAUSE_OF_CODE.get(code)
    if by_code is not None:
        return by_code
    root = param.split(".", 1)[0].split("[", 1)[0]
    return CAUSE_OF_PARAM.get(root, ())
