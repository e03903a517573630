"""Scenario parsing, seeded choices and the ordering filter, without sockets."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tui.server.faults import Drop, Faults
from tui.server.ordering import TranscriptOrdering
from tui.server.scenario import (
    DropMode,
    Malformed,
    MsRange,
    Scenario,
    ScenarioError,
    TranscriptionOrder,
    Trigger,
)
from tui.server.scheduler import Scheduler

COMPLETED = "conversation.item.input_audio_transcription.completed"


def test_query_parameters_parse_into_a_scenario() -> None:
    query = {
        "model": ["gpt-realtime"],
        "sim_seed": ["7"],
        "sim_transcription": ["out_of_order"],
        "sim_transcription_delay_ms": ["200-800"],
        "sim_latency_ms": ["15"],
        "sim_bandwidth_kbps": ["64"],
        "sim_drop_after": ["response.audio.delta:2-5"],
        "sim_drop_mode": ["reset"],
        "sim_malformed": ["not_json,no_type"],
        "sim_session_seconds": ["90"],
    }
    scenario = Scenario.from_query(query)
    assert scenario == Scenario(
        seed=7,
        transcription=TranscriptionOrder.OUT_OF_ORDER,
        transcription_delay_ms=MsRange(200, 800),
        latency_ms=MsRange(15, 15),
        bandwidth_kbps=64.0,
        drop_after=Trigger("response.output_audio.delta", MsRange(2, 5)),  # beta names map to GA
        drop_mode=DropMode.RESET,
        malformed=(Malformed.NOT_JSON, Malformed.NO_TYPE),
        session_seconds=90.0,
    )
    assert Scenario.from_query({key: [value] for key, value in scenario.to_query().items()}) == scenario


def test_query_overrides_the_base_key_by_key() -> None:
    base = Scenario(seed=1, transcription=TranscriptionOrder.BEFORE_ITEM, hold_limit_ms=500)
    merged = Scenario.from_query({"sim_transcription": ["normal"]}, base)
    assert merged == Scenario(seed=1, transcription=TranscriptionOrder.NORMAL, hold_limit_ms=500)


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("sim_nope", "1", "unknown_parameter"),
        ("sim_seed", "seven", "invalid_value"),
        ("sim_transcription_delay_ms", "800-200", "invalid_value"),
        ("sim_latency_ms", "-5", "invalid_value"),
        ("sim_bandwidth_kbps", "0", "invalid_value"),
        ("sim_drop_after", "response.output_audio.delta:0", "invalid_value"),
        ("sim_drop_after", "input_audio_buffer.append", "invalid_value"),  # a client event
        ("sim_malformed", "garbage", "invalid_value"),
        ("sim_session_seconds", "inf", "invalid_value"),
    ],
)
def test_bad_parameters_name_the_parameter(key: str, value: str, code: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        Scenario.from_query({key: [value]})
    assert raised.value.key == key and raised.value.code == code
    assert key in raised.value.message


def test_scenario_files_in_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('seed = 3\ntranscription = "mid_response"\ntranscription_delay_ms = [100, 300]\nlatency_ms = 5\n')
    as_json = tmp_path / "s.json"
    as_json.write_text(
        json.dumps({"seed": 3, "transcription": "mid_response", "transcription_delay_ms": "100-300", "latency_ms": 5})
    )
    expected = Scenario(
        seed=3,
        transcription=TranscriptionOrder.MID_RESPONSE,
        transcription_delay_ms=MsRange(100, 300),
        latency_ms=MsRange(5, 5),
    )
    assert Scenario.load(toml) == Scenario.load(as_json) == expected
    (tmp_path / "bad.toml").write_text("seed = [")
    with pytest.raises(ScenarioError, match="does not parse"):
        Scenario.load(tmp_path / "bad.toml")
    with pytest.raises(ScenarioError, match="cannot read"):
        Scenario.load(tmp_path / "missing.json")


def scheduler(**scenario: Any) -> Scheduler:
    return Scheduler(Scenario.from_mapping(scenario), transcription_delay_s=0.0, session_seconds=3600)


def test_seeded_delays_repeat_and_differ_by_seed() -> None:
    def delays(seed: int) -> list[float]:
        schedule = scheduler(seed=seed, transcription_delay_ms="0-1000")
        return [schedule.transcription_delay() for _ in range(8)]

    assert delays(7) == delays(7)
    assert delays(7) != delays(8)
    assert all(0.0 <= d <= 1.0 for d in delays(7))
    assert scheduler().transcription_delay() == 0.0  # without the key: the config's delay


def test_a_fault_count_drawn_from_a_range_is_seeded() -> None:
    def drop_position(seed: int) -> int:
        faults = Faults(
            Scenario.from_mapping({"drop_after": "response.output_audio.delta:1-50"}),
            counts_rng=random.Random(seed),
            latency_rng=random.Random(seed),
        )
        for position in range(1, 51):
            if any(isinstance(out, Drop) for out in faults.after({"type": "response.output_audio.delta"})):
                return position
        raise AssertionError("never dropped")

    assert drop_position(1) == drop_position(1)
    assert len({drop_position(seed) for seed in range(10)}) > 1


# ---- the ordering filter on synthetic streams ------------------------------------------------------


def turn(item_id: str, response_id: str) -> list[dict[str, Any]]:
    """One turn as the connection emits it: commit, item, transcript, then a short text response."""
    return [
        {"type": "input_audio_buffer.committed", "item_id": item_id},
        {"type": "conversation.item.added", "item": {"id": item_id}},
        {"type": "conversation.item.done", "item": {"id": item_id}},
        {"type": "conversation.item.input_audio_transcription.delta", "item_id": item_id, "delta": "hi"},
        {"type": COMPLETED, "item_id": item_id, "transcript": "hi"},
        {"type": "response.created", "response": {"id": response_id}},
        {"type": "response.output_text.delta", "response_id": response_id, "delta": "a"},
        {"type": "response.output_text.delta", "response_id": response_id, "delta": "b"},
        {"type": "response.done", "response": {"id": response_id}},
    ]


def run(ordering: TranscriptOrdering, events: list[dict[str, Any]]) -> list[str]:
    """`type@item` of what reaches the client, in order."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event["type"] == "input_audio_buffer.committed":
            # As the connection does when transcription is on for this commit.
            ordering.expect_transcript(event["item_id"])
        out += ordering.route(event)
    return [f"{e['type']}@{e.get('item_id') or (e.get('item') or {}).get('id') or ''}" for e in out]


async def test_random_order_is_reproducible_from_the_seed() -> None:
    stream = [event for n in range(12) for event in turn(f"item_{n}", f"resp_{n}")]

    def replay(seed: int) -> list[str]:
        return run(TranscriptOrdering(TranscriptionOrder.RANDOM, hold_limit_s=5, rng=random.Random(seed)), stream)

    assert replay(7) == replay(7)
    assert replay(7) != replay(11)
    assert sorted(replay(7)) == sorted(
        run(TranscriptOrdering(TranscriptionOrder.NORMAL, hold_limit_s=5, rng=random.Random(0)), stream)
    )


async def test_nothing_is_held_while_transcription_is_off() -> None:
    ordering = TranscriptOrdering(TranscriptionOrder.BEFORE_ITEM, hold_limit_s=5, rng=random.Random(0))
    events = turn("item_a", "resp_a")
    # A session.updated announcing transcription does not matter: only the connection's word does.
    on = {"type": "session.updated", "session": {"audio": {"input": {"transcription": {"model": "whisper-1"}}}}}
    assert ordering.route(on) == [on]
    sent = [e for event in events for e in ordering.route(event)]
    assert sent == events and ordering.holding == 0


async def test_a_cue_that_never_comes_releases_at_the_hold_limit() -> None:
    released: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    ordering = TranscriptOrdering(TranscriptionOrder.AFTER_RESPONSE, hold_limit_s=0.05, rng=random.Random(0))
    ordering.bind(released.put_nowait)
    no_response = turn("item_a", "resp_a")[:5]
    assert run(ordering, no_response) == [
        "input_audio_buffer.committed@item_a",
        "conversation.item.added@item_a",
        "conversation.item.done@item_a",
    ]
    later = await asyncio.wait_for(released.get(), 2)
    assert [e["type"] for e in later] == [no_response[3]["type"], COMPLETED]
    assert ordering.holding == 0
