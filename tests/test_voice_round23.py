"""Round 23's voice and session findings: what the footer, the recorder's line, space's answer and
the empty transcript's hint say once a session has ended (cut, dropped, refused) and while rt-tui
reconnects on its own. The real app under `run_test()`, the fake ALSA microphone, the real simulator."""

from __future__ import annotations

from pathlib import Path

from tests.app_helpers import screen_text, session_ready, wait_for
from tests.server_helpers import speech_pcm24
from tests.test_voice_turns import QUESTION, appends, footer_text, voice_app
from tui.widgets import RecorderState


async def test_the_footer_says_talk_again_once_a_recording_is_cut_by_a_new_session(
    tmp_path: Path, simulator_url: str
) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await pilot.press("space")
        await wait_for(pilot, lambda: "space Send" in footer_text(app), 5, "the footer to say Send")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: appends(app) >= 10, 10, "some speech sent")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
        assert not app.voice.recording
        # Space starts a new turn now: the screen's footer says so, not the "space Send" of the cut turn
        # (nothing else refreshed the bindings once the turn was cut).
        await wait_for(pilot, lambda: "space Talk" in screen_text(app), 5, "space Talk on screen")
        assert "space Send" not in screen_text(app)


async def test_at_80_columns_a_silent_turn_says_not_sent(tmp_path: Path, simulator_url: str) -> None:
    """The recorder's line is the only place a turn of digital silence is said (no notice): at 80
    columns it is cut at its end, so "not sent" comes first ("1.1 s: only digital silence (is the…")."""
    async with voice_app(tmp_path, simulator_url, size=(80, 24)) as (app, pilot, recorder, feeder):
        await pilot.press("space")  # the fake microphone gives digital silence until told to play
        await wait_for(pilot, lambda: appends(app) >= 25, 10, "half a second of silence sent")
        await pilot.press("space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE and recorder.message, 5, "the turn's fate")
        assert recorder.message.startswith("not sent: ") and "digital silence" in recorder.message
        drawn = recorder.render().plain[: recorder.content_size.width]
        assert "not sent: " in drawn, drawn
        await wait_for(pilot, lambda: "not sent: " in screen_text(app), 5, "not sent on screen")
