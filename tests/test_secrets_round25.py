"""Round 25 of the key-leak hunt: each test drives a real path that carried the key out.

- A client that puts its key in the URL's user info (`ws://user:KEY@…`) sends it as Basic auth:
  the proxy (relaying to a target without a key of its own, so the client's passes through) and
  the HAR reader only knew the base64 of `user:KEY`, so a server quoting the key it was given
  reached the capture, the views, `replay --json` and `lint`.
- The HAR reader knew only the `Authorization`/`api-key` headers and the subprotocol: the proxy
  also scrubs a gateway's credential header (`cf-aig-authorization`, `x-portkey-api-key`) and
  cookie values, and a HAR saved by an intercepting proxy (mitmproxy writes `_webSocketMessages`
  too) of a client using a gateway showed the credential a server quoted.
- The proxy made its upstream connection outside the handshake's error handling: a target URL
  websockets refuses as it reads it (`ws://KEY@host`, the key as a user name without a password)
  raised out of the handshake, and websockets' traceback on stderr quoted the URL whole; the
  connection never ended either.
- A `Sec-WebSocket-Protocol` was searched for the key subprotocol only right after a comma: a
  client that wrote `realtime; openai-insecure-api-key.KEY` presented a key the proxy did not
  know, and websockets' refusal of that value (quoted whole) reached the capture and stderr.
- A key variable holding a byte that is not UTF-8 (Python reads it as a lone surrogate) made the
  scrubber's encodings raise: `lint` and `replay` ended in a traceback, and so would every
  session now that each scrubs the user's keys.
- The guard that keeps a key streamed across deltas from being joined whole remembers 256
  streams: a server that showed the key's first 5 characters (too few to hold back), then sent
  one delta in each of 300 other streams, then the rest of the key, had it joined whole in the
  transcript (and 40 characters of it in one captured delta).
- The proxy showed the client's request target as written: one in absolute form
  (`GET ws://user:KEY@host/v1/realtime HTTP/1.1`) put the key on its connecting line (stderr,
  `--json`, the capture).
- A HAR written by an HTTP tool (mitmproxy's `save.har`) names a socket by its upgrade request's
  `https://` URL: the HAR reader, reading only `ws(s)://`, found no `?api-key=` in it to scrub.
- A session with the simulator or a `--url` server (never given OPENAI_API_KEY) scrubbed only the
  key it sent: OPENAI_API_KEY, in the environment, typed into a message (or put in instructions
  by a client behind the proxy) was captured and shown whole, though a replay of that capture
  scrubs it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus

from tests.app_helpers import reply_done, session_ready, views_settled, wait_for
from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.secret_helpers import assert_no_leak, assert_no_leak_in_captures, new_test_key, svg_text
from tests.test_secrets import hostile_server, planted_frames
from tui.proxy import ProxyServer, ProxyTarget

RT_TUI = [sys.executable, "-m", "tui"]


@pytest.fixture
def key() -> str:
    return new_test_key()


def basic(user: str, password: str) -> str:
    """An `Authorization` value for Basic auth, as a WebSocket client writes it from a URL."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


async def test_a_proxied_client_s_basic_auth_key_is_scrubbed_when_the_upstream_quotes_it(key: str) -> None:
    """The client's key travels as Basic auth through a proxy with no key of its own; the hostile
    upstream quotes it back in every spelling: the client gets the frames unchanged, while the
    proxy's recorded envelopes and its capture hold none of it."""
    recorded: list[str] = []
    async with hostile_server(key) as url:
        server = ProxyServer(ProxyTarget(url.split("?")[0], "upstream"), port=0)
        server.on_connection = lambda connection: lambda env: recorded.append(env.raw)
        await server.start()
        try:
            with_key = server.url.replace("ws://", f"ws://someone:{quote(key, safe='')}@")
            got: list[str | bytes] = []
            async with connect(with_key + "?model=gpt-realtime&mode=app") as client:
                got.append(await client.recv())
                await client.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
                try:
                    while True:
                        got.append(await asyncio.wait_for(client.recv(), 10))
                except Exception:  # noqa: BLE001, S110 - the hostile server closes quoting the key
                    pass
            await asyncio.wait_for(server.connections[0].closed.wait(), 10)
        finally:
            await server.close()
    frames, errors = planted_frames(key)
    assert len(got) >= len(frames) + len(errors)  # relayed to the client as the server sent them
    assert any(key in frame for frame in got if isinstance(frame, str))
    capture = server.connections[0].capture
    assert capture is not None
    assert sum("[redacted]" in raw for raw in recorded) >= len(errors)
    assert_no_leak("\n".join(recorded), key, "the proxy's recorded envelopes")
    assert_no_leak(capture.path.read_text(), key, "the proxy's capture")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Authorization", "basic"),
        ("cf-aig-authorization", "Bearer {key}"),
        ("x-portkey-api-key", "{key}"),
        ("Helicone-Auth", "Bearer {key}"),
        ("Cookie", "theme=dark; session={key}"),
    ],
)
def test_a_har_s_credential_headers_are_scrubbed_from_replay_json_and_lint(
    key: str, tmp_path: Path, header: str, value: str
) -> None:
    """A socket opened with the key in a header the proxy knows to scrub (Basic auth: the key in the
    URL's user info); the server quoted the key back in every spelling."""
    frames, errors = planted_frames(key)
    messages = [
        {"type": "receive", "time": 1700000000 + n / 100, "opcode": 1, "data": frame}
        for n, frame in enumerate([f for f in frames if isinstance(f, str)] + errors)
    ]
    sent = basic("someone", key) if value == "basic" else value.format(key=key)
    request = {
        "method": "GET",
        "url": "wss://gateway.example/v1/realtime?model=gpt-realtime",
        "headers": [
            {"name": "Sec-WebSocket-Key", "value": "dGhlIHNhbXBsZSBub25jZQ=="},
            {"name": header, "value": sent},
        ],
    }
    entry = {"_resourceType": "websocket", "request": request, "response": {"status": 101}}
    har = tmp_path / "browser.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [{**entry, "_webSocketMessages": messages}]}}))
    for command in (["replay", str(har), "--json"], ["lint", str(har)], ["lint", str(har), "--json"]):
        result = subprocess.run([*RT_TUI, *command], capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout.strip()
        where = " ".join(command[:1] + command[2:])
        assert_no_leak(result.stdout, key, f"{where} stdout")
        assert_no_leak(result.stderr, key, f"{where} stderr")


async def test_a_typed_message_never_captures_or_shows_the_openai_key_of_a_url_session(
    key: str, simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENAI_API_KEY is set, the target is a `--url` server (which never gets it): the key typed
    into a message goes to the server as typed, and is scrubbed from the screen and the capture."""
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice
    from tui.widgets.transcript import Transcript

    monkeypatch.setenv("OPENAI_API_KEY", key)
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *f"my key is {key} ok", "enter", "escape")
        await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
        await views_settled(pilot, app)
        transcript = app.query_one(Transcript).text()
        screen = svg_text(app.export_screenshot())
    assert "my key is [redacted] ok" in transcript
    assert_no_leak(transcript, key, "the transcript")
    assert_no_leak(screen, key, "the screen")
    assert_no_leak_in_captures(Path(os.environ["RT_TUI_DATA_DIR"]), key)


async def test_the_headless_proxy_never_prints_the_openai_key_a_client_sends_to_the_simulator(
    key: str, simulator_url: str, tmp_path: Path
) -> None:
    """`rt-tui proxy --url SIMULATOR --json` with OPENAI_API_KEY in its environment: a client puts
    the key in its instructions (the simulator echoes them in `session.updated`)."""
    process = start_headless_proxy(tmp_path / "data", "--url", simulator_url, env={"OPENAI_API_KEY": key})
    assert process.stderr is not None
    try:
        proxy_url, first_lines = await listening_url(process.stderr, 30)
        async with connect(proxy_url + "?model=gpt-realtime") as client:
            await client.recv()
            update = {"type": "session.update", "session": {"type": "realtime", "instructions": f"key: {key}"}}
            await client.send(json.dumps(update))
            async with asyncio.timeout(10):
                while json.loads(await client.recv())["type"] != "session.updated":
                    pass
    finally:
        process.terminate()  # SIGTERM: the proxy writes every pending line, then exits
        out, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert '"session.updated"' in out
    assert_no_leak(out, key, "proxy --json stdout")
    assert_no_leak("".join(first_lines) + err, key, "proxy --json stderr")
    assert_no_leak_in_captures(tmp_path / "data", key)


async def test_a_proxy_target_with_the_key_as_its_user_name_fails_in_one_line_without_it(
    key: str, simulator_url: str, tmp_path: Path
) -> None:
    """RT_TUI_URL=ws://KEY@HOST/…: rt-tui accepts it (the user name is dropped from every label),
    websockets refuses it as the upstream connection is made. The client gets a 502, stderr one
    line saying why, and neither they nor the capture quote the URL."""
    url = simulator_url.replace("ws://", f"ws://{quote(key, safe='')}@")
    process = start_headless_proxy(tmp_path / "data", env={"RT_TUI_URL": url})
    assert process.stderr is not None
    try:
        proxy_url, first_lines = await listening_url(process.stderr, 30)
        with pytest.raises(InvalidStatus) as refused:
            async with connect(proxy_url + "?model=gpt-realtime"):
                pass
        assert refused.value.response.status_code == 502
        said = refused.value.response.body.decode()
        line = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), 10)
        while "cannot reach" not in line:
            line = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), 10)
    finally:
        process.terminate()
        out, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert line.startswith("[conn 1] connection: cannot reach ") and "username provided without password" in line
    assert "Traceback" not in err
    assert_no_leak(said, key, "the client's 502")
    assert_no_leak("".join(first_lines) + line + err, key, "proxy --json stderr")
    captures = list((tmp_path / "data").glob("sessions/*/frames.jsonl"))
    assert captures
    for capture in captures:
        text = capture.read_text()
        assert '"state":"failed"' in text  # the connection's end is in its capture
        assert_no_leak(text, key, f"the proxy's capture {capture}")


async def handshake_through_proxy(
    simulator_url: str, request: Callable[[int], str], *, whole: bool
) -> tuple[ProxyServer, list[str], bytes]:
    """Send a hand-written upgrade request (`request(port)`) to a proxy of the simulator; returns the
    proxy (stopped), the raw text of every frame it recorded, and its answer (`whole`: until it
    closed; else its headers)."""
    recorded: list[str] = []
    server = ProxyServer(ProxyTarget(simulator_url.split("?")[0], "simulator"), port=0)
    server.on_connection = lambda connection: lambda env: recorded.append(env.raw)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request(server.port).encode())
        await writer.drain()
        reading = reader.read() if whole else reader.readuntil(b"\r\n\r\n")
        answer = await asyncio.wait_for(reading, 10)
        writer.close()
        await asyncio.wait_for(server.connections[0].closed.wait(), 10)
    finally:
        await server.close()
    return server, recorded, answer


async def test_a_key_subprotocol_after_a_semicolon_is_scrubbed_from_the_proxy_s_refusal(
    key: str, simulator_url: str
) -> None:
    """A hand-written client joins its subprotocols with `;`: websockets refuses to offer the value
    upstream, and its error quotes it. The client gets a 502, and nothing recorded holds the key."""
    sent = key.replace("/", "_").replace("=", "")  # a subprotocol is a token: no `/` or `=`
    request = (
        "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: realtime; openai-insecure-api-key.{sent}\r\n\r\n"
    )
    server, recorded, answer = await handshake_through_proxy(simulator_url, lambda port: request, whole=True)
    assert answer.startswith(b"HTTP/1.1 502 ")
    assert any("invalid subprotocol" in raw and "[redacted]" in raw for raw in recorded), recorded
    capture = server.connections[0].capture
    assert capture is not None
    for text, where in ((answer.decode(), "the client's 502"), ("\n".join(recorded), "the recorded facts")):
        assert_no_leak(text, sent, where)
    assert_no_leak(capture.path.read_text(), sent, "the proxy's capture")


BROKEN_KEY = b"sk-proj-abc\xffdefghijkl0123456789"
"""A key variable with a byte that is not UTF-8 (a Latin-1 .env): Python reads it as `\udcff`."""


def test_lint_and_replay_work_when_a_key_variable_is_not_utf8(tmp_path: Path) -> None:
    """No traceback: the recording is linted and replayed as without the variable."""
    har = tmp_path / "browser.har"
    messages = [{"type": "receive", "time": 1.0, "opcode": 1, "data": json.dumps({"type": "session.created"})}]
    entry = {"request": {"url": "wss://api.openai.com/v1/realtime?model=gpt-realtime"}, "_webSocketMessages": messages}
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    env = {**os.environ, "OPENAI_API_KEY": os.fsdecode(BROKEN_KEY)}
    for command, said in ((["lint", str(har)], "4 frames (har)"), (["replay", str(har), "--json"], "session.created")):
        result = subprocess.run([*RT_TUI, *command], capture_output=True, text=True, timeout=60, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 0 and said in result.stdout, result.stderr


async def test_a_session_opens_and_scrubs_when_a_key_variable_is_not_utf8(
    simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator target never sends OPENAI_API_KEY, but scrubs it: a broken one is scrubbed
    too (a server quoting it would quote it as `\udcff`'s UTF-8), and the session opens."""
    from tui.bus import Bus
    from tui.config import Settings, TargetChoice
    from tui.launch import open_target
    from tui.session import ConnectionState, RealtimeSession
    from tui.session.scrub import Scrubber

    monkeypatch.setenv("OPENAI_API_KEY", os.fsdecode(BROKEN_KEY))
    async with open_target(Settings(target=TargetChoice.URL, url=simulator_url)) as target:
        session = RealtimeSession(target, Bus())
        try:
            await session.connect()
            assert session.state is ConnectionState.OPEN
        finally:
            await session.close()
    broken = os.fsdecode(BROKEN_KEY)
    assert Scrubber(target.secrets).text(f"bad key {broken}.") == "bad key [redacted]."


@pytest.mark.parametrize("pieces", [1, 5], ids=["rest-at-once", "five-characters-a-delta"])
async def test_a_key_streamed_around_the_guard_s_memory_is_never_joined_whole(
    key: str, tmp_path: Path, pieces: int
) -> None:
    """The key's first 5 characters, 300 other streams (the guard forgets all but 256), then the
    rest of the key in the first stream again: at once, or 5 characters a delta with 300 other
    streams between each."""
    from tests.test_secrets_streamed import session_with
    from tui.conversation import Conversation

    rest = key[5:]
    parts = [rest] if pieces == 1 else [rest[i : i + 5] for i in range(0, len(rest), 5)]

    def delta(item: str, text: str) -> str:
        said = {"type": "response.output_text.delta", "item_id": item, "content_index": 0, "delta": text}
        return json.dumps({**said, "response_id": "resp_1", "output_index": 0})

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        await ws.send(delta("item_key", "your key is " + key[:5]))
        for round_, part in enumerate(parts):
            for n in range(300):
                await ws.send(delta(f"item_{round_}_{n}", "x"))
            await ws.send(delta("item_key", part))
        await ws.send(delta("item_key", " keep it safe"))
        await ws.close()

    envelopes, captured = await session_with(peer, key, tmp_path)
    conversation = Conversation()
    for env in envelopes:
        conversation.apply(env)
    text = next(item.text for item in conversation.ordered() if item.id == "item_key")
    assert text.startswith("your key is ") and text.endswith(" keep it safe"), text
    assert_no_leak(text, key, "the transcript")
    assert_no_leak(captured, key, "the capture")


async def test_a_request_line_in_absolute_form_never_shows_its_user_info(key: str, simulator_url: str) -> None:
    """`GET ws://user:KEY@host/v1/realtime…`: relayed (the upstream gets its path and query), and
    the connecting line names the path without the user info."""

    def request(port: int) -> str:
        target = f"ws://someone:{quote(key, safe='')}@127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        return (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )

    server, recorded, answer = await handshake_through_proxy(simulator_url, request, whole=False)
    assert answer.startswith(b"HTTP/1.1 101 ")  # relayed
    connecting = next(raw for raw in recorded if "connected: relaying" in raw)
    assert f"relaying ws://127.0.0.1:{server.port}/v1/realtime?model=gpt-realtime to " in connecting
    capture = server.connections[0].capture
    assert capture is not None
    assert_no_leak("\n".join(recorded), key, "the recorded facts")
    assert_no_leak(capture.path.read_text(), key, "the proxy's capture")


def test_an_https_socket_url_in_a_har_has_its_api_key_scrubbed(key: str, tmp_path: Path) -> None:
    """mitmproxy writes a WebSocket entry's URL as the upgrade request's (`https://…`): an Azure
    client's `?api-key=` there is scrubbed from what the server quoted, and the label masks it."""
    frames, errors = planted_frames(key)
    messages = [
        {"type": "receive", "time": 1700000000 + n / 100, "opcode": 1, "data": frame}
        for n, frame in enumerate([f for f in frames if isinstance(f, str)] + errors)
    ]
    url = f"https://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime&api-key={quote(key, safe='')}"
    entry = {"request": {"method": "GET", "url": url, "headers": []}, "_resourceType": "websocket"}
    har = tmp_path / "mitmproxy.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [{**entry, "_webSocketMessages": messages}]}}))
    result = subprocess.run([*RT_TUI, "replay", str(har), "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "connecting to wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime&api-key=***" in result.stdout
    assert_no_leak(result.stdout, key, "replay --json stdout")
    assert_no_leak(result.stderr, key, "replay --json stderr")
