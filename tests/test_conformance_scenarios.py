"""Scheduling and fault scenarios through the official `openai` client, every event judged.

`tests/test_server_scenarios.py` checks the same modes on raw sockets in detail; here each mode is
chosen the way a user of the official client chooses it (`extra_query`), and every event the
client receives, including the ones the faults reorder, is validated against the SDK's types
(`judge_behaviour`) and parsed by the SDK itself. A fault must change *when* things arrive, never
*what* a real client is sent.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK

from tests.server_helpers import running_simulator, speech_pcm24
from tests.test_conformance_behaviour import Wire, first, judge_behaviour, types
from tui.server import Simulator

WEATHER = "what is the weather like in London today"
KITCHEN = "turn on the kitchen lights"
COMPLETED = "conversation.item.input_audio_transcription.completed"
DELTA = "conversation.item.input_audio_transcription.delta"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(response_speed=0, transcription_delta_interval=0) as simulator:
        yield simulator


@contextlib.asynccontextmanager
async def official(sim: Simulator, **scenario: str) -> AsyncIterator[Wire]:
    """The official async client, its scenario chosen with `extra_query`, set up for text turns
    with transcription on; `session.created` and `session.updated` already judged."""
    base = sim.url.rsplit("/realtime", 1)[0]
    sdk = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=base)
    query = {f"sim_{key}": value for key, value in scenario.items()}
    async with sdk.realtime.connect(model="gpt-realtime", extra_query=query) as conn:
        wire = Wire(conn)
        assert (await wire.next())["type"] == "session.created"
        await wire.configure(
            output_modalities=["text"],
            audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
        )
        yield wire


async def speak(wire: Wire, text: str) -> None:
    await wire.stream(speech_pcm24(text))
    await wire.conn.input_audio_buffer.commit()


async def until_count(wire: Wire, event_type: str, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while types(events).count(event_type) < count:
        events += await wire.until(event_type)
    return events


async def test_after_response(sim: Simulator) -> None:
    async with official(sim, transcription="after_response") as wire:
        await speak(wire, WEATHER)
        await wire.conn.response.create()
        events = await wire.until(COMPLETED)
    kinds = types(events)
    assert kinds.index("response.done") < kinds.index(DELTA) < kinds.index(COMPLETED)
    assert "weather" in first(events, COMPLETED)["transcript"].lower()


async def test_mid_response(sim: Simulator) -> None:
    async with official(sim, transcription="mid_response") as wire:
        await speak(wire, WEATHER)
        await wire.conn.response.create()
        events = await wire.until("response.done")
    kinds = types(events)
    deltas = [i for i, kind in enumerate(kinds) if kind == "response.output_text.delta"]
    assert deltas[0] < kinds.index(COMPLETED) < deltas[-1]


async def test_before_item(sim: Simulator) -> None:
    async with official(sim, transcription="before_item") as wire:
        await speak(wire, WEATHER)
        events = await wire.until("conversation.item.done")
    kinds = types(events)
    item_id = first(events, "input_audio_buffer.committed")["item_id"]
    assert kinds.index("input_audio_buffer.committed") < kinds.index(COMPLETED) < kinds.index("conversation.item.added")
    assert first(events, COMPLETED)["item_id"] == first(events, "conversation.item.added")["item"]["id"] == item_id
    # The item itself still says null: the transcript travels only in the transcription events.
    assert first(events, "conversation.item.added")["item"]["content"][0]["transcript"] is None


async def test_out_of_order_across_turns(sim: Simulator) -> None:
    async with official(sim, transcription="out_of_order") as wire:
        await speak(wire, WEATHER)
        await speak(wire, KITCHEN)
        events = await until_count(wire, COMPLETED, 2)
    turn_1, turn_2 = (e["item_id"] for e in events if e["type"] == "input_audio_buffer.committed")
    assert [e["item_id"] for e in events if e["type"] == COMPLETED] == [turn_2, turn_1]


async def test_a_seeded_random_schedule_replays_exactly(sim: Simulator) -> None:
    orders: list[list[str]] = []
    for _ in range(2):
        async with official(sim, transcription="random", seed="7") as wire:
            for text in (WEATHER, KITCHEN):
                await speak(wire, text)
                await wire.conn.response.create()
                await wire.until("response.done")
            events = wire.seen
            if types(events).count(COMPLETED) < 2:
                events = events + await until_count(wire, COMPLETED, 2 - types(events).count(COMPLETED))
        orders.append([kind for kind in types(events) if kind in (COMPLETED, "response.done", "response.created")])
    assert orders[0] == orders[1]


async def test_transcription_delay(sim: Simulator) -> None:
    async with official(sim, transcription_delay_ms="400") as wire:
        await speak(wire, WEATHER)
        await wire.until("input_audio_buffer.committed")
        committed_at = time.monotonic()
        await wire.until(COMPLETED)
        waited = time.monotonic() - committed_at
    assert waited >= 0.4, waited


async def test_latency_and_bandwidth_keep_every_event_valid(sim: Simulator) -> None:
    async with official(sim, latency_ms="5-15", bandwidth_kbps="2000", seed="3") as wire:
        await speak(wire, WEATHER)
        await wire.conn.response.create()
        events = await wire.until("response.done")
        if COMPLETED not in types(wire.seen):
            await wire.until(COMPLETED)
    assert first(events, "response.done")["response"]["status"] == "completed"
    assert "weather" in first(wire.seen, COMPLETED)["transcript"].lower()


@pytest.mark.parametrize("mode", ["eof", "reset"])
async def test_a_drop_mid_response_ends_the_official_client_s_stream(sim: Simulator, mode: str) -> None:
    async with official(sim, drop_after="response.output_text.delta:2", drop_mode=mode) as wire:
        await speak(wire, WEATHER)
        await wire.conn.response.create()
        with pytest.raises(ConnectionClosedError):  # no close frame: an abnormal closure, as a client sees it
            await wire.until("response.done")
    kinds = types(wire.seen)
    assert kinds.count("response.output_text.delta") == 2 and "response.done" not in kinds


async def test_session_expiry_is_an_error_then_a_clean_1001(sim: Simulator) -> None:
    async with official(sim, session_seconds="1") as wire:
        with pytest.raises(ConnectionClosedOK) as closed:
            await wire.quiet_for(3)
        expired = [e for e in wire.seen if e["type"] == "error"]
    assert [e["error"]["code"] for e in expired] == ["session_expired"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_a_malformed_frame_is_what_a_client_would_choke_on_and_the_session_goes_on(sim: Simulator) -> None:
    base = sim.url.rsplit("/realtime", 1)[0]
    sdk = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=base)
    query = {"sim_malformed": "not_json,no_type", "sim_malformed_after": "session.created:1"}
    async with sdk.realtime.connect(model="gpt-realtime", extra_query=query) as conn:
        frames = [await conn.recv_bytes() for _ in range(3)]
        parsed: list[dict[str, Any] | None] = []
        for raw in frames:
            try:
                parsed.append(json.loads(raw))
            except ValueError:
                parsed.append(None)
        good = [event for event in parsed if event is not None and "type" in event]
        assert [event["type"] for event in good] == ["session.created"]
        assert None in parsed and any(event is not None and "type" not in event for event in parsed)
        for event in good:
            judge_behaviour(event)
        # The session is unharmed: the next request is answered with valid events.
        await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
        raw = await conn.recv_bytes()
        judge_behaviour(json.loads(raw))
        assert conn.parse_event(raw).type == "session.updated"


async def test_no_fault_outlives_its_connection(sim: Simulator) -> None:
    """A fault chosen for one connection leaves the next one alone (scenarios are per connection)."""
    with contextlib.suppress(ConnectionClosed):
        async with official(sim, drop_after="response.output_text.delta:1") as wire:
            await speak(wire, WEATHER)
            await wire.conn.response.create()
            await wire.until("response.done")
    async with official(sim) as wire:
        await speak(wire, WEATHER)
        await wire.conn.response.create()
        events = await wire.until("response.done")
    assert first(events, "response.done")["response"]["status"] == "completed"
