"""Review 22b: Ctrl+L while a filter's whole view is built in slices drops the build, but the filter
bar keeps saying '9 so far · filtering the rest of 178,653 frames… 1%' for good (the log: 0 of 0)."""

from __future__ import annotations

import pytest

from tests.app_helpers import wait_for
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
