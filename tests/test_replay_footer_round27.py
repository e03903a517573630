"""A replay at 80 columns keeps its own key, `p` (pause or resume), in the footer when a frame is
selected in the log: the log's frame keys had pushed it out first (round 26's open design point),
leaving a user watching a replay no shown way to stop it but the palette."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app_helpers import views_settled, wait_for
from tests.test_app_debugger import findings_recording
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load
from tui.widgets.key_footer import KeyFooter


def _a_minute_apart(path: Path) -> Path:
    """The findings recording with its events a minute apart after the second: the replay waits
    MAX_GAP (5 s) of wall clock before each, so it is still playing when the footer is read, however
    slow the machine. (Untimed, its events sat 1 ms apart and the whole replay could end before the
    test looked: a finished replay rightly hides `p`.)"""
    events = [json.loads(line) for line in findings_recording(path).read_text().splitlines()]
    records = [
        {"time": f"2026-12-04T12:{minute:02d}:00.000Z", "event": event}  # direction: by the event's type
        for minute, event in enumerate(events)
    ]
    records[1]["time"] = "2026-12-04T12:00:00.001Z"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


async def test_a_replay_at_80_columns_keeps_p_with_a_frame_selected(tmp_path: Path) -> None:
    recording = load(_a_minute_apart(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording, speed=1.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.journal) >= 2, 10, "the replay's first frames")
        await views_settled(pilot, app)
        await pilot.press("up")
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        drawn = str(footer.render())
        assert app.event_log.selected is not None
        assert app.player is not None and not app.player.paused and not app._replay_over()  # still playing
        assert {key.key for key in footer.keys} >= {"p", "q", "enter"}, drawn
