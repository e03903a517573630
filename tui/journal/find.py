"""Find in the event log: a word, a phrase or a /regex/ over the frames the view shows.

Searches the same text the filter's free words look in (the wire text, audio payloads left out),
so a word inside a collapsed run is found, and the caller expands the run to show it.
"""

from __future__ import annotations

import re

from .logview import LogView
from .query import QueryError, compile_pattern


class Finder:
    """A compiled search pattern over a view's frames."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if not self.text:
            raise QueryError("nothing to find")
        if len(self.text) >= 2 and self.text.startswith("/") and self.text.rfind("/") > 0:
            end = self.text.rfind("/")
            self.pattern = compile_pattern(self.text[1:end], self.text[end + 1 :] or "i")
        else:
            self.pattern = re.compile(re.escape(self.text), re.IGNORECASE)

    def matches(self, view: LogView, index: int) -> bool:
        """Whether journal frame `index` holds the pattern."""
        return self.pattern.search(view.journal.search_text(index)) is not None

    def find(self, view: LogView, after: int | None, *, forward: bool = True) -> int | None:
        """The journal index of the next (or previous) shown frame holding the pattern.

        `after` is the journal index to start from (None: the first or last shown frame);
        the search wraps around once.
        """
        indices = view.indices
        if not indices:
            return None
        if after is None:
            start = 0 if forward else len(indices) - 1
        else:
            position = view.next_shown(after, forward=forward)
            start = position if position is not None else (0 if forward else len(indices) - 1)
        count = len(indices)
        step = 1 if forward else -1
        for offset in range(count):
            index = indices[(start + step * offset) % count]
            if self.matches(view, index):
                return index
        return None

    def count(self, view: LogView) -> int:
        """How many shown frames hold the pattern."""
        return sum(1 for index in view.indices if self.matches(view, index))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the pattern occurs in a rendered line (for highlighting)."""
        return [(m.start(), m.end()) for m in self.pattern.finditer(text) if m.end() > m.start()]
