"""How one line of the event log reads: columns, widths, type abbreviation, run summaries.

Pure text (styled pieces, or a Rich `Text`), no widget state: the event-log widget asks for a line, caches it, and
paints it. The journal and its projections are read, never changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui.journal import Family, Finder, Frame, Journal, Links, LogView, Row
from tui.journal.facts import audio_rates_at
from tui.journal.type_names import spellings
from tui.protocol import DIR_LOCAL, Direction, is_known, printable, string_span, to_ga
from tui.protocol.events import AUDIO_FIELDS, GA_CLIENT_EVENTS, GA_SERVER_EVENTS
from tui.protocol.records import has_time
from tui.protocol.summary import (
    G711_BYTES_PER_MS,
    PCM16_BYTES_PER_MS,
    audio_length,
    audio_size_tag,
    audio_span_bytes,
    quote,
    rate_of,
    summarize_event,
)
from tui.widgets.text_cut import end_cut

ARROWS = {Direction.OUT: "▲", Direction.IN: "▼", Direction.LOCAL: "●"}

FAMILY_STYLES = {
    Family.SESSION: "#7aa2f7",
    Family.INPUT: "#7dcfff",
    Family.CONVERSATION: "#bb9af7",
    Family.TRANSCRIPTION: "#e0af68",
    Family.RESPONSE: "#9ece6a",
    Family.ERROR: "bold #f7768e",
    Family.LOCAL: "#ff9e64",
    Family.UNKNOWN: "italic #ff9e64",
}
DIRECTION_STYLES = {Direction.OUT: "bold #7dcfff", Direction.IN: "bold #9ece6a", Direction.LOCAL: "#ff9e64"}
DIM = "#737aa2"
MARKS: dict[str, tuple[str, str | None]] = {
    "error": ("✖ ", "bold #f7768e"),
    "warning": ("⚠ ", "bold #e0af68"),
    "info": ("ℹ ", "#7aa2f7"),
}
"""Badges on frames the linter found something in, by severity."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Widths of the log's columns for one pane width; a zero width hides the column."""

    time: int
    delta: int
    type: int
    size: int
    summary: int

    @classmethod
    @lru_cache(maxsize=64)  # asked for every line painted; frozen, so one per width is shared
    def fit(cls, width: int) -> Columns:
        """Columns for a pane `width` cells wide: the type column shrinks before the summary
        vanishes, and on narrow panes the absolute time and the size go first."""
        arrow = 2
        time, delta, size = 10, 8, 7
        if width < 66:
            time = size = 0
        elif width < 86:
            size = 0
        rest = max(0, width - arrow - time - delta - size)
        type_width = max(12, min(40, rest * 45 // 100))
        return cls(time, delta, type_width, size, max(0, rest - type_width - 1))


def abbreviate_type(label: str, width: int) -> str:
    """An event type fit to `width`, keeping its telling tail.

    Leading segments become initials (`conversation.item.` → `c.`), then the words of the
    middle segment (`output_audio_transcript` → `o_a_transcript`, then `o_a_t`), then every
    segment but the last (`s.created`, `r.o.delta`): the spellings a filter's `type:` takes too.
    Failing that, the name is cut at a word boundary from the left: `…transcription.completed`.
    """
    if len(label) <= width:
        return label
    if width < 2:
        return label[:width]
    parts = label.split(".")
    if len(parts) < 2:  # not a dotted type: a run's label (`response deltas ×45`) or an odd name
        name, times, count = label.rpartition(" ×")
        for shorter in _RUN_NAMES.get(name, ()) if times else ():
            if len(shorter) + len(count) + 2 <= width:
                return f"{shorter} ×{count}"  # `transcr. deltas ×11`, where `transcription d… ×11` was cut
        if times and len(count) + 3 < width:
            return f"{name[: width - len(count) - 3]}… ×{count}"  # the count is what tells runs apart
        return label[: width - 1] + "…"
    forms = spellings(label)  # longest first: the name, short forms, compact, initials
    for shorter in forms[:3]:
        if len(shorter) <= width:
            return shorter
    # Whole words from the left while a word of the second-to-last segment stays (`…transcript.delta`
    # reads better than `r.o_a_t.delta`); then the shortest spellings; then any cut from the left.
    last_dot = label.rfind(".")
    for cut in range(1, last_dot):
        if label[cut - 1] in "._" and len(label) - cut + 1 <= width and not _tail_of_another(label, label[cut:]):
            return "…" + label[cut:]
    for shorter in forms[3:]:
        if len(shorter) <= width:
            return shorter
    for cut in range(last_dot, len(label)):
        if label[cut - 1] in "._" and len(label) - cut + 1 <= width:
            return "…" + label[cut:]
    return "…" + label[-(width - 1) :] if width > 1 else label[:width]


_RUN_NAMES = {"transcription deltas": ("transcr. deltas", "transcr."), "response deltas": ("resp. deltas", "resp.")}
"""A run label's shorter names, longest first (the families line's spelling of the family)."""

_KNOWN_TYPES = GA_SERVER_EVENTS | GA_CLIENT_EVENTS


def _tail_of_another(label: str, tail: str) -> bool:
    """Whether another event type ends in `tail` at a word's start: `…item.added` read as
    `conversation.item.added` as much as `response.output_item.added`, side by side in a narrow log."""
    own = to_ga(label)
    return any(
        other != own and other.endswith(tail) and other[-len(tail) - 1] in "._"
        for other in _KNOWN_TYPES
        if len(other) > len(tail)
    )


@lru_cache(maxsize=1024)
def _type_cell(label: str, width: int) -> str:
    """The type column's text: `label` fit to `width`, padded, and the gap after it. A few dozen
    types (and run labels) fill a log: each is abbreviated once per width, not once per line."""
    return f"{abbreviate_type(label, width):<{width}} "


def sentence(text: str) -> str:
    """`text` ended as a sentence: a full stop unless it ends with one of its own (not `running?.`)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def with_families(text: str, families: list[str]) -> str:
    """A filter's text with the family toggles that are off (`-family:…` terms), as the query
    reads it: `(text) -family:response`."""
    hidden = [f"-family:{name}" for name in families]
    return " ".join(filter(None, [f"({text})" if text and hidden else text, *hidden]))


def counted(count: int, noun: str) -> str:
    """`1 frame`, `2 frames`, `1,204 frames` (`noun` is singular; English plural with an s)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def time_text(seconds: float) -> str:
    """`MM:SS.mmm` since the connection began; from an hour on `H:MM:SS.s` (then `HH:MM:SS`), so it
    stays within its column: `100:00.000` filled it and met the Δt column's widest values."""
    seconds = max(0.0, seconds)
    millis = round(seconds * 1000)  # rounded once: `59:60.000` was 3599.9999 s rounded per part
    if millis < 3_600_000:
        minutes, millis = divmod(millis, 60_000)
        return f"{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"
    hours, rest = divmod(millis // 100, 36_000)  # tenths, cut (never rounded up to 60.0)
    minutes, tenths = divmod(rest, 600)
    if hours < 10:
        return f"{hours}:{minutes:02d}:{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{tenths // 10:02d}"


UNTIMED = "–"
"""The time column of a frame from a recording without times (a log of events): its lines' order
is all it has, which the journal keeps 1 ms apart; shown as times, `00:00.005` and `+1ms` read as
measured."""


def untimed(frame: Frame) -> bool:
    """The frame has no time of its own: a line of a log that gave it none (its wall clock 0, its
    place in the replay's clock only its line's order). A log with relative times (`time_ms` from
    its start) has times, though no time of day."""
    return not has_time(frame.wall)


def delta_text(seconds: float | None) -> str:
    """Δt since the previous shown frame, in the unit that reads best."""
    return "" if seconds is None else f"+{duration_text(seconds)}"


def duration_text(seconds: float) -> str:
    """A stretch of time in the unit that reads best, in at most six cells (`0`, `20ms`, `2.31s`,
    `4m05s`, `2h13m`): the log's Δt column and a run's span."""
    if seconds < 0.001:
        return "0"
    # Rounded in the unit shown, then the unit chosen: 4m41.987s read `4m41s`, 999.6 ms `1000ms`.
    if (millis := round(seconds * 1000)) < 1000:
        return f"{millis}ms"
    if (centis := round(seconds * 100)) < 6000:
        return f"{centis / 100:.2f}s"
    if (whole := round(seconds)) < 3600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)  # `100m00s` overflowed the column
    return f"{hours}h{minutes:02d}m" if hours < 100 else f"{hours}h"


def span_text(seconds: float) -> str:
    """How long a run of frames took from its first to its last: `over 1.52s`, or `at once` (one
    read from the socket, a replay's instant). Beside the audio it carried, it says whether a reply
    streamed faster than it plays."""
    return "at once" if seconds < 0.001 else f"over {duration_text(seconds)}"


def size_text(nbytes: int) -> str:
    """A frame size in the log's size column."""
    if nbytes >= 1024 * 1024:
        return f"{nbytes / 1024 / 1024:.1f}M"
    return f"{nbytes / 1024:.1f}K" if nbytes >= 1024 else f"{nbytes}B"


def type_label(frame: Frame) -> str:
    """The type column of a frame: its type (an unknown one is said so in the summary, so the
    column keeps the misspelt name, which is the point, whole)."""
    return frame.type


def is_unknown_type(frame: Frame) -> bool:
    """Neither dialect defines the frame's type (rt-tui's own `rt.*` facts are known)."""
    return frame.family is Family.UNKNOWN and not frame.type.startswith("rt.")


def frame_summary(journal: Journal, links: Links | None, frame: Frame) -> str:
    """The summary column of one frame, with its cause or effect when one is linked."""
    if frame.payload_dropped:
        # An audio frame's length is known (the journal kept it): its tag, as in memory. The rest
        # of an hour's audio rows read "(payload in the capture file only)", even in a replay of a
        # HAR, which has no capture file.
        chars = journal.audio_chars(frame.index)
        if chars:
            summary = audio_size_tag(chars * 3 // 4, rate_of(frame.type, audio_rates_at(journal, frame.index)))
        else:
            summary = "(payload in the capture file only)"
    elif frame.binary is not None:
        summary = f"binary frame, {size_text(len(frame.binary))}"
    else:
        # Lengths in the formats the session had applied then (a G.711 byte is 1/8 ms, not 1/48).
        summary = summarize_event(journal.data(frame.index), audio_rates_at(journal, frame.index))
    if links is not None:
        cause = links.cause_of.get(frame.index)
        if cause is not None:
            origin = journal[cause.cause]
            summary = linked_summary(frame, summary, f"← {origin.type} #{origin.seq}")
        effects = links.effects_of.get(frame.index)
        if effects:
            names = ", ".join(sorted({journal[link.effect].type for link in effects}))
            # The link first, as a failure's cause leads its row: after the summary, an event id
            # (`evt_S6hAUXglFpQb6nTF →…`) took the narrow column and cut the link (review 57a). A
            # frame that says nothing else (a bare commit) reads `→ error`, not `→ error · `.
            summary = f"→ {names} · {summary}" if summary else f"→ {names}"
    if is_unknown_type(frame):
        summary = f"unknown type · {summary}" if summary else "unknown type"  # no `·` before nothing
    marker = connection_marker(journal, frame)
    return f"{marker} {summary}" if marker else summary


def connection_marker(journal: Journal, frame: Frame) -> str:
    """`━━ connection N ━━` on the first row of a connection: its connecting fact, or the new
    session's capture fact when that comes right before it (after ctrl+r; at time 0 of the
    connection, see `Journal._move_capture_before`), else ""."""
    index = frame.index
    if frame.type == "rt.capture":
        start = index + 1
        if frame.epoch == 0 or start >= len(journal) or journal.epoch_starts[frame.epoch] != start:
            return ""
    elif frame.type == "rt.connection" and journal.data(index).get("state") == "connecting":
        before = index - 1
        if before >= 0 and journal[before].type == "rt.capture" and journal[before].epoch == frame.epoch:
            return ""  # the capture fact before it, of its connection, has the marker
        start = index
    else:
        return ""
    # A proxied client's connection is numbered by the proxy (its session holds just that one).
    number = None if journal.numbers_its_connections else journal.data(start).get("connection")
    return f"━━ connection {number if type(number) is int else frame.epoch} ━━"


def linked_summary(frame: Frame, summary: str, link: str) -> str:
    """A failure's summary with the frame that caused it (`link`): what went wrong first, since a
    narrow summary column shows only its start (at 120 columns every error read `← response.create
    #3010 ·…`, whatever its code). An error's code (`code ← link · message`); a response's status
    (`cancelled (client_cancelled) ← link · resp_…`); else the link, then the summary."""
    response_id = frame.response_id
    if response_id and summary.endswith(f" · {response_id}"):  # a response's summary ends with its id
        said = summary[: -len(response_id) - 3]
        status, colon, error = said.partition(": ")
        code, colon2, message = error.partition(": ")
        if colon and colon2 and " " not in status and " " not in code:
            # `failed: code: message`: the code before the link, the message after it (the message
            # before it cut `failed: insufficie… ← …`, the code unread, at 160 columns).
            return f"{status}: {code} {link} · {message} · {response_id}"
        return f"{said} {link} · {response_id}"
    head, colon, rest = summary.partition(": ")
    if " " in head or not head:  # not a code: the link, then what the frame says
        return f"{link} · {summary}"
    # `code: message` (or a bare code), as an error and a failed transcription read.
    return f"{head} {link} · {rest}" if colon else f"{head} {link}"


def find_miss(finder: Finder, shown: int | None = None) -> str:
    """What the find bar says when a find finds nothing: why, when its regex gave up on a frame (it
    searches no further), else that the text is not in the frames shown (`shown` of them)."""
    if finder.problem is not None:
        return f"{finder.problem}: later frames are not searched"
    where = f"the {counted(shown, 'frame')} shown" if shown is not None else "the frames shown"
    # A "phrase" the user quoted is shown in its own quotes (`'"lights kitchen"'` nested them).
    said = printable(finder.text) if finder.quoted else quote(finder.text)
    return f"{said} is not in {where}"


MATCH_LEAD = 12
"""Characters kept before a find's match when a row is made to show it (`summary_at_match`), at most a
third of the column's room left by the match (a narrow pane's column shows more after it)."""


def summary_at_match(
    summary: str, finder: Finder, room: int, searched: Callable[[], str] | None = None, etype: str = ""
) -> str:
    """The summary column (`room` cells) of a frame's row while `finder` highlights matches: it shows
    why the row matched. A summary whose first match the column shows, or that has none and no
    `searched` text, is returned as it is. A match the column's edge would cut off (a word past the
    edge of a narrow pane) is brought in: an ellipsis, then the summary from a little before it.
    A match the summary lacks (a word past its quote's length, in instructions, in a field it does
    not name) is shown from `searched()`, the frame's searched text (`Journal.search_text`, asked
    only then: it may unescape a long frame), unless it is only in the frame's type (`etype`: the
    type column says that one)."""
    if room < 3:
        return summary
    spans = finder.spans(summary)
    if spans:
        return _from_match(summary, spans[0], room)
    text = searched() if searched is not None else ""
    if not text:
        return summary
    named = text.find(f'"{etype}"') + 1 if etype else 0  # where the type's own value is, if found
    for span in finder.spans(text):
        if named and named <= span[0] and span[1] <= named + len(etype):
            continue
        begin = max(0, span[0] - MATCH_LEAD)
        # Enough of the text for the column (no more: a frame's text can be megabytes long).
        shown = text[begin : span[1] + 2 * room]
        return _from_match(shown, (span[0] - begin, span[1] - begin), room, cut=True)
    return summary


def _from_match(text: str, span: tuple[int, int], room: int, *, cut: bool = False) -> str:
    """`text` begun so that `span` shows in a column of `room` cells: as it is when it does, else
    an ellipsis and the text from up to `MATCH_LEAD` characters before the match (fewer in a narrow
    column, or when the match would not fit after them; a match wider than the column begins it).
    `cut`: `text` is already a part of something longer, so it begins with an ellipsis even when it fits."""
    start, end = span
    fits = cell_len(text) <= room or cell_len(text[:end]) <= room - 1  # the last cell: the edge's ellipsis
    if fits and not cut:
        return printable(text)
    lead = min(MATCH_LEAD, max(0, room - cell_len(text[start:end])) // 3)
    begin = max(0, start - lead)
    # One cell for the ellipsis in front, one for the one at the edge.
    while begin < start and cell_len(text[begin:end]) > room - 2:
        begin += 1
    return "…" + printable(text[begin:])


def run_label(journal: Journal, row: Row) -> str:
    """The type column of a collapsed run: the stream and how many frames it holds."""
    first = journal[row.first]
    kind = to_ga(first.type)
    if row.key is not None and row.key[0] == "response":
        return f"response deltas ×{row.count}"
    if row.key is not None and row.key[0] == "transcription":
        # Not `…delta ×24`: the type's tail, all a narrow column keeps, names no stream.
        return f"transcription deltas ×{row.count}"
    return f"{kind} ×{row.count}" if is_known(first.type) else f"{first.type} ×{row.count}"


class RunDigest:
    """What a run's summary says, taken in frame by frame as the run grows (a reply's run gains
    frames on every batch: its summary must not read the whole run again each time)."""

    __slots__ = (
        "seen",
        "audio_bytes",
        "tagged_g711",
        "words",
        "counts",
        "size",
        "badges",
        "badges_seen",
        "badges_version",
    )

    def __init__(self) -> None:
        self.seen = 0
        self.audio_bytes = 0
        self.tagged_g711 = False
        """A frame's audio was a tag naming G.711 (an export without audio): its length is G.711's
        even where the session's format is not in the file (a filtered export)."""
        self.words: list[str] = []
        self.counts: dict[str, int] = {}
        self.size = 0
        self.badges: set[str | None] = set()
        """The lint badges of the frames read so far (`badges_seen` of them, under `badges_version`)."""
        self.badges_seen = 0
        self.badges_version = -1

    def worst_badge(self, view: LogView, row: Row) -> str | None:
        """The worst lint badge of any of the run's frames. Only the frames the run gained are
        read while the view's `marks_version` holds (the app bumps it with every batch of new
        findings, and the run is read again whole): a reply's run gains frames on every batch, and reading all of them
        again (thousands for a long stretch of speech) on every repaint cost more than the rest."""
        marks = view.marks
        if marks is None:
            return None
        if self.badges_version != view.marks_version:
            self.badges, self.badges_seen, self.badges_version = set(), 0, view.marks_version
        members = row.members
        self.badges.update(map(marks, members[self.badges_seen :]))  # the calls made from C
        self.badges_seen = len(members)
        return _worst(self.badges)

    def update(self, journal: Journal, row: Row) -> None:
        """Take in the frames the run gained since the last call."""
        members = row.members
        gained = members[self.seen :]
        if not gained:
            return
        # Column reads, not Frames: a reply's run gains hundreds of frames between two repaints.
        # Each column read over all of them at once, in C (map), then one pass for the audio and
        # the words: a call per frame and column was half the time of a run's line.
        types = list(map(journal.type_at, gained))
        self.size += sum(map(journal.size_at, gained))
        counts = self.counts
        for etype, count in Counter(types).items():  # in the order they first come, as `counts` is
            short = _short_name(etype)
            counts[short] = counts.get(short, 0) + count
        raw_at, data, words, audio_bytes = journal.raw_at, journal.data, self.words, self.audio_bytes
        for index, etype in zip(gained, types, strict=True):
            field = AUDIO_FIELDS.get(etype)
            if field is None:
                delta = data(index).get("delta")  # {} once the payload left memory
                if isinstance(delta, str):
                    words.append(delta)
                continue
            raw = raw_at(index)
            span = string_span(raw, field) if raw is not None else None
            if raw is not None and span is not None:
                # A size tag (an export without audio) counts as the audio it stands for.
                audio_bytes += audio_span_bytes(raw, *span)
                start, end = span
                if end - start < 64 and raw.startswith("g711]", end - 5) and raw.startswith("[audio ", start):
                    self.tagged_g711 = True
            else:
                # The length the journal kept when it dropped the payload, else the frame's size
                # (base64 is 4/3 of the PCM).
                length = journal.audio_chars(index) if raw is None else None
                audio_bytes += (length if length is not None else journal.size_at(index)) * 3 // 4
        self.audio_bytes = audio_bytes
        self.seen = len(members)

    def summary(self, journal: Journal, row: Row) -> str:
        """The words it carried, how much audio, its id, and what kinds of frame: the telling part
        first, since a narrow summary column shows only its start."""
        first = journal[row.first]
        parts = []
        if self.words:
            # 40, not 60: the audio and the span after it stay in a zoomed pane's summary.
            parts.append(quote("".join(self.words).strip(), 40))
        if self.audio_bytes:
            # A run is one stream (a reply's deltas, a turn's appends): its first frame's format.
            rate = G711_BYTES_PER_MS if self.tagged_g711 else rate_of(first.type, audio_rates_at(journal, row.first))
            parts.append(_audio_total(self.audio_bytes, rate))
        if not untimed(first):
            parts.append(span_text(journal[row.members[-1]].mono - first.mono))
        parts += [x for x in (first.response_id or first.item_id,) if x]
        if len(self.counts) > 1:
            parts.append(kinds_text(self.counts))
        return " · ".join(parts)


def kinds_text(counts: dict[str, int]) -> str:
    """`audio ×24 · transcript ×24`: how many frames of each kind a run of deltas holds."""
    return " · ".join(f"{name} ×{n}" for name, n in counts.items())


def run_kinds(journal: Journal, indices: list[int]) -> dict[str, int]:
    """The short name of each kind of delta among frames `indices` (`audio`, `transcript`…), and
    how many of each, in the order they first come."""
    counts: dict[str, int] = {}
    for index in indices:
        short = _short_name(journal.type_at(index))
        counts[short] = counts.get(short, 0) + 1
    return counts


@lru_cache(maxsize=1024)
def _short_name(event_type: str) -> str:
    """A delta type's short name in a run's summary (`audio`, `transcript`, `text`, `arguments`)."""
    return to_ga(event_type).rsplit(".", 2)[-2].rsplit("_", 1)[-1]


def run_summary(journal: Journal, row: Row) -> str:
    """What a collapsed run says (read in one go: tests and plain-text dumps)."""
    digest = RunDigest()
    digest.update(journal, row)
    return digest.summary(journal, row)


def _audio_total(nbytes: int, bytes_per_ms: int = PCM16_BYTES_PER_MS) -> str:
    """`[audio 57.6 KB · 1.20 s]`: the audio a run carried, from the frames' sizes alone; G.711
    named (`[audio 9.4 KB · 1.20 s · g711]`), as its frames' tags are."""
    size = f"{nbytes / 1024:.1f} KB" if nbytes >= 1024 else f"{nbytes} B"
    name = " · g711" if bytes_per_ms != PCM16_BYTES_PER_MS else ""
    return f"[audio {size} · {audio_length(nbytes, bytes_per_ms)}{name}]"  # as a frame's tag says it


IN_RUN = "in run"
"""The Δt column of a row whose frame came while a run above it was streaming."""

IN_RUN_STYLE = "italic #737aa2"


def row_text(view: LogView, row: Row) -> str:
    """A row as plain text without times: arrow, type (or run), summary (tests, quick checks)."""
    journal = view.journal
    frame = journal[row.first]
    if row.count > 1:
        return f"{ARROWS[frame.direction]} {run_label(journal, row)} {run_summary(journal, row)}"
    return f"{ARROWS[frame.direction]} {type_label(frame)} {frame_summary(journal, view.links, frame)}"


Piece = tuple[str, str | None]
"""A stretch of a line: its text and its Rich style (None: plain)."""


def line_pieces(
    view: LogView,
    row: Row,
    member: int,
    columns: Columns,
    previous: Frame | None,
    digest: RunDigest | None = None,
    *,
    in_run: bool = False,
) -> list[Piece]:
    """One line of the log as styled pieces: a row (collapsed run or single frame) or one frame of
    an expanded run. Pieces rather than a Rich `Text`: the log paints them as segments directly.
    `in_run`: the row's frame came while a run above it streamed (`LogView.arrived_in_run`): its Δt
    says so instead."""
    journal = view.journal
    is_member = member >= 0 and row.expanded
    index = row.members[member] if is_member else row.first
    frame = journal[index]
    collapsed_run = not is_member and row.count > 1
    pieces: list[Piece] = []
    if is_member:
        pieces.append((" │" if member < row.count - 1 else " └", DIM))
    else:
        marker = "▸" if collapsed_run and not row.expanded else "▾" if collapsed_run else ARROWS[frame.direction]
        pieces.append((f"{marker} ", DIRECTION_STYLES[frame.direction]))
    if collapsed_run and not is_member:
        if digest is None:
            digest = RunDigest()
        digest.update(journal, row)
        label, size, summary = run_label(journal, row), digest.size, digest.summary(journal, row)
    else:
        label, size, summary = type_label(frame), frame.size, frame_summary(journal, view.links, frame)
    delta = frame.mono - previous.mono if previous is not None else None
    type_width = columns.type - (2 if is_member else 0)
    timed = not untimed(frame)
    if columns.time:
        pieces.append((f"{time_text(journal.since_connect(frame)) if timed else UNTIMED:<{columns.time}}", DIM))
    # Δt from a line without a time is no measure either (`+0` after a log's untimed last line).
    measured = timed and (previous is None or not untimed(previous))
    if in_run and not is_member:
        # Came while the run above streamed: its time is earlier than that run's last frames.
        pieces.append((f"{IN_RUN:>{columns.delta - 1}} ", IN_RUN_STYLE))
    else:
        pieces.append((f"{delta_text(delta) if measured else '':>{columns.delta - 1}} ", DIM))
    if is_member:
        pieces.append(("  ", None))  # a run's frames sit indented under its line
    label = printable(label)  # server text (an unknown type): shown, never obeyed by the terminal
    mark = digest.worst_badge(view, row) if collapsed_run and digest is not None else _mark(view, index)
    badge = MARKS.get(mark, MARKS["info"]) if mark is not None else None
    room = columns.summary - (len(badge[0]) if badge is not None else 0)
    summary = printable(summary)
    spare = type_width - len(label)
    failure = frame.family is Family.ERROR or (view.links is not None and index in view.links.cause_of)
    spilled = failure and not collapsed_run and not is_member and spare > 1 and len(summary) > room
    if spilled:
        # An error's type is short and its summary long (`code ← cause · message`): the type
        # column's blank cells, and the size's, go to the summary. Kept in the grid, the message
        # never showed at any width short of a zoomed log; the row out of it reads as a failure.
        # A failed response.done, a failed transcription likewise (`failed: rate_li… ← r.create`
        # beside blank cells).
        pieces.append((f"{label} ", FAMILY_STYLES[frame.family]))
        room += spare + columns.size  # and no size: out of its column, `error 239B` read as the type's
    else:
        pieces.append((_type_cell(label, type_width), FAMILY_STYLES[frame.family]))
    if columns.size and not spilled:
        shown_size = size_text(size) if frame.direction is not DIR_LOCAL else ""
        pieces.append((f"{shown_size:>{columns.size - 1}} ", DIM))
    if badge is not None:
        pieces.append(badge)
    if not collapsed_run and len(summary) > room and view.links is not None:
        summary = _keep_the_link(journal, view.links, index, summary, room, short=spilled)
    if len(summary) > room:
        # Cut here, not at the pane's edge: a number the edge cut in two read as another (`over 38…`
        # for 380ms): it goes whole (a line too wide after all is still cut there).
        summary = end_cut(summary, room)
    pieces.append((summary, None))
    return pieces


CODE_KEPT = 14
"""Characters of an error's code (or a response's status) a row keeps beside its cause's link:
`response_cancel… ← #52` still names the code; `respon…` did not."""


def _keep_the_link(journal: Journal, links: Links, index: int, summary: str, room: int, *, short: bool = False) -> str:
    """A failure's summary cut so its cause stays in the column: the code before the link gives way
    (`response_cancel_n… ← response.cancel #52 · …`). Cut at the column's edge, the link was the part
    that went, at any width the proxy's pane or an 80-column log has: what answers "what did I send?"."""
    cause = links.cause_of.get(index)
    if cause is None:
        return summary
    origin = journal[cause.cause]
    link = printable(f"← {origin.type} #{origin.seq}")
    at = summary.find(link)
    # A line cut at the pane's edge ends in an ellipsis on its last cell: the link ends a space before
    # it (`#202 …`; `#202…` read as a number cut short).
    if at <= 0:
        return summary  # the link leads
    end = at + len(link)
    if len(summary) <= room or (end + REST_SHOWN <= room and not short):
        return summary  # whole, or the link and the start of what follows it fit as they are
    # The cause's type in its short forms (`← i.commit #169`: the spelling `type:` takes; an
    # 80-column log had only the number), then its number alone (`← #5007462`: x and c still go
    # there). The code whole beside the longest that leaves room for it; else cut beside the shortest.
    head = summary[:at].rstrip()
    status = head.rfind(": ") + 2 if ": " in head else 0  # `failed: ` before a response's code
    readable = min(len(head), status + CODE_KEPT)
    names = spellings(origin.type)[1:]
    shapes = (link, *(f"← {name} #{origin.seq}" for name in names), f"← #{origin.seq}")
    if short and len(shapes) > 2:
        shapes = shapes[1:]  # the message after the link is cut: the cause's type in its short form
    rest = summary[end:]

    def with_rest(line: str) -> str:
        """`line` and as much of what followed the link as shows; none of it where not even its
        start would (`← r.cancel #7 …`: a lone ellipsis took two cells the code needed)."""
        return line + rest if len(line) + len(rest) <= room or len(line) + REST_SHOWN <= room else line

    # The code whole and the message's start, beside the longest link with the cause's type that
    # leaves room for both; else the code whole beside the longest that leaves room for it, the bare
    # number last: `← #241` and the message's start named a frame number no row shows (review 57a),
    # where `← r.cancel #241` answers "what did I send?" on the row itself.
    for need, tried in ((REST_SHOWN if rest else 0, shapes[:-1]), (0, shapes)):
        for shown in tried:
            if len(head) + 1 + len(shown) + need <= room:
                return with_rest(f"{head} {shown}")
    # The code cut: beside the shortest link (`← i.commit #16`, then `← #16`), which leaves the most
    # of it (`input_audio_buf… ← i_a_buffer.commit` hid what went wrong where a narrower pane did not).
    for shown in shapes[-2:]:
        keep = room - len(shown) - 2  # the code's ellipsis and a space
        if keep >= readable:
            return f"{head[:keep]}… {shown}"
    return summary  # too narrow for both: the code, which says what went wrong, keeps the room


REST_SHOWN = 8
"""Cells an error row's text after its link needs to be worth showing (` · Cance…`)."""


def render_line(
    view: LogView,
    row: Row,
    member: int,
    columns: Columns,
    previous: Frame | None,
    digest: RunDigest | None = None,
    *,
    in_run: bool = False,
) -> Text:
    """One line of the log as Rich text (see `line_pieces`)."""
    line = Text(no_wrap=True, overflow="crop")
    for text, style in line_pieces(view, row, member, columns, previous, digest, in_run=in_run):
        line.append(text, style)
    return line


def line_segments(pieces: list[Piece], base: Style | None = None) -> list[Segment]:
    """The pieces as Rich segments: what `Text.render` makes of `render_line`'s text (control codes
    stripped, styles parsed), without its general machinery for overlapping spans. `base`: the style
    under every piece (the pane's own; a piece names only its foreground), combined once per style."""
    if base is None:
        return [Segment(strip_control_codes(text), _style(style) if style else None) for text, style in pieces if text]
    return [Segment(strip_control_codes(text), _over(base, style)) for text, style in pieces if text]


def fit_segments(pieces: list[Piece], width: int, base: Style, post: Style | None = None) -> list[Segment]:
    """The pieces as segments exactly `width` cells long: padded with spaces in `base`, or, when
    longer, cut at `width - 1` cells and ended with an ellipsis in the style of the text it replaces
    (a summary cut at the pane's edge must say so, or a cut id looks whole). `post`: a style over
    every piece's (the cursor's), not over the padding.

    The same segments as `line_segments`, `Segment.apply_style(post_style=post)`, then Rich's
    `adjust_line_length` to `width - 1` plus the ellipsis, or a Strip's `crop_extend` to `width`
    (tests hold them equal), measuring each piece once (a non-ASCII piece longer than the room
    left: its head first, then the whole of it when the head fits): the log renders every new line
    through it (35 a paint while it follows a stream), and those measured each piece up to three times."""
    if width < 1:
        return []
    segments: list[Segment] = []
    sizes: list[int] = []
    used = 0
    for text, definition in pieces:
        if not text:
            continue
        printable = text.isprintable()  # then no control code to strip
        if printable and text.isascii():
            size = len(text)  # one cell a character (nearly every piece)
        else:
            if not printable:
                text = strip_control_codes(text)
            # Measured as far as the line's end at first: a long summary (`…`, arrows) reaching past
            # it is cut, and its head's cells are a floor of its own (no character takes fewer than
            # none), which is all the cut needs to know of the piece it falls in.
            room = width - used
            size = cell_len(text[: room + 1])
            if size <= room and len(text) > room + 1:
                size = cell_len(text)
        segments.append(Segment(text, _painted(base, definition, post)))
        sizes.append(size)
        used += size
        if used > width:  # the cut falls in this piece or an earlier one: the rest is never seen
            return _cut(segments, sizes, width - 1)
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    return segments


def _cut(segments: list[Segment], sizes: list[int], limit: int) -> list[Segment]:
    """`segments` (of `sizes` cells) cut at `limit` cells, then the ellipsis: Rich's
    `adjust_line_length` (the piece that reaches `limit` is cut there, even to nothing; a wide
    character cut in two becomes a space)."""
    used = 0
    for position, size in enumerate(sizes):
        if used + size < limit:
            used += size
            continue
        text, style, _ = segments[position]
        room = limit - used
        head = text[: room + 1]
        # A printable ASCII head: the cut is a slice (the character after it starts a new cell, so
        # no combining mark or joiner belongs before the cut); else Rich's own cell-aware split.
        kept = text[:room] if head.isascii() and head.isprintable() else set_cell_size(text, room)
        return [*segments[:position], Segment(kept, style), Segment("…", style)]
    raise AssertionError("_cut: the segments are shorter than the limit")  # fit_segments cuts only longer lines


@lru_cache(maxsize=128)
def _painted(base: Style, definition: str | None, post: Style | None) -> Style:
    """A piece's style over the pane's (`_over`), then under `post` as `Segment.apply_style` puts it."""
    style = _over(base, definition)
    if not post:
        return style
    return style + post if style else post


@lru_cache(maxsize=64)
def _style(definition: str) -> Style:
    return Style.parse(definition)


@lru_cache(maxsize=128)
def _over(base: Style, definition: str | None) -> Style:
    return base + _style(definition) if definition else base


def _mark(view: LogView, index: int) -> str | None:
    """The badge of one frame (a run's: `RunDigest.worst_badge`)."""
    marks = view.marks
    return _worst({marks(index)}) if marks is not None else None


def _worst(badges: set[str | None]) -> str | None:
    """The worst severity among `badges` (a word that is no severity counts as none)."""
    for severity in ("error", "warning", "info"):
        if severity in badges:
            return severity
    return None
