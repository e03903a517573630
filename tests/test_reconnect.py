"""Reconnecting on its own: a server that restarts (close 1001 "going away" on its way down) is a
drop the app retries; an expired session (also 1001, after an `error` `session_expired`) is not."""

from __future__ import annotations

import itertools
import re
import socket

import pytest

from tests.app_helpers import session_ready, wait_for
from tests.server_helpers import free_port
from tui.app import RtApp
from tui.app.reconnect import (
    FAST_PROBING_SECONDS,
    GIVE_UP_SECONDS,
    MAX_QUICK_DROPS,
    PROBE_SECONDS,
    SLOW_PROBE_SECONDS,
    STABLE_SECONDS,
    RetryPolicy,
)
from tui.config import Settings, TargetChoice
from tui.server import Simulator, SimulatorConfig
from tui.server.testing import realtime_simulator
from tui.session import is_loopback_host


async def test_a_server_that_restarts_with_1001_going_away_is_reconnected_to_on_its_own() -> None:
    port = free_port()
    config = SimulatorConfig(host="127.0.0.1", port=port)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    first_server = Simulator(config)
    await first_server.start()  # listening before the app starts: its first connect succeeds
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 15, "the first session")
            first = app.facts.session_id
            await first_server.close()  # every connection closed with 1001 "going away", as on shutdown
            await wait_for(pilot, lambda: app.facts.ended, 10, "the app to see the server gone")
            assert "code 1001" in app.facts.describe()
            # While it is down, each try says how long and which (one unchanging "reconnecting in 0.5 s"
            # for a whole outage looked stuck).
            await wait_for(
                pilot, lambda: "server unreachable for" in app.status_line.state_override, 10, "the second try's note"
            )
            assert "try 2 in 0.5 s" in app.status_line.state_override
            async with Simulator(config):
                await wait_for(
                    pilot, lambda: session_ready(app) and app.facts.session_id != first, 15, "a new session, on its own"
                )
    finally:
        await first_server.close()  # idempotent: already closed unless the test failed first


class Unanswering:
    """A port whose listener never accepts, with its queue full: a connect there hangs until its
    timeout (as with a host that drops packets), which loopback cannot otherwise show."""

    def __init__(self, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(0)
        self.fillers = [socket.socket() for _ in range(3)]
        for filler in self.fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))

    def close(self) -> None:
        for sock in (*self.fillers, self.listener):
            sock.close()


async def test_a_probe_that_hangs_says_it_is_connecting_not_the_stale_countdown() -> None:
    port = free_port()
    config = SimulatorConfig(host="127.0.0.1", port=port)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    async with Simulator(config) as server, app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 15, "the first session")
        await server.close()
        await wait_for(pilot, lambda: app.facts.ended, 10, "the app to see the server gone")
        blocker = Unanswering(port)
        try:
            # The probe's connect hangs (up to its 2 s timeout): the status says so meanwhile.
            await wait_for(pilot, lambda: ": connecting" in app.status_line.state_override, 10, "the probe's note")
            assert " in 0." not in app.status_line.state_override
        finally:
            blocker.close()


async def test_an_expired_session_closed_with_1001_is_left_to_the_user() -> None:
    """The same close code after `error` `session_expired`: the same request would expire again in
    as long, so the app does not reconnect on its own (ctrl+r does, see test_app)."""
    async with Simulator(SimulatorConfig(host="127.0.0.1", port=0)) as sim:
        url = f"{sim.url}?model=gpt-realtime&sim_session_seconds=2"
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 15, "the session")
            await wait_for(pilot, lambda: app.facts.ended, 10, "the expiry")
            assert "code 1001" in app.facts.describe()
            await wait_for(pilot, lambda: session_over(app), 5, "the session worker to end without reconnecting")
            assert app.journal.epoch == 1 and app.facts.ended


def session_over(app: RtApp) -> bool:
    """The app's session worker has ended: it is neither connected nor waiting to reconnect."""
    return all(worker.is_finished for worker in app.workers if worker.group == "session")


def test_a_session_that_drops_at_once_does_not_start_the_backoff_again() -> None:
    """Every open set the count of failures back to 0: a server that took each session and dropped
    it right after session.updated was reconnected to every 0.5 s for good, each time with a new
    capture folder (51 in a reviewer's minute). Only a session that lived resets it, and after
    MAX_QUICK_DROPS quick drops in a row the app stops and leaves it to the user."""
    now = [0.0]
    policy = RetryPolicy(clock=lambda: now[0])
    firsts = []
    for _ in range(MAX_QUICK_DROPS):
        policy.connected()
        now[0] += 0.1  # dropped right after opening
        assert policy.worth_retrying("connection dropped", 1006)
        firsts.append(next(policy.delays()))
    assert firsts == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0][:MAX_QUICK_DROPS]
    policy.connected()
    assert not policy.worth_retrying("connection dropped", 1006) and policy.gave_up
    policy.reset()  # ctrl+r: the user's own try
    policy.connected()
    now[0] += STABLE_SECONDS  # this one lived
    assert policy.worth_retrying("connection dropped", 1006) and not policy.gave_up
    assert next(policy.delays()) == 0.5


def test_a_long_outage_is_probed_less_and_less_often() -> None:
    """A restarted server is found within half a second, but fifteen minutes of an unreachable
    remote API were 1,800 TCP connects and name lookups: after the first half minute the waits
    grow to SLOW_PROBE_SECONDS, and the app still looks for the whole GIVE_UP_SECONDS."""
    delays = list(RetryPolicy().delays())
    fast = list(itertools.takewhile(lambda delay: delay == PROBE_SECONDS, delays))
    assert sum(fast) == FAST_PROBING_SECONDS
    slower = delays[len(fast) :]
    assert slower == sorted(slower) and slower[0] > PROBE_SECONDS and slower[-1] == SLOW_PROBE_SECONDS
    assert sum(delays) >= GIVE_UP_SECONDS
    assert len(delays) < 250


def test_a_remote_service_is_probed_with_doubling_waits_from_the_start() -> None:
    """Half-second probes are for a local server being restarted: a remote service away (DNS
    failing, a network gone) was asked twice a second for half a minute ("try 22 in 0.5 s" at 11 s,
    review 56b). Its waits double from the first probe, up to SLOW_PROBE_SECONDS, for as long."""
    delays = list(RetryPolicy().delays(remote=True))
    assert delays[:5] == [PROBE_SECONDS, 1.0, 2.0, 4.0, SLOW_PROBE_SECONDS]
    assert set(delays[4:]) == {SLOW_PROBE_SECONDS}
    assert sum(delays) >= GIVE_UP_SECONDS and len(delays) < 200
    assert sum(1 for _ in itertools.takewhile(lambda total: total < 11, itertools.accumulate(delays))) == 4


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.8.9.10", True),
        ("api.openai.com", False),
        ("10.0.0.5", False),
        ("example.localhost.com", False),
    ],
)
def test_loopback_hosts_are_told_from_remote_ones(host: str, local: bool) -> None:
    assert is_loopback_host(host) is local


async def test_the_app_backs_off_from_a_server_that_drops_each_session_at_once() -> None:
    async with realtime_simulator() as sim:
        url = sim.url_for(drop_after="session.updated:1", drop_mode="reset")
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, capture=False))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(
                pilot, lambda: app.status_line.state_override == "reconnecting in 1.0 s", 20, "a longer wait"
            )
            await wait_for(pilot, lambda: app.status_line.state_override == "reconnecting in 2.0 s", 20, "longer still")
            # A wait of seconds counts down (one unchanging "in 5.0 s" for all of it looked stuck): the
            # next drop's wait would be 4.0 s, so "1.x" or "0.x" can only be this wait's countdown.
            await wait_for(
                pilot,
                lambda: re.fullmatch(r"reconnecting in [01]\.\d s", app.status_line.state_override),
                5,
                "the wait counting down",
            )
