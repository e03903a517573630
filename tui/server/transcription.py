"""Input-audio transcription events, in the style of the configured transcription model.

Runs as its own task after a buffer commit, so its events may land before, among or after a
response's events, as on the service (protocol reference §4.3 c).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from . import ids
from .pieces import estimate_text_tokens, word_pieces

_log = logging.getLogger(__name__)

#: Models that send the whole text in a single delta and bill by duration.
_WHOLE_TEXT_MODELS = frozenset({"whisper-1", "gpt-realtime-whisper"})
#: Audio tokens per second of input for the token-billed transcription models.
_AUDIO_TOKENS_PER_SECOND = 10

Emit = Callable[..., dict[str, Any]]


async def run_transcription(
    *,
    emit: Emit,
    item_id: str,
    hear: Callable[[], Awaitable[str]],
    model: str,
    audio_ms: int,
    delay: float,
    delta_interval: float,
    on_completed: Callable[[str], None],
) -> None:
    """Emit `…transcription.delta` × n then `.completed`, or `.failed` when nothing was heard."""
    try:
        text = (await hear()).strip()
    except Exception:
        _log.exception("simulator: speech recognition failed for %s", item_id)
        text = ""
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
    whole = model in _WHOLE_TEXT_MODELS
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
            obfuscation=ids.obfuscation(delta),
        )
    on_completed(transcript)
    emit(
        "conversation.item.input_audio_transcription.completed",
        item_id=item_id,
        content_index=0,
        transcript=transcript,
        usage=_usage(model, transcript, audio_ms),
    )


def _usage(model: str, transcript: str, audio_ms: int) -> dict[str, Any]:
    if model in _WHOLE_TEXT_MODELS:
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
