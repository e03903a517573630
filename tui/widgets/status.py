"""The status line: target, connection state, session id, frame counters, the session's facts.

It renders a :class:`~tui.journal.SessionFacts` projection and keeps nothing of its own. When the
line is too narrow, parts are shortened before any goes, and what is least read goes first: a URL
becomes its host and port, the session id is shortened, the app's long states (a replay's
position, the proxy's address) take their short form, the session id goes, the target is cut
(with an ellipsis) to the room left, then goes, and the session's facts keep only whether input
is transcribed and a rejected update; a line too narrow even then cuts the first of them short (a
model's name, with an ellipsis), then leaves them out whole, the last first, so what is left reads
as said. The connection state, the frame counters, the findings and whether input is transcribed
stay, even at 80 columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widget import Widget

from tui.journal import SessionFacts
from tui.protocol import printable, short_target

from .palette import themed
from .text_cut import end_cut

_STATE_STYLES = {
    "idle": "dim",
    "connecting": "yellow",
    "open": "bold green",
    "closed": "bold yellow",
    "failed": "bold red",
    "reconnecting": "yellow",
    "server": "yellow",  # "server unreachable for 4 s · try 3 in 0.5 s": still reconnecting, from the second try
    "replay": "bold #7aa2f7",
}

SHORT_SESSION_ID = 13
"""Characters of the session id kept when the line is too narrow: `sess_` and eight more."""

MIN_TARGET = 12
"""Cells a cut target keeps at least (with its ellipsis); with less room it goes altogether."""

_GAP = "  "


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which form of each part a line takes: the shapes below are tried in turn until one fits."""

    target: str  # "whole", "short" (a URL's host and port), "fit" (cut to the room left) or "none"
    session_id: str  # "whole", "short" or "none"
    short_state: bool
    short_detail: bool
    counters: bool = True


_SHAPES = (
    _Shape("whole", "whole", short_state=False, short_detail=False),
    _Shape("short", "whole", short_state=False, short_detail=False),
    _Shape("short", "short", short_state=False, short_detail=False),
    _Shape("short", "short", short_state=True, short_detail=False),
    _Shape("short", "none", short_state=True, short_detail=False),
    _Shape("fit", "none", short_state=True, short_detail=False),
    _Shape("fit", "none", short_state=True, short_detail=True),
    _Shape("none", "none", short_state=True, short_detail=False),
    _Shape("none", "none", short_state=True, short_detail=True),
    _Shape("none", "none", short_state=True, short_detail=True, counters=False),
)
"""Longest first. Who ends turns outlives a target cut short (whose host and port no longer
show); the counters go last of all: a narrow line shortens everything else first."""

_FITTED = _Shape("fit", "none", short_state=True, short_detail=True)
"""The shape of a line whose facts are cut to fit beside the target's lead (see `render`)."""

MAX_LEAD = 24
"""Cells kept at most for the target beside facts cut to fit (`StatusLine._target_lead`)."""

_SHAPES_OF_SEVERAL = (
    *_SHAPES[:7],
    _Shape("fit", "none", short_state=True, short_detail=True, counters=False),
    *_SHAPES[7:],
)
"""For one of several replayed files (`source_short`): which file outlives the counters, which
count the latest connection's frames alone: tried before any shape without a target (at 100
columns, and at 160 beside a long reason for a drop, the line named no file at all)."""


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
        self.state_short = ""
        """A shorter spelling of `state_override` for a narrow line (empty: the override as it is)."""
        self.source = ""
        """What is shown when the app knows it better than the frames (a replay's file): in the
        target's place, whatever target the replayed frames name."""
        self.source_short = ""
        """A shorter `source` for a line with no room for it (`file 2 of 3` of several replayed
        files, whose names need a wider terminal); empty: the source is cut or left out."""
        self.no_target = "no target"
        """Shown where the target goes while the frames have named none (e.g. the proxy's relay)."""
        self._detail_shown = False
        """Whether the last line made (`_line`) kept any of the session's facts."""
        self._detail_phrases = 0
        """How many of the facts' phrases the last line made kept (the first one perhaps cut short)."""
        self.connection = 0
        """Which connection the counters are of (the journal's epoch), named beside them from the
        second on: after ctrl+r, or in a replay of several files, `▼96 ▲3` counted the latest
        connection's frames beside a log of all of them (`279 frames`), and nothing said so."""
        self.selected_counts: tuple[int, int, int] | None = None
        """(connection, received, sent) of an earlier connection whose frame is selected in a replay
        of several files, shown in the latest's place: the line named the selected frame's file
        beside the latest connection's counters (`…(1 of 2) … conn 2 ▼112 ▲26`). None: the latest's."""
        self.findings_note = ""
        """The linter's counts, e.g. "✖1 ⚠2 (!)" (kept whatever the width: findings matter)."""
        self.quiet = ""
        """In the state's place (before `state_override`) while the server has sent nothing for a
        while and the session waits for it ("server quiet 12 s: a response in progress"); empty
        otherwise (see `show_quiet`)."""
        self._quiet_short = ""

    def show_quiet(self, seconds: int, awaited: str) -> None:
        """Say the server has been quiet for `seconds` while the session waits for `awaited` (0:
        say nothing of it); redrawn only when the words change."""
        quiet = f"server quiet {seconds} s: {awaited}" if seconds else ""
        if quiet != self.quiet:
            self.quiet = quiet
            self._quiet_short = f"server quiet {seconds} s" if seconds else ""
            self.refresh()

    def show(self, facts: SessionFacts) -> None:
        """Render `facts` (the app calls this when they changed)."""
        self.facts = facts
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        line = Text()
        for shape in _SHAPES_OF_SEVERAL if self.source_short else _SHAPES:
            line = self._line(shape, width)
            if line.cell_len <= width:
                return line
        # Nothing fits whole: the facts give way as phrases (the model's name cut short first, then a
        # rejected update before whether input is transcribed), so what stays reads as said, never
        # "· update" alone; the counters stay (a proxied connection's long close reason took them,
        # review 54b) while the facts keep their first phrase beside them; then the line is cut at
        # the edge (the state and the findings at its left).
        described = bool(self.facts.describe(short=True))
        # First with room kept for the target's lead (which connection, which file): a proxied
        # connection's long close reason left `● proxy · session 3/3 … client closed with 4000: the…`
        # with no word of which connection it was, and a finished replay's its file's name.
        # Kept only where it costs none of the facts' phrases (a rejected update outlives `simulator`).
        line = self._line(_SHAPES[-2], width, fit_detail=True)
        fits = line.cell_len <= width and (self._detail_shown or not described)
        phrases = self._detail_phrases
        lead = self._target_lead() if fits and phrases else 0
        if lead:
            with_target = self._line(_FITTED, width, fit_detail=True, reserve=lead)
            if with_target.cell_len <= width and self._detail_phrases == phrases:
                return with_target
        if fits:
            return line
        return self._line(_SHAPES[-1], width, fit_detail=True)

    def _target_lead(self) -> int:
        """Cells kept for the target beside facts cut to fit, at most `MAX_LEAD`: a replayed file's
        (short) name, or a proxied connection's number and client (`#3 127.0.0.1:53328`), which tell
        one of several apart; 0 for a live session's target, one the user chose, whose close reason
        keeps the room (`…: connection refused: is the server running?`)."""
        source = printable(self.source)
        if source:
            lead = printable(self.source_short) or source
        else:
            lead = short_target(printable(self.facts.target)).split(" → ")[0]
            if not lead.startswith("#"):
                return 0
        return min(cell_len(lead), MAX_LEAD)

    def _line(self, shape: _Shape, width: int, *, fit_detail: bool = False, reserve: int = 0) -> Text:
        """The line in `shape`; a "fit" target is cut to the room the rest leaves it, and with
        `fit_detail` the session's facts to the room the rest leaves them (`_phrases_cut`), less
        `reserve` cells (and a gap) kept for the target."""
        facts = self.facts
        # A quiet server first: it is what the user waits on (the proxy's own state said "proxy on
        # …" over it, and a stuck service looked like a healthy relay).
        state = self.quiet or self.state_override or facts.state
        if shape.short_detail and self.quiet:
            state = self._quiet_short  # what the server holds up outlives the session id and the target
        elif shape.short_state and self.state_override and self.state_short and not self.quiet:
            state = self.state_short
        dark = self.app.current_theme.dark
        state_style = _STATE_STYLES.get(state.split()[0] if state else "", "")
        rest: list[tuple[str, str]] = [(f"● {state}", themed(state_style, dark))]
        session_id = printable(facts.session_id)
        if shape.session_id == "short" and len(session_id) > SHORT_SESSION_ID + 1:
            session_id = session_id[:SHORT_SESSION_ID] + "…"
        if shape.session_id != "none":
            rest.append((session_id or "no session", "dim"))
        if shape.counters:
            connection, received, sent = self.selected_counts or (self.connection, facts.frames_in, facts.frames_out)
            of = f"conn {connection} " if self.connection > 1 else ""
            rest.append((f"{of}▼{received:,} ▲{sent:,}", "dim"))
        if self.findings_note:
            rest.append((self.findings_note, themed("bold #e0af68", dark)))
        detail = printable(facts.describe(short=shape.short_detail))
        if detail and fit_detail:
            kept = reserve + len(_GAP) if reserve else 0
            room = width - Text.assemble(*_spaced(rest)).cell_len - len(_GAP) - kept
            # Why the session ended is one sentence, whatever ` · ` it quotes (`cannot reach simulator ·
            # 127.0.0.1:41305: connection refused: …` was read as phrases, and left `cannot reach simulator`).
            detail = _phrases_cut(detail, room, one=facts.ended)
        self._detail_shown = bool(detail)
        self._detail_phrases = (1 if facts.ended else len(detail.split(_PHRASES))) if detail else 0
        if detail:
            rest.append((detail, "italic"))
        line = Text.assemble(*_spaced(rest))
        if shape.target == "none":
            return line
        source = printable(self.source)
        target = source or printable(facts.target) or self.no_target
        if shape.target != "whole" and not source:
            # A URL whole only when everything fits; then its host and port (the log has the rest).
            target = short_target(target)
        if shape.target == "fit":
            room = width - line.cell_len - len(_GAP)
            short = printable(self.source_short) if source else ""
            if short and cell_len(target) > room >= cell_len(short):
                # One of several files: its name without its date (`…173202-ed8492 (2 of 3)`), else
                # which of them it is, not a name cut in its middle.
                cut = _middle_cut(target, room) if room >= MIN_TARGET else ""
                return Text.assemble((cut if cut and target.endswith(cut[1:]) else short, "bold"), _GAP, line)
            # A file name keeps its start and its end (a session folder's unique tail, an extension);
            # a label and an address give way word by word (`simulator · 1…` said nothing).
            narrow = room < MIN_TARGET and cell_len(target) > room
            cut = "" if narrow and source else _middle_cut(target, room) if source else _words_cut(target, room)
            if not cut or (narrow and cut.endswith("…")):
                # Too little room for a cut target, but not for its first words whole (`simulator`:
                # leaving it out, the next shape dropped `manual turns` after ctrl+r at 80 columns).
                return Text.assemble((target, "bold"), _GAP, line)  # too long: the next shape leaves it out
            target = cut
        return Text.assemble((target, "bold"), _GAP, line)


def _spaced(parts: list[tuple[str, str]]) -> list[tuple[str, str] | str]:
    spaced: list[tuple[str, str] | str] = []
    for part in parts:
        if spaced:
            spaced.append(_GAP)
        spaced.append(part)
    return spaced


_PHRASES = " · "
"""What separates the session facts' phrases (`SessionFacts.describe`)."""

MIN_PHRASE = 16
"""Cells the facts' first phrase cut short keeps at least (with its ellipsis): `transcribe: gpt…`."""


def _phrases_cut(text: str, cells: int, *, one: bool = False) -> str:
    """`text` in `cells` cells, read as phrases: its first one cut short (with an ellipsis: a model's
    name gives way first) to keep the others whole, or, with too little room for that, its phrases
    from the end left out whole; nothing where too little of the first would be left to read.
    `one`: `text` is one phrase, whatever ` · ` it holds."""
    phrases = [text] if one else text.split(_PHRASES)
    while True:
        kept = _PHRASES.join(phrases)
        if cell_len(kept) <= cells:
            return kept
        tail = "".join(_PHRASES + phrase for phrase in phrases[1:])
        room = cells - cell_len(tail)
        if room >= MIN_PHRASE:
            return end_cut(phrases[0], room) + tail
        if len(phrases) == 1:
            return ""
        phrases.pop()


def _words_cut(text: str, cells: int) -> str:
    """`text` in `cells` cells: its words from the end left out whole (` · ` with the word after
    it), so `simulator · 127.0.0.1:8765` becomes `simulator`, not `simulator · 1…`; its first word
    alone cut short (`end_cut`) when even that does not fit, unless it is an address: then nothing
    (the caller leaves the target out)."""
    words = text.split(" ")
    while len(words) > 1 and cell_len(" ".join(words)) > cells:
        words.pop()
        while len(words) > 1 and words[-1] in ("·", "-", "→"):
            words.pop()
    kept = " ".join(words)
    if cell_len(kept) > cells and _ADDRESS.fullmatch(kept):
        return ""  # an address is whole or gone: `127.0.0.1:345…` named another port
    return end_cut(kept, cells)


_ADDRESS = re.compile(r"\[[0-9a-fA-F:.]*\](?::\d+)?|[\w-]+(?:[.:][\w-]+)+")
"""A host, an IP address or either with its port (`127.0.0.1:34567`, `api.openai.com`, `[::1]:8765`)."""


def _middle_cut(text: str, cells: int) -> str:
    """`text` cut to `cells` cells in its middle, an ellipsis for what was cut. A leading date stamp
    (`20261205-` of a session folder `20261205-173202-ed8492`) goes whole first: a cut in the middle
    kept the date and lost the time (`20261205-…809-256d81`), which tells one day's sessions apart."""
    if cell_len(text) <= cells:
        return text
    stamp, dash, rest = text.partition("-")
    if dash and stamp.isdigit() and len(stamp) >= 6 and rest:
        text = "…" + rest
        if cell_len(text) <= cells:
            return text
    head = set_cell_size(text, (cells - 1) // 2)
    tail_cells = cells - 1 - cell_len(head)
    tail = text[len(text) - tail_cells :] if tail_cells > 0 else ""
    while cell_len(tail) > tail_cells:  # wide characters at the end
        tail = tail[1:]
    return head + "…" + tail
