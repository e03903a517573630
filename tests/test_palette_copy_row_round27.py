"""The palette holds the transcript's `y` (copy the selected row's words), as it holds every action:
on an empty conversation it says so and copies nothing; on a selected reply it copies its words."""

from __future__ import annotations

from tests.app_helpers import reply_done, session_ready, typed_turn_done, wait_for
from tests.test_transcript_round22b import run_command
from tui.app import RtApp
from tui.config import Settings, TargetChoice


async def test_the_palette_copies_the_selected_transcript_row(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        run_command(app, "transcript: copy row")
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        assert any("the conversation is empty" in n.message for n in app._notifications)
        assert app.clipboard == ""
        await typed_turn_done(pilot, app, "hello there")
        await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
        app.transcript.focus()
        await pilot.press("up")  # the last row: the reply
        await pilot.pause()
        run_command(app, "transcript: copy row")
        reply = [i for i in app.conversation.ordered() if i.role == "assistant"][-1]
        await wait_for(pilot, lambda: app.clipboard != "", 5, "the copy")
        assert app.clipboard == reply.text.strip() and "hello there" in app.clipboard
