"""Notices can be taken down from the keyboard: the palette's "notices: dismiss" (at 80×24 a few
of them cover half the log, and Textual's own way is a click on each). The real app under
`run_test()` against the real simulator."""

from __future__ import annotations

from tests.app_helpers import notices, session_ready, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice


async def test_the_palette_takes_down_every_notice(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        app.say("first", title="One", severity="warning", timeout=30)
        app.say("second", title="Two", severity="error", timeout=30)
        assert {"first", "second"} <= {message for _, message in notices(app)}
        [dismiss] = [c for c in app.get_system_commands(app.screen) if c.title == "notices: dismiss"]
        dismiss.callback()
        await pilot.pause()
        assert notices(app) == []
        app.say("after", title="Three", timeout=30)  # later ones show as before
        assert [message for _, message in notices(app)] == ["after"]
