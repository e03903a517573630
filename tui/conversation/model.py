"""The conversation as rt-tui shows it: items in conversation order, each with its text state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from tui.protocol import short_target
from tui.protocol.records import UNIX_TIME_FLOOR


class Origin(StrEnum):
    """How an item entered the conversation (or, out of band, did not): who made it, and whether
    the server will transcribe it."""

    BUFFER = "buffer"
    """User audio committed from the input buffer: the only audio the server transcribes."""
    CREATE = "create"
    """Added by the client with `conversation.item.create` (typed text, audio, a function output…):
    no response made it, and the server never transcribes its audio."""
    RESPONSE = "response"
    """Produced by a response (`response.output_item.*` or a response's deltas)."""
    OUT_OF_BAND = "out_of_band"
    """Produced by an out-of-band response (`response.create` with `conversation: "none"`; the
    server says `conversation_id: null`): kept so the developer sees it, but it never entered the
    conversation, and the model will not remember it."""


class TextState(StrEnum):
    """Where an item's text stands."""

    SPEAKING = "speaking"
    """Server VAD heard speech start; the item is not committed yet."""
    TRANSCRIBING = "transcribing"
    """Committed with transcription on; no text yet."""
    STREAMING = "streaming"
    """Deltas are arriving."""
    DONE = "done"
    FAILED = "failed"
    TRANSCRIPTION_OFF = "transcription_off"
    """Committed while the session had input transcription off: no text will come."""
    NOT_TRANSCRIBED = "not_transcribed"
    """Audio added with `conversation.item.create`: the server does not transcribe it."""
    INTERRUPTED = "interrupted"
    """The connection ended while this text was still coming: what arrived is kept, no more will."""
    UNRECORDED = "unrecorded"
    """A replayed recording ends while this text was still coming, with no end of its connection
    in it (a browser's HAR saved mid-turn, a log cut short): the rest is not in the recording."""


NO_OUTPUT = "no_output"
"""The kind of the row of a response that ended early before it made any item: the reply that
never came, with why (`Item.status`, `Item.status_reason`)."""

NO_OUTPUT_PREFIX = "rt-no-output-"
"""The id of a `NO_OUTPUT` row: this, then its response's id (a server's ids are its own: a response
id equal to an item id took that item's row)."""

SENT_ROW_PREFIX = "rt-sent-"
"""The id of a row made from a create we sent without an item id, until the server's echo names it
(`rt-sent-1`, `rt-sent-2`…)."""


@dataclass(slots=True)
class Item:
    """One conversation item (message, function call or function output)."""

    id: str
    role: str
    kind: str = "message"
    origin: Origin = Origin.RESPONSE
    text: str = ""
    state: TextState = TextState.STREAMING
    status: str = "in_progress"
    status_reason: str | None = None
    """Why the response that made the item ended early, as its `response.done` says
    (`status_details`: `turn_detected`, `client_cancelled`, `max_output_tokens`, a failed response's
    `code: message`); None when it did not, or did not say."""
    status_code: str | None = None
    """The error code of the failed response that made the item (`status_details.error.code`, else
    its `type`), when it gave one as an object: `status_reason` begins with it."""
    error: str | None = None
    has_audio: bool = False
    response_id: str | None = None
    name: str | None = None
    call_id: str | None = None
    audio_end_ms: int | None = None
    """Set when the item was truncated to what the user heard."""
    audio_ms: float = 0.0
    """Milliseconds of the item's output audio received (its deltas, at the response's format)."""
    committed_at: float | None = None
    """Monotonic time of `input_audio_buffer.committed` (for latency figures)."""
    text_done_at: float | None = None
    """Monotonic time the final text arrived."""
    deltas: int = 0
    usage: dict[str, object] = field(default_factory=dict)
    wall: float | None = None
    """Wall-clock time the item appeared (for exports)."""
    sent_seq: int | None = None
    """The seq of the `conversation.item.create` we sent that made the row, if one did: how the
    event log finds the frame of a row the server never echoed (it has no id of the server's)."""
    transcribed: bool = False
    """`text` is the server's final transcript of this item's input audio (`…transcription.completed`):
    no other event replaces it, only a later `.completed` (or `.failed`, which marks the row)."""
    connection: int = 0
    """The connection it came in (1 for the first; 0 before any): whose server session it belongs
    to, for an export of a conversation across a reconnect."""

    @property
    def out_of_band(self) -> bool:
        """Made by an out-of-band response: shown beside the conversation, never part of it."""
        return self.origin is Origin.OUT_OF_BAND

    @property
    def transcription_latency(self) -> float | None:
        """Seconds from commit to the final transcript, when both are known."""
        if self.committed_at is None or self.text_done_at is None:
            return None
        return self.text_done_at - self.committed_at

    @property
    def heard_split(self) -> tuple[str, str] | None:
        """`display_text` cut where the user stopped hearing it, for an item truncated before the
        end of its audio: (heard, unheard), else None.

        The server says only how much audio was heard (`audio_end_ms`), not which words: the cut is
        placed at the same share of the text as of the audio received (speech runs at a roughly
        even pace per character), moved to the nearest break between words. An estimate: the
        model remembers the audio up to the cut, and the server drops its own transcript there.
        """
        heard_ms, total = self.audio_end_ms, self.audio_ms
        if heard_ms is None or total <= 0 or heard_ms >= total or not self.text.strip():
            return None
        shown = self.display_text
        cut = word_break(shown, round(len(shown) * max(heard_ms, 0) / total))
        if not shown[cut:].strip():
            return None  # heard to within its last word (`audio_end_ms` is whole ms of a longer float)
        return shown[:cut], shown[cut:]

    @property
    def status_message(self) -> str:
        """The failed response's error message, its code (`status_code`) taken off `status_reason`;
        empty when the error gave no code or no message."""
        code, reason = self.status_code, self.status_reason or ""
        return reason.removeprefix(f"{code}: ").strip() if code and reason.startswith(f"{code}: ") else ""

    @property
    def display_text(self) -> str:
        """The text to show, with the state spelled out where there is none yet."""
        if self.text.strip():
            return self.text.strip()  # whisper-1 deltas end in a newline
        if self.kind == NO_OUTPUT:
            return "(no reply: the response ended before it made any output)"
        return {
            TextState.SPEAKING: "(speaking…)",
            TextState.TRANSCRIBING: "(transcribing…)",
            TextState.STREAMING: "…",
            TextState.DONE: "(empty)",
            TextState.FAILED: "(transcription failed)",
            TextState.TRANSCRIPTION_OFF: "(audio; input transcription is off in this session)",
            TextState.NOT_TRANSCRIBED: "(audio sent with conversation.item.create: the server does not transcribe it)",
            TextState.INTERRUPTED: "(the connection ended before any text arrived)",
            TextState.UNRECORDED: "(the recording ends before any text arrived)",
        }[self.state]


def word_break(text: str, at: int) -> int:
    """The break between words in `text` nearest to offset `at` (its start or end when that is
    nearer): where a cut at `at` falls without splitting a word."""
    if at <= 0 or at >= len(text):
        return max(0, min(at, len(text)))
    if text[at].isspace() or text[at - 1].isspace():
        return at
    before = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at))
    after = min((i for i in (text.find(" ", at), text.find("\n", at)) if i >= 0), default=len(text))
    start = before + 1  # -1 (no break before) makes the text's start
    return start if at - start <= after - at else after


def session_separator(connection: int, lead: str, target: str, wall: float | None) -> Item:
    """The row that begins connection `connection`'s part of the conversation: `lead` ("new session"
    after a reconnect; "session" for the first one's, in an export), its target, and the time of day
    it began when `wall` is a Unix time (a log without times has its lines' order: 00:00:00 read as
    midnight)."""
    when = wall if wall is not None and wall >= UNIX_TIME_FLOOR else None
    stamp = f" · {time.strftime('%H:%M:%S', time.localtime(when))}" if when is not None else ""
    where = f" to {short_target(target)}" if target else ""
    return Item(
        id=f"rt-session-{connection}",
        role="session",
        kind="separator",
        text=f"{lead}{where}{stamp}",
        state=TextState.DONE,
        status="completed",
        wall=wall,
        connection=connection,
    )
