"""A replay that plays to the end of a recording cut short (no close of its connection in it: a
browser's HAR saved mid-turn, a log) no longer leaves rows saying `(transcribing…)` under a status
line that says `done`: they say the recording ends there (review 54b)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app_helpers import wait_for
from tests.test_replay_json_wall_round27 import replayed
from tui.conversation import TextState
from tui.conversation.export import to_json, to_markdown
from tui.widgets.transcript import render_item

LOG = [
    {"type": "session.created", "session": {"id": "sess_1", "audio": {"input": {"transcription": {"model": "m"}}}}},
    {"type": "input_audio_buffer.append", "audio": "AAAA" * 2400},
    {"type": "input_audio_buffer.commit"},
    {"type": "input_audio_buffer.committed", "item_id": "item_u", "previous_item_id": None},
    {"type": "conversation.item.added", "item": {"id": "item_u", "type": "message", "role": "user", "content": []}},
    {"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_x", "delta": "orphan"},
]


async def test_a_turn_the_recording_cuts_off_says_so_once_the_replay_is_done(tmp_path: Path) -> None:
    async with replayed(tmp_path, LOG) as (app, pilot):
        user = app.model.conversation.items["item_u"]
        await wait_for(pilot, lambda: user.state is TextState.UNRECORDED, 5, "the end of the recording")
        assert user.display_text == "(the recording ends before any text arrived)"
        assert "cut off: the recording ends" in render_item(user).plain
        assert "cut off: the recording ends" in to_markdown(app.model.conversation.ordered())
        assert json.loads(to_json(app.model.conversation.ordered()))[0]["text_state"] == "unrecorded"
        assert "transcribing" not in render_item(user).plain


async def test_a_recording_without_times_has_no_speed_keys(tmp_path: Path) -> None:
    """`]` on a log without times changed the status to `done · r: again ×2`, a pace nothing can
    show, and `[ ] Speed` stayed lit (reviews 54b, 54c): the keys and their palette commands go."""
    async with replayed(tmp_path, LOG) as (app, pilot):
        assert not app.check_action("replay_speed", (2,))
        assert not any("faster" in command.title for command in app.more_commands())
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app._replay_speed is None  # the pace `r` would play it again at: unchanged
