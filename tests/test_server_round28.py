"""Round 28 review of the simulator: the top level of client events, checked as the service does.

The service refuses a client event that carries a field its type does not declare
(`unknown_parameter`, param = the field's name, the client's `event_id` echoed) or lacks a
required one, and applies nothing of it (protocol reference §1.6, §7). Each test drives the real
simulator over a loopback WebSocket with the official client (GA `client.realtime.connect()` or
beta `client.beta.realtime.connect()`); every server event is parsed by the SDK and judged
against its pydantic types (`tests.surface_helpers.Judged`).
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from openai.types.beta.realtime import realtime_client_event_param as beta_events
from openai.types.realtime import realtime_client_event_param as ga_events

from tests.server_helpers import b64, silence
from tests.surface_helpers import Judged, official_client, unchecked
from tui.server import Simulator
from tui.server.envelope import CLIENT_EVENT_FIELDS


def user_text(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def unknown(field: str, event_id: str) -> dict[str, Any]:
    """The `error` object the service sends for an undeclared top-level field."""
    return {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "message": f"Unknown parameter: '{field}'.",
        "param": field,
        "event_id": event_id,
    }


# ---- the field table is the SDK's -----------------------------------------------------------------


def sdk_fields(module: Any) -> dict[str, tuple[set[str], set[str]]]:
    """Event type → (all fields, required fields) of the SDK's client event TypedDicts."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for event in typing.get_args(module.RealtimeClientEventParam):
        hints = typing.get_type_hints(event, include_extras=True)
        literal = typing.get_args(hints["type"])[0]
        name = typing.get_args(literal)[0]
        required = {key for key, hint in hints.items() if typing.get_origin(hint) is typing.Required}
        found[name] = (set(hints), required)
    return found


@pytest.mark.parametrize("module", [ga_events, beta_events], ids=["ga", "beta"])
def test_the_top_level_fields_are_the_sdk_client_event_fields(module: Any) -> None:
    for name, (fields, required) in sdk_fields(module).items():
        optional, needed = CLIENT_EVENT_FIELDS[name]
        assert {"type", "event_id", *optional, *needed} == fields, name
        assert {"type", *needed} == required, name


# ---- GA: an undeclared field refuses the event whole --------------------------------------------------


async def test_an_unknown_top_level_field_refuses_each_ga_event(sim: Simulator) -> None:
    """Every client event type with a stray field: `unknown_parameter` naming it, nothing applied."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        await stream.until("session.updated")
        sent: list[dict[str, Any]] = [
            {"type": "session.update", "session": {"type": "realtime", "instructions": "Say no."}},
            {"type": "input_audio_buffer.append", "audio": b64(silence(300))},
            {"type": "input_audio_buffer.commit"},
            {"type": "input_audio_buffer.clear"},
            {"type": "conversation.item.create", "item": {**user_text("hello"), "id": "item_stray"}},
            {"type": "conversation.item.retrieve", "item_id": "item_stray"},
            {"type": "conversation.item.delete", "item_id": "item_stray"},
            {"type": "conversation.item.truncate", "item_id": "item_stray", "content_index": 0, "audio_end_ms": 0},
            {"type": "response.create", "response": {"output_modalities": ["text"]}},
            {"type": "response.cancel"},
        ]
        refused = []
        for index, event in enumerate(sent):
            await conn.send(unchecked({**event, "event_id": f"evt_{index}", "stray": True}))
            refused.append(await stream.next())
        # Nothing was applied: no instructions, no audio in the buffer, no item, no response.
        await conn.session.update(session={"type": "realtime"})
        after = await stream.next()
        await conn.input_audio_buffer.commit(event_id="evt_empty")
        empty = await stream.next()
        await conn.conversation.item.retrieve(item_id="item_stray", event_id="evt_gone")
        gone = await stream.next()
    assert [event["error"] for event in refused] == [unknown("stray", f"evt_{i}") for i in range(len(sent))]
    assert after["type"] == "session.updated"
    assert after["session"]["instructions"] != "Say no."
    assert (empty["error"]["code"], empty["error"]["event_id"]) == ("input_audio_buffer_commit_empty", "evt_empty")
    assert (gone["error"]["code"], gone["error"]["event_id"]) == ("item_retrieve_invalid_item_id", "evt_gone")


async def test_a_transcription_socket_refuses_an_unknown_field_too(sim: Simulator) -> None:
    async with official_client(sim).realtime.connect(extra_query={"intent": "transcription"}) as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.send(
            unchecked(
                {
                    "type": "session.update",
                    "event_id": "evt_t",
                    "session": {"type": "transcription", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
                    "model": "whisper-1",
                }
            )
        )
        refused = await stream.next()
        await conn.session.update(session={"type": "transcription"})
        after = await stream.next()
    assert refused["error"] == unknown("model", "evt_t")
    assert after["session"]["audio"]["input"]["transcription"] is None


async def test_every_declared_field_is_accepted_and_only_an_undeclared_one_refused(sim: Simulator) -> None:
    """The check refuses only what the SDK does not declare: each event with all its fields passes."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.send(
            {
                "type": "session.update",
                "event_id": "evt_s",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        await stream.until("session.updated")
        await conn.send({"type": "input_audio_buffer.append", "event_id": "evt_a", "audio": b64(silence(200))})
        await conn.send({"type": "input_audio_buffer.clear", "event_id": "evt_c"})
        cleared = await stream.next()
        await conn.send(
            unchecked(
                {
                    "type": "conversation.item.create",
                    "event_id": "evt_i",
                    "previous_item_id": "root",
                    "item": user_text("hi"),
                }
            )
        )
        created = await stream.until("conversation.item.done")
        item_id = created[-1]["item"]["id"]
        await conn.send({"type": "conversation.item.retrieve", "event_id": "evt_r", "item_id": item_id})
        retrieved = await stream.next()
        await conn.send({"type": "response.create", "event_id": "evt_rc", "response": {"output_modalities": ["text"]}})
        started = await stream.next()
        await conn.send({"type": "response.cancel", "event_id": "evt_x", "response_id": started["response"]["id"]})
        done = await stream.until("response.done")
        await conn.send({"type": "conversation.item.delete", "event_id": "evt_d", "item_id": item_id})
        deleted = await stream.until("conversation.item.deleted")
        # Only an undeclared one is refused: `item_id` does not belong on a clear.
        await conn.send(unchecked({"type": "input_audio_buffer.clear", "event_id": "evt_s2", "item_id": item_id}))
        stray = await stream.next()
    assert cleared["type"] == "input_audio_buffer.cleared"
    assert retrieved["type"] == "conversation.item.retrieved"
    assert started["type"] == "response.created"
    assert done[-1]["response"]["status"] in ("cancelled", "completed")
    assert deleted[-1]["item_id"] == item_id
    # The cancel may find the text response already done (response_cancel_not_active): the
    # point is that no field was refused.
    refusals = [e["error"] for e in stream.events[:-1] if e["type"] == "error"]
    assert [r for r in refusals if r["code"] != "response_cancel_not_active"] == []
    assert stray["error"] == unknown("item_id", "evt_s2")


# ---- required fields -----------------------------------------------------------------------------------


async def test_a_truncate_without_content_index_is_missing_a_required_parameter(sim: Simulator) -> None:
    """The SDK marks `content_index` Required on `conversation.item.truncate`; the simulator took 0."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.conversation.item.create(item=unchecked(user_text("hello moon")))
        await stream.until("conversation.item.done")
        await conn.response.create()
        spoken = await stream.until("rate_limits.updated")
        assistant = next(e for e in spoken if e["type"] == "response.output_item.done")["item"]["id"]
        await conn.send(
            unchecked(
                {"type": "conversation.item.truncate", "event_id": "evt_cut", "item_id": assistant, "audio_end_ms": 10}
            )
        )
        refused = await stream.next()
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "missing_required_parameter",
        "message": "Missing required parameter: 'content_index'.",
        "param": "content_index",
        "event_id": "evt_cut",
    }


# ---- event_id -------------------------------------------------------------------------------------------


async def test_an_event_id_must_be_a_string_of_at_most_512_characters(sim: Simulator) -> None:
    """GA spec: `event_id` is an optional string with `maxLength: 512`. A refused id is not echoed."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.send(unchecked({"type": "input_audio_buffer.clear", "event_id": "e" * 513}))
        too_long = await stream.next()
        await conn.send(unchecked({"type": "input_audio_buffer.clear", "event_id": 7}))
        not_text = await stream.next()
        await conn.input_audio_buffer.clear(event_id="e" * 512)
        longest = await stream.next()
        await conn.send(unchecked({"type": "input_audio_buffer.clear", "event_id": None}))  # the SDK's "none"
        null = await stream.next()
    assert too_long["error"] == {
        "type": "invalid_request_error",
        "code": "string_above_max_length",
        "message": "Invalid 'event_id': string too long. Expected a string with maximum length 512, "
        "but got a string with length 513 instead.",
        "param": "event_id",
        "event_id": None,
    }
    assert (not_text["error"]["code"], not_text["error"]["param"], not_text["error"]["event_id"]) == (
        "invalid_type",
        "event_id",
        None,
    )
    assert longest["type"] == "input_audio_buffer.cleared"
    assert null["type"] == "input_audio_buffer.cleared"


# ---- beta ---------------------------------------------------------------------------------------------------


async def test_an_unknown_top_level_field_refuses_a_beta_event(beta_sim: Simulator) -> None:
    async with official_client(beta_sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        await stream.next()
        await conn.send(
            unchecked(
                {"type": "session.update", "event_id": "evt_b", "session": {"instructions": "Say no."}, "voice": "ash"}
            )
        )
        refused_update = await stream.next()
        await conn.send(
            unchecked(
                {"type": "conversation.item.create", "event_id": "evt_bi", "item": user_text("hi"), "role": "user"}
            )
        )
        refused_item = await stream.next()
        await conn.send(unchecked({"type": "input_audio_buffer.clear", "event_id": 7}))
        not_text = await stream.next()
        await conn.session.update(session={"temperature": 0.7})
        after = await stream.next()
    assert refused_update["error"] == unknown("voice", "evt_b")
    assert refused_item["error"] == unknown("role", "evt_bi")
    assert (not_text["error"]["code"], not_text["error"]["param"]) == ("invalid_type", "event_id")
    assert after["type"] == "session.updated"
    assert after["session"]["instructions"] != "Say no."
    assert after["session"]["voice"] != "ash"


# ---- response.cancel ----------------------------------------------------------------------------------------


async def test_a_response_id_that_is_not_a_string_is_an_invalid_type(sim: Simulator) -> None:
    """The SDK types `response_id` as a string; a number was looked up and reported as 'no active
    response found', hiding the client's real mistake."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.send(unchecked({"type": "response.cancel", "event_id": "evt_n", "response_id": 5}))
        refused = await stream.next()
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "invalid_type",
        "message": "Invalid type for 'response_id': expected a string, but got a number instead.",
        "param": "response_id",
        "event_id": "evt_n",
    }
