"""A resize counts each transcript block's rows from its text and wraps only the blocks shown.

Review round 21: a resize (or `z` giving the panes back their widths) wrapped every block of an
hour's transcript with Rich, twice: 1,800 renders, the screen held for a second. Rows are now
counted with Rich's own `divide_line` (`block_wrap.wrapped_rows`), and a block is wrapped when it
is shown. The count must be exactly Rich's, or rows would overlap: both oracles are here.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tests.test_transcript import TranscriptApp, history
from tui.widgets.block_wrap import wrapped_rows
from tui.widgets.transcript import NEAR_ROWS, Transcript

PIECES = ["a", "bb", "ccc ", " ", "  ", "\n", "日本語", "é", "🙂", "x" * 30, "-", "word "]


@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join), st.integers(1, 60))
def test_wrapped_rows_are_the_lines_rich_wraps_a_text_to(text: str, width: int) -> None:
    console = Console(width=200)
    lines = console.render_lines(Text(text), console.options.update_width(width), pad=False)
    assert wrapped_rows(text, width) == len(lines)


def test_a_text_with_a_tab_is_not_counted() -> None:
    assert wrapped_rows("a\tb", 10) is None  # tabs are expanded before wrapping


def varied(turns: int) -> list[object]:
    """Replies of every shape a row must be counted right for: long words, wide characters, line
    breaks, trailing spaces, emoji."""
    envs = history(turns)
    texts = ["日本語の文章 " * 9, "x" * 150, "two\n\nparagraphs  \n", "🙂 " * 40, "a " * 90, "tab\there"]
    for n, text in enumerate(texts):
        content = [{"type": "input_text", "text": text}]
        item = {"id": f"v{n}", "type": "message", "role": "user", "content": content}
        envs.append(received("conversation.item.added", item=item))
    return envs


async def test_a_resize_wraps_only_the_blocks_shown_and_counts_the_rest_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(varied(300))
        await pilot.pause()
        counted_at_resize = 0
        rows_at = transcript._rows_at

        def counting_rows_at(item_id: str, width: int) -> int:
            nonlocal counted_at_resize
            counted_at_resize += transcript._resizing  # counted by the resize itself, not its slices
            return rows_at(item_id, width)

        monkeypatch.setattr(transcript, "_rows_at", counting_rows_at)
        before = transcript.renders
        await pilot.resize_terminal(63, 30)
        await wait_for(pilot, lambda: not transcript._estimated, 10, "every row counted")
        assert 0 < counted_at_resize <= 2 * NEAR_ROWS  # the rows near the view (once or twice); the rest in slices
        assert transcript.renders - before < 40  # the blocks on screen (and a tab's), not 600+
        width = transcript._text_width()
        counted = dict(transcript._block_heights)
        for item_id in transcript._order:
            rendered = transcript._render_block(transcript._items[item_id], width)
            assert counted[item_id] == (width, len(rendered.strips)), item_id
        assert transcript._offsets[-1] + transcript._heights[-1] == transcript.virtual_size.height
        assert transcript.scroll_offset.y == transcript.max_scroll_y  # following: the end shown


async def test_a_row_in_view_stays_in_view_while_the_rest_is_counted() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(varied(300))
        await pilot.pause()
        assert transcript.select_item("a150")
        await pilot.pause()
        await pilot.resize_terminal(50, 30)
        await wait_for(pilot, lambda: not transcript._estimated, 10, "every row counted")
        top = transcript._offsets[transcript._positions["a150"]]
        assert transcript.scroll_offset.y <= top < transcript.scroll_offset.y + transcript.size.height
