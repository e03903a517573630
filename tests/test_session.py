"""The session client over real websockets on loopback: frames, capture file, failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from tests.server_helpers import captured_until_closed, scripted_peer
from tui.bus import Bus
from tui.lint import Finding
from tui.protocol import Direction, Envelope
from tui.session import (
    FRAMES,
    CaptureWriter,
    ConnectionFailed,
    ConnectionState,
    RealtimeSession,
    new_session_dir,
    read_capture,
    url_target,
)

SECRET = "test-key-0123456789abcdefghijklmnopqrstuv"


def drain_types(bus_sub: object) -> list[str]:
    return [env.type for env in bus_sub.drain()]  # type: ignore[attr-defined]


async def test_connect_publishes_every_frame_and_captures_them_without_the_key(simulator_url: str) -> None:
    bus = Bus()
    sub = bus.subscribe(FRAMES)
    folder = new_session_dir()
    capture = CaptureWriter(folder, (SECRET,))
    session = RealtimeSession(url_target(simulator_url, api_key=SECRET), bus, capture=capture)
    await session.connect()
    assert session.state is ConnectionState.OPEN
    # A frame that carries the key (in a field the server accepts: it refuses unknown ones).
    session.send({"type": "input_audio_buffer.clear", "event_id": SECRET})
    envs: list[Envelope] = []
    async with asyncio.timeout(10):
        while not any(e.type == "input_audio_buffer.cleared" for e in envs):
            envs.append(await sub.get())
    await session.close()
    capture.close()
    envs += sub.drain()
    incoming = [e for e in envs if e.direction is Direction.IN]
    assert incoming[0].type == "session.created"
    assert session.session_id and session.session_id.startswith("sess_")
    assert [e.type for e in envs if e.direction is Direction.OUT] == ["input_audio_buffer.clear"]
    assert "input_audio_buffer.cleared" in [e.type for e in incoming]
    assert [e.data["state"] for e in envs if e.type == "rt.connection"] == ["connecting", "open", "closed"]
    lines = [json.loads(line) for line in (folder / "frames.jsonl").read_text().splitlines()]
    assert [line["seq"] for line in lines] == [e.seq for e in envs]
    assert {line["dir"] for line in lines} == {"in", "out", "local"}
    assert SECRET not in (folder / "frames.jsonl").read_text()
    assert "[redacted]" in (folder / "frames.jsonl").read_text()


async def test_error_then_close_after_the_handshake_is_a_failed_connection() -> None:
    async def refuse(ws: ServerConnection) -> None:
        await ws.send(
            json.dumps(
                {
                    "type": "error",
                    "event_id": "event_1",
                    "error": {
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                        "message": "Incorrect API key provided.",
                        "param": None,
                        "event_id": None,
                    },
                }
            )
        )
        await ws.close(3000, "invalid_request_error.invalid_api_key")

    async with scripted_peer(refuse) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        session = RealtimeSession(url_target(url, api_key=SECRET), bus)
        with pytest.raises(ConnectionFailed) as info:
            await session.connect()
        message = str(info.value)
        assert "invalid_api_key" in message and "Incorrect API key" in message and "3000" in message
        assert SECRET not in message
        assert session.state is ConnectionState.FAILED
        assert "error" in drain_types(sub)  # the server's frame is kept, not lost


async def test_a_recoverable_error_first_does_not_fail_the_connection() -> None:
    async def grumble(ws: ServerConnection) -> None:
        await ws.send(
            json.dumps(
                {"type": "error", "error": {"type": "invalid_request_error", "code": "x", "message": "not fatal"}}
            )
        )
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_x"}}))
        await ws.wait_closed()

    async with scripted_peer(grumble) as url:
        session = RealtimeSession(url_target(url), Bus())
        await session.connect()
        assert session.is_open
        await session.close()


async def test_malformed_and_unknown_frames_are_published_and_the_session_keeps_running() -> None:
    async def noisy(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_y"}}))
        await ws.send("{this is not json")
        await ws.send(b"\x00\x01binary")
        await ws.send(json.dumps({"type": "vendor.surprise", "x": 1}))
        await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_y"}}))
        await ws.wait_closed()

    async with scripted_peer(noisy) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        session = RealtimeSession(url_target(url), bus)
        await session.connect()
        envs: list[Envelope] = []
        while not any(e.type == "session.updated" for e in envs):  # the peer's last frame
            envs.append(await asyncio.wait_for(sub.get(), 10))
            envs += sub.drain()
        assert session.is_open
        types = [e.type for e in envs if e.direction is Direction.IN]
        assert types == ["session.created", "rt.malformed", "rt.malformed", "vendor.surprise", "session.updated"]
        malformed = [e for e in envs if e.type == "rt.malformed"]
        assert "not JSON" in malformed[0].data["message"] and malformed[0].raw == "{this is not json"
        assert "binary" in malformed[1].data["message"]
        await session.close()


async def test_server_closing_mid_session_is_reported_with_its_code() -> None:
    async def hang_up(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_z"}}))
        await asyncio.sleep(0.2)
        await ws.send(json.dumps({"type": "error", "error": {"code": "session_expired", "message": "max duration"}}))
        await ws.close(1001, "Your session hit the maximum duration of 60 minutes.")

    async with scripted_peer(hang_up) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        session = RealtimeSession(url_target(url), bus)
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 10)
        assert session.state is ConnectionState.CLOSED
        assert session.close_reason is not None and "1001" in session.close_reason
        assert "maximum duration" in session.close_reason
        types = drain_types(sub)
        assert types[-2:] == ["error", "rt.connection"]
        with pytest.raises(ConnectionError):
            session.send({"type": "response.create"})


async def test_nothing_listening_gives_a_clear_reason(unused_port: int) -> None:
    session = RealtimeSession(url_target(f"ws://127.0.0.1:{unused_port}/v1/realtime"), Bus(), open_timeout=3)
    with pytest.raises(ConnectionFailed, match="refused|cannot reach"):
        await session.connect()


def test_bad_urls_and_missing_key_are_refused_before_connecting(tmp_path: Path) -> None:
    from tui.session import TargetError, openai_target

    with pytest.raises(TargetError, match="not a WebSocket URL"):
        url_target("http://example.com")
    with pytest.raises(TargetError, match="OPENAI_API_KEY"):
        openai_target(api_key="")
    target = openai_target(api_key=SECRET)
    assert target.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert target.headers == {"Authorization": f"Bearer {SECRET}"}
    assert "OpenAI-Beta" not in target.headers
    assert SECRET not in repr(target) and SECRET not in target.label


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_server_that_echoes_the_key_never_gets_it_onto_the_bus_or_into_errors(tmp_path: Path) -> None:
    """Some compatible servers quote the key they were given; rt-tui must not show or store it."""

    async def echo_key(ws: ServerConnection) -> None:
        sent = ws.request.headers["Authorization"].removeprefix("Bearer ") if ws.request else ""
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_echo", "note": sent}}))
        await ws.send(json.dumps({"type": "error", "error": {"message": f"key {sent} has no quota", "code": None}}))
        await ws.send(f"not json, but it quotes {sent}")
        await asyncio.sleep(0.1)
        await ws.close(4001, f"bad key {sent}"[:100])

    async def refuse_quoting_key(ws: ServerConnection) -> None:
        sent = ws.request.headers["Authorization"].removeprefix("Bearer ") if ws.request else ""
        await ws.send(json.dumps({"type": "error", "error": {"message": f"Incorrect API key provided: {sent}"}}))
        await ws.close(3000, "invalid_request_error.invalid_api_key")

    async with scripted_peer(echo_key) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        folder = new_session_dir(tmp_path)
        target = url_target(url, api_key=SECRET)
        session = RealtimeSession(target, bus, capture=CaptureWriter(folder, target.secrets))
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 3)
        envs: list[Envelope] = sub.drain()
        types = [env.type for env in envs]
        assert {"session.created", "error", "rt.malformed"} <= set(types)  # every frame kept...
        for env in envs:  # ...and none of them, parsed or raw, holds the key
            assert SECRET not in env.raw and SECRET not in json.dumps(env.data), env
        assert any("[redacted]" in env.raw for env in envs if env.type == "error")
        assert session.close_reason is not None and SECRET not in session.close_reason
        assert "[redacted]" in session.close_reason
        assert SECRET not in (folder / "frames.jsonl").read_text()

    async with scripted_peer(refuse_quoting_key) as url:
        session = RealtimeSession(url_target(url, api_key=SECRET), Bus())
        with pytest.raises(ConnectionFailed) as info:
            await session.connect()
        assert SECRET not in str(info.value) and "Incorrect API key provided: [redacted]" in str(info.value)


@pytest.mark.parametrize("padded", [f" {SECRET} ", f"{SECRET}\n", f"{SECRET}\r\n", f"\t{SECRET}"])
async def test_a_key_with_spaces_or_a_line_end_is_sent_bare_and_scrubbed_as_echoed(padded: str, tmp_path: Path) -> None:
    """RT_TUI_API_KEY read from a file or a .env keeps its line end or spaces. Sent padded, a line end
    made the header invalid, and a server (HTTP strips a header's ends) echoed the bare key, which the
    scrubber, looking for the padded one, left on the bus and in the capture."""

    async def echo_key(ws: ServerConnection) -> None:
        sent = ws.request.headers["Authorization"] if ws.request else ""
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_echo", "note": sent}}))
        await ws.close(4001, f"bad {sent}"[:100])

    async with scripted_peer(echo_key) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        folder = new_session_dir(tmp_path)
        target = url_target(url, api_key=padded)
        assert target.headers == {"Authorization": f"Bearer {SECRET}"}
        session = RealtimeSession(target, bus, capture=CaptureWriter(folder, target.secrets))
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 3)
    envs: list[Envelope] = sub.drain()
    created = next(env for env in envs if env.type == "session.created")
    assert created.data["session"]["note"] == "Bearer [redacted]"  # the key arrived, and was scrubbed
    for env in envs:
        assert SECRET not in env.raw and SECRET not in json.dumps(env.data), env
    assert session.close_reason is not None and SECRET not in session.close_reason
    assert SECRET not in (folder / "frames.jsonl").read_text()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            b'{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}',
            ": HTTP 401 (check the API key): Access denied due to invalid subscription key.",
        ),
        (
            b"Unauthorized:\n key KEY is not \x1b[31mvalid\r\n",
            ": HTTP 401 (check the API key): Unauthorized: key [redacted] is not ␛[31mvalid",
        ),
        (b"", ": HTTP 401 (check the API key)"),
        (b"x" * 5000, ": HTTP 401 (check the API key): " + "x" * 299 + "…"),
        # A key across the cut: scrubbed before the cut, so no start of it survives.
        (b"x" * 280 + b" KEY trailing words", ": HTTP 401 (check the API key): " + "x" * 280 + " [redacted] trailin…"),
    ],
)
async def test_an_http_refusal_of_the_upgrade_says_what_its_body_says(body: bytes, says: str) -> None:
    """Azure and gateways refuse the upgrade with a 401 whose body says why; rt-tui said only the
    status. The body is quoted on one line, its control characters as symbols, any key scrubbed."""
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Request, Response

    def refuse(connection: ServerConnection, request: Request) -> Response:
        sent = body.replace(b"KEY", SECRET.encode())
        headers = Headers([("Content-Length", str(len(sent))), ("Content-Type", "text/plain")])
        return Response(401, "Unauthorized", headers, sent)

    async with serve(lambda ws: asyncio.sleep(0), "127.0.0.1", 0, process_request=refuse) as server:
        port = server.sockets[0].getsockname()[1]
        session = RealtimeSession(url_target(f"ws://127.0.0.1:{port}/", api_key=SECRET), Bus())
        with pytest.raises(ConnectionFailed) as info:
            await session.connect()
    message = str(info.value)
    assert message.endswith(says) and "\n" not in message and SECRET[:8] not in message, message


async def test_keys_go_where_they_belong_and_openai_s_never_goes_to_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """--url gets RT_TUI_API_KEY as a Bearer token, never OPENAI_API_KEY; Azure hosts get `api-key`."""
    from tui.config import Settings, TargetChoice
    from tui.launch import open_target

    seen: list[dict[str, str]] = []

    async def record(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen.append({k.lower(): v for k, v in ws.request.headers.raw_items()})
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_k"}}))
        await ws.close()

    monkeypatch.setenv("OPENAI_API_KEY", "openai-key-must-stay-home")
    monkeypatch.delenv("RT_TUI_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    async with scripted_peer(record) as url:
        for url_key in (None, "url-key-1"):
            if url_key:
                monkeypatch.setenv("RT_TUI_API_KEY", url_key)
            async with open_target(Settings(target=TargetChoice.URL, url=url)) as target:
                session = RealtimeSession(target, Bus())
                await session.connect()
                await session.close()
    assert all("openai-key-must-stay-home" not in json.dumps(headers) for headers in seen)
    assert "authorization" not in seen[0] and "api-key" not in seen[0]
    assert seen[1]["authorization"] == "Bearer url-key-1"
    # With no flag and OPENAI_API_KEY set, the default target is OpenAI (GA, Bearer, no beta header).
    assert Settings().resolved_target() is TargetChoice.OPENAI

    # Azure (protocol §1.5): the key travels in an `api-key` header, from RT_TUI_API_KEY or else
    # AZURE_OPENAI_API_KEY; never as a Bearer token and never OPENAI_API_KEY.
    azure_url = "wss://my-resource.openai.azure.com/openai/v1/realtime?model=my-deployment"
    monkeypatch.delenv("RT_TUI_API_KEY")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-2")
    async with open_target(Settings(target=TargetChoice.URL, url=azure_url)) as target:
        assert target.headers == {"api-key": "azure-key-2"}
        assert "azure-key-2" in target.secrets and "azure-key-2" not in target.label
    # A blank RT_TUI_API_KEY (`RT_TUI_API_KEY= ` in a .env) is no key: it hid AZURE_OPENAI_API_KEY,
    # and the upgrade went without one.
    monkeypatch.setenv("RT_TUI_API_KEY", " \n")
    async with open_target(Settings(target=TargetChoice.URL, url=azure_url)) as target:
        assert target.headers == {"api-key": "azure-key-2"}
    monkeypatch.delenv("OPENAI_API_KEY")
    assert Settings().resolved_target() is TargetChoice.LOCAL


def test_url_credentials_are_secrets_in_every_spelling_but_names_and_short_values_are_not() -> None:
    from tui.protocol import Direction, Envelope
    from tui.session.scrub import Scrubber

    url = "wss://admin:hunter2-long-pass@example.test/v1/realtime?model=m&sig=ab%2Bcd%2F12345678"
    target = url_target(url)
    assert {"hunter2-long-pass", "ab%2Bcd%2F12345678", "ab+cd/12345678"} <= set(target.secrets)
    assert "admin" not in target.secrets  # a user name is not a secret, and is everywhere in text
    assert "hunter2" not in target.label and "ab%2B" not in target.label and "admin" not in target.label

    scrub = Scrubber((*target.secrets, "text", "1"))  # too short to scrub without mangling frames
    frame: dict[str, Any] = {
        "type": "conversation.item.added",
        "item": {"role": "user", "content": [{"type": "input_text"}]},
    }
    env = Envelope(1, Direction.IN, "conversation.item.added", frame, json.dumps(frame))
    assert scrub.envelope(env) is env
    # A server that escapes slashes hides the decoded secret from a plain search of the raw text.
    echoed = {"type": "error", "error": {"message": "bad sig ab+cd/12345678"}}
    raw = json.dumps(echoed).replace("/", "\\/")
    cleaned = scrub.envelope(Envelope(2, Direction.IN, "error", echoed, raw))
    assert "ab+cd" not in json.dumps(cleaned.data) and "12345678" not in cleaned.raw
    assert json.loads(cleaned.raw)["error"]["message"] == "bad sig [redacted]"


def test_a_capture_line_stays_json_whatever_is_scrubbed(tmp_path: Path) -> None:
    from tui.protocol import Direction, Envelope

    folder = new_session_dir(tmp_path)
    writer = CaptureWriter(folder, (SECRET, "1"))
    frame = {"type": "error", "error": {"message": f"quoted {SECRET}", "code": None}}
    writer.write(Envelope(1, Direction.IN, "error", frame, json.dumps(frame)))
    writer.close()
    [record] = [json.loads(line) for line in (folder / "frames.jsonl").read_text().splitlines()]
    assert record["seq"] == 1 and record["frame"]["error"]["message"] == "quoted [redacted]"


def test_a_malformed_url_error_never_quotes_the_url() -> None:
    from tui.session import TargetError

    with pytest.raises(TargetError) as info:
        url_target("ws://user:hunter2/v1/realtime")  # the @host was forgotten: urllib reads a port
    assert "hunter2" not in str(info.value) and "port" in str(info.value)


async def test_a_frame_over_the_default_limit_is_reported_as_refused_by_rt_tui(tmp_path: Path) -> None:
    """16 MiB by default: a 20 MB frame closes the connection with 1009, said as such, and recorded."""
    big = json.dumps({"type": "conversation.item.retrieved", "audio": "A" * 20_000_000})

    async def flood(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_big"}}))
        with contextlib.suppress(Exception):
            await ws.send(big)
        await ws.wait_closed()

    folder = new_session_dir(tmp_path)
    session, _ = await captured_until_closed(flood, folder)
    expected = "server sent a frame of 20 MB, over the 16 MiB limit: rt-tui closed the connection (1009)"
    assert session.close_reason is not None and session.close_reason.startswith(expected), session.close_reason
    assert "1006" not in session.close_reason and "closed by server" not in session.close_reason
    closed = [e for e in read_capture(folder / "frames.jsonl") if e.data.get("state") == "closed"]
    assert [(e.data["closed_by"], e.data["code"], e.data["frame_bytes"]) for e in closed] == [
        ("rt-tui", 1009, len(big))
    ]
    assert closed[0].data["max_frame_bytes"] == 16 * 1024 * 1024


async def test_the_frame_limit_is_configurable_and_frames_within_it_arrive_whole(tmp_path: Path) -> None:
    within = json.dumps({"type": "conversation.item.retrieved", "audio": "QUJD" * 200_000})  # 800 KB
    over = json.dumps({"type": "conversation.item.retrieved", "audio": "QUJD" * 400_000})  # 1.6 MB

    async def two_frames(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_lim"}}))
        await ws.send(within)
        with contextlib.suppress(Exception):
            await ws.send(over)
        await ws.wait_closed()

    async def big_first(ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            await ws.send(over)
        await ws.wait_closed()

    folder = new_session_dir(tmp_path)
    async with scripted_peer(two_frames) as url:
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        capture = CaptureWriter(folder)
        session = RealtimeSession(url_target(url), bus, capture=capture, max_frame_bytes=1024 * 1024)
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 10)
        capture.close()
    assert session.close_reason is not None
    assert session.close_reason.startswith("server sent a frame of 1.6 MB, over the 1 MiB limit"), session.close_reason
    received = [e for e in sub.drain() if e.type == "conversation.item.retrieved"]
    assert [e.raw for e in received] == [within] and received[0].size == len(within)
    assert [e.raw for e in read_capture(folder / "frames.jsonl") if e.type == "conversation.item.retrieved"] == [within]
    linted = lint_capture(folder / "frames.jsonl")
    assert [f.rule for f in linted] == ["frame-refused"], linted  # said, though nothing was in flight
    assert "server sent a frame of 1.6 MB, over the 1 MiB limit" in linted[0].message

    async with scripted_peer(big_first) as url:
        session = RealtimeSession(url_target(url), Bus(), max_frame_bytes=1024 * 1024)
        with pytest.raises(ConnectionFailed, match=r"server sent a frame of 1\.6 MB, over the 1 MiB limit.*\(1009\)"):
            await session.connect()


async def test_a_burst_of_buffered_frames_does_not_hold_the_loop_until_it_is_read() -> None:
    """websockets hands over frames it has buffered without yielding: the reader yields every
    READ_SLICE, so a key press and its screen update are not held up by a whole burst."""
    delta = json.dumps({"type": "response.output_text.delta", "delta": "x", "item_id": "i", "response_id": "r"})
    frame = b"\x81" + bytes([len(delta)]) + delta.encode()  # an unmasked server text frame, as sent on the wire
    count = 4000

    async def burst(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_b"}}))
        ws.transport.write(frame * count)  # the whole burst in one write: the client buffers it
        await ws.wait_closed()

    async with scripted_peer(burst) as url:
        bus = Bus()
        feed = bus.subscribe(FRAMES)
        session = RealtimeSession(url_target(url), bus)
        await session.connect()
        feed.drain()
        stretches: list[int] = []  # frames published between two turns of another task
        received = 0
        async with asyncio.timeout(20):
            while received < count:
                stretch = sum(1 for env in feed.drain() if env.type == "response.output_text.delta")
                stretches.append(stretch)
                received += stretch
                await asyncio.sleep(0)
        await session.close()
    longest = max(stretches)
    assert received == count
    assert longest < count // 4, f"the reader held the loop for {longest} frames in a row"


async def test_an_event_with_a_lone_surrogate_goes_out_escaped_and_the_session_stays_open(
    simulator_url: str, tmp_path: Path
) -> None:
    """`{"instructions": "\\ud800"}` typed in "send an event": the socket's UTF-8 encode failed, the
    writer task died with it, the connection dropped and the app said the server had dropped it.
    The event goes out as JSON escapes, as typed; the server answers; the capture holds it."""
    bus = Bus()
    sub = bus.subscribe(FRAMES)
    capture = CaptureWriter(new_session_dir(tmp_path))
    session = RealtimeSession(url_target(simulator_url), bus, capture=capture)
    await session.connect()
    session.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
                  "content": [{"type": "input_text", "text": "odd \ud800 text"}]}})  # fmt: skip
    session.send({"type": "input_audio_buffer.clear"})  # the writer goes on after it
    envs: list[Envelope] = []
    async with asyncio.timeout(10):
        while not any(e.type == "input_audio_buffer.cleared" for e in envs):
            envs.append(await sub.get())
    assert session.state is ConnectionState.OPEN
    await session.close()
    capture.close()
    [sent] = [e for e in envs if e.direction is Direction.OUT and e.type == "conversation.item.create"]
    assert "odd \\ud800 text" in sent.raw and sent.raw.isascii()
    assert not any(e.type == "rt.client_error" for e in envs)
    [refusal] = [e for e in envs if e.type == "error"]  # the server's word on it, linked to the event
    error = refusal.data["error"]
    assert error["event_id"] == sent.data["event_id"] and "surrogate" in error["message"]
    assert "odd \\ud800 text" in capture.path.read_text()  # as it went on the wire


def lint_capture(path: Path) -> list[Finding]:
    """What `rt-tui lint` finds in the capture at `path`."""
    from tui.lint import lint_envelopes

    return lint_envelopes(read_capture(path))


async def test_a_text_frame_that_is_not_utf8_is_named_so_and_linted(tmp_path: Path) -> None:
    """`rt-tui closed the connection (code 1007: invalid start byte at position 46)` did not say the
    server had sent bytes that are not UTF-8, and the linter found nothing in the capture."""

    async def latin1(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_1"}}))
        with contextlib.suppress(Exception):
            await ws.send('{"type":"response.output_text.delta","delta":"caf\u00e9"}'.encode("latin-1"), text=True)
        await ws.wait_closed()

    folder = new_session_dir(tmp_path)
    session, _ = await captured_until_closed(latin1, folder)
    assert session.close_reason is not None
    assert session.close_reason.startswith("server sent a text frame that is not UTF-8 ("), session.close_reason
    assert session.close_reason.endswith("): rt-tui closed the connection (1007)"), session.close_reason
    [found] = lint_capture(folder / "frames.jsonl")
    assert found.rule == "frame-refused" and "(text that is not UTF-8)" in found.message, found.message
