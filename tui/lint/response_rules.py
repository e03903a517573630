"""Rules about responses: one at a time in the default conversation, truncation, cancellation.

State: the default-conversation response in progress, and per assistant item the bytes of audio
the server sent for it (sizes from the base64 length, or a size tag's; nothing is decoded) and the
format they are in: the one its response's `response.created` states (a `response.create` may choose
its own), else the session's.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

from tui.protocol import Direction, Envelope, obj, text
from tui.protocol.session_config import turn_detection_config
from tui.protocol.summary import audio_bytes

from .context import Context, ServerError, duration
from .finding import plain, shown
from .shapes import AudioFormat, response_output_format

MAX_ITEMS_REMEMBERED = 10_000
MAX_UNANSWERED = 32
"""response.create and response.cancel frames remembered while they wait for their answer."""
MAX_FORMATS_REMEMBERED = 1_000
"""Responses whose output format is remembered (until their response.done) when no done comes."""


class _ItemAudio:
    """The audio the server sent for one assistant item."""

    __slots__ = ("sent", "first", "deltas", "fmt", "own", "cut", "cut_index")

    def __init__(self, sent: int, first: int, fmt: AudioFormat, own: bool) -> None:
        self.sent = sent
        """Bytes of audio."""
        self.first = first
        """Journal index of its first delta."""
        self.deltas = 1
        self.fmt = fmt
        """Their format: their response's own, else the session's when the first came."""
        self.own = own
        """The response chose `fmt`, another than the session's (a finding says so)."""
        self.cut: int | None = None
        """The audio_end_ms of the server's last `conversation.item.truncated` for it: the item's audio
        is that long now, and a later truncate past it is refused."""
        self.cut_index = 0
        """Journal index of that `conversation.item.truncated`."""


class ResponseRules:
    """`response.create` while one is active, `conversation.item.truncate`, `response.cancel` errors."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._active: str | None = None
        self._active_index: int | None = None
        self._active_shown = ""
        self._active_by_client = False
        """The active response answered a response.create of the client's (not one server VAD may have started)."""
        self._vad_turn = False
        """Under server VAD, a turn was committed since the last response.created: the server may answer it."""
        self._flagged: dict[int, tuple[str, int]] = {}
        """response.create frames found sent while a response was active → (that response, its
        response.created): the server's error refusing one is added to its finding."""
        self._creates: deque[int] = deque(maxlen=MAX_UNANSWERED)
        """Default-conversation response.create frames not yet answered (by response.created or an error),
        oldest first: an error without event_id is about the oldest (the server answers in order)."""
        self._last_create: int | None = None
        """The last response.create sent, until an error names it: under server VAD the server's own
        response.created may take a create's place in `_creates`, and an error then is about this one."""
        self._cancels: deque[int] = deque(maxlen=MAX_UNANSWERED)
        """response.cancel frames not yet answered (by a cancelled response.done or an error), oldest first."""
        self._truncates: deque[tuple[int, bool]] = deque(maxlen=MAX_UNANSWERED)
        """conversation.item.truncate frames not yet answered (by conversation.item.truncated or an error),
        oldest first, each with whether a finding foretold its refusal (the error is then added to it)."""
        self._audio: dict[str, _ItemAudio] = {}
        """item_id → the audio sent for it."""
        self._formats: dict[str, AudioFormat] = {}
        """response id → the output format its response.created states (a response.create may choose
        one for its response alone), until its response.done; read at an item's first delta."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.IN, "response.created"): self._created,
            (Direction.IN, "response.done"): self._done,
            (Direction.IN, "input_audio_buffer.committed"): self._committed,
            (Direction.IN, "response.output_audio.delta"): self._audio_delta,
            (Direction.IN, "response.audio.delta"): self._audio_delta,
            (Direction.OUT, "response.create"): self._create,
            (Direction.OUT, "response.cancel"): self._cancel,
            (Direction.OUT, "conversation.item.truncate"): self._truncate,
            (Direction.IN, "conversation.item.truncated"): self._truncated,
            (Direction.LOCAL, "rt.connection"): self._connection,
        }

    def reset(self) -> None:
        """A new connection."""
        self._active = self._active_index = None
        self._active_by_client = self._vad_turn = False
        self._audio.clear()
        self._formats.clear()
        self._creates.clear()
        self._cancels.clear()
        self._truncates.clear()
        self._last_create = None

    def _connection(self, env: Envelope, index: int) -> None:
        if env.data.get("state") in ("closed", "failed"):
            self._active = self._active_index = None

    def _created(self, env: Envelope, index: int) -> None:
        response = obj(env.data.get("response"))
        fmt = response_output_format(response)
        if fmt is not None:
            if len(self._formats) >= MAX_FORMATS_REMEMBERED:
                del self._formats[next(iter(self._formats))]  # its response.done never came
            self._formats[text(response.get("id"))] = fmt
        if "conversation_id" in response and response["conversation_id"] is None:
            return  # out of band (conversation "none"): runs beside the default conversation's response
        # The oldest create is answered (or VAD started it after a turn: a guess either way).
        self._active_by_client = bool(self._creates) and not self._vad_turn
        self._vad_turn = False
        if self._creates:
            answered = self._creates.popleft()
            if self._active_by_client and answered in self._flagged:
                self._accepted(answered, index)
        self._active = text(response.get("id")) or "(no id)"
        self._active_shown = plain(self._active, 80)
        self._active_index = index

    def _done(self, env: Envelope, index: int) -> None:
        response = obj(env.data.get("response"))
        if self._cancels and response.get("status") == "cancelled":
            if obj(response.get("status_details")).get("reason") != "turn_detected":  # VAD's barge-in is not ours
                self._cancels.popleft()
        response_id = text(response.get("id"))
        self._formats.pop(response_id, None)
        if response_id in ("", self._active):
            self._active = self._active_index = None

    def _committed(self, env: Envelope, index: int) -> None:
        if _vad_responds(self.ctx):
            self._vad_turn = True

    def _audio_delta(self, env: Envelope, index: int) -> None:
        delta = env.data.get("delta")
        item_id = env.data.get("item_id")
        if not isinstance(delta, str) or not isinstance(item_id, str):
            return
        entry = self._audio.get(item_id)
        if entry is None:
            if len(self._audio) >= MAX_ITEMS_REMEMBERED:
                del self._audio[next(iter(self._audio))]
            # An item's audio is all its response's: its format is looked up once, at the first delta.
            session = self.ctx.output_format
            fmt = self._formats.get(text(env.data.get("response_id")), session) if self._formats else session
            self._audio[item_id] = _ItemAudio(audio_bytes(delta), index, fmt, fmt != session)
        else:
            entry.sent += audio_bytes(delta)
            entry.deltas += 1
            if entry.cut is not None:
                entry.cut = None  # audio after the cut: how long the item is now is not known

    def _cancel(self, env: Envelope, index: int) -> None:
        """The server takes client events in order: once it has our cancel of the active response, a
        `response.create` sent after it is not refused for that response (barge-in sends the two
        back to back). Should the server still refuse it, its error is explained on its own."""
        self._cancels.append(index)
        response_id = text(env.data.get("response_id"))
        if response_id in ("", self._active):
            self._active = self._active_index = None

    def _create(self, env: Envelope, index: int) -> None:
        if obj(env.data.get("response")).get("conversation") == "none":
            return  # out of band: allowed beside the active response
        self._creates.append(index)
        self._last_create = index
        if self._active is None or self._active_index is None:
            return
        ctx = self.ctx
        if len(self._flagged) >= MAX_UNANSWERED:
            del self._flagged[next(iter(self._flagged))]  # its error never came (a log of the client's side)
        self._flagged[index] = (self._active_shown, self._active_index)
        ctx.emit(
            "response-while-active",
            _while_active(ctx, index, self._active_shown, self._active_index, None),
            _ACTIVE_FIX,
            (index, self._active_index),
        )

    def _truncated(self, env: Envelope, index: int) -> None:
        if self._truncates:
            self._truncates.popleft()  # the server answers in order
        entry = self._audio.get(text(env.data.get("item_id")))
        end = env.data.get("audio_end_ms")
        if entry is not None and _non_negative_int(end):
            entry.cut, entry.cut_index = end, index

    def _truncate(self, env: Envelope, index: int) -> None:
        self._truncates.append((index, self._judge_truncate(env, index)))

    def _judge_truncate(self, env: Envelope, index: int) -> bool:
        """Say what is wrong with a truncate; True when a finding says the server refuses it."""
        ctx, data = self.ctx, env.data
        problems = [
            problem
            for problem in (
                _field_problem(data, "item_id", "the assistant item's id", lambda v: isinstance(v, str) and bool(v)),
                _field_problem(data, "content_index", "an integer (0)", _non_negative_int),
                _field_problem(data, "audio_end_ms", "an integer number of milliseconds", _non_negative_int),
            )
            if problem
        ]
        if problems:
            ctx.emit(
                "truncate-missing-fields",
                f"{ctx.name(index)} {'; '.join(problems)}: the server needs item_id, content_index and audio_end_ms "
                "and refuses the truncate, so the item keeps all its audio and text, the unheard part included.",
                'Send {"type": "conversation.item.truncate", "item_id": <assistant item id>, "content_index": 0, '
                '"audio_end_ms": <milliseconds actually played>}.',
                (index,),
            )
            return True
        item_id, end = data["item_id"], data["audio_end_ms"]
        entry = self._audio.get(item_id)
        if entry is None:
            return False
        if entry.cut is not None and end > entry.cut:
            ctx.emit(
                "truncate-past-audio",
                f"{ctx.name(index)} cuts item {plain(item_id, 80)} at audio_end_ms {end}, but "
                f"{ctx.name(entry.cut_index)} already cut it at {entry.cut} ms: it refuses the truncate (the audio "
                f"is already shorter than {end} ms), and the item keeps its first cut.",
                "Truncate an item once, where its playback stopped: a truncate only shortens the audio the server "
                f"kept, so a later one can be at most the first's audio_end_ms (here {entry.cut} ms).",
                (index, entry.cut_index),
            )
            return True
        sent, first, deltas, fmt = entry.sent, entry.first, entry.deltas, entry.fmt
        sent_ms = math.ceil(sent / fmt.bytes_per_ms)
        if end <= sent_ms:
            return False
        where = (
            f"one audio delta, {ctx.name(first)}" if deltas == 1 else f"{deltas} audio deltas from {ctx.name(first)}"
        )
        own = f" of {fmt.label}, its response's own format," if entry.own else ""
        ctx.emit(
            "truncate-past-audio",
            f"{ctx.name(index)} cuts item {plain(item_id, 80)} at audio_end_ms {end}, but the server sent only "
            f"{duration(sent, fmt)} of audio for it ({sent:,} bytes{own} in {where}): it refuses the truncate (the "
            f"audio is already shorter than {end} ms), so the item keeps all its audio and text: if playback stopped "
            "before its end, the model's context still holds words the user never heard.",
            f"Compute audio_end_ms from the samples actually played (bytes played ÷ {fmt.bytes_per_ms} for "
            f"{fmt.label}), never from wall-clock time; it can be at most the audio received for the item (here "
            f"{sent_ms} ms).",
            (index, first),
        )
        return True

    def explain_error(self, error: ServerError) -> bool:
        """Take an `error` about a response; True when a finding already says (or now says) it."""
        ctx = self.ctx
        cause = error.cause
        if error.code == "conversation_already_has_active_response":
            cause = _answered(self._creates, cause)
            if cause is None:
                cause = self._last_create
            if cause == self._last_create:
                self._last_create = None
            if cause is not None and cause in self._flagged:
                self._confirm(cause, error)  # its finding, made when it was sent, foretold it
                return True
            subject = ctx.name(cause) if cause is not None else "A response.create"
            # Only a response the client did not ask for can be the server's own.
            by_vad = _vad_responds(ctx) and not (self._active is not None and self._active_by_client)
            vad = " (with server VAD on, the server starts one itself when a turn ends)" if by_vad else ""
            ctx.emit(
                "response-while-active",
                f"{subject} was refused by {ctx.name(error.index)} ({error.summary}): a response was already "
                f"running in the default conversation{vad}.",
                _ACTIVE_FIX,
                tuple(i for i in (cause, error.index) if i is not None),
            )
            return True
        if self._truncates and self._refuses_truncate(error):
            return True
        if error.code == "response_cancel_not_active":
            cause = _answered(self._cancels, cause)
            subject = ctx.name(cause) if cause is not None else "A response.cancel"
            ctx.emit(
                "cancel-not-active",
                f"{subject} was answered by {ctx.name(error.index)} ({error.summary}): no response was in progress "
                "to cancel. Harmless (nothing changes), but the client's idea of the active response is out of "
                "date.",
                "Cancel only between response.created and its response.done (track the active response id from "
                "those events), and pass response_id so a late cancel cannot hit a newer response.",
                tuple(i for i in (cause, error.index) if i is not None),
            )
            return True
        return False

    def _refuses_truncate(self, error: ServerError) -> bool:
        """True when `error` refuses a truncate a finding foretold it would (that finding now names it):
        the truncate its event_id names, or without one the oldest waiting, when the error is about a
        truncate (its content_index or audio_end_ms, or a truncate code)."""
        cause = error.cause
        # An error about some other item event may name item_id too: only these are a truncate's.
        if cause is None and error.param not in ("content_index", "audio_end_ms") and "truncat" not in error.code:
            return False
        waiting = next((entry for entry in self._truncates if cause in (None, entry[0])), None)
        if waiting is None:
            return False
        self._truncates.remove(waiting)
        truncate, foretold = waiting
        if not foretold:
            return False
        ctx = self.ctx
        finding = next((f for f in ctx.blamed(truncate) if f.rule.startswith("truncate-")), None)
        if finding is not None:
            said = f" The server refused it: {ctx.name(error.index)} ({error.summary})."
            ctx.amend(finding, finding.message + said, (*finding.frames, error.index))
        return True

    def _accepted(self, create: int, created: int) -> None:
        """The server answered `create`, found sent while a response ran, with `created` (no error):
        that response had ended on the server before the create reached it, its response.done still
        on its way to the client. The finding said the server refuses it: it now says what happened."""
        ctx = self.ctx
        active_shown, active_index = self._flagged.pop(create)
        finding = next((f for f in ctx.blamed(create) if f.rule == "response-while-active"), None)
        if finding is None:
            return
        message = (
            f"{ctx.name(create)} was sent while response {active_shown} ({ctx.name(active_index)}) was still in "
            "progress as far as the client could tell (its response.done had not come): only one response at a "
            "time may write to the default conversation, and a server still running it refuses the create "
            f"(conversation_already_has_active_response). This time the server accepted it ({ctx.name(created)}): "
            "the response had ended on the server before the create reached it. A race the client won here and "
            "loses whenever the server is slower."
        )
        ctx.amend(finding, message, (*finding.frames, created))

    def _confirm(self, create: int, error: ServerError) -> None:
        """The server's `error` refusing `create`, found when it was sent: its finding now says so."""
        ctx = self.ctx
        active_shown, active_index = self._flagged.pop(create)
        finding = next((f for f in ctx.blamed(create) if f.rule == "response-while-active"), None)
        if finding is not None:
            message = _while_active(ctx, create, active_shown, active_index, error)
            ctx.amend(finding, message, (*finding.frames, error.index))


def _vad_responds(ctx: Context) -> bool:
    """Server VAD is on and starts a response for each turn it commits (create_response not false)."""
    if not ctx.vad or ctx.applied is None:
        return ctx.vad
    return obj(turn_detection_config(ctx.applied)).get("create_response") is not False


def _while_active(ctx: Context, create: int, active: str, created: int, error: ServerError | None) -> str:
    """The message for `create` sent while response `active` (its response.created at `created`) runs:
    what the server does with it, or once its `error` came, what it did."""
    refused = (
        f"it was refused by {ctx.name(error.index)} ({error.summary})."
        if error is not None
        else "the server refuses this one (conversation_already_has_active_response)."
    )
    return (
        f"{ctx.name(create)} was sent while response {active} ({ctx.name(created)}) is still in progress: only one "
        f"response at a time may write to the default conversation, so {refused}"
    )


_ACTIVE_FIX = (
    "Wait for the active response's response.done before sending response.create, or cancel it (response.cancel) "
    "and wait for its response.done. With server VAD and create_response on, the server answers each turn itself: "
    "don't also send response.create. For a parallel response outside the conversation, set "
    'response.conversation "none".'
)


def _answered(waiting: deque[int], cause: int | None) -> int | None:
    """The frame an error answers, taken off `waiting`: `cause` (named by event_id), or without one the
    oldest waiting frame (the server answers in order), as the commit rule does."""
    if cause is None:
        return waiting.popleft() if waiting else None
    if cause in waiting:
        waiting.remove(cause)
    return cause


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _field_problem(data: dict[str, Any], key: str, expected: str, valid: Callable[[Any], bool]) -> str:
    if key not in data:
        return f"lacks {key}"
    if not valid(data[key]):
        return f"has {key} {shown(data[key])}, which is not {expected}"
    return ""
