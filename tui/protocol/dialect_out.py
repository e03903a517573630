"""Client events in the dialect the server speaks.

rt-tui builds every client event in the GA shape. A server that still speaks the retired beta
interface (Azure OpenAI preview deployments, the simulator's `--local-dialect beta`) refuses GA
fields (`session.type`, `audio.*`, `output_modalities`) with `unknown_parameter` and discards the
whole event, so the client reads the dialect from the server's first frame (:func:`server_dialect`)
and rewrites each event just before it goes on the wire (:func:`client_event_for`). See the
protocol reference §1.6-1.8.
"""

from __future__ import annotations

from typing import Any

from .events import Dialect
from .session_config import format_to_beta, ga_to_beta_session

#: GA assistant content types and their beta names (protocol reference §1.6); the simulator's
#: beta dialect reads the same table.
CONTENT_TO_BETA = {"output_text": "text", "output_audio": "audio"}

#: Flat session fields only the beta session object has: their presence names a beta server even
#: when the object lacks both GA markers (`type`, `audio`) for some other reason.
_BETA_SESSION_FIELDS = frozenset(
    {"modalities", "input_audio_format", "output_audio_format", "input_audio_transcription", "voice", "turn_detection"}
)


def server_dialect(event: dict[str, Any]) -> Dialect | None:
    """The dialect a server speaks, read from its `session.created` (or beta
    `transcription_session.created`); None for any other event, or a session object that shows
    neither shape (e.g. only an id), in which case the client keeps to GA."""
    kind = event.get("type")
    if kind == "transcription_session.created":
        return Dialect.BETA  # a name only the beta interface has
    if kind != "session.created":
        return None
    session = event.get("session")
    if not isinstance(session, dict):
        return None
    return session_dialect(session)


def session_dialect(session: dict[str, Any]) -> Dialect | None:
    """The dialect a session object's shape shows: GA (`type`, `audio`), beta (its flat fields), or
    None for one that shows neither (e.g. only an id: a minimal server, a test peer)."""
    if "type" in session or "audio" in session:
        return Dialect.GA
    if _BETA_SESSION_FIELDS & session.keys():
        return Dialect.BETA
    return None


def client_event_for(event: dict[str, Any], dialect: Dialect | None) -> dict[str, Any]:
    """`event`, a GA client event, in the form a `dialect` server accepts.

    For GA (or an unknown dialect) the event itself is returned. For beta: `session.update` carries
    the flat session (a `type: "transcription"` one becomes `transcription_session.update`),
    `response.create` the beta response fields, and `conversation.item.create` the beta content
    type names; every other event is returned as it is. `event` is never changed: a changed event
    is a new dict. An event too malformed to translate is returned as it is, so the server's own
    error says what is wrong with it.
    """
    if dialect is not Dialect.BETA:
        return event
    translate = _TO_BETA.get(str(event.get("type")))
    if translate is None:
        return event
    try:
        return translate(event)
    except (AttributeError, TypeError, KeyError):
        return event


def _session_update(event: dict[str, Any]) -> dict[str, Any]:
    session = event.get("session")
    if not isinstance(session, dict):
        return event
    out = dict(event)
    if session.get("type") == "transcription":
        out["type"] = "transcription_session.update"
    flat = ga_to_beta_session(session)  # a deep copy: the caller's session stays as it was
    if "tool_choice" in flat:
        flat["tool_choice"] = _beta_tool_choice(flat["tool_choice"])
    out["session"] = flat
    return out


def _response_create(event: dict[str, Any]) -> dict[str, Any]:
    response = event.get("response")
    if not isinstance(response, dict):
        return event  # a bare `response.create` is the same in both dialects
    beta: dict[str, Any] = {}
    for key, value in response.items():
        if key == "output_modalities":
            # GA lists one output; beta lists what the model may produce, text always among it.
            beta["modalities"] = ["text", "audio"] if "audio" in value else ["text"]
        elif key == "max_output_tokens":
            beta["max_response_output_tokens"] = value
        elif key == "audio":
            output = value.get("output") or {}
            if "voice" in output:
                beta["voice"] = output["voice"]
            if "format" in output:
                beta["output_audio_format"] = format_to_beta(output["format"])
        elif key == "input" and isinstance(value, list):
            beta["input"] = [_beta_item(item) for item in value]
        elif key == "tool_choice":
            beta["tool_choice"] = _beta_tool_choice(value)
        else:
            beta[key] = value
    return {**event, "response": beta}


def _item_create(event: dict[str, Any]) -> dict[str, Any]:
    item = event.get("item")
    renamed = _beta_item(item)
    return event if renamed is item else {**event, "item": renamed}


def _beta_item(item: Any) -> Any:
    """An assistant message item with beta content type names; any other item as it is."""
    if not isinstance(item, dict) or item.get("role") != "assistant" or not isinstance(item.get("content"), list):
        return item
    content = [
        {**part, "type": CONTENT_TO_BETA[part["type"]]}
        if isinstance(part, dict) and part.get("type") in CONTENT_TO_BETA
        else part
        for part in item["content"]
    ]
    return {**item, "content": content}


def _beta_tool_choice(value: Any) -> Any:
    """GA names a forced function as `{"type": "function", "name": …}`; beta by its bare name."""
    if isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("name"), str):
        return value["name"]
    return value


_TO_BETA = {
    "session.update": _session_update,
    "response.create": _response_create,
    "conversation.item.create": _item_create,
}
