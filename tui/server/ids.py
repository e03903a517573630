"""Identifiers shaped like the service's, and the random padding of GA delta events."""

from __future__ import annotations

import secrets
import string

from tui.protocol import new_id

_PADDING_ALPHABET = string.ascii_letters + string.digits


def event_id() -> str:
    """A server event id: `event_` + 21 base62 characters."""
    return new_id("event_")


def item_id() -> str:
    """A conversation item id: `item_` + 21 base62 characters."""
    return new_id("item_")


def response_id() -> str:
    """A response id: `resp_` + 21 base62 characters."""
    return new_id("resp_")


def session_id() -> str:
    """A session id: `sess_` + 21 base62 characters."""
    return new_id("sess_")


def conversation_id() -> str:
    """A conversation id: `conv_` + 21 base62 characters."""
    return new_id("conv_")


def call_id() -> str:
    """A function call id: `call_` + 16 base62 characters (protocol reference §2.1)."""
    return new_id("call_", 16)


def obfuscation(text: str) -> str:
    """Random padding for a delta event.

    The service pads deltas so that payload sizes do not leak the text; clients must ignore it.
    Its length varies inversely with the delta's, like the real padding.
    """
    length = max(2, 16 - len(text) % 16)
    return "".join(secrets.choice(_PADDING_ALPHABET) for _ in range(length))
