"""The proxy in the app: each client connection is a session of its own, shown live; < > switch."""

from __future__ import annotations

import json
import socket

from textual.pilot import Pilot
from websockets.asyncio.client import connect

from tests.app_helpers import screen_text, views_settled, wait_for
from tests.server_helpers import append_audio, recv_until, send, silence
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Query
from tui.proxy_cmd import ProxyRequest
from tui.widgets import Transcript

CLIENT_KEY = "client-own-key-0123456789abcdef"


async def test_two_clients_become_two_sessions_and_the_clients_key_is_never_shown(simulator_url: str) -> None:
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        url = app.proxy_url + "?model=gpt-realtime"
        headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
        async with (
            connect(url, additional_headers=headers) as first,
            connect(url, additional_headers=headers) as second,
        ):
            for client, words in ((first, "the kitchen lights"), (second, "the garden gate")):
                await client.recv()
                item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
                await client.send(json.dumps({"type": "conversation.item.create", "item": item}))
                await client.send(json.dumps({"type": "session.update", "session": {"instructions": CLIENT_KEY}}))
            await wait_for(pilot, lambda: len(app.models) == 2, 10, "two sessions")
            both = lambda: all(len(model.conversation.items) >= 1 for model in app.models)  # noqa: E731
            await wait_for(pilot, both, 10, "each session's item")
            await views_settled(pilot, app)
            shown = app.query_one(Transcript).text()
            assert "session 1/2" in app.status_line.state_override
            await pilot.press("greater_than_sign")
            await views_settled(pilot, app)
            assert "session 2/2" in app.status_line.state_override
            other = app.query_one(Transcript).text()
            assert {("kitchen" in shown), ("kitchen" in other)} == {True, False}  # one each, never mixed
            assert {("garden" in shown), ("garden" in other)} == {True, False}
            assert CLIENT_KEY not in screen_text(app)
            assert all(CLIENT_KEY not in (frame.raw or "") for model in app.models for frame in model.journal)
        await wait_for(pilot, lambda: all(m.facts.state == "closed" for m in app.models), 10, "both to close")
        assert app.is_running


async def test_waiting_for_a_client_says_where_to_point_it_not_how_to_talk(simulator_url: str) -> None:
    """Before any client connects, the proxy's screen names the address and the relay target; it
    offers no voice keys it does not have (no "Press space"), and the status line no "no target"."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await views_settled(pilot, app)
        text = screen_text(app)
        assert "Waiting for your client" in text
        assert app.proxy_url.split("//")[1][:20] in text.replace("\n", "")
        assert "Press space" not in text
        assert "no target" not in text
        assert "relay to" in text
        # A client that connects but makes no conversation item: the pane stops waiting for one.
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await client.recv()  # session.created, relayed
            await wait_for(pilot, lambda: any(f.type == "session.created" for f in app.journal), 10, "the session")
            await views_settled(pilot, app)
            text = screen_text(app)
            assert "Waiting for your client" not in text
            assert "No conversation items in this session yet" in text
            # The status line keeps room for the session's counters: the proxy is named by host:port.
            status = str(app.status_line.render())
            assert "proxy on 127.0.0.1:" in status and "▼" in status and "/v1/realtime" not in status, status


async def clients_done(pilot: Pilot[None], app: RtApp, url: str, sessions: tuple[tuple[int, int], ...]) -> None:
    """One client per entry of `sessions`, connected in order (client n is session n), each creating
    that many text items and sending that many appends of silence, then closing; returns once every
    session's frames are journaled and the views settled (all of it while session 1 is shown: held
    there as `<` would hold it, or each new client would take the screen from the closed one)."""
    app._held_by_user = True
    for number, (items, appends) in enumerate(sessions, start=1):
        await one_client(pilot, app, url, number, items, appends)
    await views_settled(pilot, app)


async def one_client(pilot: Pilot[None], app: RtApp, url: str, number: int, items: int, appends: int) -> None:
    """Client `number` of `clients_done`: its frames, then its close, seen by the app."""
    async with connect(url) as client:
        await recv_until(client, "session.created")
        for turn in range(items):
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"turn {turn}"}]}
            await send(client, {"type": "conversation.item.create", "item": item})
            await recv_until(client, "conversation.item.added")
        await append_audio(client, silence(10 * appends), chunk_ms=10)
    await wait_for(pilot, lambda: len(app.models) == number, 10, f"session {number}")
    facts = app.models[number - 1].facts
    await wait_for(pilot, lambda: facts.state == "closed", 10, f"session {number} to close")


def log_state(app: RtApp) -> tuple[int, int, str]:
    """(frames the log shows, frames that pass the filter in force over the shown journal, the
    pane's subtitle) of the session shown."""
    query = Query(app.filter_bar.active, app.journal, app.links)
    passing = sum(1 for index in range(len(app.journal)) if query.match_index(index))
    return app.log_view.shown, passing, str(app.event_log.border_subtitle)


def filter_status(app: RtApp) -> str:
    """What the filter bar says under its input (the counts, while a filter is in force)."""
    return str(app.filter_bar.query_one(".query-bar--status").render())


async def test_a_session_that_was_never_shown_shows_its_whole_log(simulator_url: str) -> None:
    """Frames of a session not shown are journaled but not laid out in its log (only the shown
    session's views follow the stream): switching to it must show every one of them, even when
    nothing arrives after the switch, and switching back and forth keeps both logs whole."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((1, 1), (3, 3)))
        first, second = app.models
        assert app.model is first
        for key, model in (("greater_than_sign", second), ("less_than_sign", first), ("greater_than_sign", second)):
            await pilot.press(key)
            await views_settled(pilot, app)
            assert app.model is model
            shown, journaled, subtitle = log_state(app)
            assert shown == journaled == len(model.journal) > 5, (key, shown, journaled)
            assert subtitle.startswith(f"{journaled} frames"), subtitle
            # Each session's log names the proxy's connection it holds, not "connection 1" in both.
            number = app.models.index(model) + 1
            assert any(f"━━ connection {number} ━━" in line for line in app.event_log.line_texts())


async def test_the_filter_in_force_applies_to_the_session_switched_to_with_its_counts(simulator_url: str) -> None:
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((1, 1), (3, 3)))
        assert app.apply_filter("dir:out")
        counts = []
        for key in ("greater_than_sign", "less_than_sign", "greater_than_sign"):
            await pilot.press(key)
            await views_settled(pilot, app)
            shown, passing, subtitle = log_state(app)
            assert app.filter_bar.active == "dir:out"
            assert shown == passing < len(app.journal), (key, shown, passing)
            assert subtitle.startswith(f"{passing} of {len(app.journal)} frames"), subtitle
            assert filter_status(app).startswith(f"{passing} of {len(app.journal)} frames"), filter_status(app)
            counts.append(passing)
        assert counts == [3 + 3, 1 + 1, 3 + 3]  # each session's own: its creates and appends
        # The filter cleared on session 2 is cleared on session 1 too.
        app.clear_filter()
        await pilot.press("less_than_sign")
        await views_settled(pilot, app)
        shown, passing, subtitle = log_state(app)
        assert app.log_view.query is None and shown == len(app.journal)
        assert subtitle.startswith(f"{len(app.journal)} frames"), subtitle


async def test_a_filter_switched_away_from_while_it_was_built_is_whole_when_shown_again(simulator_url: str) -> None:
    """A filter over a long log shows its tail first and builds the rest slice by slice: a switch
    in between must not leave the session with only the tail once it is shown again."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((0, 300), (1, 1)))
        assert app.apply_filter("type:input_audio_buffer.append")
        assert app._building is not None  # over 200 matches: the tail is shown, the whole view is being built
        app.action_switch_session(1)  # on the same turn: before a slice of the build runs
        await views_settled(pilot, app)
        await pilot.press("less_than_sign")
        await views_settled(pilot, app)
        shown, passing, subtitle = log_state(app)
        assert shown == passing == 300, (shown, passing)
        assert "since clear" not in subtitle and subtitle.startswith(f"300 of {len(app.journal)} frames"), subtitle


async def test_a_clients_buffered_audio_is_not_called_recorded(simulator_url: str) -> None:
    """The proxy did not record the client's audio: its committed turn says where the audio went."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            await append_audio(client, silence(300))
            await send(client, {"type": "input_audio_buffer.commit"})
            await recv_until(client, "input_audio_buffer.committed")
        await wait_for(pilot, lambda: any(item.has_audio for item in app.conversation.items.values()), 10, "the item")
        await views_settled(pilot, app)
        shown = app.query_one(Transcript).text()
        assert "you  audio via the input buffer" in shown and "recorded audio" not in shown, shown


async def test_a_proxy_that_cannot_listen_says_so_where_it_said_starting(simulator_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False)
        app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", port))
        async with app.run_test(size=(140, 30)) as pilot:
            await wait_for(pilot, lambda: app.facts.state == "failed", 10, "the proxy's failure")
            await views_settled(pilot, app)
            text = screen_text(app)
            assert "Starting…" not in text
            assert f"proxy cannot listen on 127.0.0.1:{port}" in text.replace("\n", " ")


async def test_what_is_kept_from_a_proxied_session_goes_beside_its_capture(simulator_url: str) -> None:
    """Tester: `y`, exports, saved frames and screenshots of a proxied session all went to the data
    folder's `saved/` (the proxy app has no one capture), not beside the shown session's capture; and
    its journal knew no capture to read payloads it let go back from."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await client.recv()
            await wait_for(pilot, lambda: app.journal.capture_path is not None, 10, "the session's capture")
            capture = app.journal.capture_path
            assert capture is not None and capture.endswith("frames.jsonl")
            kept = app.keep_text("{}", "frame.json", copy=False)
            assert kept is not None and kept.parent == app.save_folder()
            assert str(kept.parent) == capture.rsplit("/", 1)[0]
