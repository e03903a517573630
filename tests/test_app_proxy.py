"""The proxy in the app: each client connection is a session of its own, shown live; < > switch."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from tests.app_helpers import screen_text, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
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
