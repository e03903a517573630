"""Round 23: the proxy passes the client's request on as README says ("otherwise the client's
headers go as sent, repeated ones included"), and says which URL it asked and where each
connection is captured. A real relay on loopback, a hand-written upstream peer that reports what
it was asked (the simulator does not), or the real simulator."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from tests.proxy_helpers import Recorded, listening_url, start_headless_proxy
from tests.server_helpers import scripted_peer
from tui.protocol import Envelope
from tui.proxy import ProxyConnection, ProxyServer, ProxyTarget, upstream_url

PROXY_KEY = "proxy-side-key-fedcba9876543210"
GATEWAY_KEY = "helicone-gateway-key-0123456789"


class Seen:
    """What the upstream peer was asked: each handshake's path and raw headers."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[tuple[str, list[tuple[str, str]]]] = asyncio.Queue()

    async def __call__(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        await self.requests.put((ws.request.path, list(ws.request.headers.raw_items())))
        await ws.send('{"type":"session.created","event_id":"e1","session":{"type":"realtime"}}')
        await ws.wait_closed()


async def relay_once(
    client_query: str, client_headers: list[tuple[str, str]], *, key: bool = False, peer: Seen | None = None
) -> tuple[str, list[tuple[str, str]], list[Envelope], ProxyConnection]:
    """One client connection through a ProxyServer to `peer` (a `Seen` by default): the path and
    headers the peer got, the connection's envelopes, and the connection (closed)."""
    seen = peer if peer is not None else Seen()
    recorded = Recorded()
    envelopes, connections, on_connection = recorded.envelopes, recorded.connections, recorded.on_connection

    async with scripted_peer(seen) as url:
        headers = {"Authorization": f"Bearer {PROXY_KEY}"} if key else {}
        target = ProxyTarget(url, "upstream", headers, (PROXY_KEY,) if key else ())
        async with ProxyServer(target, on_connection=on_connection) as server:
            async with connect(server.url + client_query, additional_headers=client_headers) as client:
                await asyncio.wait_for(client.recv(), 10)
                path, got = await asyncio.wait_for(seen.requests.get(), 10)
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    return path, got, envelopes, connections[0]


def named(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


async def test_the_clients_own_headers_reach_the_upstream_repeated_ones_included() -> None:
    sent = [
        ("X-Portkey-Provider", "openai"),
        ("cf-aig-authorization", "Bearer gateway-token-1234"),
        ("X-Request-Id", "r-1"),
        ("X-Request-Id", "r-2"),
        ("Authorization", "Bearer client-key-0123456789"),
    ]
    _, got, _, _ = await relay_once("?model=gpt-realtime", sent)
    for name, value in sent:
        assert value in named(got, name.lower()), (name, got)
    assert named(got, "x-request-id") == ["r-1", "r-2"]
    assert len(named(got, "host")) == 1 and len(named(got, "sec-websocket-key")) == 1  # the upstream's own


async def test_hop_by_hop_and_proxy_headers_stop_at_the_proxy() -> None:
    sent = [("Proxy-Authorization", "Basic cHJveHk6cHc="), ("Keep-Alive", "timeout=5"), ("X-Trace", "t1")]
    _, got, _, _ = await relay_once("?model=gpt-realtime", sent)
    names = [name.lower() for name, _ in got]
    assert "proxy-authorization" not in names and "keep-alive" not in names
    assert named(got, "x-trace") == ["t1"]


async def test_with_our_key_the_clients_credential_headers_go_and_its_gateway_headers_stay() -> None:
    sent = [("Authorization", "Bearer client-key-0123456789"), ("api-key", "client-azure-0123"), ("Helicone-Auth", "h")]
    _, got, _, _ = await relay_once("?model=gpt-realtime", sent, key=True)
    assert named(got, "authorization") == [f"Bearer {PROXY_KEY}"]
    assert named(got, "api-key") == [] and named(got, "helicone-auth") == ["h"]


async def test_a_gateway_key_the_upstream_echoes_is_scrubbed_from_what_is_recorded() -> None:
    """Passed upstream now, a gateway's key may come back in a frame (an error quoting it)."""
    recorded = Recorded()
    envelopes, connections, on_connection = recorded.envelopes, recorded.connections, recorded.on_connection

    async def echo(ws: ServerConnection) -> None:
        assert ws.request is not None
        said = ws.request.headers.get("Helicone-Auth", "")
        await ws.send(json.dumps({"type": "error", "error": {"message": f"bad Helicone-Auth: {said}"}}))
        await ws.wait_closed()

    async with scripted_peer(echo) as url, ProxyServer(ProxyTarget(url, "up"), on_connection=on_connection) as server:
        headers = [("Helicone-Auth", f"Bearer {GATEWAY_KEY}")]
        async with connect(server.url + "?model=gpt-realtime", additional_headers=headers) as client:
            assert GATEWAY_KEY in await asyncio.wait_for(client.recv(), 10)  # forwarded unchanged
        await asyncio.wait_for(connections[0].closed.wait(), 10)
    capture = connections[0].capture
    assert capture is not None
    for text in (json.dumps([[env.raw, env.data] for env in envelopes]), capture.path.read_text()):
        assert GATEWAY_KEY not in text and "[redacted]" in text


def test_upstream_url_keeps_every_pair_of_the_clients_query_as_written() -> None:
    merged = upstream_url("wss://h/v1/realtime?model=m&tag=t&x=1", "/v1/realtime?tag=a&model=m2&tag=b%20c&flag")
    assert merged == "wss://h/v1/realtime?tag=a&model=m2&tag=b%20c&flag&x=1"
    assert upstream_url("ws://h/v1/realtime?model=m", "/?tag=a") == "ws://h/v1/realtime?model=m&tag=a"


async def test_a_repeated_query_parameter_reaches_the_upstream_whole() -> None:
    path, _, _, _ = await relay_once("?model=gpt-realtime&tag=a&tag=b", [])
    assert path == "/v1/realtime?model=gpt-realtime&tag=a&tag=b"


async def test_the_connection_facts_name_the_url_the_upstream_was_asked_for() -> None:
    """The client's `?model=` wins over the target's: the facts said the target's model."""
    path, _, envelopes, connection = await relay_once("?model=gpt-realtime-mini&api-key=client-query-key-0123", [])
    assert "model=gpt-realtime-mini" in path
    said = [str(env.data.get("message")) for env in envelopes if env.type == "rt.connection"]
    connecting = [message for message in said if "connected: relaying" in message]
    assert connection.upstream_url.endswith("/v1/realtime?model=gpt-realtime-mini&api-key=***")
    assert connecting and all(f"to {connection.upstream_url};" in message for message in connecting), said
    assert f"relaying to {connection.upstream_url}" in said
    assert "client-query-key-0123" not in json.dumps(said)


async def test_each_connection_says_where_it_is_captured() -> None:
    _, _, envelopes, connection = await relay_once("?model=gpt-realtime", [])
    assert connection.capture is not None
    [fact] = [env for env in envelopes if env.type == "rt.capture"]
    assert fact.data["path"] == str(connection.capture.path)
    assert fact.data["message"] == f"capturing every frame to {connection.capture.path}"
    connecting = [env for env in envelopes if env.data.get("state") == "connecting"]
    assert str(connection.capture.path.parent) in connecting[0].data["message"]


async def test_the_headless_proxys_stderr_names_each_connections_capture_folder_for_lint(
    tmp_path: Path, simulator_url: str
) -> None:
    """A CI job lints connection N's capture: the `[conn N]` line names its folder."""
    proxy = start_headless_proxy(tmp_path, "--url", simulator_url)
    try:
        url, _ = await listening_url(proxy.stderr, 30)  # type: ignore[arg-type]
        for _ in range(2):
            async with connect(url + "?model=gpt-realtime") as client:
                assert json.loads(await asyncio.wait_for(client.recv(), 30))["type"] == "session.created"
    finally:
        proxy.terminate()
        out, err = await asyncio.to_thread(proxy.communicate, timeout=30)
    told = re.findall(r"^\[conn (\d)\] connection: .* connected: .*; captured in (\S+)$", err, re.MULTILINE)
    assert [number for number, _ in told] == ["1", "2"], err
    folders = {Path(folder) for _, folder in told}
    assert folders == {path.parent for path in (tmp_path / "sessions").glob("*/frames.jsonl")}
    paths = [json.loads(line)["info"]["path"] for line in out.splitlines() if '"rt.capture"' in line]
    assert sorted(paths) == sorted(str(folder / "frames.jsonl") for folder in folders)
    linted = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tui", "lint", told[1][1]], capture_output=True, text=True, timeout=60
    )
    assert linted.returncode in (0, 1), linted.stderr  # 2: unreadable


@pytest.mark.parametrize(("host", "shown"), [("0.0.0.0", "ws://127.0.0.1:"), ("::1", "ws://[::1]:")])
async def test_the_address_given_to_clients_is_one_they_can_connect_to(
    simulator_url: str, host: str, shown: str
) -> None:
    """`--listen 0.0.0.0:…` said `relaying ws://0.0.0.0:…`, and an IPv6 host lost its brackets."""
    async with ProxyServer(ProxyTarget(simulator_url, "simulator"), host=host, capture=False) as server:
        assert server.url.startswith(shown)
        async with connect(server.url + "?model=gpt-realtime") as client:
            assert json.loads(await asyncio.wait_for(client.recv(), 30))["type"] == "session.created"


@pytest.mark.parametrize("kind", ["named", "url"])
async def test_the_connections_label_names_the_model_the_client_asked_for(simulator_url: str, kind: str) -> None:
    """The session's label (the app's status line, each fact's `target`) said the target's model."""
    label = "OpenAI · gpt-realtime" if kind == "named" else simulator_url
    connections: list[ProxyConnection] = []
    target = ProxyTarget(simulator_url, label)
    async with ProxyServer(target, on_connection=connections.append, capture=False) as server:
        async with connect(server.url + "?model=gpt-realtime-mini") as client:
            assert json.loads(await asyncio.wait_for(client.recv(), 30))["type"] == "session.created"
    expected = "OpenAI · gpt-realtime-mini" if kind == "named" else connections[0].upstream_url
    assert connections[0].upstream_label == expected
    assert connections[0].upstream_url.endswith("/v1/realtime?model=gpt-realtime-mini")


async def test_with_our_key_the_clients_key_in_its_query_goes_too() -> None:
    """README: the proxy 'drops whatever key your client sent'; a key in the client's URL went upstream."""
    path, _, envelopes, _ = await relay_once("?model=gpt-realtime&api-key=client-query-key-0123&tag=a", [], key=True)
    assert path == "/v1/realtime?model=gpt-realtime&tag=a"
    assert "client-query-key-0123" not in json.dumps([env.data for env in envelopes])
