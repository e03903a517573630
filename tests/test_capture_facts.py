"""Every local fact the journal gets reaches the capture files too, once and in seq order: the
capture's own note, a microphone that cannot be opened, a reconnect by hand while connected, and a
reconnect on its own after the server went away and came back (published between two sessions)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.app_helpers import press_voice, session_ready, views_settled, wait_for
from tests.audio_helpers import no_sound_card
from tests.server_helpers import free_port
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.server import Simulator, SimulatorConfig
from tui.session.capture import read_capture
from tui.widgets import Recorder, RecorderState

DERIVED = "rt.client_error"
"""A projection's complaint about a frame: made again from the frames whenever they are read (a
replay of the capture too), so it is the journal's alone and never written to the capture."""


def first_seq(path: Path) -> int:
    """The seq of a capture file's first record."""
    return read_capture(path)[0].seq


async def test_every_local_fact_in_the_journal_is_in_the_capture_once_and_in_order(tmp_path: Path) -> None:
    port = free_port()
    config = SimulatorConfig(host="127.0.0.1", port=port)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    first_server = Simulator(config)
    await first_server.start()  # listening before the app starts: its first connect succeeds
    try:
        with no_sound_card(tmp_path):
            app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_for(pilot, lambda: session_ready(app), 15, "the first session")
                for _ in range(2):  # each press tries the microphone again, and notes it again
                    await press_voice(pilot, "space")
                    await wait_for(
                        pilot,
                        lambda: app.query_one(Recorder).state is RecorderState.UNAVAILABLE,
                        5,
                        "the recorder to report the missing device",
                    )
                    app.query_one(Recorder).state = RecorderState.IDLE
                first = app.facts.session_id
                await pilot.press("ctrl+r")  # while connected: the fact is the open session's
                await wait_for(pilot, lambda: session_ready(app) and app.facts.session_id != first, 15, "ctrl+r")
                second = app.facts.session_id
                await first_server.close()  # 1001 going away
                await wait_for(pilot, lambda: app.facts.ended, 10, "the app to see the server gone")
                async with Simulator(config):  # back: the app reconnects on its own, between sessions
                    await wait_for(
                        pilot, lambda: session_ready(app) and app.facts.session_id != second, 15, "the reconnect"
                    )
                    assert app.session is not None
                    await app.session.close()
                    await views_settled(pilot, app)
                    journaled = [(frame.seq, frame.type) for frame in app.journal if frame.type != DERIVED]
    finally:
        await first_server.close()  # idempotent: already closed unless the test failed first
    # The folders are named by the second they were made in: order them by their first record.
    files = sorted(Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/frames.jsonl"), key=first_seq)
    captured = [(env.seq, env.type) for path in files for env in read_capture(path)]
    assert len(files) == 3
    local = {seq: etype for seq, etype in journaled if etype.startswith("rt.")}
    assert [t for t in local.values() if t == "rt.audio"] == ["rt.audio", "rt.audio"]
    assert [t for t in local.values() if t == "rt.reconnect"] == ["rt.reconnect"] * 2
    assert sorted(captured) == captured  # in seq order, within each file and from one to the next
    assert captured == journaled  # every frame and fact, once
    # The reconnect on its own was published between two sessions: it heads the third file.
    third = read_capture(files[2])
    assert third[0].direction is Direction.LOCAL and third[0].type == "rt.reconnect"
