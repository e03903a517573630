"""A last pump tick during shutdown must not raise (CI, round 23: a proxy app's test ended with
`NoScreen` from `EventLog._keys_follow`: Textual prunes the screen's widgets while the app's 30 Hz
pump may still run once, and the log, still flagged mounted, asked its gone screen to refresh the
footer's bindings)."""

from __future__ import annotations

from tests.journal_helpers import received
from tui.app import RtApp
from tui.config import Settings


async def test_frames_that_land_after_the_log_left_its_screen_do_not_raise() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        log = app.event_log
        assert not log.view.rows  # no frame yet: the first ones change the frame keys' state
        log_pane = app.query_one("#log-pane")
        parent = log_pane._parent
        assert parent is not None
        log_pane._detach()  # as Textual's shutdown leaves it: the pane cut from the screen, the log mounted
        try:
            assert log.is_mounted and not log.is_attached
            app.ingest([received("session.created", session={"id": "sess_1"})], refresh=False)
            app._refresh_views()  # the pump's last tick: it must not raise
            assert log.view.rows  # the frame is in the log's view all the same
        finally:
            log_pane._attach(parent)  # for the app's own shutdown, which walks the tree
