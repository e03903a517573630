"""A replay at 80 columns keeps its own key, `p` (pause or resume), in the footer when a frame is
selected in the log: the log's frame keys had pushed it out first (round 26's open design point),
leaving a user watching a replay no shown way to stop it but the palette."""

from __future__ import annotations

from pathlib import Path

from tests.app_helpers import views_settled, wait_for
from tests.test_app_debugger import findings_recording
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load
from tui.widgets.key_footer import KeyFooter


async def test_a_replay_at_80_columns_keeps_p_with_a_frame_selected(tmp_path: Path) -> None:
    recording = load(findings_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording, speed=0.01))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.journal) >= 2, 10, "the replay's first frames")
        await views_settled(pilot, app)
        await pilot.press("up")
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        drawn = str(footer.render())
        assert app.event_log.selected is not None
        assert {key.key for key in footer.keys} >= {"p", "q", "enter"}, drawn
