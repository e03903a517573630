"""Rules about configuration frames: session.update and response.create shapes, dialect, rejections.

Checks that need the server's dialect (beta fields to a GA server and the reverse, a missing
`session.type`) wait until a server frame has said which dialect it speaks: a proxied client may
send its `session.update` before `session.created` arrives.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

from tui.journal.links import UNREADABLE_ANSWERS
from tui.protocol import Dialect, Direction, Envelope, obj, text
from tui.protocol.records import all_finite

from .context import Context, ServerError, describe_transcription
from .finding import Finding, plain, shown
from .shapes import (
    BETA_ONLY_RESPONSE,
    BETA_ONLY_SESSION,
    CLIENT_EVENTS_BETA_ONLY,
    CLIENT_EVENTS_BOTH,
    CLIENT_EVENTS_GA_ONLY,
    GA_ONLY_RESPONSE,
    GA_ONLY_SESSION,
    beta_format_problems,
    beta_modalities_problem,
    foreign_fields,
    format_problems,
    ga_modalities_problem,
)

MAX_WAITING = 32
"""Frames kept for dialect checks until the server's dialect is known."""
_UPDATES = ("session.update", "transcription_session.update")
_MALFORMED_FIX = "Send each event as one JSON object with a string type, in one text frame."
_GA_FORMAT_PATHS = (("audio", "input", "format"), ("audio", "output", "format"))
_RESPONSE_FORMAT_PATHS = (("audio", "output", "format"),)
_GA_SESSION_EXAMPLE = (
    '{"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, '
    '"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": null}, "output": {"voice": "marin"}}}'
)


_REFUSAL_FORETOLD = "The server answers it with an error (invalid_value on 'type') and does nothing."
"""What `unknown-client-event` says before the server's error comes; then it names that error."""


class ConfigRules:
    """`session.update`, `transcription_session.update`, `response.create`, and unknown client events."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._waiting: deque[tuple[int, Envelope]] = deque(maxlen=MAX_WAITING)
        self._unanswered = ctx.updates_unanswered
        """Session updates sent and not yet answered by `session.updated` or an error (shared: the input
        rules wait for an update's answer before judging a commit sent behind it)."""
        self._malformed_sent: deque[int] = deque(maxlen=MAX_WAITING)
        """Malformed frames the client sent, oldest first, whose `error` has not come yet."""
        self._refused_types: deque[int] = deque(maxlen=MAX_WAITING)
        """Frames of an event type the server does not accept (unknown to both dialects, or of the
        other dialect), already found, oldest first, whose `error` has not come yet."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.OUT, "session.update"): self._update,
            (Direction.OUT, "transcription_session.update"): self._update,
            (Direction.OUT, "response.create"): self._response_create,
            (Direction.OUT, "session.close"): self._dialect_later,
            (Direction.OUT, "session.input_audio_buffer.append"): self._dialect_later,
            (Direction.OUT, "rt.malformed"): self._malformed,
            (Direction.IN, "session.updated"): self._updated,
            (Direction.IN, "transcription_session.updated"): self._updated,
        }

    def reset(self) -> None:
        """A new connection."""
        self._waiting.clear()
        self._unanswered.clear()
        self._malformed_sent.clear()
        self._refused_types.clear()

    # -- frames -----------------------------------------------------------------------------

    def unknown_client_event(self, env: Envelope, index: int) -> None:
        """A frame we sent whose type no handler took: is it a client event at all?"""
        etype = env.type
        if etype in CLIENT_EVENTS_BOTH or etype.startswith("rt."):
            return
        ctx = self.ctx
        self._refused_types.append(index)
        ctx.emit(
            "unknown-client-event",
            f"{ctx.name(index)}: {shown(plain(etype, 80))} is not a client event of the GA or the beta interface. "
            + _REFUSAL_FORETOLD,
            "Use one of the client events: session.update, input_audio_buffer.append/commit/clear, "
            "conversation.item.create/retrieve/truncate/delete, response.create, response.cancel. Server event "
            "names (response.done, session.updated, …) are never sent by a client.",
            (index,),
        )

    def non_finite(self, env: Envelope, index: int) -> bool:
        """A frame the client sent with NaN or Infinity in it (Python's `json.dumps` writes them
        unless given `allow_nan=False`): not JSON, so the server refuses the whole frame.
        True when it was one (it is then judged as malformed, not as the event it names)."""
        if all_finite(env.data):
            return False
        self._malformed_report(
            index,
            "NaN or Infinity in it, which JSON has no spelling for",
            "Replace NaN and Infinity by a number or null before encoding (json.dumps(..., allow_nan=False) "
            "raises on them instead of writing them).",
        )
        return True

    def _malformed(self, env: Envelope, index: int) -> None:
        self._malformed_report(index, plain(text(env.data.get("message")), 200).rstrip(". "))

    def _malformed_report(self, index: int, reason: str, fix: str = _MALFORMED_FIX) -> None:
        ctx = self.ctx
        self._malformed_sent.append(index)
        ctx.emit(
            "malformed-client-frame",
            f"{ctx.name(index)}: the client sent a frame that is not a JSON event"
            f"{f' ({reason})' if reason else ''}: the server answers with an error (invalid_json, or invalid_event "
            "for a binary frame or one without a type) and ignores the frame.",
            fix,
            (index,),
        )

    def _update(self, env: Envelope, index: int) -> None:
        self._unanswered.append(index)
        session = env.data.get("session")
        if isinstance(session, dict):
            self._session_values(env, index, session)
        self._dialect_later(env, index)

    def _updated(self, env: Envelope, index: int) -> None:
        if self._unanswered:
            self._unanswered.popleft()

    def _response_create(self, env: Envelope, index: int) -> None:
        response = obj(env.data.get("response"))
        self._modalities(index, response, "response", "response.create", "no response starts")
        problems = format_problems(response, _RESPONSE_FORMAT_PATHS, "response")
        problems += beta_format_problems(response, ("output_audio_format",), "response")
        self._formats(index, problems, "response.create", "no response starts", None)
        self._dialect_later(env, index)

    def _session_values(self, env: Envelope, index: int, session: dict[str, Any]) -> None:
        what = env.type
        self._modalities(index, session, "session", what, "nothing in it takes effect")
        problems = format_problems(session, _GA_FORMAT_PATHS, "session")
        problems += beta_format_problems(session, ("input_audio_format", "output_audio_format"), "session")
        self._formats(index, problems, what, "nothing in it takes effect", session)

    def _modalities(self, index: int, config: dict[str, Any], prefix: str, what: str, consequence: str) -> None:
        ctx = self.ctx
        for key, judge, fix in (
            (
                "output_modalities",
                ga_modalities_problem,
                'Set output_modalities to ["audio"] (the model speaks; its words arrive as the audio transcript) '
                'or ["text"].',
            ),
            ("modalities", beta_modalities_problem, 'Set modalities to ["text", "audio"] or ["text"].'),
        ):
            if key not in config:
                continue
            problem = judge(config[key])
            if problem is None:
                continue
            ctx.emit(
                "output-modalities-refused",
                f"{ctx.name(index)}: {prefix}.{key} {problem}. The server refuses the whole {what} "
                f"(invalid_value), so {consequence}.",
                fix,
                (index,),
            )

    def _formats(
        self,
        index: int,
        problems: list[tuple[str, str]],
        what: str,
        consequence: str,
        session: dict[str, Any] | None,
    ) -> None:
        ctx = self.ctx
        also = ""
        if session is not None:
            audio_in = obj(obj(session.get("audio")).get("input"))
            if "transcription" in audio_in or "input_audio_transcription" in session:
                also = " (including the transcription settings in the same update: input audio stays untranscribed)"
        for where, problem in problems:
            if problem.startswith("rate"):
                ctx.emit(
                    "pcm-rate-not-24000",
                    f"{ctx.name(index)}: {where} declares audio/pcm at {problem}: the service accepts only 24000 "
                    f"and refuses the whole {what}, so {consequence}{also}. Audio sent at another rate is still "
                    "taken as 24 kHz: it plays at the wrong speed and pitch.",
                    'Declare {"type": "audio/pcm", "rate": 24000} and resample the audio to 24 kHz mono PCM16 '
                    "before sending it (audio/pcmu or audio/pcma carry 8 kHz telephony audio).",
                    (index,),
                )
            else:
                ctx.emit(
                    "audio-format-unknown",
                    f"{ctx.name(index)}: {where} {problem}; the server refuses the whole {what}, so "
                    f"{consequence}{also}.",
                    'Use {"type": "audio/pcm", "rate": 24000}, {"type": "audio/pcmu"} or {"type": "audio/pcma"} '
                    "(beta: pcm16, g711_ulaw, g711_alaw), and send the audio in that format without a header.",
                    (index,),
                )

    # -- dialect ----------------------------------------------------------------------------
    #
    # A dialect finding is made when the frame is sent (or when the server's dialect is known), before
    # the server answers, so it names no error code: which one comes depends on what else is wrong
    # (a GA update without session.type is refused with missing_required_parameter, whatever beta
    # fields it also holds). The answer, when it comes, is linked to the frame; for an update,
    # session-update-rejected quotes it.

    def _dialect_later(self, env: Envelope, index: int) -> None:
        if self.ctx.dialect is not None:
            self._dialect(env, index, self.ctx.dialect)
        else:
            self._waiting.append((index, env))

    def dialect_known(self) -> None:
        """Judge the frames that waited for the server's dialect (call once it is known)."""
        dialect = self.ctx.dialect
        if dialect is None:
            return
        while self._waiting:
            index, env = self._waiting.popleft()
            self._dialect(env, index, dialect)

    def dialect_never_known(self) -> None:
        """The connection or the recording ended with frames still waiting for the server's dialect (a
        log of the client's side alone): judge them by the dialect the client's own updates are shaped
        in (GA when any has `type` or `audio`), as the server it wrote them for speaks it. A GA update
        without session.type, or with a beta field, went unjudged (review 56c)."""
        if not self._waiting or self.ctx.dialect is not None:
            return
        sessions = [obj(env.data.get("session")) for _, env in self._waiting if env.type in _UPDATES]
        dialect = Dialect.GA if any("type" in s or "audio" in s for s in sessions) else Dialect.BETA
        while self._waiting:
            index, env = self._waiting.popleft()
            self._dialect(env, index, dialect)

    @property
    def waiting(self) -> bool:
        """True while some frame waits for the server's dialect."""
        return bool(self._waiting)

    def _dialect(self, env: Envelope, index: int, dialect: Dialect) -> None:
        etype = env.type
        if etype == "response.create":
            self._response_dialect(env, index, dialect)
        elif etype in _UPDATES:
            self._update_dialect(env, index, dialect)
        elif etype in CLIENT_EVENTS_GA_ONLY and dialect is Dialect.BETA:
            self._foreign_event(index, "a GA event (of realtime translation sessions)", "The beta server")

    def _foreign_event(self, index: int, kind: str, server: str) -> None:
        ctx = self.ctx
        fix = (
            'Send session.update with session.type "transcription" (on a ?intent=transcription socket) instead.'
            if ctx.journal[index].type in CLIENT_EVENTS_BETA_ONLY
            else "Use the client events of the dialect the server speaks."
        )
        self._refused_types.append(index)
        ctx.emit(
            "dialect-mismatch",
            f"{ctx.name(index)} is {kind}: {server} does not know it and answers with an error (invalid_value on "
            "'type'), so it does nothing.",
            fix,
            (index,),
        )

    def _update_dialect(self, env: Envelope, index: int, dialect: Dialect) -> None:
        ctx = self.ctx
        if dialect is Dialect.GA and env.type in CLIENT_EVENTS_BETA_ONLY:
            self._foreign_event(index, "a beta event", "A GA server")
            return
        session = env.data.get("session")
        if dialect is Dialect.GA:
            if not isinstance(session, dict):
                ctx.emit(
                    "session-type-missing",
                    f"{ctx.name(index)} has no session object: a GA server requires session with its session.type "
                    "and refuses the update (missing_required_parameter).",
                    f"Send the settings under session, with its type, e.g. {_GA_SESSION_EXAMPLE}.",
                    (index,),
                )
                return
            self._ga_update(index, session)
        elif isinstance(session, dict):
            fields = foreign_fields(session, GA_ONLY_SESSION)
            if fields:
                ctx.emit(
                    "dialect-mismatch",
                    f"{ctx.name(index)} sends GA session fields to a beta server: {', '.join(fields)}. The beta "
                    "interface refuses the whole update with an error, so nothing in it takes effect.",
                    "Move to the GA interface (the beta one was retired in 2026: connect without the OpenAI-Beta "
                    "header), or use the beta flat fields (input_audio_format, input_audio_transcription, "
                    "turn_detection, voice, modalities).",
                    (index,),
                )

    def _ga_update(self, index: int, session: dict[str, Any]) -> None:
        ctx = self.ctx
        fields = foreign_fields(session, BETA_ONLY_SESSION)
        if fields:
            transcription = ""
            if "input_audio_transcription" in session:
                _, config = ctx.transcription()
                transcription = (
                    f", including input_audio_transcription: transcription stays {describe_transcription(config)}"
                )
            ctx.emit(
                "dialect-mismatch",
                f"{ctx.name(index)} sends beta session fields to a GA server: {', '.join(fields)}. The GA server "
                f"refuses the whole update with an error, so nothing in it takes effect{transcription}.",
                f"Use the GA shape: set session.type and nest the audio settings where the list says, e.g. "
                f"{_GA_SESSION_EXAMPLE}.",
                (index,),
            )
        kind = session.get("type")
        applied_kind = plain(text(obj(ctx.applied).get("type")), 40)
        if "type" not in session:
            ctx.emit(
                "session-type-missing",
                f'{ctx.name(index)} has no session.type: a GA server requires it ("realtime" for a conversation, '
                '"transcription" on an ?intent=transcription socket) and refuses the whole update '
                "(missing_required_parameter), so nothing in it takes effect.",
                f'Add "type": "{applied_kind or "realtime"}" to session.',
                (index,),
            )
        elif applied_kind and kind != applied_kind:
            ctx.emit(
                "session-type-mismatch",
                f"{ctx.name(index)} sets session.type {shown(kind)} on a {applied_kind!r} session "
                f"({ctx.applied_name()}): the server refuses the whole update (a session keeps the type it was "
                "opened with), so nothing in it takes effect.",
                f'Keep session.type "{applied_kind}". For transcription only, open a socket with '
                '?intent=transcription (its session.type is "transcription"); for a conversation, use ?model=.',
                (index,),
            )

    def _response_dialect(self, env: Envelope, index: int, dialect: Dialect) -> None:
        ctx = self.ctx
        response = obj(env.data.get("response"))
        table, kind, fix = (
            (
                BETA_ONLY_RESPONSE,
                "beta response fields to a GA server",
                'Use the GA names: output_modalities ["audio"] or ["text"], audio.output.voice, '
                "audio.output.format, max_output_tokens.",
            )
            if dialect is Dialect.GA
            else (
                GA_ONLY_RESPONSE,
                "GA response fields to a beta server",
                "Use the beta names (modalities, voice, output_audio_format, max_response_output_tokens), or move "
                "to the GA interface.",
            )
        )
        fields = foreign_fields(response, table)
        if fields:
            ctx.emit(
                "dialect-mismatch",
                f"{ctx.name(index)} sends {kind}: {', '.join(fields)}. The server refuses the response.create "
                "with an error, so no response starts.",
                fix,
                (index,),
            )

    # -- errors -----------------------------------------------------------------------------

    def _refused_type(self, error: ServerError) -> bool:
        """True when `error` answers a frame whose type was already found refused (its finding says
        the server answers it with an error, and now names the error): named by its event_id, or,
        when the client set none, by the type the error's message quotes, or by param `type`
        (errors come in order)."""
        waiting = self._refused_types
        if not waiting:
            return False
        if error.cause is not None:
            if error.cause not in waiting:
                return False
            found = error.cause
        elif error.param == "type" or error.code == "invalid_value":
            quoted = [index for index in waiting if f"'{self.ctx.journal[index].type}'" in error.message]
            if quoted:
                found = quoted[0]
            elif error.param == "type":
                found = waiting[0]
            else:
                return False
        else:
            return False
        waiting.remove(found)
        if found in self._unanswered:
            self._unanswered.remove(found)  # a transcription_session.update refused unread: no other answer comes
        ctx = self.ctx
        for finding in ctx.blamed(found):
            if finding.rule == "unknown-client-event" and _REFUSAL_FORETOLD in finding.message:
                said = (
                    f"The server answered it with {ctx.name(error.index)} ({error.code or 'no code'}) and did nothing."
                )
                ctx.amend(finding, finding.message.replace(_REFUSAL_FORETOLD, said), (*finding.frames, error.index))
        return True

    def explain_error(self, error: ServerError) -> bool:
        """Take an `error` that answers a malformed frame or a frame of a type the server does not
        accept (their findings say so already), or refuses a session update; True when it did."""
        ctx = self.ctx
        cause = error.cause
        if cause is None and error.code in UNREADABLE_ANSWERS and self._malformed_sent:
            # A frame the server could not read has no event_id to name: errors come in order.
            malformed = self._malformed_sent.popleft()
            for finding in ctx.blamed(malformed):
                if finding.rule == "malformed-client-frame":  # its answer has come: named beside it
                    said = f" The server answered it with {ctx.name(error.index)} ({error.code or 'no code'})."
                    ctx.amend(finding, finding.message + said, (*finding.frames, error.index))
            return True
        if self._refused_type(error):
            return True
        if cause is None:
            # Many clients set no event_id: an error about a session.* field while an update waits
            # for its answer is about that update.
            if not (error.param.startswith("session") and self._unanswered):
                return False
            cause = self._unanswered.popleft()
        elif ctx.journal[cause].type in _UPDATES:
            if cause in self._unanswered:
                self._unanswered.remove(cause)
        else:
            return False
        param = f" (param {error.param})" if error.param else ""
        # A finding made when the update was sent may have said why already: this one confirms it,
        # when the error names its field (or no field). One about another field is another reason
        # the server would refuse it: `session.foo` refused is no bad rate's doing.
        earlier = ctx.blamed(cause, besides="session-update-rejected")
        confirmed = [finding for finding in earlier if _about_param(finding, error.param)]
        others = [finding for finding in earlier if finding not in confirmed]
        said = f", as {confirmed[0].rule} on it said it would be" if confirmed else ""
        fix = (
            f"Fix what {confirmed[0].rule} says: {confirmed[0].fix}"
            if confirmed
            else _transcription_fix(error.param, ctx)
            or (
                f"Remove {error.param} (the service does not know it) and send the session.update again."
                if error.code == "unknown_parameter" and error.param
                else f"Correct {error.param or 'what the error names'} and send the session.update again."
            )
        )
        if others:
            rules = " and ".join(finding.rule for finding in others)
            fix += f" Then fix what {rules} on it says: the server refuses the update for that too."
        ctx.emit(
            "session-update-rejected",
            f"{ctx.name(cause)} was rejected by {ctx.name(error.index)}: {error.summary}{param}{said}. The server "
            f"discards the whole update, so none of it took effect: it kept {ctx.kept()}.",
            f"{fix} Until a session.updated arrives, the previous configuration applies.",
            (cause, error.index),
        )
        return True


_FIELD_PATH = re.compile(r"\b[a-z_]+(?:\.[a-z_0-9]+)+")


def _about_param(finding: Finding, param: str) -> bool:
    """Whether `finding` is about the field an error names (`param`, e.g. `session.audio.input.format.rate`):
    a field path its message names (`session.audio.input.format`) holds it or lies within it. An error
    that names no field confirms any finding on the frame it answers."""
    if not param:
        return True
    wanted = param.removeprefix("session.")
    for path in _FIELD_PATH.findall(finding.message):
        named = path.removeprefix("session.")
        if wanted == named or wanted.startswith(named + ".") or named.startswith(wanted + "."):
            return True
    return False


_TRANSCRIPTION_PLACES = ("session.audio.input.transcription", "session.input_audio_transcription")


def _transcription_fix(param: str, ctx: Context) -> str:
    """The fix for an update refused for a transcription field the server does not know (a misplaced
    one, or an invented sub-field such as `enabled`): where it goes and what it holds. Empty for any
    other param, or for a known field's bad value (its own message says what is wrong)."""
    if "transcription" not in param or param in _TRANSCRIPTION_PLACES:
        return ""
    right = next((place for place in _TRANSCRIPTION_PLACES if param.startswith(place + ".")), None)
    if right is not None:
        field = param[len(right) + 1 :]
        if field in ("model", "language", "prompt", "languages", "keywords", "delay"):
            return ""  # a known field with a value the server refuses: its message says which
        return (
            f"{right} has no field {field}: it holds the transcription model and optional hints, "
            '{"model": "gpt-4o-transcribe", "language": "en"}, or null to turn transcription off. Send the '
            "session.update again without it."
        )
    return (
        f"{param} is not where input transcription goes: send session.update with {ctx.transcription_path()} instead."
    )
