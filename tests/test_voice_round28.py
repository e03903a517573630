"""Round 28's findings on what a live voice session shows besides the log and the transcript: the
status line while rt-tui reconnects, the recorder's line at 80 columns, and `v` pressed mid-turn.
The real app under `run_test()`, the fake ALSA microphone, the real simulator."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import numpy as np
import pytest
from rich.text import Text
from textual.widgets import Input

from tests.app_helpers import keys_burst, press_voice, screen_text, wait_for
from tests.server_helpers import free_port, speech_pcm24
from tests.test_voice_turns import QUESTION, appends, facts_said, voice_app
from tui.app import RtApp
from tui.app.voice import TurnMode
from tui.audio import devices
from tui.config import Settings, TargetChoice
from tui.widgets import RecorderState, StatusLine


def _state_style(line: Text, state: str) -> str:
    """The style of the span that draws `● <state>` on the status line."""
    start = line.plain.index(f"● {state}")
    styles = [str(span.style) for span in line.spans if span.start <= start < span.end]
    return styles[-1] if styles else ""


async def test_the_state_stays_coloured_while_the_server_stays_unreachable() -> None:
    """Nobody listens on the port: the first retry says "reconnecting in 0.5 s" in yellow, every
    later one "server unreachable for 2 s · try 3 …" in the line's plain colour, as if nothing were
    under way (its first word named no style)."""
    url = f"ws://127.0.0.1:{free_port()}/v1/realtime?model=gpt-realtime"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        line = app.query_one(StatusLine)
        await wait_for(pilot, lambda: line.state_override.startswith("server unreachable"), 15, "a second try")
        assert _state_style(line.render(), "server unreachable") == "yellow"


async def test_at_80_columns_a_silent_turn_says_the_microphone_may_be_muted(tmp_path: Path, simulator_url: str) -> None:
    """After a turn the recorder's clock says 00:00.0 and the label is padded for the clock's sake:
    at 80 columns they stayed and the reason was cut ("…digital silence (mi"). The clock and the
    padding give way first when no turn is running, so the whole reason shows."""
    async with voice_app(tmp_path, simulator_url, size=(80, 24)) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")  # the fake microphone gives digital silence until told to play
        await wait_for(pilot, lambda: appends(app) >= 25, 10, "half a second of silence sent")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE and recorder.message, 5, "the turn's fate")
        assert recorder.message.endswith("of digital silence (microphone muted?)"), recorder.message
        drawn = recorder.render().plain
        assert drawn.endswith(recorder.message) and len(drawn) <= recorder.content_size.width, drawn
        await wait_for(pilot, lambda: "(microphone muted?)" in screen_text(app), 5, "the whole reason on screen")
        # While a turn runs, its clock stays (it is what the user watches).
        await press_voice(pilot, "space")
        assert recorder.state is RecorderState.RECORDING
        assert "00:0" in recorder.render().plain
        await press_voice(pilot, "space")


async def test_v_during_a_tap_still_turns_hands_free_on(tmp_path: Path, simulator_url: str) -> None:
    """Space, then v at once (the user meant hands-free): the turn, under 0.3 s, is not sent, and
    hands-free never comes on; the recorder says "not sent: 120 ms, too short" and push-to-talk."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.RECORDING, 5, "a turn recording")
        await press_voice(pilot, "v")
        assert app.voice.mode is TurnMode.HANDS_FREE and recorder.state is RecorderState.LISTENING
        await press_voice(pilot, "v")


async def test_a_microphone_that_stops_delivering_mid_turn_is_said_not_shown_as_hearing(
    tmp_path: Path, simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device stops delivering mid-sentence (unplugged; here the fake microphone's FIFO is held
    open and no longer written): PortAudio calls back no more, and the recorder kept the last level,
    a loud bar and "-8 dB" under a running clock, as if it heard the user. It says so instead."""
    monkeypatch.setattr(devices, "OPEN_TIMEOUT", 1.0)  # the stuck device's stop gives up soon
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: recorder.level > 0.1, 10, "the speech's level shown while recording")
        # The feeder stops writing but keeps its end open: the device's reads wait, as a dead one's do.
        feeder._stop.set()
        await asyncio.to_thread(feeder._thread.join, 5)
        try:
            await wait_for(pilot, lambda: "no audio from the microphone" in recorder.render().plain, 5, "the warning")
            drawn = recorder.render().plain
            assert "-60 dB" in drawn and "█" not in drawn, drawn
            assert recorder.state is RecorderState.RECORDING
            await wait_for(pilot, lambda: "no audio from the microphone" in screen_text(app), 5, "it on screen")
            await press_voice(pilot, "space")  # the turn ends (what was captured is sent)
            await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 10, "the turn ended")
            assert "no audio from the microphone" not in recorder.render().plain
        finally:
            with contextlib.suppress(BlockingIOError):
                os.write(feeder._fd, bytes(48_000))  # the stuck read returns, and the stuck stop ends
            stuck = devices._stuck
            if stuck is not None:
                await asyncio.to_thread(stuck.join, 10)


def _tone(dbfs: float, seconds: float) -> bytes:
    """A 440 Hz sine at `dbfs` RMS, 24 kHz mono PCM16."""
    t = np.arange(int(24_000 * seconds)) / 24_000
    samples = np.sin(2 * np.pi * 440 * t) * 32767 * 10 ** (dbfs / 20) * np.sqrt(2)
    return bytes(samples.astype("<i2").tobytes())


async def test_the_level_meter_shows_the_microphones_dbfs(tmp_path: Path, simulator_url: str) -> None:
    """The microphone's level is on a dB scale already (0 is -60 dBFS, 1 is 0 dBFS); the recorder
    took it for an RMS amplitude: a -30 dBFS tone read "-6 dB" with a bar four fifths full, speech
    looked as if it clipped, and a developer turned a good input gain down."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(_tone(-30, 3))
        await wait_for(pilot, lambda: abs(recorder.level - 0.5) < 0.02, 10, "the whole tone's level")
        drawn = recorder.render().plain
        assert "  -30 dB" in drawn or "  -29 dB" in drawn or "  -31 dB" in drawn, drawn
        bar = drawn[drawn.index("▕") + 1 : drawn.index("▏")]
        assert bar.count("█") == len(bar) // 2, bar  # -30 of 60 dB: half the bar
        await press_voice(pilot, "space")


def _frames(app: RtApp) -> list[tuple[str, str]]:
    """(direction, type) of every frame but the audio and the deltas, in order."""
    return [
        (frame.direction.value, frame.type)
        for frame in app.journal
        if "append" not in frame.type and "delta" not in frame.type
    ]


def _cancels(app: RtApp) -> list[object]:
    """The response ids our response.cancel frames named, in order."""
    return [app.journal.data(i).get("response_id") for i, f in enumerate(app.journal) if f.type == "response.cancel"]


async def test_a_turn_begun_before_the_asked_response_starts_cancels_it_as_it_starts(
    tmp_path: Path, simulator_url: str
) -> None:
    """A message sent, then space before its response began (a slow server): no response was active
    to cancel, so none was; it began while the user spoke, played over the turn (into the microphone)
    and still ran when the turn asked for its own. Space is a barge-in: it is cancelled as it begins."""
    url = simulator_url + "&sim_latency_ms=1500"  # every server event 1.5 s late: a wide window
    async with voice_app(tmp_path, url) as (app, pilot, recorder, feeder):
        app.query_one("#message", Input).value = "hello"
        # At once: pressed one by one, each key waits for an idle process, which a loaded machine
        # took seconds to reach, and the response began before the turn.
        keys_burst(app, "t", "enter", "escape", "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.RECORDING, 10, "the turn to begin")
        await app.voice_steps.idle()
        await wait_for(pilot, lambda: ("in", "response.created") in _frames(app), 15, "the response to begin")
        created = next(i for i, f in enumerate(app.journal) if f.type == "response.created")
        # The window, by the journal's order: the turn began (its clear sent) before the response did.
        turn_began = max(i for i, f in enumerate(app.journal) if f.type == "input_audio_buffer.clear")
        assert turn_began < created, "the response began before the turn: no window was tested"
        # The keys after the message's Enter waited for it to be sent: in one burst, space started the
        # turn first and the message was kept back as typed during a recording.
        message = next(i for i, f in enumerate(app.journal) if f.type == "conversation.item.create")
        assert message < turn_began
        response_id = app.journal.data(created)["response"]["id"]
        await wait_for(pilot, lambda: response_id in _cancels(app), 5, "the begun response cancelled")
        assert _cancels(app) == [response_id]
        await press_voice(pilot, "space")


MUTED = "hands-free hears only digital silence: is the microphone muted?"


async def test_hands_free_on_a_muted_microphone_says_so(tmp_path: Path, simulator_url: str) -> None:
    """Push-to-talk says a turn of digital silence was not sent; hands-free on a muted microphone
    said nothing at all: the server's VAD hears nothing, no turn ever ends, the user speaks on."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "v")  # the fake microphone gives digital silence until told to play
        assert recorder.state is RecorderState.LISTENING
        await wait_for(pilot, lambda: MUTED in facts_said(app, "rt.audio"), 10, "the muted microphone said")
        assert facts_said(app, "rt.audio").count(MUTED) == 1
        await press_voice(pilot, "v")


async def test_hands_free_that_hears_speech_says_nothing_of_silence(tmp_path: Path, simulator_url: str) -> None:
    """Speech heard, then silence: not a muted microphone. The speech is queued before the key: the
    microphone reads it as it opens (the feeder holds pending audio until read, where it drops
    silence nobody reads). Played after the key, it came ~2 s late: Pilot's press waits up to 1 s
    twice for the process to go idle, which a streaming microphone never lets it, and 2 s of
    silence is the notice's own threshold."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        feeder.play(speech_pcm24(QUESTION))
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: appends(app) >= 150, 15, "three seconds streamed")
        assert MUTED not in facts_said(app, "rt.audio")
        await press_voice(pilot, "v")
