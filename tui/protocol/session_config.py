"""The session configuration in GA shape, and its translation to and from the beta flat shape.

GA nests audio settings under `audio.input` / `audio.output` and requires `type`; beta keeps them
flat (`input_audio_format`, `input_audio_transcription`, `turn_detection`, `voice`, ...). See the
protocol reference §1.8.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .fields import obj

PCM_24K: dict[str, Any] = {"type": "audio/pcm", "rate": 24000}

#: GA format objects <-> beta format strings.
GA_FORMAT_TO_BETA = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
"""GA audio format types and their beta names (client, server and simulator share it)."""
_BETA_FORMAT_TO_GA = {beta: ga for ga, beta in GA_FORMAT_TO_BETA.items()}

#: Transcription model rt-tui asks for by default; the simulator honours its delta style.
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-transcribe"


@dataclass(frozen=True, slots=True)
class ClientSessionOptions:
    """What rt-tui asks of a session. Turned into a `session.update` by :func:`session_update`."""

    transcription_model: str | None = DEFAULT_TRANSCRIPTION_MODEL
    """None turns input transcription off."""
    language: str | None = None
    turn_detection: str | None = None
    """None for push-to-talk (the client commits); "server_vad" or "semantic_vad" for hands-free."""
    voice: str | None = None
    instructions: str | None = None
    output_modalities: tuple[str, ...] = ("audio",)


def session_update(options: ClientSessionOptions) -> dict[str, Any]:
    """Build the GA `session.update` event for `options`."""
    transcription: dict[str, Any] | None = None
    if options.transcription_model:
        transcription = {"model": options.transcription_model}
        if options.language:
            transcription["language"] = options.language
    turn_detection: dict[str, Any] | None = {"type": options.turn_detection} if options.turn_detection else None
    audio_output: dict[str, Any] = {"format": dict(PCM_24K)}
    if options.voice:
        audio_output["voice"] = options.voice
    session: dict[str, Any] = {
        "type": "realtime",
        "output_modalities": list(options.output_modalities),
        "audio": {
            "input": {
                "format": dict(PCM_24K),
                "transcription": transcription,
                "turn_detection": turn_detection,
            },
            "output": audio_output,
        },
    }
    if options.instructions is not None:
        session["instructions"] = options.instructions
    return {"type": "session.update", "session": session}


def transcription_config(session: dict[str, Any]) -> dict[str, Any] | None:
    """The input-transcription settings of a GA or beta session object, or None when off."""
    if "audio" in session or session.get("type") in ("realtime", "transcription"):
        value = obj(obj(session.get("audio")).get("input")).get("transcription")
    else:
        value = session.get("input_audio_transcription")
    return value if isinstance(value, dict) else None


def turn_detection_config(session: dict[str, Any]) -> dict[str, Any] | None:
    """The turn-detection settings of a GA or beta session object, or None for manual turns."""
    if "audio" in session:
        value = obj(obj(session.get("audio")).get("input")).get("turn_detection")
    else:
        value = session.get("turn_detection")
    return value if isinstance(value, dict) else None


def holds_turn_detection(session: dict[str, Any]) -> bool:
    """Whether a GA or beta session object holds its turn detection, null included: an update that
    leaves it out leaves the server's as it was, and a minimal server's `{"id": ...}` says nothing."""
    return _holds(session, "turn_detection", "turn_detection")


def holds_transcription(session: dict[str, Any]) -> bool:
    """Whether a GA or beta session object holds its input transcription, null included (leaving it
    out is not saying it is off)."""
    return _holds(session, "input_audio_transcription", "transcription")


def _holds(session: dict[str, Any], beta_key: str, ga_key: str) -> bool:
    """Whether `session` has the beta flat field, or the GA `audio.input` one."""
    return beta_key in session or ga_key in obj(obj(session.get("audio")).get("input"))


def ga_to_beta_session(session: dict[str, Any]) -> dict[str, Any]:
    """Translate a GA session object to the beta flat shape (for the simulator's beta dialect)."""
    ga = copy.deepcopy(session)
    audio = ga.pop("audio", None) or {}
    audio_in = audio.get("input") or {}
    audio_out = audio.get("output") or {}
    beta: dict[str, Any] = {}
    for key, value in ga.items():
        if key == "type":
            continue
        if key == "output_modalities":
            beta["modalities"] = ["text", "audio"] if "audio" in value else ["text"]
        elif key == "max_output_tokens":
            beta["max_response_output_tokens"] = value
        else:
            beta[key] = value
    if "format" in audio_in:
        beta["input_audio_format"] = format_to_beta(audio_in["format"])
    if "transcription" in audio_in:
        beta["input_audio_transcription"] = audio_in["transcription"]
    if "noise_reduction" in audio_in:
        beta["input_audio_noise_reduction"] = audio_in["noise_reduction"]
    if "turn_detection" in audio_in:
        beta["turn_detection"] = audio_in["turn_detection"]
    if "format" in audio_out:
        beta["output_audio_format"] = format_to_beta(audio_out["format"])
    if "voice" in audio_out:
        beta["voice"] = audio_out["voice"]
    if "speed" in audio_out:
        beta["speed"] = audio_out["speed"]
    return beta


def beta_to_ga_session(beta: dict[str, Any]) -> dict[str, Any]:
    """Translate a beta flat session (partial or full) to the GA nested shape."""
    flat = copy.deepcopy(beta)
    ga: dict[str, Any] = {"type": "realtime"}
    audio_in: dict[str, Any] = {}
    audio_out: dict[str, Any] = {}
    for key, value in flat.items():
        if key == "modalities":
            ga["output_modalities"] = ["audio"] if "audio" in value else ["text"]
        elif key == "max_response_output_tokens":
            ga["max_output_tokens"] = value
        elif key == "input_audio_format":
            audio_in["format"] = _format_to_ga(value)
        elif key == "input_audio_transcription":
            audio_in["transcription"] = value
        elif key == "input_audio_noise_reduction":
            audio_in["noise_reduction"] = value
        elif key == "turn_detection":
            audio_in["turn_detection"] = value
        elif key == "output_audio_format":
            audio_out["format"] = _format_to_ga(value)
        elif key in ("voice", "speed"):
            audio_out[key] = value
        elif key == "temperature":
            continue  # gone in GA; the beta dialect accepts and ignores it
        else:
            ga[key] = value
    if audio_in or audio_out:
        ga["audio"] = {}
        if audio_in:
            ga["audio"]["input"] = audio_in
        if audio_out:
            ga["audio"]["output"] = audio_out
    return ga


def format_to_beta(fmt: Any) -> Any:
    """A GA audio format object as the beta format name (anything else as it is)."""
    if isinstance(fmt, dict):
        return GA_FORMAT_TO_BETA.get(str(fmt.get("type")), fmt.get("type"))
    return fmt


def _format_to_ga(fmt: Any) -> Any:
    if isinstance(fmt, str) and fmt in _BETA_FORMAT_TO_GA:
        ga_type = _BETA_FORMAT_TO_GA[fmt]
        return {"type": ga_type, "rate": 24000} if ga_type == "audio/pcm" else {"type": ga_type}
    return fmt
