"""The linter: a projection over the journal that turns frames into findings as they arrive.

Each frame is dispatched by (direction, type) to the rule groups that judge it; everything else
costs one dict lookup. The session as the server applied it comes from
:class:`~tui.journal.SessionFacts` that take each frame first: the pipeline's own when they precede
the linter in it, else a private copy the linter feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from tui.journal import Journal, Links, Pipeline, SessionFacts
from tui.protocol import DIR_IN, DIR_LOCAL, DIR_OUT, Direction, Envelope, text

from .config_rules import ConfigRules
from .connection_rules import ConnectionRules
from .context import Context
from .failure_rules import FailureRules
from .finding import SEVERITY_ORDER, Finding, Severity
from .input_rules import InputRules
from .request_rules import RequestRules
from .response_rules import ResponseRules
from .server_rules import ServerRules

_SESSION_SET = frozenset(
    {"session.created", "session.updated", "transcription_session.created", "transcription_session.updated"}
)

Handler = Callable[[Envelope, int], None]


class RuleGroup(Protocol):
    """A group of rules: the frames it judges, and forgetting a connection's state."""

    def handlers(self) -> dict[tuple[Direction, str], Handler]:
        """(direction, type) → the handler that judges such frames."""

    def reset(self) -> None:
        """A new connection begins."""


class Linter:
    """Findings over a session's frames (a projection: `apply` each frame, `take_changes` for new findings)."""

    def __init__(self, journal: Journal, facts: SessionFacts | None = None, links: Links | None = None) -> None:
        """`facts`: the pipeline's own session facts, when they take each frame before the linter does
        (they are then read, not fed again); without them the linter feeds a private copy first.
        `links` likewise: the pipeline's error ↔ cause links, which pair an error without event_id with
        the frame it refused, as the app's log links them (a private copy is fed without them)."""
        if (facts is not None or links is not None) and len(journal):
            # Pipeline.add would replay the history against facts (links) that already hold all of it.
            raise ValueError("a linter sharing the pipeline's facts or links must start with the journal")
        self.journal = journal
        self._feeds_facts = facts is None
        self._feeds_links = links is None
        self.links = links if links is not None else Links(journal)
        """Which frame each error refused, when it names none (the log's links: one rule for both)."""
        self.findings: list[Finding] = []
        """Every finding so far, in the order found."""
        self.by_frame: dict[int, list[Finding]] = {}
        """Findings by journal index of each frame they concern (a finding blames its first frame: the
        log's badges mark only those)."""
        self._new: list[Finding] = []
        self._amended: dict[int, tuple[Finding, Finding]] = {}
        """id(latest) → (the version handed out by `take_changes`, its latest replacement), for
        `take_amended`; keyed by the latest so a second amendment finds its entry at once."""
        self._error_frames: set[int] = set()
        self.ctx = Context(journal, self._add, facts, self._replace)
        self.ctx.by_frame = self.by_frame
        self._input = InputRules(self.ctx)
        self._config = ConfigRules(self.ctx)
        self._responses = ResponseRules(self.ctx)
        explainers = [self._config.explain_error, self._input.explain_error, self._responses.explain_error]
        self._server = ServerRules(self.ctx, explainers, self._error_frames, self.links)
        self._connection = ConnectionRules(self.ctx)
        self._requests = RequestRules(self.ctx)
        self._groups: tuple[RuleGroup, ...] = (
            self._input,
            self._config,
            self._responses,
            self._server,
            self._connection,
            self._requests,
            FailureRules(self.ctx, self.links),
        )
        self._handlers: dict[tuple[Direction, str], list[Handler]] = {}
        for group in self._groups:
            for key, handler in group.handlers().items():
                self._handlers.setdefault(key, []).append(handler)

    # -- projection -------------------------------------------------------------------------

    def apply(self, env: Envelope, index: int) -> None:
        """Judge one frame (journal index `index`)."""
        ctx = self.ctx
        if self._feeds_facts:
            ctx.facts.apply(env, index)
        if self._feeds_links:
            self.links.apply(env, index)
        direction, etype = env.direction, env.type
        if direction is DIR_LOCAL:
            if etype == "rt.connection" and env.data.get("state") == "connecting":
                # Whatever the last connection left unanswered never will be (read before the reset).
                self._config.dialect_never_known()
                self._input.unanswered(index, text(env.data.get("message")))
                self._requests.judge()
                ctx.applied_index = None
                ctx.server_spoke = ctx.server_heard = False
                ctx.refresh()
                for group in self._groups:
                    group.reset()
        elif direction is DIR_IN:
            ctx.server_heard = True
            if etype in _SESSION_SET:
                ctx.applied_index = index
                ctx.refresh()
            if etype != "error":
                ctx.server_spoke = True
        if self._config.waiting and ctx.dialect is not None:
            self._config.dialect_known()
        if direction is DIR_OUT and etype != "input_audio_buffer.append" and self._config.non_finite(env, index):
            return  # the server refuses it unread: not judged as the event it names
        handlers = self._handlers.get((direction, etype))
        if handlers is not None:
            for handler in handlers:
                handler(env, index)
        elif direction is DIR_IN:
            self._server.unknown_server_event(env, index)
        elif direction is DIR_OUT:
            self._config.unknown_client_event(env, index)
        if self._input.items_waiting and direction is DIR_IN:
            self._input.settle_items()  # after every group's handler: the config rules note what answered

    def finish(self, *, recording: bool = False) -> None:
        """The input ended: a recording read to its end (`rt-tui lint`, a replay played through), or
        a turn (`rt-tui send`).

        Nothing will answer what still waits: a commit of too little audio the server never answered
        is said now (`commit-too-short`). `recording`: the input was a whole recording, whose
        connections all end in it (`recording-cut-short` when one does not); not a turn that ends
        while its connection is open. Calling it again adds nothing; new findings come from
        `take_changes` as usual."""
        self._config.dialect_never_known()
        self._input.unanswered(None)
        self._requests.judge()
        if recording:
            self._connection.recording_ended(len(self.ctx.journal) - 1 if len(self.ctx.journal) else None)

    def take_changes(self) -> list[Finding]:
        """Findings made since the last call (each in its latest words: one amended before it was
        taken comes once, amended). A finding is handed out here once only; see `take_amended`."""
        new, self._new = self._new, []
        return new

    def take_amended(self) -> list[Finding]:
        """Findings handed out by `take_changes` that have since been amended, each in its latest
        words, in the order amended; each once (until amended again). One amended back to the very
        words handed out is not listed.

        Kept apart from `take_changes` so each consumer stays simple: one that only counts and
        announces new findings (the app's notice, once per finding) keeps calling that alone and
        never tells a new finding from an amended one, while one that streams findings as text no
        one can take back (`rt-tui proxy --json` on stderr) calls both and says an amended one again,
        marked as replacing what it said. Consumers that re-read `findings` need neither. What no
        one takes stays bounded: one entry per finding handed out and amended."""
        amended = [latest for shown, latest in self._amended.values() if latest != shown]
        self._amended = {}
        return amended

    def summary(self) -> dict[Severity, int]:
        """How many findings of each severity (every severity present, errors first)."""
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def _add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self._new.append(finding)
        for index in dict.fromkeys(finding.frames):
            self.by_frame.setdefault(index, []).append(finding)
        if finding.severity is Severity.ERROR:
            self._error_frames.update(finding.frames)

    def _replace(self, old: Finding, new: Finding) -> None:
        """`new` takes `old`'s place (a finding that says more, blaming the same frame): in `findings`,
        in `by_frame`, and among the changes not taken yet. One taken already is not handed out again
        by `take_changes` (no second notice) but by `take_amended`, for those who print findings as
        they come (the app's badge and the findings list read the linter afresh)."""
        findings = self.findings
        # Searched from the end: the answer a finding waits for comes soon after it.
        at = next((i for i in range(len(findings) - 1, -1, -1) if findings[i] is old), None)
        if at is None:
            return
        findings[at] = new
        if any(f is old for f in self._new):
            self._new = [new if f is old else f for f in self._new]
        else:
            # Taken already: amended since it was shown (again, when an amendment is amended).
            shown, _ = self._amended.pop(id(old), (old, old))
            self._amended[id(new)] = (shown, new)
        for index in old.frames:
            listed = self.by_frame[index]
            if index in new.frames:
                listed[:] = [new if f is old else f for f in listed]  # its place among the frame's findings
            else:
                listed[:] = [f for f in listed if f is not old]
        for index in new.frames:
            if index not in old.frames:
                self.by_frame.setdefault(index, []).append(new)
        if new.severity is Severity.ERROR:
            self._error_frames.update(new.frames)


def lint_envelopes(envelopes: Iterable[Envelope], journal: Journal | None = None) -> list[Finding]:
    """Run a fresh pipeline with a linter over `envelopes`; returns every finding, in order.

    Pass an empty `journal` to keep the frames, for :func:`~tui.lint.format_finding` and
    :func:`~tui.lint.finding_record`.
    """
    pipeline = Pipeline(journal)
    linter = Linter(pipeline.journal)
    pipeline.add(linter)
    pipeline.ingest(envelopes)
    linter.finish()
    return linter.findings
