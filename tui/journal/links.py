"""Error ↔ cause: which frame we sent (or which event began) what later failed.

- an `error` whose `error.event_id` names a frame we sent is linked to that frame;
- a `response.done` that ended `failed`, `incomplete` or `cancelled` is linked to what began the
  response: our `response.cancel` for a cancellation we asked for, else the `response.create` that
  started it (or, for a response the server began itself, its `response.created`);
- an `invalid_json` or `invalid_event` error, which cannot name the frame it could not read, is
  linked to the oldest such frame we sent (not JSON, or NaN/Infinity in it) not yet answered;
- an error without `event_id` (the official SDK sends `event_id: null`) whose code or param ties it
  to one kind of frame (`tui.protocol.error_causes`) is linked to the oldest frame of that kind we
  sent without one and the server has not answered yet (it answers in order). An error tied to no
  kind makes every such frame's answer uncertain: they are forgotten, never linked wrongly. One
  on `audio` (appends get no answer to go by) is linked to the only recent append whose audio is
  not base64, if one is; either way a refused append's audio comes off the audio clock (when
  which one is not known, the latest one's: chunks are of one size). One on `type` answers the
  oldest frame we sent whose type is no client event's (a typo: the server knows every other);
- a `…input_audio_transcription.failed` is linked to the commit of its item: our
  `input_audio_buffer.commit`, or the server's `input_audio_buffer.committed` under server VAD.

It also keeps which frames we sent made each item and began each response (`made`), for "this
item's frames" to show the cause with the effect: the `input_audio_buffer.append`s that filled
the buffer and our `commit` for an item the buffer became (for an item server VAD committed, the
appends whose audio lies in its `audio_start_ms`..`audio_end_ms` on the session's audio clock,
`audio_clock`: those sent meanwhile are the next turn's); the `conversation.item.create` for an
item we created (by its id, or, without one, the oldest create not yet answered: the server
answers in order); the `response.create` for a response. And which items each response output
(`outputs`, and back: `response_of`), so that a frame about a response, or one we sent to make something, leads to the
conversation items it concerns (`items_of`): "its transcript row" from any of them.
"""

from __future__ import annotations

import binascii
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.protocol import DIR_IN, DIR_OUT, Envelope, text, to_ga
from tui.protocol import field as obj_field
from tui.protocol.error_causes import ANSWERED_BY, CAUSE_TYPES, UNREADABLE_ANSWERS, cause_types
from tui.protocol.events import GA_CLIENT_EVENTS
from tui.protocol.records import all_finite
from tui.protocol.summary import audio_bytes, is_audio_tag

from .audio_clock import AppendRun, input_units_per_byte
from .facts import audio_rates_at
from .store import Journal

FAILED_RESPONSE_STATUSES = frozenset({"failed", "incomplete", "cancelled"})
"""The statuses of a `response.done` linked to what began it (or cancelled it): every one that did
not complete, a barge-in's too (`c` goes from it to the `response.cancel`). Which of them is an
error is `response_failed`'s to say."""

BARGE_IN_REASONS = frozenset({"turn_detected", "client_cancelled"})
"""Why a response ends `cancelled` when the user barged in: server VAD heard speech start
(`turn_detected`), or the client sent `response.cancel` (`client_cancelled`). The protocol names no
other reason for a cancel."""

__all__ = ["BARGE_IN_REASONS", "FAILED_RESPONSE_STATUSES", "UNREADABLE_ANSWERS", "Link", "Links", "response_failed"]


def response_failed(response: object) -> bool:
    """Whether a `response.done`'s `response` ended in a fault (`is:error`): `failed` or
    `incomplete` (`max_output_tokens`, `content_filter`), or `cancelled` for a reason that is no
    barge-in (the protocol defines none: a server's own reason is shown, not hidden). A barge-in's
    cancel, or a cancel that gives no reason, is what the user did, not an error: a filter for
    errors after a barge-in listed it among them."""
    if not isinstance(response, dict):
        return False
    status = response.get("status")
    if status in ("failed", "incomplete"):
        return True
    if status != "cancelled":
        return False
    details = response.get("status_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    return isinstance(reason, str) and reason != "" and reason not in BARGE_IN_REASONS


_REPLIED_TYPES = frozenset(ANSWERED_BY.values())
"""Client event types whose success the server answers with a reply of its own (`ANSWERED_BY`)."""

_SESSION_TYPES = frozenset(
    {"session.created", "session.updated", "transcription_session.created", "transcription_session.updated"}
)
"""Server events that carry the applied session, its input audio format with it."""

MAX_AWAITING = 256
"""Frames of one type remembered while they wait for their reply (a log of the client's side
only never answers them)."""
RECENT_APPENDS = 250
"""Appends an error on `audio` without event_id is looked for among (5 s of 20 ms chunks: a
server answers at once)."""


@dataclass(frozen=True, slots=True)
class Link:
    """`effect` (an error or a failure) was caused by `cause`."""

    effect: int
    cause: int
    kind: str
    """"error", "response failed", "response incomplete", "response cancelled", "transcription failed"."""


@dataclass(slots=True)
class Links:
    """A projection of cause ↔ effect links between journal frames."""

    journal: Journal
    cause_of: dict[int, Link] = field(default_factory=dict)
    effects_of: dict[int, list[Link]] = field(default_factory=dict)
    _pending_creates: deque[int] = field(default_factory=deque)
    _response_start: dict[str, int] = field(default_factory=dict)
    _cancels: dict[str, int] = field(default_factory=dict)
    _last_cancel: int | None = None
    _last_commit: int | None = None
    _commit_of_item: dict[str, int] = field(default_factory=dict)
    _new: list[Link] = field(default_factory=list)
    made: dict[str, list[int]] = field(default_factory=dict)
    """Item or response id → the frames we sent that made it (see the module doc)."""
    failed_responses: set[int] = field(default_factory=set)
    """The `response.done` frames that ended in a fault (`response_failed`), told when they came:
    `is:error` asks here once the journal dropped a long one's payload (a fault's `output` can
    run to kilobytes), and would otherwise read no status at all."""
    _buffer: AppendRun = field(default_factory=AppendRun)
    """Our appends since the buffer was last committed or cleared."""
    _clock: int = 0
    """Where the audio of our appends so far ends on the session's input audio clock (`audio_clock`)."""
    _units_per_byte: int = 1
    """Clock units per byte of the applied input format (24 kHz PCM16 until the session says)."""
    _clock_lost: bool = True
    """The clock says nothing: no start of the session seen yet (a recording begun in the middle of
    one), or an append in a format of unknown rate was sent (until the next connection)."""
    _format_updates: set[int] = field(default_factory=set)
    """Our session updates that named an input format (taken at once: a refusal loses the clock)."""
    _refused_appends: set[int] = field(default_factory=set)
    """Appends of this session the server refused (an error about `audio` names the next one)."""
    _vad_spans: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    """Item → (audio_start_ms, audio_end_ms) server VAD said of it, until its `committed`."""
    vad_lengths: dict[str, int] = field(default_factory=dict)
    """Item → milliseconds of the input buffer server VAD committed as it (`audio_end_ms` less
    `audio_start_ms`), when it said both (`input_audio_ms`)."""
    _pending_clears: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_AWAITING))
    """Our input_audio_buffer.clear frames not yet answered by `cleared`: the answer to one of them
    drops nothing (the clear itself did; the appends sent since reached the server after it)."""
    _commit_run: AppendRun = field(default_factory=AppendRun)
    """The appends our last commit committed, until the server answers it (appends sent meanwhile
    fill the next turn's buffer)."""
    _item_creates: deque[int] = field(default_factory=deque)
    """Our conversation.item.create frames without an item id, not yet answered."""
    _output_items: set[str] = field(default_factory=set)
    """Items a response output (their conversation.item.added answers no create of ours)."""
    outputs: dict[str, list[str]] = field(default_factory=dict)
    """Response id → the items it output, in order (a response seen begin has a list, maybe empty)."""
    response_of: dict[str, str] = field(default_factory=dict)
    """Item id → the response that output it (the reverse of `outputs`)."""
    _unreadable: deque[int] = field(default_factory=deque)
    """Frames we sent that the server cannot read (not JSON, or NaN in them), not yet answered."""
    _no_such_type: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_AWAITING))
    """Frames we sent without event_id whose type is no client event's (a typo), not yet answered:
    an error on `type` without event_id answers the oldest (the server answers in order)."""
    _unnamed: dict[str, deque[int]] = field(default_factory=dict)
    """Client event type → our frames of it sent without event_id, not yet answered, oldest first:
    an error without event_id tied to the type answers the oldest (see the module doc)."""
    _awaiting_reply: dict[str, deque[int]] = field(default_factory=dict)
    """Client event type (of `ANSWERED_BY`'s) → our frames of it, named or not, not yet answered,
    oldest first: a success reply answers the oldest of them, which may be a named one (so the
    oldest unnamed one is still waiting for its answer)."""
    _begun_unnamed: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Response id → (our response.create without event_id its response.created was taken to answer,
    that response.created), until its response.done: under server VAD the response may be the
    server's own, and a refusal without event_id then shows the create was not its cause."""
    _vad_items: set[str] = field(default_factory=set)
    """Items server VAD announced (speech_stopped, timeout_triggered) and has not committed yet: their
    `committed` is the server's own, even while a commit of ours is on its way."""

    def apply(self, env: Envelope, index: int) -> None:
        """Take one envelope into account."""
        if env.direction is DIR_OUT:
            self._sent(env, index)
        elif env.direction is DIR_IN:
            self._received(env, index)
        elif env.type == "rt.connection" and env.data.get("state") == "connecting":
            self._pending_creates.clear()
            self._last_commit = self._last_cancel = None
            self._clock = 0  # a new session: its audio clock starts again
            self._units_per_byte = 1
            self._clock_lost = False
            self._vad_spans.clear()
            self._format_updates.clear()
            self._refused_appends.clear()
            self._buffer.restart(0)
            self._pending_clears.clear()
            self._commit_run.restart(0)
            self._item_creates.clear()
            self._unreadable.clear()
            self._no_such_type.clear()
            self._vad_items.clear()
            self._unnamed.clear()
            self._awaiting_reply.clear()
            self._begun_unnamed.clear()

    def take_changes(self) -> list[Link]:
        """Links made since the last call."""
        new, self._new = self._new, []
        return new

    def _sent(self, env: Envelope, index: int) -> None:
        etype = env.type
        if etype == "input_audio_buffer.append":
            # The most frequent frame we send: first, and nothing but an integer kept (see audio_clock).
            audio = env.data.get("audio")
            buffer = self._buffer
            buffer.frames.append(index)
            per_byte = self._units_per_byte
            if per_byte and type(audio) is str:
                # base64's decoded length, inline: audio_bytes() would double what this costs.
                if audio[-1:] in "=]":  # padded, or an export's tag for the audio it left out
                    self._clock += audio_bytes(audio) * per_byte
                else:
                    self._clock += len(audio) * 3 // 4 * per_byte
            elif per_byte:
                buffer.unsure = True  # the server refuses audio that is no text: it adds nothing, or so we hope
            else:
                self._clock_lost = True
            buffer.ends.append(self._clock)
            return
        if not text(env.data.get("event_id")):
            if etype in CAUSE_TYPES:
                self._unnamed.setdefault(etype, deque()).append(index)
            elif to_ga(etype) not in GA_CLIENT_EVENTS and not etype.startswith("rt."):
                self._no_such_type.append(index)
        if etype in _REPLIED_TYPES:
            self._awaiting_reply.setdefault(etype, deque(maxlen=MAX_AWAITING)).append(index)
        if etype == "rt.malformed" or not all_finite(env.data):
            self._unreadable.append(index)  # its error can name no event_id: it is answered in order
        elif etype == "response.create":
            self._pending_creates.append(index)
        elif etype == "conversation.item.create":
            item_id = text(obj_field(env.data, "item").get("id"))
            if item_id:
                self.made[item_id] = [index]
            else:
                self._item_creates.append(index)
        elif etype == "input_audio_buffer.clear":
            self._buffer.restart(self._clock)
            self._pending_clears.append(index)
        elif etype == "response.cancel":
            response_id = text(env.data.get("response_id"))
            if response_id:
                self._cancels[response_id] = index
            self._last_cancel = index
        elif etype == "input_audio_buffer.commit":
            self._last_commit = index
            self._commit_run.extend(self._buffer)
            self._buffer.restart(self._clock)
        elif etype in ("session.update", "transcription_session.update"):
            # The server applies an update before the appends sent after it: those are in its format
            # from here, not from its `session.updated` (a bridge streams G.711 right after asking).
            units = input_units_per_byte(obj_field(env.data, "session"))
            if units is not None:
                self._units_per_byte = units
                self._format_updates.add(index)

    def _received(self, env: Envelope, index: int) -> None:
        etype = env.type
        if etype in _SESSION_TYPES:
            # The applied input format measures the appends from here (it is also an answer, below).
            units = input_units_per_byte(obj_field(env.data, "session"))
            if etype in ("session.created", "transcription_session.created"):
                self._session_created(units)
            elif units is not None:
                self._units_per_byte = units
        if etype == "error":
            self._error(env, index)
        elif etype == "response.created":
            response_id = text(obj_field(env.data, "response").get("id"))
            start = self._pending_creates.popleft() if self._pending_creates else index
            if response_id and start != index and self._answered(start):
                self._begun_unnamed[response_id] = (start, index)
            if response_id:
                self.outputs.setdefault(response_id, [])
                self._response_start[response_id] = start
                if start != index:
                    self.made[response_id] = [start]
        elif etype == "response.done":
            self._response_done(env, index)
        elif etype == "input_audio_buffer.speech_started":
            item_id = text(env.data.get("item_id"))
            if item_id:
                self._vad_spans[item_id] = (_ms(env.data.get("audio_start_ms")), None)
        elif etype in ("input_audio_buffer.speech_stopped", "input_audio_buffer.timeout_triggered"):
            item_id = text(env.data.get("item_id"))
            if item_id:
                self._vad_items.add(item_id)
                began = _ms(env.data.get("audio_start_ms"))  # a timeout's (speech_started's otherwise)
                if began is None:
                    began = self._vad_spans.get(item_id, (None, None))[0]
                self._vad_spans[item_id] = (began, _ms(env.data.get("audio_end_ms")))
        elif etype == "input_audio_buffer.committed":
            self._committed(text(env.data.get("item_id")), index)
        elif etype == "input_audio_buffer.cleared":
            if self._pending_clears:
                self._pending_clears.popleft()  # the answer to our clear, which dropped the appends
            else:
                self._buffer.restart(self._clock)  # a server that cleared on its own (appends on their way: unknowable)
            self._vad_spans.clear()  # a turn under way is dropped with the buffer
        elif etype == "response.output_item.added":
            item_id = text(obj_field(env.data, "item").get("id"))
            if item_id:
                self._output_items.add(item_id)
                response_id = text(env.data.get("response_id"))
                if response_id:
                    self._add_output(response_id, item_id)
        elif etype in ("conversation.item.added", "conversation.item.created"):
            item_id = text(obj_field(env.data, "item").get("id"))
            if item_id and item_id not in self.made and item_id not in self._output_items and self._item_creates:
                self.made[item_id] = [self._item_creates.popleft()]
            made = self.made.get(item_id) if item_id else None
            if made and len(made) == 1:
                self._answered(made[0])  # our create's answer (a commit's item has its appends too)
        elif etype in ANSWERED_BY:
            # The server answers in order: the oldest frame of the type, named or not, is answered.
            waiting = self._awaiting_reply.get(ANSWERED_BY[etype])
            if waiting:
                self._answered(waiting.popleft())
        elif etype == "conversation.item.input_audio_transcription.failed":
            cause = self._commit_of_item.get(text(env.data.get("item_id")))
            if cause is not None:
                self._link(index, cause, "transcription failed")

    def _session_created(self, units: int | None) -> None:
        """A session began, in the input format `units` says (the API's default if it says none):
        its audio clock starts at 0. Every time, not only after a `connecting` fact: a log of the
        wire alone (a client's JSONL of two connections) has none, and its second session's turns
        were split on the first one's clock."""
        self._units_per_byte = 1 if units is None else units
        self._clock = 0
        self._clock_lost = False
        self._buffer.restart(0)
        self._commit_run.restart(0)
        self._vad_spans.clear()
        self._format_updates.clear()
        self._refused_appends.clear()

    def _committed(self, item_id: str, index: int) -> None:
        """The buffer became item `item_id`: by our pending commit, or by server VAD (which may get
        there first while our commit is on its way: that commit stays pending, for its own answer)."""
        by_vad = item_id in self._vad_items or self._last_commit is None
        self._vad_items.discard(item_id)
        start_ms, end_ms = self._vad_spans.pop(item_id, (None, None))
        if item_id and start_ms is not None and end_ms is not None and end_ms >= start_ms:
            self.vad_lengths[item_id] = end_ms - start_ms
        if by_vad:
            # Our appends so far: those our pending commit would have committed, else the buffer's.
            # VAD committed them up to its `audio_end_ms`: the ones after reached the server after
            # that and stay for the next commit (a clock that cannot tell gives it all of them).
            run = self._commit_run if self._last_commit is not None else self._buffer
            appends = None if self._clock_lost else run.split(start_ms, end_ms)
            if appends is None:
                appends = run.frames
                run.restart(self._clock)
            if item_id:
                self._commit_of_item[item_id] = index
                self.made[item_id] = appends
            return
        assert self._last_commit is not None
        self._answered(self._last_commit)
        if item_id:
            self._commit_of_item[item_id] = self._last_commit
            self.made[item_id] = [*self._commit_run.frames, self._last_commit]
        self._commit_run.restart(self._clock)
        self._last_commit = None

    def _error(self, env: Envelope, index: int) -> None:
        error = obj_field(env.data, "error")
        event_id = text(error.get("event_id"))
        if event_id:
            cause = self.journal.find_sent(event_id, index)
        else:
            code = text(error.get("code"))
            if code in UNREADABLE_ANSWERS:
                if self._unreadable:
                    unreadable = self._unreadable.popleft()
                    self._link(index, unreadable, "error")
                    self._answered(unreadable)  # no later error is about it
                return
            param = text(error.get("param"))
            if param == "type" and self._no_such_type:
                # A typo'd type's refusal, first: taken for an error of no kind, it made every
                # waiting frame's answer unknown, and the next error (a refused session.update) was
                # linked to nothing.
                cause = self._no_such_type.popleft()
            else:
                cause = self._unnamed_cause(code, param)
            if cause is None and code == "conversation_already_has_active_response":
                cause = self._refused_create()
            if cause is None and param.split(".", 1)[0] == "audio":
                cause = self._unreadable_append()
                if cause is None:
                    self._unclock_latest_append()
        if cause is None:
            return
        self._link(index, cause, "error")
        self._answered(cause)
        if cause in self._pending_creates:
            self._pending_creates.remove(cause)  # a refused response.create begins no response
        if cause in self._item_creates:
            self._item_creates.remove(cause)  # a refused create makes no item
        if cause in self._pending_clears:
            self._pending_clears.remove(cause)  # a refused clear gets no `cleared`
        if self.journal.type_at(cause) == "input_audio_buffer.append":
            self._refused_append(cause)
        elif cause in self._format_updates:
            # Its format was taken at once: refused, the appends since were in the old one, which
            # the clock no longer knows (the fallback split, until the next session).
            self._format_updates.discard(cause)
            self._clock_lost = True
        if cause == self._last_commit:
            self._last_commit = None
            # A refused commit committed nothing: its appends are still the buffer's.
            self._commit_run.extend(self._buffer)
            self._buffer, self._commit_run = self._commit_run, self._buffer
            self._commit_run.restart(self._clock)

    def _unreadable_append(self) -> int | None:
        """The append an error on `audio` that names no frame (a client that sends no event_id: the
        official SDK) refused, when it can be told: the only one of the latest `RECENT_APPENDS` not
        yet refused whose audio is not base64 (what such an error says). None when none or several
        are (a wrong link is worse than none)."""
        recent = [*self._commit_run.frames, *self._buffer.frames][-RECENT_APPENDS:]
        journal = self.journal
        found = [
            index
            for index in recent
            if index not in self._refused_appends and not _base64_or_tag(journal.data(index).get("audio", ""))
        ]
        return found[0] if len(found) == 1 else None

    def _unclock_latest_append(self) -> None:
        """An append was refused, which one not known (their audio all reads as base64: too long, say).
        Its audio is not on the server's clock: the server answers a frame at once, so it is one of
        the last sent, and a client sends chunks of one size, so taking the latest one's audio off
        keeps every later turn's split exact (only this turn's end can be a chunk off), where leaving
        it on would end every later turn a chunk late."""
        run = self._buffer if self._buffer.frames else self._commit_run
        if run.frames:
            self._refused_append(run.frames[-1])

    def _refused_append(self, index: int) -> None:
        """The server refused append `index`: its audio is not on the server's clock, so not on ours."""
        self._refused_appends.add(index)
        units = self._commit_run.unclock(index)
        if units is not None:
            self._buffer.shift(-units)
        else:
            units = self._buffer.unclock(index)
        if units is None:
            self._clock_lost = True  # already committed: later turns' appends sit off by its audio
        else:
            self._clock -= units

    def _unnamed_cause(self, code: str, param: str) -> int | None:
        """The frame an error without event_id answers (taken off `_unnamed`), or None."""
        types = cause_types(code, param)
        if not types:
            self._unnamed.clear()  # it answers one of them, or not: which is not known
            self._begun_unnamed.clear()
            return None
        oldest: deque[int] | None = None
        for etype in types:
            waiting = self._unnamed.get(etype)
            if waiting and (oldest is None or waiting[0] < oldest[0]):
                oldest = waiting
        return oldest.popleft() if oldest is not None else None

    def _answered(self, index: int) -> bool:
        """Frame `index`, one we sent, was answered: no error without event_id is about it. True
        when it was waiting for its answer (it was sent without event_id)."""
        etype = self.journal[index].type
        replied = self._awaiting_reply.get(etype)
        if replied and index in replied:
            replied.remove(index)  # an error answered it: the next success reply is another's
        waiting = self._unnamed.get(etype)
        if waiting and index in waiting:
            waiting.remove(index)
            return True
        return False

    def _refused_create(self) -> int | None:
        """The create a refusal without event_id answers when no create waits for its answer: every
        create without one was taken as the cause of a response.created, so one of those was the
        server's own (VAD's, which began while our create was on its way). The create of the only
        response still in progress; none when there are several (which is not known, nor after)."""
        if len(self._begun_unnamed) != 1:
            self._begun_unnamed.clear()
            return None
        response_id, (create, created) = self._begun_unnamed.popitem()
        self._response_start[response_id] = created  # the server began it: our create was refused
        if self.made.get(response_id) == [create]:
            del self.made[response_id]
        return create

    def _response_done(self, env: Envelope, index: int) -> None:
        response = obj_field(env.data, "response")
        if response_failed(response):
            self.failed_responses.add(index)
        status = text(response.get("status"))
        response_id = text(response.get("id"))
        if response_id:
            # Its output[] names every item it made: the ones whose output_item.added a recording
            # left out (it began before the capture did) too.
            self.outputs.setdefault(response_id, [])
            output = response.get("output")
            for entry in output if isinstance(output, list) else ():
                item_id = text(entry.get("id")) if isinstance(entry, dict) else ""
                if item_id:
                    self._add_output(response_id, item_id)
        start = self._response_start.pop(response_id, None)
        self._begun_unnamed.pop(response_id, None)
        cancel = self._cancels.pop(response_id, None)
        if status not in FAILED_RESPONSE_STATUSES:
            return
        if status == "cancelled":
            if cancel is None and self._last_cancel is not None and start is not None and self._last_cancel > start:
                cancel = self._last_cancel  # a response.cancel without a response_id cancels the active one
            cause = cancel if cancel is not None else start
            if cancel is not None:
                self._answered(cancel)
        else:
            cause = start
        if cause is not None:
            self._link(index, cause, f"response {status}")

    def _add_output(self, response_id: str, item_id: str) -> None:
        items = self.outputs.setdefault(response_id, [])
        if item_id not in items:
            items.append(item_id)
            self.response_of.setdefault(item_id, response_id)

    def first_frame_for(self, ids: Iterable[str], stop: int) -> int | None:
        """The first index below `stop` of a frame that `for:ID` (the filter) matches for one of
        `ids`, or None: a frame naming it or the response that output it, or one we sent that made
        them. Asked on a key press: C scans of the journal's id columns and a look at `made`, never
        a test of each frame (which takes half a second below a clear at an hour's scale)."""
        names = set(ids)
        names.update(response for name in list(names) if (response := self.response_of.get(name)))
        first = self.journal.first_naming(names, stop)
        for name in names:
            for index in self.made.get(name, ()):
                if index < (stop if first is None else first):
                    first = index
        return first

    def is_fault(self, index: int) -> bool:
        """Whether linked frame `index` is an error (`is:error`): any but a `response.done` that did
        not fail (a barge-in's cancel is linked to its `response.cancel`, and is no error)."""
        return self.journal.type_at(index) != "response.done" or index in self.failed_responses

    def input_audio_ms(self, item_id: str) -> float | None:
        """Milliseconds of the audio that became user item `item_id` through the input buffer: the
        span server VAD committed as it, else the appends our commit committed (their bytes at the
        input format the session had applied); None for an item no audio of ours made (typed, or
        sent whole in an item.create). Asked for an export, never per frame."""
        vad = self.vad_lengths.get(item_id)
        if vad is not None:
            return float(vad)
        journal = self.journal
        made = self.made.get(item_id, ())
        appends = [index for index in made if journal.type_at(index) == "input_audio_buffer.append"]
        if not appends:
            return None
        chars = sum(journal.audio_chars(index) or 0 for index in appends)
        return chars * 3 / 4 / audio_rates_at(journal, appends[0]).input

    def made_by(self, index: int) -> str | None:
        """The item or response that frame `index`, one we sent, made (see `made`), or None.

        Asked on a key press, never per frame: a scan of `made` (a millisecond over an hour's
        appends) costs less than keeping every append's item, which a long recording has tens of
        thousands of. A scan, not a bisection: a turn's commit may come after appends of the next.
        """
        for made_id, frames in self.made.items():
            if index in frames:
                return made_id
        return None

    def items_of(self, index: int) -> list[str]:
        """The conversation items frame `index` concerns: the one it names; else those of the
        response it names (its output, in order); else what it made, when we sent it (the item of
        a commit or an item.create, the output of a response.create's response). Empty for none."""
        frame = self.journal[index]
        item_id = frame.item_id
        if item_id:
            return [item_id]
        response_id = frame.response_id
        if response_id:
            return list(self.outputs.get(response_id, ()))
        made = self.made_by(index) if frame.direction is DIR_OUT else None
        if made is None:
            return []
        return list(self.outputs[made]) if made in self.outputs else [made]

    def _link(self, effect: int, cause: int, kind: str) -> None:
        link = Link(effect, cause, kind)
        self.cause_of[effect] = link
        self.effects_of.setdefault(cause, []).append(link)
        self._new.append(link)


def _ms(value: object) -> int | None:
    """A VAD event's millisecond field, or None when it is not a count of milliseconds."""
    return value if type(value) is int and value >= 0 else None


def _base64_or_tag(audio: object) -> bool:
    """Whether an append's audio reads as base64 (or is an export's tag for audio left out)."""
    if not isinstance(audio, str):
        return False
    if is_audio_tag(audio):
        return True
    try:
        binascii.a2b_base64(audio, strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    return True
