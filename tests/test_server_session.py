"""Simulator: handshake, session.created, session.update, malformed frames, buffer commit/clear."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.server_helpers import b64, client, recv, recv_for, running_simulator, send, silence, types
from tui.server import Simulator

ID21 = r"[A-Za-z0-9]{21}"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator() as simulator:
        yield simulator


async def test_session_created_is_first_with_the_full_default_session(sim: Simulator) -> None:
    async with connect(sim.url + "?model=gpt-realtime-mini", compression=None) as ws:
        event = await recv(ws)
    assert event["type"] == "session.created"
    assert re.fullmatch("event_" + ID21, event["event_id"])
    session = event["session"]
    assert re.fullmatch("sess_" + ID21, session["id"])
    assert session["type"] == "realtime"
    assert session["object"] == "realtime.session"
    assert session["model"] == "gpt-realtime-mini"
    assert session["output_modalities"] == ["audio"]
    assert isinstance(session["instructions"], str) and session["instructions"]
    assert session["tools"] == [] and session["tool_choice"] == "auto"
    assert session["max_output_tokens"] == "inf"
    assert session["truncation"] == "auto"
    assert session["tracing"] is None and session["prompt"] is None and session["include"] is None
    assert abs(session["expires_at"] - (time.time() + 3600)) < 60
    audio_in = session["audio"]["input"]
    assert audio_in["format"] == {"type": "audio/pcm", "rate": 24000}
    assert audio_in["transcription"] is None and audio_in["noise_reduction"] is None
    assert audio_in["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
        "speed": 1.0,
    }


async def test_subprotocol_realtime_is_selected(sim: Simulator) -> None:
    async with connect(sim.url + "?model=gpt-realtime", compression=None, subprotocols=[Subprotocol("realtime")]) as ws:
        event = await recv(ws)
        assert ws.subprotocol == "realtime"
    assert event["session"]["model"] == "gpt-realtime"


async def test_other_paths_are_404(sim: Simulator) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.url.replace("/v1/realtime", "/v1/chat"), compression=None):
            pass
    assert info.value.response.status_code == 404


async def test_session_update_merges_and_replies_with_the_full_session(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(
            ws,
            {
                "type": "session.update",
                "event_id": "evt_client_1",
                "session": {
                    "type": "realtime",
                    "instructions": "Be brief.",
                    "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe", "language": "en"}}},
                },
            },
        )
        first = await recv(ws)
        await send(
            ws,
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {
                        "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}},
                        "output": {"voice": "cedar"},
                    },
                },
            },
        )
        second = await recv(ws)
    assert first["type"] == "session.updated"
    assert first["event_id"] != "evt_client_1"
    assert "evt_client_1" not in json.dumps(first)
    session = second["session"]
    assert second["type"] == "session.updated"
    assert session["instructions"] == "Be brief."
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-4o-transcribe", "language": "en"}
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500
    assert session["audio"]["input"]["turn_detection"]["threshold"] == 0.5
    assert session["audio"]["output"]["voice"] == "cedar"
    assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["tools"] == [] and session["max_output_tokens"] == "inf"
    assert session["id"] == first["session"]["id"]


async def test_invalid_update_is_rejected_whole(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(
            ws,
            {
                "type": "session.update",
                "event_id": "evt_rate",
                "session": {
                    "type": "realtime",
                    "instructions": "Should not stick.",
                    "audio": {
                        "input": {
                            "format": {"type": "audio/pcm", "rate": 16000},
                            "transcription": {"model": "whisper-1"},
                        }
                    },
                },
            },
        )
        error = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"type": "realtime"}})
        after = await recv(ws)
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == "integer_below_min_value"
    assert error["error"]["param"] == "session.audio.input.format.rate"
    assert error["error"]["event_id"] == "evt_rate"
    assert after["type"] == "session.updated"
    assert after["session"]["audio"]["input"]["transcription"] is None
    assert after["session"]["instructions"] != "Should not stick."
    assert after["session"]["audio"]["input"]["format"]["rate"] == 24000


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        (
            {"type": "realtime", "output_modalities": ["text", "audio"]},
            "invalid_value",
            "session.output_modalities",
        ),
        ({"type": "transcription"}, "invalid_value", "session.type"),
    ],
)
async def test_session_update_checks(sim: Simulator, session: dict[str, object], code: str, param: str) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "session.update", "session": session})
        error = await recv(ws)
    assert error["type"] == "error"
    assert error["error"]["code"] == code
    assert error["error"]["param"] == param
    assert error["error"]["event_id"] is None


async def test_malformed_frames_get_errors_and_the_socket_stays_open(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await ws.send("{not json")
        bad_json = await recv(ws)
        await send(ws, {"type": "no.such.event", "event_id": "evt_unknown"})
        unknown = await recv(ws)
        await send(ws, {"event_id": "evt_typeless", "audio": ""})
        typeless = await recv(ws)
        await ws.send(b"\x00\x01binary")
        binary = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"type": "realtime"}})
        still_open = await recv(ws)
    assert bad_json["type"] == "error" and bad_json["error"]["code"] == "invalid_json"
    assert unknown["error"]["code"] == "invalid_value"
    assert unknown["error"]["param"] == "type"
    assert unknown["error"]["event_id"] == "evt_unknown"
    assert "input_audio_buffer.append" in unknown["error"]["message"]
    assert typeless["error"]["code"] == "invalid_event"
    assert typeless["error"]["event_id"] == "evt_typeless"
    assert binary["error"]["code"] == "invalid_event"
    assert binary["error"]["message"] == "binary frames are not supported"
    assert still_open["type"] == "session.updated"


async def test_commit_under_100ms_is_an_error(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "session.update", "session": {"type": "realtime"}})
        await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(50))})
        await send(ws, {"type": "input_audio_buffer.commit", "event_id": "evt_commit"})
        error = await recv(ws)
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"
    assert "Expected at least 100ms" in error["error"]["message"]
    assert "50.00ms" in error["error"]["message"]
    assert error["error"]["event_id"] == "evt_commit"


async def test_clear_empties_the_buffer(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(500))})
        await send(ws, {"type": "input_audio_buffer.clear"})
        cleared = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.commit"})
        error = await recv(ws)
        # Appends are never acknowledged.
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(200))})
        quiet = await recv_for(ws, 0.3)
    assert cleared["type"] == "input_audio_buffer.cleared"
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"
    assert "0.00ms" in error["error"]["message"]
    assert types(quiet) == []
