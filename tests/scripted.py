"""A deterministic conversation, frame by frame, for snapshot tests.

Times and ids are fixed so the screen is the same on every run. The frames follow the GA shapes
of the protocol reference; the user's transcript lands after the assistant's reply, as it often
does against the real service.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tui.protocol import Direction, Envelope, local_envelope

AUDIO_20MS = base64.b64encode(bytes(960)).decode()
AUDIO_100MS = base64.b64encode(bytes(4800)).decode()


def _frames() -> list[tuple[float, Direction, dict[str, Any]]]:
    user = {
        "id": "item_user0000000000001",
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    asst = {
        "id": "item_asst0000000000001",
        "object": "realtime.item",
        "type": "message",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    reply = "You said: what is the weather like in London today. It is mild and cloudy."
    asst_done = dict(asst, status="completed", content=[{"type": "output_audio", "transcript": reply}])
    ids = {"response_id": "resp_0000000000000000001", "item_id": asst["id"], "output_index": 0, "content_index": 0}
    out: list[tuple[float, Direction, dict[str, Any]]] = [
        (
            0.004,
            Direction.IN,
            {
                "type": "session.created",
                "event_id": "event_01",
                "session": {
                    "type": "realtime",
                    "object": "realtime.session",
                    "id": "sess_0000000000000000001",
                    "model": "gpt-realtime",
                    "audio": {"input": {"transcription": None}},
                },
            },
        ),
        (
            0.005,
            Direction.OUT,
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
                },
            },
        ),
        (
            0.007,
            Direction.IN,
            {
                "type": "session.updated",
                "event_id": "event_02",
                "session": {
                    "type": "realtime",
                    "object": "realtime.session",
                    "id": "sess_0000000000000000001",
                    "model": "gpt-realtime",
                    # As a GA server states it: every field, manual turns as null.
                    "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
                },
            },
        ),
        (2.100, Direction.OUT, {"type": "input_audio_buffer.clear"}),
        (2.101, Direction.IN, {"type": "input_audio_buffer.cleared", "event_id": "event_03"}),
    ]
    out += [
        (2.12 + i * 0.02, Direction.OUT, {"type": "input_audio_buffer.append", "audio": AUDIO_20MS}) for i in range(150)
    ]
    out += [
        (5.130, Direction.OUT, {"type": "input_audio_buffer.commit"}),
        (5.131, Direction.OUT, {"type": "response.create"}),
        (
            5.140,
            Direction.IN,
            {
                "type": "input_audio_buffer.committed",
                "event_id": "event_04",
                "item_id": user["id"],
                "previous_item_id": None,
            },
        ),
        (
            5.141,
            Direction.IN,
            {"type": "conversation.item.added", "event_id": "event_05", "previous_item_id": None, "item": user},
        ),
        (
            5.142,
            Direction.IN,
            {"type": "conversation.item.done", "event_id": "event_06", "previous_item_id": None, "item": user},
        ),
        (
            5.150,
            Direction.IN,
            {
                "type": "response.created",
                "event_id": "event_07",
                "response": {
                    "id": "resp_0000000000000000001",
                    "object": "realtime.response",
                    "status": "in_progress",
                    "output": [],
                },
            },
        ),
        (
            5.151,
            Direction.IN,
            {
                "type": "response.output_item.added",
                "event_id": "event_08",
                "response_id": "resp_0000000000000000001",
                "output_index": 0,
                "item": asst,
            },
        ),
        (
            5.152,
            Direction.IN,
            {"type": "conversation.item.added", "event_id": "event_09", "previous_item_id": user["id"], "item": asst},
        ),
    ]
    t = 5.3
    for word in reply.split(" "):
        out.append((t, Direction.IN, {"type": "response.output_audio.delta", **ids, "delta": AUDIO_100MS}))
        out.append(
            (t + 0.01, Direction.IN, {"type": "response.output_audio_transcript.delta", **ids, "delta": " " + word})
        )
        t += 0.05
    out += [
        (t, Direction.IN, {"type": "response.output_audio.done", **ids}),
        (t, Direction.IN, {"type": "response.output_audio_transcript.done", **ids, "transcript": reply}),
        (t, Direction.IN, {"type": "conversation.item.done", "previous_item_id": user["id"], "item": asst_done}),
        (
            t,
            Direction.IN,
            {
                "type": "response.done",
                "response": {"id": "resp_0000000000000000001", "status": "completed", "output": [asst_done]},
            },
        ),
        (
            t + 0.2,
            Direction.IN,
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": user["id"],
                "content_index": 0,
                "delta": "What is the weather",
            },
        ),
        (
            t + 0.3,
            Direction.IN,
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": user["id"],
                "content_index": 0,
                "transcript": "What is the weather like in London today?",
                "usage": {"type": "tokens", "total_tokens": 40},
            },
        ),
        (t + 0.35, Direction.OUT, {"type": "response.cancel", "event_id": "evt_cancel00000000001"}),
        (
            t + 0.4,
            Direction.IN,
            {
                "type": "error",
                "event_id": "event_99",
                "error": {
                    "type": "invalid_request_error",
                    "code": "response_cancel_not_active",
                    "message": "Cancellation failed: no active response found",
                    "param": None,
                    "event_id": "evt_cancel00000000001",
                },
            },
        ),
    ]
    return out


WALL = 1_764_000_000.0
"""The Unix time the scripted session starts at (fixed: a recording's own time, not a test run's).
A wall clock below any Unix time is a log's without times, whose rows show no times."""


def scripted_envelopes(base: float = 1000.0) -> list[Envelope]:
    """The scripted turn as envelopes with fixed times (monotonic from `base`, Unix from `WALL`)."""
    envs: list[Envelope] = []
    label = "simulator · 127.0.0.1:8765"
    connecting = local_envelope("rt.connection", f"connecting to {label}", state="connecting", target=label)
    first = local_envelope("rt.connection", f"connected to {label}", state="open", target=label)
    for seq, env in enumerate((connecting, first), start=1):
        envs.append(Envelope(seq, env.direction, env.type, env.data, env.raw, mono=base, wall=WALL))
    for seq, (t, direction, data) in enumerate(_frames(), start=3):
        raw = json.dumps(data, separators=(",", ":"))
        envs.append(Envelope(seq, direction, data["type"], data, raw, mono=base + t, wall=WALL + t))
    return envs


def scripted_cut_off_envelopes(base: float = 1000.0, words: int = 4) -> list[Envelope]:
    """The scripted turn until the reply's `words`-th transcript delta, then the socket dies
    (before the user's transcript could arrive): the session's `rt.connection` closed fact."""
    envs: list[Envelope] = []
    deltas = 0
    for env in scripted_envelopes(base):
        envs.append(env)
        if env.type == "response.output_audio_transcript.delta":
            deltas += 1
            if deltas == words:
                break
    closed = local_envelope("rt.connection", "connection closed by server (code 1006)", state="closed")
    at, wall = envs[-1].mono + 0.05, envs[-1].wall + 0.05
    envs.append(Envelope(envs[-1].seq + 1, closed.direction, closed.type, closed.data, closed.raw, mono=at, wall=wall))
    return envs
