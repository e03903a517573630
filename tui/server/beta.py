"""The retired beta dialect (`OpenAI-Beta: realtime=v1`), translated at the socket edge.

The simulator keeps one internal model, the GA one. For a beta connection, outbound events are
rewritten to beta names and shapes just before they are serialized (`outbound`), and beta client
payloads are checked against the beta fields and rewritten to GA before the GA logic sees them
(`session_patch`, `response`, `item`). See protocol reference §1.7 and §1.8.
"""

from __future__ import annotations

import copy
from typing import Any

from tui.protocol import beta_to_ga_session, ga_to_beta_session, to_beta
from tui.protocol.dialect_out import CONTENT_TO_BETA
from tui.protocol.events import GA_ONLY_SERVER_EVENTS
from tui.protocol.session_config import GA_FORMAT_TO_BETA

from .errors import invalid_type, invalid_value, missing_parameter
from .schema import anything, enum, number, obj
from .session_schema import (
    BETA_FORMATS,
    BETA_REALTIME,
    BETA_TRANSCRIPTION,
    VOICES,
    beta_modalities,
    max_output_tokens,
)
from .session_state import REALTIME, TRANSCRIPTION

DEFAULT_TEMPERATURE = 0.8
DEFAULT_VOICE = "alloy"
"""The beta interface's default voice (GA's is marin)."""

_CONTENT_TO_GA = {beta: ga for ga, beta in CONTENT_TO_BETA.items()}
#: Turn-detection fields of each kind in GA; a beta object mixes them freely.
_VAD_FIELDS = {
    "server_vad": (
        "type",
        "threshold",
        "prefix_padding_ms",
        "silence_duration_ms",
        "create_response",
        "interrupt_response",
    ),
    "semantic_vad": ("type", "eagerness", "create_response", "interrupt_response"),
}
#: Fields of GA sessions that the beta session object never had.
_GA_ONLY_SESSION_FIELDS = ("truncation", "prompt", "include", "reasoning", "parallel_tool_calls")
_USAGE_INPUT_DETAILS = ("text_tokens", "audio_tokens", "cached_tokens")
_BETA_RESPONSE = obj(
    {
        "conversation": anything,
        "input": anything,
        "instructions": anything,
        "max_response_output_tokens": max_output_tokens,
        "metadata": anything,
        "modalities": beta_modalities,
        "output_audio_format": enum(*BETA_FORMATS),
        "temperature": number(minimum=0.6, maximum=1.2),
        "tool_choice": anything,
        "tools": anything,
        "voice": enum(*VOICES),
    }
)


class BetaWire:
    """Beta shapes for one connection.

    The beta session had a `temperature` that GA dropped; it is remembered here so that
    `session.updated` reports what the client set, without adding it to the GA model.
    """

    def __init__(self) -> None:
        self.temperature: float = DEFAULT_TEMPERATURE

    # ---- server -> client ----------------------------------------------------------------

    def outbound(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The beta form of one GA server event, or None when beta has no such event."""
        kind = str(event["type"])
        if kind == "conversation.item.added":
            name = "conversation.item.created"
        elif kind in GA_ONLY_SERVER_EVENTS:
            # item.done (folded into item.created), timeout_triggered, segment, dtmf: GA only.
            return None
        else:
            name = to_beta(kind)
        out = {key: value for key, value in event.items() if key != "obfuscation"}
        out["type"] = name
        if kind == "response.function_call_arguments.done":
            out.pop("name", None)
        if kind == "conversation.item.input_audio_transcription.completed":
            out.pop("languages", None)
        session = out.get("session")
        if isinstance(session, dict):
            if session.get("type") == TRANSCRIPTION:
                out["type"] = name.replace("session.", "transcription_session.", 1)
                out["session"] = beta_transcription_session(session)
            else:
                out["session"] = self.beta_session(session)
        if isinstance(out.get("item"), dict):
            out["item"] = beta_item(out["item"])
        if isinstance(out.get("response"), dict):
            out["response"] = self.beta_response(out["response"])
        return out

    def beta_session(self, session: dict[str, Any]) -> dict[str, Any]:
        """A GA realtime session object in the beta flat shape."""
        beta = ga_to_beta_session(session)
        for key in _GA_ONLY_SESSION_FIELDS:
            beta.pop(key, None)
        beta["turn_detection"] = _beta_turn_detection(beta.get("turn_detection"))
        tool_choice = beta.get("tool_choice")
        if isinstance(tool_choice, dict):
            # Beta's tool_choice is a string: a forced function goes by its bare name, as it came in.
            beta["tool_choice"] = tool_choice.get("name")
        beta["temperature"] = self.temperature
        return beta

    def beta_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A GA response object in the beta shape (`modalities`, `voice`, `output_audio_format`)."""
        out = {key: value for key, value in response.items() if key not in ("output_modalities", "audio")}
        modalities = response.get("output_modalities") or ["audio"]
        out["modalities"] = ["text", "audio"] if "audio" in modalities else ["text"]
        audio_out = (response.get("audio") or {}).get("output") or {}
        if "voice" in audio_out:
            out["voice"] = audio_out["voice"]
        if isinstance(audio_out.get("format"), dict):
            out["output_audio_format"] = GA_FORMAT_TO_BETA.get(str(audio_out["format"].get("type")), "pcm16")
        out["temperature"] = self.temperature
        out["output"] = [beta_item(item) for item in response.get("output") or []]
        if isinstance(response.get("usage"), dict):
            out["usage"] = _beta_usage(response["usage"])
        return out

    # ---- client -> server ----------------------------------------------------------------

    def session_patch(self, raw: Any, kind: str) -> tuple[dict[str, Any], float | None]:
        """Check a beta session payload and return its GA equivalent, plus any new temperature.

        Raises ProtocolError naming the beta path (e.g. `session.input_audio_format`).
        """
        if raw is None:
            raise missing_parameter("session")
        if not isinstance(raw, dict):
            raise invalid_type("session", raw, "an object")
        (BETA_REALTIME if kind == REALTIME else BETA_TRANSCRIPTION)(raw, "session")
        flat = {key: value for key, value in raw.items() if key not in ("client_secret", "temperature", "include")}
        if "turn_detection" in flat:
            flat["turn_detection"] = _ga_turn_detection(flat["turn_detection"])
        tool_choice = flat.get("tool_choice")
        if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
            # Beta named a forced function by its bare name.
            flat["tool_choice"] = {"type": "function", "name": tool_choice}
        patch = beta_to_ga_session(flat)
        if kind == TRANSCRIPTION:
            patch = {
                "type": TRANSCRIPTION,
                **({"audio": {"input": patch["audio"]["input"]}} if "audio" in patch else {}),
            }
            if "include" in raw:
                patch["include"] = copy.deepcopy(raw["include"])
        temperature = raw.get("temperature")
        return patch, float(temperature) if temperature is not None else None

    def response(self, raw: Any) -> Any:
        """A beta `response.create` payload in GA shape (validation of values is left to GA)."""
        if raw is None:
            return None
        _BETA_RESPONSE(raw, "response")
        assert isinstance(raw, dict)
        out: dict[str, Any] = {}
        audio_out: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "modalities":
                out["output_modalities"] = ["audio"] if "audio" in value else ["text"]
            elif key == "max_response_output_tokens":
                out["max_output_tokens"] = value
            elif key == "voice":
                audio_out["voice"] = value
            elif key == "output_audio_format":
                audio_out["format"] = beta_to_ga_session({"output_audio_format": value})["audio"]["output"]["format"]
            elif key == "temperature":
                continue
            elif key == "input" and isinstance(value, list):
                out["input"] = [ga_item(item) for item in value]
            else:
                out[key] = copy.deepcopy(value)
        if audio_out:
            out["audio"] = {"output": audio_out}
        return out


def beta_item(item: dict[str, Any]) -> dict[str, Any]:
    """A GA item with beta content type names (`text`/`audio` for the assistant)."""
    if not isinstance(item.get("content"), list):
        return dict(item)
    out = dict(item)
    out["content"] = [_rename_part(part, CONTENT_TO_BETA) for part in item["content"]]
    return out


def ga_item(item: Any) -> Any:
    """A beta client item with GA content type names; anything malformed passes through to GA checks."""
    if not isinstance(item, dict) or item.get("role") != "assistant" or not isinstance(item.get("content"), list):
        return item
    for index, part in enumerate(item["content"]):
        if isinstance(part, dict) and part.get("type") in CONTENT_TO_BETA:
            raise invalid_value(f"item.content[{index}].type", part["type"], list(_CONTENT_TO_GA))
    out = dict(item)
    out["content"] = [_rename_part(part, _CONTENT_TO_GA) for part in item["content"]]
    return out


def beta_transcription_session(session: dict[str, Any]) -> dict[str, Any]:
    """A GA transcription session in the beta `transcription_session` shape.

    The SDK models this with the REST response type, whose `client_secret` the WebSocket events
    never carry (openai/openai-openapi#568).
    """
    audio_in = (session.get("audio") or {}).get("input") or {}
    flat = ga_to_beta_session({"audio": {"input": audio_in}})
    return {
        "id": session.get("id"),
        "object": session.get("object"),
        "expires_at": session.get("expires_at"),
        "input_audio_format": flat.get("input_audio_format", "pcm16"),
        "input_audio_transcription": flat.get("input_audio_transcription"),
        "input_audio_noise_reduction": flat.get("input_audio_noise_reduction"),
        "turn_detection": _beta_turn_detection(flat.get("turn_detection"), transcription=True),
        "include": session.get("include"),
    }


def _rename_part(part: Any, names: dict[str, str]) -> Any:
    if not isinstance(part, dict) or part.get("type") not in names:
        return part
    return {**part, "type": names[part["type"]]}


def _beta_turn_detection(value: Any, *, transcription: bool = False) -> Any:
    if not isinstance(value, dict):
        return value
    # Beta had no idle timeout; beta transcription sessions had no response automation either.
    dropped = {"idle_timeout_ms"} | ({"create_response", "interrupt_response"} if transcription else set())
    return {key: item for key, item in value.items() if key not in dropped}


def _ga_turn_detection(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    kind = value.get("type", "server_vad")
    return {key: item for key, item in {**value, "type": kind}.items() if key in _VAD_FIELDS[kind]}


def _beta_usage(usage: dict[str, Any]) -> dict[str, Any]:
    out = dict(usage)
    details = usage.get("input_token_details")
    if isinstance(details, dict):
        out["input_token_details"] = {key: details[key] for key in _USAGE_INPUT_DETAILS if key in details}
    return out
