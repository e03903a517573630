"""A rejected `session.update` leaves the server's own turn detection in force (server VAD, from
session.created): the recorder says so, and space listens without committing, since the server
commits each turn itself and a second commit would find the buffer empty."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.app_helpers import items, press_voice, reply_done, screen_text, views_settled, wait_for
from tests.audio_helpers import FifoFeeder, fake_alsa
from tests.server_helpers import silence, speech_pcm24
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.widgets import Recorder, RecorderState, Transcript

QUESTION = "what is the weather like in London today"


def kept_vad_app(url: str) -> RtApp:
    """The app on `url` asking for a transcription model the simulator refuses: it rejects the
    whole session.update, and keeps the server VAD of its session.created."""
    return RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, transcription_model="nonsense-model"))


async def listen_to_one_turn(
    pilot: Pilot[None], app: RtApp, feeder: FifoFeeder, speech: bytes
) -> tuple[list[str], list[str]]:
    """Space listens, `speech` is spoken, the server's VAD ends the turn and the reply comes, space
    stops listening: the types of the frames sent and received by then."""
    recorder = app.query_one(Recorder)
    await wait_for(pilot, lambda: app.voice.audio_ready is not None, 5, "the audio stack to load")
    await press_voice(pilot, "space")
    assert recorder.state is RecorderState.LISTENING
    feeder.play(silence(500) + speech + silence(1200))
    await wait_for(
        pilot, lambda: items(app, "user") and reply_done(app), 30, "the server's VAD to end the turn, the reply"
    )
    await press_voice(pilot, "space")
    await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "listening to stop")
    await views_settled(pilot, app)
    sent = [frame.type for frame in app.journal if frame.direction is Direction.OUT]
    received = [frame.type for frame in app.journal if frame.direction is Direction.IN]
    return sent, received


async def test_after_a_rejected_update_space_listens_and_the_servers_vad_ends_the_turn(
    tmp_path: Path, simulator_url: str
) -> None:
    speech = speech_pcm24(QUESTION)
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = kept_vad_app(simulator_url)
        async with app.run_test(size=(160, 48)) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: app.facts.last_update_rejected, 10, "the update to be rejected")
            assert app.facts.turn_detection == "server_vad"  # what session.created said, and the server kept
            await wait_for(pilot, lambda: recorder.kept == "server VAD", 5, "the recorder to follow the server")
            await views_settled(pilot, app)
            shown = screen_text(app)
            assert "server VAD" in shown and "space: listen (the server kept it: session.update rejected)" in shown
            # The status line says what is in force, transcription state first, then the refusal.
            status = str(app.status_line.render())
            kept = "server_vad · no input transcription · session.update rejected (the server kept its config)"
            assert kept in status, status
            assert "push-to-talk" not in shown and "space: talk" not in shown
            assert "The server kept its own turn detection (server VAD" in app.query_one(Transcript).hint[0]
            assert "Press space to talk" not in shown
            # The kept session does not transcribe (session.created had no transcription): no words.
            sent, received = await listen_to_one_turn(pilot, app, feeder, speech)
    assert "input_audio_buffer.append" in sent
    # The server committed the turn and answered it: nothing of ours doubled either.
    assert "input_audio_buffer.commit" not in sent and "response.create" not in sent
    assert "input_audio_buffer.committed" in received
    assert received.count("error") == 1  # the rejection only: no input_audio_buffer_commit_empty


async def test_a_session_update_sent_from_the_palette_that_sets_server_vad_is_followed(
    tmp_path: Path, simulator_url: str
) -> None:
    """A session.update of the user's own (the palette's send-an-event) turned the server's VAD on
    in a push-to-talk session: the status line said server_vad while the recorder said
    push-to-talk, and space recorded a turn that the server committed, then ours committed again."""
    speech = speech_pcm24(QUESTION)
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(160, 48)) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: app.facts.updates_applied == 1, 10, "the app's own update")
            assert app.facts.turn_detection is None and recorder.kept == ""  # push-to-talk, as asked
            server_vad = {"input": {"turn_detection": {"type": "server_vad"}}}
            update = {"type": "session.update", "session": {"type": "realtime", "audio": server_vad}}
            app._send_event(update)  # what the dialog's Enter hands over
            await wait_for(pilot, lambda: recorder.kept == "server VAD", 10, "the recorder to follow the server")
            await views_settled(pilot, app)
            shown = screen_text(app)
            assert "space: listen (session.updated set it)" in shown, shown
            assert "push-to-talk" not in str(recorder.render()) and "space: talk" not in shown
            hint = app.query_one(Transcript).hint[0]
            lead = "The server detects turns itself (server VAD: the last session.update it applied set it"
            assert hint.startswith(lead + ", not push-to-talk)"), hint
            # A refused probe that says nothing of turns does not make the VAD "kept" by a refusal.
            bogus = {"input": {"transcription": {"model": "bogus-model"}}}
            app._send_event({"type": "session.update", "session": {"type": "realtime", "audio": bogus}})
            await wait_for(pilot, lambda: app.facts.last_update_rejected, 10, "the probe's refusal")
            await views_settled(pilot, app)
            assert recorder.kept == "server VAD" and recorder.kept_why == "session.updated set it"
            assert app.query_one(Transcript).hint[0].startswith(lead), app.query_one(Transcript).hint[0]
            sent, received = await listen_to_one_turn(pilot, app, feeder, speech)
            [user] = items(app, "user")
    assert "weather" in user.text.lower()  # the app's update turned transcription on; the probe kept it
    assert "input_audio_buffer.commit" not in sent and "response.create" not in sent
    assert "input_audio_buffer.committed" in received and received.count("error") == 1  # the probe's refusal only
