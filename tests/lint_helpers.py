"""Frame sequences for the linter's tests: sessions in both dialects, audio that is right and wrong."""

from __future__ import annotations

import base64
import io
import math
import wave
from typing import Any, Literal

from tests.journal_helpers import frame, received
from tui.journal import Journal
from tui.lint import Finding, lint_envelopes
from tui.protocol import Direction, Envelope

RATE = 24000


def ga_session(
    *, transcription: str | None = None, vad: bool = True, fmt: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A full GA realtime session object, as a GA server reports it."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_lint",
        "model": "gpt-realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": fmt or {"type": "audio/pcm", "rate": RATE},
                "transcription": {"model": transcription} if transcription else None,
                "noise_reduction": None,
                "turn_detection": {"type": "server_vad"} if vad else None,
            },
            "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "marin"},
        },
    }


def beta_session(*, transcription: str | None = None, vad: bool = True, fmt: str = "pcm16") -> dict[str, Any]:
    """A beta (flat) session object, as the retired beta interface reported it."""
    return {
        "object": "realtime.session",
        "id": "sess_lint",
        "model": "gpt-4o-realtime-preview",
        "modalities": ["text", "audio"],
        "voice": "alloy",
        "input_audio_format": fmt,
        "output_audio_format": "pcm16",
        "input_audio_transcription": {"model": transcription} if transcription else None,
        "turn_detection": {"type": "server_vad"} if vad else None,
    }


def ga_created(**options: Any) -> Envelope:
    """`session.created` from a GA server."""
    return received("session.created", session=ga_session(**options))


def ga_updated(**options: Any) -> Envelope:
    """`session.updated` from a GA server."""
    return received("session.updated", session=ga_session(**options))


def beta_created(**options: Any) -> Envelope:
    """`session.created` from a beta server."""
    return received("session.created", session=beta_session(**options))


def speech(ms: int, amplitude: int = 8000) -> bytes:
    """`ms` of a smooth voiced signal (two harmonics and a slow swell), 24 kHz mono PCM16 little-endian."""
    samples = []
    for n in range(RATE * ms // 1000):
        t = n / RATE
        swell = 0.6 + 0.4 * math.sin(2 * math.pi * 3 * t)
        value = swell * (math.sin(2 * math.pi * 180 * t) + 0.5 * math.sin(2 * math.pi * 360 * t)) / 1.5
        samples.append(int(amplitude * value))
    return pcm16(samples)


def pcm16(samples: list[int], byteorder: Literal["little", "big"] = "little") -> bytes:
    """Samples as 16-bit PCM bytes in `byteorder`."""
    return b"".join(max(-32768, min(32767, s)).to_bytes(2, byteorder, signed=True) for s in samples)


def swapped(pcm: bytes) -> bytes:
    """The same PCM16 with each sample's two bytes swapped (big-endian)."""
    out = bytearray(pcm)
    out[0::2], out[1::2] = pcm[1::2], pcm[0::2]
    return bytes(out)


def wav_file(pcm: bytes, *, rate: int = RATE, channels: int = 1) -> bytes:
    """A real WAV file (RIFF header and all) written by the stdlib `wave` module; `pcm` is mono 16-bit."""
    if channels > 1:
        frames = b"".join(pcm[i : i + 2] * channels for i in range(0, len(pcm), 2))
    else:
        frames = pcm
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


def b64(data: bytes) -> str:
    """Standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")


def audio_item(audio: str, **part: Any) -> dict[str, Any]:
    """A user message item whose one content part is `input_audio` with `audio`."""
    return {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": audio, **part}]}


def sent_bare(etype: str, **fields: Any) -> Envelope:
    """A client event without an event_id (as most clients send them): errors about it cannot name it."""
    return frame(Direction.OUT, {"type": etype, **fields})


def vad_commit(item_id: str, start_ms: int, end_ms: int) -> list[Envelope]:
    """Server VAD ending a turn, as the server sends it: speech_started and speech_stopped announce
    the item id, and input_audio_buffer.committed commits it."""
    return [
        received("input_audio_buffer.speech_started", audio_start_ms=start_ms, item_id=item_id),
        received("input_audio_buffer.speech_stopped", audio_end_ms=end_ms, item_id=item_id),
        received("input_audio_buffer.committed", previous_item_id=None, item_id=item_id),
    ]


def commit_empty(buffered_ms: float, event_id: str | None = None) -> Envelope:
    """The server's refusal of a commit that found less than 100 ms in the buffer."""
    return received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "input_audio_buffer_commit_empty",
            "message": "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
            f"but buffer only has {buffered_ms:.2f}ms of audio.",
            "param": None,
            "event_id": event_id,
        },
    )


def type_refused(etype: str, event_id: str | None = None) -> Envelope:
    """The GA server's answer to a client event type it does not accept."""
    supported = (
        "'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', "
        "'conversation.item.create', 'conversation.item.retrieve', 'conversation.item.truncate', "
        "'conversation.item.delete', 'response.create', and 'response.cancel'"
    )
    return received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": f"Invalid value: '{etype}'. Supported values are: {supported}.",
            "param": "type",
            "event_id": event_id,
        },
    )


def lint(*frames: Envelope) -> tuple[list[Finding], Journal]:
    """Findings over `frames`, with the journal that holds them."""
    journal = Journal()
    return lint_envelopes(frames, journal), journal


def of_rule(findings: list[Finding], rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in findings if f.rule == rule]


def rules(findings: list[Finding]) -> list[str]:
    """The rule ids of `findings`, in order."""
    return [f.rule for f in findings]
