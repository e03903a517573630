"""Property tests of the conversation reducer over random event sequences.

Every server event type the reducer has a rule for (its `_HANDLERS` table, beta names too), plus
unknown types, outbound frames and local `rt.connection` facts, with plausible but random shapes:
ids come from a small pool so events refer to each other, and any field, at any depth, may be
missing or replaced by an arbitrary JSON value. The number of examples comes from the hypothesis
profile (tests/conftest.py; `make fuzz` runs 100,000).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from tests.test_conversation import feed, response, rows, session, t_delta, t_done, user_turn
from tui.conversation import Conversation, Item, Origin, TextState
from tui.conversation.reducer import _HANDLERS
from tui.protocol import Direction, Envelope, ident, local_envelope, next_seq, serialize, text, to_ga

Strategy = st.SearchStrategy

# -- arbitrary JSON, and fields that may be anything ---------------------------------------------

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6))
_KEYS = st.sampled_from(["id", "type", "item_id", "text", "0", ""])
# Two levels of containers are enough to stand for "not the expected type" anywhere, and much cheaper
# to draw than `st.recursive` (100,000 examples of 30 events each must stay affordable).
_SHALLOW = st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=2), st.dictionaries(_KEYS, JSON_SCALARS, max_size=2))
ANY_JSON: Strategy[Any] = st.one_of(
    JSON_SCALARS, st.lists(_SHALLOW, max_size=2), st.dictionaries(_KEYS, _SHALLOW, max_size=2)
)


def weighted(*choices: tuple[int, Strategy[Any]]) -> Strategy[Any]:
    """One of the strategies, drawn in proportion to its weight (`st.one_of` treats equal strategies
    as one, so repeating a strategy there does not weigh it)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


def maybe(plausible: Strategy[Any]) -> Strategy[Any]:
    """Mostly a plausible value (four times in five), sometimes any JSON value at all."""
    return weighted((4, plausible), (1, ANY_JSON))


def obj(required: dict[str, Strategy[Any]], optional: dict[str, Strategy[Any]] | None = None) -> Strategy[Any]:
    """A JSON object whose every field may be junk, optional fields may be missing, and which may
    itself be replaced by junk."""
    return maybe(
        st.fixed_dictionaries(
            {key: maybe(value) for key, value in required.items()},
            optional={key: maybe(value) for key, value in (optional or {}).items()},
        )
    )


IDS = ["item_a", "item_b", "item_c", "item_d", "item_e"]
ITEM_ID = st.sampled_from(IDS)
PREVIOUS_ID = st.sampled_from([*IDS, None])
WORDS = st.one_of(st.sampled_from(["hello", "hi there\n", "", " ", "{}"]), st.text(max_size=10))
RESPONSE_ID = st.sampled_from(["resp_1", "resp_2"])
EVENT_ID = st.sampled_from(["evt_1", "evt_2"])
"""The event ids of our creates, which an error may name (a refused create)."""
ERROR = st.one_of(
    obj(
        {},
        {
            "type": st.just("invalid_request_error"),
            "code": st.just("audio_unintelligible"),
            "message": WORDS,
            "event_id": EVENT_ID,
        },
    ),
    WORDS,
)

PART = obj(
    {"type": st.sampled_from(["input_audio", "input_text", "output_audio", "output_text", "audio", "text"])},
    {"transcript": st.none() | WORDS, "text": WORDS},
)
ITEM = obj(
    {"id": ITEM_ID, "type": st.sampled_from(["message", "message", "function_call", "function_call_output"])},
    {
        "role": st.sampled_from(["user", "assistant", "system"]),
        "status": st.sampled_from(["in_progress", "completed", "incomplete"]),
        "content": st.lists(PART, max_size=3),
        "name": WORDS,
        "call_id": st.sampled_from(["call_1", "call_2"]),
        "arguments": WORDS,
        "output": WORDS,
    },
)
CREATED_ITEM = obj(
    {"type": st.sampled_from(["message", "message", "function_call_output"])},
    {
        "id": ITEM_ID,  # mostly none: the server names the item, and its echo confirms our row
        "role": st.sampled_from(["user", "user", "assistant"]),
        "content": st.lists(PART, max_size=2),
        "call_id": st.sampled_from(["call_1", "call_2"]),
        "output": WORDS,
    },
)
TRANSCRIPTION = st.none() | obj({"model": st.sampled_from(["whisper-1", "gpt-4o-transcribe"])})
SESSION = st.one_of(
    obj(
        {"type": st.just("realtime")},
        {"id": WORDS, "audio": obj({}, {"input": obj({}, {"transcription": TRANSCRIPTION})})},
    ),
    obj({}, {"id": WORDS, "input_audio_transcription": TRANSCRIPTION}),  # beta, flat
)
INDEX = st.integers(0, 2)


def event(types: list[str], required: dict[str, Strategy[Any]], optional: dict[str, Strategy[Any]]) -> Strategy[Any]:
    """Frames of these types: the type is always a string (parse guarantees it), the rest may be junk."""
    return st.fixed_dictionaries(
        {"type": st.sampled_from(types), **{key: maybe(value) for key, value in required.items()}},
        optional={key: maybe(value) for key, value in optional.items()},
    )


_BY_ID = {"item_id": ITEM_ID}
# Only fields the reducer reads, or that sit next to one: each drawn field costs time in 100,000 runs.
_RESPONSE = {"response_id": RESPONSE_ID}
_IGNORED = [name for name, handler in _HANDLERS.items() if handler.__name__ == "_ignore"]

_Spec = tuple[tuple[str, ...], dict[str, Strategy[Any]], dict[str, Strategy[Any]]]
_SPECS: list[_Spec] = [
    (
        ("session.created", "session.updated", "transcription_session.created", "transcription_session.updated"),
        {"session": SESSION},
        {},
    ),
    (("input_audio_buffer.speech_started",), _BY_ID, {}),
    (("input_audio_buffer.cleared",), {}, {}),
    (("input_audio_buffer.committed",), _BY_ID, {"previous_item_id": PREVIOUS_ID}),
    (
        (
            "conversation.item.added",
            "conversation.item.created",
            "conversation.item.done",
            "conversation.item.retrieved",
        ),
        {"item": ITEM},
        {"previous_item_id": PREVIOUS_ID},
    ),
    (("conversation.item.input_audio_transcription.delta",), {**_BY_ID, "delta": WORDS}, {}),
    (
        ("conversation.item.input_audio_transcription.completed",),
        {**_BY_ID, "transcript": WORDS},
        {"usage": obj({"type": st.just("tokens"), "total_tokens": INDEX})},
    ),
    (("conversation.item.input_audio_transcription.failed",), _BY_ID, {"error": ERROR}),
    (("response.output_item.added", "response.output_item.done"), {"item": ITEM}, _RESPONSE),
    (
        (
            "response.output_text.delta",
            "response.output_audio_transcript.delta",
            "response.text.delta",
            "response.audio_transcript.delta",
        ),
        {**_BY_ID, "delta": WORDS},
        _RESPONSE,
    ),
    (("response.output_text.done", "response.text.done"), _BY_ID, {**_RESPONSE, "text": WORDS}),
    (
        ("response.output_audio_transcript.done", "response.audio_transcript.done"),
        _BY_ID,
        {**_RESPONSE, "transcript": WORDS},
    ),
    (("response.output_audio.delta", "response.audio.delta"), {**_BY_ID, "delta": st.just("AAAA")}, _RESPONSE),
    (
        ("response.function_call_arguments.delta", "response.function_call_arguments.done"),
        _BY_ID,
        {**_RESPONSE, "delta": WORDS, "arguments": WORDS, "name": WORDS, "call_id": st.just("call_1")},
    ),
    (
        ("response.created", "response.done"),
        {
            "response": obj(
                {"id": RESPONSE_ID},
                {
                    "status": st.sampled_from(["completed", "cancelled", "incomplete", "failed"]),
                    "output": st.lists(ITEM, max_size=3),
                    "conversation_id": st.sampled_from([None, "conv_1"]),  # null: out of band
                },
            )
        },
        {},
    ),
    (("conversation.item.deleted",), _BY_ID, {}),
    (("conversation.item.truncated",), _BY_ID, {"audio_end_ms": st.integers(0, 9000)}),
    (("error",), {}, {"error": ERROR}),
    (tuple(_IGNORED), {}, {**_BY_ID, **_RESPONSE, "previous_item_id": PREVIOUS_ID, "response": ANY_JSON}),
]
EVENTS = {types: event(list(types), required, optional) for types, required, optional in _SPECS}
UNKNOWN = st.fixed_dictionaries({"type": st.text(max_size=12)}, optional={"item_id": ITEM_ID})


def _incoming(data: dict[str, Any]) -> Envelope:
    return Envelope(next_seq(), Direction.IN, data["type"], data, serialize(data))


def _outgoing(data: dict[str, Any]) -> Envelope:
    return Envelope(next_seq(), Direction.OUT, data["type"], data, serialize(data))


CREATES = event(
    ["conversation.item.create"], {"item": CREATED_ITEM}, {"event_id": EVENT_ID, "previous_item_id": PREVIOUS_ID}
)
"""Our `conversation.item.create`s: rows made from the frame sent, confirmed or refused later."""
SERVER_FRAMES = st.one_of(*EVENTS.values(), UNKNOWN)
# Weighted toward the events that create items and carry transcripts, so that most sequences build
# a few rows and send transcripts to them, before, after and between everything else.
_CREATING = st.one_of(
    *(strategy for types, strategy in EVENTS.items() if types[0].startswith(("input_audio", "conversation.item.added")))
)
_TRANSCRIBING = st.one_of(*(strategy for types, strategy in EVENTS.items() if "transcription" in types[0]))
CONNECTION_FACTS = st.builds(
    lambda state: local_envelope("rt.connection", "connection state", state=state),
    maybe(st.sampled_from(["closed", "failed", "open", "connecting"])),
)
_COMPLETED = EVENTS[("conversation.item.input_audio_transcription.completed",)]
ENVELOPES = weighted(
    (2, _CREATING.map(_incoming)),
    (2, _COMPLETED.map(_incoming)),
    (1, _TRANSCRIBING.map(_incoming)),
    (6, SERVER_FRAMES.map(_incoming)),
    (1, CONNECTION_FACTS),
    (1, SERVER_FRAMES.map(_outgoing)),
    (1, CREATES.map(_outgoing)),
)
# Up to 50 envelopes, 25 on average; the length shrinks like any integer.
SEQUENCES = st.integers(0, 50).flatmap(lambda n: st.lists(ENVELOPES, min_size=n, max_size=n))


def test_the_strategies_cover_every_event_the_reducer_handles() -> None:
    generated = {to_ga(name) for types in EVENTS for name in types}
    assert set(_HANDLERS) <= generated


# -- invariants --------------------------------------------------------------------------------


def _snapshot(conv: Conversation) -> dict[str, tuple[Any, ...]]:
    """Each item's fields; the audio received counts only once it is truncated (the one field
    `Conversation` moves without reporting it: see its invariants)."""
    return {
        item_id: dataclasses.astuple(item if item.audio_end_ms is not None else dataclasses.replace(item, audio_ms=0.0))
        for item_id, item in conv.items.items()
    }


def _check_rows(conv: Conversation) -> None:
    """Every item has exactly one row, and the ids agree."""
    assert len(conv.order) == len(set(conv.order))
    assert set(conv.order) == set(conv.items)
    assert all(item.id == item_id for item_id, item in conv.items.items())


def _check_fields(item: Item) -> None:
    """Item fields keep the types `Item` declares (the transcript view relies on them), whatever the frames held."""
    assert isinstance(item.id, str) and item.id
    assert all(isinstance(value, str) for value in (item.role, item.kind, item.text, item.status))
    assert all(value is None or isinstance(value, str) for value in (item.error, item.response_id, item.name))
    assert item.call_id is None or isinstance(item.call_id, str)
    assert item.audio_end_ms is None or (isinstance(item.audio_end_ms, int) and not isinstance(item.audio_end_ms, bool))
    assert all(value is None or isinstance(value, float) for value in (item.committed_at, item.text_done_at))
    assert isinstance(item.usage, dict) and isinstance(item.deltas, int)
    assert isinstance(item.audio_ms, float) and item.audio_ms >= 0
    assert isinstance(item.state, TextState) and isinstance(item.origin, Origin)
    assert isinstance(item.display_text, str) and isinstance(item.transcription_latency, float | None)


@given(SEQUENCES)
def test_any_event_sequence_keeps_rows_transcripts_and_changes_right(envelopes: list[Envelope]) -> None:
    conv = Conversation()
    transcripts: dict[str, str] = {}  # the last `.completed` of each item with no `.failed` or delete after it
    for env in envelopes:
        before = _snapshot(conv)
        conv.apply(env)  # no exception escapes
        after = _snapshot(conv)
        changed = conv.take_changes()
        differ = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        assert differ <= changed, f"{env.type} changed {differ - changed} without reporting it"
        _check_rows(conv)
        if env.direction is Direction.IN:
            kind, item_id = to_ga(env.type), ident(env.data.get("item_id"))
            if item_id is not None and kind == "conversation.item.input_audio_transcription.completed":
                transcripts[item_id] = text(env.data.get("transcript")).strip()
            elif item_id is not None and kind in (
                "conversation.item.input_audio_transcription.failed",
                "conversation.item.deleted",
            ):
                transcripts.pop(item_id, None)
    # Every handler is total: odd frames are absorbed (a failure would have raised out of `apply`).
    checked = [item_id for item_id in transcripts if item_id in conv.items]
    for item_id in checked:
        assert conv.items[item_id].text == transcripts[item_id]
    # What the examples exercised (shown by `--hypothesis-show-statistics`, as `make fuzz` runs).
    hypothesis.event(f"items at the end: {len(conv.items)}")
    hypothesis.event(f"final transcripts checked: {len(checked)}")
    for item in conv.ordered():
        _check_fields(item)


# -- the same conversation whatever the interleaving of transcripts ------------------------------

_TURNS = [
    *user_turn("item_u1", None),
    *response("resp_1", "item_a1", "item_u1", "one two"),
    *user_turn("item_u2", "item_a1"),
    *response("resp_2", "item_a2", "item_u2", "three four"),
]
_TRANSCRIPTS = [
    t_delta("item_u1", "first"),
    t_done("item_u1", "first question"),
    t_delta("item_u2", "second"),
    t_done("item_u2", "second question"),
]


@given(st.data())
def test_any_interleaving_of_transcripts_gives_the_same_conversation(data: st.DataObject) -> None:
    """Transcription events may land anywhere, before or after their item, across turns in any order;
    within one item the server keeps delta before completed. The result is always the same."""
    stream: list[dict[str, Any]] = list(_TURNS)
    # Each transcription event goes in front of stream[slot] (slot == len(stream): at the end). An item's
    # completed event never goes before its own delta: equal slots keep _TRANSCRIPTS order.
    slots: list[int] = []
    for index, frame in enumerate(_TRANSCRIPTS):
        low = slots[index - 1] if frame["type"].endswith("completed") else 0
        slots.append(data.draw(st.integers(low, len(stream))))
    merged: list[dict[str, Any]] = []
    for slot in range(len(stream) + 1):
        merged += [frame for frame, at in zip(_TRANSCRIPTS, slots, strict=True) if at == slot]
        if slot < len(stream):
            merged.append(stream[slot])
    assert sorted(map(id, merged)) == sorted(map(id, stream + _TRANSCRIPTS))
    for item_id in ("item_u1", "item_u2"):
        own = [e["type"] for e in merged if e.get("item_id") == item_id and "transcription" in e["type"]]
        assert own == [
            "conversation.item.input_audio_transcription.delta",
            "conversation.item.input_audio_transcription.completed",
        ]
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *merged])
    assert rows(conv) == [
        ("user", "first question"),
        ("assistant", "one two"),
        ("user", "second question"),
        ("assistant", "three four"),
    ]
