"""The simulator's frame handler under random client frames, over a real WebSocket.

Every example opens a connection to one long-lived simulator (a fresh connection per example, so
that a failure replays and shrinks: no state carries over), sends one random frame and then a
probe with a known answer. The properties:

- the connection is never dropped without a close frame; the only close a frame may cause is
  1009, for a frame over the limit;
- otherwise the probe is answered afterwards: the connection still works;
- a frame that is not a JSON object is answered with an `error`;
- every event is a JSON object with a `type`; no `error` or failed response says
  `server_error` (a handler that crashed), and the simulator logs no error.

The number of examples comes from the hypothesis profile (tests/conftest.py): a few hundred per
target in `make test`, 100,000 in `make fuzz`.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tui.protocol.events import GA_CLIENT_EVENTS
from tui.server.testing import RunningSimulator, background_simulator

#: The fuzzed simulator's frame limit: small, so that "over the limit" is cheap to reach.
FRAME_LIMIT = 256 * 1024
BETA = {"OpenAI-Beta": "realtime=v1"}
TARGETS = {
    "ga": ("?model=gpt-realtime", {}),
    "ga-transcription": ("?intent=transcription", {}),
    "beta": ("?model=gpt-4o-realtime-preview", BETA),
}
_probes = itertools.count()


# ---- strategies --------------------------------------------------------------------------

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.one_of(
    st.text(max_size=20),
    st.text(st.one_of(st.characters(codec=None), surrogates), max_size=8),
    st.sampled_from(["", "root", "none", "auto", "inf", "audio", "text", "user", "assistant", "message"]),
)
#: A leaf standing for a huge integer, written into the frame's text by `to_frame` (hypothesis and
#: `json.dumps` cannot hold integers past Python's 4,300-digit conversion limit themselves).
_BIG = "\u2063big-int:"
_BIG_IN_JSON = re.compile(r'"\\u2063big-int:(\d+)"')
big_integers = st.integers(300, 6000).map(lambda digits: f"{_BIG}{digits}")


def ints(low: int, high: int) -> st.SearchStrategy[Any]:
    """A number field: mostly in a plausible range, sometimes far past any float."""
    return st.one_of(st.integers(low, high), big_integers, st.floats())


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        big_integers,
        st.floats(allow_nan=True, allow_infinity=True),  # NaN and Infinity go out as invalid literals
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any subset of `fields`, each either its usual shape or any JSON value."""
    return st.fixed_dictionaries(
        {}, optional={key: st.one_of(strategy, json_values) for key, strategy in fields.items()}
    ) | st.dictionaries(texts, json_values, max_size=3)


audio = st.binary(max_size=4800).map(lambda raw: base64.b64encode(raw).decode("ascii"))
fmt = shaped({"type": st.sampled_from(["audio/pcm", "audio/pcmu", "audio/pcma", "pcm16"]), "rate": ints(8000, 48000)})
turn_detection = st.none() | shaped(
    {
        "type": st.sampled_from(["server_vad", "semantic_vad", "none"]),
        "threshold": st.one_of(st.floats(0, 1), big_integers),
        "silence_duration_ms": ints(-10, 5000),
        "prefix_padding_ms": ints(-10, 5000),
        "idle_timeout_ms": ints(-10, 10_000),
        "eagerness": st.sampled_from(["low", "medium", "high", "auto"]),
        "create_response": st.booleans(),
        "interrupt_response": st.booleans(),
    }
)
tool = shaped({"type": st.just("function"), "name": texts, "description": texts, "parameters": json_values})
session = shaped(
    {
        "type": st.sampled_from(["realtime", "transcription"]),
        "instructions": texts,
        "model": texts,
        "voice": texts,
        "modalities": st.lists(st.sampled_from(["text", "audio"])),
        "output_modalities": st.lists(st.sampled_from(["text", "audio"])),
        "audio": shaped(
            {
                "input": shaped(
                    {
                        "format": fmt,
                        "transcription": st.none() | shaped({"model": texts, "language": texts, "prompt": texts}),
                        "turn_detection": turn_detection,
                        "noise_reduction": st.none() | shaped({"type": st.sampled_from(["near_field", "far_field"])}),
                    }
                ),
                "output": shaped({"format": fmt, "voice": texts, "speed": st.one_of(st.floats(0, 2), big_integers)}),
            }
        ),
        "turn_detection": turn_detection,
        "tools": st.lists(tool, max_size=2),
        "tool_choice": st.one_of(st.sampled_from(["auto", "none", "required"]), shaped({"type": texts, "name": texts})),
        "max_output_tokens": st.one_of(ints(-5, 5000), st.just("inf")),
        "include": st.lists(texts, max_size=2),
        "truncation": json_values,
    }
)
part = shaped(
    {
        "type": st.sampled_from(["input_text", "input_audio", "output_text", "output_audio", "text", "audio"]),
        "text": texts,
        "audio": audio,
        "transcript": texts,
    }
)
item = shaped(
    {
        "id": texts,
        "type": st.sampled_from(["message", "function_call", "function_call_output"]),
        "role": st.sampled_from(["user", "assistant", "system"]),
        "content": st.lists(part, max_size=3),
        "call_id": texts,
        "name": texts,
        "arguments": texts,
        "output": texts,
        "status": texts,
    }
)
response = shaped(
    {
        "conversation": st.sampled_from(["auto", "none"]),
        "instructions": texts,
        "output_modalities": st.lists(st.sampled_from(["text", "audio"])),
        "modalities": st.lists(st.sampled_from(["text", "audio"])),
        "input": st.lists(item | shaped({"type": st.just("item_reference"), "id": texts}), max_size=2),
        "tools": st.lists(tool, max_size=2),
        "tool_choice": json_values,
        "max_output_tokens": st.one_of(ints(-5, 50), st.just("inf")),
        "metadata": json_values,
        "audio": shaped({"output": shaped({"format": fmt, "voice": texts})}),
    }
)
FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "session.update": {"session": session},
    "transcription_session.update": {"session": session},
    "input_audio_buffer.append": {"audio": audio},
    "input_audio_buffer.commit": {},
    "input_audio_buffer.clear": {},
    "conversation.item.create": {"item": item, "previous_item_id": texts},
    "conversation.item.retrieve": {"item_id": texts},
    "conversation.item.delete": {"item_id": texts},
    "conversation.item.truncate": {
        "item_id": texts,
        "content_index": ints(-2, 3),
        "audio_end_ms": ints(-10, 10**6),
    },
    "response.create": {"response": response},
    "response.cancel": {"response_id": texts},
}
assert set(GA_CLIENT_EVENTS) - {"output_audio_buffer.clear"} <= set(FIELDS)


@st.composite
def client_events(draw: st.DrawFn) -> dict[str, Any]:
    """A client event of any type, its fields well-shaped, half-shaped or anything at all."""
    event_type = draw(st.sampled_from(sorted(FIELDS) + ["output_audio_buffer.clear"]) | texts | json_values)
    event: dict[str, Any] = draw(shaped(FIELDS.get(event_type, {}) if isinstance(event_type, str) else {}))
    if draw(st.booleans()):
        event["type"] = event_type
    if draw(st.booleans()):
        event["event_id"] = draw(texts | json_values)
    return event


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"type":"conversation.item.create","item":' + "[" * depth + "]" * depth + "}"


def to_frame(value: Any) -> str:
    """`value` as JSON text (surrogates escaped as \\ud800, as a client writes them), huge integers in place."""
    return _BIG_IN_JSON.sub(lambda match: "9" * int(match.group(1)), json.dumps(value))


frames = st.one_of(
    client_events().map(to_frame),
    json_values.map(to_frame),
    st.text(max_size=50),  # mostly not JSON
    client_events().map(to_frame).flatmap(lambda whole: st.integers(0, len(whole)).map(lambda cut: whole[:cut])),
    st.binary(max_size=64),
    st.builds(nested, st.integers(1, 200_000), st.sampled_from(["array", "object", "field"])),
    st.integers(FRAME_LIMIT - 64, FRAME_LIMIT + 64).map(
        lambda size: '{"type":"session.update","session":{"instructions":"' + "x" * (size - 50) + '"}}'
    ),
    st.integers(4300, 6000).map(
        lambda digits: '{"type":"conversation.item.truncate","audio_end_ms":' + "9" * digits + "}"
    ),
)


# ---- the harness -------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Collects ERROR records of the simulator and of websockets (a crashed handler or send)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Target:
    """One simulator endpoint under fuzz, and the errors it logs."""

    sim: RunningSimulator
    path: str
    headers: dict[str, str]
    log: ErrorLog


@pytest.fixture(scope="module")
def simulators() -> Iterator[dict[str, RunningSimulator]]:
    """A GA and a beta simulator for the whole module, with a small frame limit."""
    with (
        background_simulator(response_speed=0, max_frame_bytes=FRAME_LIMIT) as ga,
        background_simulator(response_speed=0, max_frame_bytes=FRAME_LIMIT, dialect="beta") as beta,
    ):
        yield {"ga": ga, "beta": beta}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, simulators: dict[str, RunningSimulator]) -> Iterator[Target]:
    """One endpoint: GA realtime, GA transcription, or beta realtime."""
    path, headers = TARGETS[request.param]
    log = ErrorLog()
    watched = [logging.getLogger("tui.server"), logging.getLogger("websockets")]
    for logger in watched:
        logger.addHandler(log)
    try:
        yield Target(simulators["beta" if request.param == "beta" else "ga"], path, headers, log)
    finally:
        for logger in watched:
            logger.removeHandler(log)


def is_json_object(frame: str | bytes) -> bool:
    """Whether the simulator must treat `frame` as an event (a JSON object in a text frame)."""
    if isinstance(frame, bytes):
        return False
    try:
        return isinstance(json.loads(frame), dict)
    except (ValueError, RecursionError):
        return False


def events_until(ws: ClientConnection, probe: str) -> list[dict[str, Any]]:
    """Every event up to and including the answer to the probe."""
    events: list[dict[str, Any]] = []
    while True:
        event = json.loads(ws.recv(timeout=60))
        assert isinstance(event, dict) and isinstance(event.get("type"), str), event
        events.append(event)
        if event["type"] == "error" and event["error"].get("event_id") == probe:
            return events


def crashed(event: dict[str, Any]) -> bool:
    """An event that only a handler or response that raised can produce."""
    if event["type"] == "error":
        return bool(event["error"].get("type") == "server_error")
    if event["type"] == "response.done":
        details = event["response"].get("status_details") or {}
        return bool((details.get("error") or {}).get("type") == "server_error")
    return False


def exchange(target: Target, frame: str | bytes) -> None:
    """Send one frame and a probe on a new connection; check the properties."""
    probe = f"evt_probe_{next(_probes)}"
    before = len(target.log.records)
    with connect(
        target.sim.url + target.path,
        additional_headers=target.headers,
        compression=None,
        max_size=None,
        open_timeout=30,
        close_timeout=10,
    ) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] in ("session.created", "transcription_session.created")
        try:
            ws.send(frame)
            ws.send(json.dumps({"type": "conversation.item.retrieve", "event_id": probe, "item_id": "item_absent"}))
            events = events_until(ws, probe)
        except ConnectionClosed:
            close = ws.protocol.close_rcvd
            assert close is not None, "the connection was dropped without a close frame"
            size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8"))
            assert (close.code, size > FRAME_LIMIT) == (1009, True), (close, size)
            return
    assert not [event for event in events if crashed(event)], events
    if not is_json_object(frame):
        assert any(event["type"] == "error" and event["error"]["event_id"] is None for event in events), events
    assert target.log.records[before:] == []


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(frame=frames)
def test_no_frame_breaks_a_connection(target: Target, frame: str | bytes) -> None:
    exchange(target, frame)


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"conversation.item.create","item":{"type":"message","role":"user","content":'
        '[{"type":"input_text","text":"\\ud800"}]}}',
        '{"type":"session.update","session":{"type":"realtime","instructions":"\\udfff"}}',
        "[" * 100_000,
        '{"type":"input_audio_buffer.append","audio":' + "1" * 5000 + "}",
        '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":'
        '{"type":"server_vad","silence_duration_ms":' + "9" * 4300 + "}}}}}",
        '{"type":"session.update","session":{"type":"realtime","audio":{"output":{"speed":' + "9" * 400 + "}}}}",
        b"\x00\xff binary",
        '{"type":"session.update","session":{"instructions":"' + "x" * FRAME_LIMIT + '"}}',
    ],
    ids=[
        "surrogate-item",
        "surrogate-instructions",
        "deep",
        "huge-int",
        "huge-vad-silence",
        "huge-speed",
        "binary",
        "over-limit",
    ],
)
def test_the_reported_frames(target: Target, frame: str | bytes) -> None:
    exchange(target, frame)
