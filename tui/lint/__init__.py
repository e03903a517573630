"""The Realtime linter: findings over a session's frames that say what a client did wrong, and the fix.

A :class:`Linter` is a journal projection: live, replayed or proxied, every frame passes through it
once (`apply`), `take_changes` hands the new findings to whoever shows them, and `take_amended` those
handed out already that the server's answer completed since (for output that cannot take a line back). In proxy and
replay mode the frames we "sent" are the user's own client's, so the findings judge that client.
:func:`lint_envelopes` runs it alone over a list of envelopes, with facts and links of its own
(for callers without a session model); `rt-tui lint FILE` runs it inside the session model
(`tui.model.new_model`), sharing its facts and links as the app does.

Standard library, `tui.protocol` and `tui.journal` only: no UI, no sockets, no numpy.
"""

from .finding import SEVERITY_ORDER, Finding, Severity, connection_of, finding_record, format_finding, frame_label
from .linter import Linter, lint_envelopes
from .rules import RULES, Rule

__all__ = [
    "RULES",
    "SEVERITY_ORDER",
    "Finding",
    "Linter",
    "Rule",
    "Severity",
    "connection_of",
    "finding_record",
    "format_finding",
    "frame_label",
    "lint_envelopes",
]
