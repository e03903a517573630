"""The app without a server: screenshots, the recorder's notes, the palette's commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.binding import Binding

from tests.app_helpers import notices
from tui.app import RtApp
from tui.app.commands import PALETTE
from tui.config import Settings
from tui.widgets import Recorder


async def test_the_screenshot_goes_to_the_data_folder_without_a_downloads_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_save_screenshot()
        await pilot.pause()
        saved = list(Path(os.environ["RT_TUI_DATA_DIR"]).glob("saved/*.svg"))
        assert len(saved) == 1 and saved[0].read_text().startswith("<svg")
        assert any(str(saved[0]) in message for _, message in notices(app))


async def test_switching_modes_clears_the_last_turns_note() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder = app.query_one(Recorder)
        recorder.message = "sent 4.2 s"
        recorder.mode = "hands-free"
        await pilot.pause()
        assert recorder.message == "" and "sent 4.2 s" not in str(recorder.render())


async def test_every_palette_command_names_a_real_action() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title, _, target in PALETTE:
            assert callable(app._resolve(target)), target
            assert title in titles
        bound = {binding.action.split("(")[0] for binding in RtApp.BINDINGS if isinstance(binding, Binding)}
        palette_actions = {target.rsplit(".", 1)[-1].removeprefix("action_") for _, _, target in PALETTE}
        # Every app key is in the palette too (quit and leave-input are Textual's own or trivial; the
        # replay and proxy keys join the palette in those modes).
        assert bound - palette_actions <= {"quit", "leave_input", "replay_pause", "replay_speed", "switch_session"}
