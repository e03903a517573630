"""Pasting into the message input: every line kept, on one line; nothing a terminal would act on."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tui.app import RtApp
from tui.config import Settings
from tui.widgets.message_input import one_line


def test_lines_become_one_line_and_escape_sequences_go() -> None:
    assert one_line("first line\nsecond line\r\nthird\tline\n") == "first line second line third line"
    assert one_line("\x1b[31mred\x1b[0m text\x1b]52;c;aGk=\x07 end\x9b") == "red text end"
    assert one_line("\n\n") == ""
    assert one_line(" the word ") == " the word "  # review: pasted between two words, the spaces separate them


async def test_a_multi_line_paste_arrives_whole() -> None:
    """Tester: a paste of three lines sent "first line" only (Textual's Input keeps the first line
    and drops the rest without a word)."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        message = app.query_one("#message", Input)
        message.focus()
        await pilot.pause()
        message.post_message(events.Paste("first line\nsecond \x1b[31mred\x1b[0m line\nthird line"))
        await pilot.pause()
        assert message.value == "first line second red line third line"
