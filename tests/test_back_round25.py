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


def _bar_status(app: RtApp) -> str:
    return str(app.filter_bar.query_one(".query-bar--status").render())


async def test_after_esc_the_next_f_does_not_show_the_gone_filter_s_counts() -> None:
    """After `o` and Esc back to no filter, `f` opened the bar still saying "52 of 127 frames · Esc in
    the log goes back to the filter before": no filter was in force, and Esc no longer did that."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        app.query_one(Transcript).focus()
        await pilot.press("up", "o")
        await views_settled(pilot, app)
        assert "Esc in the log shows every frame again" in _bar_status(app)
        await pilot.press("escape", "f")
        await views_settled(pilot, app)
        assert app.filter_bar.display and app.focused is app.filter_bar.input
        assert "frames" not in _bar_status(app) and "goes back" not in _bar_status(app), _bar_status(app)


async def test_tab_out_of_an_empty_filter_bar_closes_it_and_one_with_a_filter_stays() -> None:
    """Tab from an empty bar left its three rows open over the log, and no key in the log closed them."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        app.event_log.focus()
        await pilot.press("f")
        assert app.filter_bar.display
        await pilot.press("tab")
        await views_settled(pilot, app)
        assert not app.filter_bar.display and app.focused is not app.filter_bar.input
        await pilot.press("f", *"dir:in", "enter")  # a filter in force: its bar stays in view
        await views_settled(pilot, app)
        await pilot.press("f", "tab")
        await views_settled(pilot, app)
        assert app.filter_bar.display and app.filter_bar.user_text == "dir:in"
        assert "of" in _bar_status(app) and "frames" in _bar_status(app), _bar_status(app)
