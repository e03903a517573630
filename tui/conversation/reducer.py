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

from tui.protocol import (
    DIR_IN,
    DIR_LOCAL,
    DIR_OUT,
    Envelope,
    error_summary,
    field,
    ident,
    integer,
    objects,
    text,
    to_ga,
    transcription_config,
)
from tui.protocol.error_causes import cause_types
from tui.protocol.records import has_time
from tui.protocol.summary import PCM16_BYTES_PER_MS, audio_bytes, response_output_rate, session_rates

from .export import ENDED_EARLY
from .model import NO_OUTPUT, NO_OUTPUT_PREFIX, SENT_ROW_PREFIX, Item, Origin, TextState, session_separator

_CUT_SHORT = frozenset(ENDED_EARLY) - {"truncated"}
"""Item statuses a response's end gave that a later truncate keeps (the head says both)."""

_Handler = Callable[["Conversation", dict[str, Any], float], None]
"""A rule for one server event type: `(conversation, frame data, monotonic arrival time)`."""


@dataclass(slots=True)
class Conversation:
    """Ordered items built from a stream of envelopes. Feed it with :meth:`apply`.

    Invariants, whatever the frames hold (the property tests in tests/test_properties_reducer.py
    check them over random event sequences with arbitrary JSON in every field):

    - `items` and `order` hold the same ids, each once: every item has exactly one row;
    - every field read from a frame is type-checked (tui.protocol.fields), so item fields keep the
      types `Item` declares and no handler raises;
    - a `…transcription.completed` transcript stays in its item whatever order events arrive in,
      until a later `.completed`, `.failed` or delete for that item;
    - every item whose fields change, appear or disappear is in :meth:`take_changes`; but for
      `audio_ms`, the audio received so far, which every audio delta moves and which shows only
      in a truncated item's row: it is reported once the item has `audio_end_ms`.
    """

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
    connections: int = 0
    """Connection attempts seen (a separator row marks each new one after the first items)."""
    _wall: float = 0.0
    """Wall time of the envelope being applied (items remember when they appeared)."""
    _early: dict[str, list[tuple[_Handler, dict[str, Any], float]]] = dc_field(default_factory=dict)
    """Transcription events for items not seen yet, replayed through their handler when the item arrives."""
    _out_of_band: set[str] = dc_field(default_factory=set)
    """Ids of out-of-band responses (`conversation_id: null`): their items are marked, not conversation."""
    _sent: list[str] = dc_field(default_factory=list)
    """Rows made from a `conversation.item.create` we sent, not yet confirmed by the server's echo
    (`conversation.item.added`), oldest first: the server answers creates in order."""
    _sent_events: dict[str, str] = dc_field(default_factory=dict)
    """The event_id of each of those creates → its row (an error naming it takes the row away)."""
    _sent_without_id: list[str] = dc_field(default_factory=list)
    """Those of `_sent` whose create had no event_id (the official SDK sends none), oldest first: an
    error without event_id that only a create can cause refused the oldest still waiting."""
    _output_rate: int = PCM16_BYTES_PER_MS
    """Bytes per millisecond of the session's output audio (its applied format)."""
    _response_rates: dict[str, int] = dc_field(default_factory=dict)
    """The output rate of each response that named a format of its own, by response id."""
    _last_row_at_start: dict[str, str | None] = dc_field(default_factory=dict)
    """The last row the server had when each response under way was created: where the row of one
    that ends without output goes, above the turn that cut it short (`turn_detected`, a message
    typed while it was being made: the next turn's row came first). None: there was no row yet, and
    the row goes first in the current connection's part."""
    _silent: set[str] = dc_field(default_factory=set)
    """Responses under way that no reply row has appeared since: an item a server added without
    naming its response (`conversation.item.added` alone) is still a reply, so a response that ends
    without listing it gets no row saying it made none."""
    _sent_count: int = 0
    """Rows made for creates without an item id so far (their ids: `rt-sent-1`, `rt-sent-2`…)."""
    _by_response: dict[str, list[Item]] = dc_field(default_factory=dict)
    """The items each response has made, by response id, until its `response.done`: what a response
    ends or marks out of band is found here, not by a walk over the whole conversation (one walk per
    reply made a long session's replies slower and slower)."""
    _unnamed: set[str] = dc_field(default_factory=set)
    """Those of `_sent` made without an item id: an echo under any id may be theirs (one we named
    is confirmed only by an echo of that id)."""

    # -- public ---------------------------------------------------------------------------

    def apply(self, env: Envelope, index: int | None = None) -> None:
        """Update the conversation with one envelope (`index`: its journal index, unused here).

        Of the outbound envelopes, only `conversation.item.create` matters: the item we (or a
        proxied client) sent gets its row at once, confirmed when the server echoes it; of the
        local ones, only the start and end of a connection: a new connection after earlier items
        gets a separator row.
        """
        self._wall = env.wall
        if env.direction is DIR_OUT:
            if env.type == "conversation.item.create" and env.data:
                self._on_sent_create(env.data, env.mono, env.seq)
            return
        if env.direction is DIR_LOCAL:
            state = text(env.data.get("state"))
            if env.type == "rt.connection" and state in _CONNECTION_ENDED:
                self._on_connection_ended()
            elif env.type == "rt.connection" and state == "connecting":
                self._on_connecting(text(env.data.get("target")))
            return
        if env.direction is not DIR_IN or not env.data:
            return
        handler = _HANDLERS.get(to_ga(env.type))
        if handler is None:
            self.unhandled[env.type] = self.unhandled.get(env.type, 0) + 1
            return
        # A handler's failure goes to the pipeline, which journals it as an `rt.client_error` after the
        # batch on every path (it was kept here, and only the app reported it: lint, replay --json,
        # proxy --json and send never did).
        handler(self, env.data, env.mono)

    def ordered(self) -> list[Item]:
        """Items in conversation order."""
        return [self.items[item_id] for item_id in self.order]

    def take_changes(self) -> set[str]:
        """Return and reset the ids changed since the last call."""
        changed, self.changed = self.changed, set()
        return changed

    def _on_connecting(self, target: str) -> None:
        """Mark the new connection with a separator row naming its target and the time it began.

        A separator is for the conversation below it: one still last in the transcript stood for a
        connection that had none (a reconnect that failed, or was replaced before anything was
        said), so the new connection's separator takes its place instead of the stale one staying.
        """
        self.connections += 1
        self._sent.clear()  # a new conversation: the old one's creates will never be echoed
        self._unnamed.clear()
        self._sent_without_id.clear()
        self._sent_events.clear()
        self._last_row_at_start.clear()  # the old connection's responses will never end
        self._silent.clear()
        if self.order and self.items[self.order[-1]].role == "session":
            self._remove(self.order[-1])
        if not self.order:
            return  # nothing above to separate from
        self._insert(session_separator(self.connections, "new session", target, self._wall), None)

    def recording_ended(self) -> None:
        """A replayed recording has played to its end: text still awaited will not come from it.
        A recording that ends with its connection's close says so already (`_on_connection_ended`);
        one cut short (a browser's HAR saved mid-turn, a log) left rows saying `(transcribing…)`
        under a status line saying `done`. Like the linter's `finish`: the input ended."""
        for item in self.items.values():
            if item.state in _PENDING:
                item.state = TextState.UNRECORDED
                self.changed.add(item.id)

    def _on_connection_ended(self) -> None:
        # The conversation lived on that socket: nothing still pending will ever arrive (a new
        # session is a new conversation), so rows must stop claiming that text is on its way.
        # Speech the server heard start but never committed went with its buffer, as on a clear:
        # it never became an item (its row said "recorded audio · cut off", as if it had been).
        for item in [item for item in self.items.values() if item.state is TextState.SPEAKING]:
            self._remove(item.id)
        for item in self.items.values():
            if item.state in _PENDING:
                item.state = TextState.INTERRUPTED
                self.changed.add(item.id)
        # Deltas for an item not seen yet will never be completed; a final transcript or failure
        # that came before its item is kept for it (transcripts are never dropped).
        early = {
            key: [e for e in events if e[0] is not Conversation._on_transcription_delta]
            for key, events in self._early.items()
        }
        self._early = {key: events for key, events in early.items() if events}

    # -- item bookkeeping ---------------------------------------------------------------

    def _insert(self, item: Item, previous_item_id: str | None) -> Item:
        """The only way into the conversation: `order` and `items` change together, never one alone."""
        known = self.items.get(item.id)
        if known is not None:
            return known
        if previous_item_id is not None and previous_item_id in self.items and self.order[-1] != previous_item_id:
            # `items` and `order` hold the same ids, so the previous item has a place to follow.
            self.order.insert(self._place_after(previous_item_id), item.id)
        else:
            self.order.append(item.id)  # after the last item (the usual place): no search of the order
        if item.wall is None:
            item.wall = self._wall
        if not item.connection:
            item.connection = self.connections
        self.items[item.id] = item
        self.changed.add(item.id)
        for handler, data, at in self._early.pop(item.id, ()):
            handler(self, data, at)
        return item

    def _place_after(self, previous_item_id: str) -> int:
        """Where in `order` an item the server put after `previous_item_id` goes: right after it, and
        after the rows of replies that ended without output there (the server's chain does not hold
        them; they began before this item came, so it follows them: a retry after a failed reply
        read as the failure's cause when it jumped above it)."""
        position = self.order.index(previous_item_id) + 1
        while position < len(self.order) and self.items[self.order[position]].kind == NO_OUTPUT:
            position += 1
        return position

    def _remove(self, item_id: str) -> None:
        """Take an item out of the conversation: `order` and `items` change together."""
        del self.items[item_id]
        self.order.remove(item_id)
        self.changed.add(item_id)
        self._forget_sent(item_id)

    def _forget_sent(self, item_id: str) -> None:
        """`item_id` is no longer a row waiting for the server's echo of our create."""
        if item_id in self._sent:
            self._sent.remove(item_id)
            self._unnamed.discard(item_id)
            if item_id in self._sent_without_id:
                self._sent_without_id.remove(item_id)

    def _confirm(self, item_id: str, server_id: str, previous_item_id: str | None) -> Item:
        """The server echoed the row we made from our create (`item_id`) as item `server_id`: the
        row takes the server's id and its place in the server's chain (after `previous_item_id`,
        when that is a row; else it stays where it is)."""
        self._forget_sent(item_id)
        item = self.items.pop(item_id)
        position = self.order.index(item_id)
        item.id = server_id
        self.items[server_id] = item
        self.order[position] = server_id
        if previous_item_id is not None and previous_item_id in self.items and previous_item_id != server_id:
            self.order.remove(server_id)
            self.order.insert(self._place_after(previous_item_id), server_id)
        self.changed.update((item_id, server_id))
        for handler, data, at in self._early.pop(server_id, ()):
            handler(self, data, at)
        return item

    def _sent_row(self, raw: dict[str, Any]) -> str | None:
        """The oldest unconfirmed row of our creates that an echoed `raw` item can be (same type,
        and for a message the same role), or None."""
        kind, role = text(raw.get("type")), text(raw.get("role"))
        for item_id in self._sent:
            if item_id not in self._unnamed:
                continue
            item = self.items[item_id]
            if item.kind == kind and (kind != "message" or item.role == role):
                return item_id
        return None

    def _later(self, item_id: str | None, handler: _Handler, data: dict[str, Any], at: float) -> Item | None:
        """The item, or None: for a frame without an id, or after keeping it to replay when the item arrives."""
        if item_id is None:
            return None
        item = self.items.get(item_id)
        if item is None:
            self._early.setdefault(item_id, []).append((handler, data, at))
        return item

    @staticmethod
    def _write(item: Item, value: str) -> None:
        """Set `item.text` from any source but the input transcript, which is final once it lands."""
        if not item.transcribed:
            item.text = value

    def _user_audio_item(self, item_id: str) -> Item:
        item = Item(id=item_id, role="user", origin=Origin.BUFFER, has_audio=True, status="completed")
        item.state = TextState.TRANSCRIBING if self.transcription_on else TextState.TRANSCRIPTION_OFF
        return item

    def _assistant_item(self, item_id: str, response_id: str | None = None) -> Item:
        item = self.items.get(item_id)
        if item is None:
            item = self._insert(Item(id=item_id, role="assistant"), None)
            self._made_by(item, response_id)
            self._mark_out_of_band(item)
        return item

    def _made_by(self, item: Item, response_id: str | None) -> None:
        """Item `item` was made by response `response_id` (when named): the one way an item gets a
        response id, so `_by_response` knows every item of a response still under way."""
        if response_id is None or response_id == item.response_id:
            return
        item.response_id = response_id
        self._by_response.setdefault(response_id, []).append(item)

    def _items_of(self, response_id: str) -> list[Item]:
        """The items response `response_id` has made that are still in the conversation."""
        return [item for item in self._by_response.get(response_id, ()) if self.items.get(item.id) is item]

    def _mark_out_of_band(self, item: Item) -> None:
        """Mark a response's item as out of band when its response is (never a client's own item)."""
        if item.origin is Origin.RESPONSE and item.response_id in self._out_of_band:
            item.origin = Origin.OUT_OF_BAND
            self.changed.add(item.id)

    def _note_response(self, response: dict[str, Any]) -> None:
        """Remember a response that is out of band, and mark the items it has made so far.

        The server says so with `conversation_id: null` (present, and null) in the response object
        of `response.created` and `response.done`; a server that does not send the field at all
        says nothing, and its responses stay ordinary ones.
        """
        response_id = ident(response.get("id"))
        if response_id is None or "conversation_id" not in response or response["conversation_id"] is not None:
            return
        self._out_of_band.add(response_id)
        for item in self._items_of(response_id):
            if item.response_id == response_id:
                self._mark_out_of_band(item)

    # -- handlers -------------------------------------------------------------------------

    def _on_session(self, data: dict[str, Any], at: float) -> None:
        session = field(data, "session")
        self.session_id = text(session.get("id")) or self.session_id
        self.transcription_on = transcription_config(session) is not None
        self._output_rate = session_rates(session).output

    def _on_speech_started(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is not None and item_id not in self.items:
            item = self._user_audio_item(item_id)
            item.state = TextState.SPEAKING
            self._insert(item, None)

    def _on_buffer_cleared(self, data: dict[str, Any], at: float) -> None:
        # Speech the server heard start but never committed is gone with the buffer (hands-free
        # switched off mid-sentence, a clear): it will never be an item, so its "speaking…" row
        # would wait for ever, and later sit among other turns.
        for item in [item for item in self.items.values() if item.state is TextState.SPEAKING]:
            self._remove(item.id)

    def _on_committed(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is None:
            return
        item = self.items.get(item_id)
        if item is None:
            item = self._insert(self._user_audio_item(item_id), ident(data.get("previous_item_id")))
        elif item.state is TextState.SPEAKING:
            item.state = TextState.TRANSCRIBING if self.transcription_on else TextState.TRANSCRIPTION_OFF
        item.origin = Origin.BUFFER
        # A log's line with no time (wall 0) has only its order: no latency is measured from it.
        item.committed_at = at if has_time(self._wall) else None
        self.changed.add(item_id)

    def _on_sent_create(self, data: dict[str, Any], at: float, seq: int) -> None:
        """A `conversation.item.create` we sent: its row appears now, as the server will echo it
        (a server that never sends `conversation.item.added` for it still shows the message).
        Without an item id of ours, the row is `rt-sent-N` until the echo names the server's id."""
        raw = field(data, "item")
        if not raw:
            return
        item_id = ident(raw.get("id"))
        unnamed = item_id is None
        if item_id is None:
            self._sent_count += 1
            item_id = f"{SENT_ROW_PREFIX}{self._sent_count}"
        if item_id in self.items:
            return
        self._take_item(
            {"item": {**raw, "id": item_id}, "previous_item_id": data.get("previous_item_id")}, at, sent=True
        )
        if item_id in self.items:
            self.items[item_id].sent_seq = seq
            self._sent.append(item_id)
            if unnamed:
                self._unnamed.add(item_id)
            event_id = ident(data.get("event_id"))
            if event_id is not None:
                self._sent_events[event_id] = item_id
            else:
                self._sent_without_id.append(item_id)

    def _on_item(self, data: dict[str, Any], at: float) -> None:
        raw = field(data, "item")
        item_id = ident(raw.get("id"))
        if item_id is None:
            return
        if item_id in self._sent:
            self._confirm(item_id, item_id, ident(data.get("previous_item_id")))  # our own id, echoed
        elif item_id not in self.items and (row := self._sent_row(raw)) is not None:
            self._confirm(row, item_id, ident(data.get("previous_item_id")))
        self._take_item(data, at)

    def _take_item(self, data: dict[str, Any], at: float, *, sent: bool = False) -> None:
        """An item as a frame holds it: a new row, or what it says of a known one (`sent`: the frame
        is a create we sent, not the server's)."""
        raw = field(data, "item")
        item_id = ident(raw.get("id"))
        if item_id is None:
            return
        known = self.items.get(item_id)
        kind = text(raw.get("type"))
        # An item a response makes is known from `response.output_item.added` (or its deltas) before
        # its `conversation.item.*` echo, and buffer audio from `speech_started`/`committed`: one first
        # seen here is the client's own `conversation.item.create`. Were a response's echo ever to come
        # first, `_on_output_item` sets it back to RESPONSE.
        item = known or Item(id=item_id, role=text(raw.get("role")) or kind or "?", origin=Origin.CREATE)
        item.kind = kind or item.kind
        item.status = text(raw.get("status")) or item.status
        if item.kind == "function_call":
            item.role = "tool"
            item.name = text(raw.get("name")) or item.name
            item.call_id = text(raw.get("call_id")) or item.call_id
            arguments = text(raw.get("arguments"))
            if arguments:
                self._write(item, arguments)
            if item.status == "completed":
                item.state = TextState.DONE  # e.g. a call the client added itself: nothing will stream
        elif item.kind == "function_call_output":
            item.role = "tool"
            item.call_id = text(raw.get("call_id")) or item.call_id
            self._write(item, text(raw.get("output")))
            item.state = TextState.DONE
        else:
            self._fill_message(item, raw, known is None, at)
        if known is None:
            self._insert(item, ident(data.get("previous_item_id")))
            if item.role != "user" and not sent:
                self._silent.clear()  # a reply the server added, naming no response: one under way made it
        self.changed.add(item_id)

    def _fill_message(self, item: Item, raw: dict[str, Any], new: bool, at: float) -> None:
        texts: list[str] = []
        for part in objects(raw.get("content")):
            ptype = text(part.get("type"))
            if ptype in ("input_text", "output_text", "text"):
                texts.append(text(part.get("text")))
            elif ptype in ("input_audio", "output_audio", "audio"):
                item.has_audio = True
                texts.append(text(part.get("transcript")))
        if item.role == "user" and item.has_audio and item.origin is Origin.CREATE and new:
            # Not committed from the buffer, so the server will not transcribe it (§4.3b).
            item.origin = Origin.CREATE
            item.state = TextState.NOT_TRANSCRIBED
        if any(texts):
            if item.role != "user" or not item.has_audio or item.state is not TextState.DONE:
                self._write(item, " ".join(t for t in texts if t).strip())
            item.state = TextState.DONE
            item.text_done_at = item.text_done_at or at
        elif item.role == "user" and not item.has_audio:
            item.state = TextState.DONE
        if item.role == "user" and item.origin is Origin.CREATE:
            item.status = "completed"

    def _on_transcription_delta(self, data: dict[str, Any], at: float) -> None:
        item = self._later(ident(data.get("item_id")), Conversation._on_transcription_delta, data, at)
        if item is None:
            return
        if item.transcribed or (item.state in (TextState.DONE, TextState.FAILED) and item.text_done_at is not None):
            return  # a late delta after `.completed`/`.failed`: the final event is authoritative
        item.text += text(data.get("delta"))
        item.deltas += 1
        item.state = TextState.STREAMING
        self.changed.add(item.id)

    def _on_transcription_completed(self, data: dict[str, Any], at: float) -> None:
        item = self._later(ident(data.get("item_id")), Conversation._on_transcription_completed, data, at)
        if item is None:
            return
        # whisper-1 ends its transcripts with a newline; `.completed` replaces the deltas.
        item.text = text(data.get("transcript")).strip()
        item.transcribed = True
        item.state, item.error, item.text_done_at = TextState.DONE, None, at
        self._untimed_end(item)
        usage = data.get("usage")
        if isinstance(usage, dict):
            item.usage = usage
        self.changed.add(item.id)

    def _on_transcription_failed(self, data: dict[str, Any], at: float) -> None:
        item = self._later(ident(data.get("item_id")), Conversation._on_transcription_failed, data, at)
        if item is None:
            return
        item.state, item.error, item.text_done_at = TextState.FAILED, error_summary(data), at
        self._untimed_end(item)
        self.changed.add(item.id)

    def _untimed_end(self, item: Item) -> None:
        """A transcript's end on a log's line with no time (wall 0): no latency is measured to it,
        from a commit that had one or not (its `at` is only the line's order)."""
        if not has_time(self._wall):
            item.committed_at = None

    def _on_output_item(self, data: dict[str, Any], at: float) -> None:
        raw = field(data, "item")
        item_id = ident(raw.get("id"))
        if item_id is None:
            return
        response_id = ident(data.get("response_id"))
        item = self.items.get(item_id)
        if item is None:
            role = "tool" if text(raw.get("type")) == "function_call" else text(raw.get("role")) or "assistant"
            item = self._insert(Item(id=item_id, role=role), None)
        elif item.origin is Origin.CREATE:
            item.origin = Origin.RESPONSE  # its `conversation.item.*` echo came first: a response made it
        self._on_item({"item": raw}, at)
        self._made_by(item, response_id)
        self._mark_out_of_band(item)

    def _on_response_created(self, data: dict[str, Any], at: float) -> None:
        response = field(data, "response")
        self._note_response(response)
        response_id = ident(response.get("id"))
        if response_id is not None:
            self._last_row_at_start[response_id] = self._last_row_in_server_conversation()
            self._silent.add(response_id)
        rate = response_output_rate(response)
        if response_id is not None and rate is not None:  # one that names no format plays the session's
            self._response_rates[response_id] = rate

    def _last_row_in_server_conversation(self) -> str | None:
        """The last row the server has (a create we sent and it has not echoed yet is not: a message
        typed while the reply was being made came after it), or None."""
        for item_id in reversed(self.order):
            if item_id not in self._sent:
                return item_id
        return None

    def _on_output_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is None:
            return
        item = self._assistant_item(item_id, ident(data.get("response_id")))
        if item.state is TextState.DONE and item.text_done_at is not None:
            return  # a late delta after the part's `.done`: the final text is authoritative
        self._write(item, item.text + text(data.get("delta")))
        item.deltas += 1
        item.state = TextState.STREAMING
        self.changed.add(item_id)

    def _on_audio_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is not None:
            response_id = ident(data.get("response_id"))
            item = self._assistant_item(item_id, response_id)
            delta = data.get("delta")
            if isinstance(delta, str):
                rate = self._response_rates.get(response_id or "", self._output_rate)
                item.audio_ms += audio_bytes(delta) / rate
            if not item.has_audio:
                item.has_audio = True
                self.changed.add(item_id)
            elif item.audio_end_ms is not None:
                self.changed.add(item_id)  # audio after a truncate (not seen): the cut moves

    def _on_arguments_delta(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is not None:
            item = self._assistant_item(item_id, ident(data.get("response_id")))
            item.role, item.kind = "tool", "function_call"
            self._write(item, item.text + text(data.get("delta")))
            self.changed.add(item_id)

    def _on_arguments_done(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is not None:
            item = self._assistant_item(item_id, ident(data.get("response_id")))
            item.role, item.kind = "tool", "function_call"
            self._write(item, text(data.get("arguments")) or item.text)
            item.name = text(data.get("name")) or item.name
            item.call_id = text(data.get("call_id")) or item.call_id
            item.state = TextState.DONE
            self.changed.add(item_id)

    def _on_response_done(self, data: dict[str, Any], at: float) -> None:
        response = field(data, "response")
        self._note_response(response)
        response_id = ident(response.get("id"))
        status = text(response.get("status")) or "completed"
        listed: set[str] = set()
        for raw in objects(response.get("output")):
            item_id = ident(raw.get("id"))
            item = self.items.get(item_id) if item_id is not None else None
            if item is None:
                continue
            listed.add(item.id)
            # Its deltas may not have named the response: its output list does.
            if item.response_id is None:
                self._made_by(item, response_id)
            self._mark_out_of_band(item)
            own = status if status != "completed" else text(raw.get("status")) or status
            self._response_ended(item, own, response, at)
        if response_id is None:
            return
        for item in self._items_of(response_id):
            if item.response_id == response_id and item.id not in listed and item.state is TextState.STREAMING:
                # Streamed by this response, left out of its output (a failed response's `output`
                # can be empty): its text is over all the same; it read "cut off" at the end.
                self._response_ended(item, status, response, at)
        made = self._by_response.pop(response_id, None)  # ended: nothing of it is looked up by response again
        after = self._last_row_at_start.pop(response_id, None)
        silent = response_id in self._silent
        self._silent.discard(response_id)
        if status in _CUT_SHORT and silent and not made and not objects(response.get("output")):
            row = self._no_output_row(response_id, status, response, at)
            if after is None and row.id not in self.items:  # (`silent`: its response.created came)
                # Nothing of the server's came before it (the assistant spoke first, cut short):
                # first in this connection's part, after any reply that ended so before it.
                self._insert(row, None)
                self.order.remove(row.id)
                self.order.insert(self._connection_start(), row.id)
            else:
                self._insert(row, after)

    def _connection_start(self) -> int:
        """Where the current connection's rows begin in `order` (after its separator, when it has
        one), past the rows of replies that ended without output there."""
        separator = f"rt-session-{self.connections}"
        position = self.order.index(separator) + 1 if separator in self.items else 0
        while position < len(self.order) and self.items[self.order[position]].kind == NO_OUTPUT:
            position += 1
        return position

    def _no_output_row(self, response_id: str, status: str, response: dict[str, Any], at: float) -> Item:
        """The row of a response that ended early (cancelled, failed, incomplete) before it made
        any item: without it the reply the user waited for was simply not there, and why (a
        quota, `turn_detected`, a server error) was only in the log."""
        item = Item(
            id=NO_OUTPUT_PREFIX + response_id,
            role="assistant",
            kind=NO_OUTPUT,
            state=TextState.DONE,
            status=status,
            status_reason=_end_reason(response),
            status_code=_end_code(response),
            response_id=response_id,
            text_done_at=at,
        )
        if response_id in self._out_of_band:
            item.origin = Origin.OUT_OF_BAND
        return item

    def _response_ended(self, item: Item, status: str, response: dict[str, Any], at: float) -> None:
        """Item `item` of `response` has ended with `status`: its text is all there is."""
        item.status = status
        if text(response.get("status")) not in ("", "completed"):
            item.status_reason = _end_reason(response)
            item.status_code = _end_code(response)
        if item.state is TextState.STREAMING:
            item.state = TextState.DONE
            item.text_done_at = item.text_done_at or at
        self.changed.add(item.id)

    def _on_deleted(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is None:
            return
        self._early.pop(item_id, None)
        if item_id in self.items:
            self._remove(item_id)

    def _on_truncated(self, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        item = self.items.get(item_id) if item_id is not None else None
        if item is not None:
            item.audio_end_ms = integer(data.get("audio_end_ms"))
            if item.status not in _CUT_SHORT:
                item.status = "truncated"  # a cancelled response's item stays cancelled: both are said
            self.changed.add(item.id)

    def _on_error(self, data: dict[str, Any], at: float) -> None:
        self.last_error = error_summary(data)
        # A create the server refused made no item: its row goes (the error says why), unless the
        # server has said something of that id itself (a transcript), which is then kept.
        error = field(data, "error")
        event_id = ident(error.get("event_id"))
        refused = self._sent_events.pop(event_id, None) if event_id is not None else self._refused_without_id(error)
        if refused is not None and refused in self._sent:
            if self.items[refused].transcribed:
                self._forget_sent(refused)
            else:
                self._remove(refused)

    def _refused_without_id(self, error: dict[str, Any]) -> str | None:
        """The row of the create an error without event_id refused: the oldest create sent without
        one still waiting for its echo, when the error's code or param names creates alone (the
        server answers in order); None for an error that could be about another kind of frame."""
        if cause_types(text(error.get("code")), text(error.get("param"))) != ("conversation.item.create",):
            return None
        return self._sent_without_id.pop(0) if self._sent_without_id else None


def _end_reason(response: dict[str, Any]) -> str | None:
    """Why a response ended early, from its `status_details`: the reason of a cancelled or
    incomplete one (`turn_detected`, `max_output_tokens`…), the error of a failed one."""
    details = field(response, "status_details")
    reason = text(details.get("reason"))
    if reason:
        return reason
    return error_summary(details) if details.get("error") else None


def _end_code(response: dict[str, Any]) -> str | None:
    """The code of a failed response's error, when it gave the error as an object with one (its
    `code`, else its `type`): what `_end_reason` begins with."""
    error = field(field(response, "status_details"), "error")
    return (text(error.get("code")) or text(error.get("type")) or None) if error else None


def _make_output_done(field_name: str) -> _Handler:
    """Handler for `…output_text.done` / `…output_audio_transcript.done`: the final text wins."""

    def handler(conv: Conversation, data: dict[str, Any], at: float) -> None:
        item_id = ident(data.get("item_id"))
        if item_id is None:
            return
        item = conv._assistant_item(item_id, ident(data.get("response_id")))
        final = data.get(field_name)
        if isinstance(final, str):
            conv._write(item, final)
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

_HANDLERS: dict[str, _Handler] = {
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
    "input_audio_buffer.cleared": Conversation._on_buffer_cleared,
    "input_audio_buffer.timeout_triggered": _ignore,
    "response.created": Conversation._on_response_created,
    "response.content_part.added": _ignore,
    "response.content_part.done": _ignore,
    "response.output_audio.done": _ignore,
    "rate_limits.updated": _ignore,
}
