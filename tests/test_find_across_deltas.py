"""A find matches a phrase the server streamed in several deltas, in the delta that completes it.

The service (and the simulator) stream a transcript word by word: `in the` and ` kitchen` are two
frames, and a find of "the kitchen" found only the `.done` frame that repeats the whole text, later
than where the phrase first appeared. The find now reads each stream's deltas in order as well.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.app_helpers import typed_turn_done, views_settled
from tests.journal_helpers import received
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Finder, LogView, Pipeline
from tui.journal.find import CARRY
from tui.journal.query import Query
from tui.protocol import Envelope
from tui.widgets import EventLog

TRANSCRIPT = "response.output_audio_transcript.delta"


def delta(text: str, item: str = "item_1", etype: str = TRANSCRIPT, **fields: Any) -> Envelope:
    return received(etype, **{"response_id": "resp_1", "item_id": item, "content_index": 0, "delta": text, **fields})


def view_of(frames: list[Envelope], query: str = "") -> LogView:
    pipeline = Pipeline()
    pipeline.ingest(frames)
    view = LogView(pipeline.journal)
    if query:
        view.query = Query(query, pipeline.journal)
    view.catch_up()
    return view


def test_a_phrase_split_between_deltas_is_found_in_the_delta_that_completes_it() -> None:
    frames = [
        delta("I left it"),
        delta(" in the"),
        delta(" kitchen"),
        delta(" today"),
        received(TRANSCRIPT.replace("delta", "done"), item_id="item_1", transcript="I left it in the kitchen today"),
    ]
    view = view_of(frames)
    finder = Finder("the kitchen")
    hits = finder.hits(view)
    assert hits == [2, 4]  # the completing delta, then the .done frame that holds it whole
    assert finder.across(2) == " kitchen"  # the part of the row the highlight covers
    assert finder.across(4) is None  # found in its own text


def test_a_word_cut_inside_a_delta_is_found_and_the_highlight_is_the_deltas_part() -> None:
    view = view_of([delta(" Moon"), delta("shine runs"), delta(" offline")])
    finder = Finder("moonshine")
    assert finder.hits(view) == [1]
    assert finder.across(1) == "shine"


def test_streams_do_not_run_into_each_other() -> None:
    """Another item's or another type's deltas are other streams, even when they interleave."""
    view = view_of(
        [
            delta(" the"),
            delta(" kitchen", item="item_2"),
            delta(" kitchen", etype="response.output_text.delta"),
            delta(" garden"),
        ]
    )
    finder = Finder("the kitchen")
    assert finder.hits(view) == []


def test_a_phrase_across_a_delta_the_filter_hides_is_still_found() -> None:
    """The stream's text is what the server sent: a delta the view leaves out still joins it."""
    frames = [delta(" the"), delta(" kitchen", tag="x")]
    view = view_of(frames, "tag:x")
    assert list(view.indices) == [1]
    assert Finder("the kitchen").hits(view) == [1]


def test_a_regex_across_deltas_and_a_match_wholly_in_one_delta_is_not_counted_twice() -> None:
    view = view_of([delta(" kit"), delta("chen and kitchen"), delta(" sink")])
    finder = Finder("/kit\\w+/")
    assert finder.hits(view) == [1]
    assert finder.across(1) == "chen"
    assert Finder("/kitchen s/").hits(view) == [2]


def test_the_text_a_match_may_begin_in_is_bounded() -> None:
    long_word = "x" * (CARRY + 10)
    view = view_of([delta(long_word), delta("y")])
    assert Finder("x" * (CARRY + 1) + "y").hits(view) == []  # begins more than CARRY characters back
    assert Finder("x" * CARRY + "y").hits(view) == [1]


def test_beta_names_and_transcription_deltas_are_streams_too() -> None:
    frames = [
        received("conversation.item.input_audio_transcription.delta", item_id="u", content_index=0, delta="turn the"),
        received("conversation.item.input_audio_transcription.delta", item_id="u", content_index=0, delta=" lights"),
        received("response.audio_transcript.delta", response_id="r", item_id="a", content_index=0, delta="dim"),
        received("response.audio_transcript.delta", response_id="r", item_id="a", content_index=0, delta="med"),
    ]
    view = view_of(frames)
    assert Finder("the lights").hits(view) == [1]
    assert Finder("dimmed").hits(view) == [3]


def test_malformed_deltas_are_skipped() -> None:
    view = view_of(
        [
            delta(" the", item=["not", "an", "id"]),  # type: ignore[arg-type]
            received(TRANSCRIPT, item_id="item_1", delta=None),
            received(TRANSCRIPT, item_id="item_1", delta={"text": "x"}),
            delta(" kitchen", item=["not", "an", "id"]),  # type: ignore[arg-type]
        ]
    )
    assert Finder("the kitchen").hits(view) == [3]  # the unhashable id reads as no id: one stream


@given(
    words=st.lists(st.sampled_from(["the", "kit", "chen", "kitchen", " ", "a"]), min_size=1, max_size=12),
    cuts=st.sets(st.integers(1, 60), max_size=8),
    slices=st.integers(1, 4),
)
def test_the_first_hit_is_the_delta_where_the_phrase_first_appeared(
    words: list[str], cuts: set[int], slices: int
) -> None:
    """Whatever the cuts and however many slices the search takes: the hits are exactly the deltas
    in which the stream's text so far first holds one more occurrence of the phrase."""
    text = "".join(words)
    bounds = [0, *sorted(c for c in cuts if c < len(text)), len(text)]
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    view = view_of([delta(piece) for piece in pieces])
    finder = Finder("kitchen")
    for _ in range(slices - 1):
        finder.advance(view, deadline=0.0)  # one step a call
    expected = []
    so_far = ""
    for index, piece in enumerate(pieces):
        before = so_far.lower().count("kitchen")
        so_far += piece
        if so_far.lower().count("kitchen") > before:
            expected.append(index)
    assert finder.hits(view) == expected


async def test_the_app_finds_a_phrase_the_simulator_streamed_word_by_word_and_marks_its_last_word(
    simulator_url: str,
) -> None:
    """In the real app against the real simulator (it streams a reply word by word): after the
    typed message that holds the phrase whole (and the server's echoes of it), `n` goes to the
    reply's delta that completes it
    (not to the `.done` frames after it), inside its run, opened, and that row marks the word."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        await views_settled(pilot, app)
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("slash", *"the kitchen lights", "enter")
        await pilot.pause()
        assert log.selected is not None and app.journal[log.selected].type == "conversation.item.create"
        echoes = {"conversation.item.added", "conversation.item.done", "conversation.item.created"}
        for _ in range(4):  # the server's echoes of the message come first
            await pilot.press("n")
            await pilot.pause()
            if log.selected is None or app.journal[log.selected].type not in echoes:
                break
        selected = log.selected
        assert selected is not None
        frame = app.journal[selected]
        assert frame.type == "response.output_audio_transcript.delta", frame.type
        assert "kitchen" not in app.journal.search_text(selected)  # found across deltas only
        line = app.log_view.locate(selected)
        assert line is not None and line.row.expanded and line.member >= 0
        assert log.finder is not None and log.finder.across(selected) == " lights"
        _, _, (_, match_style) = log._look.get()
        rows = [log.render_line(y) for y in range(log.size.height)]
        row = next(strip for strip in rows if "lights" in strip.text and "delta" in strip.text)
        marked = [segment.text for segment in row if segment.style and segment.style.bgcolor == match_style.bgcolor]
        assert "".join(marked).strip() == "lights", marked
