"""A live session follows no redirect: its key would go wherever one points.

websockets' `connect` follows a 3xx to any host, stripping only `Authorization` and `Cookie`
across origins: an Azure target's `api-key` header went to the host the redirect named. The
session now fails with the refusal it is, naming where the redirect pointed (credentials in that
URL masked). Real servers on loopback.
"""

from __future__ import annotations

import http

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tui.bus import Bus
from tui.session import ConnectionFailed, RealtimeSession
from tui.session.targets import Target

AZURE_KEY = "azure-key-0123456789abcdef"


async def test_a_redirect_is_not_followed_and_the_failure_says_where_it_pointed() -> None:
    reached: list[str] = []

    async def other_host(ws: ServerConnection) -> None:
        reached.append(ws.request.path if ws.request else "?")
        await ws.send('{"type":"session.created","session":{"id":"sess_elsewhere"}}')
        await ws.wait_closed()

    async with serve(other_host, "localhost", 0) as other:
        port = other.sockets[0].getsockname()[1]
        location = f"ws://localhost:{port}/elsewhere?api-key={AZURE_KEY}&x=1"

        def moved(connection: ServerConnection, request: Request) -> Response:
            response = connection.respond(http.HTTPStatus.FOUND, "moved\n")
            response.headers["Location"] = location
            return response

        async with serve(other_host, "127.0.0.1", 0, process_request=moved) as redirector:
            url = f"ws://127.0.0.1:{redirector.sockets[0].getsockname()[1]}/openai/realtime"
            session = RealtimeSession(Target(url, "Azure", "url", {"api-key": AZURE_KEY}, (AZURE_KEY,)), Bus())
            with pytest.raises(ConnectionFailed) as failed:
                await session.connect()
            await session.close()
    assert reached == []  # nothing connected to the host the redirect named
    message = str(failed.value)
    assert "HTTP 302" in message
    assert f"localhost:{port}/elsewhere" in message  # where it pointed
    assert "follows none" in message
    assert AZURE_KEY not in message
