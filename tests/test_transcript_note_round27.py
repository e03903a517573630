"""The transcript's corner says "new rows below" only for rows that came below the view: a row put
above it (an item ordered by its previous_item_id into the history the user scrolled up past) is
not below, and said so until the next turn (the transcript review of round 27, left open)."""

from __future__ import annotations

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tests.test_transcript import TranscriptApp, history, shown
from tests.test_transcript_round27 import scrolled_up_over_a_pending_turn
from tui.widgets import Transcript


async def test_a_row_put_above_the_view_does_not_say_new_rows_below() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 20)) as pilot:
        transcript = app.query_one(Transcript)
        before = await scrolled_up_over_a_pending_turn(pilot, app)
        assert not transcript._following
        item = {"id": "early", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        app.feed([received("conversation.item.added", item=item, previous_item_id="u1")])
        await wait_for(pilot, lambda: "early" in transcript._order, 5, "the new row")
        await pilot.pause(0.2)
        assert shown(transcript) == before
        assert "new rows below" not in str(transcript.border_subtitle or "")
        # A turn at the end, below the view, is news there.
        app.feed(history(9)[16:])
        await wait_for(pilot, lambda: "new rows below" in str(transcript.border_subtitle or ""), 5, "the note")
