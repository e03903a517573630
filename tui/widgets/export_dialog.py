"""The export dialog: where to write the shown frames, and whether to keep their audio."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from .key_footer import KeyFooter
from .log_format import counted


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the user chose."""

    path: str
    keep_audio: bool


class ExportDialog(ModalScreen[ExportRequest | None]):
    """Asks for a path and the audio choice; dismisses with a request, or None when cancelled."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical { width: 80%; max-width: 100; height: auto; border: round $accent;
                              background: $surface; padding: 1 2; }
    ExportDialog Input { margin: 1 0; }
    ExportDialog Horizontal { height: auto; }
    ExportDialog Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, count: int, query: str, default_path: str) -> None:
        super().__init__()
        self.count = count
        self.query_text = query
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        what = counted(self.count, "frame") + (f" (filter: {self.query_text})" if self.query_text else " (every frame)")
        yield KeyFooter()  # this dialog's keys, not the screen's under it
        with Vertical():
            yield Static(Text(f"Export {what} as JSONL, secrets scrubbed."))
            with RadioSet(id="audio"):
                yield RadioButton("keep audio (the frames whole, as on the wire)", value=True, id="keep")
                yield RadioButton("replace audio by a size tag (small files)", id="tag")
            yield Input(self.default_path, id="path")
            with Horizontal():
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#path")
    def _export(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.query_one("#path", Input).focus()
            return
        keep = self.query_one("#keep", RadioButton).value
        self.dismiss(ExportRequest(path, keep))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)
