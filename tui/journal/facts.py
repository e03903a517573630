"""Session facts: what the status line and the config views show, derived from the frames alone.

Connection state and its reason, the session id and model, which dialect the server speaks, what
configuration we asked for and what the server says it applied (and updates it rejected), rate
limits, and counters of frames and bytes in each direction.
"""

from __future__ import annotations

import json
import threading
import weakref
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tui.protocol import DIR_LOCAL, DIR_OUT, Dialect, Envelope, error_summary, is_known, session_dialect, text
from tui.protocol import field as obj_field
from tui.protocol.error_causes import cause_types
from tui.protocol.events import BETA_TO_GA_SERVER, GA_ONLY_SERVER_EVENTS, GA_TO_BETA_SERVER
from tui.protocol.session_config import (
    holds_transcription,
    holds_turn_detection,
    transcription_config,
    turn_detection_config,
)
from tui.protocol.summary import PCM16_RATES, AudioRates, response_output_rate, session_rates

if TYPE_CHECKING:
    from .store import Journal

ENDED_STATES = frozenset({"closed", "failed"})

KEPT_AFTER_REJECTION = "session.update rejected (the server kept its config)"
"""The long status's words after what is in force when the server refused our last update: what
precedes them is the configuration it kept."""


class _Kind:
    """What a received event type means to the facts (decided once per type). Plain int constants,
    not an Enum: they are read for every frame, and an enum class's attribute costs ~70 ns on
    Python 3.11 (its metaclass's `__getattr__`), a plain class's ~15 ns."""

    PLAIN = 0
    """Nothing beyond the counters (most deltas)."""
    LOCAL = 1
    UNKNOWN = 2
    BETA = 3
    """A name only a beta server sends."""
    GA = 4
    """A name only a GA server sends."""
    NOTED = 5
    """Read by the rules below (session, error, response, rate limits, failures)."""


_NOTED = frozenset(
    {
        "session.created",
        "session.updated",
        "transcription_session.created",
        "transcription_session.updated",
        "error",
        "response.created",
        "response.done",
        "rate_limits.updated",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
    }
)
_GA: Final = Dialect.GA
_KINDS: dict[str, int] = {}
_KINDS_MAX = 1024  # a server inventing a new type per frame must not grow this cache without end


def _kind_of(etype: str) -> int:
    if etype.startswith("rt."):
        return _Kind.LOCAL
    if not is_known(etype):
        return _Kind.UNKNOWN
    if etype in BETA_TO_GA_SERVER or etype == "conversation.item.created":
        return _Kind.BETA  # beta names are noted as beta, and still go on to the rules
    if etype in _NOTED or etype.endswith(".failed"):
        return _Kind.NOTED
    # Only names a beta server never sends: `response.output_item.*` is both dialects' (a prefix
    # test here once took every beta session for GA at its first reply).
    if etype in GA_ONLY_SERVER_EVENTS or etype in GA_TO_BETA_SERVER:
        return _Kind.GA
    return _Kind.PLAIN


_UPDATE_TYPES = frozenset({"session.update", "transcription_session.update"})

MAX_AWAITING_UPDATES = 256
"""Session updates remembered while they wait for their answer."""

QUIET_AFTER = 5.0
"""Seconds the server may send nothing while the session waits for it (a response, a transcript, an
update's answer) before the app's status line, and a timed-out `send`, say so. A server stuck
mid-reply still answers pings, so the connection stays open: nothing else would tell."""

MAX_AWAITED = 256
"""Transcripts remembered while they wait (a log of a server that never sends them must not grow
the set for ever)."""

_SESSION_EVENTS = frozenset(
    {"session.created", "session.updated", "transcription_session.created", "transcription_session.updated"}
)


@dataclass(slots=True)
class Rejection:
    """A `session.update` the server refused: the frame we sent and the error that named it."""

    update_index: int
    error_index: int
    message: str


@dataclass(slots=True)
class SessionFacts:
    """Facts about the current session, kept up to date frame by frame (a projection)."""

    state: str = "idle"
    reason: str = ""
    """Why the connection closed or failed (kept until the next connection opens)."""
    target: str = ""
    targets: dict[int, str] = field(default_factory=dict)
    """Each connection's target by its number (`epoch`): a replay of several files names each one's."""
    started: dict[int, float] = field(default_factory=dict)
    """When each connection began (Unix time of its connecting fact), by its number."""
    epoch: int = 0
    session_id: str = ""
    session_ids: dict[int, str] = field(default_factory=dict)
    """Each connection's session id by its number (`epoch`), for those the server named: an
    export of a conversation that spans several sessions says which one each part was."""
    model: str = ""
    dialect: Dialect | None = None
    requested: dict[str, Any] | None = None
    """The `session` of the last `session.update` we sent."""
    applied: dict[str, Any] | None = None
    """The `session` the server last reported (`session.created` / `session.updated`)."""
    updates_applied: int = 0
    """`session.updated` frames received in this connection."""
    rejections: list[Rejection] = field(default_factory=list)
    rate_limits: list[dict[str, Any]] = field(default_factory=list)
    frames_in: int = 0
    """Frames received in this connection (the status line's ▼, beside this session's id)."""
    frames_out: int = 0
    """Frames sent in this connection (▲)."""
    bytes_in: int = 0
    bytes_out: int = 0
    active_response: str | None = None
    """The response in progress (between `response.created` and its `response.done`), if any."""
    last_in: float | None = None
    """When the last frame of this connection came from the server (monotonic), if one has."""
    asked_at: float | None = None
    """When the session began to wait for the server (monotonic): a request sent while it waited
    for nothing. Quiet is counted from it or the last frame, whichever is later: the idle minutes
    before a request are no silence of the server's."""
    creates_unanswered: int = 0
    """Our `response.create` frames no `response.created` (nor an `error`) has answered yet."""
    transcripts_awaited: set[str] = field(default_factory=set)
    """Items committed with transcription on whose `…transcription.completed`/`.failed` has not come."""
    unknown_types: dict[str, int] = field(default_factory=dict)
    """Server event types neither dialect defines, with counts."""
    malformed: int = 0
    errors: int = 0
    changed: bool = False
    _update_ids: dict[str, int] = field(default_factory=dict)
    _last_update: int = -1
    _awaiting_updates: deque[int] = field(default_factory=deque)
    """Our session updates not answered yet, oldest first: the server answers in order, so an error
    without event_id about the session (the official SDK names no frame) refused the oldest."""

    # -- projection -------------------------------------------------------------------------

    def apply(self, env: Envelope, index: int) -> None:
        """Take one envelope into account."""
        self.changed = True
        if env.direction is DIR_LOCAL:
            self._local(env)
        elif env.direction is DIR_OUT:
            self.frames_out += 1
            self.bytes_out += env.size
            if env.type == "response.create":
                if not self._waiting():
                    self.asked_at = env.mono
                self.creates_unanswered += 1
            elif env.type in ("session.update", "transcription_session.update"):
                if not self._waiting():
                    self.asked_at = env.mono
                session = obj_field(env.data, "session")
                self.requested = session
                event_id = text(env.data.get("event_id"))
                self._last_update = index
                if event_id:
                    self._update_ids[event_id] = index
                self._awaiting_updates.append(index)
                if len(self._awaiting_updates) > MAX_AWAITING_UPDATES:
                    self._awaiting_updates.popleft()  # a log of the client's side only: never answered
        else:
            self.frames_in += 1
            self.bytes_in += env.size
            self.last_in = env.mono
            self._received(env, index)

    def take_changes(self) -> bool:
        """Whether anything changed since the last call."""
        changed, self.changed = self.changed, False
        return changed

    def _local(self, env: Envelope) -> None:
        if env.type == "rt.connection":
            state = text(env.data.get("state"))
            if state:
                self.state = state
            target = text(env.data.get("target"))
            if target:
                self.target = target
            if state == "connecting":
                self._new_connection()
                if self.target:
                    self.targets[self.epoch] = self.target
                self.started[self.epoch] = env.wall
            elif state in ENDED_STATES:
                self.reason = text(env.data.get("message"))
                self._nothing_awaited()
        elif env.type == "rt.malformed":
            self.malformed += 1

    def _new_connection(self) -> None:
        self.epoch += 1
        self.frames_in = self.frames_out = self.bytes_in = self.bytes_out = 0
        self.reason = ""
        self.session_id = ""
        self.applied = None
        self.requested = None
        self.updates_applied = 0
        self.rate_limits = []
        self._nothing_awaited()
        self.last_in = self.asked_at = None
        self._update_ids.clear()
        self._last_update = -1
        self._awaiting_updates.clear()

    def _received(self, env: Envelope, index: int) -> None:
        etype = env.type
        kind = _KINDS.get(etype)
        if kind is None:
            kind = _kind_of(etype)
            if len(_KINDS) < _KINDS_MAX:
                _KINDS[etype] = kind
        if kind == _Kind.PLAIN:
            return  # the common case (deltas): nothing to note beyond the counters
        if kind == _Kind.LOCAL:
            if etype == "rt.malformed":
                self.malformed += 1
            return
        if kind == _Kind.UNKNOWN:
            self.unknown_types[etype] = self.unknown_types.get(etype, 0) + 1
            return
        if kind == _Kind.BETA:
            self.dialect = Dialect.BETA if self.dialect is None else self.dialect
        elif kind == _Kind.GA:
            self.dialect = _GA
        if etype in (
            "session.created",
            "session.updated",
            "transcription_session.created",
            "transcription_session.updated",
        ):
            session = obj_field(env.data, "session")
            self.applied = session
            self.session_id = text(session.get("id")) or self.session_id
            if self.session_id:
                self.session_ids[self.epoch] = self.session_id
            self.model = text(session.get("model")) or self.model
            if etype.endswith(".updated"):
                self.updates_applied += 1
                if self._awaiting_updates:
                    self._awaiting_updates.popleft()  # the oldest update's answer
            if self.dialect is None:
                # A session that holds neither shape's fields (a scripted test peer, a minimal local
                # server: `{"id": ...}`) says nothing: the next frame that does decides.
                self.dialect = session_dialect(session)
        elif etype == "error":
            self.errors += 1
            # It may answer a response.create: none is counted as awaited any more (better silent
            # than a "server quiet" that waits for a response the server has refused).
            self.creates_unanswered = 0
            self._refused(obj_field(env.data, "error"), env, index)
        elif etype == "response.created":
            self.active_response = text(obj_field(env.data, "response").get("id")) or None
            self.creates_unanswered = max(0, self.creates_unanswered - 1)
        elif etype == "input_audio_buffer.committed":
            item_id = text(env.data.get("item_id"))
            if item_id and self.transcription_model is not None and len(self.transcripts_awaited) < MAX_AWAITED:
                self.transcripts_awaited.add(item_id)
        elif etype == "conversation.item.input_audio_transcription.completed":
            self.transcripts_awaited.discard(text(env.data.get("item_id")))
        elif etype == "response.done":
            if text(obj_field(env.data, "response").get("id")) == self.active_response:
                self.active_response = None
        elif etype == "rate_limits.updated":
            limits = env.data.get("rate_limits")
            if isinstance(limits, list):
                self.rate_limits = [entry for entry in limits if isinstance(entry, dict)]
        elif etype.endswith(".failed"):
            self.errors += 1
            self.transcripts_awaited.discard(text(env.data.get("item_id")))

    def _refused(self, error: dict[str, Any], env: Envelope, index: int) -> None:
        """Note the update error `index` refused: the one its `event_id` names, or, without one, the
        oldest not answered yet when its code or param ties it to a session update."""
        event_id = text(error.get("event_id"))
        if event_id:
            update = self._update_ids.get(event_id)
        elif _UPDATE_TYPES & set(cause_types(text(error.get("code")), text(error.get("param")))):
            update = self._awaiting_updates[0] if self._awaiting_updates else None
        else:
            return
        if update is None:
            return
        if update in self._awaiting_updates:
            self._awaiting_updates.remove(update)  # answered: the next error or updated is another's
        self.rejections.append(Rejection(update, index, error_summary(env.data)))

    def _nothing_awaited(self) -> None:
        """A connection ended or began: the server's work in flight ended with the old one."""
        self.active_response = None
        self.creates_unanswered = 0
        self.transcripts_awaited.clear()

    # -- views ------------------------------------------------------------------------------

    def _waiting(self) -> bool:
        """Whether the session waits for anything from the server (`awaited`, without the words)."""
        return bool(
            self.active_response is not None
            or self.creates_unanswered
            or self.transcripts_awaited
            or self._awaiting_updates
        )

    def awaited(self) -> str:
        """What the session waits for from the server, in words ("a response in progress, a
        transcript"), or "" when nothing: what a server gone quiet holds up."""
        waits: list[str] = []
        if self.active_response is not None:
            waits.append("a response in progress")
        elif self.creates_unanswered:
            waits.append("a response.create unanswered")
        if self.transcripts_awaited:
            n = len(self.transcripts_awaited)
            waits.append("a transcript" if n == 1 else f"{n} transcripts")
        if self._awaiting_updates:
            waits.append("a session.update unanswered")
        return ", ".join(waits)

    def quiet_for(self, now: float) -> float:
        """Seconds since the server's last frame while the session waits for something from it (0
        when it waits for nothing, or the connection is not open)."""
        if self.state != "open" or self.last_in is None or not self._waiting():
            return 0.0
        since = self.last_in if self.asked_at is None else max(self.last_in, self.asked_at)
        return max(0.0, now - since)

    @property
    def ended(self) -> bool:
        """True once the connection has closed or failed."""
        return self.state in ENDED_STATES

    @property
    def transcription_model(self) -> str | None:
        """The input transcription model the server applied, or None when transcription is off."""
        if self.applied is None:
            return None
        config = transcription_config(self.applied)
        return (text(config.get("model")) or "on") if config is not None else None

    @property
    def turn_detection(self) -> str | None:
        """The applied turn detection type, or None for manual (push-to-talk) turns."""
        if self.applied is None:
            return None
        config = turn_detection_config(self.applied)
        return (text(config.get("type")) or "vad") if config is not None else None

    @property
    def states_turns(self) -> bool:
        """Whether the applied session states its turn detection, null included (a minimal server's
        `{"id": ...}` does not: what it does is unknown, not manual turns)."""
        return self.applied is not None and holds_turn_detection(self.applied)

    @property
    def states_transcription(self) -> bool:
        """Whether the applied session states its input transcription, null included."""
        return self.applied is not None and holds_transcription(self.applied)

    @property
    def updates_awaiting(self) -> int:
        """Our `session.update` frames the server has not answered yet (applied or refused)."""
        return len(self._awaiting_updates)

    @property
    def last_update_rejected(self) -> bool:
        """True when the server refused the last `session.update` we sent: `applied` is what it kept."""
        return bool(self.rejections) and self.rejections[-1].update_index == self._last_update

    def describe(self, *, short: bool = False) -> str:
        """One line: who ends turns and whether input is transcribed; or why the session ended.

        `short` (a narrow status line): whether input is transcribed, and a rejected update, alone:
        that is what a user debugging a null transcript must still see at 80 columns."""
        if self.ended:
            return self.reason or self.state
        if self.applied is None:
            if not self.rejections:
                return ""
            return (
                "session.update rejected"
                if short
                else "session.update rejected: the server kept its previous configuration"
            )
        model = self.transcription_model
        transcription = f"transcribe: {model}" if model else "no input transcription"
        if not self.states_transcription:  # a minimal server's session: absent is not off
            transcription = "transcription not stated"
        if short:
            return f"{transcription} · update rejected" if self.last_update_rejected else transcription
        turns = (self.turn_detection or "manual turns") if self.states_turns else "turns not stated"
        # GA is the default; a beta server (an Azure preview deployment, `--local-dialect beta`) is
        # named, since its event names and session shape differ from what the docs show today.
        dialect = "beta dialect · " if self.dialect is Dialect.BETA else ""
        applied = f"{dialect}{turns} · {transcription}"
        # What is in force first (whether input is transcribed must survive a narrow line), then why,
        # as a whole phrase: "session.update rejected: kept" read as a line cut off mid-sentence.
        return f"{applied} · {KEPT_AFTER_REJECTION}" if self.last_update_rejected else applied


class _FormatChanges:
    """Where a journal's session audio formats were applied: the index of each session event the
    server sent, and the rates it said, in order (read up to `scanned`). Exports ask from a worker
    thread while the log asks from the UI's: a lock keeps one reader at a time."""

    __slots__ = ("scanned", "indices", "rates", "responses", "lock")

    def __init__(self) -> None:
        self.scanned = 0
        self.indices: list[int] = []
        self.rates: list[AudioRates] = []
        self.responses: dict[str, int] = {}
        """Output bytes per ms of the responses that chose their own format (`response.create`'s
        `audio.output.format`, beta `output_audio_format`), by response id."""
        self.lock = threading.Lock()

    def read(self, journal: Journal) -> None:
        """Take in the frames appended since the last call: a type read per frame (in C, by map),
        and a parse only of the few session events."""
        stop = len(journal)
        start, self.scanned = self.scanned, stop
        for index, etype in enumerate(map(journal.type_at, range(start, stop)), start):
            if etype in _SESSION_EVENTS and journal[index].direction is not DIR_OUT:
                self.indices.append(index)
                self.rates.append(session_rates(obj_field(_parsed(journal, index), "session")))
            elif etype == "response.created":
                response = obj_field(_parsed(journal, index), "response")
                rate = response_output_rate(response)
                if rate is not None:  # a response that names no format plays the session's
                    self.responses[text(response.get("id"))] = rate


def _parsed(journal: Journal, index: int) -> dict[str, Any]:
    """Frame `index` parsed, without `journal.data()`: its re-parse cache is the UI thread's."""
    frame = journal[index]
    if frame.data is not None:
        return frame.data
    try:
        value = json.loads(frame.raw or "")
    except ValueError:
        return {}  # the payload left memory: its formats are unknown (24 kHz PCM16 is assumed)
    return value if isinstance(value, dict) else {}


_CHANGES: weakref.WeakKeyDictionary[Journal, _FormatChanges] = weakref.WeakKeyDictionary()
_CHANGES_LOCK = threading.Lock()


def audio_rates_at(journal: Journal, index: int) -> AudioRates:
    """The audio formats (bytes per ms, input and output) the session had applied when frame `index`
    passed: those of the last `session.created`/`updated` before it in its connection, else 24 kHz
    PCM16. Read when a row is drawn or a frame exported, never per frame as it arrives: the journal
    is scanned once, incrementally, and each answer is a bisection."""
    changes = _CHANGES.get(journal)
    if changes is None:
        with _CHANGES_LOCK:
            changes = _CHANGES.setdefault(journal, _FormatChanges())
    with changes.lock:
        if changes.scanned < len(journal):
            changes.read(journal)
        at = bisect_left(changes.indices, index) - 1
        found = changes.indices[at] if at >= 0 else -1
        rates = changes.rates[at] if at >= 0 else PCM16_RATES
        responses = changes.responses
    if found < 0 or journal[found].epoch != journal[index].epoch:
        rates = PCM16_RATES  # none yet in this connection: the API's default
    if responses and journal.type_at(index) in _OUTPUT_DELTAS:
        own = responses.get(journal[index].response_id or "")
        if own is not None:
            rates = rates._replace(output=own)
    return rates


_OUTPUT_DELTAS: Final = frozenset({"response.output_audio.delta", "response.audio.delta"})
