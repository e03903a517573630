"""One client connection: the session state machine and a dispatch table of client events."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.protocol import turn_detection_config

from . import ids
from .asr import AsrEngine
from .audio_buffer import MIN_COMMIT_MS, InputAudioBuffer, bytes_to_ms
from .client_items import decode_audio, normalize_client_item
from .config import SimulatorConfig
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter
from .hearing import Hearing
from .item_store import ItemStore, StoredItem
from .responder import ResponseOptions, ResponseRun
from .session_state import apply_update, default_session, transcription_model
from .transcription import run_transcription
from .tts import TtsEngine
from .vad import EnergyVad, SpeechStarted, SpeechStopped, VadEvent, VadSettings
from .writer import EventWriter

_log = logging.getLogger(__name__)

#: In VAD mode, idle audio older than this is forgotten so a silent hour cannot fill memory.
_IDLE_AUDIO_KEEP_MS = 60_000
_WRITER_DRAIN_SECONDS = 2.0

Handler = Callable[[dict[str, Any]], None]


class Connection:
    """Serves one WebSocket: emits `session.created`, then handles client events in order.

    Handlers are synchronous and emit through one ordered writer; anything slow (speech
    recognition, synthesis, paced streaming) runs in tasks that emit later, as on the service.
    """

    def __init__(
        self,
        ws: ServerConnection,
        config: SimulatorConfig,
        *,
        model: str,
        asr: AsrEngine,
        tts: TtsEngine,
    ) -> None:
        self._ws = ws
        self._config = config
        self._writer = EventWriter(ws, config.dialect)
        self._emit = self._writer.emit
        self._session = default_session(
            model=model, instructions=config.instructions, lifetime_s=config.session_seconds
        )
        self._conversation_id = ids.conversation_id()
        self._buffer = InputAudioBuffer()
        self._store = ItemStore()
        self._hearing = Hearing(asr)
        self._tts = tts
        self._vad: EnergyVad | None = None
        self._vad_item_id: str | None = None
        self._vad_start_ms = 0
        self._response: ResponseRun | None = None
        self._last_input_tokens = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Handler] = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_append,
            "input_audio_buffer.commit": self._on_commit,
            "input_audio_buffer.clear": self._on_clear,
            "conversation.item.create": self._on_item_create,
            "conversation.item.retrieve": self._on_item_retrieve,
            "conversation.item.truncate": self._on_item_truncate,
            "conversation.item.delete": self._on_item_delete,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
        }
        self._reset_vad()

    async def run(self) -> None:
        """Serve until the client goes away."""
        self._writer.start()
        self._emit("session.created", session=copy.deepcopy(self._session))
        try:
            async for message in self._ws:
                self._on_frame(message)
        except ConnectionClosed:
            pass
        finally:
            await self._shutdown()

    # ---- framing -------------------------------------------------------------------------

    def _on_frame(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self._error(ProtocolError("invalid_event", "binary frames are not supported"), None)
            return
        try:
            data = json.loads(raw)
        except ValueError as exc:
            self._error(ProtocolError("invalid_json", f"Invalid JSON: {exc}"), None)
            return
        if not isinstance(data, dict):
            self._error(ProtocolError("invalid_event", "The event must be a JSON object."), None)
            return
        client_event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
        event_type = data.get("type")
        if event_type is None:
            self._error(ProtocolError("invalid_event", "The 'type' field is missing."), client_event_id)
            return
        handler = self._handlers.get(event_type) if isinstance(event_type, str) else None
        if handler is None:
            self._error(invalid_value("type", event_type, list(self._handlers)), client_event_id)
            return
        try:
            handler(data)
        except ProtocolError as err:
            self._error(err, client_event_id)
        except Exception:
            _log.exception("simulator: handler for %s failed", event_type)
            self._error(
                ProtocolError(
                    None, "The server had an error while processing your request.", error_type="server_error"
                ),
                client_event_id,
            )

    def _error(self, err: ProtocolError, client_event_id: str | None) -> None:
        self._emit("error", error=err.payload(client_event_id))

    # ---- session -------------------------------------------------------------------------

    def _on_session_update(self, event: dict[str, Any]) -> None:
        before = turn_detection_config(self._session)
        self._session = apply_update(self._session, event.get("session"))
        if turn_detection_config(self._session) != before:
            self._reset_vad()
        # GA does not echo the client's event_id here.
        self._emit("session.updated", session=copy.deepcopy(self._session))

    def _reset_vad(self) -> None:
        config = turn_detection_config(self._session)
        self._vad = (
            EnergyVad(VadSettings.from_turn_detection(config), self._buffer.now_ms) if config is not None else None
        )
        self._vad_item_id = None

    # ---- input audio buffer --------------------------------------------------------------

    def _on_append(self, event: dict[str, Any]) -> None:
        if "audio" not in event:
            raise missing_parameter("audio")
        pcm = decode_audio(event["audio"], "audio")
        self._buffer.append(pcm)
        if self._vad is None:
            return
        for vad_event in self._vad.feed(pcm):
            self._on_vad_event(vad_event)
        if not self._vad.in_speech:
            self._buffer.discard_before(self._buffer.now_ms - _IDLE_AUDIO_KEEP_MS)

    def _on_vad_event(self, vad_event: VadEvent) -> None:
        config = turn_detection_config(self._session) or {}
        if isinstance(vad_event, SpeechStarted):
            self._vad_item_id = ids.item_id()
            self._vad_start_ms = max(vad_event.audio_start_ms, self._buffer.start_ms)
            self._emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=self._vad_start_ms,
                item_id=self._vad_item_id,
            )
            if self._response is not None and config.get("interrupt_response", True):
                self._response.cancel("turn_detected")
            return
        assert isinstance(vad_event, SpeechStopped)
        item_id = self._vad_item_id or ids.item_id()
        self._vad_item_id = None
        self._emit("input_audio_buffer.speech_stopped", audio_end_ms=vad_event.audio_end_ms, item_id=item_id)
        self._commit(self._buffer.take(self._vad_start_ms, vad_event.audio_end_ms), item_id)
        if config.get("create_response", True) and self._response is None:
            self._start_response(ResponseOptions.build(self._session, None))

    def _on_commit(self, event: dict[str, Any]) -> None:
        if self._buffer.duration_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {self._buffer.exact_ms:.2f}ms of audio.",
            )
        # A manual commit in the middle of detected speech takes over the id VAD announced.
        item_id = self._vad_item_id or ids.item_id()
        if self._vad is not None:
            self._vad.reset()
        self._vad_item_id = None
        self._commit(self._buffer.take_all(), item_id)

    def _on_clear(self, event: dict[str, Any]) -> None:
        self._buffer.clear()
        if self._vad is not None:
            self._vad.reset()
        self._vad_item_id = None
        self._emit("input_audio_buffer.cleared")

    def _commit(self, pcm: bytes, item_id: str) -> None:
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        previous = self._store.insert(StoredItem(copy.deepcopy(item), {0: pcm}), None)
        self._emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        self._emit("conversation.item.added", previous_item_id=previous, item=item)
        self._emit("conversation.item.done", previous_item_id=previous, item=item)
        model = transcription_model(self._session)
        if model is None:
            return
        self._spawn(
            run_transcription(
                emit=self._emit,
                item_id=item_id,
                hear=lambda: self._hearing.hear(item_id, pcm),
                model=model,
                audio_ms=bytes_to_ms(len(pcm)),
                delay=self._config.transcription_delay,
                delta_interval=self._config.transcription_delta_interval,
                on_completed=lambda text: self._store.set_transcript(item_id, 0, text),
            )
        )

    # ---- conversation items --------------------------------------------------------------

    def _on_item_create(self, event: dict[str, Any]) -> None:
        item, audio = normalize_client_item(event.get("item"))
        after = event.get("previous_item_id")
        if after is not None and not isinstance(after, str):
            raise invalid_type("previous_item_id", after, "a string")
        if after not in (None, "root") and after not in self._store:
            raise ProtocolError(
                "invalid_value",
                f"Previous item with id '{after}' does not exist in the conversation.",
                param="previous_item_id",
            )
        if item["id"] in self._store:
            raise ProtocolError("invalid_value", f"Item with id '{item['id']}' already exists.", param="item.id")
        previous = self._store.insert(StoredItem(copy.deepcopy(item), audio), after)
        # Never transcribed and never answered automatically, even in VAD mode (reference §4.3 b).
        self._emit("conversation.item.added", previous_item_id=previous, item=item)
        self._emit("conversation.item.done", previous_item_id=previous, item=item)

    def _on_item_retrieve(self, event: dict[str, Any]) -> None:
        item_id = self._item_id_param(event, "retrieving", "item_retrieve_invalid_item_id")
        self._emit("conversation.item.retrieved", item=self._store.with_audio(item_id))

    def _on_item_delete(self, event: dict[str, Any]) -> None:
        item_id = self._item_id_param(event, "deleting", "item_delete_invalid_item_id")
        self._store.delete(item_id)
        self._hearing.forget(item_id)
        self._emit("conversation.item.deleted", item_id=item_id)

    def _on_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = self._item_id_param(event, "truncating", "item_truncate_invalid_item_id")
        stored = self._store.get(item_id)
        assert stored is not None
        content_index = event.get("content_index", 0)
        audio_end_ms = event.get("audio_end_ms")
        if not isinstance(content_index, int) or isinstance(content_index, bool):
            raise invalid_type("content_index", content_index, "an integer")
        if audio_end_ms is None:
            raise missing_parameter("audio_end_ms")
        if not isinstance(audio_end_ms, int) or isinstance(audio_end_ms, bool) or audio_end_ms < 0:
            raise invalid_type("audio_end_ms", audio_end_ms, "a non-negative integer")
        content = stored.item.get("content") or []
        is_audio = 0 <= content_index < len(content) and content[content_index].get("type") == "output_audio"
        if stored.item.get("role") != "assistant" or not is_audio or content_index not in stored.audio:
            raise ProtocolError("invalid_value", "Only model output audio messages can be truncated", param="item_id")
        duration = bytes_to_ms(len(stored.audio[content_index]))
        if audio_end_ms > duration:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {duration}ms is already shorter than {audio_end_ms}ms",
                param="audio_end_ms",
            )
        stored.audio[content_index] = stored.audio[content_index][: audio_end_ms * 48]
        # The unheard part of the transcript leaves the context with the audio.
        content[content_index]["transcript"] = ""
        self._emit(
            "conversation.item.truncated",
            item_id=item_id,
            content_index=content_index,
            audio_end_ms=audio_end_ms,
        )

    def _item_id_param(self, event: dict[str, Any], verb: str, code: str) -> str:
        item_id = event.get("item_id")
        if item_id is None:
            raise missing_parameter("item_id")
        if not isinstance(item_id, str):
            raise invalid_type("item_id", item_id, "a string")
        if item_id not in self._store:
            raise ProtocolError(
                code, f"Error {verb} item: the item with id '{item_id}' does not exist.", param="item_id"
            )
        return item_id

    # ---- responses -----------------------------------------------------------------------

    def _on_response_create(self, event: dict[str, Any]) -> None:
        if self._response is not None:
            raise ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        self._start_response(ResponseOptions.build(self._session, event.get("response")))

    def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self._response is None or (wanted is not None and wanted != self._response.id):
            raise ProtocolError("response_cancel_not_active", "Cancellation failed: no active response found")
        self._response.cancel("client_cancelled")

    def _start_response(self, options: ResponseOptions) -> None:
        # Prompt caching only applies to long prefixes, in 64-token steps.
        cached = self._last_input_tokens // 64 * 64 if self._last_input_tokens >= 1024 else 0
        run = ResponseRun(
            emit=self._emit,
            store=self._store,
            hearing=self._hearing,
            tts=self._tts,
            config=self._config,
            options=options,
            conversation_id=self._conversation_id,
            cached_tokens=cached,
            on_finished=self._on_response_finished,
        )
        self._response = run
        run.start()

    def _on_response_finished(self, run: ResponseRun) -> None:
        if run.usage is not None:
            self._last_input_tokens = int(run.usage["input_tokens"])
        if self._response is run:
            self._response = None

    # ---- lifecycle -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _shutdown(self) -> None:
        if self._response is not None:
            self._response.abort()
            self._response = None
        for task in list(self._tasks):
            task.cancel()
        self._hearing.close()
        try:
            await asyncio.wait_for(self._writer.close(), _WRITER_DRAIN_SECONDS)
        except TimeoutError:
            pass
