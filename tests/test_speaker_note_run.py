"""The speaker opens on the first reply's first audio delta and notes its device in the log; the
note used to split that reply's run of deltas in two rows ('You' ×3, then the rest ×42)."""

from __future__ import annotations

from pathlib import Path

from tests.app_helpers import turn_complete, views_settled, wait_for
from tests.test_barge_in_round31 import speaker_app
from tui.widgets import EventLog


async def test_the_speaker_s_note_leaves_the_first_reply_one_run(tmp_path: Path, simulator_url: str) -> None:
    async with speaker_app(tmp_path, simulator_url, (160, 48)) as (app, pilot, _sink):
        await pilot.press("t", *"hello there", "enter", "escape")
        await wait_for(pilot, lambda: turn_complete(app), 30, "the reply")
        await views_settled(pilot, app)
        rows = app.query_one(EventLog).row_texts()
        assert any(row.startswith("● rt.audio speaker:") for row in rows)  # the note is there
        runs = [row for row in rows if row.startswith("▼ response deltas")]
        assert len(runs) == 1, runs
        assert 'You said: "hello there"' in runs[0]
