"""The export dialog: where to write the shown frames, and whether to keep their audio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
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


class MarkedRadioButton(RadioButton):
    """A radio button whose state its glyph shows, not its colour alone: `●` chosen, `○` not.
    Textual draws both with one glyph in two colours, which a monochrome terminal, a screenshot
    in grey or a colour-blind user cannot tell apart (which option exports the audio?)."""

    @property
    def _button(self) -> Content:
        # ToggleButton builds the button from BUTTON_INNER as it renders: set it per state first.
        self.BUTTON_INNER = "●" if self.value else "○"
        return super()._button


class PathInput(InOrderInput):
    """The file's path: Enter exports, as the footer says (back after a path that could not be
    written, the focus is here, and the footer showed Cancel alone)."""

    BINDINGS = [Binding("enter", "submit", "Export", id="export.submit")]


class AudioChoice(RadioSet):
    """The audio choice, focused when the dialog opens. The tick follows the arrows, so the option
    highlighted is the one chosen, whatever key then exports (↓ once only moved the highlight: Tab,
    then Enter on the path, exported with the audio the user thought dropped, ~40x the size). Enter
    here exports with it (Textual's own Enter only ticked the option, and nothing on screen said
    that Tab, then Enter, was what wrote the file). A character typed here starts a new name in the
    path below, which takes the focus (a name typed as the dialog opened was lost: the options
    take no characters)."""

    BINDINGS = [
        Binding("enter", "choose", "Export", id="export.choose"),
        Binding("space", "noop", show=False),  # the highlighted option is already the ticked one
    ]

    class Chosen(Message):
        """Enter on an option: export, keeping the audio or not."""

        def __init__(self, keep_audio: bool) -> None:
            super().__init__()
            self.keep_audio = keep_audio

    def __init__(self, *buttons: RadioButton, id: str | None = None) -> None:
        super().__init__(*buttons, id=id)
        # The chosen option's index, kept here as keys move it: the set learns of a tick through a
        # message, so a key pressed right after an arrow (↓ Enter in one burst) would read the old one.
        self._choice = next((n for n, button in enumerate(buttons) if button.value), 0)
        self._own_ticks = 0
        """Ticks of ours whose `Changed` has not come back yet (the set reports each a message later)."""
        self._naming = False
        """A character typed here has started a new name in the path (`on_key`)."""

    def on_mount(self) -> None:
        # Composed as children (`with AudioChoice():`), the options are not the constructor's: the
        # one ticked is read once they are mounted (a dialog opened again keeps the user's choice).
        buttons = list(self.query(RadioButton))
        self._choice = next((n for n, button in enumerate(buttons) if button.value), 0)

    @property
    def keep_audio(self) -> bool:
        """Whether the chosen option keeps the audio."""
        buttons = list(self.query(RadioButton))
        return not buttons or buttons[self._choice % len(buttons)].id == "keep"

    def _move(self, step: int) -> None:
        buttons = list(self.query(RadioButton))
        if buttons:
            self._choice = (self._choice + step) % len(buttons)
            self._tick(buttons[self._choice])

    def _tick(self, button: RadioButton) -> None:
        """Tick `button` (the set unticks the other one and highlights this, a message later)."""
        if not button.value:
            self._own_ticks += 1
            button.value = True

    def action_next_button(self) -> None:
        """Tick the next option (the highlight follows the tick)."""
        if not self.is_mounted:  # the set's own mount highlights the first option: not a key
            super().action_next_button()
            return
        self._move(1)

    def action_previous_button(self) -> None:
        """Tick the previous option (the highlight follows the tick)."""
        self._move(-1)

    def action_noop(self) -> None:
        """Nothing: space would only tick the option already ticked."""

    def on_key(self, event: events.Key) -> None:
        if not event.is_printable or event.character is None or event.character == " ":
            return
        event.stop()
        event.prevent_default()
        path = self.screen.query_one("#path", Input)
        # Typed here, not posted to the input: the rest of a burst of keys (tmux, a fast typist) is
        # already in this widget's queue, and comes here next, in order, whatever has the focus.
        if not self._naming:
            self._naming = True
            path.value = event.character  # a new name: the proposed one is replaced, its folder stays
            path.cursor_position = len(path.value)
            path.select_on_focus = False  # selected, the name begun would be replaced by the next key
            path.focus()
        else:
            path.insert_text_at_cursor(event.character)

    @on(RadioSet.Changed)
    def _ticked(self, event: RadioSet.Changed) -> None:
        if event.radio_set is not self or event.index < 0:
            return
        if not self._own_ticks:
            self._choice = event.index  # a click
            return
        # One of ours, come back: arrows in one burst (↓↓) may have moved the choice on since, and
        # the set, a message behind, ticked an option that is no longer the chosen one.
        self._own_ticks -= 1
        buttons = list(self.query(RadioButton))
        if buttons and event.index != self._choice % len(buttons):
            self._tick(buttons[self._choice % len(buttons)])

    def action_choose(self) -> None:
        """Ask for the export with the chosen option."""
        self.post_message(self.Chosen(self.keep_audio))


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

    def __init__(
        self,
        count: int,
        query: str,
        default_path: str,
        *,
        since_clear: bool = False,
        typed: str = "",
        keep_audio: bool = True,
        error: str = "",
    ) -> None:
        """`since_clear`: the log was cleared (ctrl+l), so the view holds the frames since then only.
        Opened again after a path that cannot be written: `typed`, the path as the user typed it
        (else the default), `keep_audio` their choice, and `error` why it was not written."""
        super().__init__()
        self.count = count
        self.query_text = query
        self.default_path = default_path
        self.since_clear = since_clear
        self.typed = typed
        self.keep_audio = keep_audio
        self.error = error

    def scope(self) -> str:
        """Which frames the count is of: `(filter: dir:in, since clear)`, `(every frame)`. After a
        clear, "every frame" read as the whole session's, which the log no longer shows."""
        parts = [f"filter: {self.query_text}"] if self.query_text else []
        if self.since_clear:
            parts.append("since clear")
        return f"({', '.join(parts)})" if parts else "(every frame)"

    def compose(self) -> ComposeResult:
        what = f"{counted(self.count, 'frame')} {self.scope()}"
        yield KeyFooter()  # this dialog's keys, not the screen's under it
        with Vertical():
            yield Static(Text(f"Export {what} as JSONL, secrets scrubbed."))
            with AudioChoice(id="audio"):
                keep = self.keep_audio
                yield MarkedRadioButton("keep audio (the frames whole, as on the wire)", value=keep, id="keep")
                yield MarkedRadioButton("replace audio by a size tag (small files)", value=not keep, id="tag")
            # The file's name alone: the line under it says the folder it goes in (the whole path,
            # scrolled to its end at 80 columns, showed the session folder's name twice).
            yield PathInput(self.typed or Path(self.default_path).name, id="path")
            if self.error:
                yield Static(Text(self.error, style="bold red"), id="error")
            # The input shows the path's end (the file's name): where it starts is said here, and
            # where a name typed alone goes.
            folder = str(Path(self.default_path).parent)
            yield Static(Text(f"in {folder}/ (a name alone goes there too)", style="dim"), id="folder")
            with Horizontal():
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.error:
            # Back after a path that cannot be written: the path is what to mend, at its end.
            path = self.query_one("#path", Input)
            path.select_on_focus = False
            path.focus()
        self.call_after_refresh(self._show_file_name)

    def _show_file_name(self) -> None:
        """The path's end in view, the file's name: at 80 columns the input showed only the session
        folder (Textual's input shows a value's start until the cursor moves)."""
        path = self.query_one("#path", Input)
        end = len(path.value)
        path.cursor_position = 0  # the same position again would not scroll: moved there from elsewhere
        path.cursor_position = end

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#path")
    def _export(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.query_one("#path", Input).focus()
            return
        self.dismiss(ExportRequest(path, self.query_one(AudioChoice).keep_audio))

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
