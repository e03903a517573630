"""A copy whose file the disk cannot hold says so in one notice (it was an error, then "copied"),
and a save that fails names the folder it was to go in (a full disk's error names no file)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.notifications import Notification

from tests.app_helpers import typed_turn_done, unfolded, wait_for
from tests.test_transcript_round22b import files_under, run_command
from tests.test_transcript_round27 import file_size_limit
from tui.app import RtApp
from tui.config import Settings, TargetChoice


async def notices_of_a_failed_write(simulator_url: str, command: str) -> tuple[list[Notification], str]:
    """After a typed turn, the palette's `command` run while no file may grow past 100 bytes: the
    notices it raised, and the clipboard."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await typed_turn_done(pilot, app, "hello there")
        app.clear_notifications()
        await pilot.pause()
        with file_size_limit(100):
            run_command(app, command)
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        return list(app._notifications), app.clipboard


async def test_a_copy_whose_file_fails_says_both_in_one_notice(simulator_url: str) -> None:
    data = Path(os.environ["RT_TUI_DATA_DIR"])
    said, clipboard = await notices_of_a_failed_write(simulator_url, "transcript: copy as Markdown")
    assert len(said) == 1, said
    [notice] = said
    assert notice.severity == "warning" and notice.title == "Copy", notice
    message = unfolded(notice.message)
    assert message.startswith("copied ") and "could not save transcript-" in message
    assert f" in {data / 'saved'}: " in message, message
    assert "hello there" in clipboard  # the copy went
    assert files_under(data) == []


async def test_a_failed_save_names_its_folder(simulator_url: str) -> None:
    data = Path(os.environ["RT_TUI_DATA_DIR"])
    [notice], _ = await notices_of_a_failed_write(simulator_url, "transcript: export JSON")
    message = unfolded(notice.message)
    assert notice.severity == "error" and f" in {data / 'saved'}: File too large" in message, message
