"""Strict validation: session.update paths and codes, the envelope, error shapes, item checks."""

from __future__ import annotations

import base64
import collections.abc
import copy
import re
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from openai.types.realtime import RealtimeSessionCreateRequestParam
from typing_extensions import is_typeddict

from tests.server_helpers import (
    b64,
    client,
    recv,
    recv_until,
    running_simulator,
    send,
    silence,
    speech_pcm24,
)
from tests.surface_helpers import golden, shape_of
from tui.server import Simulator

ID21 = r"[A-Za-z0-9]{21}"


async def update_error(ws: Any, session: dict[str, Any]) -> dict[str, Any]:
    """Send a session.update that must fail; return the error object."""
    await send(ws, {"type": "session.update", "event_id": "evt_bad_update", "session": session})
    event = await recv(ws)
    assert event["type"] == "error", event
    error: dict[str, Any] = event["error"]
    assert error["event_id"] == "evt_bad_update"
    return error


def realtime(**fields: Any) -> dict[str, Any]:
    return {"type": "realtime", **fields}


def audio_in(**fields: Any) -> dict[str, Any]:
    return realtime(audio={"input": fields})


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        ({"input_audio_format": "pcm16"}, "missing_required_parameter", "session.type"),
        (realtime(bogus_field=1), "unknown_parameter", "session.bogus_field"),
        (realtime(id="sess_mine"), "unknown_parameter", "session.id"),
        (realtime(input_audio_format="pcm16"), "unknown_parameter", "session.input_audio_format"),
        (realtime(modalities=["text"]), "unknown_parameter", "session.modalities"),
        (realtime(temperature=0.8), "unknown_parameter", "session.temperature"),
        (realtime(voice="alloy"), "unknown_parameter", "session.voice"),
        (realtime(turn_detection=None), "unknown_parameter", "session.turn_detection"),
        (
            realtime(input_audio_transcription={"model": "whisper-1"}),
            "unknown_parameter",
            "session.input_audio_transcription",
        ),
        (audio_in(bogus=True), "unknown_parameter", "session.audio.input.bogus"),
        (
            audio_in(transcription={"model": "whisper-1", "enabled": True}),
            "unknown_parameter",
            "session.audio.input.transcription.enabled",
        ),
        (
            audio_in(format={"type": "audio/pcm", "rate": 16000}),
            "integer_below_min_value",
            "session.audio.input.format.rate",
        ),
        (audio_in(format={"type": "audio/pcm", "rate": 44100}), "invalid_value", "session.audio.input.format.rate"),
        (audio_in(format={"type": "audio/pcmu", "rate": 8000}), "unknown_parameter", "session.audio.input.format.rate"),
        (audio_in(format={"type": "audio/opus"}), "invalid_value", "session.audio.input.format.type"),
        (audio_in(format="pcm16"), "invalid_type", "session.audio.input.format"),
        (audio_in(transcription={"model": "whisper-2"}), "invalid_value", "session.audio.input.transcription.model"),
        (audio_in(turn_detection={"type": "vad"}), "invalid_value", "session.audio.input.turn_detection.type"),
        (
            audio_in(turn_detection={"silence_duration_ms": 500}),
            "missing_required_parameter",
            "session.audio.input.turn_detection.type",
        ),
        (
            audio_in(turn_detection={"type": "server_vad", "idle_timeout_ms": 1000}),
            "integer_below_min_value",
            "session.audio.input.turn_detection.idle_timeout_ms",
        ),
        (
            audio_in(turn_detection={"type": "server_vad", "idle_timeout_ms": 60000}),
            "integer_above_max_value",
            "session.audio.input.turn_detection.idle_timeout_ms",
        ),
        (
            audio_in(turn_detection={"type": "semantic_vad", "threshold": 0.5}),
            "unknown_parameter",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            audio_in(turn_detection={"type": "server_vad", "eagerness": "low"}),
            "unknown_parameter",
            "session.audio.input.turn_detection.eagerness",
        ),
        (
            audio_in(turn_detection={"type": "server_vad", "threshold": 1.5}),
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            audio_in(turn_detection={"type": "semantic_vad", "eagerness": "eager"}),
            "invalid_value",
            "session.audio.input.turn_detection.eagerness",
        ),
        (audio_in(noise_reduction={"type": "studio"}), "invalid_value", "session.audio.input.noise_reduction.type"),
        (realtime(audio={"output": {"voice": "bogus"}}), "invalid_value", "session.audio.output.voice"),
        (realtime(audio={"output": {"voice": 7}}), "invalid_type", "session.audio.output.voice"),
        (realtime(audio={"output": {"speed": 3}}), "decimal_above_max_value", "session.audio.output.speed"),
        (realtime(audio={"output": {"speed": 0.1}}), "decimal_below_min_value", "session.audio.output.speed"),
        (realtime(output_modalities=["text", "audio"]), "invalid_value", "session.output_modalities"),
        (realtime(output_modalities=["video"]), "invalid_value", "session.output_modalities[0]"),
        (realtime(max_output_tokens=0), "integer_below_min_value", "session.max_output_tokens"),
        (
            realtime(tools=[{"type": "function", "description": "x"}]),
            "missing_required_parameter",
            "session.tools[0].name",
        ),
        (realtime(tools=[{"type": "retrieval"}]), "invalid_value", "session.tools[0].type"),
        (realtime(tool_choice="sometimes"), "invalid_value", "session.tool_choice"),
        (realtime(include=["everything"]), "invalid_value", "session.include[0]"),
        (realtime(model="whisper-1"), "invalid_value", "session.model"),
        (realtime(instructions=42), "invalid_type", "session.instructions"),
        ({"type": "transcription"}, "invalid_value", "session.type"),
        ({"type": "translation"}, "invalid_value", "session.type"),
    ],
)
async def test_session_update_errors_name_the_path(
    sim: Simulator, session: dict[str, Any], code: str, param: str
) -> None:
    async with client(sim.url) as ws:
        error = await update_error(ws, session)
    assert (error["code"], error["param"]) == (code, param), error
    assert error["type"] == "invalid_request_error"


async def test_a_rejected_update_applies_nothing(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await update_error(
            ws,
            realtime(
                instructions="Should not stick.",
                output_modalities=["text"],
                audio={
                    "input": {"transcription": {"model": "whisper-1"}, "turn_detection": None},
                    "output": {"voice": "cedar", "speed": 9.0},
                },
            ),
        )
        await send(ws, {"type": "session.update", "session": realtime()})
        after = (await recv(ws))["session"]
    assert after["instructions"] != "Should not stick."
    assert after["output_modalities"] == ["audio"]
    assert after["audio"]["input"]["transcription"] is None
    assert after["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert after["audio"]["output"]["voice"] == "marin"


FULL_SESSION = realtime(
    model="gpt-realtime",
    output_modalities=["text"],
    instructions="Be brief.",
    audio={
        "input": {
            "format": {"type": "audio/pcmu"},
            "transcription": {
                "model": "gpt-4o-transcribe",
                "language": "en",
                "prompt": "weather",
                "languages": ["en"],
                "keywords": ["London"],
                "delay": "low",
            },
            "noise_reduction": {"type": "near_field", "strength": 0.5},
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.6,
                "prefix_padding_ms": 200,
                "silence_duration_ms": 400,
                "idle_timeout_ms": None,
                "create_response": False,
                "interrupt_response": False,
            },
        },
        "output": {"format": {"type": "audio/pcma"}, "voice": {"id": "voice_custom"}, "speed": 1.2},
    },
    include=["item.input_audio_transcription.logprobs"],
    max_output_tokens=512,
    parallel_tool_calls=True,
    prompt={"id": "pmpt_1", "version": None, "variables": {"city": "London"}},
    reasoning={"effort": "low"},
    tool_choice={"type": "function", "name": "get_weather"},
    tools=[{"type": "function", "name": "get_weather", "description": "Weather.", "parameters": {}}],
    tracing={"workflow_name": "tests", "group_id": "g", "metadata": {"a": 1}},
    truncation={"type": "retention_ratio", "retention_ratio": 0.5, "token_limits": {"post_instructions": 10}},
)
"""A GA realtime session with every field the official request type declares (one variant of each union)."""

#: The other variants of the request type's unions, each a valid update of its own.
SESSION_VARIANTS = [
    realtime(
        audio={
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "turn_detection": {"type": "semantic_vad", "eagerness": "high"},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "cedar"},
        },
        tool_choice={"type": "mcp", "server_label": "docs", "name": None},
        tools=[
            {
                "type": "mcp",
                "server_label": "docs",
                "server_url": "https://example.invalid/mcp",
                "server_description": "Docs.",
                "connector_id": "connector_dropbox",
                "authorization": "token",
                "headers": {"X-Test": "1"},
                "allowed_tools": {"read_only": True, "tool_names": ["search"]},
                "require_approval": {
                    "always": {"read_only": False, "tool_names": ["write"]},
                    "never": {"read_only": True, "tool_names": ["search"]},
                },
                "allowed_callers": ["direct"],
                "defer_loading": False,
                "tunnel_id": "tunnel_1",
            }
        ],
        truncation="auto",
        tracing="auto",
    ),
]
#: Free-form JSON in the request type: its inner keys are the client's, not the schema's.
_FREE_FORM = ("prompt.variables.", "tracing.metadata.", "tools[].parameters.")


def sdk_field_paths(tp: Any, prefix: str = "") -> set[str]:
    """Every dotted field path of an SDK request TypedDict (arrays as `[]`), unions included."""
    found: set[str] = set()
    if is_typeddict(tp):
        for key, sub in get_type_hints(tp).items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | sdk_field_paths(sub, path)
        return found
    origin = get_origin(tp)
    if origin is None or origin is Literal:
        return found
    is_array = origin in (list, collections.abc.Iterable, collections.abc.Sequence)
    for arg in get_args(tp):
        found |= sdk_field_paths(arg, prefix + "[]" if is_array else prefix)
    return found


def payload_paths(value: Any, prefix: str = "") -> set[str]:
    """The dotted paths present in a JSON value, arrays as `[]`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | payload_paths(sub, path)
    elif isinstance(value, list):
        for entry in value:
            found |= payload_paths(entry, prefix + "[]")
    return found


def test_the_full_session_covers_every_field_of_the_official_request_type() -> None:
    sdk = sdk_field_paths(RealtimeSessionCreateRequestParam)
    assert {"audio.input.turn_detection.eagerness", "truncation.token_limits.post_instructions"} <= sdk
    sent = set().union(*(payload_paths(payload) for payload in [FULL_SESSION, *SESSION_VARIANTS]))
    missing = {path for path in sdk - sent if not path.startswith(_FREE_FORM)}
    assert not missing, f"fields of the SDK request type not exercised: {sorted(missing)}"


async def test_every_field_of_the_official_request_type_is_accepted(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        for variant in SESSION_VARIANTS:
            await send(ws, {"type": "session.update", "session": variant})
            accepted = await recv(ws)
            assert accepted["type"] == "session.updated", accepted
        full = FULL_SESSION
        await send(ws, {"type": "session.update", "session": full})
        updated = await recv(ws)
    assert updated["type"] == "session.updated", updated
    session = updated["session"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["voice"] == {"id": "voice_custom"}
    assert session["truncation"]["retention_ratio"] == 0.5


async def test_envelope_ids_and_client_ids(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "id": "my_own_item_id",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hi"}],
                },
            },
        )
        await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
        events = await recv_until(ws, "response.done")
    ids = {e["event_id"] for e in events}
    assert len(ids) == len(events)
    assert all(re.fullmatch("event_" + ID21, e["event_id"]) for e in events)
    assert events[0]["item"]["id"] == "my_own_item_id"
    response = events[-1]["response"]
    assert re.fullmatch("resp_" + ID21, response["id"])
    assert re.fullmatch("conv_" + ID21, response["conversation_id"])
    assert re.fullmatch("item_" + ID21, response["output"][0]["id"])


async def test_error_cases_keep_the_socket_open(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "output_audio_buffer.clear", "event_id": "evt_webrtc_only"})
        webrtc = await recv(ws)
        await send(ws, {"type": "response.cancel", "event_id": "evt_cancel"})
        cancel = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": "%%% not base64"})
        bad_audio = await recv(ws)
        await send(ws, {"type": "bogus.event"})
        unknown = await recv(ws)
        await send(ws, {"type": "session.update", "session": realtime()})
        alive = await recv(ws)
    assert (webrtc["error"]["code"], webrtc["error"]["param"]) == ("invalid_value", "type")
    assert webrtc["error"]["event_id"] == "evt_webrtc_only"
    assert "output_audio_buffer.clear" not in webrtc["error"]["message"].split("Supported values are:")[1]
    assert cancel["error"]["code"] == "response_cancel_not_active"
    assert cancel["error"]["message"] == "Cancellation failed: no active response found"
    assert bad_audio["error"]["param"] == "audio"
    assert unknown["error"]["event_id"] is None
    assert shape_of(unknown) == shape_of(
        {
            **golden("error_event.json"),
            "error": {**golden("error_event.json")["error"], "event_id": None, "code": "invalid_value"},
        }
    )
    assert alive["type"] == "session.updated"


async def test_error_event_shape_matches_the_golden_fixture(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "session.update", "event_id": "evt_client_7", "session": realtime(bogus_field=1)})
        error = await recv(ws)
    assert shape_of(error) == shape_of(golden("error_event.json"))
    assert error["error"]["message"] == "Unknown parameter: 'session.bogus_field'."


def message(role: str, *parts: dict[str, Any], item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "message", "role": role, "content": list(parts)}
    if item_id:
        item["id"] = item_id
    return {"type": "conversation.item.create", "item": item}


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        (message("user", {"type": "output_text", "text": "x"}), "invalid_value", "item.content[0].type"),
        (message("assistant", {"type": "input_text", "text": "x"}), "invalid_value", "item.content[0].type"),
        (message("system", {"type": "input_audio", "audio": ""}), "invalid_value", "item.content[0].type"),
        (message("user", {"type": "input_text"}), "missing_required_parameter", "item.content[0].text"),
        (
            message("user", {"type": "input_text", "text": "x", "lang": "en"}),
            "unknown_parameter",
            "item.content[0].lang",
        ),
        (
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user"}},
            "missing_required_parameter",
            "item.content",
        ),
        ({"type": "conversation.item.create", "item": {"type": "note"}}, "invalid_value", "item.type"),
        ({"type": "conversation.item.create", "item": {"role": "user"}}, "missing_required_parameter", "item.type"),
        (
            {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"},
            },
            "invalid_value",
            "item.call_id",
        ),
        (
            {"type": "conversation.item.create", "item": {"type": "function_call_output", "output": "{}"}},
            "missing_required_parameter",
            "item.call_id",
        ),
    ],
)
async def test_item_create_checks(sim: Simulator, event: dict[str, Any], code: str, param: str) -> None:
    async with client(sim.url) as ws:
        await send(ws, event)
        error = await recv(ws)
    assert error["type"] == "error", error
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)


async def test_function_call_output_needs_a_known_call(sim: Simulator) -> None:
    call = {"type": "function_call", "call_id": "call_0123456789abcdef", "name": "get_weather", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "call_0123456789abcdef", "output": '{"sunny": true}'}
    async with client(sim.url) as ws:
        await send(ws, {"type": "conversation.item.create", "item": call})
        call_added = await recv(ws)
        await recv(ws)
        await send(ws, {"type": "conversation.item.create", "item": output})
        output_added = await recv(ws)
    assert call_added["item"]["call_id"] == "call_0123456789abcdef"
    assert output_added["type"] == "conversation.item.added"
    assert output_added["previous_item_id"] == call_added["item"]["id"]


async def test_root_inserts_first_and_previous_ids_chain(sim: Simulator) -> None:
    hello = {"type": "input_text", "text": "hello"}
    async with client(sim.url) as ws:
        await send(ws, message("user", hello, item_id="item_b"))
        await recv(ws), await recv(ws)
        await send(ws, {**message("user", hello, item_id="item_a"), "previous_item_id": "root"})
        root = await recv(ws)
        await recv(ws)
        await send(ws, {**message("user", hello, item_id="item_ab"), "previous_item_id": "item_a"})
        middle = await recv(ws)
        await recv(ws)
        await send(ws, message("user", hello, item_id="item_b"))
        duplicate = await recv(ws)
    assert root["previous_item_id"] is None
    assert middle["previous_item_id"] == "item_a"
    assert (duplicate["error"]["code"], duplicate["error"]["param"]) == ("invalid_value", "item.id")


async def test_truncating_user_audio_is_refused(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "session.update", "session": audio_in(turn_detection=None)})
        await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(300))})
        await send(ws, {"type": "input_audio_buffer.commit"})
        committed = await recv(ws)
        await recv(ws), await recv(ws)
        await send(
            ws,
            {
                "type": "conversation.item.truncate",
                "item_id": committed["item_id"],
                "content_index": 0,
                "audio_end_ms": 10,
            },
        )
        error = await recv(ws)
    assert error["error"]["message"] == "Only model output audio messages can be truncated"


async def test_truncate_clears_the_transcript_and_retrieve_keeps_audio(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, message("user", {"type": "input_text", "text": "tell me about London"}))
        await recv(ws), await recv(ws)
        await send(ws, {"type": "response.create"})
        done = (await recv_until(ws, "response.done"))[-1]
        item = done["response"]["output"][0]
        assert item["content"][0]["transcript"]
        await send(
            ws, {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 300}
        )
        await recv_until(ws, "conversation.item.truncated")
        await send(ws, {"type": "conversation.item.retrieve", "item_id": item["id"]})
        retrieved = (await recv_until(ws, "conversation.item.retrieved"))[-1]
    part = retrieved["item"]["content"][0]
    assert part["type"] == "output_audio"
    assert part["transcript"] == ""
    assert len(base64.b64decode(part["audio"])) == 300 * 48


async def _transcribed_item(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with client(url) as ws:
        session = audio_in(turn_detection=None, transcription={"model": "gpt-4o-mini-transcribe"})
        await send(ws, {"type": "session.update", "session": session})
        await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(speech_pcm24("the weather in London"))})
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, "conversation.item.input_audio_transcription.completed")
        item_id = events[0]["item_id"]
        await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
        retrieved = await recv_until(ws, "conversation.item.retrieved")
    return events[-1], retrieved[-1]


async def test_retrieve_shows_the_transcript_once_completed(sim: Simulator) -> None:
    completed, retrieved = await _transcribed_item(sim.url)
    part = retrieved["item"]["content"][0]
    assert part["transcript"] == completed["transcript"]
    assert "london" in part["transcript"].lower()
    assert base64.b64decode(part["audio"]) == speech_pcm24("the weather in London")
    stripped = copy.deepcopy(retrieved)
    stripped["item"]["content"][0]["transcript"] = None
    assert shape_of(stripped) == shape_of(golden("ga_item_retrieved_user_audio.json"))


async def test_retrieve_transcripts_can_be_switched_off() -> None:
    async with running_simulator(retrieve_transcripts=False) as sim:
        completed, retrieved = await _transcribed_item(sim.url)
    assert "london" in completed["transcript"].lower()
    assert retrieved["item"]["content"][0]["transcript"] is None
