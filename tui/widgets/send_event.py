"""The send-an-event dialog: one client event, typed as JSON, sent to the session as it is.

A debugger's probe: what does the server say to this frame (a `response.cancel` with nothing
active, a `session.update` with a field it refuses, an event of a type it does not know)? The
frame goes out as the app's own frames do (an `event_id` added when it has none), the log shows it
beside the server's answer, and the linter judges it.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.protocol.codec import json_reason
from tui.widgets.message_input import InOrderInput

from .key_footer import KeyFooter

EXAMPLE = '{"type": "response.cancel"}'
"""The input's placeholder the first time: an event the server answers with an error when nothing
is active. Not its text: Enter sent a prefilled example at once, and the keys typed next (the dialog
closed) went to the app, `t` opening the message box (review 56b)."""

EMPTY = f"type one client event as JSON, e.g. {EXAMPLE}"
"""Said when Enter finds the input empty."""


def parse_event(text: str) -> dict[str, Any] | str:
    """The event `text` holds, or why it cannot be sent (one line, for the dialog)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # "Unterminated string starting at column 10" (it read "… at (column 10)"); where json's
        # reason has no "at", the column after it: the dialog's one line is all there is to go by.
        reason = json_reason(exc)
        return (
            f"not JSON: {reason}"
            if reason.endswith(f"column {exc.colno}")
            else f"not JSON: {reason} (column {exc.colno})"
        )
    except (ValueError, RecursionError) as exc:
        return f"not JSON rt-tui can send: {exc}"
    if not isinstance(value, dict):
        return f"a client event is a JSON object, not {_JSON_KINDS.get(type(value), 'that')}"
    kind = value.get("type")
    if kind == "":
        return 'the "type" is empty: name the event, {"type": "response.create"}'
    if not isinstance(kind, str):
        return 'a client event needs a "type" (a string): {"type": "response.create"}'
    return value


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}
"""JSON's names for what a text that is not an object holds (Python's `list`, `str` said nothing)."""
_JSON_KINDS[type(None)] = "null"


class SendEventDialog(ModalScreen[dict[str, Any] | str]):
    """Asks for one client event as JSON; dismisses with it, or, when cancelled, with the text as it
    stands (a draft the caller offers again: Esc to look at the log lost what was typed). A text
    that is not an event is said under the input, and the dialog stays."""

    DEFAULT_CSS = """
    SendEventDialog { align: center middle; }
    SendEventDialog > Vertical { width: 90%; max-width: 110; height: auto; border: round $accent;
                                 background: $surface; padding: 1 2; }
    SendEventDialog Input { margin: 1 0 0 0; }
    SendEventDialog #send-event-problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="send-event.cancel")]

    def __init__(self, text: str = "", target: str = "") -> None:
        super().__init__()
        self.text = text
        self.target = target

    def compose(self) -> ComposeResult:
        yield KeyFooter()  # this dialog's keys, not the screen's under it
        with Vertical():
            where = f" to {self.target}" if self.target else ""
            yield Static(
                Text(f"Send one client event{where}, as JSON (an event_id is added when it has none). Enter sends it.")
            )
            yield InOrderInput(self.text, placeholder=EXAMPLE, id="send-event-json")
            yield Static("", id="send-event-problem")

    @on(Input.Submitted, "#send-event-json")
    def _send(self, event: Input.Submitted) -> None:
        parsed = parse_event(event.value) if event.value.strip() else EMPTY
        if isinstance(parsed, str):
            self.query_one("#send-event-problem", Static).update(Text(parsed))
            return
        self.dismiss(parsed)

    @on(Input.Changed, "#send-event-json")
    def _edited(self) -> None:
        self.query_one("#send-event-problem", Static).update("")

    def action_cancel(self) -> None:
        """Close without sending; the text typed goes back to the caller as a draft."""
        self.dismiss(self.query_one("#send-event-json", Input).value)
