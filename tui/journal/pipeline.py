"""The one path every frame takes, live, replayed or proxied: journal first, then each projection.

A source (a websocket session, a capture being replayed, a proxied connection) publishes envelopes
on the bus; whoever shows them (the app's pump, a headless command) hands each batch to
:meth:`Pipeline.ingest`. The journal appends each envelope exactly once, then every projection
applies it, so a view that renders from the journal and the projections sees the same session
whatever the source was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from tui.protocol import Envelope, local_envelope

from .store import Journal


class Projection(Protocol):
    """Derived state over the journal, built one frame at a time."""

    def apply(self, env: Envelope, index: int) -> None:
        """Take one envelope (journal index `index`) into account."""

    def take_changes(self) -> Any:
        """What changed since the last call (the views re-render only that), and reset it."""


class Pipeline:
    """A journal and the projections derived from it."""

    def __init__(self, journal: Journal | None = None, projections: Iterable[Projection] = ()) -> None:
        self.journal = journal if journal is not None else Journal()
        self.projections: list[Projection] = list(projections)
        self.faults: list[Envelope] = []
        """Local facts about projections that failed on a frame (the frame itself is kept)."""

    def add(self, projection: Projection) -> None:
        """Add a projection and bring it up to date with everything journaled so far."""
        for index in range(len(self.journal)):
            self._apply(projection, self.journal.envelope(index), index)
        self.projections.append(projection)

    def ingest(self, envelopes: Iterable[Envelope]) -> range:
        """Journal a batch and run every projection over it; returns the new indices."""
        journal = self.journal
        start = len(journal)
        appliers = [(projection, projection.apply) for projection in self.projections]
        append = journal.append_index
        for env in envelopes:
            index = append(env)
            # The loop of `_apply`, inlined: it runs for every frame and every projection.
            for projection, apply in appliers:
                try:
                    apply(env, index)
                except Exception as exc:  # noqa: BLE001 - one odd frame must not stop the other views
                    self._fault(projection, env, exc)
        if self.faults:
            # Reported as frames of their own, after the batch that caused them.
            faults, self.faults = self.faults, []
            for fault in faults:
                index = self.journal.append(fault).index
                for projection in self.projections:
                    self._apply(projection, fault, index)
        return range(start, len(self.journal))

    def _apply(self, projection: Projection, env: Envelope, index: int) -> None:
        try:
            projection.apply(env, index)
        except Exception as exc:  # noqa: BLE001 - one odd frame must not stop the other views
            self._fault(projection, env, exc)

    def _fault(self, projection: Projection, env: Envelope, exc: Exception) -> None:
        """Note that `projection` failed on `env`, as a local fact to journal after the batch."""
        if env.type != "rt.client_error":
            name = type(projection).__name__
            message = f"frame #{env.seq} ({env.type}) not taken by {name}: {type(exc).__name__}: {exc}"
            self.faults.append(local_envelope("rt.client_error", message))
