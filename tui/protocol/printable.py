"""Text a terminal shows and never obeys.

Server strings (error messages, transcripts, event types, unknown fields) go on the screen, into
notices and to stdout. A control character among them is an instruction to the terminal: ESC
starts sequences that move the cursor, recolour, retitle the window or write the clipboard (OSC
52), and an unterminated one swallows what follows. Rich's text drops only a few (BEL, BS, VT, FF,
CR) and Textual paints the rest as given, so every server string is passed through `printable`
before it is shown: each control character becomes its visible symbol (ESC → ␛, BEL → ␇).

Bidirectional controls (the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069,
the marks U+200E, U+200F and U+061C) are instructions too: a terminal that lays out bidi text
would reorder what follows them, so a line could read other than it is ("Trojan Source"). They
have no control pictures and are shown by name instead: U+202E → ⟨U+202E⟩.
"""

from __future__ import annotations

import re

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
"""The bidi controls: ALM, LRM, RLM, LRE RLE PDF LRO RLO, LRI RLI FSI PDI (none `isprintable`)."""

_PICTURES: dict[int, int | str] = (
    {code: 0x2400 + code for code in range(0x20)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
    | {code: f"⟨U+{code:04X}⟩" for code in _BIDI}
)
"""C0 controls to their Unicode control pictures, DEL to ␡, C1 controls to the replacement mark,
bidi controls to their code point's name."""

_WORD_JOINERS = re.compile("(?<!\\S)\u200d+")
"""ZERO WIDTH JOINERs that open a word (at the start, or after a space or a line break): they join
nothing, and Rich (15) fails on them: cutting or wrapping such a word to a width raises
(ZeroDivisionError, IndexError), which a render of server text must never do. Shown by name, as the
bidi controls are; a joiner inside a word (an emoji sequence, 👩‍💻) is left alone."""

_SEPARATORS = (0x2028, 0x2029)
"""LINE SEPARATOR and PARAGRAPH SEPARATOR: line breaks to editors and pagers, left as they are by
terminals (and by `isprintable`'s fast path, which rejects them): a break, like a newline."""

_ONE_LINE = _PICTURES | {ord("\t"): " ", ord("\n"): " ", ord("\r"): " "} | dict.fromkeys(_SEPARATORS, " ")
_LINES = _PICTURES | {ord("\t"): "\t", ord("\n"): "\n", ord("\r"): None} | dict.fromkeys(_SEPARATORS, "\n")


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with every control character shown as a symbol instead of acting on the terminal.

    One line by default (tabs and line breaks become spaces); with `lines`, line breaks and tabs
    are kept (a transcript, a notice) and carriage returns dropped.
    """
    if text.isprintable():
        return text  # nearly every string: one C-level scan
    shown = text.translate(_LINES if lines else _ONE_LINE)
    if "\u200d" in shown:
        shown = _WORD_JOINERS.sub(lambda match: "⟨U+200D⟩" * len(match.group()), shown)
    return shown


def short_target(label: str) -> str:
    """A target's label fit for a status line or a separator row: a URL becomes its host and port
    (`ws://127.0.0.1:8799/v1/realtime?model=…&sim_drop_after=…` → `127.0.0.1:8799`), the path
    and query (already shown whole in the event log) left out, also inside a longer label (a
    proxied connection's `#1 127.0.0.1:52298 → ws://…`); any other label is kept."""
    if "://" not in label:
        return label
    return _URL.sub(lambda match: match["host"], label)


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^@/?#\s]*@)?(?P<host>[^/?#\s]+)[^\s]*", re.IGNORECASE)
"""A URL in a label: its scheme, any user info (never shown), its host and port, and the rest."""
