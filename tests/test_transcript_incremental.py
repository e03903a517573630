"""A streaming reply's block grown in place (only the end of its body wrapped again) is row for row
the block a whole render gives: the oracle for `tui.widgets.block_wrap` and `Transcript._regrow`."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip

from tests.journal_helpers import received
from tests.test_transcript import TranscriptApp
from tui.conversation import Item, Origin, TextState
from tui.widgets import Transcript
from tui.widgets.palette import themed
from tui.widgets.transcript import _ROLE_STYLES, render_parts

WIDTHS = (1, 2, 5, 9, 13, 24, 49)

WORDS = st.sampled_from(["a", "the", "hello", "streaming", "reply,", "ok."])
FRAGMENTS = st.one_of(
    WORDS,
    WORDS.map(" {}".format),  # a delta as servers send them
    st.just("\t"),
    st.text(alphabet=" ", min_size=1, max_size=7),  # runs of spaces
    st.just("\n"),
    st.text(alphabet="abcdefghij", min_size=6, max_size=40),  # words longer than narrow lines
    st.sampled_from(["漢字", "日本語のテキスト", "👩\u200d💻", "❤\ufe0f", "\ufe0f", "\u200d", "\u200d\u200d"]),
    st.sampled_from(["e\u0301", "\u0301"]),  # a combining accent, on a letter or alone
    st.sampled_from(["🇫🇷", "\u3000", "\u2028", "\r", "\x1b[31m", "\u202e", "\u00a0", "\u200b"]),
    st.text(alphabet="ab \n\t\u200d漢\ufe0f", max_size=6),  # the awkward characters, mixed
)
"""Pieces of a reply's text: words, spaces, line breaks, long words, wide characters, joiners,
variation selectors, tabs, control and bidi characters (which `printable` shows by name), other
spaces and breaks."""


def whole_render(transcript: Transcript, item: Item, width: int) -> list[Strip]:
    """The block's rows as the transcript rendered them before blocks grew in place: the whole text
    wrapped by Rich, each row one Strip cropped and extended to the pane's width."""
    console = transcript.app.console
    dark = transcript.app.current_theme.dark
    # The head as the pane makes it for this width (its facts fitted: `_fitted_facts`), then the body.
    head, body = render_parts(item, buffer_audio=transcript.buffer_audio, dark=dark, width=width)
    text = head if body is None else Text.assemble(head, "\n", body)
    lines = console.render_lines(text, console.options.update_width(width), pad=False)
    bar_style = Style.parse(themed(_ROLE_STYLES.get(item.role, "#737aa2"), dark))
    if item.state is TextState.FAILED:
        bar_style = Style.parse(themed("#f7768e", dark))
    full, base = width + 3, transcript._look.get()[1]
    strips = [
        Strip(Segment.apply_style([Segment("┃ ", bar_style), *segments], style=base)).crop_extend(0, full, base)
        for segments in lines
    ]
    return [*strips, Strip.blank(full, base)]


def rows(strips: list[Strip]) -> list[tuple[list[tuple[str, Style | None]], int]]:
    """Every row's segments (text and style) and cell length: what the screen shows of it."""
    return [([(segment.text, segment.style) for segment in strip], strip.cell_length) for strip in strips]


def render(transcript: Transcript, item: Item, width: int) -> list[Strip]:
    """Render the item's block as a repaint does (its previous block, if cached, grown in place)."""
    return transcript._store(item.id, transcript._render_block(item, width)).strips


class PaneApp(App[None]):
    """The transcript pane alone."""

    def compose(self) -> ComposeResult:
        yield Transcript()


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[str], list[int], Origin]:
    """A reply's text at each delta, the width each is rendered at (one change of width, maybe
    back again), and where the reply comes from (out of band: its body is styled)."""
    fragments = draw(st.lists(FRAGMENTS, min_size=1, max_size=40))
    text = "".join(fragments)
    # Deltas mostly end where a fragment does (a word, a run of spaces: as servers send them), some
    # anywhere (inside a word, between a character and its joiner).
    ends = list(accumulate(map(len, fragments)))
    cuts = draw(st.lists(st.sampled_from(ends), max_size=25)) + draw(st.lists(st.integers(0, len(text)), max_size=5))
    cuts = sorted({*cuts, len(text)})
    first, second = draw(st.sampled_from(WIDTHS)), draw(st.sampled_from(WIDTHS))
    switch, back = sorted(draw(st.lists(st.integers(0, len(cuts)), min_size=2, max_size=2)))
    widths = [second if switch <= n < back else first for n in range(len(cuts))]
    origin = draw(st.sampled_from([Origin.RESPONSE, Origin.OUT_OF_BAND]))
    return [text[:cut] for cut in cuts], widths, origin


async def test_a_block_grown_delta_by_delta_is_the_block_a_whole_render_gives() -> None:
    """After every delta, at every width (down to one cell, and after the width changed), the rows
    are those the transcript's whole render made before blocks grew in place."""
    app = PaneApp()
    async with app.run_test(size=(80, 24)):
        transcript = app.query_one(Transcript)

        @settings(max_examples=400)
        @given(streams())
        # A fold cuts a long word with its trailing spaces: a wrap from the fold point would not.
        @example((["abcdef", "abcdef     ", "abcdef     x"], [5, 5, 5], Origin.RESPONSE))
        # Rich expands a tab by its column from the paragraph's start, before wrapping.
        @example((["a\tbb cc dd ee", "a\tbb cc dd ee ff"], [10, 10], Origin.RESPONSE))
        def check(stream: tuple[list[str], list[int], Origin]) -> None:
            texts, widths, origin = stream
            transcript._blocks.clear()
            item = Item(id="reply", role="assistant", origin=origin)
            for text, width in zip(texts, widths, strict=True):
                item.text = text
                assert rows(render(transcript, item, width)) == rows(whole_render(transcript, item, width)), (
                    text,
                    width,
                )
            item.state, item.status = TextState.DONE, "completed"  # the head changes: a whole render
            assert rows(render(transcript, item, widths[-1])) == rows(whole_render(transcript, item, widths[-1]))

        check()
        assert transcript.regrown > 0


async def test_a_plain_streaming_reply_grows_its_block_in_place() -> None:
    """The fast path runs: after the reply's first delta (a whole render, the row is new) every
    delta grows the block, through the pane's own repaints."""
    app = TranscriptApp()
    async with app.run_test(size=(60, 20)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed([received("response.output_audio_transcript.delta", item_id="a", response_id="r", delta="Hello")])
        await pilot.pause(0.1)
        renders, regrown = transcript.renders, transcript.regrown
        for n in range(30):
            delta = f" word{n}"
            app.feed([received("response.output_audio_transcript.delta", item_id="a", response_id="r", delta=delta)])
            await pilot.pause(0.1)  # past the repaint cap: each delta repaints
        assert transcript.renders - renders >= 20
        assert transcript.regrown - regrown == transcript.renders - renders
        width = transcript._text_width()
        block = transcript._blocks["a"]
        assert rows(block.strips) == rows(whole_render(transcript, transcript._items["a"], width))
        assert len(block.strips) > 4  # it wrapped onto new lines as it grew


async def test_a_reply_without_word_breaks_is_rendered_whole_not_re_wrapped_from_its_start() -> None:
    """Review: a Japanese paragraph is one folded "word", so the only restart is its start: wrapping
    it again after finding its line starts cost ~45% more than a whole render. Such a reply is
    rendered whole (and is still the whole render's rows)."""
    app = PaneApp()
    async with app.run_test(size=(80, 24)):
        transcript = app.query_one(Transcript)
        item = Item(id="ja", role="assistant")
        for n in range(1, 40):
            item.text = "今日は良い天気ですね。" * n
            if n == 10:  # from here the paragraph is longer than two lines' worth of characters
                regrown = transcript.regrown
            assert rows(render(transcript, item, 49)) == rows(whole_render(transcript, item, 49))
        assert transcript.regrown == regrown
        item.text += " and then some English words"  # rendered whole: what it grew from had no break
        render(transcript, item, 49)
        item.text += " more"  # now its end has word breaks: grown in place again
        assert rows(render(transcript, item, 49)) == rows(whole_render(transcript, item, 49))
        assert transcript.regrown == regrown + 1
