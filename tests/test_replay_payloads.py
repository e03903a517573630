"""A replay of a HAR, a log of your own or a pipe keeps every payload: it has no capture file to
read a dropped payload back from, so the detail view and the export would lose the audio of an
hour-long recording's first minutes. (A capture file is the store of its own payloads, read back as
a live session's are: tests/test_replay_file_store.py.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.journal import PayloadPolicy, store
from tui.replay import ReplayRequest, load

APPENDS = 40
CHUNK = 200_000
"""Bytes of PCM per append: 40 of them, base64, are 10.7 MB, past the default budget set below."""


def own_log(path: Path) -> list[str]:
    """A log of one event per line (no capture file behind it) whose audio outgrows the journal's
    default budget; returns each append's base64."""
    audios = [base64.b64encode(bytes([n]) * CHUNK).decode() for n in range(APPENDS)]
    lines = [json.dumps({"type": "input_audio_buffer.append", "audio": audio}) for audio in audios]
    lines.append(json.dumps({"type": "input_audio_buffer.commit"}))
    path.write_text("\n".join(lines) + "\n")
    return audios


async def test_a_replayed_log_keeps_the_audio_the_journal_would_drop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default budget, made small so that the test's audio outgrows it as an hour's would.
    monkeypatch.setattr(store, "PayloadPolicy", _small_budget)
    log = tmp_path / "mine.jsonl"
    audios = own_log(log)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(log)))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 30, "the replay")
        await views_settled(pilot, app)
        assert app.journal.payloads_dropped == 0
        out = tmp_path / "export.jsonl"
        app.export_frames(out, keep_audio=True)
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == APPENDS + 1, 30, "the export")
        first_play = app.journal
        await pilot.press("r")  # played again into fresh views: they keep every payload too
        again = lambda: app.journal is not first_play and app.player is not None and app.player.done.is_set()  # noqa: E731
        await wait_for(pilot, again, 30, "the replay again")
        await views_settled(pilot, app)
        assert len(app.journal) == len(first_play) and app.journal.payloads_dropped == 0
    exported = [json.loads(line)["frame"] for line in out.read_text().splitlines()]
    assert [frame.get("audio") for frame in exported[:APPENDS]] == audios


def _small_budget(**given: int) -> PayloadPolicy:
    """The journal's default policy with 1 MiB budgets (an explicit choice, as a replay's, stands)."""
    return PayloadPolicy(**{"large_budget_bytes": 1 << 20, "text_budget_bytes": 1 << 20, **given})


def test_a_large_recording_says_it_is_being_read_before_the_app_paints(tmp_path: Path) -> None:
    """An hour's capture takes seconds to read, on a screen that would stay blank: the terminal is
    told what is happening first (through a real pseudo-terminal, as a user's shell runs it)."""
    import os
    import pty
    import select
    import subprocess
    import sys

    from tui.replay_cmd import SAY_READING_BYTES

    log = tmp_path / "session-folder" / "frames.jsonl"  # given as its folder, as `replay FOLDER` takes it
    log.parent.mkdir()
    line = json.dumps({"type": "response.output_text.delta", "delta": "x" * 4000}) + "\n"
    log.write_text(line * (SAY_READING_BYTES // len(line) + 1))
    leader, follower = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    app = subprocess.Popen(
        [str(Path(sys.executable).parent / "rt-tui"), "replay", str(log.parent)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(follower)
    seen = b""
    try:
        while ALT_SCREEN not in seen:  # until the app takes the screen
            ready, _, _ = select.select([leader], [], [], 30)
            assert ready, f"nothing within 30 s: {seen[-300:]!r}"
            seen += os.read(leader, 65536)
    finally:
        app.kill()
        app.wait()
        os.close(leader)
    said = seen.find(f"rt-tui replay: reading {log} (".encode())
    assert 0 <= said < seen.index(ALT_SCREEN), seen[:300]


ALT_SCREEN = b"\x1b[?1049h"
"""What a full-screen app writes as it starts (the terminal's alternate screen)."""
