"""Round 26, rt-tui walked as a new user in tmux at 160×48 and 80×24: what was wrong on screen.
The real app under `run_test()`, on the real simulator."""

from __future__ import annotations

from tests.app_helpers import session_ready, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice

URL_WARNING = "--url carries credentials (api-key=), visible to every user of this machine in the process list"


async def test_the_capture_fact_after_a_startup_warning_reads_00_000_not_a_time_that_goes_back(
    simulator_url: str,
) -> None:
    """`rt-tui --url 'ws://…?api-key=…'`: the warning is the log's first row, and the capture fact
    after it read 00:00.001 on epoch 0's clock, then the connecting fact 00:00.000: the time column
    went back. The capture fact belongs to its connection, at its 0, as it does without a warning."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, startup_warnings=(URL_WARNING,))
    app = RtApp(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await views_settled(pilot, app)
        journal = app.journal
        head = [journal[index] for index in range(3)]
        assert [frame.type for frame in head] == ["rt.warning", "rt.capture", "rt.connection"]
        times = [journal.since_connect(frame) for frame in head]
        assert times == [0.0, 0.0, 0.0], times
