"""The status line: target, connection state, session id, frame counters."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

_STATE_STYLES = {
    "idle": "dim",
    "connecting": "yellow",
    "open": "bold green",
    "closed": "bold yellow",
    "failed": "bold red",
}


SHORT_SESSION_ID = 13
"""Characters of the session id kept when the line is too narrow: `sess_` and eight more."""


class StatusLine(Widget):
    """One line of facts about the connection. Never shows the API key: only the target's label."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    """

    target: reactive[str] = reactive("")
    state: reactive[str] = reactive("idle")
    session_id: reactive[str] = reactive("")
    frames_in: reactive[int] = reactive(0)
    frames_out: reactive[int] = reactive(0)
    detail: reactive[str] = reactive("")

    def render(self) -> Text:
        line = self._line(self.session_id or "no session")
        if line.cell_len > self.content_size.width and len(self.session_id) > SHORT_SESSION_ID + 1:
            # The session id is the longest fact and the least read at a glance (the event log and
            # the capture file keep it whole); shorten it before the session facts get clipped.
            line = self._line(self.session_id[:SHORT_SESSION_ID] + "…")
        return line

    def _line(self, session_id: str) -> Text:
        return Text.assemble(
            (self.target or "no target", "bold"),
            "  ",
            (f"● {self.state}", _STATE_STYLES.get(self.state, "")),
            "  ",
            (session_id, "dim"),
            "  ",
            (f"▼{self.frames_in} ▲{self.frames_out}", "dim"),
            ("  " + self.detail if self.detail else "", "italic"),
        )
