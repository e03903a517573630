"""The client against a beta server: the dialect read from `session.created`, client events
translated to the beta shapes, and whole turns against the simulator's beta dialect."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.audio_helpers import espeak_wav
from tests.test_send import run_cli
from tui.bus import Bus, Subscription
from tui.config import Settings
from tui.launch import session_options
from tui.protocol import (
    ClientSessionOptions,
    Dialect,
    Direction,
    Envelope,
    client_event_for,
    serialize,
    server_dialect,
    session_update,
)
from tui.server.beta import BetaWire, ga_item
from tui.server.session_state import REALTIME, TRANSCRIPTION
from tui.server.testing import RunningSimulator, realtime_simulator
from tui.session import FRAMES, RealtimeSession, url_target

WAIT_S = 30.0
"""How long a test waits for the server's answer before it fails (never a sleep)."""


# ---- server_dialect ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "dialect"),
    [
        ({"type": "session.created", "session": {"type": "realtime", "id": "sess_1"}}, Dialect.GA),
        ({"type": "session.created", "session": {"audio": {}, "id": "sess_1"}}, Dialect.GA),
        ({"type": "session.created", "session": {"modalities": ["text", "audio"], "voice": "alloy"}}, Dialect.BETA),
        ({"type": "session.created", "session": {"input_audio_format": "pcm16"}}, Dialect.BETA),
        ({"type": "transcription_session.created", "session": {"id": "sess_1"}}, Dialect.BETA),
        ({"type": "session.created", "session": {"id": "sess_1"}}, None),  # neither shape: stay GA
        ({"type": "session.created", "session": []}, None),
        ({"type": "error", "error": {"message": "no"}}, None),
        ({"type": "session.updated", "session": {"modalities": ["text"]}}, None),  # only the first frame says
    ],
)
def test_server_dialect_reads_the_session_shape(first: dict[str, Any], dialect: Dialect | None) -> None:
    assert server_dialect(first) is dialect


# ---- client_event_for: GA stays as it is ---------------------------------------------------

GA_EVENTS: list[dict[str, Any]] = [
    session_update(ClientSessionOptions(voice="marin", instructions="be brief", turn_detection="server_vad")),
    {"type": "response.create", "response": {"output_modalities": ["text"], "max_output_tokens": 50}},
    {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]},
    },
    {"type": "input_audio_buffer.append", "audio": "AAAA"},
    {"type": "response.create"},
]


@pytest.mark.parametrize("event", GA_EVENTS, ids=lambda e: str(e["type"]))
@pytest.mark.parametrize("dialect", [Dialect.GA, None])
def test_a_ga_or_unknown_dialect_sends_the_event_itself(event: dict[str, Any], dialect: Dialect | None) -> None:
    assert client_event_for(event, dialect) is event


@pytest.mark.parametrize("event", GA_EVENTS, ids=lambda e: str(e["type"]))
def test_translating_never_changes_the_callers_event(event: dict[str, Any]) -> None:
    before = copy.deepcopy(event)
    client_event_for(event, Dialect.BETA)
    assert event == before


@pytest.mark.parametrize(
    "event",
    [
        {"type": "input_audio_buffer.append", "audio": "AAAA", "event_id": "evt_1"},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
        {"type": "response.cancel"},
        {"type": "response.create"},
        {"type": "conversation.item.truncate", "item_id": "item_1", "content_index": 0, "audio_end_ms": 10},
        {"type": "conversation.item.delete", "item_id": "item_1"},
        {"type": "conversation.item.retrieve", "item_id": "item_1"},
    ],
    ids=lambda e: str(e["type"]),
)
def test_events_shared_by_both_dialects_go_to_beta_unchanged(event: dict[str, Any]) -> None:
    assert client_event_for(event, Dialect.BETA) is event


# ---- client_event_for: beta shapes ---------------------------------------------------------


def test_session_update_becomes_the_flat_beta_session() -> None:
    event = session_update(ClientSessionOptions(voice="marin", instructions="be brief", language="en"))
    event["event_id"] = "evt_up"
    beta = client_event_for(event, Dialect.BETA)
    assert beta == {
        "type": "session.update",
        "event_id": "evt_up",  # kept, so an error naming it is matched to the update
        "session": {
            "modalities": ["text", "audio"],
            "instructions": "be brief",
            "input_audio_format": "pcm16",
            "input_audio_transcription": {"model": "gpt-4o-transcribe", "language": "en"},
            "turn_detection": None,
            "output_audio_format": "pcm16",
            "voice": "marin",
        },
    }


@pytest.mark.parametrize(
    "options",
    [
        ClientSessionOptions(),
        ClientSessionOptions(transcription_model=None, turn_detection="server_vad", voice="alloy"),
        ClientSessionOptions(turn_detection="semantic_vad", output_modalities=("text",), instructions=""),
        ClientSessionOptions(transcription_model="whisper-1", language="fr"),
    ],
)
def test_the_beta_simulator_reads_each_translated_update_back_as_the_ga_one(options: ClientSessionOptions) -> None:
    """The simulator's beta checks accept the translation, and their GA reading of it is what was built."""
    ga = session_update(options)
    beta = client_event_for(ga, Dialect.BETA)
    patch, temperature = BetaWire().session_patch(beta["session"], REALTIME)
    assert patch == ga["session"] and temperature is None


def test_a_transcription_session_update_becomes_transcription_session_update() -> None:
    ga = {
        "type": "session.update",
        "session": {
            "type": "transcription",
            "audio": {"input": {"format": {"type": "audio/pcmu"}, "transcription": {"model": "whisper-1"}}},
        },
    }
    beta = client_event_for(ga, Dialect.BETA)
    assert beta == {
        "type": "transcription_session.update",
        "session": {"input_audio_format": "g711_ulaw", "input_audio_transcription": {"model": "whisper-1"}},
    }
    BetaWire().session_patch(beta["session"], TRANSCRIPTION)  # the beta checks accept it


def test_response_create_takes_the_beta_response_fields() -> None:
    ga: dict[str, Any] = {
        "type": "response.create",
        "event_id": "evt_r",
        "response": {
            "output_modalities": ["audio"],
            "max_output_tokens": 200,
            "audio": {"output": {"voice": "verse", "format": {"type": "audio/pcma"}}},
            "instructions": "say hi",
            "conversation": "none",
            "metadata": {"topic": "test"},
            "tool_choice": {"type": "function", "name": "lookup"},
            "input": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "x"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "y"}]},
                {"type": "item_reference", "id": "item_1"},
            ],
        },
    }
    beta = client_event_for(ga, Dialect.BETA)
    assert beta == {
        "type": "response.create",
        "event_id": "evt_r",
        "response": {
            "modalities": ["text", "audio"],
            "max_response_output_tokens": 200,
            "voice": "verse",
            "output_audio_format": "g711_alaw",
            "instructions": "say hi",
            "conversation": "none",
            "metadata": {"topic": "test"},
            "tool_choice": "lookup",
            "input": [
                {"type": "message", "role": "assistant", "content": [{"type": "audio", "transcript": "x"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "y"}]},
                {"type": "item_reference", "id": "item_1"},
            ],
        },
    }
    text_only = client_event_for({"type": "response.create", "response": {"output_modalities": ["text"]}}, Dialect.BETA)
    assert text_only["response"] == {"modalities": ["text"]}
    # The simulator's beta checks accept it, and read it back as the GA response (tool_choice aside:
    # the simulator leaves a response's tool_choice as it came).
    back = BetaWire().response(beta["response"])
    assert {key: value for key, value in back.items() if key != "tool_choice"} == {
        key: value for key, value in ga["response"].items() if key != "tool_choice"
    }


def test_conversation_item_create_renames_assistant_content_only() -> None:
    assistant = {
        "type": "conversation.item.create",
        "previous_item_id": "root",
        "item": {
            "id": "item_a",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hello"}, {"type": "output_audio", "transcript": "hi"}],
        },
    }
    beta = client_event_for(assistant, Dialect.BETA)
    assert beta["previous_item_id"] == "root"
    assert [part["type"] for part in beta["item"]["content"]] == ["text", "audio"]
    assert ga_item(beta["item"]) == assistant["item"]  # what the simulator's beta dialect reads back
    user = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]},
    }
    call_output = {"type": "conversation.item.create", "item": {"type": "function_call_output", "output": "{}"}}
    assert client_event_for(user, Dialect.BETA) is user
    assert client_event_for(call_output, Dialect.BETA) is call_output


@pytest.mark.parametrize(
    "event",
    [
        {"type": "session.update", "session": "not an object"},
        {"type": "session.update", "session": {"type": "realtime", "audio": "loud"}},
        {"type": "response.create", "response": {"audio": ["x"]}},
        {"type": "response.create", "response": {"output_modalities": 3}},
        {"type": "conversation.item.create", "item": None},
    ],
)
def test_a_malformed_event_goes_out_as_it_is_for_the_server_to_refuse(event: dict[str, Any]) -> None:
    assert client_event_for(event, Dialect.BETA) is event


# ---- RealtimeSession against the simulator -------------------------------------------------


@pytest.fixture
async def beta_sim() -> AsyncIterator[RunningSimulator]:
    async with realtime_simulator(dialect="beta", response_speed=0) as running:
        yield running


async def next_matching(sub: Subscription[Envelope], wanted: Callable[[Envelope], bool]) -> list[Envelope]:
    """Every envelope up to and including the first `wanted` one."""
    seen: list[Envelope] = []

    async def collect() -> None:
        while True:
            env = await sub.get()
            seen.append(env)
            if wanted(env):
                return

    await asyncio.wait_for(collect(), WAIT_S)
    return seen


def arrived(kind: str) -> Callable[[Envelope], bool]:
    return lambda env: env.direction is Direction.IN and env.type in (kind, "error")


async def test_a_session_against_a_beta_server_sends_beta_shapes_the_server_accepts(
    beta_sim: RunningSimulator,
) -> None:
    bus = Bus()
    sub = bus.subscribe(FRAMES)
    session = RealtimeSession(url_target(beta_sim.url_for()), bus)
    await session.connect()
    try:
        assert session.dialect is Dialect.BETA
        update = session_update(session_options(Settings(voice="ash")))
        built = copy.deepcopy(update)
        session.send(update)
        frames = await next_matching(sub, arrived("session.updated"))
        assert frames[-1].type == "session.updated", frames[-1].raw
        out = [env for env in frames if env.direction is Direction.OUT]
        assert [env.type for env in out] == ["session.update"]
        sent = json.loads(out[0].raw)
        assert sent == out[0].data  # the envelope's data is what its raw text says
        assert sent["event_id"] == update["event_id"]
        assert sent["session"]["modalities"] == ["text", "audio"]
        assert sent["session"]["input_audio_format"] == "pcm16" and sent["session"]["voice"] == "ash"
        assert "type" not in sent["session"] and "audio" not in sent["session"]
        assert {key: value for key, value in update.items() if key != "event_id"} == built  # caller's dict as built
        applied = frames[-1].data["session"]
        assert applied["voice"] == "ash" and applied["input_audio_transcription"]["model"] == "gpt-4o-transcribe"

        # A typed assistant line and a text-only response: GA-built, beta on the wire, both accepted.
        assistant = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]}
        session.send({"type": "conversation.item.create", "item": assistant})
        session.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        frames = await next_matching(sub, arrived("response.done"))
        assert not [env.raw for env in frames if env.type == "error"]
        wire = [json.loads(env.raw) for env in frames if env.direction is Direction.OUT]
        assert wire[0]["item"]["content"][0]["type"] == "text"
        assert wire[1]["response"] == {"modalities": ["text"]}
        created = [env.data["item"] for env in frames if env.type == "conversation.item.created"]
        assert created[0]["role"] == "assistant" and created[0]["content"][0]["text"] == "Hello."
        done = frames[-1].data["response"]
        assert done["status"] == "completed" and done["modalities"] == ["text"]
    finally:
        await session.close()


async def test_a_session_against_a_ga_server_sends_the_event_as_built(simulator_url: str) -> None:
    bus = Bus()
    sub = bus.subscribe(FRAMES)
    session = RealtimeSession(url_target(simulator_url), bus)
    await session.connect()
    try:
        assert session.dialect is Dialect.GA
        update = session_update(session_options(Settings()))
        session.send(update)
        frames = await next_matching(sub, arrived("session.updated"))
        assert frames[-1].type == "session.updated", frames[-1].raw
        out = next(env for env in frames if env.direction is Direction.OUT)
        assert out.raw == serialize(update) and out.data is update
    finally:
        await session.close()


# ---- rt-tui send against the beta simulator ------------------------------------------------


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak_wav("what is the weather like in London today", tmp_path_factory.mktemp("wav") / "q.wav")


def test_send_local_beta_completes_a_turn(question_wav: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_cli(
        "send", str(question_wav), "--local", "--local-dialect", "beta", env_extra={"RT_TUI_DATA_DIR": str(data_dir)}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("user: ") and "weather" in lines[0].lower()
    assert lines[1].startswith("assistant: ") and "weather" in lines[1].lower()
    assert result.stderr == ""
    # The capture holds the update as it went on the wire: the beta shape.
    (capture,) = data_dir.glob("sessions/*/frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    update = next(r for r in records if r["dir"] == "out" and r["type"] == "session.update")
    session = (update.get("frame") or json.loads(update["raw"]))["session"]
    assert session["input_audio_format"] == "pcm16" and "type" not in session
    assert any(r["type"] == "response.audio_transcript.done" for r in records)  # a beta server it was


async def test_the_app_on_a_beta_server_keeps_it_beta_and_the_linter_finds_nothing_wrong() -> None:
    """A beta server's reply carries `response.output_item.added`, a name both dialects share: the
    session stays beta (it once turned GA there, and every later session.update was a false
    dialect-mismatch error), and a turn plus a hands-free switch lint clean."""
    from tests.app_helpers import items, session_ready, wait_for
    from tui.app import RtApp
    from tui.config import TargetChoice
    from tui.lint import Severity
    from tui.protocol import Dialect, session_update

    async with realtime_simulator(dialect="beta", response_speed=0) as running:
        app = RtApp(Settings(target=TargetChoice.URL, url=running.url_for(), playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t", *"hello there", "enter", "escape")
            await wait_for(
                pilot, lambda: bool(items(app, "assistant")) and app.facts.active_response is None, 20, "a reply"
            )
            await wait_for(pilot, lambda: any(f.type == "response.done" for f in app.journal), 10, "its end")
            updated = app.facts.updates_applied
            app.send_session_update(session_update(session_options(app.settings, turn_detection="server_vad")))
            await wait_for(pilot, lambda: app.facts.updates_applied > updated, 10, "the hands-free update")
            assert app.facts.dialect is Dialect.BETA
            linter = app.model.linter
            assert linter is not None
            errors = [f for f in linter.findings if f.severity is Severity.ERROR]
            assert errors == [], [f.rule for f in errors]


async def test_the_status_line_names_a_beta_server() -> None:
    """The app against a beta-dialect server (an Azure preview deployment, `--local-dialect beta`):
    the status line says so, since its event names differ from what today's docs show."""
    from tests.app_helpers import views_settled, wait_for
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice
    from tui.server.testing import realtime_simulator

    async with realtime_simulator(dialect=Dialect.BETA) as simulator:
        settings = Settings(target=TargetChoice.URL, url=simulator.url_for(), playback=False, capture=False)
        app = RtApp(settings)
        async with app.run_test(size=(160, 30)) as pilot:
            await wait_for(pilot, lambda: app.facts.applied is not None, 15, "the session")
            await views_settled(pilot, app)
            assert "beta dialect · " in str(app.status_line.render())
