"""The status line: target, connection state, session id, frame counters, the session's facts.

It renders a :class:`~tui.journal.SessionFacts` projection and keeps nothing of its own. When the
line is too narrow, the least-read facts go first (session id, then counters, then the target), so
the connection state and whether input is transcribed stay visible even at 80 columns.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from tui.journal import SessionFacts
from tui.protocol import printable, short_target

_STATE_STYLES = {
    "idle": "dim",
    "connecting": "yellow",
    "open": "bold green",
    "closed": "bold yellow",
    "failed": "bold red",
    "reconnecting": "yellow",
    "replay": "bold #7aa2f7",
}

SHORT_SESSION_ID = 13
"""Characters of the session id kept when the line is too narrow: `sess_` and eight more."""


class StatusLine(Widget):
    """One line of facts about the connection. Never shows the API key: only the target's label."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, facts: SessionFacts | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = facts if facts is not None else SessionFacts()
        self.state_override = ""
        """A state the app knows and the frames do not (e.g. "reconnecting in 1 s")."""
        self.no_target = "no target"
        """Shown where the target goes while the frames have named none (e.g. the proxy's relay)."""
        self.findings_note = ""
        """The linter's counts, e.g. "✖1 ⚠2 (!)" (kept whatever the width: findings matter)."""

    def show(self, facts: SessionFacts) -> None:
        """Render `facts` (the app calls this when they changed)."""
        self.facts = facts
        self.refresh()

    def render(self) -> Text:
        facts = self.facts
        width = self.content_size.width
        state = self.state_override or facts.state
        session_id = printable(facts.session_id)
        for variant in range(5):
            line = self._line(facts, state, session_id, variant)
            if line.cell_len <= width:
                return line
            if variant == 0 and len(session_id) > SHORT_SESSION_ID + 1:
                session_id = session_id[:SHORT_SESSION_ID] + "…"
        return line

    def _line(self, facts: SessionFacts, state: str, session_id: str, variant: int) -> Text:
        """The line with fewer facts as `variant` grows: the id, counters and target go first."""
        parts: list[tuple[str, str] | str] = []
        if variant < 4:
            # A URL whole only when everything fits; then its host and port (the log has the rest).
            target = facts.target if variant == 0 else short_target(facts.target)
            parts += [(target or self.no_target, "bold"), "  "]
        parts.append((f"● {state}", _STATE_STYLES.get(state.split()[0] if state else "", "")))
        if variant < 2:
            parts += ["  ", (session_id or "no session", "dim")]
        if variant < 3:
            parts += ["  ", (f"▼{facts.frames_in:,} ▲{facts.frames_out:,}", "dim")]
        if self.findings_note:
            parts += ["  ", (self.findings_note, "bold #e0af68")]
        detail = printable(facts.describe())
        if detail:
            parts += ["  ", (detail, "italic")]
        return Text.assemble(*parts)
