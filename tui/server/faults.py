"""Faults injected into one connection's outbound stream: broken frames, a dropped socket, a slow
server, and the end of the session at its maximum duration."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

from . import ids
from .scenario import DropMode, Malformed, Scenario, Trigger

#: Close code and error code of a session that reached its maximum duration (protocol reference §7).
SESSION_EXPIRED_CLOSE_CODE = 1001
_DRAIN_POLL_S = 0.002
_DRAIN_LIMIT_S = 2.0


@dataclass(frozen=True, slots=True)
class Drop:
    """A marker in the outbound queue: end the connection here, without a close frame."""

    mode: DropMode


@dataclass(frozen=True, slots=True)
class Stall:
    """A marker in the outbound queue: send nothing more for `seconds` (the connection stays open)."""

    seconds: float


Event = dict[str, Any]
#: What the writer's queue carries: an event to serialize, a raw text frame, a drop or a stall.
Outgoing = dict[str, Any] | str | Drop | Stall


def malformed_frame(kind: Malformed) -> str:
    """The text of a broken frame: not JSON at all, or a JSON object without `type`."""
    if kind is Malformed.NOT_JSON:
        return '{"type": "response.output_text.delta", "delta": "unterminated'
    return json.dumps({"event_id": ids.event_id(), "delta": "a frame without a type"}, separators=(",", ":"))


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.2f}".rstrip("0").rstrip(".")


def session_expired_message(seconds: float) -> str:
    """The service's wording, e.g. "Your session hit the maximum duration of 60 minutes."."""
    return f"Your session hit the maximum duration of {_minutes(seconds)} minutes."


def session_expired_error(seconds: float) -> dict[str, Any]:
    """The `error` object sent when the session reaches its maximum duration."""
    return {
        "type": "invalid_request_error",
        "code": "session_expired",
        "message": session_expired_message(seconds),
        "param": None,
        "event_id": None,
    }


class _Countdown:
    """Fires once, on the n-th sent event matching a trigger (n drawn once per connection)."""

    def __init__(self, trigger: Trigger, rng: random.Random) -> None:
        self.event_type = trigger.event_type
        self.remaining = trigger.nth.pick(rng)

    def hit(self, event_type: str) -> bool:
        if self.remaining <= 0 or (self.event_type != "*" and self.event_type != event_type):
            return False
        self.remaining -= 1
        return self.remaining == 0


class Faults:
    """Per-connection fault state: which sent event triggers what, and the outbound pacing."""

    def __init__(self, scenario: Scenario, *, counts_rng: random.Random, latency_rng: random.Random) -> None:
        self._scenario = scenario
        self._latency_rng = latency_rng
        self._malformed = _Countdown(scenario.malformed_after, counts_rng) if scenario.malformed else None
        self._drop = _Countdown(scenario.drop_after, counts_rng) if scenario.drop_after is not None else None
        self._stall = _Countdown(scenario.stall_after, counts_rng) if scenario.stall_after is not None else None
        self.dropped = False

    @property
    def paced(self) -> bool:
        """True when frames must wait before they are sent (latency or a bandwidth cap)."""
        return self._scenario.latency_ms is not None or self._scenario.bandwidth_kbps is not None

    def after(self, event: Event) -> list[Outgoing]:
        """What follows a sent event: broken frames, a drop, or nothing."""
        event_type = str(event.get("type"))
        extra: list[Outgoing] = []
        if self._malformed is not None and self._malformed.hit(event_type):
            extra += [malformed_frame(kind) for kind in self._scenario.malformed]
        if self._stall is not None and self._stall.hit(event_type):
            extra.append(Stall(self._scenario.stall_ms.pick(self._latency_rng) / 1000.0))
        if self._drop is not None and self._drop.hit(event_type):
            extra.append(Drop(self._scenario.drop_mode))
            self.dropped = True
        return extra

    async def pace(self, frame: bytes) -> None:
        """Wait as a slow server would before sending `frame`."""
        delay = 0.0
        if self._scenario.latency_ms is not None:
            delay += self._scenario.latency_ms.pick(self._latency_rng) / 1000.0
        if self._scenario.bandwidth_kbps is not None:
            delay += len(frame) * 8 / (self._scenario.bandwidth_kbps * 1000.0)
        if delay > 0:
            await asyncio.sleep(delay)


async def drop_connection(ws: ServerConnection, mode: DropMode) -> None:
    """End the TCP connection under the WebSocket without a close frame (the client sees 1006).

    What was sent before the drop is flushed first, so the client receives exactly the events
    up to the trigger.
    """
    transport = ws.transport
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DRAIN_LIMIT_S
    while transport.get_write_buffer_size() > 0 and loop.time() < deadline:
        await asyncio.sleep(_DRAIN_POLL_S)
    if mode is DropMode.RESET:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
