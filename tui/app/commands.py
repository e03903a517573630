"""The command palette (every action, as data), transcript exports, screenshots, zoom."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.app import SystemCommand
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from tui.conversation import Item
    from tui.conversation.export import SessionNote

from tui.protocol import printable
from tui.widgets.event_log import EventLog
from tui.widgets.timers import after

from .base import AppBase
from .files import output_folder, write_private
from .live import SPACE_ACTIONS, V_ACTIONS

TEXTUAL_COMMAND_KEYS = {"keys": "F1, ?", "quit": "q"}
"""Textual's own palette commands that the app binds a key to (its Keys panel, its quit)."""

PALETTE: list[tuple[str, str, str]] = [
    ("recorder: talk / send", "Start or end a push-to-talk turn (space)", "action_talk"),
    ("recorder: hands-free on/off", "Let server VAD end your turns (v)", "action_hands_free"),
    ("message: type", "Focus the message input (t)", "action_focus_input"),
    (
        "session: new session (reconnect)",
        "Close this session (if open) and connect again, keeping the transcript (ctrl+r)",
        "action_reconnect",
    ),
    (
        "session: send an event",
        "Type one client event as JSON and send it as it is: see what the server says to it",
        "action_send_event",
    ),
    ("log: filter", "Show only frames that match a query (f)", "action_filter"),
    ("log: clear filter", "Show every frame again", "clear_filter"),
    ("log: find", "Find a word or /regex/ in the frames (/)", "action_find"),
    ("log: find next", "The next match (n)", "event_log.action_find_next"),
    ("log: find previous", "The previous match (N)", "event_log.action_find_previous"),
    ("log: follow", "Follow new frames (end)", "event_log.action_tail"),
    ("log: clear", "Clear the log view; the journal keeps every frame (ctrl+l)", "action_clear_log"),
    ("log: undo clear", "Show the frames from before the clear again", "unclear_log"),
    ("log: export", "Write the shown frames as JSONL (e)", "action_export"),
    ("log: details", "Details of the selected frame or run (d)", "event_log.action_details"),
    ("log: cause ↔ error", "Jump between an error and the frame that caused it (c)", "event_log.action_cause"),
    ("log: copy frame", "Copy the selected frame (y)", "event_log.action_copy"),
    (
        "log: open / close run",
        "Show a collapsed run's frames in place, or collapse it (→ ←)",
        "event_log.action_toggle_run",
    ),
    ("log: transcript row", "Go to the selected frame's transcript row (o)", "event_log.action_transcript"),
    (
        "transcript: its frames",
        "Show only the selected row's frames in the log, or those of the log's selected frame's item (o; i in the log)",
        "frames_of_selection",
    ),
    ("transcript: copy row", "Copy the selected row's words (y in the transcript)", "transcript.action_copy"),
    ("transcript: copy as Markdown", "Copy the whole conversation", "copy_transcript"),
    ("transcript: export Markdown", "Save the conversation as Markdown", "export_transcript_markdown"),
    ("transcript: export JSON", "Save the conversation as JSON", "export_transcript_json"),
    ("view: zoom pane", "Give the focused pane the whole screen (z)", "action_zoom"),
    ("lint: findings", "What the linter found, and the fix for each (!)", "action_findings"),
    (
        "notices: dismiss",
        "Take down every notice on screen (what they said of frames stays in the log)",
        "dismiss_notices",
    ),
]
"""The command palette: (title, help, the method it runs). Every action of the app is here."""

SPACE_NAMES = {"talk": ("talk", *SPACE_ACTIONS), "hands_free": tuple(V_ACTIONS), "zoom": ("zoom", "unzoom")}
"""The palette's talk is space whatever it does now: while a turn is recorded its binding is
`talk_send` (the footer's Send), and `talk`, false then, hid the command that sends the turn; its
hands-free toggle is v's either name, and its zoom z's."""

SCREENSHOT_RETRY_SECONDS = 0.05
"""How long a screenshot waits again while Textual holds repaints back (the palette's hold: 50 ms)."""


class Commands(AppBase):
    """Palette commands and the app-wide view actions."""

    if TYPE_CHECKING:
        # LogControls' (beside this mixin in RtApp): Esc in the log ends `o`'s filter.
        def back_from_frames(self) -> bool: ...

        # LiveSession's: no microphone was found (space and v show dimmed).
        def _no_microphone(self) -> bool: ...

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action of the app, beside Textual's own."""
        main = not isinstance(screen, ModalScreen)
        for command in super().get_system_commands(screen):
            title = command.title.lower()
            if title == "screenshot":
                continue  # ours, below: it says where the file goes
            if title == "maximize" and main:
                continue  # the panes' zoom (z) is the one: Textual's hid the status line and the footer
            key = TEXTUAL_COMMAND_KEYS.get(title) if main else None
            if key is not None:  # named like ours, whose help ends with the key
                command = SystemCommand(command.title, f"{command.help} ({key})", command.callback, command.discover)
            yield command
        # Where it goes: a replay, or a session without a capture, has no session folder.
        where = "in the session folder" if self.capture is not None else "in the data folder's saved/"
        yield SystemCommand("Screenshot", f"Save an SVG screenshot {where}", self.action_save_screenshot)
        if isinstance(screen, ModalScreen):
            # A dialog (a frame's details, the findings, the export): its own commands. The keys of
            # the screen under it are blocked, and its commands ran unseen there ('log: filter'
            # opened the bar under the details and took the focus for later; 'log: find next'
            # moved the selection; 'recorder: talk / send' began a turn).
            commands = getattr(screen, "palette_commands", None)
            if callable(commands):
                yield from commands()
            return
        for title, help_text, target in PALETTE:
            owner, _, method = target.rpartition(".")
            action = method.removeprefix("action_")
            # Space's state: whichever of its names is active now (each runs `action_talk`).
            states = (self.check_action(name, ()) for name in SPACE_NAMES.get(action, (action,)))
            allowed = next((state for state in states if state is not False), False)
            if allowed is not False and owner:
                # The widget's own say too: the log's frame keys need a frame to act on.
                widget: Any = self._resolve(owner)
                allowed = widget.check_action(action, ())
            if allowed is False and owner == "event_log" and action in EventLog.FRAME_ACTIONS:
                why = self.event_log.empty_text()
                if why:
                    # A clear, or a filter matching none, left the log with no frame: the command says
                    # so (left out, or run, it did nothing, silently).
                    yield SystemCommand(title, help_text, partial(self.say, f"no frame is shown: {why}", title="Log"))
                continue
            if allowed is False:
                continue
            if action == "zoom" and self.screen.maximized is not None:
                # What it does now, as the footer's z says (it kept its zoom name while zoomed).
                title, help_text = "view: both panes", "Give the transcript and the log their places back (z)"
            # None (the key shows dimmed): the action cannot act now. A widget's with nothing selected
            # (the log's frame keys): the action would silently do nothing, so the command says how to
            # select a frame. The app's own (space, v with no session), and `c` or `o` on a row with
            # nowhere to go: run, the action says why itself.
            if action == "talk" and allowed is None and self._no_microphone():
                # Its "send" made it the first match for "send" (above 'session: send an event'), and
                # Enter went looking for a microphone (review 57a).
                title, help_text = "recorder: talk (no microphone)", "Look for a microphone again (space)"
            # The transcript's row actions say themselves how to select a row, in the transcript.
            unselected = allowed is None and owner == "event_log" and not self.event_log.has_selection
            run = self._select_first if unselected else self._resolve(target)
            yield SystemCommand(title, help_text, run)
        yield from self.more_commands()

    def _select_first(self) -> None:
        self.say("Select a frame first: ↑ in the log selects the last one, Home the first.")

    def _resolve(self, target: str) -> Callable[[], Any]:
        """`"event_log.action_tail"` → that bound method."""
        obj: Any = self
        for name in target.split("."):
            obj = getattr(obj, name)
        return cast(Callable[[], Any], obj)

    def _conversation(self, doing: str) -> list[Item] | None:
        """The conversation's items; None, said, when it has none (a separator alone is no
        conversation): a file holding `# Conversation` or `[]`, announced as saved, helps nobody."""
        items = self.conversation.ordered()
        if any(item.role != "session" for item in items):
            return items
        self.say(f"nothing to {doing}: the conversation is empty", title="Transcript", severity="warning")
        return None

    def _input_audio(self, items: list[Item]) -> dict[str, float]:
        """Milliseconds of audio of each user turn that came through the input buffer (an export
        said `"audio_ms": null` of a turn whose appends the log showed as `[audio 129.7 KB · 2.77 s]`)."""
        lengths = {}
        for item in items:
            if item.role == "user" and item.has_audio and (length := self.links.input_audio_ms(item.id)) is not None:
                lengths[item.id] = length
        return lengths

    def _transcript_about(self, items: list[Item]) -> list[str]:
        """What a Markdown transcript of `items` is of: in a replay, the file(s) replayed; the target
        of its sessions (each, when they differ); its session's id, or each of them when it spans
        several (the shown client's, in the proxy); and when it was exported."""
        from tui.conversation.export import iso_time

        facts = self.facts
        about = [f"replay of {name}"] if (name := self.replay_name()) else []
        connections = sorted({item.connection for item in items if item.role != "session"})
        named = dict.fromkeys(facts.targets.get(n, "") for n in connections)  # each once, in order
        targets = [target for target in named if target] or ([facts.target] if facts.target else [])
        if targets:
            about.append(", ".join(printable(target) for target in targets))
        ids = list(dict.fromkeys(facts.session_ids[n] for n in connections if n in facts.session_ids))
        if len(ids) > 1:  # a session resumed twice: named once
            about.append(f"sessions {', '.join(printable(session_id) for session_id in ids)}")
        elif ids or facts.session_id:
            about.append(f"session {printable(ids[0] if ids else facts.session_id)}")
        return [*about, f"exported {iso_time(time.time())}"]

    def _sections(self, items: list[Item], *, always: bool = False) -> tuple[list[Item], dict[str, SessionNote]]:
        """The items to export, led by the first session's separator when there are several, or
        `always` (a JSON export: its session's id has no other place), and by separator id
        (`rt-session-N`, the Nth connection's) the session each begins and, in a replay, the file its
        frames came from (of several files, each connection's; of one, that file)."""
        from tui.conversation.export import SessionNote, with_first_session

        facts = self.facts
        first = next((item.connection for item in items if item.role != "session"), 0)
        items = with_first_session(items, facts.targets.get(first, ""), facts.started.get(first), always=always)
        notes = {}
        replayed = self.replay_name()
        for item in items:
            number = item.id.removeprefix("rt-session-")
            if item.role == "session" and number.isdigit():
                epoch = int(number)
                session_id = printable(facts.session_ids.get(epoch, ""))
                notes[item.id] = SessionNote(session_id, self.replayed_file(epoch) or replayed)
        return items, notes

    def _transcript_markdown(self, items: list[Item]) -> str:
        from tui.conversation.export import to_markdown

        about = self._transcript_about(items)
        sections, notes = self._sections(items)
        return to_markdown(sections, about, self._input_audio(items), notes)

    def copy_transcript(self) -> None:
        """Copy the conversation as Markdown (and save it beside the capture)."""
        if (items := self._conversation("copy")) is not None:
            text = self._transcript_markdown(items)
            self.keep_text(text, f"transcript-{time.strftime('%Y%m%d-%H%M%S')}.md", copy=True)

    def export_transcript_markdown(self) -> None:
        """Save the conversation as Markdown."""
        if (items := self._conversation("save")) is not None:
            text = self._transcript_markdown(items)
            self.keep_text(text, f"transcript-{time.strftime('%Y%m%d-%H%M%S')}.md", copy=False)

    def export_transcript_json(self) -> None:
        """Save the conversation as JSON (role, time, text, transcript status)."""
        from tui.conversation.export import to_json

        if (items := self._conversation("save")) is not None:
            sections, notes = self._sections(items, always=True)
            text = to_json(sections, self._input_audio(items), notes)
            self.keep_text(text, f"transcript-{time.strftime('%Y%m%d-%H%M%S')}.json", copy=False)

    def action_save_screenshot(self) -> None:
        """Save an SVG screenshot in the session folder, else the data folder's saved/ (no Downloads
        folder needed), of the screen as it is next painted: chosen in the palette, this runs as the
        palette closes, before the screen under it is laid out again (the Keys panel, rebuilt then,
        was saved empty)."""
        self.call_after_refresh(self._save_when_painted)

    def _save_when_painted(self) -> None:
        # While Textual holds repaints back (the palette's `delay_update`, 50 ms), a callback after
        # refresh runs at once, before any repaint: wait for the hold to end, then for a repaint.
        # (Textual has no public word for the hold; its own Screenshot command waits 0.1 s.)
        if self._batch_count:
            after(self, SCREENSHOT_RETRY_SECONDS, self.action_save_screenshot)
            return
        self._save_screenshot()

    def _save_screenshot(self) -> None:
        name = f"rt-tui_{time.strftime('%Y-%m-%dT%H_%M_%S')}.svg"
        folder = None
        try:
            folder = output_folder(self.save_folder())
            # Written as every file rt-tui saves (0600, never over another): Textual's own save
            # wrote it as the umask said, and left an empty file behind on a full disk.
            path = write_private(folder, name, self.export_screenshot())
        except OSError as exc:
            # Worded as an export's failure: where, and why in words (`[Errno 28] No space left on
            # device` named no file, review 57b).
            where = exc.filename or (folder / name if folder is not None else name)
            said = f"screenshot not saved: could not write {where}: {exc.strerror or exc}; nothing was written"
            self.say(said, title="Screenshot", severity="error")
            return
        self.say(f"screenshot saved to {path}", title="Screenshot")

    def dismiss_notices(self) -> None:
        """Take down every notice on screen at once (at 80×24 a few of them cover half the log, and
        Textual's own way is a click on each)."""
        self.clear_notifications()

    def action_zoom(self) -> None:
        """Give the focused pane the whole screen (again: back to both panes)."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        else:
            target = self.transcript if self.transcript.has_focus else self.query_one("#log-pane")
            self.screen.maximize(target, container=False)
        self.refresh_bindings()  # the footer's z: "Both panes" while zoomed

    def action_toggle_keys(self) -> None:
        """Show the Keys panel (every key of the focused widget and the app), or hide it (F1, ?)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_show_help_panel(self) -> None:
        """Show the Keys panel; beside it, the log keeps most of the room left (`-keys-shown`)."""
        super().action_show_help_panel()
        self.screen.add_class("-keys-shown")

    def action_hide_help_panel(self) -> None:
        """Hide the Keys panel; the panes share the screen as before."""
        super().action_hide_help_panel()
        self.screen.remove_class("-keys-shown")

    def action_unzoom(self) -> None:
        """Back to both panes (`z` while zoomed: the footer names it so)."""
        self.action_zoom()

    def action_leave_input(self) -> None:
        """Leave an input or a zoomed pane: back to the event log, so space talks again. In the
        log itself, with nothing else to leave, Esc ends a find (its bar and highlights go), or
        else puts back the filter that was in force before `o` showed an item's frames (or a jump
        lifted), or else closes the Keys panel (the palette's "Keys"), or else takes down the
        notices on screen (at 80×24 they cover rows of both panes for seconds; the palette's
        "notices: dismiss" was the only other way)."""
        if self.screen.maximized is not None:
            self.screen.minimize()
            self.refresh_bindings()
        elif self.focused is self.event_log and self.find_bar.active:
            self.end_find()
        elif self.focused is self.event_log:
            # `o` showed an item's frames: the filter before comes back; with nothing of the log's
            # to leave, the Keys panel is what Esc closes (it takes no focus, so no key of its own).
            if self.back_from_frames():
                pass
            elif self.screen.query("HelpPanel"):
                self.action_hide_help_panel()
            elif self._notifications:
                self.dismiss_notices()
        self._back_to_log()  # at once: `t` `hi` Esc `f` in one burst typed `f` into the message
