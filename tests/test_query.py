"""The event-log filter language: each predicate form, and malformed queries as one-line errors."""

from __future__ import annotations

import pytest

from tests.journal_helpers import audio_b64, connecting, received, sent
from tui.journal import Journal, Links, Pipeline, Query, QueryError
from tui.protocol import local_envelope


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    pipeline = Pipeline()
    pipeline.add(Links(pipeline.journal))
    cancel = sent("response.cancel")
    pipeline.ingest(
        [
            connecting(),  # 0
            received("session.created", session={"id": "sess_1", "type": "realtime"}),  # 1
            sent("input_audio_buffer.append", audio=audio_b64(100)),  # 2
            sent("input_audio_buffer.commit"),  # 3
            received("input_audio_buffer.committed", item_id="item_abc", previous_item_id=None),  # 4
            received("conversation.item.input_audio_transcription.delta", item_id="item_abc", delta="turn on the"),  # 5
            received(
                "conversation.item.input_audio_transcription.completed",
                item_id="item_abc",
                transcript="turn on the kitchen lights",
            ),  # 6
            received("response.created", response={"id": "resp_1", "status": "in_progress"}),  # 7
            received(
                "response.output_audio.delta", response_id="resp_1", item_id="item_def", delta=audio_b64(200)
            ),  # 8
            received(
                "response.output_audio_transcript.delta", response_id="resp_1", item_id="item_def", delta="Sure"
            ),  # 9
            received("response.done", response={"id": "resp_1", "status": "completed", "usage": {"total_tokens": 42}}),
            cancel,  # 11
            received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]}),  # 12
            received("response.sparkles"),  # 13
            received("response.done", response={"id": "resp_2", "status": "incomplete"}),  # 14
            local_envelope("rt.connection", "connection closed by server (code 1006)", state="closed"),  # 15
        ]
    )
    return pipeline


def matching(pipeline: Pipeline, text: str) -> list[int]:
    links = next(p for p in pipeline.projections if isinstance(p, Links))
    query = Query(text, pipeline.journal, links)
    return [frame.index for frame in pipeline.journal if query.match(frame)]


PREDICATES = [
    ("", list(range(16))),
    ("type:response.*", [7, 8, 9, 10, 11, 13, 14]),
    ("type:response.* dir:in", [7, 8, 9, 10, 13, 14]),
    ("type:response", [7, 8, 9, 10, 11, 13, 14]),  # a bare prefix matches the dotted family
    ("type:conversation.item.input_audio_transcription.*", [5, 6]),
    ("-type:*.delta", [0, 1, 2, 3, 4, 6, 7, 10, 11, 12, 13, 14, 15]),
    ("type:*.delta", [5, 8, 9]),
    # The short spellings the log's type column shows are typed back as they read.
    ("type:c.i.input_audio_transcription.*", [5, 6]),
    ("type:i_a_buffer.*", [2, 3, 4]),
    ("type:i.committed", [4]),
    ("type:r.*", [7, 8, 9, 10, 11, 13, 14]),  # every response event, two segments or more
    ("type:r.o_a_transcript.delta", [9]),
    ("type:r.o_a_t.delta", [9]),  # a dozen-cell column's spelling (`r.o_a.delta` is the audio's)
    ("type:r.o_a.delta", [8]),
    ("type:…transcript.delta", [9]),  # cut from the left, as the column shows it: typed back as read
    ("type:r.output_audio*", [8, 9]),
    ("-type:r.* -type:c.*", [0, 1, 2, 3, 4, 12, 15]),
    ("dir:out", [2, 3, 11]),
    ("dir:sent", [2, 3, 11]),
    ("dir:local", [0, 15]),
    ("item:item_abc", [4, 5, 6]),
    ("item:item_*", [4, 5, 6, 8, 9]),
    ("response:resp_1", [7, 8, 9, 10]),
    ("item:item_def | response:resp_1", [7, 8, 9, 10]),
    ("item:item_abc OR item:item_def", [4, 5, 6, 8, 9]),
    ("type:response.* AND dir:in", [7, 8, 9, 10, 13, 14]),  # AND: what a space says
    ("NOT type:response.* dir:in", [1, 4, 5, 6, 12]),  # NOT: what `-` says
    ("NOT (dir:in OR dir:local)", [2, 3, 11]),
    ("response.status!=completed", [7, 14]),
    ("response.status:completed", [10]),
    ("response.usage.total_tokens>40", [10]),
    ("response.usage.total_tokens<40", []),
    ("error.code~cancel", [12]),
    ("error", [12, 14]),  # the error, and the incomplete response (linked to what began it)
    ("is:unknown", [13]),
    ("fam:transcription", [5, 6]),
    ("family:error", [12]),
    ("kitchen", [6]),
    ("KITCHEN lights", [6]),
    ('"the kitchen"', [6]),
    ("/kit.hen/", [6]),
    ("/KITCHEN/i", [6]),
    ("size>4k", [2, 8]),
    ("seq:0..1", []),
    ("event:" + "evt_none", []),
    ("(dir:out | dir:local) -type:input_audio_buffer.*", [0, 11, 15]),
    ("refused | closed", [15]),
    ("state:closed", [15]),
]


@pytest.mark.parametrize(("text", "expected"), PREDICATES)
def test_predicates(pipeline: Pipeline, text: str, expected: list[int]) -> None:
    assert matching(pipeline, text) == expected


@pytest.mark.parametrize(("text", "expected"), PREDICATES)
def test_candidates_from_the_columns_hold_every_match(pipeline: Pipeline, text: str, expected: list[int]) -> None:
    """Each form's candidates (where the journal's columns answer it) miss no frame it passes."""
    links = next(p for p in pipeline.projections if isinstance(p, Links))
    candidates = Query(text, pipeline.journal, links).candidates(0, len(pipeline.journal))
    if candidates is not None:
        assert set(expected) <= set(candidates)


def test_event_and_seq_predicates(pipeline: Pipeline) -> None:
    journal: Journal = pipeline.journal
    out = journal[11]
    assert out.event_id is not None
    assert matching(pipeline, f"event:{out.event_id}") == [11]
    received_id = journal.data(1)["event_id"]
    assert matching(pipeline, f"event:{received_id}") == [1]
    assert matching(pipeline, f"seq:{journal[3].seq}..{journal[4].seq}") == [3, 4]
    assert matching(pipeline, f"seq>{journal[14].seq}") == [15]
    assert matching(pipeline, "index:2") == [2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unclosed', "unclosed"),
        ("(type:error", "unclosed '('"),
        ("type:error)", "')' without '('"),
        ("type:", "needs a value"),
        ("dir:sideways", "expected in, out or local"),
        ("fam:xyz", "expected one of"),
        ("is:pink", "expected one of"),
        ("size>lots", "not a number"),
        ("size>4q", "unknown unit"),
        ("/[/", "bad regex"),
        ("/a/z", "unknown regex flag"),
        ("/abc", "unclosed /regex/"),
        ("type:a |", "'|' needs a term"),
        ("| type:a", "needs a term"),
        ("OR", "'OR' needs a term on both sides"),  # the word the user typed, not '|'
        ("type:a OR", "'OR' needs a term"),
        ("AND type:a", "'AND' needs a term on both sides"),
        ("type:a AND", "'AND' needs a term on both sides"),
        ("type:a AND | type:b", "'AND' needs a term"),
        ("NOT", "'NOT' must be followed by a term"),
        ("type:a NOT", "'NOT' must be followed by a term"),
        ("type:response.* (", "unclosed '('"),  # not "empty group": the group is not finished
        ("-", "'-' must be followed by a term"),
        ("type>3", "type takes"),
        ("error.code~(", "bad regex"),
        ("()", "empty group"),
        (")", "')' without '('"),  # was "empty group": there is no group
        (") type:a", "')' without '('"),
        ("type:a | )", "needs a term"),
        ("(type:a | ())", "empty group"),
        ("seq:200..100", "the range is backwards (did you mean seq:100..200?)"),
        ("size:4k..1k", "backwards"),
    ],
)
def test_malformed_queries_are_one_line_errors(pipeline: Pipeline, text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        Query(text, pipeline.journal)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_path_predicates_skip_frames_that_do_not_name_the_field(pipeline: Pipeline) -> None:
    journal = pipeline.journal
    query = Query("response.status:completed", journal)
    parsed: list[int] = []
    original = journal.data

    def counting(index: int) -> dict[str, object]:
        parsed.append(index)
        return original(index)

    journal.data = counting  # type: ignore[method-assign]
    try:
        assert [f.index for f in journal if query.match(f)] == [10]
    finally:
        del journal.data
    assert set(parsed) <= {7, 10, 14}  # only frames whose text says "status"


def test_the_short_type_spellings_are_the_log_s_own() -> None:
    """One function spells a type short for the log's column and for the filter."""
    from tui.journal.type_names import initials, short_forms
    from tui.widgets.log_format import abbreviate_type

    name = "response.output_audio_transcript.delta"
    assert short_forms(name) == ("r.output_audio_transcript.delta", "r.o_a_transcript.delta")
    assert abbreviate_type(name, 31) == "r.output_audio_transcript.delta"
    assert abbreviate_type(name, 30) == "r.o_a_transcript.delta"
    assert short_forms("session.created") == ("session.created", "session.created")
    assert initials("conversation.item.added") == "c.i.added"


@pytest.mark.parametrize("width", range(8, 40))
def test_every_spelling_a_type_column_shows_is_one_the_filter_takes(width: int) -> None:
    """What a user reads in the type column, at any width, typed into `type:` finds that frame (a
    name cut from the left, `…transcript.done`, found nothing)."""
    from tui.journal.type_names import initials, spellings
    from tui.widgets.log_format import abbreviate_type

    names = [
        "session.created",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "response.output_item.done",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "conversation.item.input_audio_transcription.completed",
        "response.cancel",
    ]
    for name in names:
        shown = abbreviate_type(name, width)
        assert len(shown) <= width
        assert shown.startswith("…") or shown in spellings(name), (name, width, shown)
        pipeline = Pipeline()
        pipeline.ingest([received(other) for other in names])
        query = Query(f"type:{shown}", pipeline.journal)
        found = [f.type for f in pipeline.journal if query.match(f)]
        # Initials (`r.o.delta`, the narrowest) and a cut from the left may stand for several;
        # every other form for one.
        alone = shown != initials(name) and not shown.startswith("…")
        assert found == [name] if alone else name in found, (width, shown, found)


def test_a_dozen_cells_still_tell_a_reply_s_frames_apart() -> None:
    """With the key panel open the log's type column is about a dozen cells: five different types
    read `…done`, and a reply's audio and transcript deltas both `…delta`."""
    from tui.widgets.log_format import abbreviate_type

    reply = [
        "response.output_item.done",
        "response.content_part.done",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.done",
        "conversation.item.done",
    ]
    shown = [abbreviate_type(name, 12) for name in reply]
    assert len(set(shown)) == len(shown), shown
    deltas = [
        abbreviate_type(name, 12) for name in ("response.output_audio.delta", "response.output_audio_transcript.delta")
    ]
    assert len(set(deltas)) == 2, deltas
    assert abbreviate_type("session.created", 12) == "s.created"  # was `…created`, as response.created read
    # `…item.added` read as conversation.item.added too, next to it (a reviewer, with F1's panel open).
    added = {abbreviate_type(name, 12) for name in ("response.output_item.added", "conversation.item.added")}
    assert len(added) == 2 and "…item.added" not in added, added


def test_a_short_form_initial_stands_for_its_family_only() -> None:
    """`type:r.*` is every response event: `rate_limits.updated` (whose initial is an r too) and a
    server's own `realtime.…` are no response events; their whole names still match."""
    pipeline = Pipeline()
    pipeline.add(Links(pipeline.journal))
    pipeline.ingest(
        [
            received("response.created", response={"id": "resp_1"}),  # 0
            received("rate_limits.updated", rate_limits=[]),  # 1
            received("realtime.custom.thing"),  # 2
            received("response.output_item.added", response_id="resp_1", item={"id": "item_1"}),  # 3
        ]
    )
    assert matching(pipeline, "type:r.*") == [0, 3]
    assert matching(pipeline, "type:r") == [0, 3]
    assert matching(pipeline, "type:r.updated") == []
    assert matching(pipeline, "type:rate_limits.*") == [1]
    assert matching(pipeline, "type:r_limits.updated") == [1]  # the word-initial spelling stays
    assert matching(pipeline, "type:realtime.*") == [2]
    assert matching(pipeline, "type:r.o_item.added") == [3]


@pytest.mark.parametrize("text", ["error and dir:in", "not error", "type:x or type:y"])
def test_an_operator_in_small_letters_is_a_word_and_a_query_that_finds_nothing_says_so(
    pipeline: Pipeline, text: str
) -> None:
    """`NOT error` searched the text for "not" (response_cancel_not_active holds it), `error AND
    dir:in` found nothing: only `OR` was an operator. Capitals now are; small letters stay words
    (a frame's text holds "not" and "or"), and the bar's hint for an empty view names the operators."""
    query = Query(text, pipeline.journal)
    word = next(w for w in text.split() if w in ("and", "not", "or"))
    assert query.suggestion == f"{word!r} is a word here; the operators are NOT, OR, AND, in capitals"
    assert Query(text.replace(word, word.upper()), pipeline.journal).suggestion is None
