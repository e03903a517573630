"""Review 48: a find just typed said `wrapped to the top` (it starts at the selected frame: the
newest, while the log follows), and at 80 columns the note beside `n next · N previous · Esc ends
it` cut the line's end. Through the real app, its log fed as a session would feed it."""

from __future__ import annotations

from tests.app_helpers import wait_for
from tests.journal_helpers import connecting, received
from tui.app import RtApp
from tui.config import Settings


def status(app: RtApp) -> str:
    return str(app.find_bar.query_one(".query-bar--status").render())


async def test_a_find_just_typed_does_not_say_it_wrapped_and_n_past_the_end_fits_80_columns() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        frames = [received("session.updated", session={"id": "s", "instructions": "kitchen"}) for _ in range(3)]
        app.ingest_for_display([connecting(), *frames, received("session.updated", session={"id": "s"})])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("up")  # the newest frame selected: a find starts there, past every match
        await pilot.press("slash", *"kitchen", "enter")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 3 matching frames"), 5, "the first match")
        assert "wrapped" not in status(app), status(app)
        await pilot.press("N")
        await wait_for(pilot, lambda: status(app).startswith("match 3 of 3"), 5, "the last match, wrapped round")
        assert status(app) == "match 3 of 3 matching frames · wrapped to the bottom · Esc ends it"
        bar = app.find_bar.query_one(".query-bar--status")
        assert len(status(app)) <= bar.content_region.width, (status(app), bar.content_region)
        await pilot.press("n")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 3"), 5, "the first match again")
        assert status(app) == "match 1 of 3 matching frames · wrapped to the top · Esc ends it"
        await pilot.press("n")
        await wait_for(pilot, lambda: status(app).startswith("match 2 of 3"), 5, "the second")
        assert status(app) == "match 2 of 3 matching frames · n next · N previous · Esc ends it"


async def test_at_100_columns_the_match_line_keeps_how_to_leave_the_find() -> None:
    """Beside the transcript at 100 columns the bar has ~54 cells: the line lost `ends it` (review
    54a); it now says the count shortly before it cuts anything."""
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        frames = [received("session.updated", session={"id": "s", "instructions": "kitchen"}) for _ in range(6)]
        app.ingest_for_display([connecting(), *frames])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("slash", *"kitchen", "enter")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 6"), 5, "the first match")
        bar = app.find_bar.query_one(".query-bar--status")
        assert bar.content_region.width < len("match 1 of 6 matching frames · n next · N previous · Esc ends it")
        assert status(app) == "match 1 of 6 · n next · N previous · Esc ends it"
