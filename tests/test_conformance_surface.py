"""Conformance of the protocol surface, driven by the official `openai` realtime client (GA and beta).

Every server event is read raw from the SDK connection, parsed by the SDK and judged against its
pydantic event types with undeclared fields refused (see `tests.surface_helpers.Judged`).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import soxr

from tests.secret_helpers import new_test_key
from tests.server_helpers import running_simulator, silence, speech_pcm24, types
from tests.surface_helpers import Judged, golden, official_client, shape_of
from tui.protocol import Dialect
from tui.server import Simulator
from tui.server.g711 import ulaw_encode

KEY = "test-key-conformance-0123456789"
TRANSCRIPTION = "conversation.item.input_audio_transcription."


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(response_speed=0, api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def beta_sim() -> AsyncIterator[Simulator]:
    async with running_simulator(response_speed=0, dialect=Dialect.BETA, api_key=KEY) as simulator:
        yield simulator


def unchecked(payload: dict[str, Any]) -> Any:
    """A payload the SDK's static types refuse (invalid on purpose, or `null` where the types forgot it)."""
    return payload


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def close_code(conn: object) -> int | None:
    """The close code the server sent (the SDK keeps its websockets connection in `_connection`)."""
    ws = conn._connection  # type: ignore[attr-defined]
    await asyncio.wait_for(ws.wait_closed(), 5)
    received = ws.protocol.close_rcvd
    return int(received.code) if received is not None else None


async def test_ga_handshake_failures_reach_the_official_client(sim: Simulator) -> None:
    async with official_client(sim, api_key=new_test_key()).realtime.connect(model="gpt-realtime") as conn:
        wrong_key = await Judged(conn).next()
        wrong_key_code = await close_code(conn)
    async with official_client(sim, api_key=KEY).realtime.connect() as conn:
        no_model = await Judged(conn).next()
        no_model_code = await close_code(conn)
    async with official_client(sim, api_key=KEY).realtime.connect(model="whisper-1") as conn:
        bad_model = await Judged(conn).next()
        bad_model_code = await close_code(conn)
    assert (wrong_key["error"]["code"], wrong_key_code) == ("invalid_api_key", 3000)
    assert (no_model["error"]["code"], no_model_code) == ("missing_model", 4000)
    assert (bad_model["error"]["code"], bad_model_code) == ("invalid_model", 4000)


async def test_ga_session_validation_through_the_official_client(sim: Simulator) -> None:
    async with official_client(sim, api_key=KEY).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        created = await stream.next()
        await conn.session.update(
            session=unchecked({"type": "realtime", "audio": {"input": {"bogus": 1}}}), event_id="evt_1"
        )
        unknown = await stream.next()
        await conn.send(unchecked({"type": "session.update", "session": {"input_audio_format": "pcm16"}}))
        no_type = await stream.next()
        await conn.session.update(
            session=unchecked(
                {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
            )
        )
        low_rate = await stream.next()
        await conn.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["text"],
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcmu"},
                        "transcription": {"model": "gpt-4o-mini-transcribe", "language": "en"},
                        "turn_detection": {"type": "semantic_vad", "eagerness": "high"},
                    },
                    "output": {"format": {"type": "audio/pcma"}, "voice": "cedar"},
                },
            }
        )
        updated = await stream.next()
    assert shape_of(created) == shape_of(golden("ga_session_created.json"))
    assert (unknown["error"]["param"], unknown["error"]["event_id"]) == ("session.audio.input.bogus", "evt_1")
    assert (no_type["error"]["code"], no_type["error"]["param"]) == ("missing_required_parameter", "session.type")
    assert low_rate["error"]["code"] == "integer_below_min_value"
    assert updated["type"] == "session.updated" and "event_id" not in updated["session"]
    assert updated["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}


async def test_ga_errors_and_items_through_the_official_client(sim: Simulator) -> None:
    async with official_client(sim, api_key=KEY).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.send(unchecked({"type": "bogus.event", "event_id": "evt_bogus"}))
        unknown = await stream.next()
        await conn.output_audio_buffer.clear()
        webrtc_only = await stream.next()
        await conn.input_audio_buffer.append(audio=b64(silence(50)))
        await conn.input_audio_buffer.commit(event_id="evt_commit")
        too_short = await stream.next()
        await conn.response.cancel()
        not_active = await stream.next()
        await conn.conversation.item.retrieve(item_id="item_missing")
        missing = await stream.next()
        await conn.conversation.item.create(
            item={
                "id": "item_first",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "a"}],
            }
        )
        added = await stream.until("conversation.item.done")
        await conn.conversation.item.create(
            previous_item_id="root",
            item={"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Be brief."}]},
        )
        root = await stream.until("conversation.item.done")
        await conn.conversation.item.delete(item_id="item_first")
        deleted = await stream.next()
        await conn.conversation.item.truncate(item_id=root[0]["item"]["id"], content_index=0, audio_end_ms=10)
        not_audio = await stream.next()
    assert (unknown["error"]["code"], unknown["error"]["event_id"]) == ("invalid_value", "evt_bogus")
    assert (webrtc_only["error"]["code"], webrtc_only["error"]["param"]) == ("invalid_value", "type")
    assert (too_short["error"]["code"], too_short["error"]["event_id"]) == (
        "input_audio_buffer_commit_empty",
        "evt_commit",
    )
    assert not_active["error"]["code"] == "response_cancel_not_active"
    assert missing["error"]["param"] == "item_id"
    assert types(added) == ["conversation.item.added", "conversation.item.done"]
    assert added[0]["item"]["id"] == "item_first"
    assert root[0]["previous_item_id"] is None
    assert deleted["item_id"] == "item_first"
    assert not_audio["error"]["message"] == "Only model output audio messages can be truncated"


async def test_ga_item_create_audio_is_not_transcribed_but_commits_are(sim: Simulator) -> None:
    pcm = speech_pcm24("what is the weather like in London")
    async with official_client(sim, api_key=KEY).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
            }
        )
        await stream.next()
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": b64(pcm)}]}
        )
        created = await stream.until("conversation.item.done")
        await conn.input_audio_buffer.append(audio=b64(pcm))
        await conn.input_audio_buffer.commit()
        committed = await stream.until(TRANSCRIPTION + "completed")
        committed += await stream.during(0.5)
    created_id = created[0]["item"]["id"]
    assert created[0]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert not [e for e in committed if e.get("item_id") == created_id]
    assert types(committed)[:3] == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert shape_of(committed[0]) == shape_of({**golden("ga_committed.json"), "previous_item_id": "item_x"})
    assert shape_of(committed[1]) == shape_of({**golden("ga_item_added_user_audio.json"), "previous_item_id": "item_x"})
    completed = [e for e in committed if e["type"] == TRANSCRIPTION + "completed"]
    assert "london" in completed[0]["transcript"].lower()


async def test_ga_transcription_intent_and_g711_through_the_official_client(sim: Simulator) -> None:
    narrow = np.asarray(soxr.resample(np.frombuffer(speech_pcm24("tell me about London"), "<i2"), 24000, 8000))
    codes = ulaw_encode(narrow.astype(np.int16))
    client = official_client(sim, api_key=KEY)
    async with client.realtime.connect(extra_query={"intent": "transcription"}) as conn:
        stream = Judged(conn)
        created = await stream.next()
        await conn.session.update(
            session={
                "type": "transcription",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcmu"},
                        "transcription": {"model": "whisper-1"},
                        "turn_detection": None,
                    }
                },
            }
        )
        updated = await stream.next()
        await conn.response.create()
        refused = await stream.next()
        await conn.input_audio_buffer.append(audio=b64(codes))
        await conn.input_audio_buffer.commit()
        events = await stream.until(TRANSCRIPTION + "completed")
        events += await stream.during(0.3)
    assert created["session"]["type"] == "transcription"
    assert updated["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert refused["error"]["param"] == "type"
    assert not [t for t in types(events) if t.startswith("response.") or t == "rate_limits.updated"]
    completed = next(e for e in events if e["type"] == TRANSCRIPTION + "completed")
    assert "london" in completed["transcript"].lower()


async def test_beta_flow_through_the_official_beta_client(beta_sim: Simulator) -> None:
    client = official_client(beta_sim, api_key=KEY)
    async with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        created = await stream.next()
        await conn.session.update(
            session=unchecked({"modalities": ["text"], "turn_detection": None, "temperature": 0.6})
        )
        updated = await stream.next()
        await conn.session.update(session=unchecked({"output_modalities": ["text"]}))
        ga_name = await stream.next()
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello moon"}]}
        )
        await conn.response.create(response={"modalities": ["text"]})
        turn = await stream.until("rate_limits.updated")
    assert created["session"]["voice"] == "alloy"
    assert (updated["session"]["modalities"], updated["session"]["temperature"]) == (["text"], 0.6)
    assert (ga_name["error"]["code"], ga_name["error"]["param"]) == ("unknown_parameter", "session.output_modalities")
    assert "response.text.delta" in types(turn) and "conversation.item.added" not in types(turn)
    done = next(e for e in turn if e["type"] == "response.done")
    assert "moon" in done["response"]["output"][0]["content"][0]["text"].lower()


async def test_beta_transcription_session_through_the_official_beta_client(beta_sim: Simulator) -> None:
    client = official_client(beta_sim, api_key=KEY)
    async with client.beta.realtime.connect(
        model="gpt-4o-realtime-preview", extra_query={"intent": "transcription"}
    ) as conn:
        stream = Judged(conn, beta=True)
        created = await stream.next()
        await conn.transcription_session.update(
            session=unchecked({"input_audio_transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None})
        )
        updated = await stream.next()
        await conn.input_audio_buffer.append(audio=b64(speech_pcm24("the weather in London")))
        await conn.input_audio_buffer.commit()
        events = await stream.until(TRANSCRIPTION + "completed")
    assert created["type"] == "transcription_session.created"
    assert updated["type"] == "transcription_session.updated"
    assert types(events)[:2] == ["input_audio_buffer.committed", "conversation.item.created"]
    assert "london" in events[-1]["transcript"].lower()
