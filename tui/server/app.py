"""The WebSocket server: routing `/v1/realtime`, one Connection per socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tui.protocol import serialize

from . import ids
from .asr import get_asr
from .budget import MemoryBudget
from .config import SimulatorConfig
from .connection import Connection
from .errors import ProtocolError
from .handshake import Refused, check_request
from .scenario import SCENARIO_CLOSE_CODE, Scenario, ScenarioError
from .tts import get_tts

_log = logging.getLogger(__name__)

REALTIME_PATH = "/v1/realtime"
_SUBPROTOCOL = Subprotocol("realtime")

CLOSE_TIMEOUT_SECONDS = 1.0
"""How long a closing connection waits for its client's answer before the TCP connection is dropped."""


class Simulator:
    """A local Realtime API server on loopback (or any host), GA dialect unless configured for beta.

    ```
    async with Simulator(SimulatorConfig()) as sim:
        connect(sim.url + "?model=gpt-realtime")
    ```
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.budget = MemoryBudget(self.config.max_total_buffered_bytes)
        """What every connection holds for its client, capped in total (see budget.py)."""
        self._server: Server | None = None
        self._port: int | None = None

    async def start(self) -> None:
        """Bind and start accepting connections."""
        if self._server is not None:
            return
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=_route,
            select_subprotocol=_select_subprotocol,
            compression=None,
            # A bigger frame is refused by websockets itself: close 1009, "frame with N bytes
            # exceeds limit of M bytes", before any of it is buffered.
            max_size=self.config.max_frame_bytes,
            max_queue=self.config.max_inbound_queue,
            ping_interval=self.config.ping_interval,
            # Stopping (Ctrl+C on `rt-tui serve`) closes every connection: a client that no longer
            # reads, its socket full, held that for websockets' 10 s default, per connection.
            close_timeout=CLOSE_TIMEOUT_SECONDS,
        )
        self._port = int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        """`ws://HOST:PORT/v1/realtime`, with the port actually bound."""
        if self._port is None:
            raise RuntimeError("Simulator.url is known only after start()")
        host = self.config.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"ws://{host}:{self._port}{REALTIME_PATH}"

    async def close(self) -> None:
        """Close every connection (1001 going away) and stop listening."""
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        decision = check_request(request.path, request.headers, self.config)
        if isinstance(decision, Refused):
            await _refuse(ws, decision)
            return
        try:
            scenario = Scenario.from_query(parse_qs(urlsplit(request.path).query), self.config.scenario)
        except ScenarioError as err:
            await _refuse(ws, Refused(ProtocolError(err.code, err.message, param=err.key), SCENARIO_CLOSE_CODE))
            return
        connection = Connection(
            ws,
            self.config,
            model=decision.model,
            kind=decision.kind,
            asr=get_asr(),
            tts=get_tts(),
            scenario=scenario,
            budget=self.budget,
        )
        try:
            await connection.run()
        except Exception:
            _log.exception("simulator: connection failed")


async def _refuse(ws: ServerConnection, refused: Refused) -> None:
    """After the 101: one `error` event, then the close frame at once (protocol reference §1.2)."""
    event = {"type": "error", "event_id": ids.event_id(), "error": refused.error.payload(None)}
    try:
        await ws.send(serialize(event))
        await ws.close(refused.close_code, refused.close_reason)
    except ConnectionClosed:
        pass


def _route(connection: ServerConnection, request: Request) -> Response | None:
    if urlsplit(request.path).path.rstrip("/") == REALTIME_PATH:
        return None
    return connection.respond(HTTPStatus.NOT_FOUND, f"Not found: {urlsplit(request.path).path}\n")


def _select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    # Browsers put the key in `openai-insecure-api-key.<key>` and expect `realtime` back.
    return _SUBPROTOCOL if _SUBPROTOCOL in offered else None


async def run_server(config: SimulatorConfig, *, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled; `on_ready` receives the URL once listening."""
    async with Simulator(config) as simulator:
        if on_ready is not None:
            on_ready(simulator.url)
        await asyncio.Future()
