"""Keys that come right after a bar's Enter in one burst act where Enter took the focus.

`f` `type:error` Enter `/` `blue` Enter reaching the app at once (a fast typist, `tmux send-keys`,
a paste without bracketed paste) filtered `type:error/blue`: the keys after Enter were already on
their way to the bar's input before its Enter was handled, and typed into it.
"""

from __future__ import annotations

from textual.widgets import Input

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tests.test_message_input_round20 import terminal_burst
from tui.app import RtApp
from tui.config import Settings


def app_with_frames() -> RtApp:
    return RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)


async def test_a_find_typed_right_after_a_filters_enter_is_a_find() -> None:
    app = app_with_frames()
    async with app.run_test(size=(120, 32)) as pilot:
        app.ingest([received("error", error={"code": "x", "message": "blue"}), received("session.updated")])
        await pilot.pause()
        terminal_burst(app, "ftype:error\r/blue\r")
        await wait_for(pilot, lambda: app.find_bar.active == "blue", 5, "the find")
        assert app.filter_bar.active == "type:error"
        assert app.query_one("#filter-bar Input", Input).value == "type:error"


async def test_keys_after_a_refused_filters_enter_stay_in_its_bar() -> None:
    """A malformed query keeps the bar (and the focus): what comes after its Enter is typed there, in order."""
    app = app_with_frames()
    async with app.run_test(size=(120, 32)) as pilot:
        terminal_burst(app, "fdir:sideways\r\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7fin\r")
        await wait_for(pilot, lambda: app.filter_bar.active == "dir:in", 5, "the corrected filter")


async def test_a_log_key_right_after_a_finds_enter_acts_on_the_log() -> None:
    app = app_with_frames()
    async with app.run_test(size=(120, 32)) as pilot:
        app.ingest([received("session.updated") for _ in range(3)])
        await pilot.pause()
        terminal_burst(app, "/session\rn")
        await wait_for(pilot, lambda: app.find_bar.active == "session", 5, "the find")
        await wait_for(pilot, lambda: app.event_log.selected == 1, 5, "n: the second match")
        assert app.query_one("#find-bar Input", Input).value == "session"
