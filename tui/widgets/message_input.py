"""The message input: one line, so a paste of several lines arrives whole, on one line."""

from __future__ import annotations

import re

from textual import events
from textual.widgets import Input

_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
"""A terminal escape sequence (CSI, OSC, or a two-byte one) a pasted text may carry (colored output)."""
_CONTROLS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)])


def one_line(text: str) -> str:
    """`text` as one line of what it says: line breaks and tabs as spaces, escape sequences and other
    control characters left out."""
    words = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return _ESCAPE_SEQUENCE.sub("", words).replace("\t", " ").translate(_CONTROLS)


class MessageInput(Input):
    """Textual's `Input`, except that a paste keeps every line (Textual's keeps the first and drops
    the rest without a word) and leaves out what a terminal would act on."""

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Textual calls each class's handler: not Input's too
        text = one_line(event.text)
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
