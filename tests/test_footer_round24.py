"""Space and v once no session is open and none opens on its own (refused, expired, the reconnect
gave up): the footer shows them dimmed, a press and the palette's commands say ctrl+r opens a new
session (not the log's "Select a frame first"); lit again once a session opens, and lit while rt-tui
reconnects on its own. The real app under `run_test()` against the real simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from tests.app_helpers import notices, press_voice, screen_text, session_ready, wait_for
from tests.server_helpers import speech_pcm24
from tests.test_voice_turns import QUESTION, speech_streamed, voice_app
from tui.app import RtApp, reconnect
from tui.config import Settings, TargetChoice
from tui.server import Simulator, SimulatorConfig
from tui.widgets import Recorder
from tui.widgets.key_footer import KeyFooter

NO_SESSION = "not connected: ctrl+r opens a new session"


def voice_keys(app: RtApp) -> dict[str, bool]:
    """Space's and v's state in the footer's line as rendered: key → lit (False: drawn dimmed)."""
    footer = app.query_one(KeyFooter)
    line: Text = footer.render()
    state: dict[str, bool] = {}
    for key in footer.keys:
        if key.key in ("space", "v"):
            styles = [line.get_style_at_offset(app.console, offset) for offset in range(key.start, key.end)]
            assert all(style.dim for style in styles) is (not key.enabled), (key, line.plain)
            state[key.key] = key.enabled
    return state


def palette_command(app: RtApp, title: str) -> None:
    """Run the palette's command of that title, as choosing it does (the palette calls it later)."""
    [command] = [c for c in app.get_system_commands(app.screen) if c.title == title]
    app.call_later(command.callback)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
@pytest.mark.usefixtures("microphone")
async def test_after_a_refused_session_space_and_v_are_dimmed_and_say_ctrl_r(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """A model the server does not know: error + close 4000, never retried."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    url = simulator_url.replace("model=gpt-realtime", "model=no-such-model")
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: voice_keys(app).get("space") is False, 15, "space to be dimmed")
        shown = voice_keys(app)
        assert "space Talk" in screen_text(app)
        if size[0] >= 160:
            assert shown == {"space": False, "v": False}, shown
        recorder = app.query_one(Recorder)
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: recorder.message == NO_SESSION, 5, "space's answer")
        recorder.message = ""
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.message == NO_SESSION, 5, "v's answer")
        for title in ("recorder: talk / send", "recorder: hands-free on/off"):
            recorder.message = ""
            palette_command(app, title)
            await wait_for(pilot, lambda: recorder.message == NO_SESSION, 5, f"{title}'s answer")
            assert not any("Select a frame first" in message for _, message in notices(app)), notices(app)


@pytest.mark.usefixtures("microphone")  # without one, space and v are dimmed for that (test_mic_check)
async def test_an_expired_session_dims_space_until_ctrl_r_opens_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    async with Simulator(SimulatorConfig(host="127.0.0.1", port=0)) as sim:
        url = f"{sim.url}?model=gpt-realtime&sim_session_seconds=2"
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 32)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 15, "the session")
            assert voice_keys(app) == {"space": True, "v": True}
            await wait_for(pilot, lambda: app.facts.ended, 10, "the expiry")
            await wait_for(pilot, lambda: voice_keys(app) == {"space": False, "v": False}, 5, "dimmed keys")
            # A press and a message meanwhile: each says "not connected", true until a session opens.
            await press_voice(pilot, "space")
            await pilot.press("t", *"hello?", "enter", "escape")
            said = [message for _, message in notices(app)]
            # The message says how to get a session: the footer has no ctrl+r, and the palette's
            # "new session" was not found by "reconnect".
            sent = "not connected: the message was not sent (it stays in the input); ctrl+r opens a new session"
            assert NO_SESSION in said and sent in said, said
            assert "session: new session (reconnect)" in [c.title for c in app.get_system_commands(app.screen)]
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch == 2, 15, "the new session")
            assert voice_keys(app) == {"space": True, "v": True}
            # They stayed up beside "● open" until their timeout.
            await wait_for(pilot, lambda: not any("not connected" in m for _, m in notices(app)), 2, "them to go")


@pytest.mark.usefixtures("microphone")
async def test_space_stays_lit_while_rt_tui_reconnects_and_dims_when_it_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(reconnect, "GIVE_UP_SECONDS", 2.0)
    sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0))
    await sim.start()
    app = RtApp(Settings(target=TargetChoice.URL, url=sim.url + "?model=gpt-realtime", playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 20, "the session")
        await sim.close()
        await wait_for(pilot, lambda: "reconnects" in app.transcript.hint[0], 10, "the reconnecting hint")
        assert voice_keys(app) == {"space": True, "v": True}  # the press says to wait: not dimmed
        await wait_for(pilot, lambda: "ctrl+r opens a new one" in app.transcript.hint[0], 20, "the give-up")
        await wait_for(pilot, lambda: voice_keys(app) == {"space": False, "v": False}, 5, "dimmed keys")


async def test_the_palette_s_talk_sends_the_turn_being_recorded(tmp_path: Path, simulator_url: str) -> None:
    """While a turn is recorded space's binding is `talk_send`: the palette's "recorder: talk / send"
    (the action `talk`) must still be there, to send it."""
    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: app.voice.recording, 5, "the turn to start")
        feeder.play(speech_pcm24(QUESTION))
        # Half a second of it, heard: at 10 appends (0.2 s) a loaded machine sent the turn before
        # speech reached it, and the turn was "not sent" as too short (a CI run failed so).
        await wait_for(pilot, lambda: speech_streamed(app, 25), 10, "some speech sent")
        palette_command(app, "recorder: talk / send")
        await wait_for(pilot, lambda: recorder.message.startswith("sent "), 10, "the turn sent")


@pytest.mark.usefixtures("microphone")
async def test_a_click_on_a_dimmed_key_says_why_it_cannot_act(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pressed, a dimmed key says why; clicked, it only rang the bell (Textual's footer does)."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    url = simulator_url.replace("model=gpt-realtime", "model=no-such-model")
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: voice_keys(app).get("space") is False, 15, "space to be dimmed")
        [space] = [key for key in app.query_one(KeyFooter).keys if key.key == "space"]
        await pilot.click(KeyFooter, offset=(space.start, 0))
        recorder = app.query_one(Recorder)
        await wait_for(pilot, lambda: recorder.message == NO_SESSION, 5, "the click's answer")


@pytest.mark.usefixtures("microphone")
async def test_with_no_reconnect_a_drop_dims_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-reconnect: a drop leaves the next session to ctrl+r, and the footer says so at once."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    sim = Simulator(SimulatorConfig(host="127.0.0.1", port=0))
    await sim.start()
    url = sim.url + "?model=gpt-realtime"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, reconnect=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 20, "the session")
        assert voice_keys(app) == {"space": True, "v": True}
        await sim.close()
        await wait_for(pilot, lambda: voice_keys(app) == {"space": False, "v": False}, 10, "dimmed keys")
