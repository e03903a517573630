"""Parsing and serializing Realtime frames. Pure functions: no sockets, no loop."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any


class FrameError(ValueError):
    """A frame that is not a JSON object with a string `type`."""


def parse(raw: str | bytes) -> dict[str, Any]:
    """Parse one text frame into its JSON object.

    Raises FrameError with a one-line reason when the frame is binary, not JSON, not an object,
    or lacks a string `type`.
    """
    if isinstance(raw, bytes):
        raise FrameError(f"binary frame of {len(raw)} bytes (the Realtime API sends text frames only)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FrameError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise FrameError(f"JSON {type(data).__name__}, expected an object")
    if not isinstance(data.get("type"), str):
        raise FrameError("JSON object without a string 'type' field")
    return data


def serialize(event: dict[str, Any]) -> str:
    """Serialize an event compactly, as the official clients do."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


_BASE62 = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    """A random id shaped like the service's: `prefix` + `length` base62 characters."""
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(length))


def client_event_id() -> str:
    """An id for a client event, so the server can echo it in an `error`."""
    return new_id("evt_", 16)
