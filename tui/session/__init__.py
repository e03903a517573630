"""The websocket client side: targets, the session (reader + writer tasks), the capture file."""

from tui.protocol.records import envelope_record

from .capture import (
    CaptureError,
    CaptureWriter,
    data_dir,
    iter_capture,
    new_session_dir,
    read_capture,
)
from .client import FRAMES, ConnectionFailed, ConnectionState, RealtimeSession
from .targets import Target, TargetError, is_loopback_host, openai_target, simulator_target, url_target

__all__ = [
    "FRAMES",
    "CaptureError",
    "CaptureWriter",
    "ConnectionFailed",
    "ConnectionState",
    "RealtimeSession",
    "Target",
    "TargetError",
    "data_dir",
    "envelope_record",
    "is_loopback_host",
    "iter_capture",
    "new_session_dir",
    "openai_target",
    "read_capture",
    "simulator_target",
    "url_target",
]
