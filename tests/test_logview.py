"""The event log's view model: rows, collapsed runs that expand in place, filters, find."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.journal_helpers import audio_b64, connecting, received, response_stream, sent
from tui.journal import Finder, Journal, LogView, Pipeline, Query
from tui.protocol import Envelope, local_envelope


def view_of(envs: list[Envelope]) -> tuple[Pipeline, LogView]:
    pipeline = Pipeline()
    view = LogView(pipeline.journal)
    pipeline.ingest(envs)
    view.catch_up()
    return pipeline, view


def test_a_replys_audio_and_transcript_deltas_collapse_into_one_row() -> None:
    words = [f" word{i}" for i in range(30)]
    _, view = view_of(
        [
            received("response.created", response={"id": "resp_1"}),
            *response_stream("resp_1", "item_a", words),
            received("response.done", response={"id": "resp_1", "status": "completed"}),
        ]
    )
    assert [row.count for row in view.rows] == [1, 60, 1]
    assert view.line_count == 3


def test_rate_limits_in_the_middle_of_a_reply_do_not_split_its_run() -> None:
    _, view = view_of(
        [
            received("response.created", response={"id": "resp_1"}),
            *response_stream("resp_1", "item_a", [" a", " b"]),
            received("rate_limits.updated", rate_limits=[]),
            *response_stream("resp_1", "item_a", [" c", " d", " e"]),
            received("response.done", response={"id": "resp_1", "status": "completed"}),
        ]
    )
    assert [(view.journal[row.first].type, row.count) for row in view.rows] == [
        ("response.created", 1),
        ("response.output_audio.delta", 10),
        ("rate_limits.updated", 1),
        ("response.done", 1),
    ]


def test_a_device_note_in_the_middle_of_a_reply_does_not_split_its_run_a_wire_note_does() -> None:
    """The speaker opens on a reply's first audio delta and says so ("speaker: default"): that note
    split every session's first reply in two runs. A malformed frame between deltas still does."""
    _, view = view_of(
        [
            received("response.created", response={"id": "resp_1"}),
            *response_stream("resp_1", "item_a", [" a", " b"]),
            local_envelope("rt.audio", "speaker: default", notify=False),
            *response_stream("resp_1", "item_a", [" c", " d"]),
            local_envelope("rt.malformed", "a frame that is not JSON"),
            *response_stream("resp_1", "item_a", [" e"]),
            received("response.done", response={"id": "resp_1", "status": "completed"}),
        ]
    )
    assert [(view.journal[row.first].type, row.count) for row in view.rows] == [
        ("response.created", 1),
        ("response.output_audio.delta", 8),
        ("rt.audio", 1),
        ("rt.malformed", 1),
        ("response.output_audio.delta", 2),
        ("response.done", 1),
    ]


def test_interleaved_streams_stay_separate_collapsed_rows() -> None:
    envs: list[Envelope] = [received("response.created", response={"id": "resp_1"})]
    for i in range(10):  # hands-free: the mic keeps appending while the reply streams
        envs.append(sent("input_audio_buffer.append", audio=audio_b64(20)))
        envs += response_stream("resp_1", "item_a", [f" w{i}"])
        envs.append(received("conversation.item.input_audio_transcription.delta", item_id="item_u", delta="x"))
    envs.append(received("response.done", response={"id": "resp_1"}))
    _, view = view_of(envs)
    assert [(view.journal[row.first].type, row.count) for row in view.rows] == [
        ("response.created", 1),
        ("input_audio_buffer.append", 10),
        ("response.output_audio.delta", 20),
        ("conversation.item.input_audio_transcription.delta", 10),
        ("response.done", 1),
    ]


def test_a_run_expands_in_place_and_lines_map_back_to_frames() -> None:
    _, view = view_of(
        [
            received("response.created", response={"id": "resp_1"}),
            *response_stream("resp_1", "item_a", ["a", "b", "c"]),
            received("response.done", response={"id": "resp_1"}),
        ]
    )
    run = view.rows[1]
    view.set_expanded(run, True)
    assert view.line_count == 3 + 6
    lines = [view.line(y) for y in range(view.line_count)]
    assert [(line.row.position, line.member) for line in lines if line is not None] == [
        (0, -1),
        (1, -1),
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (2, -1),
    ]
    assert [line.frame_index for line in lines if line is not None] == [0, 1, 1, 2, 3, 4, 5, 6, 7]
    assert view.line_of(view.rows[2]) == 8
    assert view.line_of(run, 3) == 5
    assert view.line(9) is None
    view.set_expanded(run, False)
    assert view.line_count == 3


def test_a_growing_expanded_run_keeps_later_lines_right() -> None:
    pipeline, view = view_of([received("response.created", response={"id": "r"}), *response_stream("r", "i", ["a"])])
    view.set_expanded(view.rows[1], True)
    assert view.line_count == 4
    pipeline.ingest(response_stream("r", "i", ["b", "c"]) + [received("response.done", response={"id": "r"})])
    view.catch_up()
    assert view.line_count == 1 + 1 + 6 + 1
    last = view.line(8)
    assert last is not None and view.journal[last.frame_index].type == "response.done"


def test_locate_finds_frames_inside_runs() -> None:
    _, view = view_of([connecting(), *response_stream("r", "i", ["a", "b"]), received("response.done")])
    found = view.locate(3)
    assert found is not None and found.row.position == 1 and found.member == 2
    single = view.locate(5)
    assert single is not None and single.row.position == 2 and single.member == -1


def test_filter_and_clear_keep_the_journal_whole() -> None:
    pipeline, view = view_of([connecting(), *response_stream("r", "i", ["a", "b"]), received("response.done")])
    view.set_query(Query("-type:*.delta", view.journal))
    assert [view.journal[row.first].type for row in view.rows] == ["rt.connection", "response.done"]
    assert (view.shown, view.in_range) == (2, 6)
    view.clear()
    assert view.rows == [] and view.shown == 0 and view.in_range == 0
    pipeline.ingest([received("response.done")])
    view.catch_up()
    assert (view.shown, view.in_range, len(view.journal)) == (1, 1, 7)
    view.unclear()  # the frames from before the clear come back, through the filter still in force
    assert (view.floor, view.shown, view.in_range) == (0, 3, 7)


def test_find_walks_the_shown_frames_inside_runs_and_wraps() -> None:
    _, view = view_of(
        [
            connecting(),
            *response_stream("r", "i", [" turn", " the", " kitchen", " on"]),
            received("response.output_audio_transcript.done", response_id="r", item_id="i", transcript="kitchen"),
        ]
    )
    finder = Finder("kitchen")
    first = finder.find(view, None)
    assert first == 6 and view.journal[6].type == "response.output_audio_transcript.delta"
    assert finder.find(view, first) == 9
    assert finder.find(view, 9) == 6  # wraps
    assert finder.find(view, 6, forward=False) == 9
    assert finder.count(view) == 2
    assert (finder.position(view, 6), finder.position(view, 9), finder.position(view, 7)) == (1, 2, None)
    assert Finder("/KIT.HEN/i").find(view, None) == 6
    assert Finder("AAAA").find(view, None) is None  # audio payloads are not searched


def test_find_searches_each_frame_once_and_starts_again_on_a_new_view() -> None:
    pipeline, view = view_of([connecting(), *response_stream("r", "i", [" kitchen", " lights"])])
    finder = Finder("kitchen")
    searched: list[str] = []
    search = finder.pattern.search

    def counting(text: str) -> bool:
        searched.append(text)
        return search(text)

    finder.pattern.search = counting  # type: ignore[method-assign]
    assert finder.count(view) == 1
    scanned = len(searched)
    # Every frame's text once; the audio deltas' text is their type and ids: asked once for all.
    audio = [i for i in view.indices if view.journal.type_at(i) == "response.output_audio.delta"]
    assert len(audio) == 2 and scanned == len(view.indices) - 1
    pipeline.ingest(
        [received("response.output_audio_transcript.done", response_id="r", item_id="i", transcript="kitchen")]
    )
    view.catch_up()
    assert finder.count(view) == 2 and len(searched) == scanned + 1  # only the new frame
    assert finder.find(view, None, forward=False) == len(view.journal) - 1
    view.set_query(Query("type:*.done", view.journal))
    assert finder.count(view) == 1  # a new view: searched again, over what it shows


@given(
    st.lists(
        st.sampled_from(["append", "audio", "transcript", "user_delta", "control", "local"]),
        max_size=80,
    ),
    st.integers(min_value=0, max_value=80),
    st.sampled_from(["", "-type:*.delta", "dir:in", "type:response.*"]),
    st.booleans(),
)
def test_view_invariants_over_random_frame_orders(
    kinds: list[str], split: int, query_text: str, expand_all: bool
) -> None:
    """Whatever order frames come in: every shown frame is on exactly one row, lines map back to
    frames, and a selection made by frame index stays on that frame while more frames arrive."""
    makers = {
        "append": lambda: sent("input_audio_buffer.append", audio=audio_b64(20)),
        "audio": lambda: received("response.output_audio.delta", response_id="r", item_id="i", delta=audio_b64(20)),
        "transcript": lambda: received(
            "response.output_audio_transcript.delta", response_id="r", item_id="i", delta="w"
        ),
        "user_delta": lambda: received("conversation.item.input_audio_transcription.delta", item_id="u", delta="w"),
        "control": lambda: received("response.done", response={"id": "r"}),
        "local": lambda: connecting(),
    }
    envs = [makers[kind]() for kind in kinds]
    pipeline = Pipeline(Journal())
    view = LogView(pipeline.journal)
    view.set_query(Query(query_text, pipeline.journal))
    pipeline.ingest(envs[:split])
    view.catch_up()
    selected = view.indices[len(view.indices) // 2] if view.indices else None
    if expand_all:
        for row in view.rows:
            view.set_expanded(row, True)
    before = view.locate(selected) if selected is not None else None
    pipeline.ingest(envs[split:])
    view.catch_up()
    # Counts are consistent.
    query = Query(query_text, pipeline.journal)
    expected = [frame.index for frame in pipeline.journal if query.match(frame)]
    assert list(view.indices) == expected
    assert sorted(i for row in view.rows for i in row.members) == expected
    assert view.line_count == sum(row.lines for row in view.rows)
    # Every line maps to a frame, in an order that visits every shown frame.
    seen = []
    for y in range(view.line_count):
        line = view.line(y)
        assert line is not None
        if line.member >= 0 or line.row.count == 1 or not line.row.expanded:
            seen.append(line.frame_index)
        assert view.line_of(line.row, line.member) == y
    assert view.line(view.line_count) is None
    # The selection stays on its frame.
    if selected is not None and before is not None:
        after = view.locate(selected)
        assert after is not None and after.frame_index == selected and after.row.position == before.row.position


def test_a_first_screen_takes_the_matches_its_scan_found_without_matching_them_again() -> None:
    """A sparse filter over an hour spent its whole first-screen budget scanning backwards, then as
    long again matching the same frames forwards to build the screen: the scan's matches are kept."""
    envs = [connecting()]
    for n in range(40):
        envs.append(received("response.created", response={"id": f"resp_{n}"}))
        envs += response_stream(f"resp_{n}", f"item_{n}", [" a", " b"])
    pipeline, everything = view_of(envs)
    query = Query("type:response.created", pipeline.journal)
    calls = [0]
    original = query.match_index

    def counted(index: int) -> bool:
        calls[0] += 1
        return original(index)

    query.match_index = counted  # type: ignore[method-assign]
    full = everything.derived(query)
    start, matches = full.tail_matches(query, 10, deadline=float("inf"))
    scanned = calls[0]
    tail = everything.derived(query, start)
    tail.catch_up(matches=matches)
    assert calls[0] == scanned  # the tail took the scan's matches: no frame matched twice
    plain = everything.derived(Query("type:response.created", pipeline.journal), start)
    plain.catch_up()
    assert list(tail.indices) == list(plain.indices) and len(tail.indices) == 10
    assert [row.members.tolist() for row in tail.rows] == [row.members.tolist() for row in plain.rows]


def test_the_whole_view_takes_the_first_screens_matches_when_its_slices_reach_them() -> None:
    """Reviewer: the first screen took its scan's matches, but the whole view, built in slices
    behind it, matched the same frames again when its slices got there."""
    envs = [connecting()]
    for n in range(40):
        envs.append(received("response.created", response={"id": f"resp_{n}"}))
        envs += response_stream(f"resp_{n}", f"item_{n}", [" a", " b"])
    pipeline, everything = view_of(envs)
    query = Query("type:response.created", pipeline.journal)
    seen: list[int] = []
    original = query.match_index

    def counted(index: int) -> bool:
        seen.append(index)
        return original(index)

    query.match_index = counted  # type: ignore[method-assign]
    full = everything.derived(query)
    start, matches = full.tail_matches(query, 10, deadline=float("inf"))
    assert matches is not None
    full.expect_matches(start, len(pipeline.journal), matches)
    seen.clear()
    while not full.complete:
        full.catch_up(limit=7)  # slices that cross the known range's edges
    assert seen == list(range(start))  # only the frames the scan did not look at
    plain = everything.derived(Query("type:response.created", pipeline.journal))
    plain.catch_up()
    assert list(full.indices) == list(plain.indices)
    assert [row.members.tolist() for row in full.rows] == [row.members.tolist() for row in plain.rows]
