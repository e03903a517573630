"""The export dialog: where to write the shown frames, and whether to keep their audio."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from tui.widgets.message_input import InOrderInput

from .key_footer import KeyFooter
from .log_format import counted


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the user chose."""

    path: str
    keep_audio: bool


class AudioChoice(RadioSet):
    """The audio choice, focused when the dialog opens: Enter takes the highlighted option and
    exports (Textual's own Enter only ticked it, and nothing on screen said that Tab, then Enter,
    was what wrote the file); space still only ticks it."""

    BINDINGS = [
        Binding("enter", "choose", "Export", id="export.choose"),
        Binding("space", "toggle_button", "Tick", show=False),
    ]

    class Chosen(Message):
        """Enter on an option: export, keeping the audio or not."""

        def __init__(self, keep_audio: bool) -> None:
            super().__init__()
            self.keep_audio = keep_audio

    def action_choose(self) -> None:
        """Tick the highlighted option and ask for the export with it."""
        highlighted = self._selected
        if highlighted is None:  # nothing highlighted (no key moved yet): the ticked option holds
            self.post_message(self.Chosen(self.pressed_button is None or self.pressed_button.id == "keep"))
            return
        self.action_toggle_button()
        # The option's own id, not the buttons' values: the set turns the other one off later.
        self.post_message(self.Chosen(self._nodes[highlighted].id == "keep"))


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
            with AudioChoice(id="audio"):
                yield RadioButton("keep audio (the frames whole, as on the wire)", value=True, id="keep")
                yield RadioButton("replace audio by a size tag (small files)", id="tag")
            yield InOrderInput(self.default_path, id="path")
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
        self.dismiss(ExportRequest(path, self.query_one("#keep", RadioButton).value))

    @on(AudioChoice.Chosen)
    def _chosen(self, event: AudioChoice.Chosen) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.query_one("#path", Input).focus()
            return
        self.dismiss(ExportRequest(path, event.keep_audio))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)
