"""The findings view: what the linter found in this session, worst first, each linked to its frames.

A modal list; Enter closes it and selects the finding's primary frame in the event log. The
texts are the linter's plain words (never markup): what is wrong, and what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.journal import Journal
from tui.lint import Finding, Severity
from tui.lint.finding import connection_of, frame_label
from tui.protocol import printable, text

from .key_footer import KeyFooter
from .log_format import counted, sentence
from .palette import themed

SEVERITY_STYLES = {Severity.ERROR: "bold #f7768e", Severity.WARNING: "bold #e0af68", Severity.INFO: "#7aa2f7"}
SEVERITY_MARKS = {Severity.ERROR: "✖", Severity.WARNING: "⚠", Severity.INFO: "ℹ"}
"""Each severity's mark (▲ and ▼ are taken: the log's sent and received)."""
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_NOUNS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def finding_text(finding: Finding, journal: Journal, *, dark: bool = True) -> Text:
    """A finding as the view lists it: mark, rule, message; the fix; the frames (`dark`: the theme
    is dark, `tui.widgets.palette`)."""
    style = themed(SEVERITY_STYLES[finding.severity], dark)
    text = Text.assemble(
        (f"{SEVERITY_MARKS[finding.severity]} {finding.severity.value} ", style),
        (finding.rule, "bold"),
        "\n",
        printable(finding.message),
        "\n",
        ("fix: ", "bold"),
        printable(finding.fix),
    )
    if finding.frames:
        frames = ", ".join(frame_label(journal, index) for index in finding.frames[:6])
        more = f" and {len(finding.frames) - 6} more" if len(finding.frames) > 6 else ""
        text.append(f"\nframes: {frames}{more}", style="dim")
    return text


def worst(findings: Sequence[Finding]) -> Severity | None:
    """The most severe of `findings`, or None."""
    return min((f.severity for f in findings), key=_ORDER.__getitem__, default=None)


class FindingList(OptionList):
    """The findings: Enter goes to the chosen one's frame, as the footer says (it showed Close alone)."""

    BINDINGS = [Binding("enter", "select", "Go to its frame", id="findings.go")]


class FindingsView(ModalScreen[int | None]):
    """Every finding; dismisses with the journal index of the chosen finding's frame, or None."""

    DEFAULT_CSS = """
    FindingsView { align: center middle; }
    FindingsView > Vertical { width: 94%; height: 90%; border: round $warning; background: $surface; }
    FindingsView OptionList { height: 1fr; border: none; }
    FindingsView .findings--empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="findings.close")]

    def __init__(self, findings: Sequence[Finding], journal: Journal, files: Mapping[int, str] | None = None) -> None:
        super().__init__()
        self.journal = journal
        self.files = dict(files or {})
        """The file each connection was replayed from (`rt-tui replay A B`), named in its heading:
        in a replay of eight captures, "connection 5" alone left the reader counting files."""
        self.connections = {id(finding): connection_of(finding, journal) for finding in findings}
        """Each finding's connection (by `id`): listed under it, newest first, once there are several."""
        self.grouped = journal.epoch > 1
        """More than one connection (after ctrl+r, in a replay of several captures): each is headed,
        the ones without findings too. Headed only when some finding was earlier, a list of the
        latest connection's alone said nothing of which connection (or replayed file) it was."""
        self.findings = sorted(
            findings,
            key=lambda f: (-self.connections[id(f)] if self.grouped else 0, _ORDER[f.severity], f.frames[:1]),
        )

    def compose(self) -> ComposeResult:
        yield KeyFooter()  # this view's keys, not the screen's under it
        with Vertical() as box:
            counts = {s: sum(f.severity is s for f in self.findings) for s in Severity}
            errors, warnings = counted(counts[Severity.ERROR], "error"), counted(counts[Severity.WARNING], "warning")
            box.border_title = Text(f"Findings · {errors} · {warnings} · {counted(counts[Severity.INFO], 'note')}")
            box.border_subtitle = "enter: go to its frame · esc close"
            if not self.findings:
                box.border_subtitle = "esc close"  # no finding, no frame for enter to go to
                yield Static(Text(self._nothing_found()), classes="findings--empty")
                return
            options: list[Option | None] = []
            heading: int | None = None
            for position, finding in enumerate(self.findings):
                connection = self.connections[id(finding)]
                if self.grouped and connection != heading:
                    # Every connection is headed, the newest first: a clean one said "no findings"
                    # only when it was the latest, and connection 2 of three was left out unsaid.
                    for clean in range(self.journal.epoch if heading is None else heading - 1, connection, -1):
                        options += [Option(self._heading(clean), disabled=True), None]
                    heading = connection
                    options.append(Option(self._heading(connection), disabled=True))
                options.append(
                    Option(finding_text(finding, self.journal, dark=self.app.current_theme.dark), id=str(position))
                )
                options.append(None)  # a separator line between findings
            if self.grouped and heading is not None:
                for clean in range(heading - 1, 0, -1):  # the first connections, clean
                    options += [Option(self._heading(clean), disabled=True), None]
            yield FindingList(*options[:-1])

    def _nothing_found(self) -> str:
        """The words of a list without findings: clean traffic, or none to judge (a proxied client
        whose upstream could not be reached read "the traffic follows the protocol")."""
        journal = self.journal
        if any(sum(journal.direction_counts(epoch)) for epoch in range(journal.epoch + 1)):
            return "Nothing found: the traffic follows the protocol."
        failed = ""
        for frame in journal.frames():  # local facts alone: a handful of frames
            data = journal.data(frame.index) if frame.type == "rt.connection" else {}
            if data.get("state") == "failed":
                failed = printable(text(data.get("message")))
        said = f"; the connection failed: {failed}" if failed else ""
        return sentence(f"Nothing to judge: no frame crossed this connection{said}")

    def _heading(self, connection: int) -> Text:
        """The line above a connection's findings: which connection, the current one named so."""
        these = [f for f in self.findings if self.connections[id(f)] == connection]
        name = f"connection {connection}" if connection else "before the first connection"
        # "The latest": in a finished replay no connection is current, and live the newest one is.
        latest = " (the latest)" if connection == self.journal.epoch else ""
        counts = ", ".join(
            counted(n, _NOUNS[severity]) for severity in _ORDER if (n := sum(f.severity is severity for f in these))
        )
        heading = Text(f"━━ {name}{latest} · {counts or 'no findings'} ━━", style="bold")
        if connection in self.files:  # on a line of its own: beside the counts it wrapped at 80 columns
            heading.append(f"\n   replayed from {printable(self.files[connection])}", style="dim")
        return heading

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._recolour)

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)

    def _recolour(self, theme: Theme) -> None:
        """A theme chosen while the view is open (the palette works over it): each finding drawn
        again in its palette (`tui.widgets.palette`), the highlighted one kept."""
        if not self.findings:
            return
        options = self.query_one(OptionList)
        for position, finding in enumerate(self.findings):
            options.replace_option_prompt(str(position), finding_text(finding, self.journal, dark=theme.dark))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        finding = self.findings[int(event.option.id or 0)]
        self.dismiss(finding.frames[0] if finding.frames else None)

    async def action_dismiss(self, result: int | None = None) -> None:
        self.dismiss(result)
