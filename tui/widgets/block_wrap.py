"""Wrapping again only the end of a text that grew at its end (a streaming reply), as Rich wraps it whole.

Rich (`Text.wrap`) wraps each paragraph (the text between newlines) on its
own, greedily, with `rich._wrap.divide_line` over words (`\\s*\\S+\\s*`: a word carries the spaces
after it; the first word also those before it), folding a word wider than the line. Text appended
to a paragraph changes only its last word (it grows: more characters, or more trailing spaces), so:

- every word before the last one is the same string at the same place, and `divide_line` reaches
  each of them in the same state: the lines before the last word are the lines of before;
- a line that starts a word (or the paragraph) starts it again after the append: the word did not
  fit the line before it, and a grown word fits no better; and `divide_line` over the text from that
  word on breaks where it breaks over the whole paragraph (it meets the same words, from an empty
  line either way).

A line that starts inside a folded word (a fold point) is no such place: the fold cuts the word
with its trailing spaces, which appended text can lengthen (a wrap from the fold point would not
cut them as the whole wrap does), so the wrap starts again at the last line that starts a word.
Tabs are expanded by column from the paragraph's start before wrapping, which moves the offsets
after them: a paragraph with a tab is never wrapped here (the caller renders the whole text).

Each line is then trimmed (`Text.rstrip_end`), cut to the width and rendered on its own, so a row
depends on its line's text alone. An appended character that changes how the one before it is
measured (after a zero-width joiner, a variation selector widening an emoji) changes only the last
word, which is always wrapped again. The text compared is the text shown (after `printable`), so
a change to anything before the end (its joiner rule, `strip`) is no growth: a whole render.

Nothing here renders: the caller renders the text from `Regrowth.start` with Rich and checks it
got `Regrowth.rows` rows; the oracle is tests/test_transcript_incremental.py, run against the Rich
installed. `divide_line` is Rich's own, not public (Rich is not pinned): were a release to move it,
every block would be rendered whole (`wraps_by_paragraph` says no), never wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import ConsoleOptions

divide_line: Callable[[str, int], list[int]] | None
try:
    from rich._wrap import divide_line
except ImportError:  # pragma: no cover - a Rich that moved it: whole renders only
    divide_line = None

_NOT_SPACE = re.compile(r"\S")
"""Not whitespace, as `divide_line`'s words see it (`\\S`: `\\s` is the characters `str.isspace` takes)."""


def wrapped_rows(text: str, width: int) -> int | None:
    """How many lines Rich wraps a plain `Text(text)` to at `width` (when `wraps_by_paragraph`: its
    paragraphs folded by `divide_line`, one line each at least), counted without rendering it; None
    with a tab in it (expanded before wrapping) or without `divide_line`. The oracle, Rich's own
    render, is tests/test_transcript_incremental.py."""
    if divide_line is None or "\t" in text:
        return None
    return sum(len(divide_line(paragraph, width)) + 1 for paragraph in text.split("\n"))


def wraps_by_paragraph(options: ConsoleOptions) -> bool:
    """Whether Rich renders a plain `Text` with `options` as `divide_line` wraps its paragraphs, line by
    line: folding long words, no justification that pads lines, no height that crops or pads."""
    return (
        divide_line is not None
        and options.height is None
        and not options.no_wrap
        and options.overflow in (None, "fold")
        and options.justify in (None, "default")
    )


@dataclass(frozen=True, slots=True)
class LastParagraph:
    """Where a text's last paragraph is among its rendered rows."""

    row: int
    """The row its first line is, among the block's rows."""
    starts: tuple[int, ...]
    """The text offset each of its lines starts at, the paragraph's start first."""


@dataclass(frozen=True, slots=True)
class Regrowth:
    """How to render a text that grew at its end: keep the first `keep` rows of its last render, then
    the rows of the text from offset `start` (`rows` of them)."""

    keep: int
    start: int
    rows: int
    last: LastParagraph
    """The grown text's last paragraph, for the next growth."""


_SPACE = re.compile(r"\s")


def worth_regrowing(text: str, width: int) -> bool:
    """Whether a text's end holds a word break within its last two lines' worth: without one (a
    paragraph of Chinese or Japanese, one long folded "word") the restart would be the paragraph's
    start, and wrapping it again costs more than rendering the whole text once."""
    start = len(text) - 2 * width
    return start <= text.rfind("\n") + 1 or _SPACE.search(text, start) is not None


def last_paragraph(text: str, width: int, rows: int) -> LastParagraph | None:
    """The last paragraph of `text` wrapped to `width`, whose lines are the last of `rows` rows; None
    when its line offsets cannot be known here (a tab), or the rows are too few to hold its lines."""
    starts = _line_starts(text, text.rfind("\n") + 1, len(text), width)
    if starts is None or len(starts) > rows:
        return None
    return LastParagraph(rows - len(starts), starts)


def regrow(last: LastParagraph, old: str, new: str, width: int) -> Regrowth | None:
    """How to render `new`, which is `old` with text appended, from `old`'s render at `width` (whose
    last paragraph is `last`); None when only a render of the whole text will do."""
    if not new.startswith(old):
        return None
    index = _restart(last, old)
    start = last.starts[index]
    keep = last.row + index
    row, position, prefix = keep, start, last.starts[:index]
    while True:  # the paragraphs from `start` on: the rest of the last one, then any the append began
        end = new.find("\n", position)
        starts = _line_starts(new, position, len(new) if end < 0 else end, width)
        if starts is None:
            return None
        if end < 0:
            break
        row, position, prefix = row + len(starts), end + 1, ()
    grown = LastParagraph(row - len(prefix), prefix + starts)
    return Regrowth(keep, start, row + len(starts) - keep, grown)


def _restart(last: LastParagraph, text: str) -> int:
    """The last of the paragraph's lines that starts a word or the paragraph (see the module's notes):
    wrapping from there breaks where wrapping the whole paragraph does."""
    first = last.starts[0]
    found = _NOT_SPACE.search(text, first)  # the first word starts at `first`, not at what follows its spaces
    leading = len(text) if found is None else found.start()
    for index in range(len(last.starts) - 1, 0, -1):
        at = last.starts[index]
        if leading < at < len(text) and text[at - 1].isspace() and not text[at].isspace():
            return index
    return 0


def _line_starts(text: str, start: int, end: int, width: int) -> tuple[int, ...] | None:
    """The offsets the lines of `text[start:end]`, one paragraph or the end of one from a line's
    start, begin at when wrapped to `width`; None with a tab in it (see the module's notes)."""
    paragraph = text[start:end]
    if "\t" in paragraph:
        return None
    assert divide_line is not None  # `wraps_by_paragraph` said so
    return (start, *(start + offset for offset in divide_line(paragraph, width)))
