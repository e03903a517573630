"""The GA session object: its defaults, validation of `session.update`, and merging.

An update is validated completely before anything is applied: the service discards the whole
update on any error (protocol reference §1.6, §3.1).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from . import ids
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter
from .session_schema import GA_REALTIME, GA_TRANSCRIPTION, SAMPLE_RATE

REALTIME = "realtime"
STREAMING_WHISPER = "gpt-realtime-whisper"
TRANSCRIPTION = "transcription"

_PCM_24K: dict[str, Any] = {"type": "audio/pcm", "rate": SAMPLE_RATE}

SERVER_VAD_DEFAULTS: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS: dict[str, Any] = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
_TURN_DETECTION_DEFAULTS = {"server_vad": SERVER_VAD_DEFAULTS, "semantic_vad": SEMANTIC_VAD_DEFAULTS}


def default_session(*, model: str, instructions: str, lifetime_s: int, voice: str = "marin") -> dict[str, Any]:
    """The full default GA realtime session, as sent in `session.created`."""
    return {
        "type": REALTIME,
        "object": "realtime.session",
        "id": ids.session_id(),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": instructions,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": int(time.time()) + lifetime_s,
        "audio": {
            "input": {
                "format": dict(_PCM_24K),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            },
            "output": {"format": dict(_PCM_24K), "voice": voice, "speed": 1.0},
        },
        "include": None,
    }


def default_transcription_session(*, lifetime_s: int) -> dict[str, Any]:
    """The full default GA transcription session (`?intent=transcription`), as in `session.created`."""
    return {
        "type": TRANSCRIPTION,
        "object": "realtime.transcription_session",
        "id": ids.session_id(),
        "expires_at": int(time.time()) + lifetime_s,
        "audio": {
            "input": {
                "format": dict(_PCM_24K),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            }
        },
        "include": None,
    }


def apply_update(current: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Validate the `session` of a GA `session.update` and return the new effective session.

    Raises ProtocolError, leaving `current` untouched, when any part of the patch is invalid.
    """
    validate_update(patch, current.get("type", REALTIME))
    assert isinstance(patch, dict)
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if key == "audio":
            _merge_audio(merged, value)
        else:
            merged[key] = copy.deepcopy(value)
    _check_streaming_whisper(merged, patch)
    return merged


def _check_streaming_whisper(session: dict[str, Any], patch: dict[str, Any]) -> None:
    """`gpt-realtime-whisper` takes no prompt and no turn detection (the SDK's AudioTranscription
    and turn_detection docs: "VAD is not supported").

    Turn detection is checked on the session the update would make, since the default session
    has server VAD on; the prompt only where this update sends one (a prompt kept from an earlier
    model by the merge is not the client's doing now).
    """
    audio_in = (session.get("audio") or {}).get("input") or {}
    transcription = audio_in.get("transcription")
    if not isinstance(transcription, dict) or transcription.get("model") != STREAMING_WHISPER:
        return
    path = "session.audio.input"
    sent = ((patch.get("audio") or {}).get("input") or {}).get("transcription")
    if isinstance(sent, dict) and sent.get("prompt") is not None:
        raise ProtocolError(
            "invalid_value",
            f"Invalid '{path}.transcription.prompt': prompt is not supported with the '{STREAMING_WHISPER}' model.",
            param=f"{path}.transcription.prompt",
        )
    if audio_in.get("turn_detection") is not None:
        raise ProtocolError(
            "invalid_value",
            f"Invalid '{path}.turn_detection': turn detection is not supported with the '{STREAMING_WHISPER}' "
            "transcription model; set it to null and commit the audio buffer yourself.",
            param=f"{path}.turn_detection",
        )


def validate_update(patch: Any, kind: str = REALTIME) -> None:
    """Raise ProtocolError for the first problem in a GA `session.update` payload.

    `kind` is the socket's session type: a realtime socket refuses a transcription update and
    the other way round (protocol reference §4.6).
    """
    if patch is None:
        raise missing_parameter("session")
    if not isinstance(patch, dict):
        raise invalid_type("session", patch, "an object")
    session_type = patch.get("type")
    if session_type is None:
        raise missing_parameter("session.type")
    if session_type not in (REALTIME, TRANSCRIPTION):
        raise invalid_value("session.type", session_type, [REALTIME, TRANSCRIPTION])
    if session_type != kind:
        raise ProtocolError(
            "invalid_value",
            f"Passing a {session_type} session update event to a {kind} session is not allowed.",
            param="session.type",
        )
    (GA_REALTIME if kind == REALTIME else GA_TRANSCRIPTION)(patch, "session")


def _merge_audio(merged: dict[str, Any], audio: dict[str, Any]) -> None:
    target = merged.setdefault("audio", {})
    for direction in ("input", "output"):
        section = audio.get(direction)
        if section is None:
            continue
        dest = target.setdefault(direction, {})
        for key, value in section.items():
            if key == "format":
                # A format object is replaced whole: switching to G.711 must not keep a PCM rate.
                dest[key] = _full_format(value)
            elif key == "turn_detection":
                dest[key] = _merge_turn_detection(dest.get(key), value)
            elif isinstance(value, dict) and isinstance(dest.get(key), dict):
                dest[key] = _deep_merge(dest[key], value)
            else:
                dest[key] = copy.deepcopy(value)


def _full_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt.get("type") == "audio/pcm":
        return {"type": "audio/pcm", "rate": fmt.get("rate", SAMPLE_RATE)}
    return {"type": fmt["type"]}


def _merge_turn_detection(current: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = value.get("type", "server_vad")
    # Switching VAD kind (or turning it on) starts from that kind's defaults, not the old fields.
    base = current if isinstance(current, dict) and current.get("type") == kind else _TURN_DETECTION_DEFAULTS[kind]
    return _deep_merge(base, {**value, "type": kind})


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
