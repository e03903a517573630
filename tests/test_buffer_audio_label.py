"""The transcript's label for user audio committed from the input buffer: "recorded audio" only
where rt-tui recorded it (a live session); a replay says where the audio went, as the proxy does
(tests/test_app_proxy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import Direction, Envelope, next_seq
from tui.replay import ReplayRequest, load
from tui.widgets import Transcript

COMMITTED: dict[str, Any] = {
    "type": "input_audio_buffer.committed",
    "event_id": "e1",
    "item_id": "item_1",
    "previous_item_id": None,
}
ADDED: dict[str, Any] = {
    "type": "conversation.item.added",
    "event_id": "e2",
    "previous_item_id": None,
    "item": {
        "id": "item_1",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    },
}


async def test_a_replays_buffered_audio_is_audio_via_the_input_buffer(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in (COMMITTED, ADDED)))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(events)))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        shown = app.query_one(Transcript).text()
        assert "you  audio via the input buffer" in shown and "recorded audio" not in shown, shown


async def test_a_live_session_says_recorded_and_a_new_label_redraws_the_rows_shown() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest_for_display(
            Envelope(next_seq(), Direction.IN, event["type"], event, json.dumps(event)) for event in (COMMITTED, ADDED)
        )
        await views_settled(pilot, app)
        transcript = app.query_one(Transcript)
        assert "you  recorded audio" in transcript.text()
        await wait_for(pilot, lambda: on_screen(transcript, "recorded audio"), 5, "the row drawn")
        transcript.buffer_audio = "audio via the input buffer"
        assert "you  audio via the input buffer" in transcript.text()
        # The row already drawn is drawn again with the new label (its rendered lines are not reused).
        await wait_for(pilot, lambda: on_screen(transcript, "audio via the input buffer"), 5, "the row redrawn")
        assert not on_screen(transcript, "recorded audio")


def on_screen(transcript: Transcript, words: str) -> bool:
    """Whether a line the pane draws now holds `words`."""
    return any(words in transcript.render_line(y).text for y in range(transcript.size.height))
