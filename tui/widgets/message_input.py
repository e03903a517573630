"""The message input: one line, so a paste of several lines arrives whole, on one line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Input

ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (colors): up to its final byte, or all of it that came
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c\n\r]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS...: to its end
    r"|\x1b(?:[ -/]+[0-~]?|[0-?@-Z\\-_])"  # ESC ( B (tput sgr0), ESC 7, ESC M...: not a word after a stray ESC
)
"""A terminal escape sequence a pasted text may carry (colored output, a title), whole: one cut off
by the end of the paste, or by a line break for a string (OSC), goes too, not just its ESC (the
rest of it, `[31` or `(B`, is no text of the message)."""
_CONTROLS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)])


# The lookbehind starts a match only at a run's first blank: from every blank of a long run with no
# break after it, the match was tried again (quadratic: 40,000 pasted spaces froze the app 19 s).
_LINE_BREAKS = re.compile(r"(?<![ \t])[ \t]*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
"""A line break and the blanks around it (one space stands for them all)."""


def one_line(text: str) -> str:
    """`text` as one line of what it says: line breaks (and the blanks around them) and tabs as one
    space each, escape sequences and other control characters left out; the text's own first and
    last spaces kept (pasted between two words, they are what separates them)."""
    # Sequences first: one cut off by a line break ends there, not in the next line's words.
    bare = ESCAPE_SEQUENCE.sub("", text)
    return _LINE_BREAKS.sub(" ", bare.strip("\r\n")).replace("\t", " ").translate(_CONTROLS)


class InOrderInput(Input):
    """Textual's `Input`, except that its editing keys (`ctrl+u`, `ctrl+w`, `backspace`, the arrows,
    `home`, `end`, `enter`) act in the order they were typed, also in a burst of keys, and that the
    characters of a burst are typed in one go."""

    _typing: list[str] | None = None
    """Characters typed whose keys wait to be put in the value together (`_type_waiting`)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            # A character waits for those queued behind it, then all go in at once: a paste without
            # bracketed paste is one key per character, and each typed alone (the value rebuilt,
            # its watchers run) cost a millisecond: 30,000 characters held the screen and the
            # session's keepalive for minutes, and the server dropped the connection.
            self._restart_blink()
            event.stop()
            event.prevent_default()  # Input's handler would type it now
            assert event.character is not None
            if self._typing is None:
                self._typing = []
                self.call_later(self._type_waiting)  # behind the keys already in this input's queue
            self._typing.append(event.character)
            return
        self._type_waiting()  # any other key acts after the characters typed before it
        # Textual runs a widget's binding only once the key has bubbled up to the app, through each
        # parent's queue: the keys typed after it in the same burst (tmux send-keys, a busy app, a
        # paste without bracketed paste) were typed first. `ctrl+u` then `hello` left nothing,
        # `abc` backspace `d` left `abc`, `one` enter `two` sent `onetwo`. Run our own binding now.
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.node is not self or not active.enabled:
            return  # not ours (escape, tab, the app's keys): they bubble as usual
        event.prevent_default()  # Input's and Widget's handlers: the binding is the key's whole effect
        event.stop()  # and the app must not run it a second time
        await self.app.run_action(active.binding.action, self)

    def _type_waiting(self) -> None:
        """Put the characters waiting (`_typing`) in the value, as Input types one: over the
        selection, else at the cursor."""
        typed, self._typing = self._typing, None
        if typed:
            text = "".join(typed)
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)


class OneLineInput(InOrderInput):
    """`InOrderInput` whose paste keeps every line, on one line (Textual's keeps the first line and
    drops the rest without a word), without what a terminal would act on (`one_line`). The footer
    names `ctrl+q`: while it has the focus, the input types `q`, so the app's `q Quit` is gone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Textual's own ctrl+q is a priority binding hidden from the footer; a priority binding of
        # the focused widget's comes first in the footer's list (the key still runs the app's).
        Binding("ctrl+q", "app.quit", "Quit", id="input.quit", priority=True),
    ]

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Textual calls each class's handler: not Input's too
        self._type_waiting()  # what was typed before the paste goes before it
        text = one_line(event.text)
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()


class MessageInput(OneLineInput):
    """The message input: a paste keeps every line (Textual's keeps the first and drops the rest
    without a word) and leaves out what a terminal would act on; keys act in the order typed; a
    draft left with `Esc` is there to go on with when `t` comes back to it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Send", id="message.send")]
    """Input's own Enter (hidden from the footer), named: what Enter does here."""
    FOOTER_SHOWN: ClassVar[Mapping[str, str]] = {"leave-input": "Leave"}
    """The app's bindings (by id) the footer names while this input has the focus, under these words:
    Esc stays the app's binding, run on the app's own turn (a key typed right after it in a burst
    must reach the log, not this input), so it cannot be a binding of this widget's."""

    def _on_mount(self, event: events.Mount) -> None:
        # Input selects all its text when focused: the first key typed after `Esc` then `t`
        # replaced the draft, which had looked kept.
        self.select_on_focus = False

    async def action_submit(self) -> None:
        """Enter: hand the text over and empty the input at once, so the keys typed after Enter in
        the same burst start the next message (emptied later, by whoever took the text, they were
        sent with this one or lost). Whoever cannot use the text puts it back (see `restore`)."""
        value, self.value = self.value, ""
        self.post_message(self.Submitted(self, value, None))

    def restore(self, text: str) -> None:
        """Put back a submitted `text` that could not be sent, before whatever was typed since."""
        self.value = text + self.value
        self.cursor_position = len(self.value)

    def action_paste(self) -> None:
        """`ctrl+v`: the app's own clipboard (what `y` copied: a frame's pretty JSON), on one line
        as a terminal's paste is (Textual's inserted its line breaks into the one-line input)."""
        text = one_line(self.app.clipboard)
        if text:
            self.replace(text, *self.selection)
