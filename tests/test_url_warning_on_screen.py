"""`rt-tui --url URL` with a credential in the URL: the warning printed on stderr before the app
starts is said again on screen, where the full-screen view hid it until the user quit, and kept in
the log and the capture as a local fact; none of them holds the key. The real command line, the
real app under `run_test()`, the real simulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app_helpers import notices, session_ready, wait_for
from tests.secret_helpers import assert_no_leak, assert_no_leak_in_captures, new_test_key
from tests.test_secrets_round26 import url_with_key
from tui.config import Settings


async def test_the_app_says_on_screen_what_the_command_line_warned_of(
    simulator_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.app
    from tui.app import RtApp
    from tui.cli import run

    key = new_test_key()
    started: list[Settings] = []

    def run_app(settings: Settings) -> int:
        started.append(settings)
        return 0

    monkeypatch.setattr(tui.app, "run_app", run_app)
    monkeypatch.setattr("tui.stdout.terminal_problem", lambda instead: None)  # the app's terminal: replaced too
    assert run(["--url", url_with_key(simulator_url, "api-key", key), "--no-playback"]) == 0
    [warned] = [line for line in capsys.readouterr().err.splitlines() if "warning: --url" in line]
    [settings] = started
    assert settings.startup_warnings == (warned.removeprefix("rt-tui: warning: "),)

    app = RtApp(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        said = [message for title, message in notices(app) if title == "Warning"]
        assert said == [settings.startup_warnings[0]]
        facts = [app.journal.data(i).get("message") for i, f in enumerate(app.journal) if f.type == "rt.warning"]
        assert facts == [settings.startup_warnings[0]]
        assert_no_leak(" ".join(said), key, "the notice")
    texts = assert_no_leak_in_captures(Path(os.environ["RT_TUI_DATA_DIR"]), key)
    assert any('"type":"rt.warning"' in text and "--url carries credentials" in text for text in texts)


async def test_no_warning_without_credentials_in_the_url(simulator_url: str) -> None:
    from tui.app import RtApp
    from tui.config import TargetChoice

    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        assert not [message for title, message in notices(app) if title == "Warning"]
        assert not any(f.type == "rt.warning" for f in app.journal)
