"""The base every part of the app builds on: shared state, the current model, notices, files."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import App, ScreenStackError, SystemCommand, UnknownModeError
from textual.notifications import Notification, SeverityLevel
from textual.timer import Timer

from tui.bus import Bus, Subscription
from tui.config import Settings
from tui.conversation import Conversation
from tui.journal import QUIET_AFTER, Family, Journal, Links, LogView, Pipeline, SessionFacts
from tui.lint import Severity, connection_of
from tui.model import SessionModel
from tui.protocol import Envelope, local_envelope, printable
from tui.replay import ReplayPlayer, ReplayRequest, recording_name
from tui.session import FRAMES, CaptureWriter, RealtimeSession, data_dir
from tui.widgets import EventLog, Recorder, StatusLine, Transcript
from tui.widgets.event_log import HELD_KEY_CHECK, Typed, retyped
from tui.widgets.findings import SEVERITY_MARKS
from tui.widgets.log_format import with_families
from tui.widgets.query_bar import FilterBar, FindBar
from tui.widgets.screen_size import short_screen
from tui.widgets.timers import after

from .files import output_folder, write_private
from .reconnect import RetryPolicy
from .serial_steps import SerialSteps
from .voice import VoiceController

if TYPE_CHECKING:
    from tui.proxy import ProxyRequest


TOAST_CHARS = 160
"""Most of a finding a toast shows: a toast is a glance (at 80 columns a whole finding covered half
the screen); `!` shows the finding whole, with its fix."""


def toast_text(message: str, rest: str = "! shows it whole, with its fix") -> str:
    """A message's first sentence, at most `TOAST_CHARS`, and (when that is not all) where the rest is."""
    cut = message.find(". ")
    first = message if cut < 0 else message[: cut + 1]
    if len(first) > TOAST_CHARS:
        first = first[: TOAST_CHARS - 1].rstrip() + "…"
    return f"{first} ({rest})" if first != message else message


def fold_long_paths(message: str, width: int) -> str:
    """`message` with each word longer than `width` that is a path broken after a `/` (as few times
    as the width asks): a toast folds a word wider than itself anywhere, and a saved file's path
    read `…/20261206-081013-b67bff/f` over `rame-97-error.json` at 80 columns."""
    if width < 8:
        return message
    lines = []
    for line in message.split("\n"):
        words = []
        for word in line.split(" "):
            if len(word) > width and "/" in word:
                word = "\n".join(_path_lines(word, width))
            words.append(word)
        lines.append(" ".join(words))
    return "\n".join(lines)


def _path_lines(path: str, width: int) -> list[str]:
    """`path` in lines of at most `width`, each ending after a `/` (a part longer than `width` is a
    line of its own, which the toast folds)."""
    parts = path.split("/")
    pieces = [part + "/" for part in parts[:-1]] + [parts[-1]]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line += piece
    if line:
        lines.append(line)
    return lines


FOLDED_TOASTS = 1
"""Finding and error toasts (`say(..., fold=True)`) shown whole at a time; the rest while one is
on screen fold into one more toast that counts them, so a recording with several findings does
not stack toasts over the event log (which, with `!`, holds every one of them anyway)."""

FOLDED_MARK = " · +"
"""Where a short screen's toast title counts the toasts folded into it (`_fold_into_title`)."""

HOLD_AT_MOST = 1.0
"""Seconds keys typed after a bar's Enter wait at most for it to be handled (see `_hold_keys`): a
safety, never the way they are released."""

REPLAY_TOAST_SECONDS = 5
"""How long a finding's or an error's toast stays in a replay (a live session's: 10 s): a replay
plays a session's findings in seconds, and each is in the log and under `!`."""


def folded_count(titles: list[str]) -> str:
    """How many toasts a short screen's title counts beside the one shown (the `2 findings` of `+2 findings`): what they
    are, since "Server error ×3 · +2 more" read as five errors where the two were its findings."""
    n = len(titles)
    if all(title.startswith("Lint:") for title in titles):
        kind = "finding" if n == 1 else "findings"
    elif all(title == titles[0] for title in titles):
        kind = titles[0].lower()
        kind = kind if n == 1 or kind.endswith("s") else f"{kind}s"
    else:
        kind = "notice" if n == 1 else "notices"
    return f"{n} {kind}"


class AppBase(App[None]):
    """What every part of the app shares: the current session's model, the views, telling the user.

    RtApp sets these up; the parts (live session, log controls, replay and proxy modes, commands)
    are mixins over this base, each with one job.
    """

    settings: Settings
    bus: Bus
    model: SessionModel
    models: list[SessionModel]
    """Every session the app shows (the proxy adds one per client connection)."""
    session: RealtimeSession | None
    capture: CaptureWriter | None
    player: ReplayPlayer | None
    voice: VoiceController
    replay: ReplayRequest | None
    proxy: ProxyRequest | None
    proxy_url: str
    _held_keys: list[Typed] | None = None
    """Keys that came after a filter's, a find's or the message input's Enter, before it was handled (`_hold_keys`)."""
    _holds = 0
    _reposted: list[Typed]
    """Held keys the app has posted to itself again, still on their way (`post_again`)."""
    _reposted_at = 0.0
    status_line: StatusLine
    transcript: Transcript
    event_log: EventLog
    filter_bar: FilterBar
    find_bar: FindBar
    recorder: Recorder
    last_filter_seconds: float
    _feeds: list[tuple[SessionModel, Subscription[Envelope]]]
    _placeholder_taken: bool
    _notices: dict[tuple[str, str], tuple[Notification, int, bool]]
    """The latest notice of each title and severity, how many like it came while it was shown, and whether
    they all said the same."""
    voice_steps: SerialSteps
    _user_filter: str
    _before_frames: str | None
    _frames_from: tuple[Journal, int | None, bool] | None = None
    """Where the log was when `o` (or `i`) first showed an item's frames: its journal, the selected
    frame (None: it followed the end) and whether that was a collapsed run's line. Esc out of `o`'s
    filters goes back to it, in that journal only; None when no `o` began the filters in force (a
    user's own filter ends it, and a jump's lifted filter is no `o`'s: Esc then keeps the selection)."""
    _lifted_over: str | None = None
    """The filter Esc puts back after the one a jump lifted (`reveal`), when that one was `o`'s."""
    _lifted_families: frozenset[Family] = frozenset()
    """The families a jump turned back on with the filter it lifted (`reveal`): Esc hides them again."""
    _find_wrapped: str = ""
    """Where the find's last match wrapped to (`top`, `bottom`), said beside its count; empty if it did not."""
    _find_fresh: bool = False
    """A find was just typed: its first match is not said to wrap (it starts at the selected frame)."""
    _retry: RetryPolicy
    _quitting: bool
    _quiet_timer: Timer | None
    _target_url: str
    _error_notices: int
    _views_stale: bool
    _views_due: float
    _views_at: float
    _log_title: str
    _stale_since: float
    _building: LogView | None
    """A filter's whole view while it is built slice by slice (the tail is shown meanwhile)."""
    _folding: tuple[Notification, ...] = ()
    """The finding and error toasts shown whole (at most `FOLDED_TOASTS` of them on screen)."""
    _folded: tuple[Notification | None, list[str]] = (None, [])
    """The toast that counts the ones folded away, and their titles (while it is on screen)."""
    _notices_while: dict[str, list[Notification | None]]
    """Notices true only while their topic stays as it is (see `say_while`)."""
    _information: Notification | None = None
    """The latest information notice: on a short screen the next one takes its place (see `say`)."""
    captures: list[CaptureWriter]
    """The capture of each session this run opened (a live one, or a proxied connection), in order (said on
    quitting: `farewell`)."""
    capture_refusals: list[str]
    """Why a session's capture could not be opened, each time it could not (said on quitting too)."""
    _event_text: str
    """The event the send-an-event dialog offers: the draft left with Esc, else the one sent last, or an example."""
    _kept_files: dict[tuple[Path | None, str, int], Path]
    """The files `keep_text` wrote, by folder, name and content: the same frames kept again name
    the file they are in (copy, then save, wrote two identical files)."""

    # -- the current session's model (what every view renders) ------------------------------

    @property
    def pipeline(self) -> Pipeline:
        """The current session's pipeline."""
        return self.model.pipeline

    @property
    def journal(self) -> Journal:
        """The current session's journal."""
        return self.model.journal

    @property
    def conversation(self) -> Conversation:
        """The current session's conversation."""
        return self.model.conversation

    @property
    def facts(self) -> SessionFacts:
        """The current session's facts."""
        return self.model.facts

    @property
    def links(self) -> Links:
        """The current session's error ↔ cause links."""
        return self.model.links

    @property
    def log_view(self) -> LogView:
        """The current session's event-log view."""
        return self.model.log_view

    def replayed_files(self) -> dict[int, str]:
        """Of a replay of several files (`rt-tui replay A B`), each connection's file by its name (a
        capture joined with `cat` holds several connections); empty for anything else."""
        recording = self.replay.recording if self.replay is not None else None
        if recording is None or len(recording.files) < 2:
            return {}
        return {epoch: self.replayed_file(epoch) for epoch in range(1, len(self.journal.epoch_starts))}

    def replay_name(self) -> str:
        """The recording replayed, as the status line names it (`… + 1 more` of several files);
        empty for anything else."""
        if self.replay is None:
            return ""
        recording = self.replay.recording
        name = recording_name(recording.path, recording.rereadable)
        return f"{name} + {len(recording.files) - 1} more" if len(recording.files) > 1 else name

    def replayed_file(self, epoch: int) -> str:
        """The name of the file connection `epoch` is replayed from, in a replay of several files;
        empty for anything else (one file, a live session, a connection not played yet)."""
        recording = self.replay.recording if self.replay is not None else None
        starts = self.journal.epoch_starts
        if recording is None or len(recording.files) < 2 or not 0 < epoch < len(starts):
            return ""
        if starts[epoch] >= len(self.journal):
            return ""
        number = max(1, bisect.bisect_right(recording.file_starts, starts[epoch]))
        return recording_name(recording.files[number - 1], recording.rereadable)

    def say(
        self, message: str, *, title: str = "", severity: str = "information", timeout: float = 6, fold: bool = False
    ) -> Notification | None:
        """A notification whose text is shown as written: server text is never read as markup, and
        its control characters are shown, not obeyed (`printable`).

        A warning or error like one still on screen (same title and severity) takes its place, its
        title counting them ("Malformed frame ×3"): a burst of them (a server sending
        twenty malformed frames, a client breaking one rule again and again) would otherwise stack
        up over the event log, which holds each of them anyway. Information notices (where a file
        was saved) each keep their own. With `fold` (findings, server errors: what the log and `!`
        keep), at most `FOLDED_TOASTS` show whole at a time and the others count in one toast
        ("2 more (Server error, Lint: …): ! lists them"); notices the user must not miss (a
        capture that failed, a rejected session.update, a lost connection) are never folded.
        Call it on the app's thread. Returns the toast (None when it was folded into another).
        """
        try:
            self.screen  # noqa: B018 - asked for its errors: a closing app has no screen left
        except (ScreenStackError, UnknownModeError):
            return None  # a pump tick while the app closes (quitting the proxy): nowhere to show it
        level: SeverityLevel = "information"
        if severity in ("warning", "error"):
            level = "warning" if severity == "warning" else "error"
        message, title = printable(message, lines=True), printable(title)
        message = fold_long_paths(message, self._toast_text_width())
        if level == "information" and short_screen(self.screen):
            # One at a time: at 80x24 a save's, a copy's and an error's notices covered the
            # transcript and the top of the log. A warning or error stays, whatever comes after.
            latest = self._information
            if latest is not None and self._on_screen(latest):
                self._unnotify(latest, refresh=False)
        key = (title, level)
        repeats, alike = 1, True
        shown = self._notices.get(key) if level != "information" else None
        if shown is not None and shown[0] in self._notifications and not shown[0].has_expired:
            repeats, alike = shown[1] + 1, shown[2] and shown[0].message == message
            self._unnotify(shown[0], refresh=False)  # Textual's own removal (the toast's on timeout)
        elif fold and self._fold(title, level, timeout):
            return None
        counted_title = title
        if repeats > 1:
            # Five different errors read as one error five times: then the toast says it shows the latest.
            # A notice said without a title is counted under its severity's (it read " ×2").
            # "×N", not "N in a row": the count is of notices said while the first was shown, and two
            # errors a turn apart read "in a row" as if nothing had come between them.
            counted_title = f"{title or level.title()} ×{repeats}{'' if alike else ' (the latest)'}"
        folded_into = shown is not None and repeats > 1 and self._folded[0] is shown[0]
        if folded_into:
            assert shown is not None
            counted_title += FOLDED_MARK + shown[0].title.split(FOLDED_MARK, 1)[1]  # what it counted still counts
        notification = Notification(message, counted_title, level, timeout, markup=False)
        if folded_into:
            self._folded = (notification, self._folded[1])
        if level != "information":
            self._notices[key] = (notification, repeats, alike)
        else:
            self._information = notification
        if fold:
            replaced = shown[0] if shown is not None else None
            self._folding = (*(n for n in self._folding if n is not replaced and self._on_screen(n)), notification)
        # What App.notify's message does when it arrives, done now: the next notice (often in the
        # same pump tick) must find this one on screen to take its place.
        self._notifications.add(notification)
        self._refresh_notifications()
        return notification

    def _toast_text_width(self) -> int:
        """The columns of text a toast has on the screen now (app.tcss: at most 40% of the width,
        70% when narrow or zoomed; Textual's 60 at most, less a border and a cell of padding each
        side), a column to spare: what `fold_long_paths` breaks a path to."""
        screen = self.screen
        share = 0.7 if screen.has_class("-narrow") or screen.has_class("-maximized-view") else 0.4
        return min(60, int(screen.size.width * share)) - 5

    def say_while(self, topic: str, message: str, *, title: str = "", severity: str = "information") -> None:
        """`say` something true only while `topic` stays as it is ("view": what the log's view shows,
        a frame hidden by the filter; "mode": the turn mode, hands-free is on; "connection": no
        session is open): taken down by `unsay_while(topic)` when it changes. Such notices stayed
        up saying what was no longer so."""
        self._notices_while.setdefault(topic, []).append(self.say(message, title=title, severity=severity))

    def unsay_while(self, topic: str) -> None:
        """Take down the notices said while `topic` was as it was (see `say_while`)."""
        for notification in self._notices_while.pop(topic, []):
            if notification is not None and self._on_screen(notification):
                self._unnotify(notification)

    def _on_screen(self, notification: Notification | None) -> bool:
        return notification is not None and notification in self._notifications and not notification.has_expired

    def clear_folded(self) -> None:
        """Take down the findings' and the server errors' toasts, the one counting those folded
        away, and a rejected session.update's (never folded, but its finding is in the list too):
        the findings view (`!`), which lists every one of them, or a frame's detail is opening, and
        they sat over it, hiding the fixes or the cause it was opened to read."""
        summary, _ = self._folded
        rejected = self._notices.get(("session.update rejected", "error"))
        for notification in (*self._folding, summary, rejected[0] if rejected is not None else None):
            if notification is not None and self._on_screen(notification):
                self._unnotify(notification, refresh=False)
        self._folding, self._folded = (), (None, [])
        self._refresh_notifications()

    def _fold(self, title: str, level: SeverityLevel, timeout: float) -> bool:
        """Count a finding's or an error's toast in the "more" toast when `FOLDED_TOASTS` are
        already on screen (True: it was folded, not shown)."""
        short = short_screen(self.screen)
        if len(self._whole_toasts(short)) < FOLDED_TOASTS:
            return False
        if short:
            return self._fold_into_title(title, level)
        summary, titles = self._folded
        if not self._on_screen(summary) or summary in self._folding:
            # Gone, or a toast shown whole that counted folds in its title while the screen was short:
            # it stays as it is, and the count starts again in a toast of its own.
            summary, titles = None, []
        titles = [*titles, title]
        if summary is not None:
            level = "error" if "error" in (level, summary.severity) else level
            self._unnotify(summary, refresh=False)
        named = ", ".join(dict.fromkeys(titles))
        named = named if len(named) <= 80 else named[:79].rstrip(", ") + "…"
        message = f"{len(titles)} more ({named}): ! lists the findings, the log has every frame"
        summary = Notification(printable(message, lines=True), "More findings", level, timeout, markup=False)
        self._folded = (summary, titles)
        self._notifications.add(summary)
        self._refresh_notifications()
        return True

    def _whole_toasts(self, short: bool) -> list[Notification]:
        """The toasts on screen that others fold into: the findings' and server errors' shown whole,
        and on a short screen a rejected session.update's too (never folded itself: at 80x24 a lint
        finding about the same update stacked under it, and the two covered the log's title and
        first rows; review 54a)."""
        rejected = self._notices.get(("session.update rejected", "error")) if short else None
        extra = (rejected[0],) if rejected is not None and rejected[0] not in self._folding else ()
        return [n for n in (*self._folding, *extra) if self._on_screen(n)]

    def _fold_into_title(self, title: str, level: SeverityLevel) -> bool:
        """On a short screen, count a folded toast in the title of the one shown whole ("Server error
        · +1 finding: ! lists them"): at 80x24 the toast counting them stacked under it, and the two
        covered most of the log's rows, with the error that raised them. True: it was folded."""
        whole = next(reversed(self._whole_toasts(short=True)), None)
        if whole is None:
            return False
        summary, titles = self._folded
        titles = [*titles, title] if summary is whole else [title]
        base = whole.title.split(FOLDED_MARK, 1)[0]
        severity: SeverityLevel = "error" if "error" in (level, whole.severity) else whole.severity
        counted = f"{base}{FOLDED_MARK}{folded_count(titles)}: ! lists them"
        merged = Notification(whole.message, counted, severity, whole.timeout, markup=False)
        self._unnotify(whole, refresh=False)
        self._folding = tuple(merged if n is whole else n for n in self._folding)
        for key, (shown, repeats, alike) in list(self._notices.items()):
            if shown is whole:  # a repeat of it is counted on the merged toast (`say`)
                self._notices[key] = (merged, repeats, alike)
        self._folded = (merged, titles)
        self._notifications.add(merged)
        self._refresh_notifications()
        return True

    def end_find(self) -> None:
        """Stop finding in the log: no highlights, no find bar."""
        self.find_bar.active = ""
        self.event_log.set_finder(None)
        self.find_bar.close()

    def unsay(self, *titles: str) -> None:
        """Take down the notices with these titles (counted ones too): what they said is over (a
        connection failure, once a new connection is open)."""
        gone = [
            notification
            for notification in self._notifications
            if any(notification.title == title or notification.title.startswith(f"{title} (") for title in titles)
        ]
        for notification in gone:
            self._unnotify(notification, refresh=False)
        for key in [key for key in self._notices if key[0] in titles]:
            del self._notices[key]
        if gone:
            self._refresh_notifications()

    def _hold_keys(self) -> None:
        """Hold the keys that follow a filter's, a find's or the message input's Enter until it has been handled.

        Keys reaching the app in one burst (a fast typist, `tmux send-keys`, a paste without
        bracketed paste) were forwarded to the bar's input before its Enter was handled there, and
        typed into it: `f` `type:error` Enter `/` `blue` filtered `type:error/blue`. Held, they go
        where the Enter put the focus: `release_keys` runs once the bar's `Submitted` (the query
        applied, the focus on the log) or `Refused` (the bar keeps the focus) has been handled.
        Should neither come, they are released after :data:`HOLD_AT_MOST` seconds all the same."""
        self._held_keys = []
        self._holds += 1
        after(self, HOLD_AT_MOST, partial(self._release_hold, self._holds))

    def _release_hold(self, hold: int) -> None:
        if hold == self._holds:
            self.release_keys()

    def _hold_keys_behind_log(self, key: events.Key) -> None:
        """Hold `key` (one that moves the focus) and the keys after it until the log has taken the
        keys already sent to it, then let them go through the app again, in order (`on_event`)."""
        self._held_keys = [self.event_log.copy_of(key)]
        self._holds += 1
        self._release_behind_log(self._holds, time.monotonic())

    def _release_behind_log(self, hold: int, since: float) -> None:
        if hold != self._holds:
            return  # released meanwhile
        if self.event_log.message_queue_size and time.monotonic() - since < HOLD_AT_MOST:
            after(self, HELD_KEY_CHECK, partial(self._release_behind_log, hold, since))
            return
        held, self._held_keys = self._held_keys, None
        self._holds += 1
        self.post_again(held or [])  # through `on_event`: to the log's queue if it hands keys on

    def release_keys(self) -> None:
        """Hand the held keys (`_hold_keys`) to the app again, in order."""
        held, self._held_keys = self._held_keys, None
        if held and self.event_log.handing_on:
            # They came from the log's queue (and before what is still in it): they go back at its
            # head, handed on in turn, so a key typed meanwhile still acts after them.
            self.event_log.put_back_keys(held)
            return
        self.post_again(held or [])

    def post_again(self, keys: list[Typed]) -> None:
        """Post held keys to the app again, in order, to be routed as typed (`on_event`).

        Until they have come through, a key that reaches the app first goes behind them
        (`behind_reposted`): it was typed after them, but it may have been queued before they were
        posted again (a read of the terminal that came as the hold let go), and it acted first: the
        `d` of `/ a d x` opened a frame's details, and `/` came last."""
        if not self._reposted:
            self._reposted_at = time.monotonic()  # the safety counts from the oldest still on its way
        for key in keys:
            key.set_sender(self)
            if self.post_message(key):
                self._reposted.append(key)

    def behind_reposted(self, typed: Typed, *, may_wait: bool = True) -> bool:
        """Whether `typed` was posted again behind held keys still on their way (see `post_again`);
        False for one of those keys (it goes on as typed), when none is on its way, and when it
        may not wait (a key the log hands on: its queue holds the order)."""
        reposted = self._reposted
        if not reposted:
            return False
        for position, key in enumerate(reposted):
            if key is typed:
                del reposted[position]
                return False
        if not may_wait:
            return False
        if time.monotonic() - self._reposted_at > HOLD_AT_MOST:
            reposted.clear()  # a safety: one of them was dropped on its way (none should be)
            return False
        self.post_again([retyped(typed)])
        return True

    def _back_to_log(self) -> None:
        """The focus to the log at once, on the app's turn: `focus()` waits behind the keys already
        queued, so a key typed right after Esc or a bar's Enter went to the widget being left."""
        self.event_log.screen.set_focus(self.event_log)  # its own screen: the app's top one may be a palette

    def save_folder(self) -> Path | None:
        """The session folder of what is shown, where what the user keeps goes (beside its capture):
        the live session's, or the shown proxied connection's; None (the data folder's `saved/`) in
        a replay or without a capture."""
        if self.capture is not None:
            return self.capture.folder
        path = self.journal.capture_path
        return Path(path).parent if path is not None and self.proxy is not None else None

    def keep_text(self, text: str, name: str, *, copy: bool, what: str = "") -> Path | None:
        """Copy `text` to the clipboard (OSC 52) and/or save it to a file; say where it went (and,
        given `what`, what it is: "the run's 45 frames, as a JSON list")."""
        folder = self.save_folder()
        failure = ""
        # A file ends with its line's end (a JSON file without one read as cut short to `cat`, diff).
        file_text = text if text.endswith("\n") else text + "\n"
        key = (folder, name, hash(file_text))
        again = self._kept_files.get(key)
        try:
            if again is not None and again.is_file() and again.stat().st_size == len(file_text.encode()):
                # The same frames kept again (c, then s): the file they are in already, not a second one.
                path: Path | None = again
            else:
                path = write_private(output_folder(folder), name, file_text)
                if len(self._kept_files) >= 64:
                    self._kept_files.pop(next(iter(self._kept_files)))
                self._kept_files[key] = path
        except OSError as exc:
            # The folder too: a full disk's error names no file, and "saved/" or a session's folder
            # is where the user will look.
            place = folder if folder is not None else data_dir() / "saved"
            failure = f"could not save {name} in {place}: {exc.strerror or exc}"
            path = None
        if copy:
            self.copy_to_clipboard(text)
            copied = f"copied {what}: {len(text):,} characters" if what else f"copied {len(text):,} characters"
            copied += " (OSC 52: your terminal must allow it)"
            if failure:  # one notice, not an error and then "copied": the copy went, the file did not
                self.say(f"{copied}; {failure}", title="Copy", severity="warning")
            else:
                self.say(f"{copied}; also saved to {path}", title="Copy")
        elif failure:
            self.say(failure, severity="error")
        elif path is not None:
            said = f"{what} saved to {path}" if what else f"saved to {path}"
            if again == path:
                said += " (already there: kept by an earlier copy or save)"
            self.say(said, title="Save")
        return path

    quiet_after = QUIET_AFTER
    """`QUIET_AFTER` for this app (a test's shorter wait)."""

    def watch_for_quiet(self) -> None:
        """Start the once-a-second look at whether the server has gone quiet (`_show_quiet`): for a
        live session, and for the connections a proxy relays (a replay has no server to wait for)."""
        if self._quiet_timer is None:
            self._quiet_timer = self.set_interval(1.0, self._show_quiet)

    def _show_quiet(self) -> None:
        """Once a second: the status line says how long the server has been quiet while the session
        shown waits for it, from its facts and the clock (nothing once a frame comes)."""
        facts = self.model.facts
        quiet = facts.quiet_for(time.monotonic())
        if quiet >= self.quiet_after:
            self.status_line.show_quiet(int(quiet), facts.awaited())
        elif self.status_line.quiet:
            self.status_line.show_quiet(0, "")

    def _session_failed(self, message: str, title: str) -> None:
        self.bus.publish(FRAMES, local_envelope("rt.connection", message, state="failed"))
        self.say(message, title=title, severity="error", timeout=30)

    def _update_log_title(self) -> None:
        title = "Events ▲ sent ▼ received ● local"
        if self.filter_bar.active:
            title = f"Events · filter: {self.filter_bar.active}"
        elif self._before_frames or self._lifted_families:
            # A jump lifted it (`reveal`): said for as long as Esc would bring it back, not only
            # while the notice lasts (a later Esc brought back a filter nothing on screen named),
            # the family toggles it turned back on with it.
            lifted = with_families(self._before_frames or "", sorted(family.value for family in self._lifted_families))
            title = f"Events · filter {lifted!r} lifted · Esc puts it back"
        if self._building is not None:
            doing = "filtering the rest" if self._building.query is not None else "taking in the rest"
            title += f" · {doing}… {self._building.progress:.0%}"
            if self.event_log.holding_keys:
                title += " · keys wait"
        if title != self._log_title:  # setting it repaints the whole pane, even unchanged
            self._log_title = title
            self.event_log.border_title = Text(title)  # the filter is user text: never markup

    _findings_epoch = 0
    """The connection the findings count was made in (`_show_findings_count`): a new one counts again."""

    def _show_findings_count(self) -> None:
        """The current connection's findings by severity (`✖1 ⚠2 (!)`), then the earlier
        connections' that the list also holds (`✖1 · earlier ✖2 ⚠1 (!)`): after ctrl+r the count
        stood beside the new connection's frame counters as if the new session had them."""
        linter = self.model.linter
        findings = linter.findings if linter is not None else []
        journal = self.journal
        current = self._findings_epoch = journal.epoch
        counts: Counter[Severity] = Counter()
        earlier: Counter[Severity] = Counter()
        for finding in findings:
            if current > 1 and connection_of(finding, journal) < current:
                earlier[finding.severity] += 1
            else:
                counts[finding.severity] += 1
        parts = [f"{mark}{counts[severity]}" for severity, mark in SEVERITY_MARKS.items() if counts[severity]]
        before = [f"{mark}{earlier[severity]}" for severity, mark in SEVERITY_MARKS.items() if earlier[severity]]
        if before:
            # By severity too: "+14 earlier" hid that ten of them were errors, and read as 14 sessions.
            parts += [*(["·"] if parts else []), "earlier", *before]
        self.status_line.findings_note = " ".join(parts) + " (!)" if parts else ""
        self.status_line.connection = current
        self.status_line.refresh()

    def more_commands(self) -> Iterable[SystemCommand]:
        """Palette commands a part adds for its own state (each part extends this, calling super)."""
        return ()
