"""The event log's one-line bars: the filter (with family toggles) and find.

Each is an input with a status line under it. They check what is typed as it is typed and show a
malformed query's one-line reason in the bar itself; the app applies a query when Enter is
pressed. They hold no protocol state: the app tells them the counts to show.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from tui.journal import Family, Finder, Journal, Query, QueryError
from tui.widgets.message_input import OneLineInput
from tui.widgets.screen_size import short_screen

FAMILY_LABELS = {
    Family.SESSION: "session",
    Family.INPUT: "input",
    Family.CONVERSATION: "conv",
    Family.TRANSCRIPTION: "transcr",
    Family.RESPONSE: "resp",
    Family.ERROR: "error",
    Family.LOCAL: "local",
    Family.UNKNOWN: "unknown",
}

SHORT_FAMILY_LABELS = {
    Family.SESSION: "sess",
    Family.INPUT: "in",
    Family.CONVERSATION: "conv",
    Family.TRANSCRIPTION: "tr",
    Family.RESPONSE: "resp",
    Family.ERROR: "err",
    Family.LOCAL: "loc",
    Family.UNKNOWN: "unk",
}
"""The toggles' labels on a line too narrow for `FAMILY_LABELS`."""


class BarStatus(Widget):
    """The bar's status line. Setting its text repaints this line only: a `Static`'s `update` lays
    out the whole screen, and the filter's counts change with every views refresh under a stream."""

    text: reactive[Text] = reactive(Text, layout=False)
    shorter: reactive[tuple[Text, ...]] = reactive(tuple, layout=False)
    """What is shown in place of `text` on a line too narrow for it: the first of these that fits,
    else the last (none: `text`, cut)."""

    def render(self) -> Text:
        width = self.content_size.width
        if not self.shorter or not width or self.text.cell_len <= width:
            return self.text
        return next((text for text in self.shorter if text.cell_len <= width), self.shorter[-1])


class QueryBar(Vertical):
    """An input for a filter or a find pattern, with a status line."""

    DEFAULT_CSS = """
    QueryBar { height: auto; display: none; }
    QueryBar > Input { width: 1fr; }
    QueryBar > .query-bar--status { height: 1; color: $text-muted; padding: 0 1; }
    QueryBar > .query-bar--status.-error { color: $error; height: auto; max-height: 3; }
    """

    BINDINGS = [Binding("escape", "leave", "Leave", id="query-bar.leave")]

    INPUT: type[OneLineInput] = OneLineInput
    """The bar's input (each bar's names what its Enter does, in the footer)."""

    class Submitted(Message):
        """The user pressed Enter on a valid query (empty: clear it)."""

        def __init__(self, bar: QueryBar, text: str) -> None:
            self.bar = bar
            self.text = text
            super().__init__()

        @property
        def control(self) -> QueryBar:
            """The bar that sent the message."""
            return self.bar

    class Refused(Message):
        """The user pressed Enter on a malformed query: the bar says why and keeps the focus."""

        def __init__(self, bar: QueryBar) -> None:
            self.bar = bar
            super().__init__()

    class Left(Message):
        """The user left the bar: Escape in it (`refocus`: the focus goes back to the log), or the
        focus went elsewhere with no query in force (Tab, a click: it stays where it went)."""

        def __init__(self, bar: QueryBar, *, refocus: bool = True) -> None:
            self.bar = bar
            self.refocus = refocus
            super().__init__()

        @property
        def control(self) -> QueryBar:
            """The bar that sent the message."""
            return self.bar

    def __init__(self, prompt: str, placeholder: str, journal: Journal, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prompt = prompt
        self.placeholder = placeholder
        self.journal = journal
        self.active = ""
        """The query in force (what the status line describes)."""
        self.live_status = False
        """The status line shows what the app keeps current (see `set_status`)."""

    def compose(self) -> ComposeResult:
        yield self.INPUT(placeholder=self.placeholder, compact=True)
        yield BarStatus(classes="query-bar--status")

    @property
    def input(self) -> Input:
        """The bar's input."""
        return self.query_one(Input)

    @property
    def text_in_force(self) -> str:
        """The query in force as the user wrote it: what the input holds when nothing is typed."""
        return self.active

    @property
    def shown(self) -> bool:
        """The bar is on screen."""
        return self.display

    def show(self) -> None:
        """Put the bar on screen. Its display is set inline, not by a class: a class change restyles
        the bar's every widget through the stylesheet (~2 ms of a key's response, at each open and
        close), while an inline rule is only the bar's own."""
        self.display = True

    def open(self) -> None:
        """Show the bar and focus its input, holding the query in force."""
        self.show()
        self.input.value = self.text_in_force
        # At once, not with focus() (which waits behind keys already queued): a query typed right
        # after `f` or `/` lands in the bar, not in the log's bindings.
        self.screen.set_focus(self.input)

    def close(self) -> None:
        """Hide the bar: when no query is in force (an active filter stays in view, with its counts
        and family toggles), or on a short screen, where its three rows are a seventh of the log
        (the pane's title and subtitle say the filter in force and its counts there)."""
        if not self.active or self.cramped():
            self.display = False

    def cramped(self) -> bool:
        """The screen is too short to keep a bar open with nothing typed in it (`short_screen`)."""
        return short_screen(self.screen)

    def status_room(self) -> int:
        """The cells the status line has for its text (0 before the bar is laid out)."""
        try:
            return self.query_one(BarStatus).content_size.width
        except NoMatches:
            return 0

    def set_status(
        self, text: str | Text, *, error: bool = False, live: bool = False, shorter: tuple[str, ...] = ()
    ) -> None:
        """Show `text` (plain) under the input. `live`: a status the app keeps current (the filter's
        counts) until the bar says something else. `shorter`: shorter forms, longest first, one of
        which is said instead on a line too narrow for `text` (chosen as it is drawn: the bar's
        width is known only once it is shown)."""
        self.live_status = live
        try:
            status = self.query_one(BarStatus)
        except NoMatches:
            return  # the bar's children are gone: the app is closing (a filter's slices ran till then)
        was_error = status.has_class("-error")
        status.set_class(error, "-error")
        status.shorter = tuple(Text(form) for form in shorter)
        new = text if isinstance(text, Text) else Text(text)
        if new != status.text:
            status.text = new
            if error or was_error:
                # A problem wraps onto up to three rows (`fam:bogus` names every family, which one
                # row cut off at the third): its height follows its text. A count (the usual
                # status, under a stream) stays one row and repaints only itself.
                status.refresh(layout=True)

    def validate(self, text: str, *, probe: bool = True) -> str | None:
        """The one-line reason `text` is malformed, or None. `probe`: also try a regex in it on the
        newest frames (up to 50 ms: on Enter, not on every key typed)."""
        raise NotImplementedError

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        problem = self.validate(event.value, probe=False) if event.value.strip() else None
        if problem is not None:
            self.set_status(problem, error=True)
        else:
            self.set_status(f"{self.prompt}: Enter applies, Esc leaves the bar")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.validate(event.value) if event.value.strip() else None
        if problem is not None:
            self.set_status(problem, error=True)
            self.post_message(self.Refused(self))
            return
        self.post_message(self.Submitted(self, event.value.strip()))

    def show_text(self, text: str) -> None:
        """Put `text` in the input as a query the app applied (`o`: an item's frames), not as a
        user's edit: the counts under it stay, with no typing hint over them."""
        with self.prevent(Input.Changed):
            self.input.value = text

    def revert(self) -> None:
        """Show the query in force again, not what was typed and not applied (a rejected query's
        reason goes with it): a bar that kept `dir:sideways` after Esc, under a title naming
        another filter, left the user guessing which one applies. The app then says the counts."""
        self.show_text(self.text_in_force)
        self.set_status("")

    @on(events.DescendantBlur)
    def _blurred(self) -> None:
        self.call_after_refresh(self._focus_gone)

    def _focus_gone(self) -> None:
        """The input lost the focus: with no query in force, the bar has nothing to show, so it
        closes as Esc would close it (an empty bar left open after Tab took three of the log's rows,
        and no key in the log closed it). A bar with a query in force stays: it shows that query."""
        if not self.display or self.active or not self.is_attached or self.app.screen is not self.screen:
            return  # hidden already, showing a query, or another screen (the palette) took the focus
        focused = self.screen.focused
        if focused is not None and (focused is self or self in focused.ancestors):
            return  # back in the bar (its input)
        self.revert()
        self.post_message(self.Left(self, refocus=False))

    def action_leave(self) -> None:
        """Leave the bar (the query in force stays, and the input shows it again). A binding, not a
        key handler: a handled key went on to the app's own Esc binding, which leaves a zoom too."""
        self.revert()
        self.post_message(self.Left(self))


class FamilyToggles(Static):
    """The family toggles under the filter: shown families plain, hidden ones struck through."""

    class Toggled(Message):
        """A family was switched on or off."""

        def __init__(self, family: Family) -> None:
            self.family = family
            super().__init__()

    PREFIX = "families: "

    _hidden: frozenset[Family] = frozenset()

    def show(self, hidden: set[Family]) -> None:
        """Draw the toggles."""
        self._hidden = frozenset(hidden)
        self.update(self._line())

    def on_resize(self) -> None:
        self.update(self._line())

    def _form(self) -> tuple[str, dict[Family, str]]:
        """The prefix and the labels the line has room for: whole, then without its prefix, then the
        labels' short forms (beside the Keys panel, at 80 columns the line stopped at `transcr`)."""
        room = self.content_size.width or 10_000
        for prefix, labels in ((self.PREFIX, FAMILY_LABELS), ("", FAMILY_LABELS), ("", SHORT_FAMILY_LABELS)):
            if len(prefix) + sum(len(label) + 1 for label in labels.values()) - 1 <= room:
                return prefix, labels
        return "", SHORT_FAMILY_LABELS

    def _line(self) -> Text:
        prefix, labels = self._form()
        line = Text(prefix, style="dim")
        for family, label in labels.items():
            line.append(label, style="strike dim" if family in self._hidden else "bold")
            line.append(" ")
        return line

    def on_click(self, event: events.Click) -> None:
        """Clicking a family's label toggles it."""
        prefix, labels = self._form()
        x = event.x - len(prefix) - 1  # the status line's left padding
        for family, label in labels.items():
            if 0 <= x < len(label):
                self.post_message(self.Toggled(family))
                return
            x -= len(label) + 1


class FilterInput(OneLineInput):
    """The filter bar's input: Enter applies the filter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Apply", id="filter.apply")]


class FindInput(OneLineInput):
    """The find bar's input: Enter finds."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Find", id="find.find")]


class FilterBar(QueryBar):
    """The filter: a query over the whole journal, plus family toggles."""

    HELP = """
    **Filter** (the whole session, not the screen alone)

    - `type:response.*` `dir:in` `dir:out`
    - `-x` or `NOT x`: leave out; `a b`: both; `a | b`: either; `( )`
    - `error`: errors, failed responses and transcriptions
    - `for:ID`: an item's frames and what made them; `item:` `response:` `event:`
    - `response.status!=completed`: a JSON path; `:` `!=` `~`regex `>` `<`
    - `kitchen` `"two words"` `/kit.h/i`: text, marked in each row
    - `fam:transcription` `size>4k` `seq:120..200` `is:unknown`

    Enter applies; Enter on an empty filter clears it.
    """

    INPUT = FilterInput

    def __init__(self, journal: Journal, *, id: str | None = None) -> None:
        # "F1 syntax" first: at 80 columns the examples after it are cut.
        example = "filter (F1: syntax): type:response.* dir:in  -type:*.delta  item:ID  response.status!=completed"
        super().__init__("filter", example, journal, id=id)
        self.hidden_families: set[Family] = set()
        self.user_text = ""
        """The filter in force as typed; `active` adds the hidden families' terms to it."""

    @property
    def text_in_force(self) -> str:
        """The filter as typed (the family toggles say the rest): opening the bar must not put the
        families' terms in the input, where Enter would add them a second time."""
        return self.user_text

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield FamilyToggles(classes="query-bar--status")

    def on_mount(self) -> None:
        self.show_families()

    def validate(self, text: str, *, probe: bool = True) -> str | None:
        try:
            Query(text, self.journal, probe=probe)
        except QueryError as exc:
            return str(exc)
        return None

    def show_families(self) -> None:
        """Redraw the family toggles."""
        self.query_one(FamilyToggles).show(self.hidden_families)


class FindBar(QueryBar):
    """Find: a word, a phrase or a /regex/ over the frames shown."""

    HELP = """
    **Find** a word, a `"phrase"` or a `/regex/` (`/kit.h/i`) in the frames the log shows, inside
    collapsed runs too (the run opens at the match). It searches the frames (their type and JSON),
    not the log's own labels (`response deltas ×30`). It starts after the selected frame: `Home`
    then `n` finds the first. `n` next, `N` previous (the bar says when they wrap round); Esc in
    the log ends it.
    """

    INPUT = FindInput

    def __init__(self, journal: Journal, *, id: str | None = None) -> None:
        super().__init__("find", "find: a word, a phrase, or /regex/  (n next · N previous)", journal, id=id)

    def validate(self, text: str, *, probe: bool = True) -> str | None:
        try:
            # With `probe`, a regex that takes too long over its newest frames says so here.
            Finder(text, self.journal if probe else None)
        except QueryError as exc:
            return str(exc)
        return None
