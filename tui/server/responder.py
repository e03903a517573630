"""One model response: the GA event sequence of protocol reference §6.1, cancellable at any point."""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ids
from .config import SimulatorConfig
from .errors import invalid_type
from .hearing import Hearing
from .item_store import ItemStore, StoredItem
from .pieces import estimate_text_tokens, word_pieces
from .reply import compose_reply
from .session_state import validate_max_output_tokens, validate_modalities
from .tts import TtsEngine

_log = logging.getLogger(__name__)

_AUDIO_IN_TOKENS_PER_SECOND = 10
_AUDIO_OUT_TOKENS_PER_SECOND = 20
#: Pace of text-only deltas at speed 1 (about conversational speech).
_TEXT_PIECE_SECONDS = 0.05

Emit = Callable[..., dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ResponseOptions:
    """The session's output settings, overridden by the `response` of a `response.create`."""

    output_modalities: tuple[str, ...]
    voice: str
    speed: float
    output_format: dict[str, Any]
    max_output_tokens: int | str
    metadata: dict[str, Any] | None
    instructions: str

    @classmethod
    def build(cls, session: dict[str, Any], request: Any) -> ResponseOptions:
        """Merge a `response.create` payload over the session; raise ProtocolError if invalid."""
        if request is None:
            request = {}
        if not isinstance(request, dict):
            raise invalid_type("response", request, "an object")
        audio_out = session.get("audio", {}).get("output", {})
        modalities = request.get("output_modalities", session.get("output_modalities", ["audio"]))
        validate_modalities(modalities, "response.output_modalities")
        if "max_output_tokens" in request:
            validate_max_output_tokens(request["max_output_tokens"], "response.max_output_tokens")
        metadata = request.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise invalid_type("response.metadata", metadata, "an object")
        req_audio = request.get("audio") or {}
        if not isinstance(req_audio, dict):
            raise invalid_type("response.audio", req_audio, "an object")
        req_out = req_audio.get("output") or {}
        if not isinstance(req_out, dict):
            raise invalid_type("response.audio.output", req_out, "an object")
        voice = req_out.get("voice", audio_out.get("voice", "marin"))
        return cls(
            output_modalities=tuple(modalities),
            voice=voice if isinstance(voice, str) else str((voice or {}).get("id", "marin")),
            speed=float(audio_out.get("speed", 1.0)),
            output_format=copy.deepcopy(req_out.get("format", audio_out.get("format"))),
            max_output_tokens=request.get("max_output_tokens", session.get("max_output_tokens", "inf")),
            metadata=copy.deepcopy(metadata),
            instructions=str(request.get("instructions", session.get("instructions", ""))),
        )

    @property
    def audio(self) -> bool:
        """True when the response speaks (audio plus its transcript)."""
        return "audio" in self.output_modalities


class ResponseRun:
    """Emits one response's events and keeps enough state to close them early.

    Cancellation is synchronous: `cancel` emits the pending `.done` events and `response.done`
    at once, so the next client event already sees no active response.
    """

    def __init__(
        self,
        *,
        emit: Emit,
        store: ItemStore,
        hearing: Hearing,
        tts: TtsEngine,
        config: SimulatorConfig,
        options: ResponseOptions,
        conversation_id: str,
        cached_tokens: int,
        on_finished: Callable[[ResponseRun], None],
    ) -> None:
        self.id = ids.response_id()
        self.options = options
        self.status = "in_progress"
        self.usage: dict[str, Any] | None = None
        self._emit = emit
        self._store = store
        self._hearing = hearing
        self._tts = tts
        self._config = config
        self._conversation_id = conversation_id
        self._cached_tokens = cached_tokens
        self._on_finished = on_finished
        self._input_tokens = _conversation_tokens(store, options.instructions)
        self._item_id: str | None = None
        self._previous_item_id: str | None = None
        self._sent_text = ""
        self._sent_audio = bytearray()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """True until `response.done` has been emitted."""
        return self.status == "in_progress"

    def start(self) -> None:
        """Emit `response.created` and start generating."""
        self._emit("response.created", response=self._response_object([]))
        self._task = asyncio.create_task(self._generate(), name=f"rt-sim-{self.id}")

    def cancel(self, reason: str) -> None:
        """Stop now: close open parts and emit `response.done` with status cancelled."""
        if not self.active:
            return
        if self._task is not None:
            self._task.cancel()
        self._finish("cancelled", {"type": "cancelled", "reason": reason})

    def abort(self) -> None:
        """Stop silently: the connection is gone, nobody is listening for `response.done`."""
        if self._task is not None:
            self._task.cancel()
        self.status = "cancelled"

    async def _generate(self) -> None:
        try:
            text = compose_reply(await self._heard())
            audio = b""
            if self.options.audio:
                audio = await self._tts.synthesize(text, voice=self.options.voice, speed=self.options.speed)
            self._open_item()
            finished = await (self._stream_audio(text, audio) if self.options.audio else self._stream_text(text))
            if finished:
                self._finish("completed", None)
            else:
                self._finish("incomplete", {"type": "incomplete", "reason": "max_output_tokens"})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _log.exception("simulator: response %s failed", self.id)
            self._finish(
                "failed",
                {"type": "failed", "error": {"type": "server_error", "code": None, "message": str(exc)}},
            )

    async def _heard(self) -> str | None:
        stored = self._store.last_user_message()
        if stored is None:
            return None
        parts: list[str] = []
        for index, part in enumerate(stored.item.get("content") or []):
            if part.get("type") == "input_text":
                parts.append(str(part.get("text") or ""))
            elif part.get("type") == "input_audio" and index in stored.audio:
                try:
                    parts.append(await self._hearing.hear(stored.id, stored.audio[index]))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    _log.exception("simulator: speech recognition failed for %s", stored.id)
        return " ".join(p.strip() for p in parts if p.strip())

    def _open_item(self) -> None:
        self._item_id = ids.item_id()
        item = self._assistant_item("in_progress", with_content=False)
        self._previous_item_id = self._store.insert(StoredItem(copy.deepcopy(item)), None)
        self._emit("response.output_item.added", response_id=self.id, output_index=0, item=item)
        self._emit("conversation.item.added", previous_item_id=self._previous_item_id, item=item)
        part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if self.options.audio else {"type": "text", "text": ""}
        )
        self._emit("response.content_part.added", **self._part_ids(), part=part)

    async def _stream_audio(self, text: str, audio: bytes) -> bool:
        """Stream audio and transcript; False when `max_output_tokens` cut the reply short."""
        chunk = max(self._config.audio_chunk_ms, 10) * 48
        chunks = [audio[i : i + chunk] for i in range(0, len(audio), chunk)] or [b""]
        pieces = word_pieces(text)
        sent_pieces = 0
        for index, pcm in enumerate(chunks):
            if pcm:
                self._emit(
                    "response.output_audio.delta",
                    **self._part_ids(),
                    delta=base64.b64encode(pcm).decode("ascii"),
                )
                self._sent_audio.extend(pcm)
            # Spread the transcript over the audio so both streams end together.
            due = math.ceil(len(pieces) * (index + 1) / len(chunks))
            for piece in pieces[sent_pieces:due]:
                self._emit_text_delta("response.output_audio_transcript.delta", piece)
            sent_pieces = max(sent_pieces, due)
            if self._over_budget():
                return False
            await self._pace(len(pcm) / 48000.0)
        return True

    async def _stream_text(self, text: str) -> bool:
        """Stream text deltas; False when `max_output_tokens` cut the reply short."""
        for piece in word_pieces(text):
            self._emit_text_delta("response.output_text.delta", piece)
            if self._over_budget():
                return False
            await self._pace(_TEXT_PIECE_SECONDS)
        return True

    def _over_budget(self) -> bool:
        limit = self.options.max_output_tokens
        if not isinstance(limit, int) or isinstance(limit, bool):
            return False
        return sum(self._output_tokens()) >= limit

    def _output_tokens(self) -> tuple[int, int]:
        """(text, audio) tokens generated so far."""
        text = estimate_text_tokens(self._sent_text)
        audio = math.ceil(len(self._sent_audio) / 48000.0 * _AUDIO_OUT_TOKENS_PER_SECOND)
        return text, audio

    def _emit_text_delta(self, event_type: str, piece: str) -> None:
        self._sent_text += piece
        self._emit(event_type, **self._part_ids(), delta=piece, obfuscation=ids.obfuscation(piece))

    async def _pace(self, seconds: float) -> None:
        speed = self._config.response_speed
        # Even unpaced, yield so inbound events (cancel, barge-in) are handled between deltas.
        await asyncio.sleep(seconds / speed if speed > 0 else 0)

    def _finish(self, status: str, details: dict[str, Any] | None) -> None:
        if not self.active:
            return
        output: list[dict[str, Any]] = []
        if self._item_id is not None:
            output.append(self._close_item("completed" if status == "completed" else "incomplete"))
        self.status = status
        self.usage = self._usage()
        response = self._response_object(output, status=status, details=details)
        self._emit("response.done", response=response)
        loop = asyncio.get_running_loop()
        remaining = max(self._config.tokens_per_minute - int(self.usage["total_tokens"]), 0)
        loop.call_later(
            self._config.rate_limits_delay,
            lambda: self._emit(
                "rate_limits.updated",
                rate_limits=[
                    {
                        "name": "tokens",
                        "limit": self._config.tokens_per_minute,
                        "remaining": remaining,
                        "reset_seconds": round(60.0 * (1 - remaining / self._config.tokens_per_minute), 3),
                    }
                ],
            ),
        )
        self._on_finished(self)

    def _close_item(self, item_status: str) -> dict[str, Any]:
        ids_ = self._part_ids()
        if self.options.audio:
            self._emit("response.output_audio.done", **ids_)
            self._emit("response.output_audio_transcript.done", **ids_, transcript=self._sent_text)
            self._emit("response.content_part.done", **ids_, part={"type": "audio", "transcript": self._sent_text})
        else:
            self._emit("response.output_text.done", **ids_, text=self._sent_text)
            self._emit("response.content_part.done", **ids_, part={"type": "text", "text": self._sent_text})
        item = self._assistant_item(item_status, with_content=True)
        assert self._item_id is not None
        stored = self._store.get(self._item_id)
        if stored is not None:
            stored.item = copy.deepcopy(item)
            if self.options.audio:
                stored.audio[0] = bytes(self._sent_audio)
        self._emit("conversation.item.done", previous_item_id=self._previous_item_id, item=item)
        self._emit("response.output_item.done", response_id=self.id, output_index=0, item=item)
        return item

    def _assistant_item(self, status: str, *, with_content: bool) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if with_content:
            content.append(
                {"type": "output_audio", "transcript": self._sent_text}
                if self.options.audio
                else {"type": "output_text", "text": self._sent_text}
            )
        return {
            "id": self._item_id,
            "object": "realtime.item",
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def _part_ids(self) -> dict[str, Any]:
        return {"response_id": self.id, "item_id": self._item_id, "output_index": 0, "content_index": 0}

    def _response_object(
        self,
        output: list[dict[str, Any]],
        *,
        status: str = "in_progress",
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": self._conversation_id,
            "output_modalities": list(self.options.output_modalities),
            "max_output_tokens": self.options.max_output_tokens,
            "audio": {"output": {"format": copy.deepcopy(self.options.output_format), "voice": self.options.voice}},
            "usage": self.usage if status != "in_progress" else None,
            "metadata": copy.deepcopy(self.options.metadata),
        }

    def _usage(self) -> dict[str, Any]:
        text_in, audio_in = self._input_tokens
        cached = min(self._cached_tokens, text_in + audio_in)
        cached_text = min(cached, text_in)
        text_out, audio_out = self._output_tokens()
        return {
            "total_tokens": text_in + audio_in + text_out + audio_out,
            "input_tokens": text_in + audio_in,
            "output_tokens": text_out + audio_out,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": cached,
                "cached_tokens_details": {
                    "text_tokens": cached_text,
                    "audio_tokens": cached - cached_text,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }


def _conversation_tokens(store: ItemStore, instructions: str) -> tuple[int, int]:
    """(text, audio) tokens of the context the model reads: instructions plus every item."""
    text = estimate_text_tokens(instructions)
    audio = 0
    for stored in store.items():
        audio += math.ceil(stored.audio_ms() / 1000.0 * _AUDIO_IN_TOKENS_PER_SECOND)
        for part in stored.item.get("content") or []:
            if part.get("type") in ("input_text", "output_text"):
                text += estimate_text_tokens(str(part.get("text") or ""))
            elif part.get("type") == "output_audio" and 0 not in stored.audio:
                text += estimate_text_tokens(str(part.get("transcript") or ""))
    return text, audio
