"""One model response: the GA event sequence of protocol reference §6.1, cancellable at any point.

A response reads a context (the default conversation, or the `input` items of its
`response.create`), then either speaks or writes an answer (`message` item) or calls a function
(`function_call` item, see `tools.py`). With `conversation: "none"` it is out of band: it runs
beside the default-conversation response, its item is not added to the conversation (no
`conversation.item.*` events; `response.done.output` carries it) and `conversation_id` is null.
"""

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
from .audio_buffer import BYTES_PER_MS, BYTES_PER_SECOND
from .config import SimulatorConfig
from .hearing import Hearing
from .item_store import ItemStore, StoredItem
from .model_input import context_tokens, heard_text, last_user_message, pending_tool_result, resolve_input
from .pieces import estimate_text_tokens, word_pieces
from .reply import compose_reply
from .session_schema import GA_RESPONSE_CREATE
from .tools import argument_pieces, build_arguments, choose_tool
from .tts import TtsEngine

_log = logging.getLogger(__name__)

_AUDIO_OUT_TOKENS_PER_SECOND = 20
#: Pace of text-only deltas at speed 1 (about conversational speech).
_TEXT_PIECE_SECONDS = 0.05
#: Function arguments stream faster than speech: nobody listens to them.
_ARGUMENT_PIECE_SECONDS = 0.01
#: Longest reply the simulated model writes (it echoes what it heard).
MAX_REPLY_CHARS = 1000

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
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: Any = "auto"
    out_of_band: bool = False
    """`conversation: "none"`: nothing is added to the default conversation."""
    input_items: tuple[StoredItem, ...] | None = None
    """The `input` context replacing the conversation, or None to read the conversation."""

    @classmethod
    def build(cls, session: dict[str, Any], request: Any, store: ItemStore | None = None) -> ResponseOptions:
        """Merge a `response.create` payload over the session; raise ProtocolError if invalid.

        `store` resolves `item_reference` entries of `input`; without it `input` is refused.
        """
        if request is None:
            request = {}
        # Validated whole before anything is read: an invalid request changes nothing (§1.6).
        GA_RESPONSE_CREATE(request, "response")
        audio_out = session.get("audio", {}).get("output", {})
        modalities = request.get("output_modalities", session.get("output_modalities", ["audio"]))
        metadata = request.get("metadata")
        req_out = request.get("audio", {}).get("output", {})
        voice = req_out.get("voice", audio_out.get("voice", "marin"))
        conversation = request.get("conversation")
        input_items: tuple[StoredItem, ...] | None = None
        if request.get("input") is not None:
            input_items = tuple(resolve_input(request["input"], store if store is not None else ItemStore()))
        tools = request["tools"] if "tools" in request else session.get("tools")
        tool_choice = request["tool_choice"] if "tool_choice" in request else session.get("tool_choice", "auto")
        return cls(
            output_modalities=tuple(modalities),
            voice=voice if isinstance(voice, str) else str((voice or {}).get("id", "marin")),
            speed=float(audio_out.get("speed", 1.0)),
            output_format=copy.deepcopy(req_out.get("format", audio_out.get("format"))),
            max_output_tokens=request.get("max_output_tokens", session.get("max_output_tokens", "inf")),
            metadata=copy.deepcopy(metadata),
            instructions=str(request.get("instructions", session.get("instructions", ""))),
            tools=tuple(copy.deepcopy(t) for t in (tools or []) if isinstance(t, dict)),
            tool_choice=copy.deepcopy(tool_choice if tool_choice is not None else "auto"),
            out_of_band=conversation == "none",
            input_items=input_items,
        )

    @property
    def audio(self) -> bool:
        """True when the response speaks (audio plus its transcript)."""
        return "audio" in self.output_modalities


def fit_reply(text: str, max_output_tokens: int | str) -> tuple[str, bool]:
    """The reply as it will be generated: at most `MAX_REPLY_CHARS`, and no more text tokens than
    `max_output_tokens`; True when the token limit cut it (the response ends `incomplete`).

    The character cap keeps one huge `input_text` echo from occupying the shared TTS engine
    (every connection's speech waits behind it); it is the simulated model's own length, not a cut.
    """
    pieces = word_pieces(text)
    kept: list[str] = []
    length = 0
    for piece in pieces:
        if length + len(piece) > MAX_REPLY_CHARS and kept:
            break
        kept.append(piece[:MAX_REPLY_CHARS])
        length += len(kept[-1])
    text = "".join(kept)
    if not isinstance(max_output_tokens, int) or isinstance(max_output_tokens, bool):
        return text, False
    pieces, kept = word_pieces(text), []
    for piece in pieces:
        if estimate_text_tokens("".join(kept)) >= max_output_tokens:
            return "".join(kept), True
        kept.append(piece)
    return text, False


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
        call_later: Callable[[float, Callable[[], object]], None],
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
        self._conversation_id = None if options.out_of_band else conversation_id
        self._cached_tokens = cached_tokens
        self._on_finished = on_finished
        self._call_later = call_later
        """Schedules follow-up events on the connection, which cancels them when it ends."""
        # The model reads its context as it is now; later items belong to later responses.
        self._context = list(options.input_items) if options.input_items is not None else store.items()
        self._input_tokens = context_tokens(self._context, options.instructions, list(options.tools))
        self._item_id: str | None = None
        self._previous_item_id: str | None = None
        self._call: tuple[str, str] | None = None
        """(call_id, name) when the output item is a function call."""
        self._sent_text = ""
        self._sent_audio = bytearray()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """True until `response.done` has been emitted."""
        return self.status == "in_progress"

    @property
    def out_of_band(self) -> bool:
        """True for `conversation: "none"` responses."""
        return self.options.out_of_band

    @property
    def audio_ms(self) -> int:
        """Milliseconds of audio sent so far."""
        return len(self._sent_audio) // BYTES_PER_MS

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
            tool_result = pending_tool_result(self._context)
            heard = await heard_text(last_user_message(self._context), self._hearing)
            tool = choose_tool(
                list(self.options.tools),
                self.options.tool_choice,
                heard or "",
                after_tool_output=tool_result is not None,
            )
            if tool is not None:
                self._open_item(call=(ids.call_id(), str(tool["name"])))
                finished = await self._stream_arguments(build_arguments(tool, heard or ""))
            else:
                text = compose_reply(heard, instructions=self.options.instructions, tool_result=tool_result)
                # Cut before synthesis: the shared TTS engine never speaks more than is sent.
                text, cut = fit_reply(text, self.options.max_output_tokens)
                audio = b""
                if self.options.audio:
                    audio = await self._tts.synthesize(text, voice=self.options.voice, speed=self.options.speed)
                self._open_item()
                finished = await (self._stream_audio(text, audio) if self.options.audio else self._stream_text(text))
                finished = finished and not cut
            if finished:
                self._finish("completed", None)
            else:
                self._finish("incomplete", {"type": "incomplete", "reason": "max_output_tokens"})
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("simulator: response %s failed", self.id)
            # The detail is logged above; the client gets the service's generic wording.
            self._finish(
                "failed",
                {
                    "type": "failed",
                    "error": {
                        "type": "server_error",
                        "code": None,
                        "message": "The server had an error while processing your request.",
                    },
                },
            )

    def _open_item(self, call: tuple[str, str] | None = None) -> None:
        self._item_id = ids.item_id()
        self._call = call
        item = self._output_item("in_progress", with_content=False)
        self._emit("response.output_item.added", response_id=self.id, output_index=0, item=item)
        if not self.out_of_band:
            self._previous_item_id = self._store.insert(StoredItem(copy.deepcopy(item)), None)
            self._emit("conversation.item.added", previous_item_id=self._previous_item_id, item=item)
        if call is not None:
            return
        part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if self.options.audio else {"type": "text", "text": ""}
        )
        self._emit("response.content_part.added", **self._part_ids(), part=part)

    async def _stream_audio(self, text: str, audio: bytes) -> bool:
        """Stream audio and transcript; False when `max_output_tokens` cut the reply short."""
        chunk = max(self._config.audio_chunk_ms, 10) * BYTES_PER_MS
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
            await self._pace(len(pcm) / BYTES_PER_SECOND)
        return True

    async def _stream_text(self, text: str) -> bool:
        """Stream text deltas; False when `max_output_tokens` cut the reply short."""
        for piece in word_pieces(text):
            self._emit_text_delta("response.output_text.delta", piece)
            if self._over_budget():
                return False
            await self._pace(_TEXT_PIECE_SECONDS)
        return True

    async def _stream_arguments(self, arguments: str) -> bool:
        """Stream a function call's JSON arguments; False when `max_output_tokens` cut them short."""
        assert self._call is not None
        for piece in argument_pieces(arguments):
            self._sent_text += piece
            self._emit(
                "response.function_call_arguments.delta",
                response_id=self.id,
                item_id=self._item_id,
                output_index=0,
                call_id=self._call[0],
                delta=piece,
                obfuscation=ids.obfuscation(piece),
            )
            if self._over_budget():
                return False
            await self._pace(_ARGUMENT_PIECE_SECONDS)
        return True

    def _over_budget(self) -> bool:
        limit = self.options.max_output_tokens
        if not isinstance(limit, int) or isinstance(limit, bool):
            return False
        return sum(self._output_tokens()) >= limit

    def _output_tokens(self) -> tuple[int, int]:
        """(text, audio) tokens generated so far."""
        text = estimate_text_tokens(self._sent_text)
        audio = math.ceil(len(self._sent_audio) / BYTES_PER_SECOND * _AUDIO_OUT_TOKENS_PER_SECOND)
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
        remaining = max(self._config.tokens_per_minute - int(self.usage["total_tokens"]), 0)
        self._call_later(
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
        if self._call is not None:
            self._emit(
                "response.function_call_arguments.done",
                response_id=self.id,
                item_id=self._item_id,
                output_index=0,
                call_id=self._call[0],
                name=self._call[1],
                arguments=self._sent_text,
            )
        else:
            ids_ = self._part_ids()
            if self.options.audio:
                self._emit("response.output_audio.done", **ids_)
                self._emit("response.output_audio_transcript.done", **ids_, transcript=self._sent_text)
                self._emit("response.content_part.done", **ids_, part={"type": "audio", "transcript": self._sent_text})
            else:
                self._emit("response.output_text.done", **ids_, text=self._sent_text)
                self._emit("response.content_part.done", **ids_, part={"type": "text", "text": self._sent_text})
        item = self._output_item(item_status, with_content=True)
        assert self._item_id is not None
        if not self.out_of_band:
            audio = {0: bytes(self._sent_audio)} if self.options.audio and self._call is None else None
            self._store.replace(self._item_id, copy.deepcopy(item), audio)
            self._emit("conversation.item.done", previous_item_id=self._previous_item_id, item=item)
        self._emit("response.output_item.done", response_id=self.id, output_index=0, item=item)
        return item

    def _output_item(self, status: str, *, with_content: bool) -> dict[str, Any]:
        if self._call is not None:
            return {
                "id": self._item_id,
                "object": "realtime.item",
                "type": "function_call",
                "status": status,
                "name": self._call[1],
                "call_id": self._call[0],
                "arguments": self._sent_text if with_content else "",
            }
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
