"""At 80x24 a lint finding's toast folds into a rejected session.update's toast (its title counts
it) instead of stacking under it: the two covered the log's title and first five rows (review 54a)."""

from __future__ import annotations

from tests.app_helpers import notices
from tui.app import RtApp
from tui.app.base import folded_count
from tui.config import Settings


def say_both(app: RtApp) -> None:
    """A rejected session.update's toast, then a finding's about the same update."""
    app.say("the server refused voice 'nobody'", title="session.update rejected", severity="error", timeout=15)
    app.say("a beta field in a GA session", title="Lint: dialect-mismatch", severity="error", fold=True)


async def test_a_finding_folds_into_the_rejected_update_s_toast_on_a_short_screen() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        say_both(app)
        await pilot.pause()
        shown = notices(app)
        assert len(shown) == 1, shown
        title, message = shown[0]
        assert title == "session.update rejected · +1 finding: ! lists them" and "nobody" in message
        app.clear_folded()  # `!` opens the findings: the merged toast goes with the others
        await pilot.pause()
        assert notices(app) == []


async def test_a_taller_screen_shows_both() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        say_both(app)
        await pilot.pause()
        assert [title for title, _ in notices(app)] == ["session.update rejected", "Lint: dialect-mismatch"]


def test_the_title_counts_what_it_folded_by_what_it_is() -> None:
    """ "Server error ×3 · +2 more" read as five errors where the two were its findings (review 58b)."""
    assert folded_count(["Lint: server-error"]) == "1 finding"
    assert folded_count(["Lint: server-error", "Lint: cancel-not-active"]) == "2 findings"
    assert folded_count(["Malformed frame", "Malformed frame"]) == "2 malformed frames"
    assert folded_count(["Server error"]) == "1 server error"
    assert folded_count(["Lint: server-error", "Malformed frame"]) == "2 notices"
