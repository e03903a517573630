"""Review 22b: Ctrl+L while a filter's whole view is built in slices drops the build, but the filter
bar keeps saying '9 so far · filtering the rest of 178,653 frames… 1%' for good (the log: 0 of 0)."""

from __future__ import annotations

import pytest

from tests.app_helpers import wait_for
from tests.test_log_selection_round20 import long_journal
from tests.test_whole_view_wait_round22 import filtered_app, on_a_first_screen, slices_of
from tui.app import RtApp


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 200)


def bar_status(app: RtApp) -> str:
    return str(app.filter_bar.query_one(".query-bar--status").render())


async def test_clear_during_a_filters_build_ends_its_so_far_status() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await on_a_first_screen(pilot, app)
        await wait_for(pilot, lambda: "so far" in bar_status(app), 5, "the 'so far' status")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: app._building is None, 5, "the clear")
        for _ in range(10):
            await pilot.pause()
        assert "so far" not in bar_status(app), bar_status(app)


async def test_a_cleared_filter_s_view_says_so_far_while_it_is_built() -> None:
    """Clearing a filter over a long journal shows its newest frames first and builds the rest in
    slices: the pane's corner said `200 frames` meanwhile, as if that were all (review 58c)."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await on_a_first_screen(pilot, app)
        await wait_for(pilot, lambda: app._building is None, 30, "the filter's whole view")
        app.apply_filter("")
        assert app._building is not None and app._building.query is None  # the rest in slices
        total = f"{len(app.journal):,} frames"
        subtitle = str(app.event_log.border_subtitle)
        assert f"so far of {total}" in subtitle, subtitle
        await wait_for(pilot, lambda: app._building is None, 30, "the whole view")
        await pilot.pause()
        subtitle = str(app.event_log.border_subtitle)
        assert subtitle.startswith(total) and "so far" not in subtitle, subtitle


async def test_a_narrow_bar_keeps_the_way_back_whole_before_the_counts() -> None:
    """At 100 columns `56,000 of 60,000 frames · Esc in the log shows every frame` lost its "again"
    (review 58c): the way back is said whole, the counts being in the pane's corner."""
    app = filtered_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("-type:nothing.*", back="")  # as `i` applies its filter, with none before it
        await wait_for(pilot, lambda: app._building is None, 30, "the whole view")
        await pilot.pause()
        status = bar_status(app)
        room = app.filter_bar.query_one(".query-bar--status").content_size.width
        assert status.endswith("Esc in the log shows every frame again") and len(status) <= room, (status, room)
