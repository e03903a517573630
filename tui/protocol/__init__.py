"""The Realtime protocol as data: event names, envelopes, codec, session config, redaction.

Standard library only: no sockets, no event loop, no UI.
"""

from .codec import (
    FrameError,
    checked,
    client_event_id,
    json_type_name,
    new_id,
    parse,
    parse_frame,
    serialize,
    string_span,
)
from .dialect_out import client_event_for, server_dialect, session_dialect
from .envelope import DIR_IN, DIR_LOCAL, DIR_OUT, Direction, Envelope, local_envelope, next_seq
from .events import MCP_SERVER_EVENTS, Dialect, is_known, to_beta, to_ga
from .fields import error_summary, field, ident, integer, obj, objects, text
from .printable import printable, short_target
from .redact import redact
from .session_config import (
    ClientSessionOptions,
    beta_to_ga_session,
    ga_to_beta_session,
    session_update,
    transcription_config,
    turn_detection_config,
)
from .summary import audio_tag

__all__ = [
    "DIR_IN",
    "DIR_LOCAL",
    "DIR_OUT",
    "string_span",
    "ClientSessionOptions",
    "Dialect",
    "Direction",
    "Envelope",
    "FrameError",
    "audio_tag",
    "checked",
    "error_summary",
    "field",
    "ident",
    "integer",
    "obj",
    "objects",
    "text",
    "beta_to_ga_session",
    "client_event_for",
    "client_event_id",
    "ga_to_beta_session",
    "is_known",
    "json_type_name",
    "MCP_SERVER_EVENTS",
    "local_envelope",
    "next_seq",
    "new_id",
    "parse",
    "parse_frame",
    "printable",
    "short_target",
    "redact",
    "serialize",
    "server_dialect",
    "session_dialect",
    "session_update",
    "to_beta",
    "to_ga",
    "transcription_config",
    "turn_detection_config",
]
