"""`n` and `N` on a find that matches nothing say so in the find bar, once: a toast for each press
stacked copies over the transcript and stayed up after a filter had answered the next question."""

from __future__ import annotations

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import received
from tui.app import RtApp
from tui.config import Settings


def find_status(app: RtApp) -> str:
    return str(app.find_bar.query_one(".query-bar--status").render())


async def test_n_on_a_find_without_a_match_says_so_in_the_bar_and_raises_no_toast() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.ingest([received("response.output_text.done", item_id=f"item_{n}", text="the kitchen") for n in range(20)])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("slash", *"zzzq", "enter")
        await wait_for(pilot, lambda: "is not in the" in find_status(app), 5, "the find's verdict")
        before = notices(app)
        await pilot.press("n", "n", "N", "n")
        await pilot.pause()
        assert notices(app) == before
        assert find_status(app) == "'zzzq' is not in the 20 frames shown"
        assert app.find_bar.display
        # A filter after it answers without a stale "not found" anywhere on screen.
        await pilot.press("escape", "f", *"kitchen", "enter")
        await pilot.pause()
        assert not any("zzzq" in message for _, message in notices(app))
