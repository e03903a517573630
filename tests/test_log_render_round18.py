"""The event log's cheaper line rendering holds equal to the general path it replaced (round 18):
a line's segments, and a run's digest."""

from __future__ import annotations

import json
from array import array

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tests.bench_traffic import envelope
from tui.journal import Journal, LogView, PayloadPolicy, Row
from tui.model import KEEP_EVERY_PAYLOAD
from tui.protocol import Direction, Envelope, string_span, to_ga
from tui.protocol.events import AUDIO_FIELDS
from tui.widgets.event_log import _ellipsized
from tui.widgets.log_format import (
    MARKS,
    Columns,
    Piece,
    RunDigest,
    fit_segments,
    line_pieces,
    line_segments,
    run_summary,
)

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
@example([("a\u0301\u0301\u0301\u0301…bcdef", None)], 4, False)  # a head that fits, a whole that does not
def test_fit_segments_are_the_general_path_s_segments(pieces: list[Piece], width: int, selected: bool) -> None:
    """Same segments (text and style), same cell length, for any pieces and width."""
    expected = general_strip(pieces, width, selected)
    segments = fit_segments(pieces, width, BASE, CURSOR if selected else None)
    assert segments == list(expected)
    assert Strip(segments, width).cell_length == expected.cell_length == width


AUDIO_TYPES = ("response.output_audio.delta", "response.audio.delta")
TEXT_TYPES = ("response.output_audio_transcript.delta", "response.audio_transcript.delta", "response.output_text.delta")
B64 = st.text(alphabet="ABCxyz019+/=", max_size=300)
DELTA_FRAMES = st.one_of(
    # Audio deltas (GA and beta): the base64 before or after the ids, missing, or not a string.
    st.tuples(st.sampled_from(AUDIO_TYPES), st.one_of(B64, st.none(), st.integers()), st.booleans()),
    st.tuples(st.sampled_from(TEXT_TYPES), st.one_of(st.text(max_size=12), st.integers()), st.booleans()),
    st.tuples(st.just("input_audio_buffer.append"), B64, st.booleans()),
)


def _delta_envelope(etype: str, value: object, value_first: bool) -> Envelope:
    """A delta's envelope as the session makes it (wire text, then parsed)."""
    key = "audio" if etype == "input_audio_buffer.append" else "delta"
    ids = {"response_id": "resp_1", "item_id": "item_1"} if key == "delta" else {"event_id": "evt_1"}
    fields = {key: value} if value is not None else {}
    data = {"type": etype, **fields, **ids} if value_first else {"type": etype, **ids, **fields}
    direction = Direction.OUT if key == "audio" else Direction.IN
    return envelope(direction, json.dumps(data, separators=(",", ":")))


def _reference_digest(journal: Journal, members: list[int]) -> tuple[object, ...]:
    """What a run's digest holds, frame by frame as it was read before `RunDigest.update` read its
    columns at once: sizes, kinds in the order they first come, words, and the audio's length (from
    the wire text, else the length the journal kept, else the frame's size)."""
    counts: dict[str, int] = {}
    words: list[str] = []
    audio = size = 0
    for index in members:
        etype = journal.type_at(index)
        size += journal.size_at(index)
        short = to_ga(etype).rsplit(".", 2)[-2].rsplit("_", 1)[-1]
        counts[short] = counts.get(short, 0) + 1
        field = AUDIO_FIELDS.get(etype)
        if field is None:
            delta = journal.data(index).get("delta")
            if isinstance(delta, str):
                words.append(delta)
            continue
        raw = journal.raw_at(index)
        if raw is None:
            length = journal.audio_chars(index)
        else:
            span = string_span(raw, field)
            length = span[1] - span[0] if span is not None else None
        audio += (length if length is not None else journal.size_at(index)) * 3 // 4
    return list(counts.items()), words, audio, size


@settings(max_examples=300, deadline=None)
@given(st.lists(DELTA_FRAMES, min_size=1, max_size=40), st.lists(st.integers(1, 40), max_size=4), st.booleans())
def test_a_run_s_digest_taken_in_batches_is_the_frame_by_frame_reading(
    frames: list[tuple[str, object, bool]], cuts: list[int], drop: bool
) -> None:
    """Counts, words, audio length and size of a run that grows between updates (payloads kept, or
    dropped but the newest audio's), and its summary, as read one frame at a time."""
    journal = Journal(PayloadPolicy(large_budget_bytes=1) if drop else KEEP_EVERY_PAYLOAD)
    indices = [journal.append_index(_delta_envelope(*frame)) for frame in frames]
    digest = RunDigest()
    for end in [*sorted(cuts), len(indices)]:
        row = Row(0, array("q", indices[:end]), ("response", "resp_1", 1))
        digest.update(journal, row)
        counts, words, audio, size = _reference_digest(journal, list(row.members))
        assert (list(digest.counts.items()), digest.words, digest.audio_bytes, digest.size) == (
            counts,
            words,
            audio,
            size,
        )
        assert digest.seen == row.count
    assert run_summary(journal, row) == digest.summary(journal, row)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([None, None, "info", "warning", "error", "hint"]), min_size=2, max_size=30))
def test_a_run_s_line_bears_the_worst_badge_of_its_frames_and_a_frame_s_line_its_own(
    badges: list[str | None],
) -> None:
    """A collapsed run's line: the worst severity any of its frames has (an unknown word is none);
    each of its frames' lines, once expanded: that frame's own."""
    journal = Journal(KEEP_EVERY_PAYLOAD)
    for word in ["a"] * len(badges):
        journal.append_index(_delta_envelope("response.output_text.delta", word, True))
    view = LogView(journal)
    view.catch_up()
    view.marks = lambda index: badges[index]
    (row,) = view.rows
    columns = Columns.fit(80)

    def badge(member: int) -> tuple[str, str | None] | None:
        pieces = line_pieces(view, row, member, columns, None)
        return next((piece for piece in pieces if piece in MARKS.values()), None)

    worst = next((s for s in ("error", "warning", "info") if s in badges), None)
    assert badge(-1) == (MARKS[worst] if worst else None)
    view.set_expanded(row, True)
    for member, own in enumerate(badges):
        assert badge(member) == (MARKS[own] if own in ("error", "warning", "info") else None)


BADGES = st.sampled_from([None, None, None, "info", "warning", "error"])
GROWTH_OR_FINDING = st.one_of(st.lists(BADGES, min_size=1, max_size=5), st.tuples(st.integers(0, 99), BADGES))


@settings(max_examples=200, deadline=None)
@given(st.lists(GROWTH_OR_FINDING, max_size=12))
def test_a_growing_run_s_badge_follows_new_frames_and_new_findings_on_old_ones(
    steps: list[list[str | None] | tuple[int, str | None]],
) -> None:
    """The line of a run the log keeps a digest of (as it does while the run grows batch by batch):
    frames it gained bring their badges; a finding on a frame it already had (the view's
    `marks_version` bumped, as the app does for every new finding) is shown too."""
    badges: list[str | None] = [None, None]
    journal = Journal(KEEP_EVERY_PAYLOAD)
    view = LogView(journal)
    view.marks = lambda index: badges[index]

    def grow(count: int) -> None:
        for _ in range(count):
            journal.append_index(_delta_envelope("response.output_text.delta", "a", True))
        view.catch_up()

    grow(len(badges))
    digest = RunDigest()
    columns = Columns.fit(80)
    for step in [[], *steps]:
        if isinstance(step, list):
            badges += step
            grow(len(step))
        else:
            badges[step[0] % len(badges)] = step[1]
            view.marks_version += 1
        (row,) = view.rows
        pieces = line_pieces(view, row, -1, columns, None, digest)
        worst = next((s for s in ("error", "warning", "info") if s in badges), None)
        assert next((p for p in pieces if p in MARKS.values()), None) == (MARKS[worst] if worst else None)
