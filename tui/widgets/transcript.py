"""The transcript pane: both sides of the conversation, one block per item, in conversation order.

Rows are created the moment an item exists (a committed recording shows "(transcribing…)" at
once) and are re-rendered only when their item changes; late transcripts fill their own row,
wherever it is, instead of being appended at the bottom.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.conversation import Item, Origin, TextState

_ROLE_LABELS = {"user": "you", "assistant": "assistant", "tool": "tool", "system": "system"}


class TurnRow(Static):
    """One conversation item."""

    DEFAULT_CSS = """
    TurnRow { padding: 0 1; margin: 0 0 1 0; }
    TurnRow.-user { border-left: thick $accent; }
    TurnRow.-assistant { border-left: thick $success; }
    TurnRow.-tool { border-left: thick $warning; }
    TurnRow.-pending { color: $text-muted; text-style: italic; }
    TurnRow.-failed { border-left: thick $error; }
    """

    def __init__(self, item: Item) -> None:
        # No DOM id: item ids come from the server and need not be valid identifiers.
        super().__init__()
        self.item_id = item.id
        self.text = Text()
        self.add_class(f"-{item.role if item.role in _ROLE_LABELS else 'tool'}")
        self.show(item)

    def show(self, item: Item) -> None:
        """Render `item` into this row."""
        # Muted italic means "text on its way"; a failed or cut-off row is waiting for nothing.
        self.set_class(not item.text and item.state not in (TextState.FAILED, TextState.INTERRUPTED), "-pending")
        self.set_class(item.state is TextState.FAILED, "-failed")
        self.text = render_item(item)
        self.update(self.text)


def render_item(item: Item) -> Text:
    """The Rich text of one item: a role line with its facts, then the words."""
    label = _ROLE_LABELS.get(item.role, item.role)
    head = Text.assemble((label, "bold"))
    facts: list[str] = []
    if item.role == "user" and item.has_audio:
        facts.append("recorded audio" if item.origin is Origin.BUFFER else "audio via conversation.item.create")
    if item.kind == "function_call" and item.name:
        facts.append(f"call {item.name}")
    if item.state is TextState.STREAMING and item.text:
        facts.append("streaming…")
    if item.status in ("cancelled", "incomplete", "truncated"):
        facts.append(item.status)
    if item.state is TextState.INTERRUPTED:
        facts.append("cut off: the connection ended")
    latency = item.transcription_latency
    if latency is not None and item.role == "user":
        facts.append(f"transcript in {latency * 1000:.0f} ms")
    if facts:
        head.append("  " + " · ".join(facts), style="dim")
    body = Text(item.display_text)
    if item.state is TextState.FAILED:
        body = Text(f"(transcription failed: {item.error})", style="bold red")
    elif not item.text:
        body.stylize("italic dim")
    return Text.assemble(head, "\n", body)


class Transcript(VerticalScroll, can_focus=True):
    """The conversation, ordered by the server's item chain."""

    DEFAULT_CSS = """
    Transcript { background: $surface; }
    Transcript > #transcript-empty { color: $text-muted; padding: 1 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, TurnRow] = {}

    def compose(self) -> ComposeResult:
        yield Static(
            "Press space to talk (again to send), or type a message below.\n"
            "Your words appear here as soon as you stop, and fill in when the transcription lands.",
            id="transcript-empty",
        )

    def sync(self, ordered: list[Item], changed: Iterable[str]) -> None:
        """Bring the rows in line with `ordered`, touching only the `changed` items."""
        changed = set(changed)
        if not changed:
            return
        at_end = self.scroll_offset.y >= self.max_scroll_y - 1
        by_id = {item.id: item for item in ordered}
        for item_id in list(self._rows):
            if item_id not in by_id:
                self._rows.pop(item_id).remove()
        order = [item.id for item in ordered]
        for index, item in enumerate(ordered):
            row = self._rows.get(item.id)
            if row is None:
                row = self._rows[item.id] = TurnRow(item)
                following = next((self._rows[i] for i in order[index + 1 :] if i in self._rows and i != item.id), None)
                if following is not None and following.parent is self:
                    self.mount(row, before=following)
                else:
                    self.mount(row)
            elif item.id in changed:
                row.show(item)
        placeholder = self.query("#transcript-empty")
        if self._rows and placeholder:
            placeholder.remove()
        if at_end:
            self.call_after_refresh(self.scroll_end, animate=False)

    def text(self) -> str:
        """The transcript as plain text (for tests and export)."""
        return "\n".join(row.text.plain for row in self.query(TurnRow))
