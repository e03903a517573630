"""Switching the proxy's screen to another session takes down the server-error and finding toasts
of the session left: over the other session's log they read as its own (review round 26's open
design point). The proxy's own notices stay."""

from __future__ import annotations

from tests.app_helpers import notices, wait_for
from tests.server_helpers import recv_until, send
from tests.test_proxy_app_round23 import proxy_app, two_clients_talking


async def test_a_server_error_toast_of_the_session_left_goes_when_another_is_shown(simulator_url: str) -> None:
    app = proxy_app(simulator_url)
    async with app.run_test(size=(120, 32)) as pilot:
        async with two_clients_talking(pilot, app) as (first, _):
            assert app.model is app.models[0]
            await send(first, {"type": "response.cancel", "event_id": "evt_cancel_nothing"})
            await recv_until(first, "error")

            def titles() -> list[str]:
                return [title for title, _ in notices(app)]

            await wait_for(pilot, lambda: "Server error" in titles(), 10, "the error's toast")
            await pilot.press("greater_than_sign")
            await wait_for(pilot, lambda: app.model is app.models[1], 5, "session 2 shown")
            await pilot.pause()
            assert "Server error" not in titles(), notices(app)
            journal = app.models[0].journal
            assert any(journal[i].type == "error" for i in range(len(journal)))  # the log keeps it
