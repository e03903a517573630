"""Review 22b: the export dialog's ↓ ↓ in one terminal read (a burst, as tmux send-keys or a
held key gives): two presses must come back to 'keep audio'."""

from __future__ import annotations

from textual.widgets import RadioButton

from tests.test_export_round22b import export_dialog_over_audio
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app
from tui.widgets.export_dialog import AudioChoice

DOWN = "\x1b[B"


async def test_down_down_in_one_burst_comes_back_to_keep() -> None:
    app = filtered_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await export_dialog_over_audio(pilot, app)
        await pilot.pause()
        terminal_burst(app, DOWN + DOWN)
        for _ in range(10):
            await pilot.pause()
        keep, tag = app.screen.query_one("#keep", RadioButton), app.screen.query_one("#tag", RadioButton)
        choice = app.screen.query_one(AudioChoice)
        shown = "keep" if keep.value else "tag"
        assert (shown, choice.keep_audio) == ("keep", True), (shown, choice.keep_audio, keep.value, tag.value)
