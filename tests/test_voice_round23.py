"""Round 23's voice and session findings: what the footer, the recorder's line, space's answer and
the empty transcript's hint say once a session has ended (cut, dropped, refused) and while rt-tui
reconnects on its own. The real app under `run_test()`, the fake ALSA microphone, the real simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_helpers import press_voice, screen_text, session_ready, wait_for
from tests.audio_helpers import FifoFeeder, fake_alsa
from tests.server_helpers import free_port, speech_pcm24
from tests.test_voice_turns import QUESTION, appends, footer_text, speech_streamed, voice_app
from tui.app import RtApp, reconnect
from tui.config import Settings, TargetChoice
from tui.server import Simulator, SimulatorConfig
from tui.widgets import Recorder, RecorderState


async def test_the_footer_says_talk_again_once_a_recording_is_cut_by_a_new_session(
    tmp_path: Path, simulator_url: str
) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
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
        await press_voice(pilot, "space")  # the fake microphone gives digital silence until told to play
        await wait_for(pilot, lambda: appends(app) >= 25, 10, "half a second of silence sent")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE and recorder.message, 5, "the turn's fate")
        assert recorder.message.startswith("not sent: ") and "digital silence" in recorder.message
        drawn = recorder.render().plain[: recorder.content_size.width]
        assert "not sent: " in drawn, drawn
        await wait_for(pilot, lambda: "not sent: " in screen_text(app), 5, "not sent on screen")


async def test_space_after_a_refused_session_names_ctrl_r(tmp_path: Path, simulator_url: str) -> None:
    """A model the server does not know: error + close 4000, never retried. Waiting opens nothing,
    so space does not say "wait for the session to open": it names ctrl+r."""
    url = simulator_url.replace("model=gpt-realtime", "model=no-such-model")
    assert url != simulator_url
    with FifoFeeder(tmp_path / "mic.fifo"), fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 32)) as pilot:
            await wait_for(pilot, lambda: app.facts.ended, 10, "the refused session to end")
            await press_voice(pilot, "space")
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: "not connected" in recorder.message, 5, "space's answer")
            assert recorder.message == "not connected: ctrl+r opens a new session"
            assert recorder.state is RecorderState.DISCONNECTED
            ended = "No session is open (the status line says why): ctrl+r opens a new one"
            await wait_for(pilot, lambda: ended in app.transcript.hint[0], 5, "the hint, a view, to follow")


async def test_after_a_drop_space_and_the_hint_say_rt_tui_reconnects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drop with auto-reconnect on: rt-tui reconnects when the server answers, so neither space nor
    the empty transcript's hint says ctrl+r is needed; once it gives up (here: quickly), they do."""
    monkeypatch.setattr(reconnect, "GIVE_UP_SECONDS", 2.0)
    sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0))
    await sim.start()
    with FifoFeeder(tmp_path / "mic.fifo"), fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=sim.url + "?model=gpt-realtime", playback=False))
        async with app.run_test(size=(120, 32)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 20, "the session")
            await sim.close()
            await wait_for(pilot, lambda: app.facts.ended, 20, "the drop")
            await wait_for(pilot, lambda: "reconnects" in app.transcript.hint[0], 10, "the reconnecting hint")
            assert app.transcript.hint[0].startswith("No session is open")
            assert "ctrl+r opens a new one" not in app.transcript.hint[0]
            await press_voice(pilot, "space")
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: "not connected" in recorder.message, 5, "space's answer")
            assert recorder.message == "not connected: rt-tui reconnects when the server answers (ctrl+r tries now)"
            # The reconnect gives up: only ctrl+r opens a session now, and both say so.
            await wait_for(pilot, lambda: "ctrl+r opens a new one" in app.transcript.hint[0], 20, "the give-up")
            await press_voice(pilot, "space")
            await wait_for(pilot, lambda: "ctrl+r opens a new session" in recorder.message, 5, "space's new answer")


async def test_the_last_turns_note_goes_with_its_session(tmp_path: Path, simulator_url: str) -> None:
    """ "sent 3.9 s" was that session's news: beside "× disconnected" or in the next session it read
    as a turn just sent (the recorder cleared it only when the mode changed)."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: speech_streamed(app, 25), 10, "some speech sent")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.message.startswith("sent "), 10, "the turn's note")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
        assert recorder.message == "", recorder.message


async def test_spaces_answer_while_reconnecting_goes_once_a_session_opens(tmp_path: Path) -> None:
    """Space during a drop says rt-tui reconnects: once it has, that answer is over (it stayed on the
    recorder's line in the new session)."""
    port = free_port()
    config = SimulatorConfig(host="127.0.0.1", port=port)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    first_server = Simulator(config)
    await first_server.start()
    try:
        with FifoFeeder(tmp_path / "mic.fifo"), fake_alsa(tmp_path / "mic.fifo", None):
            app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
            async with app.run_test(size=(120, 32)) as pilot:
                await wait_for(pilot, lambda: session_ready(app), 20, "the first session")
                first = app.facts.session_id
                await first_server.close()
                await wait_for(pilot, lambda: "reconnects" in app.transcript.hint[0], 10, "the reconnecting hint")
                await press_voice(pilot, "space")
                recorder = app.query_one(Recorder)
                await wait_for(pilot, lambda: "rt-tui reconnects" in recorder.message, 5, "space's answer")
                async with Simulator(config):
                    await wait_for(
                        pilot, lambda: session_ready(app) and app.facts.session_id != first, 20, "the reconnect"
                    )
                    await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder")
                    assert recorder.message == "", recorder.message
    finally:
        await first_server.close()
