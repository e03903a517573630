"""Helpers for the protocol-surface tests: raw handshakes, the beta dialect, both SDK judges."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pydantic
from openai.types.beta.realtime import RealtimeServerEvent as BetaServerEvent
from openai.types.beta.realtime import TranscriptionSessionUpdatedEvent
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.server_helpers import golden_shape, recv
from tests.test_server_conformance import judge, unknown_fields
from tui.server import Simulator

BETA_HEADER = {"OpenAI-Beta": "realtime=v1"}
GOLDEN = Path(__file__).parent / "golden" / "surface"

__all__ = ["judge", "judge_beta"]

_BETA_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(BetaServerEvent)
#: Fields the beta service sent that the beta SDK models do not declare.
_BETA_UNDECLARED_OK = {"session.object", "session.expires_at"}
#: The SDK models `transcription_session.*` with the REST session type, which requires a
#: `client_secret` that WebSocket events never carry and lacks fields the beta request had
#: (openai/openai-openapi#568); `transcription_session.created` is missing from its union.
_TRANSCRIPTION_SESSION_UNDECLARED_OK = {"session.id", "session.include", "session.input_audio_noise_reduction"}


def judge_beta(event: dict[str, Any]) -> None:
    """Validate a beta-dialect server event with the official SDK's beta types, extras refused."""
    if event["type"].startswith("transcription_session."):
        patched = {
            **event,
            "type": "transcription_session.updated",
            "session": {**event["session"], "client_secret": {"value": "ek_x", "expires_at": 0}},
        }
        model: Any = TranscriptionSessionUpdatedEvent.model_validate(patched)
        allowed = _BETA_UNDECLARED_OK | _TRANSCRIPTION_SESSION_UNDECLARED_OK
    else:
        model = _BETA_ADAPTER.validate_python(event)
        assert model.type == event["type"]
        allowed = _BETA_UNDECLARED_OK
    extra = [path for path in unknown_fields(model) if path not in allowed]
    assert extra == [], (event["type"], extra)


def port_of(sim: Simulator) -> int:
    """The simulator's bound port."""
    return int(sim.url.rsplit(":", 1)[1].split("/")[0])


def official_client(sim: Simulator, api_key: str = "sk-test") -> openai.AsyncOpenAI:
    """The official client pointed at the simulator."""
    return openai.AsyncOpenAI(api_key=api_key, websocket_base_url=f"ws://127.0.0.1:{port_of(sim)}/v1")


@contextlib.asynccontextmanager
async def raw(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    subprotocols: list[str] | None = None,
) -> AsyncIterator[ClientConnection]:
    """A raw WebSocket to `url` (which carries its own query), nothing received yet."""
    async with connect(
        url,
        additional_headers=headers,
        subprotocols=[Subprotocol(p) for p in subprotocols] if subprotocols else None,
        compression=None,
        max_size=64 * 2**20,
    ) as ws:
        yield ws


async def refusal(url: str, **kwargs: Any) -> tuple[dict[str, Any], int | None, str | None, list[dict[str, Any]]]:
    """Connect, expect the 101, and return (first event, close code, close reason, later events)."""
    async with raw(url, **kwargs) as ws:
        first = await recv(ws, timeout=5)
        later: list[dict[str, Any]] = []
        try:
            while True:
                later.append(json.loads(await ws.recv()))
        except ConnectionClosed:
            pass
        received = ws.protocol.close_rcvd
    return first, received.code if received else None, received.reason if received else None, later


@contextlib.asynccontextmanager
async def beta_client(url: str, *, path: str = "?model=gpt-4o-realtime-preview") -> AsyncIterator[ClientConnection]:
    """A raw beta-dialect socket (OpenAI-Beta header), already past the first event."""
    async with raw(url + path, headers=BETA_HEADER) as ws:
        first = await recv(ws, timeout=5)
        assert first["type"] in ("session.created", "transcription_session.created"), first
        yield ws


def golden(name: str) -> Any:
    """A hand-written fixture from tests/golden/surface/."""
    return json.loads((GOLDEN / name).read_text())


def shape_of(value: Any) -> Any:
    """The golden comparison of tests/server_helpers.py (`golden_shape`)."""
    return golden_shape(value)


class Judged:
    """Events of an official-client connection, each parsed by the SDK and judged as it arrives.

    `conn` is what `client.realtime.connect()` or `client.beta.realtime.connect()` yields; raw
    frames come from its `recv_bytes()` so undeclared fields are seen, not dropped by parsing.
    """

    def __init__(self, conn: Any, *, beta: bool = False) -> None:
        self.conn = conn
        self._judge = judge_beta if beta else judge
        self.events: list[dict[str, Any]] = []

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next server event (parsed by the SDK and judged)."""
        raw_frame = await asyncio.wait_for(self.conn.recv_bytes(), timeout)
        event: dict[str, Any] = json.loads(raw_frame)
        assert self.conn.parse_event(raw_frame).type == event["type"]
        self._judge(event)
        self.events.append(event)
        return event

    async def until(self, event_type: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Events up to and including the first of `event_type`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        got: list[dict[str, Any]] = []
        while True:
            got.append(await self.next(max(deadline - loop.time(), 0.001)))
            if got[-1]["type"] == event_type:
                return got

    async def during(self, seconds: float) -> list[dict[str, Any]]:
        """Every event that arrives within `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        got: list[dict[str, Any]] = []
        while (remaining := deadline - loop.time()) > 0:
            try:
                got.append(await self.next(remaining))
            except TimeoutError:
                break
        return got


def unchecked(payload: dict[str, Any]) -> Any:
    """A payload the SDK's static types would refuse (the SDK sends undeclared keys unchanged), or
    that mypy cannot see as theirs."""
    return payload
