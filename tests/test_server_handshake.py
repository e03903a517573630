"""Simulator handshake: the key check, model and intent checks, the beta shape in GA, all after the 101."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.server_helpers import (
    append_audio,
    of_type,
    recv,
    recv_for,
    recv_until,
    running_simulator,
    send,
    silence,
    speech_pcm24,
    types,
)
from tests.surface_helpers import BETA_HEADER, golden, raw, refusal, shape_of
from tui.cli import build_parser
from tui.server import Simulator

KEY = "test-key-sim-0123456789abcdef"


@pytest.fixture
async def keyed() -> AsyncIterator[Simulator]:
    async with running_simulator(api_key=KEY) as simulator:
        yield simulator


async def test_without_a_configured_key_anyone_gets_in(sim: Simulator) -> None:
    async with raw(sim.url + "?model=gpt-realtime") as ws:
        assert (await recv(ws))["type"] == "session.created"


async def test_missing_key_is_an_error_then_close_3000(keyed: Simulator) -> None:
    error, code, reason, later = await refusal(keyed.url + "?model=gpt-realtime")
    assert error["type"] == "error"
    assert error["error"]["code"] is None
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"] == golden("auth_error_event.json")["error"]["message"]
    assert (code, reason, later) == (3000, "invalid_request_error", [])
    assert shape_of(error) == shape_of(golden("auth_error_event.json"))


async def test_wrong_key_is_invalid_api_key_and_never_echoed_whole(keyed: Simulator) -> None:
    wrong = "test-key-wrong-key-that-is-long"
    error, code, reason, _ = await refusal(
        keyed.url + "?model=gpt-realtime", headers={"Authorization": f"Bearer {wrong}"}
    )
    assert error["error"]["code"] == "invalid_api_key"
    assert "Incorrect API key" in error["error"]["message"]
    assert wrong not in error["error"]["message"]
    assert (code, reason) == (3000, "invalid_request_error.invalid_api_key")


async def test_bearer_and_subprotocol_keys_are_accepted(keyed: Simulator) -> None:
    async with raw(keyed.url + "?model=gpt-realtime", headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert (await recv(ws))["type"] == "session.created"
    offered = ["realtime", f"openai-insecure-api-key.{KEY}"]
    async with raw(keyed.url + "?model=gpt-realtime", subprotocols=offered) as ws:
        assert ws.subprotocol == "realtime"
        assert (await recv(ws))["type"] == "session.created"
    error, code, _, _ = await refusal(
        keyed.url + "?model=gpt-realtime", subprotocols=["realtime", "openai-insecure-api-key.nope"]
    )
    assert (error["error"]["code"], code) == ("invalid_api_key", 3000)


def with_user_info(url: str, user: str, password: str) -> str:
    """`ws://host:port/…` as `ws://user:password@host:port/…`: the client sends Basic auth for it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


async def test_basic_auth_presents_the_key_as_its_password(keyed: Simulator) -> None:
    """The service takes the key as Basic auth's password too (its refusal says "bearer or basic")."""
    async with raw(with_user_info(keyed.url, "anyone", KEY) + "?model=gpt-realtime") as ws:
        assert (await recv(ws))["type"] == "session.created"
    error, code, _, _ = await refusal(with_user_info(keyed.url, "anyone", "test-key-wrong-0123456789") + "?model=m")
    assert (error["error"]["code"], code) == ("invalid_api_key", 3000)


async def test_two_authorization_headers_are_refused_as_a_bad_key_not_a_crash(keyed: Simulator) -> None:
    """A URL's user:password (Basic) plus a Bearer header: the key check read one header and crashed
    on two (websockets' MultipleValuesError, close 1011 and a traceback); now an error and close 3000."""
    url = with_user_info(keyed.url, "user", KEY) + "?model=gpt-realtime"
    error, code, reason, later = await refusal(url, headers={"Authorization": f"Bearer {KEY}"})
    assert error["type"] == "error" and error["error"]["code"] == "invalid_api_key"
    assert "2 Authorization headers" in error["error"]["message"] and KEY not in error["error"]["message"]
    assert (code, reason, later) == (3000, "invalid_request_error.invalid_api_key", [])
    async with raw(keyed.url + "?model=gpt-realtime", headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert (await recv(ws))["type"] == "session.created"  # the server lives on


@pytest.mark.parametrize(
    ("query", "code", "keyword"),
    [
        ("", "missing_model", "model"),
        ("?model=whisper-1", "invalid_model", "not supported in realtime mode"),
        ("?model=gpt-4o", "invalid_model", "not supported in realtime mode"),
        ("?model=my-own-model", "invalid_model", "does not exist"),
    ],
)
async def test_model_problems_close_4000(sim: Simulator, query: str, code: str, keyword: str) -> None:
    error, close_code, reason, _ = await refusal(sim.url + query)
    assert error["error"]["code"] == code
    assert keyword in error["error"]["message"]
    assert error["error"]["event_id"] is None
    assert (close_code, reason) == (4000, f"invalid_request_error.{code}")


@pytest.mark.parametrize("model", ["gpt-realtime-2025-08-28", "gpt-realtime-mini", "gpt-4o-realtime-preview"])
async def test_realtime_models_and_snapshots_are_accepted(sim: Simulator, model: str) -> None:
    async with raw(f"{sim.url}?model={model}") as ws:
        event = await recv(ws)
    assert event["session"]["model"] == model


async def test_beta_header_or_subprotocol_in_ga_is_beta_api_shape_disabled(sim: Simulator) -> None:
    by_header = await refusal(sim.url + "?model=gpt-realtime", headers=BETA_HEADER)
    by_subprotocol = await refusal(
        sim.url + "?model=gpt-realtime", subprotocols=["realtime", "openai-beta.realtime-v1"]
    )
    for error, code, reason, later in (by_header, by_subprotocol):
        assert error["error"]["code"] == "beta_api_shape_disabled"
        assert (code, reason, later) == (4000, "invalid_request_error.beta_api_shape_disabled", [])


async def test_a_refusal_still_completes_the_upgrade_and_other_paths_are_404(keyed: Simulator) -> None:
    async with connect(keyed.url, compression=None) as ws:
        assert ws.response is not None and ws.response.status_code == 101
    with pytest.raises(InvalidStatus):
        async with connect(keyed.url.replace("realtime", "elsewhere"), compression=None):
            pass


async def test_transcription_intent_session_and_pipeline(sim: Simulator) -> None:
    async with raw(sim.url + "?intent=transcription") as ws:
        created = await recv(ws)
        await send(ws, {"type": "response.create", "event_id": "evt_no_responses"})
        refused = await recv(ws)
        await send(ws, {"type": "session.update", "session": {"type": "realtime", "instructions": "x"}})
        wrong_type = await recv(ws)
        await send(
            ws,
            {
                "type": "session.update",
                "session": {"type": "transcription", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
            },
        )
        updated = await recv(ws)
        # Default server VAD commits the turn; create_response must not start anything here.
        await append_audio(ws, silence(300) + speech_pcm24("what is the weather like in London") + silence(800))
        events = await recv_until(ws, "conversation.item.input_audio_transcription.completed")
        events += await recv_for(ws, 0.3)
    session = created["session"]
    assert (session["type"], session["object"]) == ("transcription", "realtime.transcription_session")
    assert "model" not in session and "output_modalities" not in session
    assert shape_of(created) == shape_of(golden("ga_transcription_session_created.json"))
    assert refused["error"]["code"] == "invalid_value" and refused["error"]["param"] == "type"
    assert refused["error"]["event_id"] == "evt_no_responses"
    supported = refused["error"]["message"].split("Supported values are:")[1]
    assert "'input_audio_buffer.append'" in supported and "response." not in supported
    assert wrong_type["error"]["message"] == (
        "Passing a realtime session update event to a transcription session is not allowed."
    )
    assert updated["type"] == "session.updated"
    assert updated["session"]["audio"]["input"]["transcription"]["model"] == "whisper-1"
    assert {"input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"} <= set(types(events))
    assert not [t for t in types(events) if t.startswith("response.") or t == "rate_limits.updated"]
    completed = of_type(events, "conversation.item.input_audio_transcription.completed")[0]
    assert "weather" in completed["transcript"].lower()


async def test_transcription_update_on_a_realtime_socket_is_refused(sim: Simulator) -> None:
    async with raw(sim.url + "?model=gpt-realtime") as ws:
        await recv(ws)
        await send(ws, {"type": "session.update", "session": {"type": "transcription"}})
        mismatch = await recv(ws)
        await send(ws, {"type": "transcription_session.update", "session": {}})
        beta_event = await recv(ws)
    assert mismatch["error"]["message"] == (
        "Passing a transcription session update event to a realtime session is not allowed."
    )
    assert (beta_event["error"]["code"], beta_event["error"]["param"]) == ("invalid_value", "type")


def test_serve_has_an_api_key_flag() -> None:
    args = build_parser().parse_args(["serve", "--api-key", KEY, "--port", "0"])
    assert args.api_key == KEY


async def test_serve_in_beta_reads_the_key_from_the_environment() -> None:
    env = {**os.environ, "RT_TUI_SIM_API_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--port", "0", "--dialect", "beta"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)).strip()
        error, code, _, _ = await refusal(url + "?model=gpt-realtime")
        headers = {"Authorization": f"Bearer {KEY}", **BETA_HEADER}
        async with raw(url + "?model=gpt-realtime", headers=headers) as ws:
            accepted = await recv(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (error["error"]["code"], code) == (None, 3000)
    assert accepted["type"] == "session.created"
    assert accepted["session"]["modalities"] == ["text", "audio"]
