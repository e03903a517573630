"""The websocket client side: targets, the session (reader + writer tasks), the capture file."""

from .capture import CaptureWriter, data_dir, envelope_record, new_session_dir
from .client import FRAMES, ConnectionFailed, ConnectionState, RealtimeSession
from .targets import Target, TargetError, openai_target, simulator_target, url_target

__all__ = [
    "FRAMES",
    "CaptureWriter",
    "ConnectionFailed",
    "ConnectionState",
    "RealtimeSession",
    "Target",
    "TargetError",
    "data_dir",
    "envelope_record",
    "new_session_dir",
    "openai_target",
    "simulator_target",
    "url_target",
]
