"""The event log's fast line rendering holds equal to the general path it replaced (round 18)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.widgets.event_log import _ellipsized
from tui.widgets.log_format import Piece, fit_segments, line_segments

BASE = Style.parse("#e0e0e0 on #1e1e1e")
CURSOR = Style.parse("#e0e0e0 on #614621")

TEXTS = st.text(
    # Printable ASCII, control codes (stripped: \x07 \x08 \x0b \x0c \x0d; kept at zero cells: \x1b \t),
    # wide CJK and emoji, combining marks, joiners and variation selectors, the log's own symbols.
    alphabet=st.sampled_from(
        [*"abc XYZ09.:_-+×", *"\x07\x08\x0b\x0c\x0d\x1b\t\x00", *"漢字テ", "😀", "👍", "🏽", "\u200d", "\ufe0f"]
        + [*"\u0301\u0308", *"…·←→━▲▼●▸▾│└✖⚠ℹ❤#é"]
    ),
    max_size=40,
)
PIECES = st.lists(st.tuples(TEXTS, st.sampled_from([None, "", "#737aa2", "bold #f7768e", "italic #ff9e64"])))


def general_strip(pieces: list[Piece], width: int, selected: bool) -> Strip:
    """What EventLog drew a line with before `fit_segments`: segments, the cursor's style over them,
    then the line cut with an ellipsis (`_ellipsized`) or padded to the pane's width."""
    segments = line_segments(pieces, BASE)
    if selected:
        segments = list(Segment.apply_style(segments, post_style=CURSOR))
    length = Segment.get_line_length(segments)
    if length > width:
        return Strip(_ellipsized(segments, width, BASE), width)
    return Strip(segments, length).crop_extend(0, width, BASE)


@settings(max_examples=1500, deadline=None)
@given(PIECES, st.integers(1, 200), st.booleans())
@example([("▼ ", "bold #9ece6a"), ("00:06.972 ", "#737aa2"), ("abcde\u0301f", None)], 17, False)
@example([("ab", None), ("漢字", "#737aa2"), ("cd", None)], 4, True)  # a wide character cut in two
@example([("abc", None), ("\x07", "#737aa2"), ("def", None)], 3, False)  # a piece stripped to nothing
@example([("abcd", None)], 1, False)  # the cut leaves nothing before the ellipsis
@example([("a#\ufe0fbcdef", None)], 3, False)  # a keycap after the cut widens the cell before it
def test_fit_segments_are_the_general_path_s_segments(pieces: list[Piece], width: int, selected: bool) -> None:
    """Same segments (text and style), same cell length, for any pieces and width."""
    expected = general_strip(pieces, width, selected)
    segments = fit_segments(pieces, width, BASE, CURSOR if selected else None)
    assert segments == list(expected)
    assert Strip(segments, width).cell_length == expected.cell_length == width
