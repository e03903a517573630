"""Terminal input: a bracketed paste reaches the app as one Paste event of text, never as keys.

Textual 8.2.8's `XTermParser`, inside a bracketed paste (`ESC[200~` ... `ESC[201~`), keeps only
the ESC of an escape sequence in the paste and re-issues the sequence, and up to ~32 characters
after it, as key presses (ESC as `^`, a line break as Enter) before the Paste event: pasting
colored output into the message input sent a message mid-paste, and pasting `x ESC q` into the log
quit the app. `PasteSafeParser` collects each paste up to its end marker and hands Textual's parser
the paste with its escape sequences left out, so nothing in a paste can look like a key.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.message import Message

from tui.widgets.message_input import ESCAPE_SEQUENCE


def without_escape_sequences(text: str) -> str:
    """`text` with its terminal escape sequences left out, whole, and any stray ESC too."""
    # A stray ESC before a lowercase letter is no sequence to the pattern (it keeps the word), but
    # an ESC that reached Textual's parser would still start one: it goes on its own.
    return ESCAPE_SEQUENCE.sub("", text).replace("\x1b", "")


class PasteSafeParser(XTermParser):
    """Textual's terminal parser, except that a bracketed paste reaches it without the escape
    sequences it held. The markers and the sequences may be split across reads of any size."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._paste: list[str] | None = None
        """The paste's reads so far while in a paste (its start marker already passed on)."""
        self._held = 0
        """How many characters `_paste` holds."""
        self._tail = ""
        """The last few characters seen: a marker may start in one read and end in the next."""

    def feed(self, data: str) -> Iterable[Message]:
        """Parse one read of the terminal; a paste's text is held until its end marker comes."""
        if not data:  # the end of input: Textual drops an unfinished paste, so does this
            return super().feed(data)
        out: list[str] = []
        while data:
            if self._paste is None:
                seen = self._tail + data
                at = seen.find(BRACKETED_PASTE_START)
                if at < 0:
                    out.append(data)
                    self._tail = seen[1 - len(BRACKETED_PASTE_START) :]
                    break
                # Textual's parser gets the start marker itself, so it is in its paste state too.
                cut = at + len(BRACKETED_PASTE_START) - len(self._tail)
                out.append(data[:cut])
                data, self._paste, self._held, self._tail = data[cut:], [], 0, ""
            else:
                seen = self._tail + data
                at = seen.find(BRACKETED_PASTE_END)
                if at < 0:
                    self._paste.append(data)
                    self._held += len(data)
                    self._tail = seen[1 - len(BRACKETED_PASTE_END) :]
                    break
                # Where the end marker starts in the paste's whole text (it may begin in a held read).
                end = self._held + at - len(self._tail)
                text = "".join(self._paste) + data
                out.append(without_escape_sequences(text[:end]) + BRACKETED_PASTE_END)
                data, self._paste, self._held, self._tail = text[end + len(BRACKETED_PASTE_END) :], None, 0, ""
        passed = "".join(out)
        # An empty feed would tell Textual's parser that the input has ended.
        return super().feed(passed) if passed else ()

    def tick(self) -> Iterable[Message]:
        """Textual's timeout check: an ESC left alone for the escape delay is the Escape key."""
        pending = self._timeout_time is not None
        messages = list(super().tick())
        if pending and self._timeout_time is None:
            # Textual's parser gave up on the sequence it was reading (it became keys), so an ESC
            # in `_tail` cannot start a paste marker with the next read any more: for it neither.
            self._tail = ""
        return messages


def install_paste_safe_parser() -> None:
    """Make the Linux terminal driver parse its input with `PasteSafeParser`.

    `LinuxDriver.run_input_thread` looks the name `XTermParser` up in its module when the app
    starts (Textual is pinned at 8.2.8; a test checks the lookup still happens), so replacing that
    module attribute is enough. The Windows driver (`win32.EventMonitor`) is left as it is.
    """
    from textual.drivers import linux_driver

    # The module imports the name without re-exporting it, so mypy does not know it is there.
    linux_driver.XTermParser = PasteSafeParser  # type: ignore[attr-defined]
