"""Round 23b: the proxy and the client's credentials (query names, a target URL's own key, gateway
headers and cookies), the model the label names, and what an upstream's refusal said."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from tests.proxy_helpers import Recorded
from tests.server_helpers import scripted_peer
from tests.test_proxy_round23 import PROXY_KEY, Seen, relay_once
from tui.protocol import Envelope
from tui.proxy import ProxyConnection, ProxyServer, ProxyTarget
from tui.server.testing import realtime_simulator
from tui.session.targets import inline_credentials, is_secret_query_name, url_target


class Echo(Seen):
    """Reports what it was asked, and echoes it to the client in a frame (as an error page might)."""

    async def __call__(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        raw = list(ws.request.headers.raw_items())
        await self.requests.put((ws.request.path, raw))
        echo = {"type": "error", "event_id": "e1", "error": {"message": json.dumps([ws.request.path, raw])}}
        await ws.send(json.dumps(echo))
        await ws.wait_closed()


async def relay(
    query: str, headers: list[tuple[str, str]], *, key: bool
) -> tuple[str, list[tuple[str, str]], list[Envelope], ProxyConnection, str]:
    """One client connection through a proxy to `Echo`: what the upstream was asked, what was
    recorded, the connection and its capture's text."""
    path, got, envelopes, connection = await relay_once(query, headers, key=key, peer=Echo())
    capture = connection.capture.path.read_text() if connection.capture is not None else ""
    return path, got, envelopes, connection, capture


def shown(envelopes: list[Envelope], capture: str, connection: ProxyConnection) -> str:
    """Everything the proxy recorded or shows of a connection."""
    return "\n".join(
        [
            *(e.raw for e in envelopes),
            *(json.dumps(e.data) for e in envelopes),
            capture,
            connection.label,
            connection.path,
            connection.upstream_url,
        ]
    )


# -- F1: credential query names -------------------------------------------------------------------


async def test_client_key_in_a_credential_query_name_is_dropped_and_scrubbed() -> None:
    """`?x-api-key=`, `?openai_api_key=`, `?password=`, APIM's `?subscription-key=`: with our key
    upstream they never go beside it, and they never show."""
    secrets = {
        "x-api-key": "client-query-key-AAAA1111",
        "password": "client-query-pass-BBBB2222",
        "openai_api_key": "client-query-key-CCCC3333",
        "subscription-key": "azure-apim-key-DDDD4444",
        "Access-Token": "client-access-token-EEEE5555",
    }
    query = "?model=gpt-realtime&max_tokens=20&" + "&".join(f"{k}={v}" for k, v in secrets.items())
    path, _, envelopes, connection, capture = await relay(query, [], key=True)
    everything = shown(envelopes, capture, connection)
    leaks = {k: (v in path, v in everything) for k, v in secrets.items() if v in path or v in everything}
    assert not leaks, f"(sent upstream, shown) per name: {leaks}"
    assert "max_tokens=20" in path  # a parameter whose name merely holds "token" goes, and shows
    assert "max_tokens=20" in connection.upstream_url


def test_credential_query_names_are_whole_names_in_any_spelling() -> None:
    for name in ("x-api-key", "X_API_KEY", "openai_api_key", "subscription-key", "password", "secret", "api%2Dkey"):
        assert is_secret_query_name(name), name
    for name in ("max_tokens", "keyword", "model", "token_budget", "secret_santa", "intent"):
        assert not is_secret_query_name(name), name
    url = "wss://example.test/v1/realtime?model=m&subscription-key=apim-secret-12345678&max_tokens=9"
    target = url_target(url)
    assert "apim-secret-12345678" not in target.label and "apim-secret-12345678" in target.secrets
    assert inline_credentials(url) == ["subscription-key="]


# -- F2: a target URL that carries our key -------------------------------------------------------


async def test_a_target_url_carrying_our_key_in_its_query_replaces_the_clients_key() -> None:
    """README's advice: put a URL that carries credentials (`api-key=…`) in RT_TUI_URL. Such a
    target adds our key upstream, so (as with user:password) the client's key does not go beside
    it: an SDK's dummy `api-key` header (the Azure SDK needs one) would be refused, and a client's
    `?api-key=` would replace ours."""
    echo = Echo()
    connections: list[ProxyConnection] = []

    def on_connection(connection: ProxyConnection) -> None:
        connections.append(connection)

    async with scripted_peer(echo) as url:
        target = ProxyTarget(url + "&api-key=" + PROXY_KEY, "azure", {}, (PROXY_KEY,))
        async with ProxyServer(target, on_connection=on_connection) as server:
            headers = [("api-key", "dummy-client-key-123456"), ("Authorization", "Bearer dummy-client-key-123456")]
            query = "?model=gpt-realtime&api-key=client-query-key-7777777&sig="
            async with connect(server.url + query, additional_headers=headers) as client:
                await asyncio.wait_for(client.recv(), 10)
                path, got = await asyncio.wait_for(echo.requests.get(), 10)
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    sent = path + json.dumps(got)
    assert f"api-key={PROXY_KEY}" in path, path
    assert "dummy-client-key-123456" not in sent and "client-query-key-7777777" not in sent, sent
    assert PROXY_KEY not in connections[0].upstream_url


async def test_a_target_url_with_an_empty_credential_pair_lets_the_clients_key_pass() -> None:
    """`?api-key=` with no value is no credential of ours: the client's own key goes upstream."""
    echo = Echo()
    async with scripted_peer(echo) as url:
        async with ProxyServer(ProxyTarget(url + "&api-key=", "azure")) as server:
            headers = [("api-key", "client-own-key-12345678")]
            async with connect(server.url + "?model=gpt-realtime", additional_headers=headers) as client:
                await asyncio.wait_for(client.recv(), 10)
                _, got = await asyncio.wait_for(echo.requests.get(), 10)
    assert ("api-key", "client-own-key-12345678") in got


# -- F3: cookies and credential-named headers -----------------------------------------------------


async def test_cookie_values_and_credential_headers_never_show() -> None:
    """Without a key of ours the client's credentials pass, but never show: each cookie's value
    (an upstream echoes one alone), an `X-Custom-Credential`, the rest as before."""

    async def echo_one_cookie(ws: ServerConnection) -> None:
        assert ws.request is not None
        cookie = ws.request.headers["Cookie"]
        said = {part.split("=", 1)[0].strip(): part.split("=", 1)[1] for part in cookie.split(";")}
        for text in (f"your session: {said['session']}", f"your token: {said['tok']}", json.dumps(cookie)):
            await ws.send(json.dumps({"type": "error", "error": {"message": text}}))
        credential = ws.request.headers["X-Custom-Credential"]
        await ws.send(json.dumps({"type": "error", "error": {"message": f"credential {credential}"}}))
        await ws.wait_closed()

    recorded = Recorded()
    envelopes, connections, on_connection = recorded.envelopes, recorded.connections, recorded.on_connection

    headers = [
        ("Cookie", 'theme=dark; session=cookie-session-NNNN4444; tok="quoted-cookie-RRRR8888"'),
        ("X-Custom-Credential", "gateway-credential-MMMM3333"),
    ]
    async with scripted_peer(echo_one_cookie) as url:
        async with ProxyServer(ProxyTarget(url, "upstream"), on_connection=on_connection) as server:
            async with connect(server.url + "?model=gpt-realtime", additional_headers=headers) as client:
                received = [await asyncio.wait_for(client.recv(), 10) for _ in range(4)]
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    assert "cookie-session-NNNN4444" in received[0]  # the frames forwarded are never altered
    connection = connections[0]
    capture = connection.capture.path.read_text() if connection.capture is not None else ""
    everything = shown(envelopes, capture, connection)
    leaks = [s for s in ("NNNN4444", "RRRR8888", "MMMM3333") if s in everything]
    assert not leaks, leaks
    assert "theme=dark" in everything  # a value under 8 characters is left alone (it would mangle frames)


async def test_client_credentials_pass_but_never_show_without_ours() -> None:
    basic = base64.b64encode(b"user:client-basic-pass-DDDD4444").decode()
    headers = [
        ("Authorization", f"Basic {basic}"),
        ("x-goog-api-key", "gateway-key-KKKK1111"),
        ("Helicone-Auth", "Bearer gateway-helicone-LLLL2222"),
        ("X-Custom-Credential", "gateway-credential-MMMM3333"),
        ("Cookie", "session=cookie-session-NNNN4444"),
        ("Proxy-Authorization", "Basic proxy-auth-OOOO5555"),
    ]
    query = "?model=gpt-realtime&api-key=client-query-PPPP6666&sig=sas%2Bsig%3D-QQQQ7777"
    path, got, envelopes, connection, capture = await relay(query, headers, key=False)
    assert "PPPP6666" in path and ("Cookie", "session=cookie-session-NNNN4444") in got  # they pass
    everything = shown(envelopes, capture, connection)
    secrets = ("DDDD4444", basic, "KKKK1111", "LLLL2222", "MMMM3333", "NNNN4444", "OOOO5555", "PPPP6666", "QQQQ7777")
    leaks = [s for s in secrets if s in everything]
    assert not leaks, leaks
    assert "OOOO5555" not in json.dumps(got)  # Proxy-* stops


# -- F4: the model the label names ----------------------------------------------------------------


async def _label_and_first_frame(query: str) -> tuple[str, dict[str, Any]]:
    """A client with `query` through a proxy to the simulator: its connection's label and the
    first frame the simulator sent."""
    async with realtime_simulator() as sim:
        connections: list[ProxyConnection] = []

        def on_connection(connection: ProxyConnection) -> None:
            connections.append(connection)

        target = ProxyTarget(sim.url + "?model=gpt-realtime", "simulator · gpt-realtime")
        async with ProxyServer(target, on_connection=on_connection, capture=False) as server:
            async with connect(server.url + query) as client:
                first = json.loads(await asyncio.wait_for(client.recv(), 10))
    return connections[0].upstream_label, first


async def test_the_label_names_the_model_the_upstream_serves() -> None:
    """`?model=a&model=b`: the simulator serves the first, and the label names it."""
    label, created = await _label_and_first_frame("?model=gpt-realtime-mini&model=gpt-realtime-2")
    assert created["session"]["model"] == "gpt-realtime-mini"
    assert label == "simulator · gpt-realtime-mini"


async def test_an_empty_model_goes_as_asked_and_the_label_says_so() -> None:
    """`?model=`: sent as asked (the upstream refuses it, as OpenAI does), and the label does not
    name the target's model, which was not sent."""
    label, first = await _label_and_first_frame("?model=")
    assert first["type"] == "error" and first["error"]["code"] == "missing_model", first
    assert label == "simulator · model= (empty)"


# -- F12: what an upstream's refusal said ---------------------------------------------------------


async def test_an_upstream_refusal_says_why_scrubbed_on_one_line() -> None:
    """A 401's body (which may quote the key it was given, ours or the client's) is in the failed
    connection's fact, scrubbed, on one line, capped: `http_status`, `http_body`, and the message."""
    client_key = "client-own-key-SSSS9999"

    def refuse(_: ServerConnection, request: Request) -> Response:
        said = {"error": {"message": f"Incorrect API key provided: {PROXY_KEY}\nor {client_key}", "code": 401}}
        body = json.dumps(said) + "\n" + "x" * 1000
        return Response(401, "Unauthorized", Headers({"Content-Type": "application/json"}), body.encode())

    recorded = Recorded()
    envelopes, connections, on_connection = recorded.envelopes, recorded.connections, recorded.on_connection

    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as upstream:
        port = upstream.sockets[0].getsockname()[1]
        target = ProxyTarget(f"ws://127.0.0.1:{port}/v1/realtime", "up", {"api-key": PROXY_KEY}, (PROXY_KEY,))
        async with ProxyServer(target, on_connection=on_connection) as server:
            try:
                async with connect(server.url, additional_headers=[("api-key", client_key)]):
                    raise AssertionError("the upgrade was refused upstream")
            except InvalidStatus as exc:
                assert exc.response.status_code == 401
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    failed = [e.data for e in envelopes if e.type == "rt.connection" and e.data.get("state") == "failed"]
    assert len(failed) == 1, failed
    info = failed[0]
    assert info["http_status"] == 401
    said = info["http_body"]
    assert said.startswith('{"error": {"message": "Incorrect API key provided: '), said
    assert PROXY_KEY not in said and client_key not in said and "SSSS9999" not in said
    assert "\n" not in said and len(said) == 300 and said.endswith("…")
    assert info["message"] == f"upstream refused the upgrade: HTTP 401: {said}"
    capture = connections[0].capture.path.read_text() if connections[0].capture is not None else ""
    assert "Incorrect API key provided" in capture and PROXY_KEY not in capture and client_key not in capture


# -- the URL asked for, as asked ------------------------------------------------------------------


async def test_the_url_asked_for_is_shown_as_asked_with_credentials_masked() -> None:
    """The facts name the URL the upstream was asked for: its query as the client wrote it
    (`&flag` not `&flag=`, `%20` not `+`), a credential's value masked."""
    query = "?model=gpt-realtime&flag&note=a%20b+c&api%2Dkey=client-query-key-TTTT1234&max_tokens=5"
    _, _, envelopes, connection, _ = await relay(query, [], key=False)
    asked = "?model=gpt-realtime&flag&note=a%20b+c&api%2Dkey=***&max_tokens=5"
    assert connection.upstream_url.endswith("/v1/realtime" + asked), connection.upstream_url
    opened = [e.data["message"] for e in envelopes if e.type == "rt.connection" and e.data.get("state") == "open"]
    assert opened == [f"relaying to {connection.upstream_url}"]


def test_a_label_keeps_an_ipv6_host_in_brackets_and_encodes_what_a_terminal_acts_on() -> None:
    assert url_target("ws://[::1]:8765/v1/realtime?model=m").label == "ws://[::1]:8765/v1/realtime?model=m"
    label = url_target("ws://h/v1/realtime?model=m&note=\x1b[2Jhi there").label
    assert label == "ws://h/v1/realtime?model=m&note=%1B[2Jhi%20there"


async def test_a_refusal_with_a_status_http_does_not_name_reaches_the_client_as_such() -> None:
    """Cloudflare's 520-530 (a gateway in front of the service) are no `http.HTTPStatus`: the
    client got a 500 of the proxy's own. It gets the upstream's status, its reason, its body
    (scrubbed), its content type and its `Retry-After`."""

    def refuse(_: ServerConnection, request: Request) -> Response:
        headers = Headers({"Content-Type": "application/json", "Retry-After": "7"})
        return Response(522, "Connection Timed Out", headers, b'{"error": "origin unreachable"}')

    connections: list[ProxyConnection] = []

    def on_connection(connection: ProxyConnection) -> None:
        connections.append(connection)

    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as upstream:
        port = upstream.sockets[0].getsockname()[1]
        target = ProxyTarget(f"ws://127.0.0.1:{port}/v1/realtime", "up")
        async with ProxyServer(target, on_connection=on_connection, capture=False) as server:
            try:
                async with connect(server.url):
                    raise AssertionError("the upgrade was refused upstream")
            except InvalidStatus as exc:
                refused = exc.response
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    assert (refused.status_code, refused.reason_phrase) == (522, "Connection Timed Out")
    assert bytes(refused.body or b"") == b'{"error": "origin unreachable"}'
    assert refused.headers["Content-Type"] == "application/json" and refused.headers["Retry-After"] == "7"


async def test_a_short_client_key_in_the_query_is_masked_where_the_path_shows() -> None:
    """A key under 8 characters is no secret the scrubber looks for (it would mangle frames), so
    the request path the facts and stderr name masks it, as a label does."""
    _, _, envelopes, connection, capture = await relay("?model=gpt-realtime&api-key=k3y&x=1", [], key=True)
    assert connection.path == "/v1/realtime?model=gpt-realtime&api-key=***&x=1", connection.path
    connecting = [e.data["message"] for e in envelopes if e.data.get("state") == "connecting"]
    assert len(connecting) == 1 and "api-key=***" in connecting[0] and "k3y" not in connecting[0]
    assert "api-key=k3y" not in capture


async def test_a_bearer_key_in_an_authorization_query_pair_is_scrubbed_alone_too() -> None:
    """`?authorization=Bearer%20KEY` (a header's name as a query name): an upstream quoting the
    key quotes it without its scheme, and that is scrubbed too; so is a target URL's."""
    client_key, our_key = "client-q-bearer-UUUU1111", "target-q-bearer-VVVV2222"

    async def quote_keys(ws: ServerConnection) -> None:
        for key in (client_key, our_key):
            await ws.send(json.dumps({"type": "error", "error": {"message": f"Incorrect API key provided: {key}"}}))
        await ws.wait_closed()

    recorded = Recorded()
    envelopes, connections, on_connection = recorded.envelopes, recorded.connections, recorded.on_connection

    async with scripted_peer(quote_keys) as url:
        target = url_target(url + "&authorization=Bearer%20" + our_key)
        assert our_key in target.secrets
        proxied = ProxyTarget(target.url, target.label, target.headers, target.secrets)
        async with ProxyServer(proxied, on_connection=on_connection) as server:
            async with connect(server.url + "?authorization=Bearer%20" + client_key) as client:
                received = [await asyncio.wait_for(client.recv(), 10) for _ in range(2)]
            await asyncio.wait_for(connections[0].closed.wait(), 10)
    assert client_key in received[0]  # forwarded unchanged
    said = [e.data["error"]["message"] for e in envelopes if e.type == "error"]
    assert said == ["Incorrect API key provided: [redacted]"] * 2, said


def test_the_exposure_warning_brackets_an_ipv6_host() -> None:
    """Review 23d: `--listen [::]:PORT` warned `listening on :::`, which reads as a typo."""
    from tui.proxy_cmd import exposure_warning

    assert (exposure_warning("::") or "").startswith("listening on [::]: anyone")
    assert (exposure_warning("0.0.0.0") or "").startswith("listening on 0.0.0.0: anyone")
    assert exposure_warning("::1") is None and exposure_warning("127.0.0.1") is None
