"""A replay of several captures a proxy made (one per client) numbers their connections as the
findings and the status line do. Each capture's connecting fact says which of the proxy's clients
it was (`connection 3`): right in the proxy, where each client has a log of its own, but in the
replay of the second and third clients' captures the log's first rows said `connection 2` and
`connection 3` beside the findings' `connection 1` and `connection 2`. The real `rt-tui proxy`
(headless, on its own simulator) in a child process, real clients, the real app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from websockets.asyncio.client import connect

from tests.app_helpers import wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Journal
from tui.replay import ReplayRequest, load_many
from tui.replay.sources import on_one_clock
from tui.widgets.log_format import connection_marker


def markers(journal: Journal) -> list[str]:
    return [marker for frame in journal if (marker := connection_marker(journal, frame))]


async def test_a_replay_of_proxied_captures_numbers_their_connections_itself(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, url = proxy_process
    for _ in range(3):
        async with connect(url + "?model=gpt-realtime") as client:
            await client.recv()
            await client.send(json.dumps({"type": "response.cancel"}))
            await client.recv()
    process.terminate()
    process.communicate(timeout=10)
    captures = sorted((tmp_path / "data").glob("sessions/*/frames.jsonl"), key=lambda path: path.stat().st_mtime)
    assert len(captures) == 3
    later = [str(path) for path in captures[1:]]  # the proxy's clients 2 and 3

    alone = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(load_many(later[:1])))
    async with alone.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: alone.player is not None and alone.player.done.is_set(), 20, "one file")
        await wait_for(pilot, lambda: bool(markers(alone.model.journal)), 5, "its connection")
        assert markers(alone.model.journal) == ["━━ connection 2 ━━"]  # one file: as the proxy named it

    recording = on_one_clock(load_many(later))
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 20, "the replay")
        await wait_for(pilot, lambda: app.model.journal.epoch == 2, 5, "both connections")
        assert markers(app.model.journal) == ["━━ connection 1 ━━", "━━ connection 2 ━━"]
        assert app.status_line.connection == 2  # the status line's count, as the log's now
        await pilot.press("r")  # played again: numbered the same way
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 20, "the second play")
        await wait_for(pilot, lambda: app.model.journal.epoch == 2, 5, "both connections again")
        assert markers(app.model.journal) == ["━━ connection 1 ━━", "━━ connection 2 ━━"]
