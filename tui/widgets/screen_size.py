"""How tall a screen must be before the app spreads out: below it, bars close and notices take turns."""

from __future__ import annotations

from textual.screen import Screen

SHORT_SCREEN_ROWS = 30
"""Under this many rows a screen is short: at 80x24 the filter bar closes once its filter is applied
or left (its three rows are a seventh of the log), one information notice shows at a time, and
findings fold into one toast. One figure, so the bar and the notices change together."""


def short_screen(screen: Screen[object]) -> bool:
    """Whether `screen` has fewer than `SHORT_SCREEN_ROWS` rows."""
    return screen.size.height < SHORT_SCREEN_ROWS
