"""A filter's candidates from the journal's columns: never a frame fewer than the filter passes.

`Query.candidates` lets a sparse filter (an item's frames, the errors, a rare type) ask only the
frames the columns name; a candidate list that missed one frame would hide it from the log without
a word. Each test compares with asking every frame.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.journal_helpers import audio_b64, connecting, received, sent
from tui.journal import Journal, Links, Pipeline, Query
from tui.journal.query import CANDIDATE_LIMIT

QUERIES = [
    "item:item_3",
    'item:"item_3"',
    "item:item_*",
    "-item:item_3",
    "response:resp_2",
    "for:item_3",
    "for:resp_1",
    "error",
    "is:error dir:in",
    "is:linked",
    "type:response.done",
    "type:error | item:item_1",
    "type:response.done response.status!=completed",
    "item:item_2 kitchen",
    "(item:item_1 | error) -dir:out",
    "type:response.* dir:in",
    "-type:*.delta",
    "fam:transcription",
    "dir:out type:response.create",
    "kitchen",
    "response.status:failed",
    "seq:5",
    "seq:3.5",
    "for:item_2 | seq:4",
]


def asked_one_by_one(query: Query, journal: Journal, start: int = 0) -> list[int]:
    return [index for index in range(start, len(journal)) if query.match_index(index)]


def build(turns: list[tuple[int, bool, bool]]) -> Pipeline:
    """A session of `turns`: (audio deltas of the reply, whether a cancel with nothing active
    follows it, whether the user's transcription and the reply fail)."""
    pipeline = Pipeline()
    pipeline.add(Links(pipeline.journal))
    frames = [connecting(), received("session.created", session={"id": "sess_1", "type": "realtime"})]
    for number, (deltas, cancel, failed) in enumerate(turns):
        user, reply, response = f"item_{2 * number}", f"item_{2 * number + 1}", f"resp_{number}"
        frames += [
            sent("input_audio_buffer.append", audio=audio_b64(20)),
            sent("input_audio_buffer.commit"),
            received("input_audio_buffer.committed", item_id=user, previous_item_id=None),
            received("conversation.item.input_audio_transcription.failed", item_id=user, error={"message": "x"})
            if failed
            else received(
                "conversation.item.input_audio_transcription.completed", item_id=user, transcript="the kitchen"
            ),
            sent("response.create"),
            received("response.created", response={"id": response, "status": "in_progress"}),
            received("response.output_item.added", response_id=response, item={"id": reply, "type": "message"}),
        ]
        frames += [
            received("response.output_audio.delta", response_id=response, item_id=reply, delta=audio_b64(20))
            for _ in range(deltas)
        ]
        status = "failed" if failed else "completed"
        frames.append(received("response.done", response={"id": response, "status": status}))
        if cancel:
            event = sent("response.cancel")
            frames += [event, received("error", error={"code": "x", "event_id": event.data["event_id"]})]
    pipeline.ingest(frames)
    return pipeline


def links_of(pipeline: Pipeline) -> Links:
    return next(p for p in pipeline.projections if isinstance(p, Links))


@pytest.fixture(scope="module")
def hour_like() -> Pipeline:
    """Long replies: the deltas are most frames, the frames a sparse filter wants are few."""
    return build([(400, number % 3 == 0, number % 4 == 1) for number in range(12)])


@pytest.mark.parametrize("text", QUERIES)
def test_candidates_hold_every_frame_the_query_passes(hour_like: Pipeline, text: str) -> None:
    journal = hour_like.journal
    query = Query(text, journal, links_of(hour_like))
    passing = asked_one_by_one(query, journal)
    candidates = query.candidates(0, len(journal))
    if candidates is not None:
        assert candidates == sorted(set(candidates)), "ascending, once each"
        assert set(passing) <= set(candidates)
        assert all(0 <= index < len(journal) for index in candidates)


@pytest.mark.parametrize(
    "text",
    ["item:item_3", "for:item_3", "response:resp_2", "error", "is:linked", "type:response.done", "type:error dir:in"],
)
def test_a_sparse_query_narrows_to_a_few_frames(hour_like: Pipeline, text: str) -> None:
    journal = hour_like.journal
    candidates = Query(text, journal, links_of(hour_like)).candidates(0, len(journal))
    assert candidates is not None
    assert len(candidates) < len(journal) // 5


def test_a_dense_query_asks_every_frame(hour_like: Pipeline) -> None:
    # Every reply's audio: collecting their positions would be slower than asking each frame.
    journal = hour_like.journal
    assert Query("type:response.output_audio.delta", journal).candidates(0, len(journal)) is None
    assert Query("type:response.*", journal).candidates(0, len(journal)) is None
    # A negation of types is a set of types too: here the few frames between the deltas.
    others = Query("-type:*.delta", journal).candidates(0, len(journal))
    assert others is not None and len(others) < len(journal) // 5
    # A term no column answers (a word, a JSON path) leaves every frame to be asked.
    assert Query("kitchen", journal).candidates(0, len(journal)) is None
    assert Query("kitchen | item:item_2", journal).candidates(0, len(journal)) is None


def test_candidates_cover_only_the_range_asked(hour_like: Pipeline) -> None:
    journal = hour_like.journal
    query = Query("error", journal, links_of(hour_like))
    middle = len(journal) // 2
    candidates = query.candidates(middle, len(journal))
    assert candidates is not None and candidates and min(candidates) >= middle
    assert asked_one_by_one(query, journal, middle) == [i for i in candidates if query.match_index(i)]


def test_the_tail_scan_of_a_sparse_query_is_the_whole_view(hour_like: Pipeline) -> None:
    """`tail_matches` asks only the candidates: the view is whole at once, not built in slices."""
    from tui.journal import LogView

    journal = hour_like.journal
    links = links_of(hour_like)
    view = LogView(journal, links)
    query = Query("for:item_3", journal, links)
    start, found = view.tail_matches(query, wanted=5, deadline=float("inf"))
    assert start == 0
    assert found == asked_one_by_one(query, journal)
    assert len(found) > 5  # every match, not only a screen's worth: it cost next to nothing


def test_positions_stop_past_their_limit() -> None:
    journal = build([(CANDIDATE_LIMIT // 2 + 10, False, False), (CANDIDATE_LIMIT // 2 + 10, False, False)]).journal
    code = journal.type_codes["response.output_audio.delta"]
    assert journal.positions("type", [code], 0, len(journal), CANDIDATE_LIMIT) is None
    found = journal.positions("type", [code], 0, 100, CANDIDATE_LIMIT)
    assert found == [i for i in range(100) if journal.type_at(i) == "response.output_audio.delta"]


def test_ids_never_journaled_have_no_candidates(hour_like: Pipeline) -> None:
    journal = hour_like.journal
    assert journal.code_of("item_nowhere") is None
    assert Query("item:item_nowhere", journal).candidates(0, len(journal)) == []


@given(
    turns=st.lists(st.tuples(st.integers(0, 60), st.booleans(), st.booleans()), min_size=1, max_size=8),
    text=st.sampled_from(QUERIES),
    start_share=st.floats(0, 1),
)
def test_candidates_never_miss_a_frame(turns: list[tuple[int, bool, bool]], text: str, start_share: float) -> None:
    pipeline = build(turns)
    journal = pipeline.journal
    query = Query(text, journal, links_of(pipeline))
    start = int(start_share * len(journal))
    candidates = query.candidates(start, len(journal))
    if candidates is not None:
        passing = asked_one_by_one(query, journal, start)
        assert [i for i in candidates if query.match_index(i)] == passing


@given(
    frames=st.lists(
        st.tuples(
            st.sampled_from(["append", "audio", "transcript", "binary"]),
            st.sampled_from(["item_kitchen", "item_2", "item_3"]),
            st.sampled_from(["resp_kitchen", "resp_2"]),
        ),
        max_size=60,
    ),
    word=st.sampled_from(["kitchen", "item_2", "resp_2", "lights", "/item_[23]/", "input_audio"]),
)
def test_a_text_is_asked_once_per_audio_type_and_ids_and_finds_what_asking_each_frame_finds(
    frames: list[tuple[str, str, str]], word: str
) -> None:
    """Audio frames are searched by their type and ids (`search_text`): their answer is kept per
    type and ids, which must never give one frame another's answer."""
    from tui.journal import Finder, LogView
    from tui.protocol import Direction, Envelope, next_seq

    envelopes = []
    for kind, item, response in frames:
        if kind == "append":
            envelopes.append(sent("input_audio_buffer.append", audio=audio_b64(20)))
        elif kind == "audio":
            envelopes.append(
                received("response.output_audio.delta", response_id=response, item_id=item, delta=audio_b64(20))
            )
        elif kind == "transcript":
            envelopes.append(
                received(
                    "response.output_audio_transcript.delta", response_id=response, item_id=item, delta="the lights"
                )
            )
        else:
            data = {"type": "rt.binary", "item_id": item}
            envelopes.append(Envelope(next_seq(), Direction.IN, "rt.binary", data, "", 0.0, 0.0, b"kitchen lights"))
    pipeline = Pipeline()
    pipeline.ingest(envelopes)
    journal = pipeline.journal
    view = LogView(journal)
    view.catch_up()
    finder = Finder(word)
    expected = [i for i in view.indices if finder.pattern.search(journal.search_text(i))]
    assert finder.hits(view) == expected
    query = Query(word, journal)
    assert [i for i in range(len(journal)) if query.match_index(i)] == expected


def test_o_on_a_typed_message_keeps_its_candidates() -> None:
    """`o` on a typed message filters `for:ID | seq:N` (N: its create's number, which names no
    item): the seq term is found in its column, so the OR keeps its candidates (review round 21:
    it lost them, and the item's frames an hour back were scanned for frame by frame)."""
    from tui.journal import term

    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    create = sent("conversation.item.create", item=item)
    frames = [create, received("conversation.item.added", item={"id": "item_1", "type": "message"})]
    frames += [received("rate_limits.updated") for _ in range(5000)]
    pipeline.ingest(frames)
    journal = pipeline.journal
    query = Query(f"{term('for', 'item_1')} | seq:{create.seq}", journal, links)
    candidates = query.candidates(0, len(journal))
    assert candidates is not None and len(candidates) <= 3
    assert [i for i in candidates if query.match_index(i)] == asked_one_by_one(query, journal) == [0, 1]
