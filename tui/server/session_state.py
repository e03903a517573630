"""The GA session object: its defaults, validation of `session.update`, and merging.

An update is validated completely before anything is applied: the service discards the whole
update on any error (protocol reference §1.6, §3.1).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tui.protocol import transcription_config

from . import ids
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter

SAMPLE_RATE = 24000

_PCM_24K: dict[str, Any] = {"type": "audio/pcm", "rate": SAMPLE_RATE}
_FORMAT_TYPES = ["audio/pcm", "audio/pcmu", "audio/pcma"]
_MODALITIES = ["text", "audio"]

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

#: Fields the server owns; an update that names them leaves them unchanged.
_SERVER_OWNED = ("id", "object", "expires_at")


def default_session(*, model: str, instructions: str, lifetime_s: int) -> dict[str, Any]:
    """The full default GA realtime session, as sent in `session.created`."""
    return {
        "type": "realtime",
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
            "output": {"format": dict(_PCM_24K), "voice": "marin", "speed": 1.0},
        },
        "include": None,
    }


def apply_update(current: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Validate the `session` of a `session.update` and return the new effective session.

    Raises ProtocolError, leaving `current` untouched, when any part of the patch is invalid.
    """
    validate_update(patch)
    assert isinstance(patch, dict)
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if key in _SERVER_OWNED:
            continue
        if key == "audio":
            _merge_audio(merged, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_update(patch: Any) -> None:
    """Raise ProtocolError for the first problem in a GA `session.update` payload."""
    if patch is None:
        raise missing_parameter("session")
    if not isinstance(patch, dict):
        raise invalid_type("session", patch, "an object")
    session_type = patch.get("type")
    if session_type is None:
        raise missing_parameter("session.type")
    if session_type == "transcription":
        raise ProtocolError(
            "invalid_value",
            "Passing a transcription session update event to a realtime session is not allowed.",
            param="session.type",
        )
    if session_type != "realtime":
        raise invalid_value("session.type", session_type, ["realtime", "transcription"])
    if "output_modalities" in patch:
        validate_modalities(patch["output_modalities"], "session.output_modalities")
    if "max_output_tokens" in patch:
        validate_max_output_tokens(patch["max_output_tokens"], "session.max_output_tokens")
    audio = patch.get("audio")
    if audio is None:
        return
    if not isinstance(audio, dict):
        raise invalid_type("session.audio", audio, "an object")
    for direction in ("input", "output"):
        section = audio.get(direction)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise invalid_type(f"session.audio.{direction}", section, "an object")
        if "format" in section:
            _validate_format(section["format"], f"session.audio.{direction}.format")
    audio_in = audio.get("input") or {}
    if isinstance(audio_in, dict):
        _validate_transcription(audio_in.get("transcription"))
        _validate_turn_detection(audio_in.get("turn_detection"))


def validate_modalities(value: Any, param: str) -> None:
    """`["audio"]` or `["text"]`: both at once is not allowed in GA."""
    if not isinstance(value, list):
        raise invalid_type(param, value, "an array")
    for entry in value:
        if entry not in _MODALITIES:
            raise invalid_value(param, entry, _MODALITIES)
    if len(set(value)) != 1:
        raise ProtocolError(
            "invalid_value",
            f"Invalid '{param}': exactly one of 'text' or 'audio' is supported, got {value!r}.",
            param=param,
        )


def validate_max_output_tokens(value: Any, param: str) -> None:
    """An integer from 1 to 4096, or "inf"."""
    if value == "inf":
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_value(param, value, ["inf"])
    if not 1 <= value <= 4096:
        raise ProtocolError(
            "integer_below_min_value" if value < 1 else "integer_above_max_value",
            f"Invalid '{param}': expected an integer between 1 and 4096 or 'inf', but got {value} instead.",
            param=param,
        )


def _validate_format(fmt: Any, param: str) -> None:
    if not isinstance(fmt, dict):
        raise invalid_type(param, fmt, "an object")
    fmt_type = fmt.get("type")
    if fmt_type not in _FORMAT_TYPES:
        raise invalid_value(f"{param}.type", fmt_type, _FORMAT_TYPES)
    if fmt_type != "audio/pcm" or "rate" not in fmt:
        return
    rate = fmt["rate"]
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise invalid_type(f"{param}.rate", rate, "an integer")
    if rate < SAMPLE_RATE:
        raise ProtocolError(
            "integer_below_min_value",
            f"Invalid '{param}.rate': integer below minimum value. "
            f"Expected a value >= {SAMPLE_RATE}, but got {rate} instead.",
            param=f"{param}.rate",
        )
    if rate > SAMPLE_RATE:
        raise ProtocolError(
            "integer_above_max_value",
            f"Invalid '{param}.rate': integer above maximum value. "
            f"Expected a value <= {SAMPLE_RATE}, but got {rate} instead.",
            param=f"{param}.rate",
        )


def _validate_transcription(value: Any) -> None:
    param = "session.audio.input.transcription"
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(param, value, "an object")
    model = value.get("model")
    if model is not None and not isinstance(model, str):
        raise invalid_type(f"{param}.model", model, "a string")


def _validate_turn_detection(value: Any) -> None:
    param = "session.audio.input.turn_detection"
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(param, value, "an object")
    kind = value.get("type", "server_vad")
    if kind not in _TURN_DETECTION_DEFAULTS:
        raise invalid_value(f"{param}.type", kind, list(_TURN_DETECTION_DEFAULTS))
    threshold = value.get("threshold")
    if threshold is not None and (
        not isinstance(threshold, int | float) or isinstance(threshold, bool) or not 0.0 <= threshold <= 1.0
    ):
        raise invalid_value(f"{param}.threshold", threshold)


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


def transcription_model(session: dict[str, Any]) -> str | None:
    """The configured input-transcription model, or None when transcription is off."""
    config = transcription_config(session)
    if config is None:
        return None
    model = config.get("model")
    return model if isinstance(model, str) and model else "whisper-1"
