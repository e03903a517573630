"""What a replay saves (a copied frame, a screenshot) goes into a data folder the replay creates
private (0700), as the live app and the proxy create theirs: the README's promise for every folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.app_helpers import notices, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load

OWN_LOGGING = Path(__file__).parent / "golden" / "replay" / "own-logging.jsonl"


async def test_a_frame_copied_in_a_replay_lands_in_a_data_folder_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "missing" / "rt-tui"  # neither it nor its parent exists yet
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(data))
    old = os.umask(0o022)  # the usual umask of a desktop (restored below)
    try:
        app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(OWN_LOGGING)))
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            assert app.player is not None
            await wait_for(pilot, app.player.done.is_set, 10, "the replay")
            await views_settled(pilot, app)
            assert not data.exists()  # a replay writes nothing until asked
            await pilot.press("up", "y")  # select the last frame, copy it (a file beside the capture too)
            await wait_for(pilot, lambda: any(title == "Copy" for title, _ in notices(app)), 5, "the copy")
    finally:
        os.umask(old)
    for folder in (data.parent, data, data / "saved"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    [saved] = (data / "saved").iterdir()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
