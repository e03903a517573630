"""The palette's Screenshot shows the screen as it is once the palette has closed (review 22: with
the Keys panel open, the panel was saved empty at 80×24: it was taken before the screen repainted)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.app_helpers import notices, screen_text, session_ready, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice


def svg_text(path: Path) -> str:
    """The text an SVG screenshot shows (its spans joined, entities decoded)."""
    spans = re.findall(r"<text[^>]*>(.*?)</text>", path.read_text())
    return "".join(html.unescape(span) for span in spans).replace("\xa0", " ")


async def test_a_screenshot_from_the_palette_shows_the_keys_panel_open_under_it(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("ctrl+p", *"keys")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Focus Next" in screen_text(app), 5, "the Keys panel")
        await pilot.press("ctrl+p", *"Screenshot")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(t == "Screenshot" for t, _ in notices(app)), 5, "the screenshot")
        [(_, said)] = [n for n in notices(app) if n[0] == "Screenshot"]
        shown = svg_text(Path(said.split(" to ", 1)[1]))
        # The panel's keys (the log's, focused) and the screen under it, not the palette's input.
        assert "Focus Next" in shown and "Details" in shown, shown
        assert "Events" in shown and "🔎" not in shown, shown
