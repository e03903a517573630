"""A proxied session's log that fell far behind its journal (another session was shown) catches up
in slices when it is shown: its newest frames at once, the rest as a filter's view is built, and
nothing lost or reordered (round 22)."""

from __future__ import annotations

import pytest

from tests.app_helpers import views_settled, wait_for
from tests.test_app_proxy import clients_done
from tests.test_find_proxy_round21 import proxy_app
from tui.app import log_controls


async def test_a_log_far_behind_shows_its_newest_frames_first_then_all(
    simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_controls, "CATCH_UP_AT_ONCE", 50)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 10)  # many loop turns of catching up
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((1, 5), (2, 300)))
        second = app.models[1]
        behind = second.log_view
        assert behind.behind > 50, "the second session's log should lag while the first is shown"
        journal = second.journal
        app.event_log.focus()
        app.action_switch_session(1)
        # At once: a first screen of the second session's newest frames, the rest still coming.
        assert app.event_log.finish_view is not None
        assert "taking in the rest" in str(app.event_log.border_title)
        shown = app.event_log.view
        assert shown is not behind and shown.indices[-1] == len(journal) - 1
        await pilot.press("up", "up")  # a frame selected on the first screen
        selected = app.event_log.selected
        assert selected is not None
        await wait_for(pilot, lambda: app.event_log.finish_view is None, 10, "the log to catch up")
        await views_settled(pilot, app)
        assert app.log_view is behind  # the session's own view, whole
        assert list(behind.indices) == list(range(len(journal)))
        assert app.event_log.selected == selected
        assert "taking in" not in str(app.event_log.border_title)
        app.action_switch_session(1)  # back to the first: its log is whole as it was
        await views_settled(pilot, app)
        assert app.log_view.shown == len(app.models[0].journal)


async def test_a_log_a_little_behind_catches_up_at_once(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        await clients_done(pilot, app, app.proxy_url + "?model=gpt-realtime", ((1, 5), (1, 20)))
        app.action_switch_session(1)
        assert app.event_log.finish_view is None
        assert app.log_view.shown == len(app.models[1].journal)
