"""One client connection: the session state machine and a dispatch table of client events."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.protocol import Dialect, turn_detection_config

from . import ids
from .asr import AsrEngine
from .audio_buffer import (
    BYTES_PER_MS,
    MAX_APPEND_BYTES,
    MAX_BUFFER_MS,
    MIN_COMMIT_MS,
    InputAudioBuffer,
    bytes_to_ms,
)
from .audio_format import InputDecoder, decode_clip, encode_clip, wire_ms
from .beta import DEFAULT_VOICE, BetaWire, ga_item
from .budget import OVERLOADED_CLOSE_CODE, MemoryBudget, mib
from .client_items import decode_audio, normalize_client_item
from .config import DEFAULT_MODEL, SimulatorConfig
from .envelope import EVENT_ID_CHARS, check_event_id, check_fields, valid_event_id
from .errors import ProtocolError, invalid_type, invalid_value, missing_parameter
from .hearing import Hearing
from .item_store import ItemStore, StoredItem
from .memory import release_freed_memory
from .responder import ResponseOptions, ResponseRun
from .scenario import Scenario
from .scheduler import Scheduler
from .session_state import REALTIME, TRANSCRIPTION, apply_update, default_session, default_transcription_session
from .transcription import TranscriptionOptions, run_transcription
from .tts import TtsEngine
from .turns import TurnDetector, TurnHooks
from .unicode import find_lone_surrogate, may_hold_surrogates
from .writer import EventWriter

_log = logging.getLogger(__name__)

_WRITER_DRAIN_SECONDS = 2.0
#: A connection that held this much hands the freed memory back to the OS when it ends.
_TRIM_AFTER_BYTES = 8 * 1024 * 1024

Handler = Callable[[dict[str, Any]], None]


def _voice(session: dict[str, Any]) -> Any:
    return ((session.get("audio") or {}).get("output") or {}).get("voice")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


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
        model: str | None,
        asr: AsrEngine,
        tts: TtsEngine,
        scenario: Scenario | None = None,
        kind: str = REALTIME,
        budget: MemoryBudget | None = None,
    ) -> None:
        self._ws = ws
        self._config = config
        self._kind = kind
        # What this connection holds for its client (outbound frames, input audio, conversation)
        # is charged to the simulator's budget, which ends the greediest connection past its cap.
        self._account = (budget or MemoryBudget(config.max_total_buffered_bytes)).open(self._evict)
        meter = self._account.add
        self._beta = BetaWire() if config.dialect is Dialect.BETA else None
        """Beta dialect: translates client payloads here and server events in the writer."""
        # The length limit is in the GA spec only; the beta schemas set none.
        self._event_id_chars = EVENT_ID_CHARS if self._beta is None else None
        self._scheduler = Scheduler(
            scenario or config.scenario,
            transcription_delay_s=config.transcription_delay,
            session_seconds=config.session_seconds,
        )
        self._writer = EventWriter(
            ws,
            config.dialect,
            beta=self._beta,
            scheduler=self._scheduler,
            max_queued_bytes=config.max_queued_bytes,
            meter=meter,
            on_abandon=self._on_abandoned,
        )
        self._emit = self._writer.emit
        lifetime_s = math.ceil(self._scheduler.session_seconds)
        self._session = (
            default_transcription_session(lifetime_s=lifetime_s)
            if kind == TRANSCRIPTION
            else default_session(
                model=model or DEFAULT_MODEL,
                instructions=config.instructions,
                lifetime_s=lifetime_s,
                voice=DEFAULT_VOICE if self._beta is not None else "marin",
            )
        )
        self._input = InputDecoder(self._input_format())
        self._conversation_id = ids.conversation_id()
        self._buffer = InputAudioBuffer(meter)
        self._store = ItemStore(config.max_conversation_bytes, meter)
        self._hearing = Hearing(asr)
        self._tts = tts
        self._turns = TurnDetector(
            self._buffer,
            TurnHooks(
                emit=self._emit,
                commit=self._commit,
                response_active=lambda: self._response is not None,
                cancel_response=self._cancel_default_response,
                start_response=self._start_automatic_response,
                hear=self._hearing.hear,
                spawn=self._spawn,
            ),
        )
        self._response: ResponseRun | None = None
        """The default-conversation response; out-of-band ones run in `_side_responses`."""
        self._side_responses: dict[str, ResponseRun] = {}
        self._last_input_tokens = 0
        self._spoke = False
        """Whether the model has answered with audio in this session (the voice is locked then)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._handlers: dict[str, Handler] = {
            self._session_update_type(): self._on_session_update,
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
        if kind == TRANSCRIPTION:
            # Transcription sessions never respond: these are unsupported event types there.
            del self._handlers["response.create"], self._handlers["response.cancel"]
        self._turns.configure(turn_detection_config(self._session))

    async def run(self) -> None:
        """Serve until the client goes away."""
        self._writer.start()
        self._emit("session.created", session=copy.deepcopy(self._session))
        self._spawn(self._scheduler.run_expiry(emit=self._emit, flush=self._writer.close, ws=self._ws))
        try:
            async for message in self._ws:
                try:
                    self._on_frame(message)
                except Exception:
                    # Handler errors are answered in _on_frame; reaching here means the
                    # connection's own state is broken: say so (1011) rather than close 1000.
                    _log.exception("simulator: connection state broken, closing with 1011")
                    await self._ws.close(1011, "internal error")
                    break
        except ConnectionClosed:
            pass
        finally:
            await self._shutdown()

    # ---- framing -------------------------------------------------------------------------

    def _on_frame(self, raw: str | bytes) -> None:
        if self._writer.closed:
            # Ending (closed for being slow or greedy, or the client left): frames still in
            # flight are not acted on, so nothing grows again after the release.
            return
        if isinstance(raw, bytes):
            self._error(ProtocolError("invalid_event", "binary frames are not supported"), None)
            return
        try:
            # NaN and Infinity are not JSON (RFC 8259); Python accepts them unless told not to.
            data = json.loads(raw, parse_constant=_reject_constant)
        except ValueError as exc:
            self._error(ProtocolError("invalid_json", f"Invalid JSON: {exc}"), None)
            return
        except RecursionError:
            self._error(ProtocolError("invalid_json", "Invalid JSON: nested too deeply."), None)
            return
        if not isinstance(data, dict):
            self._error(ProtocolError("invalid_event", "The event must be a JSON object."), None)
            return
        # An event_id the service would refuse is not echoed (it is the error then).
        client_event_id = valid_event_id(data, max_chars=self._event_id_chars)
        surrogate = find_lone_surrogate(data) if may_hold_surrogates(raw) else None
        if surrogate is not None:
            # Refused whole, as strict parsers do: such a string would land in items, sessions
            # and errors, and could never be sent back as UTF-8 (see unicode.py).
            path, escape = surrogate
            message = f"Invalid JSON: a lone surrogate ({escape}) at '{path}' is not valid Unicode."
            event_id = client_event_id if client_event_id and find_lone_surrogate(client_event_id) is None else None
            self._error(ProtocolError("invalid_json", message, param=path), event_id)
            return
        event_type = data.get("type")
        if event_type is None:
            self._error(ProtocolError("invalid_event", "The 'type' field is missing."), client_event_id)
            return
        handler = self._handlers.get(event_type) if isinstance(event_type, str) else None
        if handler is None:
            self._error(invalid_value("type", event_type, list(self._handlers)), client_event_id)
            return
        try:
            # The event's own fields first: an unknown or missing one refuses it whole.
            check_event_id(data, max_chars=self._event_id_chars)
            check_fields(data, event_type)
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

    def _session_update_type(self) -> str:
        # The beta interface configured transcription sockets with their own event.
        beta_transcription = self._beta is not None and self._kind == TRANSCRIPTION
        return "transcription_session.update" if beta_transcription else "session.update"

    def _on_session_update(self, event: dict[str, Any]) -> None:
        before = turn_detection_config(self._session)
        input_format = self._input_format()
        temperature: float | None = None
        patch: Any
        if self._beta is not None:
            patch, temperature = self._beta.session_patch(event.get("session"), self._kind)
        else:
            patch = event.get("session")
        updated = apply_update(self._session, patch)
        if _voice(updated) != _voice(self._session) and self._model_has_spoken():
            # The service locks the voice once the model has answered with audio (the SDK's
            # `voice` docs; the error as reported in openai/openai-python#2607). Same voice again is fine.
            raise ProtocolError(
                "cannot_update_voice", "Cannot update a conversation's voice if assistant audio is present."
            )
        self._session = updated
        # Nothing below can fail: a rejected update has changed nothing.
        if self._beta is not None and temperature is not None:
            self._beta.temperature = temperature
        if self._input_format() != input_format:
            self._input = InputDecoder(self._input_format())
        if turn_detection_config(self._session) != before:
            self._turns.configure(turn_detection_config(self._session))
        # GA does not echo the client's event_id here.
        self._emit("session.updated", session=copy.deepcopy(self._session))

    # ---- input audio buffer --------------------------------------------------------------

    def _on_append(self, event: dict[str, Any]) -> None:
        if "audio" not in event:
            raise missing_parameter("audio")
        wire = decode_audio(event["audio"], "audio")
        if len(wire) > MAX_APPEND_BYTES:
            # §3.1 gives the 15 MiB limit but not the service's error code: invalid_value on "audio".
            raise ProtocolError(
                "invalid_value",
                f"Invalid 'audio': an append carries at most {MAX_APPEND_BYTES} bytes of audio, got {len(wire)}.",
                param="audio",
            )
        # Checked on the wire size, before decoding: G.711 grows sixfold into PCM16.
        bound = self._scheduler.scenario.buffer_seconds
        limit_ms = MAX_BUFFER_MS if bound is None else bound * 1000
        if wire_ms(self._input_format(), len(wire)) + self._buffer.duration_ms > limit_ms:
            # A simulator bound (not documented for the service): nothing is appended.
            raise ProtocolError(
                "invalid_value",
                f"Invalid 'audio': the input audio buffer holds at most {limit_ms / 1000:g} seconds; "
                "commit or clear it first.",
                param="audio",
            )
        pcm = self._input.decode(wire)
        self._buffer.append(pcm)
        self._turns.on_audio(pcm)

    def _on_commit(self, event: dict[str, Any]) -> None:
        if self._buffer.duration_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {self._buffer.exact_ms:.2f}ms of audio.",
            )
        # A manual commit in the middle of detected speech takes over the id VAD announced.
        self._commit(self._buffer.take_all(), self._turns.manual_commit_id())

    def _on_clear(self, event: dict[str, Any]) -> None:
        self._buffer.clear()
        self._turns.cleared()
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
        options = TranscriptionOptions.from_session(self._session)
        if options is not None:
            # Before the commit passes the ordering filter: this turn's transcript may be reordered.
            self._scheduler.expect_transcript(item_id)
        self._emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        self._emit("conversation.item.added", previous_item_id=previous, item=item)
        self._emit("conversation.item.done", previous_item_id=previous, item=item)
        if options is None:
            return
        self._spawn(
            run_transcription(
                emit=self._emit,
                item_id=item_id,
                hear=lambda: self._hearing.hear(item_id, pcm),
                options=options,
                audio_ms=bytes_to_ms(len(pcm)),
                delay=self._scheduler.transcription_delay(),
                delta_interval=self._config.transcription_delta_interval,
                on_completed=lambda text: self._record_transcript(item_id, text),
            )
        )

    def _record_transcript(self, item_id: str, text: str) -> None:
        # Retrieve shows the transcript once `.completed` was sent (called by the writer after
        # the frame left; a held or reordered `.completed` keeps it hidden), unless configured not to.
        if self._config.retrieve_transcripts:
            self._store.set_transcript(item_id, 0, text)

    def _input_format(self) -> Any:
        return ((self._session.get("audio") or {}).get("input") or {}).get("format")

    def _output_format(self) -> Any:
        return ((self._session.get("audio") or {}).get("output") or {}).get("format")

    def _wire_audio_format(self, role: str) -> Any:
        # Assistant audio travels in the output format, everything else in the input format.
        return self._output_format() if role == "assistant" else self._input_format()

    # ---- conversation items --------------------------------------------------------------

    def _on_item_create(self, event: dict[str, Any]) -> None:
        raw_item = ga_item(event.get("item")) if self._beta is not None else event.get("item")
        item, audio = normalize_client_item(raw_item, decode=self._decode_item_audio, call_exists=self._store.has_call)
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
        stored = StoredItem(copy.deepcopy(item), audio)
        if not self._store.fits(stored):
            raise self._conversation_full()
        previous = self._store.insert(stored, after)
        # Never transcribed and never answered automatically, even in VAD mode (reference §4.3 b).
        self._emit("conversation.item.added", previous_item_id=previous, item=item)
        self._emit("conversation.item.done", previous_item_id=previous, item=item)

    def _decode_item_audio(self, role: str, wire: bytes) -> bytes:
        fmt = self._wire_audio_format(role)
        # Refused before decoding: G.711 grows sixfold into PCM16.
        if wire_ms(fmt, len(wire)) * BYTES_PER_MS > self._store.max_bytes:
            raise self._conversation_full()
        return decode_clip(fmt, wire)

    def _conversation_full(self) -> ProtocolError:
        # A simulator bound (the service documents none): nothing is added.
        return ProtocolError(
            "invalid_value",
            f"Invalid 'item': the conversation holds at most {mib(self._store.max_bytes)} of items and audio; "
            "delete items first.",
            param="item",
        )

    def _on_item_retrieve(self, event: dict[str, Any]) -> None:
        item_id = self._item_id_param(event, "retrieving", "item_retrieve_invalid_item_id")
        item = self._store.with_audio(
            item_id, lambda item, pcm: encode_clip(self._wire_audio_format(str(item.get("role"))), pcm)
        )
        self._emit("conversation.item.retrieved", item=item)

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
        self._store.truncate_audio(item_id, content_index, audio_end_ms * BYTES_PER_MS)
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
        request = self._beta.response(event.get("response")) if self._beta is not None else event.get("response")
        options = ResponseOptions.build(self._session, request, self._store)
        # Out-of-band responses (`conversation: "none"`) run beside the default one.
        if self._response is not None and not options.out_of_band:
            raise ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        self._start_response(options)

    def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if wanted is not None and not isinstance(wanted, str):
            raise invalid_type("response_id", wanted, "a string")
        runs = ([self._response] if self._response is not None else []) + list(self._side_responses.values())[::-1]
        # Without an id: the default-conversation response first, else the newest out-of-band one.
        target = next((run for run in runs if wanted is None or run.id == wanted), None)
        if target is None:
            raise ProtocolError("response_cancel_not_active", "Cancellation failed: no active response found")
        target.cancel("client_cancelled")

    def _start_automatic_response(self) -> None:
        # VAD's `create_response`; a transcription session has turn detection but never answers.
        if self._kind == REALTIME:
            self._start_response(ResponseOptions.build(self._session, None, self._store))

    def _cancel_default_response(self, reason: str) -> None:
        if self._response is not None:
            self._response.cancel(reason)

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
            call_later=self._call_later,
        )
        if run.out_of_band:
            self._side_responses[run.id] = run
        else:
            self._response = run
            self._turns.response_started()
        run.start()

    def _model_has_spoken(self) -> bool:
        """True once any response has sent audio, including one still running."""
        running = [self._response] if self._response is not None else []
        return self._spoke or any(run.audio_ms > 0 for run in running + list(self._side_responses.values()))

    def _on_response_finished(self, run: ResponseRun) -> None:
        self._spoke = self._spoke or run.audio_ms > 0
        if run.usage is not None and not run.out_of_band:
            self._last_input_tokens = int(run.usage["input_tokens"])
        self._side_responses.pop(run.id, None)
        if self._response is run:
            self._response = None
            self._turns.response_finished(run.audio_ms)

    # ---- lifecycle -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _call_later(self, delay: float, callback: Callable[[], object]) -> None:
        """Run `callback` after `delay` seconds unless the connection ends first."""

        def fire() -> None:
            self._timers.discard(handle)
            callback()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    def _evict(self, reason: str) -> None:
        """The simulator's memory budget chose this connection to end (close 1013)."""
        _log.warning("simulator: closing a connection over the memory budget: %s", reason)
        self._writer.abandon(OVERLOADED_CLOSE_CODE, reason)

    def _on_abandoned(self) -> None:
        # From inside emit or a handler: release once they have returned.
        asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        """Stop all work and let go of everything held for the client (idempotent).

        Runs when the writer gives up (client not reading, memory budget) and at shutdown, so
        memory is back at once rather than when the close handshake ends or the garbage
        collector reaches this connection's reference cycles.
        """
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._response is not None:
            self._response.abort()
            self._response = None
        for side in list(self._side_responses.values()):
            side.abort()
        self._side_responses.clear()
        for task in list(self._tasks):
            task.cancel()
        self._scheduler.close()
        self._hearing.close()
        self._turns.configure(None)
        self._buffer.clear()
        self._store.clear()

    async def _shutdown(self) -> None:
        self._release()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that comes in
        # the loop turn its wait ends, and a stopping server's cancel would be lost.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_WRITER_DRAIN_SECONDS):
                await self._writer.close()
        self._release()
        self._account.close()
        if self._account.peak >= _TRIM_AFTER_BYTES:
            await release_freed_memory()
