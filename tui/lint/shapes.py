"""What the two dialects accept: session and response fields, audio formats, output modalities.

Tables follow the protocol reference (§1.6, §1.8, §3.1) and the simulator's schemas, which follow
the official SDK's request types; they are repeated here because the linter shares only
`tui.protocol` with the rest of rt-tui.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.protocol import Dialect, obj, text
from tui.protocol.events import GA_CLIENT_EVENTS

from .b64audio import rate_label
from .finding import shown

PCM_RATE = 24000

#: Beta `session` fields a GA server does not know, with their GA place (None: removed in GA).
BETA_ONLY_SESSION: dict[str, str | None] = {
    "modalities": "output_modalities",
    "voice": "audio.output.voice",
    "input_audio_format": "audio.input.format",
    "output_audio_format": "audio.output.format",
    "input_audio_transcription": "audio.input.transcription",
    "input_audio_noise_reduction": "audio.input.noise_reduction",
    "turn_detection": "audio.input.turn_detection",
    "speed": "audio.output.speed",
    "max_response_output_tokens": "max_output_tokens",
    "temperature": None,
}

#: GA `session` fields a beta server does not know, with their beta place (None: no beta equivalent).
GA_ONLY_SESSION: dict[str, str | None] = {
    "type": None,
    "output_modalities": "modalities",
    "audio": "input_audio_format, input_audio_transcription, turn_detection, voice, …",
    "max_output_tokens": "max_response_output_tokens",
    "parallel_tool_calls": None,
    "prompt": None,
    "reasoning": None,
    "truncation": None,
}

#: Beta `response.create` fields a GA server does not know.
BETA_ONLY_RESPONSE: dict[str, str | None] = {
    "modalities": "output_modalities",
    "voice": "audio.output.voice",
    "output_audio_format": "audio.output.format",
    "max_response_output_tokens": "max_output_tokens",
    "temperature": None,
}

#: GA `response.create` fields a beta server does not know.
GA_ONLY_RESPONSE: dict[str, str | None] = {
    "output_modalities": "modalities",
    "audio": "voice, output_audio_format",
    "max_output_tokens": "max_response_output_tokens",
    "parallel_tool_calls": None,
    "prompt": None,
    "reasoning": None,
}

#: Client event types either dialect accepts over a WebSocket: the protocol's GA table, whose names
#: the beta interface shares (the GA server also takes two translation-session events, which its
#: own "supported values" error lists).
CLIENT_EVENTS_BOTH: frozenset[str] = GA_CLIENT_EVENTS
CLIENT_EVENTS_GA_ONLY: frozenset[str] = frozenset({"session.close", "session.input_audio_buffer.append"})
CLIENT_EVENTS_BETA_ONLY: frozenset[str] = frozenset({"transcription_session.update"})


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """An audio format as the server reads it."""

    name: str
    """`pcm16`, `pcmu` or `pcma`."""
    bytes_per_ms: int
    label: str

    @property
    def is_pcm16(self) -> bool:
        """True for 16-bit PCM (the level, clipping and byte-order checks apply)."""
        return self.name == "pcm16"


PCM16 = AudioFormat("pcm16", 48, "24 kHz mono PCM16")
PCMU = AudioFormat("pcmu", 8, "G.711 μ-law (8 kHz)")
PCMA = AudioFormat("pcma", 8, "G.711 A-law (8 kHz)")
_GA_FORMATS = {"audio/pcm": PCM16, "audio/pcmu": PCMU, "audio/pcma": PCMA}
_BETA_FORMATS = {"pcm16": PCM16, "g711_ulaw": PCMU, "g711_alaw": PCMA}


def input_format(session: dict[str, Any] | None) -> AudioFormat:
    """The input audio format of a GA or beta session object (24 kHz PCM16 when unknown)."""
    return _format(session, "input")


def output_format(session: dict[str, Any] | None) -> AudioFormat:
    """The output audio format of a GA or beta session object (24 kHz PCM16 when unknown)."""
    return _format(session, "output")


def response_output_format(response: dict[str, Any]) -> AudioFormat | None:
    """The output audio format a response object states (GA `audio.output.format`, beta
    `output_audio_format`), or None when it states none: its audio is then in the session's format.
    A format the service does not know reads as 24 kHz PCM16, as in a session."""
    if obj(obj(obj(response.get("audio")).get("output")).get("format")) or "output_audio_format" in response:
        return _format(response, "output")
    return None


def _format(session: dict[str, Any] | None, way: str) -> AudioFormat:
    if not session:
        return PCM16
    ga = obj(obj(obj(session.get("audio")).get(way)).get("format"))
    if ga:
        return _GA_FORMATS.get(text(ga.get("type")), PCM16)
    return _BETA_FORMATS.get(text(session.get(f"{way}_audio_format")), PCM16)


def session_dialect(session: dict[str, Any]) -> Dialect:
    """The dialect a server's session object is shaped in: GA has `type` and nests `audio`."""
    return Dialect.GA if "type" in session or "audio" in session else Dialect.BETA


def foreign_fields(fields: dict[str, Any], table: dict[str, str | None]) -> list[str]:
    """`name → other place` for each field of `fields` that `table` lists, in the frame's order."""
    out: list[str] = []
    for key in fields:
        if key in table:
            place = table[key]
            out.append(f"{key} (→ {place})" if place else f"{key} (no equivalent)")
    return out


def ga_modalities_problem(value: Any) -> str | None:
    """Why a GA `output_modalities` value is refused, or None: it must be `["audio"]` or `["text"]`."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return 'must be a list: ["audio"] or ["text"]'
    unknown = [v for v in value if v not in ("audio", "text")]
    if unknown:
        return f'names {shown(unknown[0])}; the only values are "audio" and "text"'
    if len(set(value)) != 1:
        if not value:
            return 'is empty; it must be ["audio"] or ["text"]'
        return (
            'asks for text and audio at once; GA allows exactly one: ["audio"] (audio with its transcript) or ["text"]'
        )
    return None


def beta_modalities_problem(value: Any) -> str | None:
    """Why a beta `modalities` value is refused, or None: `["text"]` or `["text", "audio"]`."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return 'must be a list: ["text"] or ["text", "audio"]'
    unknown = [v for v in value if v not in ("audio", "text")]
    if unknown:
        return f'names {shown(unknown[0])}; the only values are "audio" and "text"'
    if "text" not in value:
        return 'lacks "text"; the beta interface takes ["text"] or ["text", "audio"]'
    return None


def format_problems(config: dict[str, Any], paths: tuple[tuple[str, ...], ...], prefix: str) -> list[tuple[str, str]]:
    """`(path, problem)` for GA audio format objects at `paths` of `config` that a server refuses.

    Problems: an `audio/pcm` rate other than 24000 (rule `pcm-rate-not-24000`), or a format type
    the service does not know (rule `audio-format-unknown`, problem text starts with "type").
    """
    out: list[tuple[str, str]] = []
    for path in paths:
        node: Any = config
        for key in path:
            node = obj(node).get(key)
        if node is None:
            continue
        where = ".".join((prefix, *path))
        if not isinstance(node, dict):
            out.append((where, f'type: it must be an object such as {{"type": "audio/pcm", "rate": {PCM_RATE}}}'))
            continue
        kind = node.get("type")
        if kind not in _GA_FORMATS:
            out.append(
                (where, f"type {shown(kind)} is not a format the service knows (audio/pcm, audio/pcmu, audio/pcma)")
            )
        elif kind == "audio/pcm" and "rate" in node and node.get("rate") != PCM_RATE:
            rate = node.get("rate")
            label = (
                rate_label(rate) if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0 else shown(rate)
            )
            out.append((where, f"rate {label}"))
    return out


def beta_format_problems(config: dict[str, Any], keys: tuple[str, ...], prefix: str) -> list[tuple[str, str]]:
    """`(path, problem)` for beta format strings at `keys` that are not pcm16/g711_ulaw/g711_alaw."""
    out: list[tuple[str, str]] = []
    for key in keys:
        if key in config and config[key] not in _BETA_FORMATS:
            out.append(
                (
                    f"{prefix}.{key}",
                    f"type {shown(config[key])} is not a format the service knows (pcm16, g711_ulaw, g711_alaw)",
                )
            )
    return out
