"""What session 32's reviews found a user hit, each fixed with a test that failed before: the real
app under `run_test()` against the real simulator."""

from __future__ import annotations

from textual.widgets import HelpPanel

from tests.app_helpers import wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice


def live_app(simulator_url: str) -> RtApp:
    return RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))


async def test_esc_in_the_log_closes_the_keys_panel_once_nothing_else_is_left_to_leave(simulator_url: str) -> None:
    """The palette's Keys panel takes no focus: with the log focused, Esc ended a find or an `o`
    and otherwise did nothing, so the panel stayed until the palette closed it again."""
    app = live_app(simulator_url)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.session_id is not None, 10, "session")
        app.action_show_help_panel()
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 5, "the Keys panel")
        await pilot.press("/", *"session", "enter")
        await wait_for(pilot, lambda: app.find_bar.active and app.focused is app.event_log, 5, "a find")
        await pilot.press("escape")  # the find ends first: the panel stays
        await wait_for(pilot, lambda: not app.find_bar.active, 5, "the find ended")
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query(HelpPanel), 5, "the Keys panel closed by Esc")
