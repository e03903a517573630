"""The proxy's screen follows new clients (review round 23): a script run again shows its new run
once the session shown has closed, as the first run was shown; a user who went back to an older
session with `<` stays there, and a notice says how to reach the new one. A filter in force applies
to the session switched to."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from websockets.asyncio.client import ClientConnection, connect

from tests.app_helpers import notices, views_settled, wait_for
from tests.server_helpers import recv_until, send
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.proxy_cmd import ProxyRequest
from tui.widgets import Transcript


def proxy_app(simulator_url: str) -> RtApp:
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    return RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))


async def say(client: ClientConnection, words: str) -> None:
    """One typed item, answered by the server's conversation.item.added."""
    await recv_until(client, "session.created")
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
    await send(client, {"type": "conversation.item.create", "item": item})
    await recv_until(client, "conversation.item.added")


async def run_script(app: RtApp, words: str) -> None:
    """The user's script: connect, say `words`, close."""
    async with connect(app.proxy_url + "?model=gpt-realtime") as client:
        await say(client, words)


def has_sessions(app: RtApp, count: int) -> Callable[[], bool]:
    return lambda: len(app.models) == count


def proxy_notices(app: RtApp) -> list[str]:
    return [message for title, message in notices(app) if title == "Proxy"]


async def two_runs_closed(pilot: Pilot[None], app: RtApp) -> None:
    """The script run twice, each run's session closed (the second shown: the first had closed)."""
    await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
    await run_script(app, "the kitchen lights")
    await wait_for(pilot, lambda: app.facts.state == "closed", 10, "session 1 to close")
    await run_script(app, "the garden gate")
    await wait_for(pilot, lambda: len(app.models) == 2 and app.models[1].facts.state == "closed", 10, "session 2")


async def test_a_script_run_again_is_shown_once_the_run_shown_has_closed(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        for number, words in enumerate(("the kitchen lights", "the garden gate", "the front door"), start=1):
            await run_script(app, words)
            await wait_for(pilot, has_sessions(app, number), 10, f"session {number}")
            await wait_for(pilot, lambda: app.models[-1].facts.state == "closed", 10, f"session {number} to close")
            await views_settled(pilot, app)
            assert app.model is app.models[-1], app.status_line.state_override
            assert words.split()[-1] in app.query_one(Transcript).text()
            if number > 1:  # one session alone has no position on the status line
                assert f"session {number}/{number}" in app.status_line.state_override
        # `<` and `>` still go through every session.
        await pilot.press("less_than_sign")
        assert app.model is app.models[1]
        await pilot.press("greater_than_sign")
        assert app.model is app.models[2]


async def test_an_older_session_gone_back_to_stays_and_a_notice_names_the_new_client(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await two_runs_closed(pilot, app)
        assert app.model is app.models[1]
        await pilot.press("less_than_sign")  # back to the first run, on purpose
        await run_script(app, "the front door")
        await wait_for(pilot, lambda: len(app.models) == 3 and app.models[2].facts.state == "closed", 10, "session 3")
        await views_settled(pilot, app)
        assert app.model is app.models[0] and "session 1/3" in app.status_line.state_override
        assert "connection #3 opened (session 3/3): < and > switch sessions" in proxy_notices(app)
        # Back on the newest, the screen follows new clients again.
        await pilot.press("less_than_sign")
        assert app.model is app.models[2]
        await run_script(app, "the back door")
        await wait_for(pilot, lambda: len(app.models) == 4, 10, "session 4")
        await wait_for(pilot, lambda: app.model is app.models[3], 10, "the newest to be shown")


async def test_a_client_that_connects_while_the_one_shown_is_open_is_shown_when_that_one_closes(
    simulator_url: str,
) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        url = app.proxy_url + "?model=gpt-realtime"
        async with connect(url) as first:
            await say(first, "the kitchen lights")
            async with connect(url) as second:
                await say(second, "the garden gate")
                await wait_for(pilot, lambda: len(app.models) == 2, 10, "two sessions")
                assert app.model is app.models[0]  # the first client is still talking: it keeps the screen
                assert "connection #2 opened (session 2/2): > shows it" in proxy_notices(app)
                await first.close()
                await wait_for(pilot, lambda: app.model is app.models[1], 10, "the second session to be shown")
                assert "connection #1 closed: showing #2, the newest (< goes back)" in proxy_notices(app)


async def test_the_filter_in_force_applies_to_the_new_run_shown(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.apply_filter("dir:out")  # in force before either run
        await two_runs_closed(pilot, app)
        await views_settled(pilot, app)
        assert app.model is app.models[1]
        sent = sum(1 for frame in app.journal if frame.direction is Direction.OUT)
        assert app.filter_bar.active == "dir:out" and app.log_view.shown == sent == 1, (app.log_view.shown, sent)
        assert str(app.event_log.border_subtitle).startswith(f"1 of {len(app.journal)} frames")
