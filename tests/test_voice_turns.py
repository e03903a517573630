"""Turns that end some other way than by the user's key: a new session (ctrl+r, an automatic
reconnect, an expiry) while recording or listening; a press too short to hold speech; and what the
recorder and the footer say meanwhile. The real app under `run_test()`, real PyAudio through the
fake ALSA microphone, the real simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app_helpers import (
    items,
    notices,
    press_voice,
    reply_done,
    screen_text,
    session_ready,
    views_settled,
    wait_for,
)
from tests.audio_helpers import FifoFeeder, fake_alsa
from tests.journal_helpers import received
from tests.server_helpers import speech_pcm24
from tui.app import RtApp
from tui.app.voice import MIC_LEVEL, MIN_TURN_MS, TurnMode, unsendable
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.server.testing import realtime_simulator
from tui.widgets import Recorder, RecorderState
from tui.widgets.key_footer import KeyFooter

QUESTION = "what is the weather like in London today"


@asynccontextmanager
async def voice_app(
    tmp_path: Path, url: str, size: tuple[int, int] = (160, 48)
) -> AsyncIterator[tuple[RtApp, Pilot[None], Recorder, FifoFeeder]]:
    """The app on `url` with the fake ALSA microphone fed from a FIFO, its session ready: the app,
    its pilot, its recorder and the microphone's feeder."""
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            yield app, pilot, app.query_one(Recorder), feeder


def sent(app: RtApp, epoch: int | None = None) -> list[str]:
    """The types of the frames we sent (in connection `epoch` only, when given)."""
    return [
        frame.type
        for frame in app.journal
        if frame.direction is Direction.OUT and (epoch is None or frame.epoch == epoch)
    ]


def facts_said(app: RtApp, event_type: str) -> list[str]:
    """The messages of the app's own local facts of one type."""
    return [str(app.journal.data(i).get("message")) for i, frame in enumerate(app.journal) if frame.type == event_type]


def footer_text(app: RtApp) -> str:
    return app.query_one(KeyFooter).render().plain


def appends(app: RtApp) -> int:
    return sent(app).count("input_audio_buffer.append")


def speech_streamed(app: RtApp, at_least: int) -> bool:
    """At least `at_least` appends sent, and speech among them. Appends alone can all be silence:
    Pilot's press waits up to 2 s for an idle process, which a streaming microphone never is, so
    speech played after the key comes late, and a push-to-talk turn of digital silence is not sent."""
    return appends(app) >= at_least and app.voice.heard


async def test_ctrl_r_while_recording_ends_the_turn_and_says_the_words_were_not_sent(
    tmp_path: Path, simulator_url: str
) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        assert recorder.state is RecorderState.RECORDING
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: appends(app) >= 10, 10, "some speech sent")
        await pilot.press("ctrl+r")
        # The notice read as the turn is cut: it goes after a few seconds, which a slow reconnect outlasts.
        await wait_for(pilot, lambda: any("not sent" in message for _, message in notices(app)), 10, "the notice")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
        # The turn is over: no microphone, the recorder idle with its timer at zero, and it said why.
        assert not app.voice.recording
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
        assert recorder.started_at is None
        said = facts_said(app, "rt.audio")
        assert any("not sent" in message and "connection" in message for message in said), said
        assert "not sent" in recorder.message
        assert "input_audio_buffer.append" not in sent(app, epoch=2)  # nothing leaked into the new session
        # The next space starts a fresh turn on the new session, its timer from zero.
        await press_voice(pilot, "space")
        assert recorder.state is RecorderState.RECORDING and app.voice.recording
        assert sent(app, epoch=2).count("input_audio_buffer.clear") == 1
        await press_voice(pilot, "space")


async def test_ctrl_r_while_hands_free_stops_listening_and_says_so(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "v")
        assert recorder.state is RecorderState.LISTENING
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
        # The new session has manual turns, and the recorder says push-to-talk: they agree.
        assert app.voice.mode is TurnMode.PUSH_TO_TALK and not app.voice.recording
        assert recorder.mode == "push-to-talk"
        assert any("hands-free stopped" in message for message in facts_said(app, "rt.audio"))


async def test_a_session_that_expires_while_recording_ends_the_turn_and_says_so(tmp_path: Path) -> None:
    async with realtime_simulator() as sim:
        # Long enough for the session, the audio stack and the microphone to open first on a loaded
        # machine (3 s was not always); the turn must be recording when the session expires.
        url = sim.url_for(session_seconds=6)
        async with voice_app(tmp_path, url) as (app, pilot, recorder, feeder):
            await wait_for(pilot, lambda: app.voice.audio_ready is not None, 5, "the audio stack to load")
            await press_voice(pilot, "space")
            assert app.voice.recording and not app.facts.ended
            await wait_for(pilot, lambda: app.facts.ended, 15, "the expiry")
            await wait_for(pilot, lambda: not app.voice.recording, 5, "the microphone to stop")
            # The mic stops first; the fact saying what was cut comes once the session has ended.
            await wait_for(
                pilot,
                lambda: any("not sent" in message for message in facts_said(app, "rt.audio")),
                5,
                "the fact that the recording was not sent",
            )
            await views_settled(pilot, app)
            assert recorder.state is RecorderState.DISCONNECTED and recorder.started_at is None


async def test_hands_free_resumes_after_an_automatic_reconnect(tmp_path: Path) -> None:
    async with realtime_simulator() as sim:
        # The socket is reset mid reply (no close frame): a drop the app reconnects after, on its own.
        url = sim.url_for(drop_after="response.output_audio.delta:3", drop_mode="reset")
        async with voice_app(tmp_path, url) as (app, pilot, recorder, feeder):
            await press_voice(pilot, "v")
            assert recorder.state is RecorderState.LISTENING
            await pilot.press("t", *"hello there", "enter", "escape")
            await wait_for(pilot, lambda: app.journal.epoch == 2 and session_ready(app), 20, "the reconnect")

            def vad_updates() -> list[object]:
                return [
                    app.journal.data(i)
                    for i, frame in enumerate(app.journal)
                    if frame.epoch == 2
                    and frame.type == "session.update"
                    and frame.direction is Direction.OUT
                    and "server_vad" in str(app.journal.data(i))
                ]

            await wait_for(pilot, lambda: bool(vad_updates()), 10, "hands-free's session.update on the new session")
            await wait_for(pilot, lambda: app.facts.turn_detection == "server_vad", 10, "server VAD in force")
            assert app.voice.mode is TurnMode.HANDS_FREE and app.voice.recording
            assert recorder.state is RecorderState.LISTENING and recorder.mode == "hands-free"
            await wait_for(pilot, lambda: "input_audio_buffer.append" in sent(app, epoch=2), 5, "the mic streaming")
            said = facts_said(app, "rt.audio")
            assert any("hands-free resumed" in message for message in said), said
            await press_voice(pilot, "v")
            await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "push-to-talk")


async def test_a_tap_too_short_to_hold_speech_is_not_committed(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await wait_for(pilot, lambda: app.voice.audio_ready is not None, 5, "the audio stack")
        await pilot.press("space", "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
        await views_settled(pilot, app)
        out = sent(app)
        assert "input_audio_buffer.commit" not in out and "response.create" not in out, out
        assert out[-1] == "input_audio_buffer.clear"  # whatever was appended is dropped
        # The fake microphone gives silence, so a tap that took longer than MIN_TURN_MS to open
        # and close the device (a busy machine) is refused as silence: dropped either way.
        said = recorder.message
        assert said.startswith("not sent: ") and said.endswith(("too short to hold speech", "(microphone muted?)"))
        assert not items(app, "user")


async def test_the_level_meter_falls_to_zero_when_recording_stops(tmp_path: Path, simulator_url: str) -> None:
    """The last level sample can reach the recorder after it stopped recording: it is ignored."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: recorder.level > 0.1, 10, "the speech's level shown while recording")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the turn sent")
        app.bus.publish(MIC_LEVEL, 0.5)  # late, as PortAudio's last chunk's level can be
        await wait_for(pilot, lambda: app._level.pending == 0, 5, "the pump to take the late level")
        assert recorder.level == 0.0
        assert "-60 dB" in str(recorder.render())


async def test_space_says_what_it_does_in_the_footer_and_the_recorder(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        assert "space Talk" in footer_text(app)
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: "space Send" in footer_text(app), 5, "the footer to say Send")
        assert "Talk" not in footer_text(app)
        # In the message input space types: the recorder says how to send from there.
        await pilot.press("t")
        await wait_for(pilot, lambda: "Esc, then space: send" in str(recorder.render()), 5, "the hint in the input")
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: "Esc, then space" not in str(recorder.render()) and "space: send" in str(recorder.render()),
            5,
            "the hint out of the input",
        )
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: "space Talk" in footer_text(app), 5, "the footer to say Talk again")
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.state is RecorderState.LISTENING, 5, "hands-free")
        assert "space Send" not in footer_text(app)
        await press_voice(pilot, "v")


async def test_at_80_columns_the_recorder_keeps_its_hint(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url, size=(80, 24)) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: "space: send" in screen_text(app), 5, "the hint on an 80-column line")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the turn ended")
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: "v: stop hands-free" in screen_text(app), 5, "the hands-free hint")
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: reply_done(app) or recorder.state is RecorderState.IDLE, 5, "idle")


@pytest.mark.parametrize(
    ("sent_ms", "heard", "why"),
    [
        (MIN_TURN_MS - 1, True, "299 ms, too short to hold speech"),  # speech, but a tap: too short wins
        (MIN_TURN_MS - 1, False, "299 ms, too short to hold speech"),
        (MIN_TURN_MS, False, "0.3 s of digital silence (microphone muted?)"),
        (MIN_TURN_MS, True, None),
        (60_000, True, None),
    ],
)
def test_what_makes_a_push_to_talk_turn_unsendable(sent_ms: int, heard: bool, why: str | None) -> None:
    """The decision the app test above reaches through a real device: which reason a tap gets
    (the fake microphone's silence cannot say which branch a busy machine takes)."""
    assert unsendable(sent_ms, heard=heard) == why


async def test_speech_the_server_never_committed_leaves_no_row_after_a_drop(tmp_path: Path) -> None:
    """Hands-free, the server hears speech start, and the socket drops before it commits: the
    speech went with the buffer and will never be an item. Its row stayed, saying "recorded audio
    · cut off", as if the turn had been recorded and committed; the log keeps the frame. (Every
    connection drops at its first speech, so each reconnect while the user still speaks drops too.)"""
    async with realtime_simulator() as sim:
        url = sim.url_for(drop_after="input_audio_buffer.speech_started:1", drop_mode="reset")
        async with voice_app(tmp_path, url) as (app, pilot, recorder, feeder):
            await press_voice(pilot, "v")
            await wait_for(pilot, lambda: app.facts.turn_detection == "server_vad", 10, "server VAD in force")
            feeder.play(speech_pcm24(QUESTION))
            await wait_for(pilot, lambda: app.journal.epoch >= 2, 20, "the drop and a reconnect")
            started = [i for i, frame in enumerate(app.journal) if frame.type == "input_audio_buffer.speech_started"]
            speakers = {str(app.journal.data(i).get("item_id")) for i in started}
            assert speakers
            await views_settled(pilot, app)
            assert not speakers & set(app.conversation.items), [i.state for i in items(app, "user")]
            assert "cut off" not in screen_text(app)
            await press_voice(pilot, "v")


async def test_audio_the_server_refuses_ends_the_turn_at_once_unsent(tmp_path: Path) -> None:
    """An append the server refuses (its buffer held full: here bound at 1 s) ends the push-to-talk
    turn there and then: the rest of the audio is not streamed into one refusal each, nothing is
    committed or answered, and the recorder says so instead of "sent"."""
    async with realtime_simulator() as sim:
        async with voice_app(tmp_path, sim.url_for(buffer_seconds=1)) as (app, pilot, recorder, feeder):
            await press_voice(pilot, "space")
            feeder.play(speech_pcm24(QUESTION))
            await wait_for(pilot, lambda: not app.voice.recording, 15, "the turn to end on the refusal")
            await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
            await views_settled(pilot, app)
            said = recorder.message
            assert said.startswith("not sent: the server refused the audio at 1.0 s: invalid_value"), said
            assert said.endswith("nothing was committed"), said
            out = sent(app)
            assert "input_audio_buffer.commit" not in out and "response.create" not in out, out
            assert out[-1] == "input_audio_buffer.clear"
            errors = [i for i, frame in enumerate(app.journal) if frame.type == "error"]
            # Only the appends already on their way when the first refusal came back are refused.
            assert 1 <= len(errors) <= appends(app) // 2, (len(errors), appends(app))
            assert any("no longer sent" in message for message in facts_said(app, "rt.audio"))
            # Space starts the next turn afresh (it begins with a clear of its own), not a send.
            clears = out.count("input_audio_buffer.clear")
            await press_voice(pilot, "space")
            await wait_for(pilot, lambda: sent(app).count("input_audio_buffer.clear") > clears, 5, "a new turn")
            assert "input_audio_buffer.commit" not in sent(app)


async def test_hands_free_stops_listening_when_the_server_refuses_its_audio(tmp_path: Path) -> None:
    """Hands-free whose audio the server refuses (silence fills a buffer bound at 1 s: no turn ever
    ends) stops listening, back to push-to-talk, and says why."""
    async with realtime_simulator() as sim:
        async with voice_app(tmp_path, sim.url_for(buffer_seconds=1)) as (app, pilot, recorder, feeder):
            await press_voice(pilot, "v")  # the refusal can come within the press's wait: no LISTENING check
            await wait_for(pilot, lambda: appends(app) > 0, 5, "hands-free streaming")
            await wait_for(pilot, lambda: not app.voice.recording, 15, "listening to stop on the refusal")
            await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder to be idle")
            await views_settled(pilot, app)
            assert app.voice.mode is TurnMode.PUSH_TO_TALK and recorder.mode == "push-to-talk"
            assert recorder.message.startswith("hands-free stopped: the server refused the audio"), recorder.message
            assert "input_audio_buffer.commit" not in sent(app)


@pytest.mark.parametrize("key", ["space", "v"])
async def test_a_key_pressed_as_the_refusal_comes_does_not_undo_what_the_refusal_did(
    tmp_path: Path, simulator_url: str, key: str
) -> None:
    """Space pressed to send (or v to stop hands-free) just after the server refused the audio, its step
    queued behind the refusal's: the refusal ends the turn (or hands-free), and the key, whose turn is
    gone, does not start a new one (review 58d: the microphone was live again)."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space" if key == "space" else "v")
        assert app.voice.recording
        clears = sent(app).count("input_audio_buffer.clear")
        app.voice.refused = (
            "the server refused the audio at 1.0 s: invalid_value: full"  # as `_watch_refusals` notes it
        )
        app.audio_refused(app.voice.refused)
        await (app.action_talk() if key == "space" else app.action_hands_free())  # queued behind it
        await wait_for(pilot, lambda: not app.voice_steps.busy, 10, "the steps")
        await views_settled(pilot, app)
        assert not app.voice.recording and app.voice.mode is TurnMode.PUSH_TO_TALK
        assert recorder.state is RecorderState.IDLE
        assert "refused the audio" in recorder.message, recorder.message
        out = sent(app)
        assert "input_audio_buffer.commit" not in out
        # The refusal's clear (push-to-talk) or hands-free's, and no new turn's after it.
        assert out.count("input_audio_buffer.clear") == clears + 1, out


async def test_a_refusal_of_the_turn_s_first_append_is_known_however_many_came_after(
    tmp_path: Path, simulator_url: str
) -> None:
    """A server far behind a flood of appends refuses one sent long before: the microphone's appends
    are numbered in their event ids, not remembered one by one, so any of them is known (a window of
    the latest 3,000 ids, kept to bound the memory, missed it and the flood went on, review 58e)."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: appends(app) >= 20, 10, "appends")
        ids = [
            str(app.journal.data(frame.index)["event_id"])
            for frame in app.journal
            if frame.type == "input_audio_buffer.append"
        ]
        first = ids[0]
        # Numbered after one prefix of this opening of the microphone: the number says which append.
        prefix = first[:-1]
        assert first.endswith("0") and ids[1] == f"{prefix}1" and ids[17] == f"{prefix}11", ids[:18]
        error = {"type": "invalid_request_error", "code": "invalid_value", "message": "late", "event_id": first}
        app.ingest([received("error", error=error)])
        await wait_for(pilot, lambda: not app.voice.recording, 10, "the turn to end")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "the recorder")
        assert recorder.message.startswith("not sent: the server refused the audio at 0.0 s: invalid_value: late")
        assert "input_audio_buffer.commit" not in sent(app)
