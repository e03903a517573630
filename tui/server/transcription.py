"""Input-audio transcription events, in the style of the configured transcription model.

Runs as its own task after a buffer commit, so its events may land before, among or after a
response's events, as on the service (protocol reference §4.3 c).

Per model (protocol reference §4.1, §4.2):
- `whisper-1`: one delta carrying the whole text, a trailing newline, usage by duration;
- `gpt-realtime-whisper`: a streaming whisper: incremental deltas, usage by duration;
- `gpt-4o-transcribe`, `gpt-4o-mini-transcribe` (and dated or diarize variants), `gpt-transcribe`,
  `gpt-live-transcribe`, and any other name: incremental word deltas, usage in tokens;
  `gpt-transcribe` / `gpt-live-transcribe` also report the detected `languages`.
`prompt` (and `keywords`) bias spelling: a heard word close to a word of theirs takes their
spelling, as a vocabulary hint does on the service. `language` is accepted (the local recognizer
only knows English). With `include: ["item.input_audio_transcription.logprobs"]` every delta and
the completed event carry `logprobs` ({token, logprob, bytes} per token); otherwise null.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import math
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tui.protocol import transcription_config

from . import ids
from .hearing import BacklogFull
from .pieces import estimate_text_tokens, word_pieces

_log = logging.getLogger(__name__)

LOGPROBS_INCLUDE = "item.input_audio_transcription.logprobs"
#: Models that send the whole text in a single delta.
_WHOLE_TEXT_MODELS = frozenset({"whisper-1"})
#: Models billed by audio duration rather than tokens.
_DURATION_MODELS = frozenset({"whisper-1", "gpt-realtime-whisper"})
#: Models that report the languages they detected.
_LANGUAGE_MODELS = frozenset({"gpt-transcribe", "gpt-live-transcribe"})
#: Audio tokens per second of input for the token-billed transcription models.
_AUDIO_TOKENS_PER_SECOND = 10
_VOCABULARY_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_HEARD_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
#: How close a heard word must be to a prompt word to take its spelling (difflib ratio).
_VOCABULARY_CUTOFF = 0.8

Emit = Callable[..., dict[str, Any]]


@dataclass(frozen=True, slots=True)
class TranscriptionOptions:
    """The session's transcription settings at commit time."""

    model: str
    language: str | None = None
    vocabulary: tuple[str, ...] = ()
    """Words of `prompt` and `keywords` whose spelling wins over a close heard word."""
    logprobs: bool = False

    @classmethod
    def from_session(cls, session: dict[str, Any]) -> TranscriptionOptions | None:
        """The options of a GA session object, or None when transcription is off."""
        config = transcription_config(session)
        if config is None:
            return None
        model = config.get("model")
        language = config.get("language")
        words: list[str] = []
        prompt = config.get("prompt")
        if isinstance(prompt, str):
            words += _VOCABULARY_WORD.findall(prompt)
        keywords = config.get("keywords")
        if isinstance(keywords, list):
            words += [w for k in keywords if isinstance(k, str) for w in _VOCABULARY_WORD.findall(k)]
        include = session.get("include")
        return cls(
            model=model if isinstance(model, str) and model else "whisper-1",
            language=language if isinstance(language, str) and language else None,
            vocabulary=tuple(dict.fromkeys(words)),
            logprobs=isinstance(include, list) and LOGPROBS_INCLUDE in include,
        )


def apply_vocabulary(text: str, vocabulary: tuple[str, ...]) -> str:
    """Respell heard words that are close to a vocabulary word ("kubernetis" -> "Kubernetes")."""
    if not vocabulary:
        return text
    lowered = {word.lower(): word for word in vocabulary}

    def respell(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 4:
            return word
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=_VOCABULARY_CUTOFF)
        return lowered[close[0]] if close else word

    return _HEARD_WORD.sub(respell, text)


def logprobs_of(text: str) -> list[dict[str, Any]]:
    """Plausible per-token log probabilities for `text` (deterministic; tokens are word pieces)."""
    out: list[dict[str, Any]] = []
    for token in word_pieces(text):
        # Confident but not certain, like a clean recording: between about -0.25 and -0.001.
        logprob = -round(0.001 + (zlib.crc32(token.encode("utf-8")) % 1000) / 4000.0, 6)
        out.append({"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))})
    return out


async def run_transcription(
    *,
    emit: Emit,
    item_id: str,
    hear: Callable[[], Awaitable[str]],
    options: TranscriptionOptions,
    audio_ms: int,
    delay: float,
    delta_interval: float,
    on_completed: Callable[[str], None],
) -> None:
    """Emit `…transcription.delta` × n then `.completed`, or `.failed` when nothing was heard.

    `on_completed(transcript)` runs when the `.completed` frame was actually sent (not when it
    was emitted: the scenario may hold it back), so retrieve never shows a transcript early.
    """
    try:
        text = (await hear()).strip()
    except BacklogFull as full:
        # Turns committed faster than they can be recognized: this one is skipped, said so.
        emit(
            "conversation.item.input_audio_transcription.failed",
            item_id=item_id,
            content_index=0,
            error={
                "type": "transcription_error",
                "code": "rate_limit_exceeded",
                "message": "Input audio arrives faster than it can be transcribed; this turn was not "
                f"transcribed ({full.pending} turns were still waiting).",
                "param": None,
            },
        )
        return
    except Exception as exc:  # noqa: BLE001 - the recognizer's fault, not the client's audio: said so
        _log.exception("simulator: speech recognition failed for %s", item_id)
        emit(
            "conversation.item.input_audio_transcription.failed",
            item_id=item_id,
            content_index=0,
            error={
                "type": "server_error",
                "code": "server_error",
                "message": f"The simulator's speech recognizer failed ({type(exc).__name__}); the audio "
                "was not judged. The server's log has the details.",
                "param": None,
            },
        )
        return
    if delay > 0:
        await asyncio.sleep(delay)
    if not text:
        emit(
            "conversation.item.input_audio_transcription.failed",
            item_id=item_id,
            content_index=0,
            error={
                "type": "transcription_error",
                "code": "audio_unintelligible",
                "message": "The audio could not be transcribed.",
                "param": None,
            },
        )
        return
    text = apply_vocabulary(text, options.vocabulary)
    whole = options.model in _WHOLE_TEXT_MODELS
    # Whisper transcripts on the wire end with a newline (protocol reference §4.2).
    transcript = text + "\n" if whole else text
    deltas = [transcript] if whole else word_pieces(transcript)
    for index, delta in enumerate(deltas):
        if index and delta_interval > 0:
            await asyncio.sleep(delta_interval)
        emit(
            "conversation.item.input_audio_transcription.delta",
            item_id=item_id,
            content_index=0,
            delta=delta,
            logprobs=logprobs_of(delta) if options.logprobs else None,
            obfuscation=ids.obfuscation(delta),
        )
    extra: dict[str, Any] = {}
    if options.model in _LANGUAGE_MODELS:
        extra["languages"] = [{"code": options.language or "en"}]
    emit(
        "conversation.item.input_audio_transcription.completed",
        item_id=item_id,
        content_index=0,
        transcript=transcript,
        logprobs=logprobs_of(transcript) if options.logprobs else None,
        usage=_usage(options.model, transcript, audio_ms),
        on_sent=lambda: on_completed(transcript),
        **extra,
    )


def _usage(model: str, transcript: str, audio_ms: int) -> dict[str, Any]:
    if model in _DURATION_MODELS:
        return {"type": "duration", "seconds": round(audio_ms / 1000.0, 3)}
    audio_tokens = math.ceil(audio_ms / 1000.0 * _AUDIO_TOKENS_PER_SECOND)
    output_tokens = estimate_text_tokens(transcript)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "output_tokens": output_tokens,
        "total_tokens": audio_tokens + output_tokens,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
    }
