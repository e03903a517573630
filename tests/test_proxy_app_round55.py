"""A proxied client whose upstream cannot be reached (review 55b): the notice said `connection #1
opened`, the session's empty pane that its frames would appear as they pass through, and `!` that
the traffic follows the protocol, while the client was answered 502 and no frame ever passed."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.app_helpers import views_settled, wait_for
from tests.server_helpers import free_port
from tests.test_proxy_app_round23 import proxy_app, proxy_notices
from tui.widgets.findings import FindingsView


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_client_whose_upstream_is_down_is_said_to_have_failed_and_why(size: tuple[int, int]) -> None:
    app = proxy_app(f"ws://127.0.0.1:{free_port()}/v1/realtime")  # nobody listens there
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: bool(app.proxy_url), 10, "the proxy")
        with pytest.raises(InvalidStatus) as refused:
            async with connect(app.proxy_url + "?model=gpt-realtime"):
                pass
        assert refused.value.response.status_code == 502
        failed = lambda: any(n.startswith("connection #1 failed: cannot reach ") for n in proxy_notices(app))  # noqa: E731
        await wait_for(pilot, failed, 10, "the failure's notice")
        assert not any("opened" in notice for notice in proxy_notices(app)), proxy_notices(app)
        assert any("connection refused: is the server running?" in notice for notice in proxy_notices(app))
        await wait_for(pilot, lambda: "failed" in app.transcript.hint[0], 10, "the pane's words")
        assert app.transcript.hint[0].startswith("This client's connection failed: cannot reach "), app.transcript.hint
        assert app.transcript.hint[0].endswith("is the server running?"), app.transcript.hint  # not `running?.`
        await views_settled(pilot, app)
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 5, "the findings")
        await views_settled(pilot, app)
        said = str(app.screen.query_one(".findings--empty").render())
        assert said.startswith("Nothing to judge: no frame crossed this connection; the connection failed: cannot"), (
            said
        )
        assert "follows the protocol" not in said and said.endswith("is the server running?"), said
