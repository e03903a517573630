"""The palette's transcript commands on an empty conversation say so and write nothing (review
22: "its frames" did nothing at all; copy and the exports wrote `# Conversation` or `[]` and said
"saved")."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.app_helpers import reply_done, session_ready, typed_turn_done, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.widgets import Transcript

COMMANDS = (
    "transcript: its frames",
    "transcript: copy as Markdown",
    "transcript: export Markdown",
    "transcript: export JSON",
)


def run_command(app: RtApp, title: str) -> None:
    """Choose a palette command, as the palette would."""
    [found] = [c for c in app.get_system_commands(app.screen) if c.title == title]
    found.callback()


def files_under(folder: Path) -> list[Path]:
    """Every transcript file written under `folder`."""
    return list(folder.rglob("transcript-*")) if folder.exists() else []


async def test_transcript_commands_on_an_empty_conversation_say_it_is_empty_and_write_nothing(
    simulator_url: str,
) -> None:
    data = Path(os.environ["RT_TUI_DATA_DIR"])
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        assert not [i for i in app.conversation.ordered() if i.role != "session"]
        filter_before = app.filter_bar.active
        for title in COMMANDS:
            app.clear_notifications()
            await pilot.pause()
            run_command(app, title)
            await wait_for(pilot, lambda: app._notifications, 5, f"a notice for {title}")
            said = [(n.title, n.message, n.severity) for n in app._notifications]
            assert len(said) == 1 and said[0][2] == "warning", (title, said)
            assert "the conversation is empty" in said[0][1], (title, said)
        assert files_under(data) == [] and app.clipboard == ""
        assert app.filter_bar.active == filter_before  # "its frames" filtered nothing

        # Once there is a conversation, they act as before.
        await typed_turn_done(pilot, app, "hello there")
        await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
        app.clear_notifications()
        run_command(app, "transcript: export JSON")
        await wait_for(pilot, lambda: files_under(data), 5, "the JSON file")
        [saved] = files_under(data)
        assert "hello there" in saved.read_text()
        # Dated as the log's exports are (`transcript-020117.json` had a time and no day).
        assert re.fullmatch(r"transcript-\d{8}-\d{6}\.json", saved.name), saved.name
        app.clear_notifications()
        await pilot.pause()
        run_command(app, "transcript: its frames")  # nothing selected now: it says how to select
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        [notice] = app._notifications
        # From the palette, ↑ in the log selected a frame (review 56b): the transcript takes the focus.
        expected = "Select a transcript row first: the transcript has the focus now; ↑ selects its last row."
        assert notice.message == expected
        assert app.focused is app.query_one(Transcript)


async def test_its_frames_from_the_palette_follows_the_log_s_selected_frame(simulator_url: str) -> None:
    """With a frame selected in the log (a find's match) and no transcript row, the palette's "its
    frames" said "Select a row first": it shows the frames of the item that frame names."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await typed_turn_done(pilot, app, "hello there kitchen")
        await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
        app.event_log.focus()
        await pilot.press("slash", *"kitchen", "enter")
        await wait_for(pilot, lambda: app.event_log.selected is not None, 10, "the match")
        selected = app.event_log.selected
        assert selected is not None and app.transcript.selected is None
        [user] = [item for item in app.conversation.ordered() if item.role == "user"]
        run_command(app, "transcript: its frames")
        await wait_for(pilot, lambda: app.filter_bar.active.startswith(f"for:{user.id}"), 10, "its frames")
        shown = {app.journal[index].type for index in app.log_view.indices}
        assert {"conversation.item.create", "conversation.item.added"} <= shown, shown
