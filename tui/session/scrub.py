"""Keeping the API key out of everything rt-tui shows or writes.

The session scrubs every envelope before it reaches the bus, so the event log, its detail view,
notifications, `rt-tui send --json` and the capture file all see the same clean frames, even when a
server echoes the key back in an error message (some compatible servers do).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tui.protocol import Direction, Envelope

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
"""Shorter credentials are not scrubbed (see `Scrubber`)."""


class Scrubber:
    """Replaces each secret with `[redacted]` in text, JSON values and envelopes."""

    def __init__(self, secrets: tuple[str | None, ...] = ()) -> None:
        # Longest first, so a key that contains another secret is replaced whole. Shorter strings
        # are not scrubbed: replacing every "1" or "text" would corrupt the frames themselves, and a
        # credential that short protects nothing anyway.
        self._secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        """A JSON value (dicts, lists, strings) with every secret replaced in its strings (keys are
        the protocol's field names, never a secret, and are left alone)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def envelope(self, env: Envelope) -> Envelope:
        """`env` itself when it holds no secret, else a copy with its raw text and data scrubbed.

        A frame's data is parsed from its raw text, so one substring search of the raw text per
        secret decides, unless the text has JSON escapes. Local facts carry messages rt-tui built
        (from exceptions, close reasons), so their data is always checked; they are small.
        """
        if not self._secrets:
            return env
        is_frame = env.direction is not Direction.LOCAL and not env.type.startswith("rt.")
        # JSON escapes (`\/`, `\u00xx`) can hide a secret from the raw text that parsing reveals.
        escaped = "\\" in env.raw
        if is_frame and not escaped and not any(secret in env.raw for secret in self._secrets):
            return env  # the common case: one substring search per secret
        data, raw = self.value(env.data), self.text(env.raw)
        if data == env.data and raw == env.raw:
            return env
        if is_frame and escaped and data != env.data:
            # The raw text may still spell a secret with escapes: write it again from the clean data.
            raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return dataclasses.replace(env, data=data, raw=raw)
