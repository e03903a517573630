"""A modal with one event's JSON, audio payloads elided, for the row the user opened."""

from __future__ import annotations

import json

from rich.console import Group
from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.protocol import redact

from .event_log import LogRow


class EventDetail(ModalScreen[None]):
    """Pretty JSON of the first (and, for a collapsed run, the last) frame of a row."""

    DEFAULT_CSS = """
    EventDetail { align: center middle; }
    EventDetail > VerticalScroll { width: 90%; height: 85%; border: round $accent; background: $surface; }
    """
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="detail.close")]

    def __init__(self, row: LogRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        shown = [self.row.first] if self.row.count == 1 else [self.row.first, self.row.last]
        parts: list[JSON | Text] = []
        for env in shown:
            parts.append(JSON(json.dumps(redact(env.data) if env.data else env.raw, ensure_ascii=False)))
            if env.type == "rt.malformed":
                # What the server actually sent, so the bad bytes can be seen without the capture file.
                raw = env.raw if len(env.raw) <= 4000 else env.raw[:4000] + f"… (+{len(env.raw) - 4000} chars)"
                parts.append(Text.assemble(("\nraw frame:\n", "bold"), raw))
        with VerticalScroll() as scroll:
            count = f" ×{self.row.count} (first and last)" if self.row.count > 1 else ""
            scroll.border_title = f"{self.row.type}{count}"
            scroll.border_subtitle = "base64 audio shown as a size tag · esc closes"
            yield Static(Group(*parts))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
