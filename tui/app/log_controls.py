"""The event log's controls: filter, find, clear, details, follow, copy, export, findings."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from rich.cells import cell_len
from textual import on, work
from textual.app import SystemCommand

from tui.conversation import NO_OUTPUT, NO_OUTPUT_PREFIX, SENT_ROW_PREFIX, Item
from tui.journal import Family, Finder, Journal, LogView, Query, QueryError, term
from tui.lint import Finding, Severity
from tui.widgets import EventDetail, EventLog, Transcript
from tui.widgets.event_log import FIND_SLICE_SECONDS, SEARCHING
from tui.widgets.log_format import counted, find_miss, with_families
from tui.widgets.query_bar import FamilyToggles, QueryBar
from tui.widgets.timers import after

from .base import REPLAY_TOAST_SECONDS, AppBase, toast_text
from .files import output_folder

FIRST_SCREEN_SECONDS = 0.05
"""How long a new filter may look for its first screen before showing what it found."""

FILTER_SLICE_FRAMES = 2_000
"""Frames a filter's full view takes in per step while it is built (about 2 ms of a plain query)."""

FILTER_SLICE_SECONDS = 0.01
"""How long the steps of one loop turn may take: by time, not by frames, so a slow pattern (a regex
just above the speed floor, seconds per 20,000 frames) cannot hold the screen, and a key pressed
while the view is built waits at most this long."""

CATCH_UP_AT_ONCE = 20_000
"""Frames a session's log may be behind its journal and still be brought up to date at once when it
is shown (about 25 ms of an unfiltered view); further behind, it catches up in slices."""

EXPORT_SAYS_STARTED = 10_000
"""Frames from which an export says it has started (it writes off the UI thread; a smaller one is
written before a notice would be read)."""

MAX_FINDING_NOTICES = 3
"""Error findings announced with a notice per session (the findings view holds them all)."""


class LogControls(AppBase):
    """What the user does to the log (the log's view model lives in the session's model)."""

    _gave_up_said: str | None = None
    """The last give-up of a filter's regex said in a notice (the bar was closed): said once."""

    def action_clear_log(self) -> None:
        """Clear the event-log view (the journal and the capture file keep everything)."""
        self._building = None  # a filter still being built would bring the cleared frames back
        self.event_log.finish_view = None
        self.unsay_while("view")
        self.log_view.clear()
        self.event_log.rebuilt()
        self._update_log_title()
        self._filter_status()  # the bar's counts: of what the clear left (it said "N so far" of a build)
        self._find_status()

    def unclear_log(self) -> None:
        """Bring back the frames a clear hid from the log (the filter, if any, applies to them)."""
        if not self.log_view.floor:
            self.say("the log shows every frame already: nothing was cleared")
            return
        hidden = self.log_view.floor
        self._building = None  # the view shown is rebuilt, from the journal's start
        self.event_log.finish_view = None
        # As a filter is shown: its newest frames at once, the rest in slices (an hour's frames
        # rebuilt in one go held the screen a quarter of a second). The views derived start at 0.
        self.log_view.floor = 0
        self._show_filtered(self.log_view.query or Query("", self.journal, self.links))
        self._update_log_title()
        # The filter bar's counts: it said "0 of 0 frames" of the clear, and with no frame coming
        # since (a replay done, an idle session) nothing else would say them again.
        self._filter_status()
        self._find_status()
        self.say(f"{counted(hidden, 'frame')} from before the clear shown again", title="Log")

    def action_filter(self) -> None:
        """Open the filter bar."""
        self.filter_bar.open()

    def action_find(self) -> None:
        """Open the find bar."""
        self.find_bar.open()

    @on(QueryBar.Submitted)
    def _bar_submitted(self, event: QueryBar.Submitted) -> None:
        self.submit_bar(event.bar, event.text)
        self.release_keys()  # typed after its Enter: they go where the focus is now

    @on(EventLog.WaitingForView)
    def _waiting_for_view(self) -> None:
        self._update_log_title()  # says that keys wait for the rest of the filter's frames, or no longer

    @on(QueryBar.Refused)
    def _bar_refused(self) -> None:
        self.release_keys()  # typed after its Enter: into the bar, which kept the focus

    def submit_bar(self, bar: QueryBar, text: str) -> None:
        """Apply a filter or a find the user submitted (`text`, valid), and go back to the log."""
        if bar is self.filter_bar:
            self.apply_filter(text, probed=True)  # the bar tried its regex on the newest frames on Enter
            self._back_to_log()
            if bar.cramped():
                bar.close()  # at 80x24 the log keeps the rows: the pane's title says the filter
        elif bar is self.find_bar:
            self._find(text)

    def _find_status(self) -> None:
        """After the view changed under a find (a filter, a clear), its count over what is shown now."""
        finder = self.event_log.finder
        if finder is None or not self.find_bar.active:
            return
        if self.event_log.finish_view is not None:
            # A filter's first screen: its whole view is built in slices (`_finish_build` comes
            # back here); a count of the first screen's frames would say the word is missing.
            self.find_bar.set_status("searching the filter's frames…")
            return
        if not finder.advance(self.log_view, time.perf_counter() + FIND_SLICE_SECONDS):
            # A new view (a filter, a clear) of many frames: searched in slices, then `Counted`.
            self.find_bar.set_status("searching the frames shown…")
            self.event_log.count_matches()
            return
        count = finder.count(self.log_view)
        position = finder.known_position(self.event_log.selected) if self.event_log.selected is not None else None
        if count and position is not None:
            self._show_match(position, count)
        elif count:
            self.find_bar.set_status(
                f"{counted(count, 'matching frame')} shown · n next · N previous · Esc ends it", live=True
            )
        else:
            self.find_bar.set_status(find_miss(finder, self.log_view.shown), error=True, live=True)

    def _find(self, text: str) -> None:
        if not text:
            self.end_find()
            self._back_to_log()
            return
        finder = Finder(text)
        self._find_wrapped = ""
        self._find_fresh = True
        self.find_bar.active = text
        self.event_log.set_finder(finder)
        found = self.event_log.find()
        if found is None:
            self.find_bar.set_status(find_miss(finder, self.log_view.shown), error=True, live=True)
        elif found == SEARCHING and self.event_log.finish_view is not None:
            self.find_bar.set_status("searching the filter's frames…")
        elif found == SEARCHING:
            self.find_bar.set_status(f"searching {counted(self.log_view.shown, 'frame')}…")
        self._back_to_log()

    @on(EventLog.Found)
    def _found(self, event: EventLog.Found) -> None:
        finder = self.event_log.finder
        if finder is not None and finder.problem is not None:
            # Found before the pattern gave up on a frame: the count leaves out what it did not search.
            self.find_bar.set_status(f"match {event.position:,} · {find_miss(finder)}", error=True)
            return
        # A new find starts at the selected frame (the newest, while the log follows), so its first
        # match is often "wrapped to the top": said of a find just typed, it read as a second pass.
        self._find_wrapped = "" if self._find_fresh else event.wrapped
        self._find_fresh = False
        self._show_match(event.position, event.count)

    def _show_match(self, position: int, count: int | None) -> None:
        of = f"of {counted(count, 'matching frame')}" if count is not None else "· counting the rest…"
        short = f"of {count:,}" if count is not None else "· counting…"
        # Wrapped round by n or N, whose user knows those keys: the note takes their place (at 80
        # columns, beside them, it cut the line's end).
        keys = f"wrapped to the {self._find_wrapped}" if self._find_wrapped else "n next · N previous"
        # The longest that fits the bar: at 100 columns the whole line lost "ends it", how to leave.
        room = self.find_bar.status_room()
        for words in (of, short):
            said = f"match {position:,} {words} · {keys} · Esc ends it"
            if not room or cell_len(said) <= room:
                break
        # A count is kept current as frames come (`_frames_under_find`); a count still to come is not.
        self.find_bar.set_status(said, live=count is not None)

    @on(EventLog.FramesUnderFind)
    def _frames_under_find(self) -> None:
        # The find's count follows the stream, as the filter's does: 'match 9 of 11' stayed while
        # a new session's frames brought 3 more matches, until n.
        if self.find_bar.live_status:
            self._find_status()

    @on(EventLog.Counted)
    def _counted(self) -> None:
        self._find_status()

    @on(EventLog.FindMissed)
    def _find_missed(self) -> None:
        finder = self.event_log.finder
        if finder is None:
            return
        if self.find_bar.active:
            self.find_bar.set_status(find_miss(finder, self.log_view.shown), error=True)
        # Said in the bar, which stays on screen while a find is in force: a toast for each `n`
        # stacked copies of it, and stayed up after the next question (a filter) had an answer.
        if not (self.find_bar.active and self.find_bar.display):
            self.say(find_miss(finder))

    @on(QueryBar.Left)
    def _bar_left(self, event: QueryBar.Left) -> None:
        self._close_bar(event.bar, refocus=event.refocus)

    def action_leave_bar(self) -> None:
        """Esc in the filter's or the find's input: leave it at once, on the app's turn (the bar's
        own binding ran only once the key had come back, after the next key had gone to the bar)."""
        for bar in (self.filter_bar, self.find_bar):
            if self.focused is bar.input:
                bar.revert()
                self._close_bar(bar, refocus=True)

    def _close_bar(self, bar: QueryBar, *, refocus: bool) -> None:
        bar.close()
        # The bar shows the query in force again: its counts with it.
        if bar is self.filter_bar:
            self._filter_status()
        else:
            self._find_status()
        if refocus:
            self._back_to_log()

    @on(FamilyToggles.Toggled)
    def _family_toggled(self, event: FamilyToggles.Toggled) -> None:
        self.toggle_family(event.family)

    def more_commands(self) -> Iterable[SystemCommand]:
        """A palette command per family, to hide or show it."""
        yield from super().more_commands()
        for family in Family:
            verb = "show" if family in self.filter_bar.hidden_families else "hide"
            yield SystemCommand(
                # "family" in the title: the palette matches titles, and the toggles' line says families.
                f"log: {verb} {family.value} frames (family)",
                f"Toggle the {family.value} family of frames, as its word on the families line does",
                partial(self.toggle_family, family),
            )

    def toggle_family(self, family: Family) -> None:
        """Hide or show one family of frames."""
        hidden = self.filter_bar.hidden_families
        hidden.symmetric_difference_update({family})
        self.filter_bar.show_families()
        self.apply_filter(self._user_filter, back=self._before_frames)

    def apply_filter(self, text: str, *, probed: bool = False, back: str | None = None) -> bool:
        """Show only frames that pass `text` (and the family toggles); False for a malformed query.
        `probed`: a regex in `text` was just tried on the newest frames (the bar's check on Enter),
        not to be tried again (50 ms more for Enter, the first screen's scan after it). `back`: the
        filter Esc in the log puts back (`o`'s: the one before it showed an item's frames)."""
        combined = with_families(text, sorted(family.value for family in self.filter_bar.hidden_families))
        try:
            query = Query(combined, self.journal, self.links, probe=not probed)
        except QueryError as exc:
            self.filter_bar.set_status(str(exc), error=True)
            return False
        self.filter_bar.active = combined
        self.filter_bar.user_text = text
        self._before_frames = back  # a filter of the user's own (or the way back) ends `o`'s
        if back is None:
            self._lifted_over = None  # and the way back past a lifted filter
            self._lifted_families = frozenset()
            self._frames_from = None  # and where `o` was pressed
        if self.filter_bar.input.value != text:
            self.filter_bar.show_text(text)  # a filter set by a key (o: its frames) shows in the bar too
        started = time.perf_counter()
        self._show_filtered(query)
        self.last_filter_seconds = time.perf_counter() - started
        self._user_filter = text
        if combined and (self.filter_bar.display or not self.filter_bar.cramped()):
            self.filter_bar.show()  # a filter set by a key (o) on a short screen: in the title only
        elif not self.filter_bar.input.has_focus:
            # Not while it is being typed in: a family toggled back off closed it, and the keys typed
            # next went to the log (`-family:input` arrived as `amily:input`, review 56a).
            self.filter_bar.close()
        self._filter_status()
        self._find_status()  # a find's count is over what the filter shows
        self._update_log_title()
        return True

    def _show_filtered(self, query: Query) -> None:
        """The first screen at once (the newest matching frames), the rest built in slices.

        A filter reads every frame of the journal (180,000 in an hour); building its view in one go
        would hold the screen for a third of a second, so the view of the journal's tail is shown
        first and the whole view replaces it when it is ready, a slice per loop turn.
        """
        current = self.log_view
        full = current.derived(query)
        wanted = max(200, 4 * self.event_log.size.height)
        # The scan for the first screen matched its frames already: the views take them as found.
        start, matches = full.tail_matches(full.query, wanted, time.perf_counter() + FIRST_SCREEN_SECONDS)
        self._building = None
        if start <= full.floor:
            full.catch_up(matches=matches)
            self._install_view(full)
            return
        tail = current.derived(query, start)
        tail.catch_up(matches=matches)
        if matches is not None:
            full.expect_matches(start, len(self.journal), matches)  # nor again when the slices get there
        self._building = full
        # A key on the first screen (Home, ↑, Enter, c) builds the rest at once and acts on it.
        self._install_view(tail, finish=partial(self._finish_build, full))
        # The first screen is painted before the first slice runs: the slices are the wait, not it.
        self.call_after_refresh(self._build_slice, full)

    def attach_session_log(self, view: LogView) -> None:
        """Show another session's log (the proxy's `<` `>`), following its end.

        Only the shown session's log takes frames in as they come, so one watched in the background
        for an hour is an hour behind its journal: taking that in at once held the screen a quarter
        of a second. A log far behind is shown as a filter is: its newest frames at once, the rest
        taken in slices (`_build_slice`), the frames it showed before kept.
        """
        self._building = None
        if view.behind > CATCH_UP_AT_ONCE:
            wanted = max(200, 4 * self.event_log.size.height)
            deadline = time.perf_counter() + FIRST_SCREEN_SECONDS
            start, matches = view.tail_matches(view.query, wanted, deadline, lower=view.seen)
            if start > view.seen:
                tail = view.derived(view.query, start)
                tail.catch_up(matches=matches)
                if matches is not None:
                    view.expect_matches(start, len(view.journal), matches)
                self._building = view
                self.model.log_view = tail
                self.event_log.attach(tail, finish=partial(self._finish_build, view))
                self.call_after_refresh(self._build_slice, view)
                return
            view.catch_up(matches=matches)  # the scan reached what the log had: it took in all there was
        self.event_log.attach(view)

    def _build_slice(self, view: LogView) -> None:
        if self._building is not view:
            return  # another filter came since
        if view.journal is not self.journal:
            # Another session is shown now (the proxy's `<` `>`): this view is of the old one's journal.
            self._building = None
            self._update_log_title()
            return
        deadline = time.perf_counter() + FILTER_SLICE_SECONDS
        view.catch_up(limit=FILTER_SLICE_FRAMES)
        while not view.complete and time.perf_counter() < deadline:
            view.catch_up(limit=FILTER_SLICE_FRAMES)
        if view.complete:
            self._finish_build(view)
        else:
            self._update_log_title()
            if self.filter_bar.live_status:
                self._filter_status()
            after(self, 0.001, partial(self._build_slice, view))

    def _finish_build(self, view: LogView) -> None:
        """Show filter's whole view `view`, built to its end now (if it is still the one wanted)."""
        if self._building is not view or view.journal is not self.journal:
            return  # another filter, a clear or another session came since
        self._building = None
        self._install_view(view)  # `attach` takes in what the slices had not
        self._filter_status()
        self._find_status()

    def _install_view(self, view: LogView, finish: Callable[[], None] | None = None) -> None:
        self.unsay_while("view")  # "hidden by the filter 'error'" is no longer so
        self.model.log_view = view
        self.event_log.attach(view, keep_selection=True, finish=finish)
        self._update_log_title()

    def _filter_status(self) -> None:
        if not self.filter_bar.active:
            # No filter: nothing to count, and the counts of the one that was must not greet the
            # next `f` (after `o` then Esc they said "Esc in the log goes back", which it no longer did).
            self.filter_bar.set_status("")
            return
        view = self.log_view
        problem = view.query.problem if view.query is not None else None
        if problem is not None:
            # A regex that passed the check on the newest frames gave up on a later one (a long
            # transcript that came since): it matches nothing more, so the bar must say so.
            said = f"{problem}: later frames are not matched; change the filter"
            self.filter_bar.set_status(said, error=True)
            if not self.filter_bar.display and self._gave_up_said != said:
                # The bar is closed (under 30 rows it closes once applied): its words went unseen.
                self._gave_up_said = said
                self.say(f"{self.filter_bar.active}: {said} (f)", title="Filter", severity="warning")
            return
        building = self._building
        if building is not None and building.journal is self.journal:
            # The first screen's count is not the filter's: the rest of the journal is still read.
            self.filter_bar.set_status(
                f"{view.shown:,} so far · filtering the rest of {counted(building.in_range, 'frame')}… "
                f"{building.progress:.0%}",
                live=True,
            )
            return
        way_back = f"Esc in the log {self._way_back(self._before_frames)}" if self._before_frames is not None else ""
        hidden = sorted(family.value for family in self.filter_bar.hidden_families)
        # An empty Enter leaves the family toggles as they are: with one off, "clears it" was untrue
        # (the title still said `-family:response`; review 54c).
        clears = (
            f"{' and '.join(hidden)} hidden: click {'it' if len(hidden) == 1 else 'them'} above, or the palette's "
            "'log: clear filter'"
            if hidden
            else "Enter on an empty filter clears it"
        )
        hint = way_back or clears
        if not view.shown and view.query is not None and view.query.suggestion is not None:
            hint = view.query.suggestion  # `typ:` matched nothing, silently: a typo of `type:`?
        counts = f"{view.shown:,} of {counted(view.in_range, 'frame')}"
        # On a narrow bar the palette's action was cut off (`…or the palette's 'log:`), and with it the
        # only way to the toggles from the keyboard: shorter forms keep it whole (the pane's subtitle
        # has the counts too).
        shorter: tuple[str, ...] = ()
        if hidden and hint == clears:
            names, how = " and ".join(hidden), "hidden: ctrl+p, 'log: clear filter'"
            shorter = (f"{counts} · {names} {how}", f"{names} {how}", f"{len(hidden)} families {how}")
        elif way_back:
            # The way back whole before the counts (at 100 columns `… · Esc in the log shows every
            # frame` lost its "again", review 58c): the pane's subtitle has the counts.
            shorter = (way_back, f"Esc: {self._way_back(self._before_frames or '')}")
        self.filter_bar.set_status(f"{counts} · {hint}", live=True, shorter=shorter)

    def clear_filter(self) -> None:
        """Show every frame again (the family toggles included); with no filter in force, say so (the
        palette's command did nothing, silently)."""
        if not self.filter_bar.active:
            cleared = (
                " since the clear (the palette's 'log: undo clear' brings back the rest)" if self.log_view.floor else ""
            )
            self.say(f"no filter is in force: the log shows every frame{cleared}", title="Filter")
            return
        self.filter_bar.hidden_families.clear()
        self.filter_bar.show_families()
        self.apply_filter("")

    @on(EventLog.Details)
    def show_detail(self, event: EventLog.Details) -> None:
        """Open the details of frames (one, or a whole run); none once the app is shutting down."""
        if not self.is_running:
            # A held key handed on as the app closes (`d` `x`) asks after Textual has begun clearing
            # the screen stack: pushed then, the screen outlived the stack it was meant for.
            return

        def jumped(index: int | None) -> None:
            if index is not None:
                self.reveal(index, again="d, then x")

        detail = EventDetail(self.journal, self.links, event.indices, self.recover_payload, label=event.label)
        # The errors' and findings' toasts say in brief what the detail shows whole, and at 80x24
        # they sat over its end: an error's "caused by" block, the frame we sent (review 54a).
        self.clear_folded()
        self.push_screen(detail, jumped)

    def recover_payload(self, index: int) -> str | None:
        """A dropped frame's wire text, read back from the capture file (None without one)."""
        from tui.journal.export import read_back

        seq = self.journal[index].seq
        return read_back(self.journal, {seq}).get(seq)

    @on(EventLog.Notice)
    def _log_notice(self, event: EventLog.Notice) -> None:
        if event.of_view:
            self.say_while("view", event.text)
        elif event.of_selection:
            self.unsay_while("selection")  # pressed again: one notice, not a stack of the same
            self.say_while("selection", event.text)
        else:
            self.say(event.text)

    @on(EventLog.Selected)
    def _log_selected(self) -> None:
        self.unsay_while("selection")  # "Open: no frame is selected" stayed over the frame then opened

    @on(EventLog.ShowItem)
    def _show_item(self, event: EventLog.ShowItem) -> None:
        if event.frames:
            self.show_item_frames(event.item_id, keep=True)
        elif self.transcript.select_item(event.item_id):
            self.transcript.focus()
            if event.count > 1:
                self.say(f"the first of the {event.count} items this response output: {event.item_id}")
        else:
            self.say(event.missing or f"{event.item_id} has no row in the transcript")

    @on(Transcript.ShowFrames)
    def _show_frames(self, event: Transcript.ShowFrames) -> None:
        self.show_item_frames(event.item_id)

    def frames_of_selection(self) -> None:
        """The palette's "its frames": the selected transcript row's, else those of the item the
        selected log frame names (the palette said "Select a row first" over a selected frame)."""
        index = self.event_log.selected
        if self.transcript.selected is not None or index is None:
            self.transcript.action_frames()
            return
        links = self.log_view.links
        frame = self.journal[index]
        items = links.items_of(index) if links is not None else ([frame.item_id] if frame.item_id else [])
        if items:
            self.show_item_frames(items[0])
        else:
            self.say(f"{frame.type} #{frame.seq} names no conversation item, nor made one")

    def show_item_frames(self, item_id: str, *, keep: bool = False) -> None:
        """Filter the log to conversation item `item_id`'s frames (and its response's, and the
        create we sent for it), from its first; `keep`: on the log's selected frame (`i` on it),
        which the filtered view shows too."""
        item = self.conversation.items.get(item_id)
        # With the frames we sent that made it: the cause beside the effect. Ids are the server's
        # strings (any characters): quoted as the filter needs them.
        if item is not None and item.kind == NO_OUTPUT and item.response_id:
            query = term("for", item.response_id)  # a reply that never came: its response's frames
        elif item is None and item_id.startswith(NO_OUTPUT_PREFIX):
            query = term("for", item_id.removeprefix(NO_OUTPUT_PREFIX))  # a response with no item (yet)
        else:
            query = term("for", item_id)
            if item is not None and item.response_id:
                query += f" | {term('for', item.response_id)}"
        if item is not None and item.sent_seq is not None:
            # The create we sent without an id names no item: only its seq finds it (for a row the
            # server never echoed, the only frame there is).
            query = f"seq:{item.sent_seq}" if item.id.startswith(SENT_ROW_PREFIX) else f"{query} | seq:{item.sent_seq}"
        floor = self.log_view.floor
        if floor and self._before_clear(item_id, item, floor):
            # "Its frames" means all of them: after a clear, the view showed none ("0 of 0 frames").
            self.unclear_log()
        log = self.event_log
        selected = log.selected
        at = (selected, log.on_collapsed_run()) if selected is not None else None
        starting = self._frames_from is None
        if self._before_frames is None:
            back = self._user_filter
        else:
            back = self._before_frames  # another item's frames: Esc still goes back to the first `o`'s
        if not self.apply_filter(query, back=back):  # Esc in the log goes back to `back`
            return
        if starting:
            # Esc comes back to the row it was pressed on: after `o o` it stayed on the item's first
            # frame, the row the user started from lost (review 57a); a collapsed run's line, not
            # its first frame in the run opened (review 57c). Noted once the filter is in force.
            self._frames_from = (self.journal, *at) if at is not None else (self.journal, None, False)
        if self.filter_bar.cramped():
            # Under 30 rows the bar stays closed, as after a typed filter (open, it left 7 rows for the
            # frames at 80x24): the title names the filter, this says the way back.
            self.say_while("view", f"only {item_id}'s frames: Esc in the log {self._way_back(back)}", title="Filter")
        # `i` stays on the frame it was pressed on (found again, it had to be searched for). From the
        # transcript, from the item's first frame, read down as they came: following the end showed a
        # long item (a reply's deltas at 80x24) from its response.done, its start scrolled away.
        if not (keep and at is not None and log.select_frame(at[0], expand=not at[1])):
            log.action_first()
        log.focus()

    @on(EventLog.Reveal)
    def _reveal(self, event: EventLog.Reveal) -> None:
        self.reveal(event.index, event.again)

    def reveal(self, index: int, again: str) -> None:
        """Select frame `index` (a jump's target: a cause, a finding's frame, a detail's linked
        frame), lifting the filter that hides it; Esc in the log puts that filter back, as after `o`.
        A frame from before a clear, or hidden by the family toggles alone, is said instead, with
        how to show it (`again`: the keys that went there).

        The jump was refused with "hidden by the filter 'error': f, ctrl+u, Enter clears it; then c":
        six keys more to answer "what did I send right before this error?" from a filter of errors.
        """
        log = self.event_log
        if log.select_frame(index):
            return
        hiding = self.filter_bar.active
        families = frozenset(self.filter_bar.hidden_families)
        if index < self.log_view.floor or not hiding:
            self.say_while("view", log.why_hidden(index, again=again))
            return
        # Esc puts back the filter lifted here; then, the one before it (`o`'s: the filter before
        # the item's frames). Esc went straight to that one, and the item's filter was lost.
        back, over = self._user_filter, self._before_frames
        # The family toggles are lifted with it: hidden by them alone, the jump was refused with
        # "f, ctrl+u, Enter clears it", which leaves them as they are (review 55c).
        self.filter_bar.hidden_families.clear()
        if not self.apply_filter("", back=back):
            self.filter_bar.hidden_families.update(families)
            return
        self.filter_bar.show_families()
        self._lifted_over, self._lifted_families = over, families
        self._update_log_title()  # it names the families Esc hides again
        if not log.select_frame(index):
            self.say_while("view", log.why_hidden(index, again=again))
            return
        frame = self.journal[index]
        self.say_while(
            "view", f"the filter {hiding!r} is lifted to show #{frame.seq} ({frame.type}): Esc in the log puts it back"
        )
        log.focus()

    @staticmethod
    def _way_back(back: str) -> str:
        """What Esc in the log does after `o`: puts back the filter `back`, or none ("the filter before"
        named a filter where none was in force, review 57a)."""
        return "shows every frame again" if not back.strip() else f"goes back to {back!r}"

    def back_from_frames(self) -> bool:
        """Put back the filter that was in force before `o` showed an item's frames (Esc in the log);
        False when no such filter is showing."""
        back = self._before_frames
        if back is None:
            return False
        over, self._lifted_over = self._lifted_over, None
        families, self._lifted_families = self._lifted_families, frozenset()
        if families:
            self.filter_bar.hidden_families.update(families)
            self.filter_bar.show_families()
        where = self._frames_from  # the filter put back below ends `o`'s chain, and forgets it
        self.apply_filter(back, back=over)
        if not back:
            self.filter_bar.close()
        if over is None:  # out of `o`'s filters altogether: to the row it was pressed on
            self._frames_from = None
            self._back_to_where_o_was(where)
        return True

    def _back_to_where_o_was(self, where: tuple[Journal, int | None, bool] | None) -> None:
        """Select the frame `o` (or `i`) was pressed on (`where`), or follow the end if it followed;
        nothing when no `o` began the filters just left (a jump's lifted filter keeps its selection)."""
        if where is None or where[0] is not self.journal:
            return  # another session's journal (`<` `>` since): its index means nothing here
        _, index, run = where
        if index is None or not self.event_log.select_frame(index, expand=not run):
            self.event_log.action_tail()

    def _before_clear(self, item_id: str, item: Item | None, floor: int) -> bool:
        """Whether a frame of the query `o` builds for `item_id` (its item, its response, the frames we
        sent that made them, the create of `sent_seq`) lies below `floor`, hidden by a clear."""
        ids = [item_id] if item is None or not item.response_id else [item_id, item.response_id]
        if self.links.first_frame_for(ids, floor) is not None:
            return True
        sent = item.sent_seq if item is not None else None
        return sent is not None and self.journal.index_of_seq(sent, floor) is not None

    @on(EventLog.CopyFrame)
    def _copy_frame(self, event: EventLog.CopyFrame) -> None:
        detail = EventDetail(self.journal, self.links, event.indices, self.recover_payload)
        count = len(event.indices)
        what = f"the run's {count:,} frames, as a JSON list" if count > 1 else ""  # a run is copied whole
        self.keep_text(detail.frames_json(), detail.file_name(), copy=True, what=what)

    @on(EventDetail.Export)
    def _detail_export(self, event: EventDetail.Export) -> None:
        self.keep_text(event.text, event.name, copy=event.copy, what=event.what)

    async def action_export(self) -> None:
        """Export the frames the log shows as JSONL (audio kept, or replaced by a size tag)."""
        from tui.widgets.export_dialog import ExportDialog, ExportRequest

        if self.event_log.after_whole_view(partial(self.call_later, self.action_export)):
            return  # the frames the filter shows: all of them, once its whole view is built
        if not self.log_view.shown:
            # An empty file helps nobody (and `rt-tui lint` refuses it): say why the view is empty.
            why = "the filter matches no frame" if self.filter_bar.active.strip() else "the log view is empty"
            cleared = self.log_view.floor > 0
            undo = " (ctrl+l cleared it: the palette's 'log: undo clear' brings it back)" if cleared else ""
            self.say(f"nothing to export: {why}{undo}", title="Export", severity="warning")
            return
        name = f"export-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        try:
            default = output_folder(self.save_folder()) / name  # beside the shown session's capture
        except OSError as exc:  # a full disk, a data folder that is a file: the dialog takes another path
            default = Path.cwd() / name
            said = f"cannot use the data folder ({exc}): choose where the export goes"
            self.say(said, title="Export", severity="warning")

        # The frames the dialog counts are the ones written: a live session's log grows while it is
        # open (it said 7,477 and wrote 8,357). A view only grows at its end, so they are its first.
        view, shown = self.log_view, self.log_view.shown

        def chosen(request: ExportRequest | None) -> None:
            if request is None:
                return
            # A name alone goes where the dialog's path did (the dialog says so), not to whatever
            # folder rt-tui was started from.
            path = Path(request.path).expanduser()
            path = path if path.is_absolute() else default.parent / path
            if request.path.endswith(os.sep) or path.is_dir():
                path = path / default.name  # a folder: the proposed name goes in it (`outdir/` wrote outdir.jsonl)
            elif not path.suffix:  # `mine` is `mine.jsonl`: what lint and replay read by its name
                path = path.with_suffix(".jsonl")
            refused = _unwritable(path)
            if refused is not None:
                # Refused before writing, in the dialog again with what was typed: the dialog closed
                # and the notice was all that was left of a path mistyped by one letter.
                ask(request.path, request.keep_audio, refused)
                return
            if shown >= EXPORT_SAYS_STARTED:  # an hour's frames take a second or two: say it is under way
                self.say(f"exporting {counted(shown, 'frame')} to {path}…", title="Export")
            again = partial(ask, request.path, request.keep_audio)  # a refusal while writing: the dialog again
            self.export_frames(path, keep_audio=request.keep_audio, view=view, count=shown, refused=again)

        def ask(typed: str = "", keep_audio: bool = True, error: str = "") -> None:
            dialog = ExportDialog(
                shown,
                self.filter_bar.active,
                str(default),
                since_clear=view.floor > 0,
                typed=typed,
                keep_audio=keep_audio,
                error=error,
            )
            self.push_screen(dialog, chosen)

        ask()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, description="export frames")
    def export_frames(
        self,
        path: Path,
        *,
        keep_audio: bool,
        view: LogView | None = None,
        count: int | None = None,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        """Write the frames `view` shows (the log's, by default), its first `count` (all, by default),
        to `path` (off the UI thread: an hour of audio is hundreds of MB). `refused`: called on the
        UI thread with why, when the file could not be created (the dialog asks again)."""
        from tui.journal.export import ExportError, export_jsonl

        view = view if view is not None else self.log_view
        indices = list(view.indices[:count])
        try:
            written = export_jsonl(view.journal, indices, path, keep_audio=keep_audio)
        except OSError as exc:
            said = f"could not write {path}: {exc.strerror or exc}; nothing was written"
            if refused is not None and exc.errno in _REFUSALS:
                self.call_from_thread(refused, said)
            else:
                self.call_from_thread(self.say, f"export failed: {said}", title="Export", severity="error")
            return
        except ExportError as exc:
            self.call_from_thread(self.say, f"export failed: {exc}", title="Export", severity="error")
            return
        except Exception as exc:  # noqa: BLE001 - the worker swallows it (exit_on_error=False): said, not lost
            said = f"export failed: {type(exc).__name__}: {exc}"
            self.call_from_thread(self.say, said, title="Export", severity="error")
            return
        self.call_from_thread(self.say, f"{counted(written, 'frame')} written to {path}", title="Export")

    def action_findings(self) -> None:
        """Show what the linter found; Enter goes to the finding's frame in the log."""
        from tui.widgets.findings import FindingsView

        linter = self.model.linter
        findings = list(linter.findings) if linter is not None else []

        def chosen(index: int | None) -> None:
            if index is not None:
                self.reveal(index, again="! and Enter")
            self.event_log.focus()

        self.clear_folded()
        self.push_screen(FindingsView(findings, self.journal, self.replayed_files()), chosen)

    def _new_findings(self, findings: list[Finding]) -> None:
        """Badges on the rows, a count on the status line, a notice for each new error (a few)."""
        if not findings:
            return
        self.log_view.marks_version += 1
        self.event_log.refresh()
        self._show_findings_count()
        for finding in findings:
            if finding.severity is Severity.ERROR and self._error_notices < MAX_FINDING_NOTICES:
                self._error_notices += 1
                timeout = REPLAY_TOAST_SECONDS if self.player is not None else 10  # a replay's come in bursts
                said = toast_text(finding.message)
                self.say(said, title=f"Lint: {finding.rule}", severity="error", timeout=timeout, fold=True)


_REFUSALS = frozenset({errno.EEXIST, errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENOENT})
"""Why a file cannot be created that a path mended in the dialog fixes (not a full disk, an I/O error)."""


def _unwritable(path: Path) -> str | None:
    """Why an export cannot go to `path`, said before writing (it is never overwritten), or None."""
    if not path.parent.is_dir():
        return f"{path.parent} is not a folder: nothing was written"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"{path.parent} cannot be written to: nothing was written"
    if path.exists() or path.is_symlink():
        what = "a folder" if path.is_dir() else "a file"
        return f"{path.name} is already {what} in {path.parent}: choose another name (nothing is overwritten)"
    return None
