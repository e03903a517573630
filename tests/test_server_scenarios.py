"""Simulator scheduling and fault scenarios (`sim_*` query parameters, scenario files), end to end.

The ordering modes are also fed through the app's reducer (`tui.conversation.Conversation`) to
show that rt-tui's transcript still ends up right however the events arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import openai
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK

from tests.server_helpers import (
    append_audio,
    of_type,
    recv,
    recv_until,
    running_simulator,
    send,
    session_patch,
    speech_pcm24,
    types,
)
from tests.surface_helpers import shape_of
from tests.test_server_conformance import judge
from tui.conversation import Conversation, TextState
from tui.protocol import Dialect, Direction, Envelope, FrameError, parse
from tui.server import Simulator, SimulatorConfig
from tui.server.faults import session_expired_message
from tui.server.scenario import Scenario

WEATHER = "what is the weather like in London today"
KITCHEN = "turn on the kitchen lights"
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
GOLDEN = Path(__file__).parent / "golden" / "faults"


@contextlib.asynccontextmanager
async def scenario_socket(url: str, **query: str) -> AsyncIterator[ClientConnection]:
    """A raw socket to the simulator with `sim_*` query parameters; nothing read yet."""
    async with connect(f"{url}?{urlencode({'model': 'gpt-realtime', **query})}", compression=None) as ws:
        yield ws


async def start_text_session(ws: ClientConnection) -> list[dict[str, Any]]:
    """session.created, then manual turns with transcription on and text replies."""
    events = [await recv(ws)]
    await send(ws, session_patch(transcription="gpt-4o-transcribe", output_modalities=["text"]))
    events += await recv_until(ws, "session.updated")
    return events


async def speak(ws: ClientConnection, text: str) -> None:
    """One user turn through the input buffer, committed by hand."""
    await append_audio(ws, speech_pcm24(text))
    await send(ws, {"type": "input_audio_buffer.commit"})


async def recv_until_all(ws: ClientConnection, event_type: str, count: int) -> list[dict[str, Any]]:
    """Collect events until `count` of `event_type` have arrived."""
    events: list[dict[str, Any]] = []
    while len(of_type(events, event_type)) < count:
        events += await recv_until(ws, event_type)
    return events


def reduce(events: list[dict[str, Any]]) -> Conversation:
    """The conversation the app would show after these server events."""
    conversation = Conversation()
    for seq, event in enumerate(events):
        conversation.apply(Envelope(seq, Direction.IN, event["type"], event, json.dumps(event)))
    return conversation


def user_texts(conversation: Conversation) -> list[tuple[str, TextState, str]]:
    return [(item.id, item.state, item.text.lower()) for item in conversation.ordered() if item.role == "user"]


def user_item_added(events: list[dict[str, Any]], item_id: str) -> int:
    return next(
        i for i, e in enumerate(events) if e["type"] == "conversation.item.added" and e["item"]["id"] == item_id
    )


# ---- transcription ordering ------------------------------------------------------------------


async def test_completed_after_response_done(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_transcription="after_response") as ws:
        events = await start_text_session(ws)
        await speak(ws, WEATHER)
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, COMPLETED)
    kinds = types(events)
    done = kinds.index("response.done")
    assert all(index > done for index, kind in enumerate(kinds) if kind.startswith(DELTA.rsplit(".", 1)[0]))
    [(_, state, text)] = user_texts(reduce(events))
    assert state is TextState.DONE and "weather" in text


async def test_completed_in_the_middle_of_the_response(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_transcription="mid_response") as ws:
        events = await start_text_session(ws)
        await speak(ws, WEATHER)
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
    kinds = types(events)
    deltas = [index for index, kind in enumerate(kinds) if kind == "response.output_text.delta"]
    assert deltas[0] < kinds.index(COMPLETED) < deltas[-1]
    conversation = reduce(events)
    [(_, state, text)] = user_texts(conversation)
    assert state is TextState.DONE and "london" in text
    assert [item.role for item in conversation.ordered()] == ["user", "assistant"]


async def test_transcript_before_the_item_is_added(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_transcription="before_item") as ws:
        events = await start_text_session(ws)
        await speak(ws, WEATHER)
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
    kinds = types(events)
    item_id = of_type(events, "input_audio_buffer.committed")[0]["item_id"]
    added = user_item_added(events, item_id)
    first_transcription = kinds.index(DELTA)
    assert kinds.index("input_audio_buffer.committed") < first_transcription < kinds.index(COMPLETED) < added
    # Everything else waited too: the response starts after the item it answers.
    assert added < kinds.index("response.created")
    conversation = reduce(events)
    [(user_id, state, text)] = user_texts(conversation)
    assert user_id == item_id and state is TextState.DONE and "weather" in text
    assert [item.role for item in conversation.ordered()] == ["user", "assistant"]


async def test_out_of_order_across_two_turns(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_transcription="out_of_order") as ws:
        events = await start_text_session(ws)
        await speak(ws, WEATHER)
        await speak(ws, KITCHEN)
        events += await recv_until_all(ws, COMPLETED, 2)
    first, second = (e["item_id"] for e in of_type(events, "input_audio_buffer.committed"))
    assert [e["item_id"] for e in of_type(events, COMPLETED)] == [second, first]
    transcripts = user_texts(reduce(events))
    # Rows follow the item chain, not the arrival of the transcripts.
    assert [item_id for item_id, _, _ in transcripts] == [first, second]
    assert all(state is TextState.DONE for _, state, _ in transcripts)
    assert "weather" in transcripts[0][2] and "kitchen" in transcripts[1][2]


async def test_a_fixed_transcription_delay_holds_the_transcript_back(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_transcription_delay_ms="600") as ws:
        await start_text_session(ws)
        await speak(ws, KITCHEN)
        committed = await recv_until(ws, "input_audio_buffer.committed")
        committed_at = time.monotonic()
        events = committed + await recv_until(ws, COMPLETED)
    assert time.monotonic() - committed_at >= 0.6
    assert "kitchen" in events[-1]["transcript"].lower()


async def test_beta_dialect_gets_the_transcript_before_item_created() -> None:
    async with running_simulator(dialect=Dialect.BETA, response_speed=0) as beta:
        url = f"{beta.url}?{urlencode({'model': 'gpt-4o-realtime-preview', 'sim_transcription': 'before_item'})}"
        async with connect(url, additional_headers={"OpenAI-Beta": "realtime=v1"}, compression=None) as ws:
            await recv(ws)
            session = {"input_audio_transcription": {"model": "whisper-1"}, "turn_detection": None}
            await send(ws, {"type": "session.update", "session": session})
            await recv_until(ws, "session.updated")
            await speak(ws, KITCHEN)
            events = await recv_until(ws, "conversation.item.created")
    assert types(events)[0] == "input_audio_buffer.committed"
    assert COMPLETED in types(events)
    assert "kitchen" in of_type(events, COMPLETED)[0]["transcript"].lower()


# ---- dropped connection ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["eof", "reset"])
async def test_drop_mid_response_after_three_audio_deltas(sim: Simulator, mode: str) -> None:
    events: list[dict[str, Any]] = []
    async with scenario_socket(sim.url, sim_drop_after="response.output_audio.delta:3", sim_drop_mode=mode) as ws:
        await recv(ws)
        text = {"type": "input_text", "text": KITCHEN}
        await send(
            ws, {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [text]}}
        )
        await send(ws, {"type": "response.create"})
        with pytest.raises(ConnectionClosedError) as closed:
            while True:
                events.append(await recv(ws))
    assert closed.value.rcvd is None  # no close frame: the client sees 1006
    assert len(of_type(events, "response.output_audio.delta")) == 3
    assert events[-1]["type"] == "response.output_audio.delta"
    assert "response.done" not in types(events)


async def test_the_official_client_reconnects_after_a_drop(sim: Simulator) -> None:
    closes: list[int] = []

    def on_reconnecting(event: Any) -> Any:
        closes.append(event.close_code)
        return {"extra_query": {}}  # come back without the fault

    client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=sim.url.removesuffix("/realtime"))
    async with client.realtime.connect(
        model="gpt-realtime",
        extra_query={"sim_drop_after": "session.created"},
        on_reconnecting=on_reconnecting,
        initial_delay=0.05,
    ) as conn:
        sessions: list[Any] = []
        async with asyncio.timeout(5):
            async for event in conn:  # iteration is where the client reconnects
                sessions.append(event)
                if len(sessions) == 2:
                    break
    assert [event.type for event in sessions] == ["session.created", "session.created"]
    assert sessions[0].session.id != sessions[1].session.id
    assert closes == [1006]


# ---- malformed frames --------------------------------------------------------------------------


async def test_malformed_frames_after_session_created(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_malformed="not_json,no_type") as ws:
        assert (await recv(ws))["type"] == "session.created"
        not_json, no_type = await ws.recv(), await ws.recv()
        await send(ws, {"type": "input_audio_buffer.clear"})
        after = await recv(ws)
    assert isinstance(not_json, str) and isinstance(no_type, str)
    with pytest.raises(ValueError):
        json.loads(not_json)
    assert "type" not in json.loads(no_type)
    for frame in (not_json, no_type):
        with pytest.raises(FrameError):
            parse(frame)
    assert after["type"] == "input_audio_buffer.cleared"  # the session goes on


async def test_malformed_frame_at_a_chosen_point(sim: Simulator) -> None:
    async with scenario_socket(
        sim.url, sim_malformed="no_type", sim_malformed_after="input_audio_buffer.cleared:2"
    ) as ws:
        await recv(ws)
        for _ in range(3):
            await send(ws, {"type": "input_audio_buffer.clear"})
        frames = [json.loads(await ws.recv()) for _ in range(4)]
    assert [frame.get("type") for frame in frames] == [
        "input_audio_buffer.cleared",
        "input_audio_buffer.cleared",
        None,
        "input_audio_buffer.cleared",
    ]


# ---- slow server -------------------------------------------------------------------------------


async def test_latency_before_every_event(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_latency_ms="40") as ws:
        await recv(ws)
        started = time.monotonic()
        for _ in range(5):
            await send(ws, {"type": "input_audio_buffer.clear"})
        for _ in range(5):
            assert (await recv(ws))["type"] == "input_audio_buffer.cleared"
    assert time.monotonic() - started >= 5 * 0.04


async def test_bandwidth_cap(sim: Simulator) -> None:
    started = time.monotonic()
    async with scenario_socket(sim.url, sim_bandwidth_kbps="40") as ws:
        frame = await ws.recv()
    assert isinstance(frame, str)
    # 40 kbit/s is 5000 bytes/s: the ~1.5 kB session.created takes about 0.3 s.
    assert time.monotonic() - started >= len(frame.encode()) / 5000


# ---- session expiry ----------------------------------------------------------------------------


async def test_session_expires_with_session_expired_then_1001(sim: Simulator) -> None:
    async with scenario_socket(sim.url, sim_session_seconds="1") as ws:
        created = await recv(ws)
        created_at, started = time.time(), time.monotonic()
        error = await recv(ws, timeout=5)
        with pytest.raises(ConnectionClosedOK) as closed:
            await ws.recv()
    assert time.monotonic() - started >= 0.9
    assert abs(created["session"]["expires_at"] - (created_at + 1)) <= 1
    golden = json.loads((GOLDEN / "session_expired.json").read_text())
    assert shape_of(error) == shape_of(golden)
    judge(error)
    assert error["error"]["code"] == "session_expired"
    assert (
        error["error"]["message"]
        == session_expired_message(1)
        == "Your session hit the maximum duration of 0.02 minutes."
    )
    assert session_expired_message(3600) == golden["error"]["message"]
    close = json.loads((GOLDEN / "session_expired_close.json").read_text())
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == close["code"] == 1001
    assert closed.value.rcvd.reason == error["error"]["message"]


async def test_config_session_seconds_is_the_session_cap() -> None:
    async with running_simulator(session_seconds=1) as short:
        async with scenario_socket(short.url) as ws:
            created = await recv(ws)
            created_at = time.time()
            error = await recv(ws, timeout=5)
    assert error["error"]["code"] == "session_expired"
    assert abs(created["session"]["expires_at"] - (created_at + 1)) <= 1


# ---- refusing bad scenarios ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ({"sim_bogus": "1"}, "unknown_parameter", "sim_bogus"),
        ({"sim_transcription": "sideways"}, "invalid_value", "sim_transcription"),
        ({"sim_drop_after": "response.nope"}, "invalid_value", "sim_drop_after"),
    ],
)
async def test_a_bad_scenario_is_refused_with_error_and_4000(
    sim: Simulator, query: dict[str, str], code: str, param: str
) -> None:
    async with scenario_socket(sim.url, **query) as ws:
        error = await recv(ws)
        with pytest.raises(ConnectionClosedError) as closed:
            await ws.recv()
    assert error["type"] == "error"
    judge(error)
    assert error["error"]["code"] == code and error["error"]["param"] == param
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


# ---- scenario files ------------------------------------------------------------------------------


async def test_a_scenario_file_applies_to_every_connection_and_the_query_overrides_it(tmp_path: Path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text('malformed = "no_type"\nseed = 7\n')
    async with running_simulator(scenario=Scenario.load(path)) as filed:
        async with scenario_socket(filed.url) as ws:
            await recv(ws)
            from_file = await ws.recv()
        async with scenario_socket(filed.url, sim_malformed="not_json") as ws:
            await recv(ws)
            from_query = await ws.recv()
    assert "type" not in json.loads(from_file)
    with pytest.raises(ValueError):
        json.loads(from_query)


def test_serve_rejects_a_bad_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import run

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"transcription": "after_response", "latency": 5}))
    assert run(["serve", "--port", "0", "--scenario", str(path)]) == 2
    assert "Unknown simulator parameter 'latency'" in capsys.readouterr().err


async def test_simulator_config_scenario_is_used_without_query() -> None:
    config = SimulatorConfig(scenario=Scenario.from_mapping({"malformed": "not_json"}), port=0)
    async with Simulator(config) as server:
        async with scenario_socket(server.url) as ws:
            await recv(ws)
            frame = await ws.recv()
    with pytest.raises(ValueError):
        json.loads(frame)
