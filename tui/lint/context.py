"""What every rule group shares: the journal, the session as the server applied it, and the findings sink."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui.journal import Journal, SessionFacts
from tui.protocol import Dialect, text
from tui.protocol.session_config import holds_transcription, transcription_config, turn_detection_config
from tui.protocol.summary import audio_length, describe_config

from .finding import Finding, Severity, plain
from .rules import RULES
from .shapes import PCM16, AudioFormat, input_format, output_format


@dataclass(frozen=True, slots=True)
class ServerError:
    """An `error` event, read once, with the frame we sent that it names (if any)."""

    index: int
    code: str
    message: str
    param: str
    event_id: str
    cause: int | None
    summary: str
    """`code: message`, as the event log shows it (one line, without a final period)."""


class Context:
    """The linter's shared state: session facts, naming of frames, and emitting findings."""

    def __init__(
        self,
        journal: Journal,
        sink: Callable[[Finding], None],
        facts: SessionFacts | None = None,
        replace: Callable[[Finding, Finding], None] | None = None,
    ) -> None:
        self.journal = journal
        self.facts = facts if facts is not None else SessionFacts()
        """The session as the frames say: dialect, applied and requested configuration."""
        self.applied_index: int | None = None
        """The `session.created`/`session.updated` frame that set `facts.applied`."""
        self.input_format: AudioFormat = PCM16
        """The input audio format the server applied (24 kHz PCM16 when unknown); see `refresh`."""
        self.output_format: AudioFormat = PCM16
        """The output audio format the server applied (24 kHz PCM16 when unknown)."""
        self.server_spoke = False
        """True once the server sent this connection an event other than `error`: its session began
        (a log may lack the session.created that says so), so the handshake's key was accepted."""
        self.server_heard = False
        """True once the server sent this connection any frame, an `error` included: the recording is
        not the client's side alone."""
        self.vad = False
        """True when the applied session has turn detection (the server commits turns itself)."""
        self.by_frame: dict[int, list[Finding]] = {}
        """Findings by journal index of each frame they concern (the linter's own, shared)."""
        self.updates_unanswered: deque[int] = deque(maxlen=32)
        """Session updates sent and not yet answered by `session.updated` or an error, oldest first (kept
        by the config rules): while one waits, the session the server applies next is not `applied`."""
        self._sink = sink
        self._replace = replace

    def refresh(self) -> None:
        """Re-read what the rules use of the applied session (after it changed): once per session frame."""
        applied = self.facts.applied
        self.input_format = input_format(applied)
        self.output_format = output_format(applied)
        self.vad = applied is not None and turn_detection_config(applied) is not None

    # -- naming -----------------------------------------------------------------------------

    def name(self, index: int) -> str:
        """`type #seq` of the frame at `index`."""
        frame = self.journal[index]
        return f"{plain(frame.type, 80)} #{frame.seq}"

    # -- the session ------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect | None:
        """The server's dialect, once its frames have said it."""
        return self.facts.dialect

    @property
    def fix_dialect(self) -> Dialect:
        """The dialect fixes are written for (GA until the server says otherwise)."""
        return self.facts.dialect or Dialect.GA

    @property
    def applied(self) -> dict[str, Any] | None:
        """The session the server last reported applying, or None before `session.created`."""
        return self.facts.applied

    def applied_name(self) -> str:
        """`session.updated #12`, or "the session" when no frame said it."""
        return self.name(self.applied_index) if self.applied_index is not None else "the session"

    def transcription(self) -> tuple[bool, dict[str, Any] | None]:
        """(known, config): input transcription as the server applied it, else as last requested.
        An applied session that leaves it out says nothing of it (a minimal server's `{"id": ...}`):
        the one requested is what is known then, as before any session.updated."""
        applied = self.facts.applied
        if applied is not None and holds_transcription(applied):
            return True, transcription_config(applied)
        requested = self.facts.requested
        if requested is not None and holds_transcription(requested):
            return True, transcription_config(requested)
        return False, None

    def kept(self) -> str:
        """What the server kept, in a few words: its last applied session, summarised."""
        if self.facts.applied is None:
            return "its previous configuration (no session.created or session.updated was seen)"
        summary = describe_config(self.facts.applied) or "its defaults"
        return f"the session of {self.applied_name()}: {summary}"

    def transcription_path(self, dialect: Dialect | None = None) -> str:
        """Where input transcription is configured in `dialect`, or else in the server's."""
        if (dialect or self.fix_dialect) is Dialect.BETA:
            return 'session.input_audio_transcription {"model": "whisper-1"}'
        return 'session.audio.input.transcription {"model": "gpt-4o-transcribe"} (with session.type "realtime")'

    # -- findings ---------------------------------------------------------------------------

    def blamed(self, index: int, *, besides: str = "") -> list[Finding]:
        """The findings made so far that blame the frame at `index` (name it first), but those of rule `besides`."""
        return [f for f in self.by_frame.get(index, ()) if f.frames[0] == index and f.rule != besides]

    def emit(
        self, rule: str, message: str, fix: str, frames: tuple[int, ...], severity: Severity | None = None
    ) -> None:
        """Report one finding of `rule` (its catalogue severity unless `severity` is given).

        Text from the wire was cut where it was quoted; `plain` here only escapes what is left. A
        frame named twice in `frames` (one append that is both a stretch's first and last) is listed once.
        """
        frames = tuple(dict.fromkeys(frames))
        self._sink(Finding(rule, severity or RULES[rule].severity, plain(message, 4000), plain(fix, 4000), frames))

    def amend(
        self,
        finding: Finding,
        message: str,
        frames: tuple[int, ...],
        *,
        severity: Severity | None = None,
        fix: str | None = None,
    ) -> None:
        """Say more in a finding made earlier (the server's answer it foretold has come, or a later
        frame shows it worse): same rule, and still one finding; its severity and fix unless given;
        `frames` start with the frame it blamed."""
        if self._replace is None:
            return  # no sink that can replace: what was said stands
        frames = tuple(dict.fromkeys(frames))
        severity = severity or finding.severity
        fix = plain(fix, 4000) if fix is not None else finding.fix
        self._replace(finding, Finding(finding.rule, severity, plain(message, 4000), fix, frames))


def describe_transcription(config: dict[str, Any] | None) -> str:
    """`on (gpt-4o-transcribe)` or `off`."""
    if config is None:
        return "off"
    model = text(config.get("model"))
    return f"on ({model})" if model else "on"


def duration(nbytes: int, fmt: AudioFormat) -> str:
    """`40 ms`, `1.79 s`: how long `nbytes` of `fmt` audio plays, written as the log's audio tags write it
    (`audio_size_tag`: whole milliseconds, the part dropped; two decimals from a second on), so a
    finding and the row it names say the same length."""
    return audio_length(nbytes, fmt.bytes_per_ms)
