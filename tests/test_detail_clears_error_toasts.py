"""Opening a frame's detail takes down the errors' and findings' toasts: at 80x24 they sat over its
end, the "caused by" block that says what we sent (review 54a), as they did over the findings view."""

from __future__ import annotations

from tests.app_helpers import notices, screen_text, wait_for
from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings
from tui.widgets import EventDetail


async def test_enter_on_an_error_takes_its_toast_down_and_the_cause_shows_whole() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        refused = {"type": "invalid_request_error", "code": "response_cancel_not_active", "event_id": "evt_c1"}
        refused["message"] = "Cancellation failed: no active response found."
        app.ingest([sent("response.cancel", event_id="evt_c1"), received("error", error=refused)])
        await wait_for(pilot, lambda: any("cancel" in message.lower() for _, message in notices(app)), 5, "its toast")
        app.event_log.focus()
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the detail")
        assert not any("cancel" in message.lower() for _, message in notices(app)), notices(app)
        await pilot.pause()
        shown = screen_text(app)
        assert "caused by" in shown and "response.cancel" in shown
        assert "Server error" not in shown
