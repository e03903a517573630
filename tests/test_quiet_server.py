"""A server that goes quiet mid-turn: the status line says so, and what the session waits for.

A service whose model is stuck keeps the socket open and answers pings: nothing ends the session,
and the screen showed one that looked fine for as long as the user cared to look. The simulator's
`stall_after` fault stops sending after a frame for `stall_ms`, and the real app runs against it.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.app_helpers import reply_done, session_ready, wait_for
from tests.journal_helpers import Clock, received, sent
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import SessionFacts
from tui.protocol import local_envelope
from tui.server.testing import realtime_simulator


def _open(facts: SessionFacts) -> None:
    facts.apply(local_envelope("rt.connection", "connecting", state="connecting"), 0)
    facts.apply(local_envelope("rt.connection", "open", state="open"), 1)
    session = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
    facts.apply(received("session.created", session=session), 2)


def test_the_facts_know_what_the_session_waits_for_and_since_when() -> None:
    facts = SessionFacts()
    _open(facts)
    last = facts.last_in
    assert last is not None and facts.awaited() == "" and facts.quiet_for(last + 60) == 0  # waits for nothing
    facts.apply(sent("response.create"), 3)
    assert facts.awaited() == "a response.create unanswered" and facts.quiet_for(last + 60) == 60
    facts.apply(received("error", error={"code": "conversation_already_has_active_response"}), 4)
    assert facts.awaited() == ""  # refused: nothing is coming
    facts.apply(sent("response.create"), 5)
    facts.apply(received("response.created", response={"id": "resp_1"}), 6)
    facts.apply(received("input_audio_buffer.committed", item_id="item_1"), 7)
    assert facts.awaited() == "a response in progress, a transcript"
    facts.apply(received("response.done", response={"id": "resp_1", "status": "completed"}), 8)
    assert facts.awaited() == "a transcript"
    facts.apply(received("conversation.item.input_audio_transcription.completed", item_id="item_1"), 9)
    assert facts.awaited() == ""
    facts.apply(received("input_audio_buffer.committed", item_id="item_2"), 10)
    facts.apply(received("conversation.item.input_audio_transcription.failed", item_id="item_2"), 11)
    assert facts.awaited() == ""
    facts.apply(sent("response.create"), 12)
    facts.apply(local_envelope("rt.connection", "closed", state="closed"), 13)
    assert facts.awaited() == "" and facts.quiet_for(time.monotonic() + 60) == 0  # the work ended with it


def test_idle_time_before_a_request_is_no_silence_of_the_server_s() -> None:
    """Quiet was counted from the server's last frame: a response.create sent after ten idle
    seconds read "server quiet 10 s" at once (review of session 38)."""
    clock = Clock(step=0.001)
    facts = SessionFacts()
    _open(facts)
    facts.apply(received("session.updated", clock, session={"type": "realtime"}), 3)
    clock.now += 60  # a minute of nothing awaited
    create = sent("response.create", clock)
    facts.apply(create, 4)
    assert facts.quiet_for(create.mono + 2) == pytest.approx(2)  # since the request, not since the last frame
    clock.now += 30
    facts.apply(sent("session.update", clock, session={}), 5)  # while waiting: the wait began before
    assert facts.quiet_for(create.mono + 40) == pytest.approx(40)
    facts.apply(received("response.created", clock, response={"id": "resp_1"}), 6)
    assert facts.quiet_for(clock.now + 3) == pytest.approx(3)  # since the frame


def test_a_commit_without_transcription_awaits_no_transcript() -> None:
    facts = SessionFacts()
    facts.apply(local_envelope("rt.connection", "open", state="open"), 0)
    facts.apply(received("session.created", session={"type": "realtime", "audio": {"input": {}}}), 1)
    facts.apply(received("input_audio_buffer.committed", item_id="item_1"), 2)
    assert facts.awaited() == ""


async def test_the_status_line_says_the_server_is_quiet_and_clears_when_it_speaks() -> None:
    async with realtime_simulator() as sim:
        url = sim.url_for(stall_after="response.created:1", stall_ms="8000")  # ticks to spare under load
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, capture=False))
        app.quiet_after = 1.0
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 30, "the session")
            assert app.status_line.quiet == ""
            await pilot.press("t", *"hello there", "enter")
            await wait_for(pilot, lambda: "server quiet" in app.status_line.quiet, 10, "the quiet to be said")
            assert app.status_line.quiet.endswith(": a response in progress"), app.status_line.quiet
            shown = str(app.status_line.render())
            assert "server quiet" in shown and ": a response in progress" in shown, shown  # at 120 columns
            await wait_for(pilot, lambda: reply_done(app), 30, "the reply after the stall")
            await wait_for(pilot, lambda: app.status_line.quiet == "", 5, "the quiet to go")
            assert "server quiet" not in str(app.status_line.render())


async def test_the_simulator_s_stall_keeps_the_socket_open_and_answers_pings() -> None:
    async with realtime_simulator() as sim:
        url = sim.url_for(stall_after="session.created:1", stall_ms="3000")
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
            started = time.monotonic()  # the stall began before: the time measured is less than it, never more
            await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
            pong = await ws.ping()
            await asyncio.wait_for(pong, 2)  # answered while quiet
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "session.updated"
            assert time.monotonic() - started > 1.5  # held back by the stall, then sent


async def test_a_session_that_expires_during_a_stall_still_says_why() -> None:
    """The expiry's error waited behind the stall, and closing the writer cut the stall off with
    everything behind it: the client got the close (1001) without the error the service sends."""
    async with realtime_simulator() as sim:
        url = sim.url_for(stall_after="session.created:1", stall_ms="60000", session_seconds="1")
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
            error = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert error["type"] == "error" and error["error"]["code"] == "session_expired", error
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 20)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_the_proxy_s_status_line_says_the_server_is_quiet_while_the_client_waits() -> None:
    """Behind `rt-tui proxy`, your own client asked for a response and the service went quiet: the
    screen looked fine for as long as the user watched. It says so, as a live session's does."""
    from websockets.asyncio.client import connect as connect_client

    from tests.server_helpers import recv_until, send
    from tui.proxy_cmd import ProxyRequest

    async with realtime_simulator() as sim:
        url = sim.url_for(stall_after="response.created:1", stall_ms="8000")
        settings = Settings(target=TargetChoice.URL, url=url, playback=False, capture=False)
        app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
        app.quiet_after = 1.0
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
            async with connect_client(app.proxy_url + "?model=gpt-realtime") as client:
                await recv_until(client, "session.created")
                await send(client, {"type": "response.create"})
                await wait_for(pilot, lambda: "server quiet" in app.status_line.quiet, 10, "the quiet to be said")
                assert app.status_line.quiet.endswith(": a response in progress"), app.status_line.quiet
                shown = str(app.status_line.render())  # over the proxy's own state ("proxy on …")
                assert "server quiet" in shown and ": a response in progress" in shown, shown
                await recv_until(client, "response.done")
                await wait_for(pilot, lambda: app.status_line.quiet == "", 5, "the quiet to go")
