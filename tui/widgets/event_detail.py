"""A modal with the JSON of one frame, or of every frame of a run, and what they are linked to.

Each frame gets a header (seq, direction, time since connect, Δt since the frame before it, size,
type) and its pretty JSON, with base64 audio as a size tag and long strings wrapped (cut only past
`MAX_STRING`). An error shows the frame that caused it, and a cause the errors it led to. A frame
whose payload the journal dropped from memory is read back from the capture file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.json import JSON
from rich.measure import Measurement
from rich.rule import Rule
from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.journal import Frame, Journal, Links
from tui.journal.facts import audio_rates_at
from tui.protocol import printable, redact, strict_json

from .key_footer import KeyFooter
from .log_format import ARROWS, delta_text, kinds_text, run_kinds, size_text, span_text, time_text, untimed

MAX_STRING = 4000
"""Strings longer than this are cut in the view (copy and save keep them whole)."""

MAX_FRAMES = 200
"""Frames of a run shown at once (a 10-minute reply holds thousands)."""

FRAMES_PER_STEP = 20
"""Frames laid out per screen update: the view opens with the first ones, and the rest follow a
step at a time. The JSON of 200 frames took a quarter of a second to lay out, the screen held."""

Recover = Callable[[int], str | None]
"""Reads a frame's wire text back from the capture file, by journal index."""


SEPARATOR = " · "


class PartsLine:
    """Parts joined by ` · ` on as few lines as the width takes, broken only between two parts,
    where the separator is left out: wrapped as words, a header line ended in a dangling `·` with
    its type alone on the next (`… · 195B ·` / `response.done`). A part wider than the view folds."""

    def __init__(self, parts: list[str], *, lead: str = "", style: str = "") -> None:
        self.parts = parts
        self.lead = lead
        """Text before the first part (`caused by (error): `), kept on its line."""
        self.style = style

    def lines(self, width: int) -> list[str]:
        """The lines at `width` cells."""
        lines: list[str] = []
        line = self.lead
        for part in self.parts:
            if line == self.lead:
                line += part
            elif cell_len(line) + cell_len(SEPARATOR) + cell_len(part) <= width:
                line += SEPARATOR + part
            else:
                lines.append(line)
                line = part
        lines.append(line)
        return lines

    def __str__(self) -> str:
        return self.lead + SEPARATOR.join(self.parts)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield Text(line, style=self.style, overflow="fold")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        whole = cell_len(self.lead + SEPARATOR.join(self.parts))
        widest = max((cell_len(part) for part in self.parts), default=0)
        return Measurement(min(widest, whole), whole)


class EventDetail(ModalScreen[int | None]):
    """Frames in full; dismisses with a journal index to jump to (the linked frame), or None."""

    DEFAULT_CSS = """
    EventDetail { align: center middle; }
    EventDetail > VerticalScroll {
        width: 94%; height: 90%; border: round $accent; background: $surface; scrollbar-gutter: stable;
    }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="detail.close"),
        Binding("c,y", "copy", "Copy", id="detail.copy"),  # y as in the log: it did nothing here
        Binding("s", "save", "Save", id="detail.save"),
        Binding("x", "jump", "Go to linked frame", id="detail.jump"),
    ]

    class Export(Message):
        """Copy (to the clipboard) or save (to a file) the frames shown, as JSON."""

        def __init__(self, text: str, name: str, *, copy: bool, what: str = "") -> None:
            self.text = text
            self.name = name
            self.copy = copy
            self.what = what
            """What is kept, when the view shows more (`error #61 alone, not its cause …`)."""
            super().__init__()

    def __init__(
        self, journal: Journal, links: Links | None, indices: list[int], recover: Recover | None, *, label: str = ""
    ) -> None:
        super().__init__()
        self.journal = journal
        self.links = links
        self.indices = indices
        self.recover = recover
        self.label = label
        """A run's label as the log shows it (`response deltas ×48`); empty for a frame."""
        self.laid_out = 0
        """Frames of the run laid out so far (a step at a time, after the first screen)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(self.heading())
            jump = " · x linked frame" if self._link_target() is not None else ""
            scroll.border_subtitle = Text(f"c copy · s save{jump} · esc close")  # plain text, never markup
            yield self._step(0)
        yield KeyFooter()  # this view's keys, not the screen's under it

    def on_mount(self) -> None:
        if self.laid_out < len(self.indices[:MAX_FRAMES]):
            self.call_after_refresh(self._next_step)

    def _step(self, start: int) -> Static:
        """The frames from the `start`th, a step's worth (and the note on frames left out, last)."""
        shown = self.indices[:MAX_FRAMES]
        end = min(len(shown), start + FRAMES_PER_STEP)
        parts: list[RenderableType] = []
        for index in shown[start:end]:
            parts += self._frame(index)
            parts += self._linked(index)
        if end == len(shown) and len(self.indices) > MAX_FRAMES:
            parts.append(Text(f"… {len(self.indices) - MAX_FRAMES} more frames (export the run to see them all)"))
        if start == 0 and parts and isinstance(parts[0], Rule):
            del parts[0]  # a rule separates frames: above the first it was a blank line under the title
        self.laid_out = end
        return Static(Group(*parts), classes="detail-step")

    def _next_step(self) -> None:
        if not self.is_attached:
            return  # closed before every step was laid out
        self.query_one(VerticalScroll).mount(self._step(self.laid_out))
        if self.laid_out < len(self.indices[:MAX_FRAMES]):
            self.call_after_refresh(self._next_step)

    def heading(self) -> str:
        """What the frames are: a frame's type, a run of one type's count; a run that mixes kinds
        of delta (a reply's audio and transcript) is named as its row in the log reads, with how
        many of each kind: the first frame's type would hide the others."""
        count = len(self.indices)
        first = printable(self.journal[self.indices[0]].type)
        if count == 1:
            return first
        kinds = run_kinds(self.journal, self.indices)
        if untimed(self.journal[self.indices[0]]):  # a log without times: how long it took is unknown
            span = ""
        else:
            span = span_text(self.journal[self.indices[-1]].mono - self.journal[self.indices[0]].mono)
        if len(kinds) == 1:
            return f"{first} · {count:,} frames {span}".rstrip()
        return " · ".join(x for x in (printable(self.label or f"{count:,} frames"), kinds_text(kinds), span) if x)

    def _frame(self, index: int, label: str = "") -> list[RenderableType]:
        frame = self.journal[index]
        parts: list[RenderableType] = [Rule(style="dim"), PartsLine(self.header_parts(frame), lead=label, style="bold")]
        data = self._data(frame)
        if data is None:
            parts.append(Text("(payload not in memory, and no capture file to read it from)", style="italic"))
            return parts
        # json.dumps escapes C0 controls but passes C1 ones (an 8-bit CSI) through: shown, not obeyed.
        # Audio's length in the format the session had then (a G.711 session's is six times a PCM16's).
        shown = redact(data, max_string=MAX_STRING, rates=audio_rates_at(self.journal, index))
        body = JSON(printable(json.dumps(shown, ensure_ascii=False))).text
        body.no_wrap, body.overflow = False, "fold"  # Rich's JSON never wraps: a long string was cut at the edge
        parts.append(body)
        if frame.type == "rt.malformed" and frame.raw:
            raw = frame.raw if len(frame.raw) <= MAX_STRING else frame.raw[:MAX_STRING] + f"… (+{len(frame.raw)} chars)"
            parts.append(Text.assemble(("raw frame:\n", "bold"), printable(raw, lines=True)))
        return parts

    def header(self, frame: Frame) -> str:
        """`#seq ▼ in · type · 00:12.345 since connect · Δt +20ms after #41 · 6.4K`.

        The type comes second, on the first line however narrow the view: last, a linked frame's
        header (`caused by (error): …`) wrapped its type alone onto the next line (review 54c).
        Δt is from the frame before it in the session, named: the log's row counts from the row
        above it, which under a filter is another frame (+24.06s on the row, +16.39s here, and
        neither said which)."""
        return SEPARATOR.join(self.header_parts(frame))

    def header_parts(self, frame: Frame) -> list[str]:
        """The header's parts (see `header`), which a narrow view breaks between, never inside."""
        head = f"#{frame.seq} {ARROWS[frame.direction]} {frame.direction.value}"
        if untimed(frame):
            return [head, printable(frame.type), "no times in the recording", size_text(frame.size)]
        previous = self.journal[frame.index - 1] if frame.index > 0 else None
        if previous is not None and untimed(previous):
            delta = f"unknown (#{previous.seq} has no time)"
        elif previous is not None:
            delta = f"{delta_text(frame.mono - previous.mono)} after #{previous.seq}"
        else:
            delta = "first frame"
        return [
            head,
            printable(frame.type),
            f"{time_text(self.journal.since_connect(frame))} since connect",
            f"Δt {delta}",
            size_text(frame.size),
        ]

    def _linked(self, index: int) -> list[RenderableType]:
        if self.links is None:
            return []
        parts: list[RenderableType] = []
        cause = self.links.cause_of.get(index)
        if cause is not None:
            parts += self._frame(cause.cause, label=f"caused by ({cause.kind}): ")
        for effect in self.links.effects_of.get(index, []):
            parts += self._frame(effect.effect, label=f"led to ({effect.kind}): ")
        return parts

    def _data(self, frame: Frame) -> dict[str, Any] | None:
        if not frame.payload_dropped:
            return self.journal.data(frame.index)
        raw = self.recover(frame.index) if self.recover is not None else None
        if raw is None:
            return None
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"raw": raw}
        return parsed if isinstance(parsed, dict) else {"raw": raw}

    def frames_json(self) -> str:
        """The frames shown, whole (audio kept), as JSON: one object, or a list for a run."""
        frames = [self._whole(self.journal[index]) for index in self.indices]
        value = frames[0] if len(frames) == 1 else frames
        try:
            return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
        except ValueError:  # NaN or Infinity from a server: strict JSON marks them
            return strict_json.dumps(value)

    def _whole(self, frame: Frame) -> dict[str, Any]:
        """One frame as a copy or a save holds it: its JSON, and for a frame that did not parse
        (`rt.malformed`: rt-tui's note of why) the text that came, under `raw` as the capture keeps
        it: the bytes that broke a client are what a copy of that frame is for."""
        data = self._data(frame) or {"type": frame.type}
        raw = frame.raw
        if frame.type == "rt.malformed" and raw and "raw" not in data:
            data = {**data, "raw": raw}
        return data

    def palette_commands(self) -> Iterator[SystemCommand]:
        """The command palette's commands while this view is open: its keys (the app's palette
        offers these in place of the log's, which would act unseen under the view)."""
        what = "frame" if len(self.indices) == 1 else "frames"
        yield SystemCommand("details: copy", f"Copy the {what} as JSON (c)", self.action_copy)
        yield SystemCommand("details: save", f"Save the {what} as JSON next to the capture (s)", self.action_save)
        if self._link_target() is not None:
            yield SystemCommand(
                "details: go to linked frame", "Close, and select the linked frame (x)", self.action_jump
            )
        yield SystemCommand("details: close", "Back to the log (esc)", self.dismiss)

    def action_copy(self) -> None:
        """Copy the frames to the clipboard (OSC 52), with a file as the fallback."""
        self.post_message(self.Export(self.frames_json(), self.file_name(), copy=True, what=self.kept_what()))

    def action_save(self) -> None:
        """Save the frames to a file in the session folder."""
        self.post_message(self.Export(self.frames_json(), self.file_name(), copy=False, what=self.kept_what()))

    def kept_what(self) -> str:
        """What a copy or a save holds, when the view shows more than that: a frame shown with its
        linked frame keeps the frame alone (the notice said "copied 352 characters" under a view
        showing the error and its cause)."""
        target = self._link_target()
        if len(self.indices) != 1 or target is None:
            return ""
        shown, linked = self.journal[self.indices[0]], self.journal[target]
        return f"{shown.type} #{shown.seq} alone (not {linked.type} #{linked.seq}: x goes there)"

    def file_name(self) -> str:
        """A file name for the frames shown."""
        first = self.journal[self.indices[0]]
        suffix = f"-run-{len(self.indices)}" if len(self.indices) > 1 else ""
        return f"frame-{first.seq}-{first.type}{suffix}.json"

    def _link_target(self) -> int | None:
        """The frame `x` goes to: the first frame's cause, else its latest effect (an error)."""
        if self.links is None:
            return None
        index = self.indices[0]
        cause = self.links.cause_of.get(index)
        if cause is not None:
            return cause.cause
        effects = self.links.effects_of.get(index)
        return effects[-1].effect if effects else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`x` is offered only where there is a linked frame to go to (the footer follows)."""
        if action == "jump":
            return self._link_target() is not None
        return True

    def action_jump(self) -> None:
        """Close and select the linked frame (the cause of an error, or the error of a cause)."""
        target = self._link_target()
        if target is not None:
            self.dismiss(target)
        else:
            self.app.notify("this frame has no linked cause or error", markup=False)

    async def action_dismiss(self, result: int | None = None) -> None:
        self.dismiss(result)
