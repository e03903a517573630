"""Rules about the user's audio: the input buffer turn by turn, audio in items, and its transcription.

State is O(1) per turn: bytes appended since the last commit or clear, whether they were all
zeros so far, a bounded sampler of level and byte order, and which findings the turn already has
(each rule fires once per turn, not once per append).

Who committed a turn is what the server says, not what the client sent. Without turn detection
the buffer holds exactly what the client appended, so its commit is judged when it is sent (a
log of only the client's frames still gets its findings). Under server VAD a commit's fate is
not known until the server answers it: VAD may commit the audio while the client's commit is on
its way (an `input_audio_buffer.committed` whose item_id a `speech_stopped` or
`timeout_triggered` announced is the VAD's), and the commit then finds what was left, often too
little, and is refused. So under VAD a commit is judged at its answer: its own
`input_audio_buffer.committed` credits it with the audio, an error credits it with nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from tui.protocol import Direction, Envelope, error_summary, json_type_name, obj, objects, text
from tui.protocol.summary import audio_bytes, audio_tag_bytes, is_audio_tag

from .b64audio import (
    MAX_APPEND_BYTES,
    VOICED_FLOOR,
    PcmSampler,
    WavHeader,
    base64_problem,
    decoded_size,
    is_zero_audio,
    wav_header,
)
from .connection_rules import dropped
from .context import Context, ServerError, describe_transcription, duration
from .finding import Finding, Severity, plain
from .pace import Pace, PaceMeter
from .shapes import PCMA, PCMU, AudioFormat

MIN_COMMIT_MS = 100
VAD_SILENCE_MS = 5000
"""Zeros appended under server VAD, without a commit, before saying VAD will never fire."""
MAX_ITEMS_REMEMBERED = 10_000
"""Items whose commit is remembered (for naming the commit of a failed transcription)."""
MAX_VAD_ITEMS = 32
"""Item ids announced by server VAD (speech_stopped, timeout_triggered) awaiting their committed."""
MAX_REFUSED_WAITING = 4096
"""Appends (and items) refused for their audio whose `error` has not come yet (about 80 s of 20 ms chunks)."""
NEVER_CAME_AFTER = 5.0
"""Seconds from a commit to the end of its connection after which a transcript that never came is
said even without a reply that ended (a client that gave up waiting, a server that stalled): a
short turn's transcript comes within a second or two."""
_COMMIT_EMPTY = "input_audio_buffer_commit_empty"
_CONNECTION_ENDED = frozenset({"closed", "failed"})
"""`rt.connection` states after which the server answers nothing more on that connection."""

_EXPECTED_WAV = {"pcm16": (24000, 16, 1), "pcmu": (8000, 8, 7), "pcma": (8000, 8, 6)}


class Turn:
    """The input audio buffer since the last commit or clear, as the client filled it."""

    __slots__ = (
        "bytes",
        "first",
        "last",
        "since",
        "all_zero",
        "zero_flagged",
        "header_at",
        "header_bad",
        "header_again",
        "heard",
        "invalid_first",
        "refused",
        "sampler",
        "vad_commit",
        "elided",
        "cleared",
    )

    def __init__(self, since: str, vad_commit: int | None = None, cleared: int | None = None) -> None:
        self.cleared = cleared
        """Journal index of the input_audio_buffer.clear that began the turn, if one did."""
        self.elided = False
        """Some of its audio is a size tag (an export without audio): its samples are unknown, its bytes
        are what the tags say (within their precision: exact under 1 KB, to the ms under a second)."""
        self.bytes = 0
        self.first: int | None = None
        """Journal index of the turn's first append."""
        self.last: int | None = None
        """Journal index of the turn's last append whose audio was buffered (or tagged), to name the span."""
        self.since = since
        """What began the turn, for messages: "the last commit", "the session began", "input_audio_buffer.clear
        #7 emptied the buffer"."""
        self.all_zero = True
        self.zero_flagged = False
        self.header_at: int | None = None
        """Journal index of the turn's first append that starts with a WAV header (its finding names it)."""
        self.header_bad = False
        """That header declares another format than the session's (its samples are garbled)."""
        self.header_again = False
        """Another append of the turn started with a header too (reported once: a click per chunk)."""
        self.heard = False
        """Server VAD detected speech during the turn (input_audio_buffer.speech_started)."""
        self.invalid_first: int | None = None
        """Journal index of the turn's first append with audio that is not base64 (its finding names it)."""
        self.refused = 0
        """Appends of the turn the server refuses for their audio (not base64): none of it is buffered."""
        self.sampler = PcmSampler()
        self.vad_commit = vad_commit
        """Journal index of the server VAD's input_audio_buffer.committed that began the turn, if one did."""


class WaitingItem:
    """A `conversation.item.create` with audio sent while session updates were on their way: the
    server applies them before it takes the item, so whether transcription is on for it is judged
    once they are answered (`InputRules.settle_items`)."""

    __slots__ = ("index", "updates", "where", "nbytes", "fmt")

    def __init__(self, index: int, updates: tuple[int, ...], where: str, nbytes: int, fmt: AudioFormat) -> None:
        self.index = index
        self.updates = updates
        """The updates unanswered when the item was sent (journal indices)."""
        self.where = where
        """The audible parts, `content[0], content[2]`."""
        self.nbytes = nbytes
        """Their audio's bytes."""
        self.fmt = fmt


class _Partial:
    """A committed item whose transcription began: its committed event, its first and latest part
    (delta or segment), and how many parts came."""

    __slots__ = ("committed", "first", "last", "parts", "replied")

    def __init__(self, committed: int, first: int) -> None:
        self.committed = committed
        self.first = first
        self.last = first
        self.parts = 0
        self.replied = False
        """A response.done came after its first part: a recording that ends then was not cut mid-turn."""


class PendingCommit:
    """A commit the client sent that the server has not answered yet."""

    __slots__ = ("index", "turn", "vad_took", "short", "deferred")

    def __init__(self, index: int, turn: Turn | None) -> None:
        self.index = index
        self.deferred: Turn | None = None
        """Without VAD, the audio of a commit sent while a session.update was on its way: whether
        transcription is on for it is judged at its answer (the server applies the update first)."""
        self.short: tuple[Turn, AudioFormat] | None = None
        """Without VAD, a commit of under 100 ms as the frames count it, awaiting the server's answer:
        a refusal confirms `commit-too-short`; a committed says the recording holds less audio than
        was sent (a log that shortened its payloads), and nothing is said. No answer at all (the
        connection or the recording ends first, see `InputRules.unanswered`): said, as never answered."""
        self.turn = turn
        """The audio appended before it, while it waits to be judged at the server's answer (under
        server VAD); None once judged (at sending, without VAD)."""
        self.vad_took: int | None = None
        """The server VAD's input_audio_buffer.committed that committed that audio first (it came
        while this commit was on its way), if one did."""


class InputRules:
    """Appends, commits, clears, `conversation.item.create` audio, and transcription failures."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.turn = Turn("the session began")
        self._pending: deque[PendingCommit] = deque()
        """Our commits not yet answered by `input_audio_buffer.committed` or an error, oldest first."""
        self._vad_items: deque[str] = deque(maxlen=MAX_VAD_ITEMS)
        """Item ids server VAD announced for a commit of its own (speech_stopped, timeout_triggered)."""
        self._commit_of_item: dict[str, int] = {}
        self._audio_findings: dict[int, tuple[int, ...]] = {}
        """Commit (ours, or server VAD's committed) → the appends whose findings say what is wrong with
        its audio (a WAV header of another format, audio that is not base64): only commits that have some."""
        self._quiet: dict[int, int] = {}
        """Commit → how many windows of its PCM16 audio were sampled, when none reached speech level
        (`VOICED_FLOOR`) and it was not all zeros: near silence, said if its transcription fails."""
        self._refused: deque[int] = deque(maxlen=MAX_REFUSED_WAITING)
        """Appends and items sent with audio that is not base64, oldest first, whose `error` has not
        come yet: the finding on the first of them explains each of those errors."""
        self._pace = PaceMeter()
        self._pace_said = False
        """`audio-rate-mismatch` was reported on this connection (once is enough: it is the client's setup)."""
        self._asked: int | None = None
        """The last session update of this connection that asked for input transcription (None once
        one turned it off): named when transcription is off at a commit all the same."""
        self._off_at: int | None = None
        """The frame the last `transcription-off-at-commit` blames, until transcription is turned on."""
        self._untranscribed: dict[str, int] = {}
        """Committed items (id → the server's input_audio_buffer.committed) no transcription event has
        named yet: said at the end (`transcript-never-came`) if a response ended meanwhile."""
        self._replied: set[str] = set()
        """Those of them a response.done came after: the reply ended, the transcript had not come."""
        self._partial: dict[str, _Partial] = {}
        """Committed items whose transcription began (deltas) and has not completed nor failed yet:
        said at the end (`transcript-incomplete`)."""
        self.items_waiting: list[WaitingItem] = []
        """Items with audio judged once the session updates sent before them are answered (see `WaitingItem`)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.OUT, "input_audio_buffer.append"): self._append,
            (Direction.OUT, "input_audio_buffer.commit"): self._commit,
            (Direction.OUT, "input_audio_buffer.clear"): self._clear,
            (Direction.OUT, "conversation.item.create"): self._item_create,
            (Direction.IN, "input_audio_buffer.committed"): self._committed,
            (Direction.IN, "input_audio_buffer.speech_started"): self._speech_started,
            (Direction.IN, "input_audio_buffer.speech_stopped"): self._vad_announces,
            (Direction.IN, "input_audio_buffer.timeout_triggered"): self._vad_announces,
            (Direction.IN, "conversation.item.input_audio_transcription.failed"): self._failed,
            (Direction.IN, "conversation.item.input_audio_transcription.completed"): self._transcribed,
            (Direction.IN, "conversation.item.input_audio_transcription.delta"): self._transcribing,
            (Direction.IN, "conversation.item.input_audio_transcription.segment"): self._transcribing,
            (Direction.IN, "response.done"): self._response_done,
            (Direction.LOCAL, "rt.connection"): self._connection,
            (Direction.OUT, "session.update"): self._update,
            (Direction.OUT, "transcription_session.update"): self._update,
            (Direction.IN, "session.updated"): self._updated,
            (Direction.IN, "transcription_session.updated"): self._updated,
        }

    def reset(self) -> None:
        """A new connection: a new, empty buffer."""
        self.turn = Turn("the session began")
        self._pending.clear()
        self._vad_items.clear()
        self._commit_of_item.clear()
        self._untranscribed.clear()
        self._replied.clear()
        self._partial.clear()
        self._audio_findings.clear()
        self._quiet.clear()
        self._refused.clear()
        self._pace.reset()
        self._pace_said = False
        self._asked = self._off_at = None
        self.items_waiting.clear()

    # -- the input buffer -------------------------------------------------------------------

    def _append(self, env: Envelope, index: int) -> None:
        ctx, turn = self.ctx, self.turn
        audio = env.data.get("audio")
        said = audio_tag_bytes(audio)
        if said is not None:  # left out of the recording: its tag says its size, its samples are unknown
            if said > MAX_APPEND_BYTES:
                self._too_large(index, said)
                return
            turn.elided = True
            turn.all_zero = False  # not known to be silence
            if turn.first is None:
                turn.first = index
            turn.last = index
            turn.bytes += said
            self._pace_of(env, index, said, ctx.input_format)
            return
        problem = _audio_problem(audio)
        if problem is not None:
            turn.refused += 1
            self._refused.append(index)
            if turn.invalid_first is None:
                turn.invalid_first = index
                ctx.emit(
                    "invalid-base64-audio",
                    f"{ctx.name(index)}: its audio {problem}. The server refuses the append (an error, invalid_value "
                    "on 'audio'), so this audio never reaches the buffer. Later appends of this turn like it, and "
                    "the server's error answering each one, are not reported again.",
                    "Send the raw audio bytes as standard base64 (RFC 4648, '+' '/' and '=' padding, no line breaks, "
                    "no data: prefix), e.g. base64.b64encode(pcm).decode('ascii').",
                    (index,),
                )
            return
        assert isinstance(audio, str)
        size = decoded_size(audio)
        if size > MAX_APPEND_BYTES:
            self._too_large(index, size)
            return
        fmt = ctx.input_format
        skip = 0
        header = wav_header(audio)
        if header is not None:
            skip = header.data_offset or 44
            if turn.header_at is None:
                turn.header_at = index
                turn.header_bad = self._wav_finding(index, header, fmt)
            elif not turn.header_bad and not turn.header_again:
                turn.header_again = True
                self._wav_append_again(index, turn.header_at)
        if turn.first is None:
            turn.first = index
        turn.last = index
        turn.bytes += size
        if not fmt.is_pcm16:
            # Silence, clipping, byte order and pace are PCM16 facts; of G.711 bytes only whether they are.
            turn.sampler.feed(audio, skip, size)
            return
        self._pace_of(env, index, size, fmt)
        if turn.all_zero and not is_zero_audio(audio):
            turn.all_zero = False
        turn.sampler.feed(audio, skip, size)
        if turn.all_zero and not turn.zero_flagged and ctx.vad and turn.bytes >= VAD_SILENCE_MS * fmt.bytes_per_ms:
            turn.zero_flagged = True
            where = (
                f"in {ctx.name(index)}" if turn.first == index else f"from {ctx.name(turn.first)} to {ctx.name(index)}"
            )
            ctx.emit(
                "silent-audio",
                f"{duration(turn.bytes, fmt)} of audio appended {where} is all zeros (digital silence) while server "
                "VAD is on: VAD never detects speech in it, so nothing is committed, answered or transcribed, and no "
                "error says so.",
                _SILENCE_FIX,
                (turn.first, index),  # in the order they came (one frame when one append reached 5 s)
            )

    def _too_large(self, index: int, size: int) -> None:
        ctx = self.ctx
        ctx.emit(
            "append-too-large",
            f"{ctx.name(index)} carries {size:,} bytes of audio: one append may carry at most 15 MiB "
            f"({MAX_APPEND_BYTES:,} bytes), so the server refuses it and none of it is buffered.",
            "Split the audio into chunks (20–100 ms each is what the official samples send: 960–4,800 bytes "
            "of 24 kHz PCM16) and send one input_audio_buffer.append per chunk.",
            (index,),
        )

    def _pace_of(self, env: Envelope, index: int, size: int | None, fmt: AudioFormat) -> None:
        """Time one PCM16 append of `size` bytes against the stream's pace (`PaceMeter`)."""
        if size is None or not fmt.is_pcm16:
            return
        pace = self._pace.add(env.mono, size, index, fmt.bytes_per_ms * 1000, fmt.bytes_per_ms * 500)
        if pace is not None and not self._pace_said:
            self._pace_said = True
            self._paced_like(pace, fmt)

    def _paced_like(self, pace: Pace, fmt: AudioFormat) -> None:
        """A live stream of appends that came at the pace of another sample rate than the session's."""
        ctx = self.ctx
        session_rate = fmt.bytes_per_ms * 500
        factor = session_rate / pace.rate
        heard = f"{factor:.3g}× too fast and high-pitched" if factor > 1 else f"at {factor:.3g}× speed, low-pitched"
        khz = f"{pace.rate / 1000:g} kHz"
        ctx.emit(
            "audio-rate-mismatch",
            f"From {ctx.name(pace.first)} to {ctx.name(pace.last)} the client appended {pace.audio_seconds:.1f} s of "
            f"audio (read as {fmt.label}) in {pace.wall_seconds:.1f} s: the pace of {khz} audio streamed live. "
            f"If it is {khz} audio, the server reads it as {session_rate / 1000:g} kHz and hears it {heard}: "
            "speech detection and transcription suffer (garbled or empty transcripts), and nothing says why.",
            f"Resample to {session_rate / 1000:g} kHz before encoding (in Python "
            f"soxr.resample(samples, {pace.rate}, {session_rate}); in a browser an AudioContext with sampleRate "
            f"{session_rate}). If the audio is {session_rate / 1000:g} kHz and this pace is not the capture's (a "
            "file sent as fast as a slow uplink takes it, or paced on purpose), ignore this.",
            (pace.first, pace.last),
        )

    def _commit(self, env: Envelope, index: int) -> None:
        ctx, turn = self.ctx, self.turn
        self.turn = Turn("the last commit")
        if ctx.vad:
            self._pending.append(PendingCommit(index, turn))  # judged at the server's answer
            return
        pending = PendingCommit(index, None)
        self._pending.append(pending)
        fmt = ctx.input_format
        if turn.bytes < MIN_COMMIT_MS * fmt.bytes_per_ms:
            # The server's answer settles it (see PendingCommit.short), in a log without the session's
            # created too (a committed for it says the server took it: said now, it failed CI on a turn
            # that worked); a log of the client's side alone has it said at its end (`unanswered`).
            pending.short = (turn, fmt)
            return
        if ctx.updates_unanswered and ctx.applied is not None:
            # The server applies the update before it takes the commit: judge transcription at the answer.
            pending.deferred = turn
            self._judge_turn(index, turn, fmt, transcription=False)
            return
        self._judge_turn(index, turn, fmt)

    def _too_short_sent(self, index: int, turn: Turn, fmt: AudioFormat, refusal: int | None = None) -> None:
        """A commit sent without turn detection, with less than 100 ms appended: the server refuses it
        (`refusal`: its error, when it came: the finding names it, as the other refusals' findings do)."""
        ctx = self.ctx
        ctx.emit(
            "commit-too-short",
            f"{ctx.name(index)} commits {_appended(turn, fmt, ctx)}: the server needs at least 100 ms and refuses the "
            "commit (input_audio_buffer_commit_empty), so no item is created and nothing is transcribed.",
            _refused_fix(turn)
            + _cleared_fix(turn, ctx)
            + f"Append at least 100 ms ({MIN_COMMIT_MS * fmt.bytes_per_ms:,} bytes of {fmt.label}) before "
            "input_audio_buffer.commit.",
            tuple(i for i in (index, refusal, turn.first, turn.invalid_first, turn.cleared) if i is not None),
        )

    def _connection(self, env: Envelope, index: int) -> None:
        if text(env.data.get("state")) in _CONNECTION_ENDED:  # text: a hand-written log's state may be anything
            self.unanswered(index, text(env.data.get("message")))

    def unanswered(self, end: int | None, said: str = "") -> None:
        """Nothing more will answer our commits: the connection ended (`end` is its `rt.connection`
        fact, `said` its message) or the recording did (None). A commit of under 100 ms still
        waiting is said now (`commit-too-short`): "I committed and nothing happened" is the case a
        developer asks about.

        Under server VAD a commit is said only when its audio is known exactly (no VAD commit took
        part of the buffer first): whatever VAD did next could only have left less. A longer one
        under VAD, judged at its answer, has its audio judged now (silent, byte-swapped, clipped), as
        a commit without VAD has at sending."""
        ctx = self.ctx
        self.settle_items(final=True)
        self._never_transcribed(end)
        pending, self._pending = self._pending, deque()
        for commit in pending:
            turn = commit.turn
            if commit.short is not None:
                if ctx.server_spoke or ctx.applied_index is not None:
                    self._too_short_unanswered(commit.index, *commit.short, end, said)
                else:  # no server frame to have answered it (a log of the client's side): as sent
                    self._too_short_sent(commit.index, *commit.short)
            elif turn is None or commit.vad_took is not None:
                continue  # judged at sending, or its audio went to server VAD's commit (judged there)
            elif _known_short(turn, ctx.input_format):
                self._too_short_unanswered(commit.index, turn, ctx.input_format, end, said)
            else:
                frames = tuple(i for i in (commit.index, turn.first) if i is not None)
                fmt = ctx.input_format
                # The session the server applied (its session.created, in a log that records the
                # server's first event and nothing after) has transcription off: said of this commit
                # too, though no answer came (a log with the session and the client's frames linted
                # clean, review 56c).
                # An update asking for it, unanswered too, may have turned it on before the commit.
                said_off = any(f.rule == "transcription-off-at-commit" for f in ctx.blamed(commit.index))
                if turn.bytes and self._asked is None and not said_off:
                    subject = f"{ctx.name(commit.index)}, which the server never answered,"
                    self._transcription_off(subject, frames, turn, fmt)
                if turn.bytes and not turn.elided and not turn.zero_flagged:
                    subject = f"{ctx.name(commit.index)}, which the server never answered, commits"
                    headed = turn.header_at is not None
                    self._judge_pcm(subject, frames, turn.bytes, fmt, turn.all_zero, turn.sampler, headed=headed)

    def _never_transcribed(self, end: int | None) -> None:
        """`transcript-never-came`: items committed that no transcription event named before the
        connection (`end`, its `rt.connection` fact) or the recording (None) ended, though a
        response ended after their commit (a log cut right after a commit says nothing). Left to
        `transcription-off-at-commit` when the session had transcription off; said as a question
        (info) when the recording does not show the session at all."""
        waiting, self._untranscribed = self._untranscribed, {}
        replied, self._replied = self._replied, set()
        ctx = self.ctx
        journal = ctx.journal
        # A connection cut with a transcription in flight: `connection-dropped` says what it cut.
        cut = end is not None and dropped(journal.data(end))
        self._incomplete(end, cut)
        known, config = ctx.transcription()
        if not waiting or (known and config is None):
            return  # off: transcription-off-at-commit said it for each commit
        last = end if end is not None else len(journal) - 1
        for item_id, committed in waiting.items():
            after = journal[last].mono - journal[committed].mono
            # A connection closed long after the commit (a client that gave up waiting, a stalled
            # server) says as much as a reply that ended; a recording cut right after it says nothing.
            waited = end is not None and not cut and after >= NEVER_CAME_AFTER
            if item_id not in replied and not waited:
                continue  # ended right after its commit (a log cut short): no reply to compare with
            if cut and after < NEVER_CAME_AFTER:
                # The server's drop cut it, soon after: `connection-dropped` names it. Said here too, it
                # told the client to keep reading after response.done, which it was doing (review 55g).
                continue
            commit = self._commit_of_item.get(item_id, committed)
            if any(f.rule == "transcription-off-at-commit" for f in ctx.blamed(commit)):
                continue
            when = f", {after:.1f} s after it" if after >= 0.05 else ""  # a hand-written log's times say nothing
            until = f"the recording ended{when}" if end is None else f"the connection ended ({ctx.name(end)}{when})"
            shown = plain(item_id, 80)
            by = f"{ctx.name(commit)} committed" if commit != committed else "server VAD committed"
            though = (
                "though a response ended after it. Transcription runs on its own after the commit and its events may "
                "come after the response's."
                if item_id in replied
                else "and no reply ended either: the connection closed while the server was still working on the "
                "turn (a long turn takes a while to transcribe), or the server had stalled."
            )
            message = (
                f"{by} item {shown} ({ctx.name(committed)}), but no conversation.item.input_audio_transcription "
                f"event for it (completed, delta or failed) came before {until}: its transcript is null in this "
                f"recording, {though}"
            )
            if known and item_id not in replied:
                fix = (
                    "Keep the connection open until conversation.item.input_audio_transcription.completed (or "
                    f".failed) names item_id {shown}, allowing for the turn's length (minutes of audio take tens of "
                    "seconds). When nothing more comes for long after a short turn (no transcription event, no "
                    "response.done), the server has stalled: reconnect and send the turn again."
                )
                severity = Severity.WARNING
            elif known:
                fix = (
                    "Keep reading events after response.done until conversation.item.input_audio_transcription."
                    f"completed (or .failed) names item_id {shown}, and match it by item_id, not by order."
                )
                severity = Severity.WARNING
            else:
                # A session the server applied that leaves the setting out (a minimal server's, a
                # hand-made log's) is there: "holds no session.created" read as if it were missing.
                held = (
                    f"The session of {ctx.applied_name()} leaves input transcription out"
                    if ctx.facts.applied is not None
                    else "The recording holds no session.created or session.updated"
                )
                message += (
                    f" {held}, so it does not show whether input transcription was on: if it was off (null), "
                    "that is why."
                )
                fix = (
                    f"Record the session from its start to see what the server applied; turn transcription on with "
                    f"{ctx.transcription_path()} and wait for session.updated before committing, then read on until "
                    "the transcription event for the item_id comes."
                )
                severity = Severity.INFO
            ctx.emit("transcript-never-came", message, fix, (committed, commit, last), severity)

    def _incomplete(self, end: int | None, cut: bool) -> None:
        """`transcript-incomplete`: items whose transcription began but never ended (no completed,
        no failed) before the connection (`end`) or the recording (None) ended; of a recording,
        only when a reply ended after it began (a log cut mid-transcription says nothing); not
        of a connection `cut` (`connection-dropped` names them)."""
        partials, self._partial = self._partial, {}
        if cut:
            return
        ctx = self.ctx
        journal = ctx.journal
        last = end if end is not None else len(journal) - 1
        for item_id, partial in partials.items():
            if end is None and not partial.replied:
                continue  # a recording cut mid-transcription, no reply ended since: too soon to tell
            commit = self._commit_of_item.get(item_id, partial.committed)
            after = journal[last].mono - journal[partial.last].mono
            when = f", {after:.1f} s after the last" if after >= 0.05 else ""
            until = f"the recording ended{when}" if end is None else f"the connection ended ({ctx.name(end)}{when})"
            shown = plain(item_id, 80)
            parts = "1 part" if partial.parts == 1 else f"{partial.parts:,} parts"
            ctx.emit(
                "transcript-incomplete",
                f"The transcription of item {shown} ({ctx.name(partial.committed)}) began ({parts}, from "
                f"{ctx.name(partial.first)} to {ctx.name(partial.last)}) but its "
                f"conversation.item.input_audio_transcription.completed never came before {until}: the transcript "
                "is partial (what the deltas held), and the server never sent the whole text.",
                "Keep the connection open and read on until conversation.item.input_audio_transcription.completed "
                f"(or .failed) names item_id {shown}: transcription runs on its own after the commit, and a long turn "
                "takes longer to transcribe than its reply takes to come. Use the deltas for a live preview only.",
                (partial.first, commit, partial.last, last),
            )

    def _too_short_unanswered(self, index: int, turn: Turn, fmt: AudioFormat, end: int | None, said: str) -> None:
        """A commit of under 100 ms whose answer never came (the connection or the recording ended first)."""
        ctx = self.ctx
        if end is None:
            where = "the recording ends"
        else:
            where = f"the connection ended ({ctx.name(end)}{': ' + plain(said, 200) if said else ''})"
        appends = ""
        if turn.first is not None and turn.last is not None:
            appends = (
                f", in {ctx.name(turn.first)}"
                if turn.first == turn.last
                else f", from {ctx.name(turn.first)} to {ctx.name(turn.last)}"
            )
        ctx.emit(
            "commit-too-short",
            f"{ctx.name(index)} commits {_appended(turn, fmt, ctx)}{appends}: the server needs at least 100 ms and "
            f"refuses such a commit (input_audio_buffer_commit_empty); the server never answered this one: "
            f"{where} before any input_audio_buffer.committed or error for it. No item was created from it and "
            "nothing was transcribed: that is why nothing happened after the commit.",
            _refused_fix(turn)
            + _cleared_fix(turn, ctx)
            + f"Append at least 100 ms ({MIN_COMMIT_MS * fmt.bytes_per_ms:,} bytes of {fmt.label}) before "
            "input_audio_buffer.commit.",
            tuple(i for i in (index, turn.first, turn.last, turn.invalid_first, turn.cleared, end) if i is not None),
        )

    def _clear(self, env: Envelope, index: int) -> None:
        self.turn = Turn(f"{self.ctx.name(index)} emptied the buffer", cleared=index)

    def _speech_started(self, env: Envelope, index: int) -> None:
        self.turn.heard = True

    def _vad_announces(self, env: Envelope, index: int) -> None:
        item_id = text(env.data.get("item_id"))
        if item_id:
            self._vad_items.append(item_id)

    def _committed(self, env: Envelope, index: int) -> None:
        ctx = self.ctx
        fmt = ctx.input_format
        item_id = text(env.data.get("item_id"))
        by_vad = not self._pending or (bool(item_id) and item_id in self._vad_items)
        if by_vad:
            if item_id in self._vad_items:
                self._vad_items.remove(item_id)
            commit = index
            oldest = self._pending[0] if self._pending else None
            if oldest is None:
                # Server VAD committed the turn: judge the audio appended so far.
                turn, self.turn = self.turn, Turn("the server VAD's commit", vad_commit=index)
                self._judge_turn(index, turn, fmt, by_vad=True)
            elif oldest.turn is not None and oldest.vad_took is None:
                # Server VAD committed the audio while our commit was on its way (the server takes
                # events in order: VAD's commit came first, so it holds what was appended before ours).
                turn, oldest.turn, oldest.vad_took = oldest.turn, Turn("the server VAD's commit"), index
                self._judge_turn(index, turn, fmt, by_vad=True)
        else:
            pending = self._pending.popleft()  # ours: the server answers commits in order
            commit = pending.index
            pending.short = None  # taken: it held the audio the server needs, whatever the frames show
            if pending.turn is not None:
                self._judge_answered(pending, index, fmt)
            elif pending.deferred is not None:
                turn = pending.deferred
                frames = tuple(i for i in (commit, turn.first, index) if i is not None)
                self._transcription_off(ctx.name(commit), frames, turn, fmt)
        if item_id:
            if len(self._commit_of_item) >= MAX_ITEMS_REMEMBERED:
                del self._commit_of_item[next(iter(self._commit_of_item))]
            self._commit_of_item[item_id] = commit
            if len(self._untranscribed) >= MAX_ITEMS_REMEMBERED:
                del self._untranscribed[next(iter(self._untranscribed))]
            self._untranscribed[item_id] = index

    def _judge_answered(self, pending: PendingCommit, answer: int, fmt: AudioFormat) -> None:
        """Our commit under server VAD, which the server took (`answer` is its committed)."""
        turn = pending.turn
        assert turn is not None
        if pending.vad_took is not None:
            # What VAD's commit left in the buffer: how much and what it is, the frames do not say.
            note = f" (what {self.ctx.name(pending.vad_took)}, server VAD's commit, left in the buffer)"
            self._double_commit(pending.index, answer, pending.vad_took, racing=True)
            self._judge_turn(pending.index, Turn(turn.since), fmt, answer=answer, note=note)
        elif turn.vad_commit is not None:
            # The buffer also held what VAD's commit left after the end of speech: its size is unknown.
            if not turn.heard:
                self._double_commit(pending.index, answer, turn.vad_commit, racing=False)
            self._judge_turn(pending.index, turn, fmt, answer=answer, size_known=False)
        else:
            self._judge_turn(pending.index, turn, fmt, answer=answer)

    def _double_commit(self, index: int, answer: int, vad_commit: int, *, racing: bool) -> None:
        """Our commit under server VAD, taken by the server after VAD had committed the turn itself, with
        no speech detected since: a second item of what VAD left (the end of the turn, mostly silence)."""
        ctx = self.ctx
        when = (
            f"while it was on its way server VAD committed the turn ({ctx.name(vad_commit)})"
            if racing
            else f"server VAD had already committed the turn ({ctx.name(vad_commit)}) and detected no speech since"
        )
        ctx.emit(
            "double-commit",
            f"{ctx.name(index)} commits the input buffer under server VAD, but {when}. The server took it "
            f"({ctx.name(answer)}): a second user item of what VAD's commit left, the tail of the turn after the "
            "end of speech (mostly silence), which is transcribed on its own (often failing or empty) and, with a "
            "response.create or create_response, answered on its own too.",
            "With server VAD on, the server commits each turn itself (input_audio_buffer.committed) and starts its "
            "response: don't also send input_audio_buffer.commit (or response.create). For push-to-talk, turn VAD "
            "off (turn_detection null) and commit yourself.",
            (index, answer, vad_commit),
        )

    def _judge_turn(
        self,
        index: int,
        turn: Turn,
        fmt: AudioFormat,
        *,
        by_vad: bool = False,
        answer: int | None = None,
        size_known: bool = True,
        note: str = "",
        transcription: bool = True,
    ) -> None:
        """Judge the audio a commit committed: `index` is our commit (`answer` the server's committed for
        it, when judged at the answer) or, `by_vad`, the server VAD's committed. `transcription`: False
        when whether it is on for this commit is judged later (at its answer)."""
        ctx = self.ctx
        frames = tuple(i for i in (index, turn.first, answer) if i is not None)
        subject = f"Server VAD's {ctx.name(index)}" if by_vad else ctx.name(index)
        if transcription:
            self._transcription_off(subject, frames, turn, fmt, note, size_known)
        noted = tuple(i for i in (turn.header_at if turn.header_bad else None, turn.invalid_first) if i is not None)
        if noted:
            if len(self._audio_findings) >= MAX_ITEMS_REMEMBERED:
                del self._audio_findings[next(iter(self._audio_findings))]
            self._audio_findings[index] = noted
        if turn.bytes == 0 or turn.elided:
            return
        # Under VAD the whole turn may not be in this commit, but what it was made of still holds.
        self._judge_pcm(
            f"{subject} commits",
            frames,
            turn.bytes,
            fmt,
            turn.all_zero,
            turn.sampler,
            headed=turn.header_at is not None,
        )

    def _judge_pcm(
        self,
        subject: str,
        frames: tuple[int, ...],
        nbytes: int,
        fmt: AudioFormat,
        zero: bool,
        sampler: PcmSampler,
        *,
        headed: bool = False,
    ) -> None:
        """Judge committed (or item) audio by its samples: the wrong sample format, then (PCM16 only)
        silence, byte order, clipping. `headed`: a WAV header in it was reported (and says its format)."""
        ctx = self.ctx
        if not headed and self._wrong_width(subject, frames, fmt, sampler):
            return  # its level, byte order and clipping are those of misread bytes: beside the point
        if not fmt.is_pcm16:
            return
        if not zero and sampler.windows >= QUIET_WINDOWS and not sampler.voiced:
            if len(self._quiet) >= MAX_ITEMS_REMEMBERED:
                del self._quiet[next(iter(self._quiet))]
            self._quiet[frames[0]] = sampler.windows
        if zero:
            ctx.emit(
                "silent-audio",
                f"{subject} {duration(nbytes, fmt)} of audio that is all zeros (digital silence): there is no "
                "speech in it to detect, answer or transcribe.",
                _SILENCE_FIX,
                frames,
            )
        elif sampler.byte_swapped:
            ctx.emit(
                "byte-swapped-audio",
                f"{subject} audio that reads as big-endian PCM16 (its samples are about "
                f"{sampler.diff_le / max(sampler.diff_be, 1):.0f}× smoother with each sample's two bytes swapped): "
                "the server reads little-endian, so it hears loud noise instead of speech and the transcript will "
                "be garbage or empty.",
                "Send 16-bit samples little-endian: in Python samples.astype('<i2').tobytes() (not '>i2'); in "
                "JavaScript an Int16Array, or DataView.setInt16(offset, value, true).",
                frames,
            )
        elif sampler.clipping:
            ctx.emit(
                "clipped-audio",
                f"{subject} clipped audio: {sampler.clipped_share:.0%} of the samples looked at sit at full scale "
                "(±32767), so speech is distorted (too much gain, or float samples scaled past ±1.0) and "
                "transcription suffers.",
                "Lower the input gain, and convert float samples by clamping to [-1.0, 1.0] and multiplying by "
                "32767 (not 32768 or more).",
                frames,
            )

    def _wrong_width(self, subject: str, frames: tuple[int, ...], fmt: AudioFormat, sampler: PcmSampler) -> bool:
        """`audio-sample-format`: bytes that are not samples of the session's format (G.711 or float32 in
        a PCM16 session, PCM16 in a G.711 one). True when found."""
        width = sampler.sample_width
        if fmt.is_pcm16 and width == "8-bit":
            what = (
                "audio whose bytes do not pair up into 16-bit samples: every byte varies as much as the next, "
                "where in 16-bit PCM every second byte (a sample's high byte) stays small. That is how 8-bit "
                "G.711 audio looks (μ-law or A-law, what telephone bridges such as Twilio send)"
            )
            fix = (
                'If the audio is G.711 (8 kHz μ-law from Twilio, say), declare it: session.audio.input.format {"type": '
                '"audio/pcmu"} (A-law: "audio/pcma"; beta: input_audio_format "g711_ulaw" or "g711_alaw") and send '
                "its bytes as they come; or decode it to 24 kHz mono PCM16 before sending."
            )
        elif fmt.is_pcm16 and width == "float32":
            what = (
                "audio that reads as 32-bit float samples: every fourth byte holds a float's exponent, as the "
                "bytes of a Web Audio Float32Array or a numpy float32 array do"
            )
            fix = (
                "Convert the floats to 16-bit integers before base64: clamp to [-1, 1], multiply by 32767 and "
                "store little-endian int16 (Python: (np.clip(x, -1, 1) * 32767).astype('<i2').tobytes(); "
                "JavaScript: an Int16Array of Math.max(-1, Math.min(1, s)) * 0x7fff)."
            )
        elif fmt.is_pcm16 and width == "stereo":
            what = (
                "audio whose samples come in equal pairs: two channels (stereo) with the same sound in each, "
                "interleaved, where the session reads one"
            )
            fix = (
                "Send one channel: mix down to mono before encoding (ffmpeg -ac 1; Python: "
                "samples.reshape(-1, 2)[:, 0]; Web Audio: getChannelData(0) only)."
            )
            self.ctx.emit(
                "audio-sample-format",
                f"{subject} {what}. The server takes every sample as the next instant, so it hears each one twice: "
                "the speech at half speed, an octave low, and the transcript will be garbled or empty, with no "
                "error to say why.",
                fix,
                frames,
            )
            return True
        elif not fmt.is_pcm16 and width in ("pcm16", "stereo"):
            law, name = ("mulaw", "audio/pcmu") if fmt is PCMU else ("alaw", "audio/pcma")
            what = (
                "audio whose bytes pair up as 16-bit PCM samples: every second byte stays near 00 or FF, as a "
                "16-bit sample's high byte does, where in G.711 every byte is a sample of its own"
            )
            fix = (
                f"Send what the session declares ({name}): encode the audio as 8 kHz mono G.711 {law} (e.g. "
                f"ffmpeg -ar 8000 -ac 1 -f {law}), or declare the PCM you send: session.audio.input.format "
                '{"type": "audio/pcm", "rate": 24000} (beta: input_audio_format "pcm16"), resampled to 24 kHz.'
            )
        else:
            return False
        self.ctx.emit(
            "audio-sample-format",
            f"{subject} {what}. The session reads {fmt.label}, so the server hears noise instead of speech: the "
            "transcript will be empty or garbage, and no error says why.",
            fix,
            frames,
        )
        return True

    # -- audio in conversation.item.create ----------------------------------------------------

    def _item_create(self, env: Envelope, index: int) -> None:
        ctx = self.ctx
        item = obj(env.data.get("item"))
        parts = [
            (i, part)
            for i, part in enumerate(objects(item.get("content")))
            if part.get("type") == "input_audio" and "audio" in part
        ]
        if not parts:
            return
        fmt = ctx.input_format
        audible: list[tuple[int, str]] = []
        for i, part in parts:
            audio = part.get("audio")
            problem = None if is_audio_tag(audio) else _audio_problem(audio)
            if problem is not None:
                self._refused.append(index)
                ctx.emit(
                    "invalid-base64-audio",
                    f"{ctx.name(index)}: the audio of content[{i}] {problem}. The server refuses the item "
                    "(invalid_value on its audio), so it is not added to the conversation.",
                    "Send the raw audio bytes as standard base64 (RFC 4648, '+' '/' and '=' padding, no line "
                    "breaks, no data: prefix).",
                    (index,),
                )
                return
            assert isinstance(audio, str)
            if audio and not text(part.get("transcript")):
                audible.append((i, audio))
        if audible:
            where = ", ".join(f"content[{i}]" for i, _ in audible)
            nbytes = sum(audio_bytes(audio) for _, audio in audible)
            if ctx.updates_unanswered and ctx.applied is not None:
                # The server applies those updates before it takes the item: judged once they are answered.
                self.items_waiting.append(WaitingItem(index, tuple(ctx.updates_unanswered), where, nbytes, fmt))
            else:
                self._not_transcribed(index, where, nbytes, fmt)
        for i, part in parts:
            audio = str(part.get("audio"))
            if is_audio_tag(audio):
                continue  # left out of the recording: only its length is known
            header = wav_header(audio)
            skip = (header.data_offset or 44) if header is not None else 0
            if header is not None:
                self._wav_finding(index, header, fmt, f"the audio of content[{i}]")
            if decoded_size(audio) > skip:
                sampler = PcmSampler()
                sampler.feed(audio, skip)
                subject = f"{ctx.name(index)} carries (content[{i}])"
                zero = fmt.is_pcm16 and is_zero_audio(audio)
                self._judge_pcm(subject, (index,), decoded_size(audio), fmt, zero, sampler, headed=header is not None)

    def settle_items(self, *, final: bool = False) -> None:
        """Judge the items waiting whose session updates have all been answered (`final`: every one
        still waiting, as nothing more will answer: the connection or the recording ended)."""
        unanswered = self.ctx.updates_unanswered
        waiting, self.items_waiting = self.items_waiting, []
        for item in waiting:
            if final or not any(update in unanswered for update in item.updates):
                self._not_transcribed(item.index, item.where, item.nbytes, item.fmt)
            else:
                self.items_waiting.append(item)

    def _not_transcribed(self, index: int, where: str, total: int, fmt: AudioFormat) -> None:
        """`item-create-audio-not-transcribed`: `where` names the item's audible parts, `total` their bytes."""
        ctx = self.ctx
        known, config = ctx.transcription()
        on = known and config is not None
        setting = (
            f"even though transcription is {describe_transcription(config)}"
            if on
            else "and transcription is off in this session anyway"
            if known
            else "whatever the session says"
        )
        vad = (
            " Server VAD does not answer it either: only committed buffer audio starts a response on its own."
            if ctx.vad
            else ""
        )
        ctx.emit(
            "item-create-audio-not-transcribed",
            f"{ctx.name(index)} carries audio ({where}, {duration(total, fmt)}): the server never transcribes "
            f"audio added with conversation.item.create, {setting}, so the item's transcript stays null and no "
            f"conversation.item.input_audio_transcription event will come for it.{vad}",
            f"To get the server's transcript, send the same audio ({_raw(fmt)}, base64) "
            "with input_audio_buffer.append, then input_audio_buffer.commit (or let server VAD commit it); the "
            "text arrives in conversation.item.input_audio_transcription.completed for the committed item_id. Or "
            "keep conversation.item.create and put your own text in the part's transcript field.",
            (index,),
            Severity.ERROR if on else Severity.WARNING,
        )

    def _wav_finding(self, index: int, header: WavHeader, fmt: AudioFormat, what: str = "its audio") -> bool:
        """Report a WAV header; True when it declares another format than the session's (garbled samples)."""
        ctx = self.ctx
        rate, bits, tag = _EXPECTED_WAV[fmt.name]
        # A header of the session's format that ends within the bytes read is a click; one whose metadata
        # runs on (kilobytes of LIST chunks) plays as noise before the samples.
        same_format = header.matches(rate=rate, bits=bits, format_tag=tag)
        matches = same_format and header.data_offset is not None
        if same_format and not matches:
            effect = (
                "the samples after it are in the session's format, but the header runs on past its first bytes "
                "(metadata chunks before the samples), so it plays as a burst of noise before them"
            )
            fix = (
                "Strip the header (everything up to the end of the file's data chunk header) and send only the samples."
            )
        elif matches:
            effect = (
                "the samples after it happen to be in the session's format, and the header bytes play as a click "
                "at the start (harmless once)"
            )
            fix = (
                f"Strip the header (the first {header.data_offset or 44} bytes of the file) and send only the "
                "samples after it."
            )
        else:
            speed = _speed(header, fmt)
            effect = (
                f"the header bytes play as a click and the samples{speed} and garbled"
                if speed
                else "the header bytes play as a click and the samples play garbled"
            )
            effect += ", so what it hears (and transcribes) is not what was recorded"
            if fmt is PCMU or fmt is PCMA:
                law = "mulaw" if fmt is PCMU else "alaw"
                fix = (
                    f"Send raw G.711 bytes without a header: convert to 8 kHz mono {law} first (e.g. "
                    f"ffmpeg -i in.wav -ar 8000 -ac 1 -f {law} out.raw) and base64 the result."
                )
            else:
                fix = (
                    "Send raw samples only: decode the file, convert to 24 kHz mono 16-bit little-endian PCM and "
                    "drop the header before base64 (e.g. ffmpeg -i in.wav -ar 24000 -ac 1 -f s16le out.pcm; in "
                    "Python, soundfile to read and soxr to resample)."
                )
        ctx.emit(
            "wav-header-in-audio",
            f"{ctx.name(index)}: {what} starts with a RIFF/WAVE header, so it is {header.describe()}, not raw "
            f"audio. The server never reads headers and takes every byte as {fmt.label}: {effect}.",
            fix,
            (index,),
            Severity.WARNING if matches else None,  # protocol §3.2: a header of the right format is one click
        )
        return not matches

    def _wav_append_again(self, index: int, first: int) -> None:
        """A second append of one turn starting with a header (of the session's format, as the first's):
        a header on every chunk, as some TTS streams send, is a click every chunk. The first's finding
        (a warning: one click) becomes an error that says so: one finding for the turn, where a
        warning and an error said the same thing twice."""
        ctx = self.ctx
        message = (
            f"{ctx.name(first)}: its audio starts with a RIFF/WAVE header, and so does {ctx.name(index)}: the "
            "chunks of this turn each carry a header (a WAV file per chunk, as some TTS streams send), and the "
            "server takes every byte as audio, so every header plays as a click and the audio is no longer clean "
            "even though its samples are in the session's format (later chunks are not reported again)."
        )
        fix = (
            "Strip the header from every chunk that starts with RIFF (or convert the whole file once and send raw "
            "samples only)."
        )
        found = next((f for f in ctx.blamed(first) if f.rule == "wav-header-in-audio"), None)
        if found is not None:
            ctx.amend(found, message, (first, index), severity=Severity.ERROR, fix=fix)
        else:
            ctx.emit("wav-header-in-audio", message, fix, (first, index))

    # -- transcription ----------------------------------------------------------------------

    def _transcription_off(
        self,
        subject: str,
        frames: tuple[int, ...],
        turn: Turn,
        fmt: AudioFormat,
        note: str = "",
        size_known: bool = True,
    ) -> None:
        """`transcription-off-at-commit`, when the session the server applied has transcription off."""
        ctx = self.ctx
        applied = ctx.applied
        known, config = ctx.transcription()
        if applied is None or not known or config is not None:
            return
        path = "audio.input.transcription" if "type" in applied or "audio" in applied else "input_audio_transcription"
        size = f"{duration(turn.bytes, fmt)} of " if turn.bytes and size_known else ""
        why, fix = (
            "",
            (
                f"To get the text of what was said, turn transcription on before committing: send session.update "
                f"with {ctx.transcription_path()} and wait for session.updated. If you don't need a transcript, "
                "ignore this."
            ),
        )
        asked = self._asked
        if asked is not None:
            frames = (*frames, asked)
            refused = [f for f in ctx.blamed(asked) if f.severity is Severity.ERROR]
            if refused:
                named = ", ".join(dict.fromkeys(f.rule for f in refused))
                why = (
                    f" {ctx.name(asked)} asked for transcription, but the server refuses that whole update ({named} "
                    "on it), so transcription was never turned on."
                )
                fix = (
                    f"Fix {ctx.name(asked)} first ({refused[0].rule}: {refused[0].fix}) and send it again; commit "
                    "only once its session.updated shows transcription on."
                )
            else:
                why = (
                    f" {ctx.name(asked)} asked for transcription, but no session.updated applying it came before "
                    "this commit."
                )
                fix = (
                    f"Wait for the session.updated that answers {ctx.name(asked)} (and check it shows {path} on) "
                    "before committing; if an error answers it instead, fix what the error names."
                )
        ctx.emit(
            "transcription-off-at-commit",
            f"{subject} commits {size}user audio{note} while input transcription is off "
            f"({ctx.applied_name()} applied {path}: null): the item is created with transcript null and no "
            f"conversation.item.input_audio_transcription event will follow.{why}",
            fix,
            frames,
        )
        self._off_at = frames[0]

    def _update(self, env: Envelope, index: int) -> None:
        """A session update: remember whether it asks for input transcription, in either dialect's place
        or a wrong one (`session.transcription`, `audio.input.input_audio_transcription`: refused, but
        what the developer meant)."""
        session = obj(env.data.get("session"))
        audio = obj(session.get("audio"))
        for holder in (session, audio, obj(audio.get("input"))):
            for key, value in holder.items():
                if "transcription" in key and isinstance(value, dict):
                    self._asked = index
                    return
        audio_in = obj(audio.get("input"))
        if audio_in.get("transcription", 0) is None or session.get("input_audio_transcription", 0) is None:
            self._asked = None  # turned off on purpose

    def _updated(self, env: Envelope, index: int) -> None:
        """The server applied a session: transcription turned on after a commit it was off for is said
        on that commit's finding (turning it on does not transcribe audio committed before)."""
        off_at = self._off_at
        if off_at is None or self.ctx.transcription()[1] is None:
            return
        self._off_at = None
        ctx = self.ctx
        finding = next((f for f in ctx.blamed(off_at) if f.rule == "transcription-off-at-commit"), None)
        if finding is not None:
            later = (
                f" Transcription was turned on only later, by {ctx.name(index)}: it applies to audio committed "
                "after that, never to this item."
            )
            ctx.amend(finding, finding.message + later, (*finding.frames, index))

    def _transcribed(self, env: Envelope, index: int) -> None:
        """An item's transcript came whole (`completed`)."""
        item_id = text(env.data.get("item_id"))
        self._untranscribed.pop(item_id, None)
        self._replied.discard(item_id)
        self._partial.pop(item_id, None)

    def _transcribing(self, env: Envelope, index: int) -> None:
        """A part of an item's transcript (`delta`, `segment`): it is coming, not yet whole."""
        item_id = text(env.data.get("item_id"))
        committed = self._untranscribed.pop(item_id, None)
        self._replied.discard(item_id)
        partial = self._partial.get(item_id)
        if partial is None:
            if committed is None:
                return  # an item this connection did not commit (a log that starts mid-session)
            if len(self._partial) >= MAX_ITEMS_REMEMBERED:
                del self._partial[next(iter(self._partial))]
            partial = self._partial[item_id] = _Partial(committed, index)
        partial.last = index
        partial.parts += 1

    def _response_done(self, env: Envelope, index: int) -> None:
        """A response ended: the items still without a transcript are now the case a developer asks
        about ("I got the reply, and my own words are null")."""
        if len(self._replied) < len(self._untranscribed):
            self._replied.update(self._untranscribed)
        for partial in self._partial.values():
            partial.replied = True

    def _failed(self, env: Envelope, index: int) -> None:
        ctx = self.ctx
        item_id = text(env.data.get("item_id"))
        self._untranscribed.pop(item_id, None)  # said by transcription-failed
        self._replied.discard(item_id)
        self._partial.pop(item_id, None)
        commit = self._commit_of_item.get(item_id)
        item_id = plain(item_id, 80)
        by = f" (committed by {ctx.name(commit)})" if commit is not None else ""
        error = obj(env.data.get("error"))
        code = text(error.get("code"))
        known = self._known_causes(commit)
        why = fix = ""
        quiet = self._quiet.get(commit) if commit is not None else None
        if known:
            named = "; ".join(f"{f.rule} on {ctx.name(f.frames[0])}" for f in known)
            why = f" The linter already found why: {named}."
            fix = f"Fix what {known[0].rule} says: {known[0].fix}"
        elif quiet is not None:
            # Dithered silence (sox's, a muted device's noise floor) is not all zeros, so silent-audio
            # did not say it; the generic fix read as if the audio could be speech.
            why = (
                f" Its audio is near silence: none of the {quiet} stretches of it the linter sampled reaches "
                f"the linter's floor for speech (a mean sample of {VOICED_FLOOR} of 32,767, about -44 dBFS)."
            )
            fix = _QUIET_FIX
        ctx.emit(
            "transcription-failed",
            f"{ctx.name(index)}: the server could not transcribe item {item_id or '(no item_id)'}{by}: "
            f"{plain(error_summary(env.data)).rstrip('. ')}. The item keeps transcript null.{why}",
            fix or _failed_fix(code, ctx.input_format),
            tuple(i for i in (index, commit, *(f.frames[0] for f in known)) if i is not None),
        )

    def _known_causes(self, commit: int | None) -> list[Finding]:
        """Findings already made about the audio of `commit`'s item, most telling first: a double commit,
        then what is wrong with the audio (on the commit, or on the appends it committed)."""
        if commit is None:
            return []
        ctx = self.ctx
        found = ctx.blamed(commit, besides="transcription-off-at-commit")
        for append in self._audio_findings.get(commit, ()):
            found += ctx.blamed(append)
        found.sort(key=lambda f: f.rule != "double-commit")
        return found

    # -- errors the server sent about our frames ----------------------------------------------

    def explain_error(self, error: ServerError) -> bool:
        """Take an `error` about a commit; True when a finding already says (or now says) it.

        A commit the server refuses committed nothing, whatever was appended before it: it is
        never judged as a commit (under server VAD it waited for this answer). An error answering
        audio that is not base64 is explained by the finding on the first such frame."""
        if self._refused and self._answers_refused(error):
            return True
        cause = error.cause
        pending: PendingCommit | None = None
        if cause is not None:
            pending = next((p for p in self._pending if p.index == cause), None)
        elif error.code == _COMMIT_EMPTY and self._pending:
            pending = self._pending[0]  # the client set no event_id: the oldest commit it was
            cause = pending.index
        if pending is not None:
            self._pending.remove(pending)  # refused: no committed event will answer it
            if pending.short is not None:  # refused, as the frames said it would be
                refusal = error.index if error.code == _COMMIT_EMPTY else None
                self._too_short_sent(pending.index, *pending.short, refusal)
                return error.code == _COMMIT_EMPTY
        if error.code != _COMMIT_EMPTY:
            return False
        ctx = self.ctx
        subject = ctx.name(cause) if cause is not None else "an input_audio_buffer.commit"
        why, vad = "", False
        frames: tuple[int | None, ...] = (cause, error.index)
        turn = pending.turn if pending is not None else None
        if pending is not None and pending.vad_took is not None:
            vad = True
            frames = (cause, error.index, pending.vad_took)
            why = (
                f" Server VAD had committed the audio appended before it ({ctx.name(pending.vad_took)}) while the "
                "commit was on its way: it commits turns itself, so a commit after its input_audio_buffer.committed "
                "finds only what was appended since."
            )
        elif turn is not None:
            fmt = ctx.input_format
            frames = (cause, error.index, turn.first, turn.vad_commit, turn.invalid_first, turn.cleared)
            why = _appended_since(turn, fmt, ctx)
            if turn.vad_commit is not None:
                vad = True
                why += (
                    f" Server VAD had already committed the turn ({ctx.name(turn.vad_commit)}): it commits turns "
                    "itself, so a commit after its input_audio_buffer.committed finds only what was appended since."
                )
        # After server VAD's own commit the turn is not lost: this commit only made nothing more (it read
        # "nothing is transcribed" of a turn whose transcript came; review 55g).
        lost = (
            "so this commit created no item (the turn server VAD committed is transcribed as usual)"
            if vad
            else "so no item was created and nothing is transcribed"
        )
        ctx.emit(
            "commit-too-short",
            f"{subject} was refused by {ctx.name(error.index)} ({error.summary}): the buffer held less than 100 ms "
            f"when the server took the commit, {lost}.{why}",
            (_refused_fix(turn) + _cleared_fix(turn, ctx) if turn is not None else "")
            + "Append at least 100 ms of audio before input_audio_buffer.commit. "
            + (
                "With server VAD on, the server commits turns itself: don't commit after its "
                "input_audio_buffer.committed, or turn VAD off (turn_detection null) for push-to-talk."
                if vad or ctx.vad
                else "With server VAD on, the server commits turns itself: don't commit again after its "
                "input_audio_buffer.committed."
            ),
            tuple(i for i in frames if i is not None),
        )
        return True

    def _answers_refused(self, error: ServerError) -> bool:
        """True when `error` answers a frame whose audio was found not to be base64 (and forgets it):
        named by its event_id, or, when the client set none, an error about audio (errors come in order)."""
        refused, cause = self._refused, error.cause
        if cause is not None:
            if refused[0] == cause:
                refused.popleft()
                return True
            if cause in refused:
                refused.remove(cause)
                return True
            return False
        if error.param.endswith("audio") or "base64" in error.message:
            refused.popleft()
            return True
        return False


def _known_short(turn: Turn, fmt: AudioFormat) -> bool:
    """True when the frames say how much `turn` buffered, and it is under 100 ms. Size tags say it
    closely enough: each tag's length in whole ms bounds its bytes, so the 100 ms line is not blurred."""
    return turn.vad_commit is None and turn.bytes < MIN_COMMIT_MS * fmt.bytes_per_ms


def _refusals(turn: Turn, ctx: Context) -> str:
    """`all 36 appends since the session began were refused …`: the appends of `turn` the server refused."""
    assert turn.invalid_first is not None
    appends = "append" if turn.refused == 1 else "appends"
    return (
        f"{turn.refused} {appends} since {turn.since} carried audio that is not base64, and the server refused "
        f"{'it' if turn.refused == 1 else 'each one'} (invalid-base64-audio, on {ctx.name(turn.invalid_first)})"
    )


def _refused_fix(turn: Turn | None) -> str:
    """The fix's first words when appends of `turn` were refused: that is the fix that matters."""
    if turn is None or not turn.refused:
        return ""
    return "Send the audio as standard base64 (see invalid-base64-audio): refused appends buffer nothing. "


def _cleared_fix(turn: Turn, ctx: Context) -> str:
    """The fix's words when a clear began `turn` (and it holds under 100 ms): that clear dropped the audio."""
    if turn.cleared is None or turn.bytes >= MIN_COMMIT_MS * ctx.input_format.bytes_per_ms:
        return ""
    return (
        f"{ctx.name(turn.cleared)} dropped everything appended before it: clear only to throw a turn away, never "
        "between a turn's audio and its commit. "
    )


def _appended(turn: Turn, fmt: AudioFormat, ctx: Context) -> str:
    """What the client appended in `turn`, for a commit of it: `only 40 ms of audio (1,920 bytes of …)`."""
    if turn.bytes == 0:
        if turn.refused:
            return f"an empty input audio buffer: all {_refusals(turn, ctx)}"
        return f"an empty input audio buffer (nothing was appended since {turn.since})"
    refused = f"; {_refusals(turn, ctx)}" if turn.refused else ""
    return (
        f"only {duration(turn.bytes, fmt)} of audio ({turn.bytes:,} bytes of {fmt.label} appended since {turn.since}"
        f"{refused})"
    )


def _appended_since(turn: Turn, fmt: AudioFormat, ctx: Context) -> str:
    """What the client appended before a commit the server refused, as a sentence (with a leading space)."""
    if turn.bytes == 0:
        if turn.refused:
            return f" Nothing reached the buffer: all {_refusals(turn, ctx)}."
        return f" Nothing was appended since {turn.since}."
    if turn.bytes < MIN_COMMIT_MS * fmt.bytes_per_ms:
        refused = f" ({_refusals(turn, ctx)})" if turn.refused else ""
        return (
            f" Only {duration(turn.bytes, fmt)} of audio ({turn.bytes:,} bytes of {fmt.label}) was appended since "
            f"{turn.since}{refused}."
        )
    return (
        f" The client had appended {duration(turn.bytes, fmt)} of audio since {turn.since}, more than the server "
        "found: something committed or cleared the rest first."
    )


QUIET_WINDOWS = 4
"""Sampled windows of a commit's audio, none reaching speech level, that make it near silence."""

_QUIET_FIX = (
    "Check what records it: a muted or distant microphone, the wrong input device, or gain lost in a "
    "conversion (float samples written as integers without scaling by 32767). Send speech at a normal level."
)

_SILENCE_FIX = (
    "Check what fills the buffer: a muted or wrong input device, a conversion that outputs zeros, or a buffer "
    "sent before it was filled. Send the microphone's (or the file's) real samples as 24 kHz mono PCM16."
)


def _raw(fmt: AudioFormat) -> str:
    """The session's input format as the bytes to send: `raw 24 kHz mono PCM16 little-endian, no header`."""
    if fmt.is_pcm16:
        return "raw 24 kHz mono PCM16 little-endian, no header"
    return f"raw {fmt.label} bytes, mono, no header"


def _failed_fix(code: str, fmt: AudioFormat) -> str:
    """The fix for a transcription that failed with `code` (no other finding said why) in a session of `fmt`."""
    if code == "audio_unintelligible":
        return (
            "The audio held no speech the model could make out: check it is speech in the session's input format "
            f"({_raw(fmt)}, not silent or clipped), and set transcription.language if you know it."
        )
    return (
        f"Check that the committed audio is speech in the session's input format ({_raw(fmt)}) and that the "
        "transcription model is one the service offers; other findings on the commit say what is wrong with its "
        "audio, if anything."
    )


def _audio_problem(audio: Any) -> str | None:
    if audio is None:
        return "is missing (no audio field, or null)"
    if not isinstance(audio, str):
        return f"is a JSON {json_type_name(audio)}, not a base64 string"
    return base64_problem(audio)


def _speed(header: WavHeader, fmt: AudioFormat) -> str:
    """` play about 3.7× too slow` (empty when the header did not say enough)."""
    per_second = header.bytes_per_second
    if not per_second or header.format_tag not in (1, 3):
        return ""
    factor = per_second / (fmt.bytes_per_ms * 1000)
    if factor > 1.05:
        pace = f" play about {factor:.2g}× too slow"
    elif factor < 0.95:
        pace = f" play about {1 / factor:.2g}× too fast"
    else:
        pace = " play at about the right speed"
    return pace
