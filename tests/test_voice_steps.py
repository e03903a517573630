"""The voice keys' steps run off the key handler: a microphone slow to open holds the recorder, not
the app's keys; presses made meanwhile take effect in order; a session that ends while the device
opens leaves no microphone open. The real app under `run_test()`, the real simulator, real PyAudio
through the fake ALSA microphone, whose opening is held at the device edge (a stuck driver)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_helpers import session_ready, views_settled, wait_for
from tests.test_voice_turns import sent, voice_app
from tui.app.live import SLOW_VOICE_STEP_SAID
from tui.app.serial_steps import SerialSteps
from tui.audio.capture import Microphone
from tui.widgets import RecorderState


class StuckOpen:
    """Holds every `Microphone.start` until `release()`, as a driver stuck opening the device does;
    keeps the microphones made, to check they were closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = threading.Event()
        self.opened: list[Microphone] = []
        real_start = Microphone.start

        def start(mic: Microphone, loop: asyncio.AbstractEventLoop | None = None) -> None:
            self.gate.wait(30)
            real_start(mic, loop)
            self.opened.append(mic)

        monkeypatch.setattr(Microphone, "start", start)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[StuckOpen]:
    held = StuckOpen(monkeypatch)
    yield held
    held.release()  # never leave a worker thread waiting


async def test_keys_go_on_while_the_microphone_is_slow_to_open_and_space_presses_keep_their_order(
    tmp_path: Path, simulator_url: str, stuck: StuckOpen
) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, _):
        clears = sent(app).count("input_audio_buffer.clear")
        await asyncio.wait_for(pilot.press("space"), 10)  # returns although the device is stuck
        await wait_for(pilot, lambda: recorder.message == SLOW_VOICE_STEP_SAID, 5, "the recorder to say it waits")
        assert recorder.state.value == "waiting" and "◌ waiting" in recorder.render().plain  # not "ready"
        await asyncio.wait_for(pilot.press("t"), 10)  # another key, answered meanwhile
        assert app.focused is app.query_one("#message")
        await pilot.press("escape")
        await asyncio.wait_for(pilot.press("space"), 10)  # the second press waits its turn
        assert not app.voice.recording and not stuck.opened
        stuck.release()
        await app.voice_steps.idle()
        # Both took effect, in order: the turn began (its clear), then ended too short (its clear).
        assert recorder.state is RecorderState.IDLE and recorder.message.startswith("not sent: "), recorder.message
        await wait_for(pilot, lambda: sent(app).count("input_audio_buffer.clear") == clears + 2, 5, "two clears")
        assert not app.voice.recording and stuck.opened[0]._stream is None  # the device was closed


async def test_a_session_that_ends_while_the_microphone_opens_leaves_it_closed(
    tmp_path: Path, simulator_url: str, stuck: StuckOpen
) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, _):
        await pilot.press("space")
        await pilot.press("ctrl+r")  # a new session while the device is still opening
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
        stuck.release()
        await app.voice_steps.idle()
        assert not app.voice.recording and stuck.opened[0]._stream is None
        assert recorder.state is not RecorderState.RECORDING
        assert recorder.message == "not recording: the session ended while the microphone was opening"
        await views_settled(pilot, app)
        assert "input_audio_buffer.append" not in sent(app, epoch=2)  # nothing streamed to the new one
        await pilot.press("space")  # the next press starts a turn on the new session
        await app.voice_steps.idle()
        assert app.voice.recording and recorder.state is RecorderState.RECORDING
        await pilot.press("space")
        await app.voice_steps.idle()


async def test_steps_run_one_at_a_time_in_order_and_a_failed_step_does_not_stop_the_next() -> None:
    events: list[str] = []
    errors: list[Exception] = []
    steps = SerialSteps("test-steps", errors.append)
    gate = asyncio.Event()

    async def first() -> None:
        events.append("first begins")
        await gate.wait()
        events.append("first ends")

    async def broken() -> None:
        events.append("broken")
        raise RuntimeError("a step's own handling failed")

    async def last() -> None:
        events.append("last")

    steps.add(first)
    steps.add(broken)
    done = steps.add(last)
    await asyncio.sleep(0)
    assert events == ["first begins"] and steps.busy
    gate.set()
    await done
    assert events == ["first begins", "first ends", "broken", "last"]
    assert [str(e) for e in errors] == ["a step's own handling failed"]
    await steps.idle()
    assert not steps.busy


async def test_closing_drops_waiting_steps_and_cancels_the_running_one() -> None:
    ran: list[str] = []
    steps = SerialSteps("test-steps", lambda exc: None)
    never = asyncio.Event()

    async def stuck_step() -> None:
        ran.append("stuck")
        await never.wait()

    async def after() -> None:
        ran.append("after")

    steps.add(stuck_step)
    waiting = steps.add(after)
    await asyncio.sleep(0)
    await steps.close()
    assert waiting.done() and ran == ["stuck"] and not steps.busy
    late = steps.add(after)  # after close: nothing runs
    assert late.done() and ran == ["stuck"]
