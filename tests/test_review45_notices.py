"""Notices a review of the running app found in the way: over the bars' status, or saying what was
no longer so. Through the real app (no session: the log is fed as a session would feed it)."""

from __future__ import annotations

from textual.widgets._toast import Toast

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import connecting, received
from tui.app import RtApp
from tui.config import Settings
from tui.widgets import EventDetail


def offline_app() -> RtApp:
    return RtApp(Settings(playback=False), connect=False)


def toast_tops(app: RtApp) -> list[int]:
    return [toast.region.y for toast in app.screen.query(Toast)]


async def test_a_notice_says_below_the_open_bars_not_over_their_status() -> None:
    """With the find bar open, a notice covered its `match 1 of 9 matching frames · n next`; with
    the filter's too, its counts. Notices start under the bars shown, and back under the status
    line once they close."""
    app = offline_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.ingest_for_display([connecting(), *(received("session.updated", session={"id": "s"}) for _ in range(5))])
        app.say("a notice before any bar opens")
        await wait_for(pilot, lambda: bool(toast_tops(app)), 5, "the first notice")
        first = min(toast_tops(app))
        assert first <= 2  # under the status line
        await pilot.press("f", *"type:session.*", "enter")  # a filter in force keeps its bar open
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.find_bar.display and app.filter_bar.display, 5, "both bars")
        app.say("saved to /tmp/x", title="Save")
        await wait_for(pilot, lambda: bool(toast_tops(app)), 5, "the notice")
        bars_end = max(bar.region.bottom for bar in (app.filter_bar, app.find_bar))
        assert bars_end > 1
        assert min(toast_tops(app)) >= bars_end, (toast_tops(app), bars_end)
        await pilot.press("escape")  # the find bar's input: closes it
        app.apply_filter("")
        await wait_for(pilot, lambda: not app.find_bar.display, 5, "the find bar closed")
        app.filter_bar.close()
        await wait_for(pilot, lambda: not app.filter_bar.display, 5, "the filter bar closed")
        app.say("saved again", title="Save")
        await pilot.pause()
        await wait_for(pilot, lambda: min(toast_tops(app)) == first, 5, "notices under the status line again")


async def test_no_frame_is_selected_goes_once_a_frame_is() -> None:
    """Enter with nothing selected said "Open: no frame is selected"; ↑ then Enter opened a frame,
    and the notice stayed over it for its seconds, saying what was no longer so."""
    app = offline_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.ingest_for_display([connecting(), received("session.updated", session={"id": "s"})])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("no frame is selected" in text for _, text in notices(app)), 5, "notice")
        await pilot.press("up")
        await wait_for(pilot, lambda: not any("no frame is selected" in t for _, t in notices(app)), 5, "gone")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")
