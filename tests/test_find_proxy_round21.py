"""A find across the proxy's sessions (`<` `>`): it never acts on the session left, and its count is
of the session shown (review round 21)."""

from __future__ import annotations

import pytest

from tests.app_helpers import views_settled, wait_for
from tests.test_app_proxy import clients_done
from tests.test_find_slices import status
from tui.app import RtApp, log_controls
from tui.config import Settings, TargetChoice
from tui.journal import find as find_module
from tui.proxy_cmd import ProxyRequest
from tui.widgets import event_log


def proxy_app(simulator_url: str) -> RtApp:
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    return RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))


async def test_a_find_searching_one_session_selects_nothing_in_the_next(
    simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log, "FIND_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FIND_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(find_module, "STEP", 1)  # a frame a slice: the find searches for many turns
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        # The first session: 300 appends, no "turn 0"; the second: a typed "turn 0" early on.
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((0, 300), (1, 1)))
        app.event_log.focus()
        app._find("turn 0")
        assert status(app).startswith("searching")
        app.action_switch_session(1)  # `>` while the first session is searched
        await views_settled(pilot, app)
        await wait_for(pilot, lambda: "matching frame" in status(app), 10, "the second session's count")
        assert app.event_log.selected is None  # the search of the first session ended with it
        assert app.event_log._searching != app.event_log._find_ticket


async def test_the_find_bar_counts_the_session_shown(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((3, 30), (1, 1)))
        app.event_log.focus()
        app._find("conversation.item.create")
        await wait_for(pilot, lambda: "of 3 matching" in status(app), 10, "the count in the first session")
        app.action_switch_session(1)
        await views_settled(pilot, app)
        await wait_for(pilot, lambda: status(app).startswith("1 matching frame shown"), 10, "the second's count")
