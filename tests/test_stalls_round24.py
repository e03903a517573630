"""Waits that must end (round 24): a server that stops reading, a close nobody answers.

`RealtimeSession.close()` waited for the server's answer to its close frame for websockets' default
close timeout, 10 s: against a server that stopped reading (hung, or its buffers full of our audio)
ctrl+r and quit (which await it) held the app that long. Now the wait is `CLOSE_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from tests.app_helpers import wait_for
from tests.audio_helpers import fake_alsa
from tests.journal_helpers import Clock, received
from tests.proxy_helpers import Recorded
from tests.test_review22b_held_order import home_then
from tests.test_timers_round24 import held_one_shots  # noqa: F401 - a fixture
from tests.test_whole_view_wait_round22 import filtered_app, slices_of
from tui.app import RtApp
from tui.audio import AudioDeviceError, Microphone, devices
from tui.bus import Bus, Mode, Topic
from tui.config import Settings, TargetChoice
from tui.protocol import Envelope
from tui.proxy import ProxyServer, ProxyTarget, relay
from tui.replay.player import ReplayPlayer
from tui.session import ConnectionState, RealtimeSession, client
from tui.session.targets import Target
from tui.session.wire import WireConnection

CREATED = json.dumps({"type": "session.created", "event_id": "evt_1", "session": {"id": "sess_1"}})


async def _created_then_deaf(ws: ServerConnection) -> None:
    """Says `session.created`, then reads nothing more (so answers no close) until it is gone."""
    await ws.send(CREATED)
    ws.transport.pause_reading()
    await ws.wait_closed()


@pytest.fixture
async def deaf_server() -> AsyncIterator[str]:
    async with serve(_created_then_deaf, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime"
        for connection in server.connections:  # deaf to a close, as it is to everything
            connection.transport.abort()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (on the loop, a tick at a time) until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_closing_a_session_whose_server_answers_no_close_ends_soon(deaf_server: str) -> None:
    session = RealtimeSession(Target(deaf_server, "deaf", "url"), Bus())
    await session.connect()
    async with asyncio.timeout(3):  # was 10 s: websockets' default close timeout
        await session.close()
    assert session.state is ConnectionState.CLOSED


async def test_closing_a_session_whose_writer_is_stuck_on_a_full_socket_ends_soon(deaf_server: str) -> None:
    session = RealtimeSession(Target(deaf_server, "deaf", "url"), Bus())
    await session.connect()
    ws = session._ws
    assert ws is not None
    for _ in range(40):  # 20 MB of audio: far more than loopback's socket buffers hold
        session.send({"type": "input_audio_buffer.append", "audio": "A" * 500_000})
    await until(lambda: ws.paused)  # the writer waits for the socket to drain
    async with asyncio.timeout(3):
        await session.close()
    assert session.state is ConnectionState.CLOSED


async def flooding(url: str, appends: int) -> RealtimeSession:
    """A session open on `url` that has queued `appends` appends of 500 KB (more than a socket holds)."""
    session = RealtimeSession(Target(url, "peer", "url"), Bus())
    await session.connect()
    for _ in range(appends):
        session.send({"type": "input_audio_buffer.append", "audio": "A" * 500_000})
    return session


async def test_a_server_that_reads_nothing_more_ends_the_session(
    deaf_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket full, not a byte taken for SEND_STALL: the connection is dropped and said so, as a
    drop worth reconnecting after (1006). It stayed open for good: websockets' keepalive ping waits
    for room in the full socket before its pong timeout starts."""
    monkeypatch.setattr(client, "SEND_STALL", 0.3)
    session = await flooding(deaf_server, 40)
    async with asyncio.timeout(5):
        await session.wait_closed()
    assert session.state is ConnectionState.CLOSED
    assert session.close_reason is not None and "took none of rt-tui's frames" in session.close_reason
    assert session.close_code == 1006
    await session.close()


async def test_a_session_the_server_reads_slowly_is_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that reads, however slowly, is not a dead one: the watch looks for no progress."""
    monkeypatch.setattr(client, "SEND_STALL", 1.0)  # the socket moves every 0.4 s or so (window updates)
    taken = asyncio.Event()

    async def slow_reader(ws: ServerConnection) -> None:
        await ws.send(CREATED)
        for _ in range(35):  # a message every 0.1 s: the socket stays full, but moves
            await ws.recv()
            await asyncio.sleep(0.1)
        taken.set()
        async for _ in ws:  # the rest, at full speed, and the close
            pass

    async with serve(slow_reader, "127.0.0.1", 0, compression=None, max_size=None, max_queue=1) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime"
        session = await flooding(url, 60)
        async with asyncio.timeout(15):
            await taken.wait()
        assert session.is_open, session.close_reason
        await session.close()


async def test_a_connect_cancelled_as_the_first_frame_arrives_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    """ctrl+r (or quit) while connecting cancels the connect; in the loop turn `session.created`
    arrives, `asyncio.wait_for` (Python 3.11) swallowed that cancel: the old session opened anyway,
    its reader publishing beside the new session's."""
    go = asyncio.Event()

    async def created_when_told(ws: ServerConnection) -> None:
        await go.wait()  # once the client waits for its first frame
        await ws.send(CREATED)
        await ws.wait_closed()

    async with serve(created_when_told, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime"
        session = RealtimeSession(Target(url, "slow to greet", "url"), Bus())
        connecting = asyncio.create_task(session.connect())
        arrived = WireConnection.process_event

        def cancel_as_it_arrives(self: WireConnection, event: Event) -> None:
            arrived(self, event)
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                connecting.cancel()

        monkeypatch.setattr(WireConnection, "process_event", cancel_as_it_arrives)
        await until(lambda: session._ws is not None)  # past the handshake: reading the first frame
        go.set()
        with pytest.raises(asyncio.CancelledError):
            await connecting
        assert session.state is not ConnectionState.OPEN and not session._tasks
        await session.close()


# -- the proxy ---------------------------------------------------------------------------------
#
# A relay's pipe blocked writing to an upstream that reads nothing never saw its client leave, and
# websockets' close of that upstream waited for room to write its close frame for ever: the client's
# relay (its capture, its session on screen) never ended, and `rt-tui proxy` ignored Ctrl+C.


async def _fill_upstream_through(proxy: ProxyServer) -> ClientConnection:
    """A client through `proxy` to the deaf server, past `session.created`, its audio stuck at the
    upstream (the relay's writes to it wait for room)."""
    client = await connect(f"{proxy.url}?model=x", compression=None, max_size=None)
    assert json.loads(await client.recv())["type"] == "session.created"

    async def send_audio() -> None:
        for _ in range(40):  # 20 MB: far more than loopback's buffers (both ways) hold
            await client.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * 500_000}))

    # Sent beside the wait: the proxy reads a client's frames only so far ahead of the upstream
    # (CLIENT_QUEUE_FRAMES), so the client's own sends come to wait for room too, as on the service.
    sending = asyncio.ensure_future(send_audio())
    await until(lambda: bool(proxy._upstreams) and all(up.paused for up in proxy._upstreams))
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    return client


async def test_a_client_leaving_a_deaf_upstream_ends_its_relay(
    deaf_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "FORWARD_GRACE", 0.5)  # no frame forwarded in that long: the rest is given up
    async with ProxyServer(ProxyTarget(deaf_server, "deaf"), capture=False) as proxy:
        client = await _fill_upstream_through(proxy)
        await client.close()
        (connection,) = proxy.connections
        async with asyncio.timeout(5):  # was: never (its capture open, its session shown open)
            await connection.closed.wait()


async def test_the_proxy_stops_with_a_deaf_upstream_and_a_client_still_there(deaf_server: str) -> None:
    proxy = ProxyServer(ProxyTarget(deaf_server, "deaf"), capture=False)
    await proxy.start()
    client = await _fill_upstream_through(proxy)
    try:
        async with asyncio.timeout(5):  # was: never (Ctrl+C did not stop `rt-tui proxy`)
            await proxy.close()
        assert proxy.connections[0].closed.is_set()
    finally:
        await client.close()


async def test_the_proxy_stops_while_an_upstream_never_answers_the_upgrade() -> None:
    """An upstream that accepts the TCP connection and answers nothing held Ctrl+C for the
    upstream's open timeout (15 s); the client now gets a 503 at once, and its connection ends."""
    silent: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)

    upstream = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    proxy = ProxyServer(ProxyTarget(f"ws://127.0.0.1:{port}/v1/realtime", "silent"), capture=False)
    await proxy.start()
    client = asyncio.ensure_future(connect(f"{proxy.url}?model=x", open_timeout=30))
    try:
        await until(lambda: bool(silent))  # the proxy is waiting for the upstream's answer
        async with asyncio.timeout(3):  # was: the upstream's open timeout, 15 s
            await proxy.close()
        (connection,) = proxy.connections
        assert connection.closed.is_set()
        with pytest.raises(InvalidStatus) as refused:
            await client
        assert refused.value.response.status_code == 503
    finally:
        client.cancel()
        for writer in silent:
            writer.close()
        upstream.close()


async def test_a_connection_the_proxy_stops_says_so() -> None:
    """Stopping the proxy closes its clients with 1001; the client's answer is no close of its own
    (it said `client closed with 1001`, as if the client had left)."""

    async def greets(ws: ServerConnection) -> None:
        await ws.send(CREATED)
        async for _ in ws:
            pass

    recorded = Recorded()
    async with serve(greets, "127.0.0.1", 0) as upstream:
        url = f"ws://127.0.0.1:{upstream.sockets[0].getsockname()[1]}/v1/realtime"
        proxy = ProxyServer(ProxyTarget(url, "greets"), capture=False, on_connection=recorded.on_connection)
        await proxy.start()
        async with connect(f"{proxy.url}?model=x") as client:
            assert json.loads(await client.recv())["type"] == "session.created"
            await proxy.close()
        facts = [env.data["message"] for env in recorded.envelopes if env.type == "rt.connection"]
        assert facts[-1] == "the proxy stopped: closed the client with 1001, then the upstream", facts


# -- an audio device that never opens ---------------------------------------------------------


async def test_a_microphone_that_never_opens_is_given_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PortAudio's init blocks for good in a device that never opens (here the fake microphone's
    FIFO, which nobody writes; for a user, a stuck audio server). Space awaited it, and with it every
    key (ctrl+q too) for ever; its asyncio thread kept the process from exiting. Now the open gives
    up after OPEN_TIMEOUT, and a second one is refused at once while the first is still stuck."""
    monkeypatch.setattr(devices, "OPEN_TIMEOUT", 0.5)
    fifo = tmp_path / "mic"
    os.mkfifo(fifo)
    loop = asyncio.get_running_loop()
    mic = Microphone()
    try:
        with fake_alsa(fifo, None):
            with pytest.raises(AudioDeviceError, match="did not open within"):
                async with asyncio.timeout(5):  # was: for ever
                    await asyncio.to_thread(mic.start, loop)
            with pytest.raises(AudioDeviceError, match="still stuck"):
                mic.start(loop)
    finally:
        # A writer lets the stuck open go on (and end): nothing of this test outlives it.
        writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        stuck = devices._stuck
        if stuck is not None:
            await asyncio.to_thread(stuck.join, 10)
        os.close(writer)
    assert not mic.running


async def test_a_microphone_that_goes_quiet_still_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that delivers nothing more (the fake microphone's FIFO held open, never written)
    leaves PortAudio's thread in its read: stopping the stream joins that thread, and waited for ever.
    The turn's send (space), every key after it and quit waited with it. Now the stop gives up after
    OPEN_TIMEOUT with an OSError (the app's "microphone did not close cleanly"), and the end of the
    capture is still marked, so what was captured is sent."""
    monkeypatch.setattr(devices, "OPEN_TIMEOUT", 1.0)
    fifo = tmp_path / "mic"
    os.mkfifo(fifo)
    quiet = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that never writes: reads wait
    loop = asyncio.get_running_loop()
    mic = Microphone()
    try:
        with fake_alsa(fifo, None):
            await asyncio.to_thread(mic.start, loop)
            with pytest.raises(TimeoutError, match="did not stop within"):
                async with asyncio.timeout(5):  # was: for ever
                    await asyncio.to_thread(mic.stop)
            async with asyncio.timeout(5):
                await mic.aclose()
            assert [chunk async for chunk in mic.chunks()] == []  # the end marker came
    finally:
        with contextlib.suppress(BlockingIOError):
            os.write(quiet, bytes(48_000))  # the read returns, and the stuck stop ends
        stuck = devices._stuck
        if stuck is not None:
            await asyncio.to_thread(stuck.join, 10)
        os.close(quiet)


# -- a response asked for while one is awaited -------------------------------------------------


async def test_a_refusal_that_names_no_event_id_does_not_hold_later_responses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server refuses our response.create with an `error` that does not echo its event_id (a rate
    limit, as servers that do not echo ids send it); the next typed message must still ask for a
    response. The create was deferred until that response began, which never comes: every later
    turn of the session was sent and never answered (fixed in a555cd1)."""
    created = {"type": "session.created", "event_id": "evt_s", "session": {"id": "sess_1", "type": "realtime"}}
    refused = {"type": "invalid_request_error", "code": "rate_limit_exceeded", "message": "slow down"}
    refusal = {"type": "error", "event_id": "evt_e", "error": refused}  # no event_id of ours in it

    async def refuses_once(ws: ServerConnection) -> None:
        await ws.send(json.dumps(created))
        async for message in ws:
            if json.loads(message)["type"] == "response.create":
                await ws.send(json.dumps(refusal))

    async with serve(refuses_once, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime?model=x"
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, capture=False, reconnect=False))
        async with app.run_test(size=(120, 32)) as pilot:
            await wait_for(pilot, lambda: app.session is not None and app.session.is_open, 10, "the session")
            session = app.session
            assert session is not None
            sent: list[str] = []
            send = session.send

            def spy(event: dict[str, object]) -> None:
                sent.append(str(event["type"]))
                send(event)

            monkeypatch.setattr(session, "send", spy)
            received = len(app.journal)
            await pilot.press("t", *"hello", "enter")
            assert sent == ["conversation.item.create", "response.create"]
            await wait_for(
                pilot,
                lambda: any(app.journal.type_at(i) == "error" for i in range(received, len(app.journal))),
                10,
                "the refusal",
            )
            await pilot.press(*"again", "enter")  # the item and its response.create go in one handler
            assert sent[2:] == ["conversation.item.create", "response.create"], sent


# -- a replay restarted -------------------------------------------------------------------------


@pytest.mark.parametrize("wake", ["speed", "pause"])
async def test_a_timed_player_cancelled_as_it_is_woken_stops(wake: str) -> None:
    """`]` (or `p`) then `r` in one burst: the player is woken (a new speed, a pause) and cancelled in
    the same turn of the loop. Its wait was `asyncio.wait_for`, which on Python 3.11 swallows such a
    cancel: the old player ran on, publishing the recording again into the restarted replay's views."""
    clock = Clock(step=0.5)
    frames = [received("response.created", clock, response={"id": f"resp_{n}"}) for n in range(3)]
    bus = Bus()
    topic: Topic[Envelope] = Topic("replay")
    published = bus.subscribe(topic, Mode.LOSSLESS)
    player = ReplayPlayer(frames, bus, topic, speed=1.0)
    task = asyncio.create_task(player.run())
    await until(lambda: player.position == 1)  # waiting 0.5 s for the second frame
    if wake == "speed":
        player.speed = 2.0
    else:
        player.pause()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert player.position == 1 and len(published.drain()) == 1


# -- keys held while a whole view is built -----------------------------------------------------


async def test_keys_held_while_home_waits_all_act_on_a_held_machine(
    held_one_shots: None,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home on a filter's first screen, then `/do`: the keys wait for the whole view, then act in
    order. On a machine that holds the process for longer than HELD_KEY_GAP (50 ms) between two
    reads of the timer's clock, Textual's one-shot timer that released each key after the first was
    dropped: `/` opened the find bar and `d` `o` were lost for good (fixed in 8ce2112: widgets/timers.after)."""
    slices_of(monkeypatch, 20)
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await home_then(pilot, app, "/do")
        assert app.find_bar.input.value == "do", repr(app.find_bar.input.value)
