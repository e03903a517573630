"""The colours of rt-tui's own text (event families, directions, badges, transcript roles), by theme.

They are written once, in Tokyo Night's colours, which read well on a dark theme; on a light theme
those pastels wash out against the background (a cyan `input_audio_buffer.append` on light grey),
so each is swapped for its Tokyo Night Day counterpart, the same hue darkened for a light page.
Styles name only foregrounds here: backgrounds come from the theme itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

NIGHT_TO_DAY = {
    "#7aa2f7": "#2e7de9",  # blue: session, info
    "#7dcfff": "#007197",  # cyan: input buffer, sent
    "#bb9af7": "#9854f1",  # purple: conversation
    "#e0af68": "#8c6c3e",  # yellow: transcription, warning
    "#9ece6a": "#587539",  # green: response, received
    "#f7768e": "#f52a65",  # red: error
    "#ff9e64": "#b15c00",  # orange: local facts
    "#737aa2": "#6172b0",  # muted: times, Δt, separators
}
"""Each dark-theme colour rt-tui uses, and the one a light theme shows instead."""

_HEX = re.compile("#[0-9a-fA-F]{6}")


@lru_cache(maxsize=512)
def themed(style: str, dark: bool) -> str:
    """`style` (a Rich style string in the dark theme's colours) for the theme in force: itself on a
    dark theme; on a light one with each of its colours swapped for the Day counterpart (a colour
    not in the table is kept)."""
    if dark or "#" not in style:
        return style
    return _HEX.sub(lambda match: NIGHT_TO_DAY.get(match.group().lower(), match.group()), style)
