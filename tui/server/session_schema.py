"""What a `session.update` may contain, per dialect and session kind (protocol reference §1.6, §1.8, §4.6).

GA: the nested shape, `session.type` required, every undeclared field an `unknown_parameter`
(beta names such as `input_audio_format` or `temperature` included). Beta: the flat shape of the
retired `OpenAI-Beta: realtime=v1` interface, checked just as strictly against its own fields.
The field lists follow the official SDK's request types (openai-python `types/realtime/` and
`types/beta/realtime/`), which the tests cross-check.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ProtocolError, invalid_type, invalid_value
from .schema import (
    Check,
    anything,
    array,
    boolean,
    by_json_type,
    enum,
    free_object,
    integer,
    metadata,
    nullable,
    number,
    obj,
    short_text,
    string_map,
    tagged,
    text,
    values_of,
)

SAMPLE_RATE = 24000

#: Transcription models of the GA spec; the beta interface knew the first three.
TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe-diarize",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-realtime-whisper",
)
BETA_TRANSCRIPTION_MODELS = TRANSCRIPTION_MODELS[:3]
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
BETA_FORMATS = ("pcm16", "g711_ulaw", "g711_alaw")
INCLUDE_VALUES = ("item.input_audio_transcription.logprobs",)
_REALTIME_MODEL = re.compile(r"gpt-realtime(-[\w.-]+)?|gpt-4o(-mini)?-realtime-preview(-[\w.-]+)?|gpt-audio(-[\w.-]+)?")


def is_realtime_model(name: str) -> bool:
    """True for the realtime model families of the GA spec (dated snapshots included)."""
    return _REALTIME_MODEL.fullmatch(name) is not None


def _realtime_model(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise invalid_type(path, value, "a string")
    if not is_realtime_model(value):
        raise invalid_value(path, value)


def _rate(value: Any, path: str) -> None:
    # A 16 kHz declaration is refused as below the minimum; the enum holds only 24000.
    integer(minimum=SAMPLE_RATE)(value, path)
    if value != SAMPLE_RATE:
        raise invalid_value(path, value, [SAMPLE_RATE])


def modalities(value: Any, path: str) -> None:
    """GA `output_modalities`: `["audio"]` or `["text"]`; both at once is not allowed."""
    array(enum("text", "audio"))(value, path)
    if len(set(value)) != 1:
        raise ProtocolError(
            "invalid_value",
            f"Invalid '{path}': exactly one of 'text' or 'audio' is supported, got {value!r}.",
            param=path,
        )


def max_output_tokens(value: Any, path: str) -> None:
    """An integer from 1 to 4096, or "inf"."""
    if value == "inf":
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_value(path, value, ["inf"])
    integer(minimum=1, maximum=4096)(value, path)


_FORMAT = tagged(
    {
        "audio/pcm": obj({"type": text, "rate": _rate}),
        "audio/pcmu": obj({"type": text}),
        "audio/pcma": obj({"type": text}),
    }
)
_TRANSCRIPTION = obj(
    {
        "model": enum(*TRANSCRIPTION_MODELS),
        "language": text,
        "prompt": text,
        "languages": array(text),
        "keywords": array(text),
        "delay": enum("minimal", "low", "medium", "high", "xhigh"),
    }
)
_NOISE_REDUCTION = obj({"type": enum("near_field", "far_field"), "strength": number(minimum=0.0, maximum=1.0)})
_EAGERNESS = enum("low", "medium", "high", "auto")
_SERVER_VAD_FIELDS: dict[str, Check] = {
    "type": text,
    "threshold": number(minimum=0.0, maximum=1.0),
    "prefix_padding_ms": integer(minimum=0),
    "silence_duration_ms": integer(minimum=0),
    "idle_timeout_ms": nullable(integer(minimum=5000, maximum=30000)),  # protocol §5: 5000–30000
    "create_response": boolean,
    "interrupt_response": boolean,
}
_SEMANTIC_VAD_FIELDS: dict[str, Check] = {
    "type": text,
    "eagerness": _EAGERNESS,
    "create_response": boolean,
    "interrupt_response": boolean,
}
_TURN_DETECTION = tagged({"server_vad": obj(_SERVER_VAD_FIELDS), "semantic_vad": obj(_SEMANTIC_VAD_FIELDS)})
_VOICE = by_json_type(
    string=enum(*VOICES), mapping=obj({"id": text}, required=["id"]), expected="a string or an object"
)
#: The service refuses longer tool descriptions (`string_above_max_length`, livekit/agents#1183).
TOOL_DESCRIPTION_CHARS = 1024
_FUNCTION_TOOL = obj(
    {"type": text, "name": text, "description": short_text(TOOL_DESCRIPTION_CHARS), "parameters": anything},
    required=["name"],
)
_NAMES_FILTER = obj({"read_only": boolean, "tool_names": array(text)})
_MCP_TOOL = obj(
    {
        "type": text,
        "server_label": text,
        "server_url": text,
        "server_description": text,
        "connector_id": enum(
            "connector_dropbox",
            "connector_gmail",
            "connector_googlecalendar",
            "connector_googledrive",
            "connector_microsoftteams",
            "connector_outlookcalendar",
            "connector_outlookemail",
            "connector_sharepoint",
        ),
        "tunnel_id": text,
        "authorization": text,
        "headers": nullable(string_map),
        "allowed_tools": nullable(
            by_json_type(array=array(text), mapping=_NAMES_FILTER, expected="an array or an object")
        ),
        "require_approval": nullable(
            by_json_type(
                string=enum("always", "never"),
                mapping=obj({"always": _NAMES_FILTER, "never": _NAMES_FILTER}),
                expected="'always', 'never' or an object",
            )
        ),
        # The SDK allows "direct" and "programmatic"; left open while tests/test_server_validation.py
        # sends "assistant" (see tests/test_server_round27.py).
        "allowed_callers": nullable(array(enum("direct", "programmatic"))),
        "defer_loading": boolean,
    },
    required=["server_label"],
)
"""An MCP tool as the SDK declares it (`realtime_tools_config_union.Mcp`): `session.updated`
echoes it, so anything else would reach the client as an event its types refuse."""
_TOOLS = array(tagged({"function": _FUNCTION_TOOL, "mcp": _MCP_TOOL}, default="function"))
_CACHE_BREAKPOINT = {
    "prompt_cache_breakpoint": obj({"mode": enum("explicit"), "ttl": enum("30m", "12h")}, required=["mode"])
}
_PROMPT_VARIABLE = by_json_type(
    string=text,
    mapping=tagged(
        {
            "input_text": obj({"type": text, "text": text, **_CACHE_BREAKPOINT}, required=["text"]),
            "input_image": obj(
                {
                    "type": text,
                    "detail": enum("low", "high", "auto", "original"),
                    "file_id": nullable(text),
                    "image_url": nullable(text),
                    **_CACHE_BREAKPOINT,
                },
                required=["detail"],
            ),
            "input_file": obj(
                {
                    "type": text,
                    "detail": enum("auto", "low", "high"),
                    "file_data": text,
                    "file_id": nullable(text),
                    "file_url": text,
                    "filename": text,
                    **_CACHE_BREAKPOINT,
                }
            ),
        }
    ),
    expected="a string or an object",
)
_PROMPT = nullable(
    obj(
        {"id": text, "version": nullable(text), "variables": nullable(values_of(_PROMPT_VARIABLE))},
        required=["id"],
    )
)
"""A stored prompt reference (the SDK's `ResponsePrompt`): variables are strings or input parts."""
_TOOL_CHOICE = by_json_type(
    string=enum("none", "auto", "required"),
    mapping=tagged(
        {
            "function": obj({"type": text, "name": text}, required=["name"]),
            "mcp": obj({"type": text, "server_label": text, "name": nullable(text)}, required=["server_label"]),
        }
    ),
    expected="a string or an object",
)
_TRACING = nullable(
    by_json_type(
        string=enum("auto"),
        mapping=obj({"group_id": text, "metadata": anything, "workflow_name": text}),
        expected="'auto' or an object",
    )
)
_TRUNCATION = by_json_type(
    string=enum("auto", "disabled"),
    mapping=tagged(
        {
            "retention_ratio": obj(
                {
                    "type": text,
                    "retention_ratio": number(minimum=0.0, maximum=1.0),
                    "token_limits": obj({"post_instructions": integer(minimum=0)}),
                },
                required=["retention_ratio"],
            )
        }
    ),
    expected="a string or an object",
)
_INCLUDE = nullable(array(enum(*INCLUDE_VALUES)))
_AUDIO_INPUT = obj(
    {
        "format": _FORMAT,
        "transcription": nullable(_TRANSCRIPTION),
        "noise_reduction": nullable(_NOISE_REDUCTION),
        "turn_detection": nullable(_TURN_DETECTION),
    }
)

GA_REALTIME = obj(
    {
        "type": text,
        "model": _realtime_model,
        "output_modalities": modalities,
        "instructions": text,
        "audio": obj(
            {
                "input": _AUDIO_INPUT,
                "output": obj({"format": _FORMAT, "voice": _VOICE, "speed": number(minimum=0.25, maximum=1.5)}),
            }
        ),
        "include": _INCLUDE,
        "max_output_tokens": max_output_tokens,
        "parallel_tool_calls": boolean,
        "prompt": _PROMPT,
        "reasoning": obj({"effort": enum("minimal", "low", "medium", "high", "xhigh")}),
        "tool_choice": _TOOL_CHOICE,
        "tools": _TOOLS,
        "tracing": _TRACING,
        "truncation": _TRUNCATION,
    },
    required=["type"],
)
"""The `session` of a GA `session.update` on a realtime socket."""

GA_TRANSCRIPTION = obj({"type": text, "audio": obj({"input": _AUDIO_INPUT}), "include": _INCLUDE}, required=["type"])
"""The `session` of a GA `session.update` on an `?intent=transcription` socket."""

_BETA_TURN_DETECTION = obj(
    {
        "type": enum("server_vad", "semantic_vad"),
        "threshold": number(minimum=0.0, maximum=1.0),
        "prefix_padding_ms": integer(minimum=0),
        "silence_duration_ms": integer(minimum=0),
        "eagerness": _EAGERNESS,
        "create_response": boolean,
        "interrupt_response": boolean,
    }
)
_BETA_TRANSCRIPTION = obj({"model": enum(*BETA_TRANSCRIPTION_MODELS), "language": text, "prompt": text})
_BETA_NOISE_REDUCTION = obj({"type": enum("near_field", "far_field")})


def beta_modalities(value: Any, path: str) -> None:
    """Beta `modalities`: `["text"]` or `["text", "audio"]` (either order)."""
    array(enum("text", "audio"))(value, path)
    if "text" not in value:
        raise invalid_value(path, value, [["text"], ["text", "audio"]])


BETA_REALTIME = obj(
    {
        "model": _realtime_model,
        "modalities": beta_modalities,
        "instructions": text,
        "voice": enum(*VOICES),
        "input_audio_format": enum(*BETA_FORMATS),
        "output_audio_format": enum(*BETA_FORMATS),
        "input_audio_transcription": nullable(_BETA_TRANSCRIPTION),
        "input_audio_noise_reduction": nullable(_BETA_NOISE_REDUCTION),
        "turn_detection": nullable(_BETA_TURN_DETECTION),
        "tools": array(
            obj(
                {
                    "type": enum("function"),
                    "name": text,
                    "description": short_text(TOOL_DESCRIPTION_CHARS),
                    "parameters": anything,
                }
            )
        ),
        "tool_choice": text,
        "temperature": number(minimum=0.6, maximum=1.2),
        "max_response_output_tokens": max_output_tokens,
        "speed": number(minimum=0.25, maximum=1.5),
        "tracing": _TRACING,
        "client_secret": free_object,
    }
)
"""The `session` of a beta `session.update` (flat shape)."""

BETA_TRANSCRIPTION = obj(
    {
        "input_audio_format": enum(*BETA_FORMATS),
        "input_audio_transcription": nullable(_BETA_TRANSCRIPTION),
        "input_audio_noise_reduction": nullable(_BETA_NOISE_REDUCTION),
        "turn_detection": nullable(_BETA_TURN_DETECTION),
        "include": _INCLUDE,
        "modalities": beta_modalities,
        "client_secret": free_object,
    }
)
"""The `session` of a beta `transcription_session.update`."""

GA_RESPONSE_CREATE = obj(
    {
        "audio": obj({"output": obj({"format": _FORMAT, "voice": _VOICE})}),
        "conversation": enum("auto", "none"),
        # Items are checked one by one when the context is resolved (model_input.resolve_input).
        "input": anything,
        "instructions": text,
        "max_output_tokens": max_output_tokens,
        "metadata": metadata,
        "output_modalities": modalities,
        "parallel_tool_calls": boolean,
        "prompt": _PROMPT,
        "reasoning": obj({"effort": enum("minimal", "low", "medium", "high", "xhigh")}),
        "tool_choice": _TOOL_CHOICE,
        "tools": _TOOLS,
    }
)
"""The `response` of a GA `response.create` (the SDK's `RealtimeResponseCreateParamsParam`)."""
