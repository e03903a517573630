"""The palette's commands say something whenever they cannot act (review 55f): after a clear the
frame commands did nothing and said nothing, `log: clear filter` with no filter the same, and the
zoom command kept its name while zoomed, where it gives both panes back."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings


def run(app: RtApp, title: str) -> None:
    """Run the palette's command named `title`, as choosing it does."""
    [found] = [c for c in app.get_system_commands(app.screen) if c.title == title]
    found.callback()


async def said(pilot: Pilot[None], app: RtApp, words: str) -> None:
    await wait_for(pilot, lambda: any(words in message for _, message in notices(app)), 5, repr(words))


async def test_frame_commands_after_a_clear_say_the_log_shows_no_frame() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        app.ingest([sent("response.create"), received("response.created", response={"id": "r1"})])
        await pilot.pause()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: not app.log_view.rows, 5, "the clear")
        for title in ("log: details", "log: copy frame", "log: cause ↔ error", "log: transcript row"):
            app.clear_notifications()
            run(app, title)
            await said(pilot, app, "no frame is shown: Cleared: new frames appear here; the 2 frames before are kept")


async def test_clear_filter_with_none_in_force_says_so() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        app.ingest([sent("response.create")])
        await pilot.pause()
        run(app, "log: clear filter")
        await said(pilot, app, "no filter is in force: the log shows every frame")


async def test_the_zoom_command_is_named_for_what_it_does_while_zoomed() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:

        def titles() -> list[str]:
            return [c.title for c in app.get_system_commands(app.screen)]

        assert "view: zoom pane" in titles() and "view: both panes" not in titles()
        run(app, "view: zoom pane")
        await wait_for(pilot, lambda: app.screen.maximized is not None, 5, "the zoom")
        assert "view: both panes" in titles() and "view: zoom pane" not in titles()
        run(app, "view: both panes")
        await wait_for(pilot, lambda: app.screen.maximized is None, 5, "both panes")
