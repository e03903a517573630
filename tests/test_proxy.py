"""`rt-tui proxy`: a real relay on loopback between a raw websockets client and a real upstream
(the simulator, or a hand-written peer for what the simulator never does)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.proxy_helpers import listening_url
from tests.server_helpers import scripted_peer
from tui.protocol import Direction, Envelope
from tui.proxy import ProxyConnection, ProxyServer, ProxyTarget, upstream_url
from tui.session import read_capture

CLIENT_KEY = "client-own-key-0123456789abcdef"
PROXY_KEY = "proxy-side-key-fedcba9876543210"


class Recorder:
    """The proxy's sink for tests: every envelope of every connection, by connection number."""

    def __init__(self) -> None:
        self.envelopes: dict[int, list[Envelope]] = {}
        self.connections: list[ProxyConnection] = []

    def __call__(self, connection: ProxyConnection) -> Any:
        self.connections.append(connection)
        kept = self.envelopes.setdefault(connection.number, [])
        return kept.append


async def proxy_for(url: str, recorder: Recorder, **target: Any) -> ProxyServer:
    server = ProxyServer(
        ProxyTarget(url, "upstream", target.get("headers", {}), target.get("secrets", ())),
        port=0,
        on_connection=recorder,
    )
    await server.start()
    return server


def texts_in(envelopes: list[Envelope], direction: Direction) -> list[str]:
    return [env.raw for env in envelopes if env.direction is direction and env.binary is None]


ODD_FRAMES = [
    '{"type":"session.created","event_id":"event_1","session":{"id":"sess_1","type":"realtime"}}',
    '{ "type" : "response.output_text.delta" , "delta" : "caf\\u00e9 \u00e9\u00e9 \U0001f600" }',
    '{"type":"rate_limits.updated","rate_limits":[{"name":"tokens","remaining":1.0e3}]}',
    "not json at all",
]
BINARY = bytes(range(256))


async def test_frames_pass_byte_identical_both_ways_text_and_binary() -> None:
    received_upstream: list[str | bytes] = []

    async def upstream(ws: ServerConnection) -> None:
        for frame in ODD_FRAMES:
            await ws.send(frame)
        await ws.send(BINARY)
        async for message in ws:
            received_upstream.append(message)
            if message == b"end":
                await ws.close(1000, "done")

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            sent = ['{"type":"session.update","session":{"type":"realtime"}}', '{  "type":"response.create"  }']
            async with connect(server.url + "?model=gpt-realtime", compression=None) as client:
                got = [await client.recv() for _ in range(len(ODD_FRAMES) + 1)]
                for frame in sent:
                    await client.send(frame)
                await client.send(b"\x00\xff")
                await client.send(b"end")
                with pytest.raises(ConnectionClosed):
                    await client.recv()
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    assert got == [*ODD_FRAMES, BINARY]  # text stays text, bytes stay bytes, unchanged
    assert received_upstream == [*sent, b"\x00\xff", b"end"]
    envelopes = recorder.envelopes[1]
    assert texts_in(envelopes, Direction.IN) == ODD_FRAMES
    assert [env.binary for env in envelopes if env.binary is not None] == [BINARY, b"\x00\xff", b"end"]
    capture = recorder.connections[0].capture
    assert capture is not None
    on_disk = read_capture(capture.path)
    assert [env.raw for env in on_disk if env.direction is Direction.IN and env.binary is None] == ODD_FRAMES
    assert [env.binary for env in on_disk if env.binary is not None] == [BINARY, b"\x00\xff", b"end"]


@pytest.mark.parametrize("closer", ["upstream", "client"])
async def test_close_codes_and_reasons_pass_through(closer: str) -> None:
    seen_by_upstream: list[tuple[int | None, str | None]] = []

    async def upstream(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        if closer == "upstream":
            await ws.close(4000, "invalid_request_error.beta_api_shape_disabled")
            return
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        seen_by_upstream.append((ws.close_code, ws.close_reason))

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            async with connect(server.url + "?model=gpt-realtime") as client:
                await client.recv()
                if closer == "client":
                    await client.close(3001, "the client had enough")
                else:
                    with pytest.raises(ConnectionClosed):
                        await client.recv()
                    assert (client.close_code, client.close_reason) == (
                        4000,
                        "invalid_request_error.beta_api_shape_disabled",
                    )
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    if closer == "client":
        assert seen_by_upstream == [(3001, "the client had enough")]
    closed = [env for env in recorder.envelopes[1] if env.data.get("state") == "closed"]
    assert closed and f"{closer} closed with" in closed[-1].data["message"]


@pytest.mark.parametrize(
    ("authorization", "subprotocol"),
    [(f"Bearer {CLIENT_KEY}", True), (f"bearer {CLIENT_KEY}", False), (f"BEARER  {CLIENT_KEY}", False)],
    ids=["Bearer-and-subprotocol", "bearer-alone", "BEARER-alone"],
)
async def test_our_key_goes_upstream_and_the_clients_never_is_recorded(authorization: str, subprotocol: bool) -> None:
    """The client's key, in any spelling of the scheme (it is case-insensitive), is scrubbed."""
    headers_upstream: list[dict[str, str]] = []

    async def upstream(ws: ServerConnection) -> None:
        headers_upstream.append({k.lower(): v for k, v in ws.request.headers.raw_items()})  # type: ignore[union-attr]
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        async for message in ws:
            said = message if isinstance(message, str) else message.decode()
            await ws.send(json.dumps({"type": "error", "error": {"message": f"you said {said}"}}))

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder, headers={"Authorization": f"Bearer {PROXY_KEY}"}, secrets=(PROXY_KEY,))
        try:
            async with connect(
                server.url + "?model=gpt-realtime",
                additional_headers={"Authorization": authorization},
                subprotocols=["realtime", *([f"openai-insecure-api-key.{CLIENT_KEY}"] * subprotocol)],  # type: ignore[list-item]
            ) as client:
                await client.recv()
                frame = json.dumps({"type": "session.update", "session": {"instructions": f"key {CLIENT_KEY}"}})
                await client.send(frame)
                echo = json.loads(await client.recv())
                assert CLIENT_KEY in echo["error"]["message"]  # forwarded unchanged: the proxy alters nothing
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    [headers] = headers_upstream
    assert headers["authorization"] == f"Bearer {PROXY_KEY}"
    assert CLIENT_KEY not in json.dumps(headers)
    recorded = json.dumps([[env.raw, env.data] for env in recorder.envelopes[1]])
    capture = recorder.connections[0].capture
    assert capture is not None
    on_disk = capture.path.read_text()
    for text in (recorded, on_disk):
        assert CLIENT_KEY not in text and PROXY_KEY not in text
        assert "[redacted]" in text


async def test_one_clients_key_is_kept_out_of_every_connections_record() -> None:
    """Each connection scrubbed only its own client's key: client 1's frame quoting client 2's key
    (a shared config echoed in instructions) was recorded whole. A key new to the proxy is taken
    into the connections already open, and into every later one."""
    first_key, second_key = "first-client-key-0123456789abcdef", "second-client-key-fedcba9876543210"

    async def upstream(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        async for message in ws:
            said = message if isinstance(message, str) else message.decode()
            event = json.loads(said)
            if event["type"] == "response.create":  # the model reads the key back, in pieces
                text = f"your key is {event['response']['instructions']} keep it safe"
                for piece in (text[:15], text[15:24], text[24:]):
                    delta = {"type": "response.output_text.delta", "item_id": "i", "content_index": 0, "delta": piece}
                    await ws.send(json.dumps(delta))
            else:
                await ws.send(json.dumps({"type": "error", "error": {"message": f"you said {said}"}}))

    def quoting(key: str) -> str:
        return json.dumps({"type": "session.update", "session": {"instructions": f"the other key is {key}"}})

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            async with (
                connect(server.url, additional_headers={"Authorization": f"Bearer {first_key}"}) as first,
                connect(server.url, additional_headers={"Authorization": f"Bearer {second_key}"}) as second,
            ):
                await first.recv()
                await second.recv()
                await first.send(quoting(second_key))  # opened before the second key was known
                assert second_key in json.loads(await first.recv())["error"]["message"]  # relayed unchanged
                await second.send(quoting(first_key))
                await second.recv()
                await first.send(json.dumps({"type": "response.create", "response": {"instructions": second_key}}))
                for _ in range(3):
                    await first.recv()
            for connection in recorder.connections:
                await asyncio.wait_for(connection.closed.wait(), 5)
        finally:
            await server.close()
    assert len(recorder.connections) == 2
    for connection in recorder.connections:
        assert connection.capture is not None
        recorded = json.dumps([[env.raw, env.data] for env in recorder.envelopes[connection.number]])
        for text in (recorded, connection.capture.path.read_text()):
            assert first_key not in text and second_key not in text, connection.number
            assert "the other key is [redacted]" in text
    streamed = "".join(
        str(env.data["delta"]) for env in recorder.envelopes[1] if env.type == "response.output_text.delta"
    )
    assert second_key not in streamed and streamed.startswith("your key is ") and "keep it safe" in streamed


async def test_two_clients_at_once_each_get_their_own_session(simulator_url: str) -> None:
    base = simulator_url.split("?")[0]
    recorder = Recorder()
    server = await proxy_for(base, recorder)
    try:

        async def one_turn(words: str) -> str:
            async with connect(server.url + "?model=gpt-realtime") as client:
                await client.recv()
                item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
                await client.send(json.dumps({"type": "conversation.item.create", "item": item}))
                await client.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
                while True:
                    event = json.loads(await client.recv())
                    if event["type"] == "response.done":
                        return str(event["response"]["output"][0]["content"][0]["text"])

        first, second = await asyncio.gather(one_turn("the kitchen lights"), one_turn("the garden gate"))
        for connection in recorder.connections:
            await asyncio.wait_for(connection.closed.wait(), 5)
    finally:
        await server.close()
    assert "kitchen" in first and "garden" in second
    assert len(recorder.connections) == 2
    captures = {c.capture.path for c in recorder.connections if c.capture is not None}
    assert len(captures) == 2  # a capture each
    said = []
    for number in (1, 2):
        raw = " ".join(env.raw for env in recorder.envelopes[number])
        said.append({word for word in ("kitchen", "garden") if word in raw})
    assert sorted(said, key=sorted) == [{"garden"}, {"kitchen"}]  # never mixed


async def test_the_upstream_dying_mid_response_closes_the_client_and_keeps_every_frame() -> None:
    frames = [json.dumps({"type": "response.output_text.delta", "delta": f"w{i}"}) for i in range(20)]

    async def upstream(ws: ServerConnection) -> None:
        await ws.recv()
        for frame in frames:
            await ws.send(frame)
        ws.transport.abort()  # a crash: no close frame

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            async with connect(server.url + "?model=gpt-realtime") as client:
                await client.send('{"type":"response.create"}')
                got = []
                with pytest.raises(ConnectionClosed):
                    while True:
                        got.append(await client.recv())
                # As without the proxy: no close frame (1006), not the proxy's own 1011.
                assert client.close_code == 1006, (client.close_code, client.close_reason)
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    assert got == frames
    capture = recorder.connections[0].capture
    assert capture is not None
    assert [env.raw for env in read_capture(capture.path) if env.direction is Direction.IN] == frames


async def test_the_client_dying_closes_the_upstream_connection() -> None:
    upstream_closed = asyncio.Event()

    async def upstream(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        try:
            async for _ in ws:
                pass
        finally:
            upstream_closed.set()

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            client = await connect(server.url + "?model=gpt-realtime")
            await client.recv()
            client.transport.abort()
            await asyncio.wait_for(upstream_closed.wait(), 5)
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    closed = [env for env in recorder.envelopes[1] if env.data.get("state") == "closed"]
    # Who vanished first (a narrow status line keeps a message's start), then what the other side was told.
    assert (
        closed[-1].data["message"]
        == "the client vanished without a close frame (1006): the upstream was dropped the same way"
    )


async def test_an_http_refusal_upstream_passes_through() -> None:
    server = ProxyServer(ProxyTarget("ws://127.0.0.1:9/v1/realtime", "nowhere"), port=0)
    await server.start()
    try:
        with pytest.raises(InvalidStatus) as info:
            await connect(server.url + "?model=gpt-realtime", open_timeout=10)
        assert info.value.response.status_code == 502
    finally:
        await server.close()


def test_upstream_url_merges_the_clients_query_over_the_targets() -> None:
    merged = upstream_url(
        "wss://x.openai.azure.com/openai/v1/realtime?model=dep&api-version=1", "/v1/realtime?model=m2"
    )
    assert merged == "wss://x.openai.azure.com/openai/v1/realtime?model=m2&api-version=1"


async def test_the_headless_proxy_prints_a_line_per_frame(proxy_process: tuple[subprocess.Popen[str], str]) -> None:
    process, url = proxy_process
    assert url.startswith("ws://127.0.0.1:")
    async with connect(url + "?model=gpt-realtime") as client:
        created = json.loads(await client.recv())
        assert created["type"] == "session.created"
        await client.send(json.dumps({"type": "response.cancel"}))
        error = json.loads(await client.recv())
        assert error["type"] == "error"
    # A person watching stderr sees the connection come and go (stdout's JSON has it among the frames).
    assert process.stderr is not None
    told: list[str] = []
    async with asyncio.timeout(10):
        while not any(line.startswith("[conn 1] connection: ") and "closed" in line for line in told):
            told.append(await asyncio.to_thread(process.stderr.readline))
    assert any(line.startswith("[conn 1] connection: ") and "connected: relaying" in line for line in told), told
    process.terminate()
    out, err = process.communicate(timeout=10)
    # Every line on stdout is a frame's JSON (what `| jq` needs): the address is on stderr only.
    lines = [json.loads(line) for line in out.splitlines()]
    types = [(line["dir"], line["type"]) for line in lines]
    assert ("in", "session.created") in types and ("out", "response.cancel") in types and ("in", "error") in types
    assert all(line["conn"] == 1 for line in lines)
    assert "Traceback" not in err + "".join(told)


async def test_the_headless_proxy_says_on_stderr_why_a_client_got_a_502(tmp_path: Path) -> None:
    """An upstream that cannot be reached: the client only sees an HTTP 502; the reason goes to the
    person running the proxy, on stderr, not only into stdout's JSON."""
    env = {**os.environ, "RT_TUI_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "proxy", "--url", "ws://127.0.0.1:9/v1/realtime", "--listen", "127.0.0.1:0"]
        + ["--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    try:
        url, _ = await listening_url(process.stderr, 30)
        with pytest.raises(InvalidStatus) as info:
            await connect(url + "?model=gpt-realtime", open_timeout=10)
        assert info.value.response.status_code == 502
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    [said] = [line for line in err.splitlines() if line.startswith("[conn 1] connection: cannot reach")]
    # In a user's words, as the app and send say it: Python's ("ConnectionRefusedError: [Errno 111]
    # Connect call failed ('127.0.0.1', 9)") were shown, and in the client's 502 too.
    assert said.endswith(": connection refused: is the server running?"), said
    assert "Errno" not in err and "ConnectionRefusedError" not in err
    assert all(json.loads(line)["conn"] == 1 for line in out.splitlines())  # stdout stays JSON only


async def test_the_headless_proxys_lines_carry_the_captures_times(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """Each --json line has the capture record's fields in its order, after `conn`: `seq` and `t`
    count from the connection's first frame (the same numbers as its capture file), `wall` is Unix time."""
    process, url = proxy_process
    started = time.time()
    for _ in range(2):  # two connections: each counts `t` from its own first frame
        async with connect(url + "?model=gpt-realtime") as client:
            await client.recv()
            await client.send(json.dumps({"type": "response.cancel"}))
            await client.recv()
    process.terminate()
    out, _ = process.communicate(timeout=10)
    lines = [json.loads(line) for line in out.splitlines()]
    assert {line["conn"] for line in lines} == {1, 2}
    for line in lines:
        assert list(line)[:7] == ["conn", "seq", "dir", "t", "wall", "type", "size"], line
        assert started - 1 <= line["wall"] <= time.time() + 1
    for number in (1, 2):
        times = [line["t"] for line in lines if line["conn"] == number]
        assert times[0] == 0 and times == sorted(times)
        # And `seq` from 1: connection 2's capture began at #80 (a process-wide count), and its
        # findings cited #84 in a file of 12 frames.
        seqs = [line["seq"] for line in lines if line["conn"] == number]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
    captured = {
        (record["seq"], record["t"])
        for capture in (tmp_path / "data").glob("sessions/*/frames.jsonl")
        for record in map(json.loads, capture.read_text().splitlines())
    }
    assert {(line["seq"], line["t"]) for line in lines} <= captured


async def _upstream_authorizations(upstream_url: str, client_headers: list[tuple[str, str]]) -> list[list[str]]:
    """Relay one connection whose client sends `client_headers` to a peer at `upstream_url` (the
    scripted peer's port, any user:password of ours in it); the Authorization values the peer got."""
    seen: list[list[str]] = []

    async def upstream(ws: ServerConnection) -> None:
        seen.append(ws.request.headers.get_all("Authorization"))  # type: ignore[union-attr]
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        await ws.wait_closed()

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        target = url.replace("ws://", upstream_url) if "@" in upstream_url else url
        server = await proxy_for(target, recorder)
        try:
            async with connect(server.url + "?model=gpt-realtime", additional_headers=client_headers) as client:
                assert json.loads(await client.recv())["type"] == "session.created"
        finally:
            await server.close()
    return seen


async def test_a_client_that_sends_two_authorization_headers_is_relayed_not_failed() -> None:
    """`headers[name]` raised MultipleValuesError on a repeated header: the connection failed with a
    traceback. The proxy is transparent: both go upstream, whose verdict the client gets."""
    seen = await _upstream_authorizations("", [("Authorization", "Bearer one"), ("Authorization", "Bearer two")])
    assert seen == [["Bearer one", "Bearer two"]]


async def test_our_user_and_password_in_the_upstream_url_replace_the_clients_credential() -> None:
    """With user:password in the upstream URL (sent as Basic auth by the WebSocket client), the
    client's own Authorization also went, so the upstream got two credentials."""
    import base64

    seen = await _upstream_authorizations("ws://ours:pw12345678@", [("Authorization", f"Bearer {CLIENT_KEY}")])
    assert seen == [["Basic " + base64.b64encode(b"ours:pw12345678").decode()]]


async def test_a_key_the_upstream_streams_back_in_pieces_is_not_recorded_joined() -> None:
    """The client's key read back by the model, one character a delta: no one frame holds it, so
    the frame scrubber alone would let the views and the capture join it whole."""
    said = f"your key is {CLIENT_KEY} keep it safe"

    async def upstream(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created","session":{"id":"s"}}')
        for piece in said:
            delta = {"type": "response.output_text.delta", "item_id": "item_1", "content_index": 0, "delta": piece}
            await ws.send(json.dumps({**delta, "response_id": "resp_1", "output_index": 0}))
        await ws.close()

    recorder = Recorder()
    async with scripted_peer(upstream) as url:
        server = await proxy_for(url, recorder)
        try:
            async with connect(
                server.url + "?model=gpt-realtime", additional_headers={"Authorization": f"Bearer {CLIENT_KEY}"}
            ) as client:
                relayed = [json.loads(message)["delta"] async for message in client if "delta" in str(message)]
            await asyncio.wait_for(recorder.connections[0].closed.wait(), 5)
        finally:
            await server.close()
    assert "".join(relayed) == said  # the client gets what was sent: the proxy alters nothing
    joined = "".join(str(env.data.get("delta", "")) for env in recorder.envelopes[1])
    capture = recorder.connections[0].capture
    assert capture is not None
    on_disk = "".join(str(env.data.get("delta", "")) for env in read_capture(capture.path))
    for text in (joined, on_disk):
        assert CLIENT_KEY not in text and "[redacted]" in text, text


async def test_a_client_asking_for_another_path_is_told_so_beside_the_relay(simulator_url: str) -> None:
    """A client at `/foo` or `/` was relayed to the target's `/v1/realtime` without a word: it worked
    through the proxy and failed against the service."""
    recorder = Recorder()
    server = await proxy_for(simulator_url, recorder)
    try:
        for path in ("/foo?model=gpt-realtime", "/v1/realtime?model=gpt-realtime", "//v1/x?model=gpt-realtime"):
            async with connect(server.url.replace("/v1/realtime", "") + path) as client:
                assert json.loads(await client.recv())["type"] == "session.created"  # relayed all the same
        await asyncio.wait_for(recorder.connections[2].closed.wait(), 5)
    finally:
        await server.close()
    connecting = [
        str(env.data["message"]) for number in (1, 2, 3) for env in recorder.envelopes[number]
        if env.data.get("state") == "connecting"
    ]  # fmt: skip
    assert (
        "(your client asked for the path /foo, not /v1/realtime: relayed all the same, but connected "
        in (connecting[0])
    ), connecting
    assert "asked for the path" not in connecting[1]
    assert "(your client asked for the path //v1/x, not /v1/realtime:" in connecting[2], connecting  # no host in it


def test_the_path_note_reads_a_request_line_in_absolute_form_by_its_path() -> None:
    from tui.proxy.relay import _path_not_relayed

    target = "ws://127.0.0.1:9/v1/realtime?model=x"
    assert _path_not_relayed("ws://someone:***@127.0.0.1:9/v1/realtime?model=x", target) == ""
    assert "asked for the path /foo, not /v1/realtime" in _path_not_relayed("ws://h:9/foo?model=x", target)
