"""Everything derived from one session's frames: the journal and its projections, built one way.

A live session, a replayed recording and each connection through the proxy get one
:class:`SessionModel`; the app's views render the current one, and the headless commands read
the same projections (`lint` and `proxy --json` every one; `replay --json` all but the linter,
whose findings it does not print). No textual, no sockets.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tui.conversation import Conversation
from tui.journal import Journal, Links, LogView, PayloadPolicy, Pipeline, SessionFacts
from tui.lint import Linter
from tui.protocol import Envelope


@dataclass(slots=True)
class SessionModel:
    """A session as the views see it: journal, conversation, facts, links, findings, the log's view."""

    label: str
    pipeline: Pipeline
    conversation: Conversation
    facts: SessionFacts
    links: Links
    log_view: LogView
    linter: Linter | None = None
    """The linter projection (None for a headless replay that does not lint)."""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def journal(self) -> Journal:
        """The session's journal."""
        return self.pipeline.journal

    def ingest(self, envelopes: Iterable[Envelope]) -> range:
        """Journal a batch and run every projection over it; returns the new indices."""
        return self.pipeline.ingest(envelopes)


KEEP_EVERY_PAYLOAD = PayloadPolicy(large_budget_bytes=sys.maxsize, text_budget_bytes=sys.maxsize)
"""The payload policy of a replay with no capture file to read a dropped payload back from (a HAR,
a log, a pipe, several files: `tui.app.modes.replay_model`), whose player holds every frame's text
anyway: the detail view and the export would lose the audio."""


def new_model(label: str = "", *, policy: PayloadPolicy | None = None, lint: bool = True) -> SessionModel:
    """A fresh model with every projection in place."""
    pipeline = Pipeline(Journal(policy))
    conversation = Conversation()
    facts = SessionFacts()
    links = Links(pipeline.journal)
    for projection in (conversation, facts, links):
        pipeline.add(projection)
    linter: Linter | None = None
    if lint:
        linter = Linter(pipeline.journal, facts, links)  # they precede it in the pipeline: shared, not fed twice
        pipeline.add(linter)
    view = LogView(pipeline.journal, links)
    if linter is not None:
        view.marks = _marks_of(linter)
        view.related = _related_of(linter)
    return SessionModel(label, pipeline, conversation, facts, links, view, linter)


def _related_of(linter: Linter) -> Callable[[int], tuple[str, list[int]] | None]:
    """A frame's first finding that names other frames with it: its rule and those frames."""
    by_frame = linter.by_frame

    def related(index: int) -> tuple[str, list[int]] | None:
        for finding in by_frame.get(index, ()):
            others = [frame for frame in finding.frames if frame != index]
            if others:
                return finding.rule, others
        return None

    return related


def _marks_of(linter: Linter) -> Callable[[int], str | None]:
    """A frame's badge: the worst severity of the findings that blame it (name it first).

    A finding's other frames are context (the response a refused response.create collided with, the
    commit of a failed transcription): they carry a badge only when a finding of their own blames them.
    """
    by_frame = linter.by_frame

    def mark(index: int) -> str | None:
        found = by_frame.get(index)
        if not found:
            return None
        severities = {finding.severity.value for finding in found if finding.frames[0] == index}
        if not severities:
            return None
        return next(s for s in ("error", "warning", "info") if s in severities)

    return mark
