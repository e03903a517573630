"""The pure reducer from envelopes to ordered conversation items.

Rules (protocol reference §4.3–4.5): user transcripts are keyed by item id and may arrive before
the item, after the assistant's reply, or out of order across turns; rows are ordered by the
server's item chain (`previous_item_id`), never by arrival of transcription events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from tui.protocol import Direction, Envelope, error_summary, field, objects, text, to_ga, transcription_config

from .model import Item, Origin, TextState


@dataclass(slots=True)
class _EarlyTranscript:
    """Transcription events that arrived before their item."""

    text: str = ""
    final: bool = False
    error: str | None = None
    deltas: int = 0
    at: float = 0.0


@dataclass(slots=True)
class Conversation:
    """Ordered items built from a stream of envelopes. Feed it with :meth:`apply`."""

    items: dict[str, Item] = dc_field(default_factory=dict)
    order: list[str] = dc_field(default_factory=list)
    transcription_on: bool = False
    """Whether the last session object had input transcription configured."""
    session_id: str | None = None
    last_error: str | None = None
    changed: set[str] = dc_field(default_factory=set)
    """Ids changed since the last :meth:`take_changes` (the UI re-renders only these)."""
    unhandled: dict[str, int] = dc_field(default_factory=dict)
    """Server event types the reducer had no rule for, with counts (shown for debugging)."""
    bad_frames: list[str] = dc_field(default_factory=list)
    """Frames the reducer could not apply (wrong shapes), for the app to report."""
    _early: dict[str, _EarlyTranscript] = dc_field(default_factory=dict)

    # -- public ---------------------------------------------------------------------------

    def apply(self, env: Envelope) -> None:
        """Update the conversation with one envelope.

        Outbound envelopes are ignored; of the local ones, only the end of the connection matters.
        """
        if env.direction is Direction.LOCAL:
            if env.type == "rt.connection" and env.data.get("state") in _CONNECTION_ENDED:
                self._on_connection_ended()
            return
        if env.direction is not Direction.IN or not env.data:
            return
        handler = _HANDLERS.get(to_ga(env.type))
        if handler is None:
            self.unhandled[env.type] = self.unhandled.get(env.type, 0) + 1
            return
        try:
            handler(self, env.data, env.mono)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # A frame of a shape the reference does not promise: note it, keep everything else.
            self.bad_frames.append(f"frame #{env.seq} ({env.type}) could not be applied: {exc}")

    def ordered(self) -> list[Item]:
        """Items in conversation order."""
        return [self.items[item_id] for item_id in self.order]

    def take_changes(self) -> set[str]:
        """Return and reset the ids changed since the last call."""
        changed, self.changed = self.changed, set()
        return changed

    def _on_connection_ended(self) -> None:
        # The conversation lived on that socket: nothing still pending will ever arrive (a new
        # session is a new conversation), so rows must stop claiming that text is on its way.
        for item in self.items.values():
            if item.state in _PENDING:
                item.state = TextState.INTERRUPTED
                self.changed.add(item.id)
        self._early.clear()

    # -- item bookkeeping ---------------------------------------------------------------

    def _insert(self, item: Item, previous_item_id: str | None) -> Item:
        self.items[item.id] = item
        if previous_item_id and previous_item_id in self.items and previous_item_id in self.order:
            self.order.insert(self.order.index(previous_item_id) + 1, item.id)
        else:
            self.order.append(item.id)
        self._merge_early(item)
        self.changed.add(item.id)
        return item

    def _merge_early(self, item: Item) -> None:
        early = self._early.pop(item.id, None)
        if early is None:
            return
        item.text = early.text
        item.deltas += early.deltas
        if early.error is not None:
            item.state, item.error = TextState.FAILED, early.error
        elif early.final:
            item.state, item.text_done_at = TextState.DONE, early.at
        else:
            item.state = TextState.STREAMING

    def _user_audio_item(self, item_id: str, at: float) -> Item:
        item = self.items.get(item_id)
        if item is None:
            item = Item(id=item_id, role="user", origin=Origin.BUFFER, has_audio=True, status="completed")
            item.state = TextState.TRANSCRIBING if self.transcription_on else TextState.TRANSCRIPTION_OFF
        return item

    def _assistant_item(self, item_id: str, response_id: str | None = None) -> Item:
        item = self.items.get(item_id)
        if item is None:
            item = self._insert(Item(id=item_id, role="assistant", response_id=response_id), None)
        return item

    # -- handlers -------------------------------------------------------------------------

    def _on_session(self, data: dict[str, Any], at: float) -> None:
        session = field(data, "session")
        self.session_id = text(session.get("id")) or self.session_id
        self.transcription_on = transcription_config(session) is not None

    def _on_speech_started(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if isinstance(item_id, str) and item_id not in self.items:
            item = self._user_audio_item(item_id, at)
            item.state = TextState.SPEAKING
            self._insert(item, None)

    def _on_committed(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if not isinstance(item_id, str):
            return
        item = self.items.get(item_id)
        if item is None:
            item = self._insert(self._user_audio_item(item_id, at), data.get("previous_item_id"))
        elif item.state is TextState.SPEAKING:
            item.state = TextState.TRANSCRIBING if self.transcription_on else TextState.TRANSCRIPTION_OFF
        item.origin = Origin.BUFFER
        item.committed_at = at
        self.changed.add(item_id)

    def _on_item(self, data: dict[str, Any], at: float) -> None:
        raw = field(data, "item")
        item_id = raw.get("id")
        if not isinstance(item_id, str):
            return
        known = self.items.get(item_id)
        item = known or Item(id=item_id, role=str(raw.get("role") or raw.get("type") or "?"))
        item.kind = str(raw.get("type") or item.kind)
        item.status = str(raw.get("status") or item.status)
        if item.kind == "function_call":
            item.role = "tool"
            item.name = raw.get("name") or item.name
            item.call_id = raw.get("call_id") or item.call_id
            if raw.get("arguments"):
                item.text = str(raw["arguments"])
            if item.status == "completed":
                item.state = TextState.DONE  # e.g. a call the client added itself: nothing will stream
        elif item.kind == "function_call_output":
            item.role = "tool"
            item.call_id = raw.get("call_id") or item.call_id
            item.text = text(raw.get("output"))
            item.state = TextState.DONE
        else:
            self._fill_message(item, raw, known is None, at)
        if known is None:
            self._insert(item, data.get("previous_item_id"))
        self.changed.add(item_id)

    def _fill_message(self, item: Item, raw: dict[str, Any], new: bool, at: float) -> None:
        texts: list[str] = []
        for part in objects(raw.get("content")):
            ptype = part.get("type")
            if ptype in ("input_text", "output_text", "text"):
                texts.append(str(part.get("text") or ""))
            elif ptype in ("input_audio", "output_audio", "audio"):
                item.has_audio = True
                if part.get("transcript"):
                    texts.append(str(part["transcript"]))
        if item.role == "user" and item.has_audio and item.origin is not Origin.BUFFER and new:
            # Not committed from the buffer, so the server will not transcribe it (§4.3b).
            item.origin = Origin.CREATE
            item.state = TextState.NOT_TRANSCRIBED
        if texts and any(texts):
            if item.role != "user" or not item.has_audio or item.state is not TextState.DONE:
                item.text = " ".join(t for t in texts if t).strip()
            item.state = TextState.DONE
            item.text_done_at = item.text_done_at or at
        elif item.role == "user" and not item.has_audio:
            item.state = TextState.DONE
        if item.role == "user" and item.origin is Origin.CREATE:
            item.status = "completed"

    def _on_transcription_delta(self, data: dict[str, Any], at: float) -> None:
        item_id, delta = data.get("item_id"), text(data.get("delta"))
        if not isinstance(item_id, str):
            return
        item = self.items.get(item_id)
        if item is None:
            early = self._early.setdefault(item_id, _EarlyTranscript())
            if not early.final:
                early.text += delta
                early.deltas += 1
            return
        if item.state in (TextState.DONE, TextState.FAILED) and item.text_done_at is not None:
            return  # a late delta after `.completed`/`.failed`: the final event is authoritative
        item.text += delta
        item.deltas += 1
        item.state = TextState.STREAMING
        self.changed.add(item_id)

    def _on_transcription_completed(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if not isinstance(item_id, str):
            return
        # whisper-1 ends its transcripts with a newline; `.completed` replaces the deltas.
        text = str(data.get("transcript") or "").strip()
        item = self.items.get(item_id)
        if item is None:
            early = self._early.setdefault(item_id, _EarlyTranscript())
            early.text, early.final, early.at = text, True, at
            return
        item.text = text
        item.state = TextState.DONE
        item.text_done_at = at
        usage = data.get("usage")
        if isinstance(usage, dict):
            item.usage = usage
        self.changed.add(item_id)

    def _on_transcription_failed(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if not isinstance(item_id, str):
            return
        message = error_summary(data)
        item = self.items.get(item_id)
        if item is None:
            early = self._early.setdefault(item_id, _EarlyTranscript())
            early.error, early.at = message, at
            return
        item.state, item.error, item.text_done_at = TextState.FAILED, message, at
        self.changed.add(item_id)

    def _on_output_item(self, data: dict[str, Any], at: float) -> None:
        raw = field(data, "item")
        item_id = raw.get("id")
        if not isinstance(item_id, str):
            return
        if item_id not in self.items:
            role = "tool" if raw.get("type") == "function_call" else str(raw.get("role") or "assistant")
            self._insert(Item(id=item_id, role=role, response_id=data.get("response_id")), None)
        self._on_item({"item": raw}, at)
        self.items[item_id].response_id = data.get("response_id")

    def _on_output_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if not isinstance(item_id, str):
            return
        item = self._assistant_item(item_id, data.get("response_id"))
        if item.state is TextState.DONE and item.text_done_at is not None:
            return  # a late delta after the part's `.done`: the final text is authoritative
        item.text += text(data.get("delta"))
        item.deltas += 1
        item.state = TextState.STREAMING
        self.changed.add(item_id)

    def _on_audio_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if isinstance(item_id, str):
            item = self._assistant_item(item_id, data.get("response_id"))
            if not item.has_audio:
                item.has_audio = True
                self.changed.add(item_id)

    def _on_arguments_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if isinstance(item_id, str):
            item = self._assistant_item(item_id, data.get("response_id"))
            item.role, item.kind = "tool", "function_call"
            item.text += text(data.get("delta"))
            self.changed.add(item_id)

    def _on_arguments_done(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if isinstance(item_id, str):
            item = self._assistant_item(item_id, data.get("response_id"))
            item.role, item.kind = "tool", "function_call"
            item.text = str(data.get("arguments") or item.text)
            item.name = data.get("name") or item.name
            item.call_id = data.get("call_id") or item.call_id
            item.state = TextState.DONE
            self.changed.add(item_id)

    def _on_response_done(self, data: dict[str, Any], at: float) -> None:
        response = field(data, "response")
        status = text(response.get("status")) or "completed"
        for raw in objects(response.get("output")):
            item = self.items.get(text(raw.get("id")))
            if item is None:
                continue
            item.status = status if status != "completed" else str(raw.get("status") or status)
            if item.state is TextState.STREAMING:
                item.state = TextState.DONE
                item.text_done_at = item.text_done_at or at
            self.changed.add(item.id)

    def _on_deleted(self, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if isinstance(item_id, str) and item_id in self.items:
            del self.items[item_id]
            self.order.remove(item_id)
            self.changed.add(item_id)

    def _on_truncated(self, data: dict[str, Any], at: float) -> None:
        item = self.items.get(data.get("item_id") or "")
        if item is not None:
            item.audio_end_ms = data.get("audio_end_ms")
            item.status = "truncated"
            self.changed.add(item.id)

    def _on_error(self, data: dict[str, Any], at: float) -> None:
        self.last_error = error_summary(data)


def _make_output_done(field_name: str) -> Callable[[Conversation, dict[str, Any], float], None]:
    """Handler for `…output_text.done` / `…output_audio_transcript.done`: the final text wins."""

    def handler(conv: Conversation, data: dict[str, Any], at: float) -> None:
        item_id = data.get("item_id")
        if not isinstance(item_id, str):
            return
        item = conv._assistant_item(item_id, data.get("response_id"))
        final = data.get(field_name)
        if isinstance(final, str):
            item.text = final
        item.state = TextState.DONE
        item.text_done_at = at
        conv.changed.add(item_id)

    return handler


def _ignore(conv: Conversation, data: dict[str, Any], at: float) -> None:
    """Events that carry nothing for the transcript, listed so they do not count as unhandled."""


_CONNECTION_ENDED = frozenset({"closed", "failed"})
"""`rt.connection` states after which the server sends nothing more on this conversation."""
_PENDING = frozenset({TextState.SPEAKING, TextState.TRANSCRIBING, TextState.STREAMING})
"""Text states that wait for the server."""

_HANDLERS: dict[str, Callable[[Conversation, dict[str, Any], float], None]] = {
    "session.created": Conversation._on_session,
    "session.updated": Conversation._on_session,
    "input_audio_buffer.speech_started": Conversation._on_speech_started,
    "input_audio_buffer.committed": Conversation._on_committed,
    "conversation.item.added": Conversation._on_item,
    "conversation.item.created": Conversation._on_item,
    "conversation.item.done": Conversation._on_item,
    "conversation.item.retrieved": _ignore,  # not a reliable transcript source (§4.5)
    "conversation.item.input_audio_transcription.delta": Conversation._on_transcription_delta,
    "conversation.item.input_audio_transcription.completed": Conversation._on_transcription_completed,
    "conversation.item.input_audio_transcription.failed": Conversation._on_transcription_failed,
    "response.output_item.added": Conversation._on_output_item,
    "response.output_item.done": Conversation._on_output_item,
    "response.output_text.delta": Conversation._on_output_delta,
    "response.output_audio_transcript.delta": Conversation._on_output_delta,
    "response.output_text.done": _make_output_done("text"),
    "response.output_audio_transcript.done": _make_output_done("transcript"),
    "response.output_audio.delta": Conversation._on_audio_delta,
    "response.function_call_arguments.delta": Conversation._on_arguments_delta,
    "response.function_call_arguments.done": Conversation._on_arguments_done,
    "response.done": Conversation._on_response_done,
    "conversation.item.deleted": Conversation._on_deleted,
    "conversation.item.truncated": Conversation._on_truncated,
    "error": Conversation._on_error,
    "conversation.created": _ignore,
    "input_audio_buffer.speech_stopped": _ignore,
    "input_audio_buffer.cleared": _ignore,
    "input_audio_buffer.timeout_triggered": _ignore,
    "response.created": _ignore,
    "response.content_part.added": _ignore,
    "response.content_part.done": _ignore,
    "response.output_audio.done": _ignore,
    "rate_limits.updated": _ignore,
}
