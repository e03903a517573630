"""`z` (zoom a pane) was only in the Keys panel: a user reading a two-pane log's cut summaries never
learnt of it. The footer shows it where there is room, and leaves it out first where there is not."""

from __future__ import annotations

import pytest

from tui.app import RtApp
from tui.config import Settings
from tui.widgets.key_footer import KeyFooter


@pytest.mark.parametrize(("width", "zoom"), [(80, False), (120, True), (160, True)])
async def test_the_footer_offers_zoom_where_it_fits_after_findings(width: int, zoom: bool) -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        footer = str(app.query_one(KeyFooter).render())
        assert "! Findings" in footer and "q Quit" in footer, footer
        assert ("z Zoom" in footer) is zoom, footer
        app.event_log.focus()
        await pilot.press("z")
        await pilot.pause()
        assert "z Both panes" in str(app.query_one(KeyFooter).render())  # the way back, at any width
