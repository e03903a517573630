"""Round 25: `o` on a transcript row replaces the log's filter with that item's frames; Esc in the
log puts back the filter that was in force before (it took three keys to clear, and the user's
own filter was lost)."""

from __future__ import annotations

from tests.app_helpers import views_settled
from tests.scripted import scripted_envelopes
from tui.app import RtApp
from tui.config import Settings
from tui.widgets import Transcript


async def test_esc_in_the_log_puts_back_the_filter_before_its_frames() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        assert app.apply_filter("dir:in")
        await views_settled(pilot, app)
        mine = app.log_view.shown
        transcript = app.query_one(Transcript)
        transcript.focus()
        await pilot.press("up", "o")  # the last row's frames
        await views_settled(pilot, app)
        assert app.filter_bar.user_text.startswith("for:"), app.filter_bar.user_text
        assert app.focused is app.event_log
        assert "Esc in the log goes back" in str(app.filter_bar.query_one(".query-bar--status").render())
        await pilot.press("up", "o")  # from a frame to its row and back to its frames: still one way back
        transcript.focus()
        await pilot.press("o")
        await views_settled(pilot, app)
        await pilot.press("escape")
        await views_settled(pilot, app)
        assert app.filter_bar.user_text == "dir:in" and app.log_view.shown == mine
        await pilot.press("escape")  # nothing more to go back to: the filter stays
        await views_settled(pilot, app)
        assert app.filter_bar.user_text == "dir:in"


async def test_with_no_filter_before_esc_shows_every_frame_and_closes_the_bar() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        every = app.log_view.shown
        app.query_one(Transcript).focus()
        await pilot.press("up", "o")
        await views_settled(pilot, app)
        assert app.log_view.shown < every
        await pilot.press("escape")
        await views_settled(pilot, app)
        assert app.log_view.shown == every and not app.filter_bar.active and not app.filter_bar.display
