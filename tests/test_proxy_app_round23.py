"""The proxy's screen follows new clients (review round 23): a script run again shows its new run
once the session shown has closed, as the first run was shown; a user who went back to an older
session with `<` stays there, and a notice says how to reach the new one. A filter in force applies
to the session switched to."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
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


@contextlib.asynccontextmanager
async def two_clients_talking(
    pilot: Pilot[None], app: RtApp
) -> AsyncIterator[tuple[ClientConnection, ClientConnection]]:
    """Client 1, then client 2, each having said a line and both still open; both sessions journaled
    (client 1's shown: it was open when client 2 came)."""
    await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
    url = app.proxy_url + "?model=gpt-realtime"
    async with connect(url) as first:
        await say(first, "the kitchen lights")
        async with connect(url) as second:
            await say(second, "the garden gate")
            await wait_for(pilot, has_sessions(app, 2), 10, "two sessions")
            yield first, second


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
        async with two_clients_talking(pilot, app) as (first, _):
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


# Review 23d: the follow waits for what the user is doing on the screen, or gives way to a notice.


async def first_run_closed(pilot: Pilot[None], app: RtApp) -> None:
    """The script's first run, its session closed and shown, the views settled."""
    await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
    await run_script(app, "the kitchen lights")
    await wait_for(pilot, lambda: app.facts.state == "closed", 10, "session 1 to close")
    await views_settled(pilot, app)


async def test_following_a_new_client_says_so_with_a_notice_naming_it(simulator_url: str) -> None:
    """README: 'the screen follows a new client, with a notice naming it' (the follow on connect
    said nothing)."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await two_runs_closed(pilot, app)
        assert app.model is app.models[1]
        assert "connection #2 opened: showing it (< goes back)" in proxy_notices(app), proxy_notices(app)


async def test_a_filter_being_typed_keeps_the_screen_and_the_follow_comes_on_enter(simulator_url: str) -> None:
    """A filter typed in the bar was overwritten by the follow (the filter in force goes to the
    session switched to): the follow waits for the bar's Enter, and the filter typed applies there."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await first_run_closed(pilot, app)
        assert app.apply_filter("dir:out")
        await views_settled(pilot, app)
        await pilot.press("f")
        await pilot.press("end", *" type:c*")
        typed = app.filter_bar.input.value
        assert typed.endswith("type:c*"), typed
        await run_script(app, "the garden gate")
        await wait_for(pilot, has_sessions(app, 2), 10, "session 2")
        await pilot.pause()
        assert app.model is app.models[0] and app.filter_bar.input.value == typed
        assert app.focused is app.filter_bar.input
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model is app.models[1], 10, "the follow once the filter is applied")
        assert app.filter_bar.active == typed.strip()
        assert app.log_view.query is not None and app.log_view.query.text == typed.strip()
        assert "connection #2 opened: showing it (< goes back)" in proxy_notices(app), proxy_notices(app)


async def test_a_find_being_typed_keeps_the_screen_and_the_follow_comes_when_it_is_left(simulator_url: str) -> None:
    """The find typed matches nothing in session 1 (a space: in no random id), so submitting it
    selects nothing there and the follow goes on, the find applying to session 2."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await first_run_closed(pilot, app)
        app.event_log.focus()
        await pilot.press("slash", *"garden", "space", *"gate")
        await run_script(app, "the garden gate")
        await wait_for(pilot, has_sessions(app, 2), 10, "session 2")
        await pilot.pause()
        assert app.model is app.models[0] and app.find_bar.input.value == "garden gate"
        assert app.focused is app.find_bar.input
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model is app.models[1], 10, "the follow once the find is submitted")
        assert app.find_bar.active == "garden gate"


async def test_a_follow_due_while_the_palette_is_open_comes_when_it_closes(simulator_url: str) -> None:
    """Client 1 (shown) closes while the palette is open, client 2 waiting: the follow happened
    never (it was refused for the dialog and not tried again); it comes once the palette closes."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        async with two_clients_talking(pilot, app) as (first, _):
            await views_settled(pilot, app)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: len(app.screen_stack) == 2, 10, "the palette")
            await first.close()
            await wait_for(pilot, lambda: app.models[0].facts.state == "closed", 10, "session 1 closed")
            await pilot.pause()
            assert app.model is app.models[0]  # not under the palette
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.model is app.models[1], 10, "the follow once the palette closed")
            assert "connection #1 closed: showing #2, the newest (< goes back)" in proxy_notices(app)


async def test_a_details_dialog_open_when_the_shown_client_closes_ends_with_a_notice(simulator_url: str) -> None:
    """The details are of a selected frame: the user reads session 1's log. Once the dialog closes,
    a notice names the newest client and how to reach it (the follow was lost without a word)."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        async with two_clients_talking(pilot, app) as (first, _):
            await views_settled(pilot, app)
            app.event_log.focus()
            await pilot.press("up", "d")
            await wait_for(pilot, lambda: len(app.screen_stack) == 2, 10, "the details")
            await first.close()
            await wait_for(pilot, lambda: app.models[0].facts.state == "closed", 10, "session 1 closed")
            await pilot.press("escape")
            reach = "connection #1 closed; #2 is the newest (session 2/2): > shows it"
            await wait_for(pilot, lambda: reach in proxy_notices(app), 10, "the notice")
            assert app.model is app.models[0] and app.event_log.selected is not None
            await pilot.press("greater_than_sign")
            assert app.model is app.models[1]


async def test_a_user_reading_the_closed_sessions_log_is_not_pulled_away(simulator_url: str) -> None:
    """A frame of the closed session selected (the log no longer follows): a new client gets a
    notice, not the screen."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await first_run_closed(pilot, app)
        app.event_log.focus()
        await pilot.press("up", "up")
        selected = app.event_log.selected
        assert selected is not None
        await run_script(app, "the garden gate")
        await wait_for(pilot, has_sessions(app, 2), 10, "session 2")
        await pilot.pause()
        assert app.model is app.models[0] and app.event_log.selected == selected
        assert "connection #2 opened (session 2/2): > shows it" in proxy_notices(app), proxy_notices(app)


async def test_a_burst_of_clients_updates_one_notice(simulator_url: str) -> None:
    """Five clients connect in a burst while the shown one is open: five stacked toasts covered
    the event log at 80×24; one notice names them all."""
    import asyncio

    app = proxy_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        url = app.proxy_url + "?model=gpt-realtime"
        async with connect(url) as first:
            await say(first, "the kitchen lights")
            await asyncio.gather(*(run_script(app, f"run {n}") for n in range(5)))
            await wait_for(pilot, has_sessions(app, 6), 10, "six sessions")
            opened = [m for m in proxy_notices(app) if "opened" in m]
            assert opened == ["connections #2–#6 opened (sessions 2–6 of 6): > shows the next"], opened
            await first.close()
            # The five came and went while #1 was shown: the screen stays on #1's end, and says where they are.
            said = "connection #1 closed; #6 is the newest (session 6/6): < and > switch sessions"
            await wait_for(pilot, lambda: said in proxy_notices(app), 10, "the notice")
            assert app.model is app.models[0]


async def test_an_export_waiting_for_the_whole_view_exports_the_session_it_was_pressed_on(
    simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`e` on session 1's filter's first screen waits for the whole view ('keys wait'); a client
    that connects meanwhile took the screen, and the export was the new session's."""
    import base64

    from tests.test_message_input_round20 import terminal_burst
    from tui.app import log_controls
    from tui.widgets.export_dialog import ExportDialog

    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 1)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    app = proxy_app(simulator_url)
    said: list[str] = []  # the notices: one may have timed out before the dialog opens
    say_now = app.say

    def record(message: str, **kwargs: Any) -> None:
        said.append(message)
        say_now(message, **kwargs)

    app.say = record  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        url = app.proxy_url + "?model=gpt-realtime"
        chunk = base64.b64encode(b"\x01\x00" * 240).decode()
        async with connect(url) as first:
            await recv_until(first, "session.created")
            for _ in range(1500):
                await send(first, {"type": "input_audio_buffer.append", "audio": chunk})
            await send(first, {"type": "input_audio_buffer.clear"})
            await recv_until(first, "input_audio_buffer.cleared")
        await wait_for(pilot, lambda: app.facts.state == "closed", 20, "session 1 to close")
        await views_settled(pilot, app, 20)
        sent_in_1 = sum(1 for f in app.journal if f.direction is Direction.OUT)
        app.event_log.focus()
        assert app.apply_filter("dir:out")
        assert app.event_log.finish_view is not None, "no first screen: the whole view was built at once"
        terminal_burst(app, "e")
        await wait_for(pilot, lambda: app.event_log.holding_keys, 5, "the export to wait")
        async with connect(url) as second:
            await say(second, "the garden gate")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 60, "the export dialog")
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            assert dialog.count == sent_in_1 and app.model is app.models[0], (dialog.count, sent_in_1)
            assert "connection #2 opened (session 2/2): > shows it" in said, said


async def test_a_burst_of_clients_while_the_user_reads_updates_one_notice(simulator_url: str) -> None:
    import asyncio

    app = proxy_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_run_closed(pilot, app)
        app.event_log.focus()
        await pilot.press("up")
        await asyncio.gather(*(run_script(app, f"run {n}") for n in range(3)))
        await wait_for(pilot, has_sessions(app, 4), 10, "four sessions")
        await pilot.pause()
        assert app.model is app.models[0]
        assert proxy_notices(app)[-1:] == ["connections #2–#4 opened (sessions 2–4 of 4): > shows the next"]
        assert len(proxy_notices(app)) <= 2, proxy_notices(app)  # and "point your client at …"


async def test_the_notice_saying_which_key_reaches_a_session_goes_once_it_is_pressed(simulator_url: str) -> None:
    """ "connection #2 opened (session 2/2): > shows it" stayed up over session 2's log after `>`."""
    app = proxy_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        async with two_clients_talking(pilot, app):
            assert "connection #2 opened (session 2/2): > shows it" in proxy_notices(app)
            await pilot.press("greater_than_sign")
            assert app.model is app.models[1]
            assert not any("> shows it" in notice for notice in proxy_notices(app)), proxy_notices(app)
