"""The empty transcript's hint follows the session the server applied: it does not promise
transcripts when the server's session has transcription off (a rejected session.update kept its
defaults), nor say "Press space to talk" once the session is closed or was refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_helpers import screen_text, session_ready, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.server.testing import realtime_simulator

PROMISE = "fill in when the transcription lands"


def _shown(app: RtApp) -> str:
    return " ".join(screen_text(app).split())


@pytest.mark.usefixtures("microphone")
async def test_the_hint_does_not_promise_transcripts_the_server_will_not_make(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    settings = Settings(target=TargetChoice.URL, url=simulator_url, voice="nonexistent", playback=False)
    app = RtApp(settings)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.facts.last_update_rejected, 20, "the rejection")
        await views_settled(pilot, app)
        assert "no input transcription" in str(app.status_line.render())
        shown, hint = _shown(app), " ".join(app.transcript.hint)
        assert PROMISE not in hint and PROMISE not in shown, hint
        assert "Input transcription is off in the session the server applied" in hint, hint


@pytest.mark.usefixtures("microphone")
async def test_a_session_that_transcribes_still_promises_transcripts(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 20, "the session.update to be applied")
        await views_settled(pilot, app)
        hint = " ".join(app.transcript.hint)
        assert PROMISE in hint and "Press space to talk" in hint, hint


@pytest.mark.usefixtures("microphone")
async def test_a_refused_session_does_not_say_press_space_to_talk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RT_TUI_API_KEY", raising=False)
    async with realtime_simulator(api_key="sim-key-0123456789abcdef") as sim:  # and rt-tui sends none
        settings = Settings(target=TargetChoice.URL, url=sim.url + "?model=gpt-realtime", playback=False)
        app = RtApp(settings)
        async with app.run_test(size=(120, 32)) as pilot:
            await wait_for(pilot, lambda: app.facts.state == "failed", 20, "the refusal")
            await views_settled(pilot, app)
            shown, hint = _shown(app), " ".join(app.transcript.hint)
    assert "Press space to talk" not in hint and "Press space to talk" not in shown, hint
    assert "No session is open (the status line says why): ctrl+r opens a new one" in hint, hint
