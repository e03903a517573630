"""The recorder says there is no microphone before the first press: the app looks for the device a
turn would open (without opening it) once the screen is up. Real PyAudio through alsa-lib set up as
a machine without a sound card, or with the fake ALSA microphone; the real simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot

from tests.app_helpers import notices, press_voice, screen_text, session_ready, wait_for
from tests.audio_helpers import FifoFeeder, fake_alsa, no_sound_card
from tests.server_helpers import free_port
from tests.test_kept_vad import kept_vad_app
from tests.test_voice_turns import voice_app
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.widgets import Recorder, RecorderState
from tui.widgets.key_footer import KeyFooter
from tui.widgets.transcript import VOICE_HINT


def audio_notes(app: RtApp) -> list[str]:
    """The messages of the app's `rt.audio` facts in its log."""
    return [str(app.journal.data(i).get("message")) for i, frame in enumerate(app.journal) if frame.type == "rt.audio"]


async def test_without_a_microphone_the_recorder_says_so_before_any_press(tmp_path: Path, simulator_url: str) -> None:
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: recorder.state is RecorderState.UNAVAILABLE, 10, "the recorder to say so")
            assert recorder.message.startswith("microphone unavailable: no input device"), recorder.message
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            assert recorder.state is RecorderState.UNAVAILABLE, "the session's opening took it back to ready"
            await wait_for(pilot, lambda: "no microphone" in screen_text(app), 5, "no microphone on screen")
            hint = app.transcript.hint[0]
            assert hint.startswith("No microphone to record from: no input device") and "Press t" in hint, hint
            assert not audio_notes(app), "the check is the recorder's to say: the log keeps what a press found"
            await press_voice(pilot, "space")  # still tried: a microphone may have been plugged in since
            assert recorder.state is RecorderState.UNAVAILABLE
            # The note reaches the journal through the bus, a beat after the step that published it.
            await wait_for(
                pilot,
                lambda: any("microphone unavailable" in note for note in audio_notes(app)),
                5,
                "the press to try (its note in the log)",
            )


async def test_with_a_microphone_the_recorder_stays_ready_and_records(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, _feeder):
        await wait_for(pilot, lambda: app.voice._setup is not None and app.voice._setup.done(), 10, "the check")
        assert app.voice.mic_problem is None
        assert recorder.state is RecorderState.IDLE
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.state is RecorderState.RECORDING, 5, "recording")
        assert app.transcript.hint[0] == VOICE_HINT[0]


async def test_a_named_microphone_that_is_not_there_is_said_before_any_press(
    tmp_path: Path, simulator_url: str
) -> None:
    with FifoFeeder(tmp_path / "mic.fifo"), fake_alsa(tmp_path / "mic.fifo", None):
        settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, input_device="no-such-mic")
        app = RtApp(settings)
        async with app.run_test(size=(120, 40)) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: recorder.state is RecorderState.UNAVAILABLE, 10, "the recorder to say so")
            assert "no-such-mic" in recorder.message, recorder.message


async def test_with_the_servers_turns_kept_and_no_microphone_the_hint_says_there_is_none(
    tmp_path: Path, simulator_url: str
) -> None:
    """The server kept its VAD (the update was rejected): its hint said "press space to listen",
    though there was nothing to listen with."""
    with no_sound_card(tmp_path):
        app = kept_vad_app(simulator_url)
        async with app.run_test(size=(120, 40)) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: app.facts.last_update_rejected, 10, "the update to be rejected")
            await wait_for(pilot, lambda: recorder.kept == "server VAD", 5, "the recorder to follow the server")
            await wait_for(pilot, lambda: recorder.state is RecorderState.UNAVAILABLE, 10, "the recorder to say so")
            await wait_for(
                pilot, lambda: app.transcript.hint[0].startswith("No microphone to record from"), 5, "the hint"
            )


@asynccontextmanager
async def ready_without_a_microphone(
    tmp_path: Path, url: str, size: tuple[int, int]
) -> AsyncIterator[tuple[RtApp, Pilot[None], Recorder]]:
    """The app on a machine with no sound card, once its recorder says so and its session is open."""
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=size) as pilot:
            recorder = app.query_one(Recorder)
            await wait_for(pilot, lambda: recorder.state is RecorderState.UNAVAILABLE, 10, "the recorder to say so")
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            yield app, pilot, recorder


async def test_without_a_microphone_the_reason_stays_through_a_reconnect(tmp_path: Path, simulator_url: str) -> None:
    """ctrl+r (a new session, its `session.updated` naming the turn mode again) emptied the recorder's
    line: "no microphone" stood beside a level meter and a clock, for a device that is not there."""
    async with ready_without_a_microphone(tmp_path, simulator_url, (120, 40)) as (app, pilot, recorder):
        line = recorder.render().plain
        assert "no input device" in line and "▕" not in line and "dB" not in line, line
        for _ in range(2):
            before = app.facts.session_id

            def renewed(old: str | None = before) -> bool:
                return session_ready(app) and app.facts.session_id != old

            await pilot.press("ctrl+r")
            await wait_for(pilot, renewed, 15, "ctrl+r")
            await pilot.pause()
            assert recorder.state is RecorderState.UNAVAILABLE
            line = recorder.render().plain
            assert "no input device" in line, line
            assert "▕" not in line and "dB" not in line and "00:00" not in line, line


class RecorderApp(App[None]):
    """The recorder line alone."""

    def compose(self) -> ComposeResult:
        yield Recorder()


@asynccontextmanager
async def recorder_saying(
    state: RecorderState, message: str, width: int
) -> AsyncIterator[tuple[Pilot[None], Recorder]]:
    """The recorder line alone, `width` columns wide, in `state` with `message`."""
    app = RecorderApp()
    async with app.run_test(size=(width, 3)) as pilot:
        recorder = app.query_one(Recorder)
        recorder.state, recorder.message = state, message
        await pilot.pause()
        yield pilot, recorder


async def test_a_reason_longer_than_the_line_ends_with_an_ellipsis() -> None:
    """At 100 columns the reason was cut mid-word with nothing to say there was more."""
    said = "microphone unavailable: no input device found (PortAudio sees 0 devices)"
    async with recorder_saying(RecorderState.UNAVAILABLE, said, 60) as (_pilot, recorder):
        line = recorder.render_lines(Region(0, 0, 60, 1))[0].text.rstrip()
        assert line.startswith(" × no microphone") and line.endswith("…") and "▕" not in line, line


async def test_without_a_microphone_space_and_v_dim_and_give_way_to_type_on_a_narrow_footer(
    tmp_path: Path, simulator_url: str
) -> None:
    """At 80x24 with no microphone the footer kept `space Talk v Hands-free`, the two keys that could
    not work, and left out `t Type`, the one way left to talk (review 56b). They show dimmed now,
    leave a narrow footer first, and a press still looks for a microphone, its notice naming t."""
    async with ready_without_a_microphone(tmp_path, simulator_url, (80, 24)) as (app, pilot, recorder):
        app.event_log.focus()
        await pilot.press("up")  # a frame selected: the log's own keys want the room too
        await pilot.pause()
        bindings = app.screen.active_bindings
        assert not bindings["space"].enabled and not bindings["v"].enabled
        footer = app.query_one(KeyFooter).render().plain
        assert "t Type" in footer and "q Quit" in footer, footer
        await press_voice(pilot, "space")  # still tried: a microphone may have been plugged in since
        await wait_for(
            pilot,
            lambda: any(title == "Recorder" and "t types a message" in text for title, text in notices(app)),
            5,
            "the notice naming t",
        )
        assert recorder.state is RecorderState.UNAVAILABLE


async def test_a_session_that_never_opened_says_there_is_no_microphone_without_a_meter(tmp_path: Path) -> None:
    """With the server unreachable, the recorder showed `× disconnected  00:00.0 ▕░░░░▏ -60 dB` on a
    machine with no microphone (review 56b): a disconnected recorder has nothing to measure."""
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=f"ws://127.0.0.1:{free_port()}", playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            recorder = app.query_one(Recorder)

            def said() -> bool:
                return app.voice.mic_problem is not None and recorder.state is RecorderState.DISCONNECTED

            await wait_for(pilot, said, 15, "no microphone, no session")
            line = recorder.render().plain
            assert line.startswith("× disconnected, no microphone"), line
            assert "▕" not in line and "dB" not in line and "00:00" not in line, line


async def test_a_refused_session_without_a_microphone_says_both_and_how_to_go_on(tmp_path: Path) -> None:
    """A refused session (no key) left the recorder at `× no microphone … microphone unavailable: …`
    and the transcript said `then space talks` on a machine with no microphone (review 56e)."""
    from tui.server.testing import realtime_simulator

    with no_sound_card(tmp_path):
        # Built at run time: no literal in the tree looks like an API key (the secrets scan).
        async with realtime_simulator(api_key="-".join(("needs", "a", "key", "0" * 20))) as sim:
            app = RtApp(Settings(target=TargetChoice.URL, url=sim.url_for(), playback=False))
            async with app.run_test(size=(120, 40)) as pilot:
                recorder = app.query_one(Recorder)

                def said() -> bool:
                    # The recorder's line follows the session's end on the views' next tick: waited for
                    # too (under load the test read it a tick early).
                    ended = app.facts.ended and recorder.state is RecorderState.DISCONNECTED
                    return ended and app.voice.mic_problem is not None and bool(app.transcript.hint)

                await wait_for(pilot, said, 15, "the refusal, and no microphone")
                await pilot.pause()
                line = recorder.render().plain
                assert line.startswith("× disconnected, no microphone") and line.endswith("ctrl+r: reconnect"), line
                assert "t types a message (no microphone)" in app.transcript.hint[0], app.transcript.hint
                assert "space talks" not in app.transcript.hint[0]


async def test_a_microphone_check_that_ends_after_the_session_says_both() -> None:
    """The check for a microphone may end after the session has (a refused key answers fast): its
    failure set `× no microphone … microphone unavailable: …` over `disconnected`, and nothing set it
    back (make check, under load). The session's end is said with it."""
    app = RtApp(Settings(target=TargetChoice.URL, url=f"ws://127.0.0.1:{free_port()}", playback=False))
    async with app.run_test(size=(120, 40)) as pilot:
        recorder = app.query_one(Recorder)
        await wait_for(pilot, lambda: app.facts.ended, 15, "the refused connection")
        app.voice.mic_problem = "no input device (PortAudio sees none)"
        app._voice_failed("microphone unavailable: no input device (PortAudio sees none)")
        await pilot.pause()
        line = recorder.render().plain
        assert recorder.state is RecorderState.DISCONNECTED, line
        assert line.startswith("× disconnected, no microphone") and line.endswith("ctrl+r: reconnect"), line
