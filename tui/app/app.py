"""RtApp: the composition root. Builds the bus, the sources, the session models and the views.

Data flow: a source (the websocket session, a replay, a proxied connection) publishes every
frame on the bus. A pump running at a fixed cadence drains them in batches into the session's
model: the journal appends each frame once, then the projections (conversation, session facts,
error ↔ cause links, the linter) apply it. The views render from the journal and the projections
and keep no protocol state of their own. The reader never waits on the UI.

The app's parts are mixins over `AppBase`, one job each: `LiveSession` (connection, reconnect,
voice), `LogControls` (filter, find, details, export, findings), `Modes` (replay, proxy) and
`Commands` (the palette, transcript exports, screenshots).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets._toast import ToastRack

from tui.bus import Bus, Mode, Subscription
from tui.config import Settings
from tui.model import SessionModel, new_model
from tui.protocol import Direction, Envelope, error_summary, local_envelope, printable, text
from tui.replay import ReplayPlayer, ReplayRequest
from tui.session import FRAMES, CaptureWriter, RealtimeSession
from tui.stdout import QUIT_SIGNALS
from tui.widgets import EventLog, Recorder, RecorderState, StatusLine, Transcript
from tui.widgets.key_footer import KeyFooter
from tui.widgets.message_input import MessageInput
from tui.widgets.query_bar import FilterBar, FindBar
from tui.widgets.screen_size import short_screen
from tui.widgets.transcript import VOICE_HINT

from .base import REPLAY_TOAST_SECONDS, toast_text
from .commands import Commands
from .heap import release_heap, settle_heap
from .live import LiveSession
from .log_controls import LogControls
from .modes import Modes, replay_model
from .reconnect import RetryPolicy
from .serial_steps import SerialSteps
from .voice import MIC_LEVEL, VoiceController

if TYPE_CHECKING:
    from tui.proxy import ProxyRequest

PUMP_HZ = 30
"""How often bus traffic is moved into the journal and the projections."""

VIEWS_MIN_INTERVAL = 1 / 15
"""The views repaint at most this often: under a firehose a repaint (tens of milliseconds) per pump
tick would take the whole loop, and keys would wait behind it; 15 a second still reads as live."""

KEY_FIRST = 0.1
"""After a key press the streaming views wait this long before their next repaint, so the screen
update that shows the key's effect is not also repainting a scrolled log and transcript."""

VIEWS_MAX_INTERVAL = 0.2
"""However fast keys come (typing, a held arrow), the views still repaint at least this often."""

SESSIONS = Binding.Group("Session")
"""The proxy's `<` and `>`: one footer entry for the two keys that switch between its sessions."""

SPEED = Binding.Group("Speed")
"""A replay's `[` and `]`: one footer entry for slower and faster (a narrow footer kept one alone)."""

_FOCUS_MOVING = frozenset({"focus_input", "filter", "find", "leave_input", "leave_bar"})
"""Actions that move the focus to a text input, or out of one (Esc): run on the app's own turn (see
`_focus_move`)."""

_QUIT_ACTIONS = frozenset({"quit", "app.quit"})
"""The actions of the priority keys that act even while keys are held (`RtApp._quits`)."""

_TOASTED = frozenset({"error", "rt.malformed", "rt.client_error", "rt.capture", "rt.audio", "rt.refused", "rt.replay"})
"""Frame types `_react_to` may raise a notice for; every other frame is passed over at once."""
_RECORDED_FACTS = frozenset({"rt.audio", "rt.refused"})
"""rt-tui's facts about the devices and actions of the machine a session ran on: in a replay they
are the recording's, and a toast ("speaker unavailable") read as this machine's trouble. (A
replay's own facts are `rt.replay`, and `rt.capture` for what the reader says of the file it reads:
a last line cut short.)"""


WHOLE_ERROR = "the error frame in the log has it whole"
"""Where a shortened server error's toast says the rest is."""


def views_due_after_key(now: float, due: float, *, stale: bool, views_at: float, stale_since: float) -> float:
    """When the views may repaint next, after a key at `now` (monotonic seconds): KEY_FIRST later,
    but never later than VIEWS_MAX_INTERVAL after the last repaint or, after a quiet spell, after
    the views fell behind again (so fast keys cannot starve them); never earlier than `due`."""
    behind_since = max(views_at, stale_since) if stale else now
    return max(due, min(now + KEY_FIRST, behind_since + VIEWS_MAX_INTERVAL))


class LogPane(Vertical):
    """The event log with its filter and find bars: zoomed (`z`) as one, bars included. A plain
    container cannot be maximized (Textual allows it only to focusable widgets by default)."""

    ALLOW_MAXIMIZE = True


class MainScreen(Screen[None]):
    """The app's screen. A focus change repaints the widgets whose look depends on it (Textual
    updates their styles) but not, as Textual's own screen does, every line of the screen: `f`, `/`
    and `t` move the focus, and under a stream of frames that full repaint (the third of the
    screen's renders for one key) was what a press waited for."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    ALLOW_IN_MAXIMIZED_VIEW = "#status, #bottom, KeyFooter"
    """Zoomed (`z`), a pane takes the other pane's room only: the status line, the recorder and the
    footer stay (Textual keeps only its own `Footer`; the zoom hid the connection's state, and the
    key that brings the panes back)."""

    def on_screen_suspend(self) -> None:
        # Covered by a dialog, the palette or a frame's detail, whose own notices show the same ones
        # where they cover least: this screen's, seen through the backdrop, doubled them. Hidden
        # inline, as Textual shows them (a style sheet's rule loses to it); shown again on resume.
        for rack in self.query(ToastRack):
            rack.display = False


class RtApp(LiveSession, LogControls, Modes, Commands):
    """rt-tui: talk to a Realtime server and watch every frame."""

    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (140, "-roomy")]
    """Below 100 columns the panes stack: side by side, neither would be readable. Textual sets the
    class on every screen at each resize (a handler of the app's own saw only the first size)."""
    TITLE = "rt-tui"
    ESCAPE_TO_MINIMIZE = False
    """Esc reaches the focused widget first in a zoomed pane too: in the log's filter or find bar it
    leaves the bar and the zoom stays; elsewhere the app's `leave_input` binding leaves the zoom.
    Textual's default took every Esc for the zoom: in a zoomed log, Esc in the filter bar dropped
    the zoom and left the focus in the bar, with the footer's keys gone."""

    BINDINGS = [
        # A replay's keys (only in a replay) first: a narrow footer keeps the first of the app's keys
        # (`KeyFooter`), which in a replay is `p`, the way to stop it; live, it is space.
        Binding("p", "replay_pause", "Pause", id="replay-pause"),
        Binding("p", "replay_resume", "Resume", id="replay-resume"),  # shown instead while paused
        # One unit in the footer (`[ ] Speed`): a narrow one kept `] Faster` and left `[ Slower` out.
        Binding("left_square_bracket", "replay_speed(0.5)", "Slower", id="replay-slower", group=SPEED),
        Binding("right_square_bracket", "replay_speed(2)", "Faster", id="replay-faster", group=SPEED),
        Binding("a", "replay_at_once", "Rest at once", id="replay-at-once", show=False),
        Binding("r", "replay_restart", "Restart", id="replay-restart"),
        Binding("space", "talk", "Talk", id="talk"),
        # Space's other meanings, one active at a time (LiveSession.check_action): the footer says
        # what space does now.
        Binding("space", "talk_send", "Send", id="talk-send"),
        Binding("space", "talk_listen", "Listen", id="talk-listen"),
        Binding("space", "talk_stop_listening", "Stop listening", id="talk-stop-listening"),
        Binding("v", "hands_free", "Hands-free", id="hands-free"),
        Binding("v", "hands_free_off", "Push-to-talk", id="push-to-talk"),  # v while hands-free is on
        # Shown, and active, only while zoomed; early, so a narrow footer keeps the way back.
        Binding("z", "unzoom", "Both panes", id="unzoom"),
        Binding("t", "focus_input", "Type", id="type"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("slash", "find", "Find", id="find"),
        Binding("exclamation_mark", "findings", "Findings", id="findings"),
        Binding("e", "export", "Export", id="export", show=False),
        # The keys a new user tries first for help (only in the palette before, as "Keys").
        Binding("f1,question_mark", "toggle_keys", "Keys", id="keys", show=False),
        Binding("z", "zoom", "Zoom", id="zoom"),  # where there is room (a narrow footer drops it first)
        Binding("escape", "leave_input", "Leave input", show=False, id="leave-input"),
        Binding("ctrl+l", "clear_log", "Clear log", id="clear-log", show=False),
        Binding("ctrl+r", "reconnect", "New session", id="reconnect", show=False),  # what it does when connected too
        # Shown as one `< > Session` entry, and only while there are sessions to switch between.
        Binding("less_than_sign", "switch_session(-1)", "Previous session", id="session-previous", group=SESSIONS),
        Binding("greater_than_sign", "switch_session(1)", "Next session", id="session-next", group=SESSIONS),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        connect: bool = True,
        replay: ReplayRequest | None = None,
        proxy: ProxyRequest | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.replay = replay
        self.proxy = proxy
        self.proxy_url = ""
        self.connect_on_mount = connect and replay is None and proxy is None
        self.bus = Bus()
        if replay is not None:
            self.model = replay_model(replay.recording, replay.recording.path.name)
        else:
            self.model = new_model("")
        self.models: list[SessionModel] = [self.model]
        """Every session this app shows (the proxy adds one per client connection)."""
        self._feeds: list[tuple[SessionModel, Subscription[Envelope]]] = [
            (self.model, self.bus.subscribe(FRAMES, Mode.LOSSLESS))
        ]
        self._placeholder_taken = False
        self._notices = {}
        self._reposted = []
        self._notices_while = {}
        self.session: RealtimeSession | None = None
        self.capture: CaptureWriter | None = None
        self.player: ReplayPlayer | None = None
        self.voice = VoiceController(
            self.bus,
            playback=self.settings.playback,
            active_response=lambda: self.model.facts.active_response,
            input_device=self.settings.input_device,
            output_device=self.settings.output_device,
        )
        self.voice.on_speaker_problem = self._speaker_unavailable
        self.voice.on_audio_refused = self.audio_refused
        self._level = self.bus.subscribe(MIC_LEVEL, Mode.LATEST)
        self.started_at = time.monotonic()
        self.first_paint_at: float | None = None
        self.last_filter_seconds = 0.0
        self.voice_steps = SerialSteps("rt-voice-steps", self._voice_step_crashed)
        """The voice keys' steps, one at a time and off the key handler."""
        self._user_filter = ""
        self._before_frames: str | None = None
        """The user's filter before `o` showed an item's frames (Esc in the log puts it back)."""
        self._retry = RetryPolicy()
        self._quiet_timer: Timer | None = None
        """Ticks `_show_quiet` once a second from the first live session on (none in replays, the
        proxy, or an app that never connects)."""
        self._quitting = False
        self._target_url = ""
        self._error_notices = 0
        self._building = None
        self._views_stale = False
        self._views_due = 0.0
        self._views_at = 0.0
        self._log_title = ""
        self._kept_files = {}
        self._event_text = ""  # the dialog shows an example as its placeholder
        self.captures = []
        self.capture_refusals = []
        self._stale_since = 0.0

    def compose(self) -> ComposeResult:
        # The pump updates these 30 times a second: keep direct references rather than querying the DOM
        # (which also fails once the screen is gone during shutdown, while a last tick may still run).
        self.status_line = StatusLine(self.facts, id="status")
        self.transcript = Transcript(id="transcript")
        self.transcript.border_title = "Transcript"
        self.transcript.paint_after = self._streaming_paint_after
        self.event_log = EventLog(self.log_view, id="event-log")
        self.filter_bar = FilterBar(self.journal, id="filter-bar")
        self.find_bar = FindBar(self.journal, id="find-bar")
        self.recorder = Recorder(
            speaking=self.voice.speaking_ms, microphone_missing=self._microphone_missing, id="recorder"
        )
        yield self.status_line
        with Horizontal(id="panes"):
            yield self.transcript
            with LogPane(id="log-pane"):
                yield self.filter_bar
                yield self.find_bar
                yield self.event_log
        with Vertical(id="bottom"):
            yield self.recorder
            yield MessageInput(placeholder="t: type a message · Enter sends · Esc leaves", id="message", compact=True)
        yield KeyFooter()

    def get_default_screen(self) -> Screen[None]:
        """The screen the app composes into (see `MainScreen`)."""
        return MainScreen(id="_default")

    exits_on_signals = False
    """Quit as ctrl+q does on QUIT_SIGNALS (`run_app` sets it: the process is the app's). Killed by
    SIGTERM's default action, the app left the terminal in its alternate screen with mouse tracking
    on and the cursor hidden, and said nothing of where the session's frames are; killed by SIGHUP's
    (the terminal window closed), the capture lost the frames not yet flushed: all of them in the
    first quarter second."""

    def on_mount(self) -> None:
        if self.exits_on_signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no signals here
                for signum in QUIT_SIGNALS:
                    asyncio.get_running_loop().add_signal_handler(signum, self._terminated, signum)
        self._update_log_title()
        self.set_interval(1 / PUMP_HZ, self._pump)
        self.event_log.focus()
        self.call_after_refresh(self._painted)
        if self.replay is not None or self.proxy is not None:
            self.screen.add_class("-no-voice")
            self.transcript.hint = ("Starting…",)
        elif self.settings.transcription_model is None:
            self.transcript.hint = (
                VOICE_HINT[0],
                "Input transcription is off (--no-transcription): your recordings appear here, without "
                "their words; the assistant still hears them.",
            )
        for warning in self.settings.startup_warnings:
            # Said on stderr before the screen took over, where only a user who quits sees it.
            self.say(warning, title="Warning", severity="warning", timeout=30)
            self.publish_fact(local_envelope("rt.warning", warning, notify=False))
        if self.replay is not None:
            self.start_replay(self.replay)
        elif self.proxy is not None:
            self.run_proxy(self.proxy)
        elif self.connect_on_mount:
            self.run_session()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not self.screen_stack:
            return  # closing: a key handed on late (held behind a filter) has no screen to act on
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            quits = isinstance(event, events.Key) and self._quits(event)
            # A key the log hands on keeps its identity: a copy would lose its place in the log's queue.
            handed_on = self.event_log.handed_on(event)
            if not quits and self.behind_reposted(event, may_wait=not handed_on):
                return  # typed after held keys let go, queued before them: it acts after them
        if isinstance(event, events.Paste) and not event.is_forwarded:
            log = self.event_log
            if log.handing_on and not log.handed_on(event):
                log.queue_key(event)  # pasted while held keys are handed on: it goes after them
                return
            if self._held_keys is not None:
                self._held_keys.append(log.copy_of(event))  # after a bar's Enter: where the Enter puts the focus
                return
        if isinstance(event, events.Key):
            # The key's own screen update goes first; streaming repaints wait (see KEY_FIRST).
            self._views_due = views_due_after_key(
                time.monotonic(),
                self._views_due,
                stale=self._views_stale,
                views_at=self._views_at,
                stale_since=self._stale_since,
            )
            log = self.event_log
            queued = log.handing_on and not log.handed_on(event)
            held = self._held_keys
            if (queued or held is not None) and not event.is_forwarded and not self._quits(event):
                if queued:
                    log.queue_key(event)  # typed while held keys are handed on: it acts after them
                elif held is not None:  # forwarded once the bar's Enter has been handled, wherever it put the focus
                    held.append(log.copy_of(event))
                return
            if self.event_log.holding_keys and self.focused is self.event_log:
                # A key waits for a filter's whole view: the ones after it wait in the log, in order
                # (`t`, `f`, `/` too, which would otherwise move the focus now). So do the priority
                # keys Textual runs before the log sees them (ctrl+p: the palette opened at once and
                # took the held ↓ and Enter, which ran "Quit"); only quitting acts at once.
                if not event.is_forwarded and self._waits_its_turn(event):
                    event.stop()
                    self.event_log.hold_key(event)
                    return
                await super().on_event(event)
                return
            action = self._focus_move(event)
            if (
                self.focused is log
                and log.message_queue_size
                and not event.is_forwarded
                and (action is not None or self._waits_its_turn(event))
            ):
                # Keys sent to the log before this one are still in its queue (Home ↓ ↓ `/` in one
                # burst): moving the focus now sent the ↓ the log then held for Home to the find bar,
                # and ctrl+p's palette took them. This key and those after it wait until the log has
                # taken its own.
                event.stop()
                self._hold_keys_behind_log(event)
                return
            if action is not None:
                event.stop()
                await self.run_action(action)
                return
            if event.key == "enter" and (self._in_query_bar() or self._in_message_input()):
                await super().on_event(event)
                self._hold_keys()
                return
        await super().on_event(event)

    def _waits_its_turn(self, event: events.Key) -> bool:
        """Whether the key runs a priority binding (Textual runs it before the focused widget sees
        it) that does not quit: behind keys the log has still to act on, it waits its turn."""
        try:
            active = self.screen.active_bindings.get(event.key)
        except ScreenStackError:
            return False
        return active is not None and active.binding.priority and active.binding.action not in _QUIT_ACTIONS

    def _quits(self, event: events.Key) -> bool:
        """Whether the key quits (ctrl+q): it acts as it is typed, never queued behind held keys
        (it waited 1.3 s behind 20 of them). Only quitting: the palette's ctrl+p, let through a
        bar's Enter hold, opened before the Enter was handled, whose move of the focus back to the
        log then left the palette without its keys."""
        candidates = self._quit_candidates(event)
        if not self._keymap and not any(b.priority and b.action in _QUIT_ACTIONS for b in candidates):
            return False  # the common case, told without walking every binding (a paste is thousands of keys)
        try:
            active = self.screen.active_bindings.get(event.key)
        except ScreenStackError:
            return False
        return active is not None and active.binding.priority and active.binding.action in _QUIT_ACTIONS

    def _quit_candidates(self, event: events.Key) -> list[Binding]:
        """The bindings of `event`'s key that could quit: the app's own and the focused widget's
        (a text input names ctrl+q in its footer), where the quit bindings are."""
        found = list(self._bindings.key_to_bindings.get(event.key, ()))
        focused = self.focused
        if focused is not None:
            found += focused._bindings.key_to_bindings.get(event.key, ())
        return found

    def _in_query_bar(self) -> bool:
        """Whether the focus is in the filter's or the find's input (whose Enter `_hold_keys` waits for)."""
        return self.focused is not None and self.focused in (self.filter_bar.input, self.find_bar.input)

    def _in_message_input(self) -> bool:
        """Whether the focus is in the message input: its Enter holds the keys after it until the
        message is sent (`send_text`). Enter, Esc, space in one burst started the turn first, and the
        message was kept back as typed during a recording."""
        return self.focused is not None and self.focused.id == "message"

    def _focus_move(self, event: events.Key) -> str | None:
        """The action of a binding that moves the focus to a text input (`t`, `f`, `/`), or out of
        one (Esc), which `on_event` runs before the next key is dispatched; None for other keys.

        Textual forwards a key to the focused widget and runs an app binding only once the key has
        bubbled back, so keys typed right after `t` (a burst, a paste) were already on their way to
        the log, whose bindings took them: `f` opened the filter, `q` quit, and the message got
        nothing. Run here, the action moves the focus (synchronously) before the app forwards the
        next key. A key the focused widget would type (an input's own letters) is left to it.
        """
        if not event.is_printable and event.key != "escape":
            return None  # arrows, End, ctrl keys: never one of these (and the lookup below is not free)
        if event.key == "escape" and self._in_query_bar():
            return "leave_bar"  # the bar's own Esc, run when the key came back: a key after it was typed into the bar
        focused = self.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            return None  # first: the lookup below is a walk of every binding (a paste is thousands of keys)
        try:
            screen = self.screen
        except ScreenStackError:
            return None  # a key still queued as the app closes: no screen is left to act on it
        active = screen.active_bindings.get(event.key)
        if active is None or active.node is not self or not active.enabled:
            return None
        if active.binding.action not in _FOCUS_MOVING:
            return None
        return active.binding.action

    def _painted(self) -> None:
        self.first_paint_at = time.monotonic()
        settle_heap()
        if self.replay is None:
            # After the first paint, never before it: the screen does not wait for PortAudio.
            self.voice.setup_begins()  # now, not when the worker runs: a press meanwhile waits for it
            self.run_worker(self._prepare_audio(), name="prepare-audio", exit_on_error=False)

    async def _prepare_audio(self) -> None:
        # A live session's recorder looks for its microphone: replays, the proxy and previews have none.
        if self.connect_on_mount and not self.voice.playback_enabled:
            # Said where the microphone's state is: a reply that made no sound said nothing of why.
            self.recorder.speaker = "off"
        await self.voice.prepare(check_microphone=self.connect_on_mount)
        settle_heap()  # the audio stack's modules, loaded just now, live as long as the app
        self._say_no_microphone()

    def _speaker_unavailable(self, message: str) -> None:
        """The speaker did not open: the recorder line says so from now on, and the log why; a notice
        too, unless the screen is short (at 80x24 it covered the reply it could not play)."""
        self.recorder.speaker = "missing"
        self.voice.publish_fact(local_envelope("rt.audio", message, notify=not short_screen(self.screen)))

    def _microphone_missing(self) -> bool:
        """The last look for a microphone found none (the recorder says so beside "disconnected")."""
        return self.voice.mic_problem is not None

    def _say_no_microphone(self) -> None:
        """A ready recorder says there is no microphone, if the check found none: before a press,
        not after it (space still tries: a microphone plugged in since). A recorder that says
        something else (disconnected, recording) keeps it: the session opening comes back here."""
        problem = self.voice.mic_problem
        recorder = self.recorder
        if problem is None or self._exit:
            return
        recorder.refresh()  # "disconnected, no microphone" too
        try:
            self.refresh_bindings()  # space and v show dimmed
        except ScreenStackError:
            return  # a pump tick while the app closes (a fault test's drop, then quit): no screen left
        if recorder.state is RecorderState.IDLE and not self.voice.recording:
            recorder.state = RecorderState.UNAVAILABLE
            recorder.message = recorder.unavailable_why = problem
        self._follow_server_turns()  # the empty transcript says it too, and how to type instead

    def _pump(self) -> None:
        for model, subscription in self._feeds:
            frames = subscription.drain()
            if frames:
                self.ingest(frames, model, refresh=False)
        now = time.monotonic()
        if self._views_stale and now >= self._views_due:
            self._refresh_views()
            self._views_due = now + VIEWS_MIN_INTERVAL
        level = self._level.get_nowait()
        if level is not None:
            self.recorder.level = level

    def ingest(self, frames: list[Envelope], model: SessionModel | None = None, *, refresh: bool = True) -> None:
        """Journal a batch into `model` (the current one by default) and run its projections; the
        views follow at once (`refresh`), or at the pump's next view refresh."""
        model = model or self.model
        added = model.ingest(frames)
        if model is not self.model:
            return  # another proxied session: its views catch up when it is shown
        self.voice.session_frames(frames)  # a refused append, the start of a response it asked for
        journal = self.journal
        # Frames worth a notice are rare: their types are checked on the envelopes (a set lookup
        # each), and the journal is read only for a batch that has one or gained fault frames.
        if len(added) != len(frames) or not _TOASTED.isdisjoint(env.type for env in frames):
            for index in added:
                frame = journal[index]
                if frame.type in _TOASTED and frame.direction is not Direction.OUT:
                    self._react_to(index)
        if not self._views_stale:
            self._views_stale = True
            self._stale_since = time.monotonic()
        if refresh:
            self._refresh_views()

    @property
    def views_current(self) -> bool:
        """True when every frame published so far is journaled and shown: nothing waits in a feed and
        no repaint is pending. Tests wait on it instead of sleeping past the views' rate limit."""
        return not self._views_stale and all(subscription.pending == 0 for _, subscription in self._feeds)

    def _streaming_paint_after(self) -> float:
        """When a view's own deferred repaint may run: not before the views' next turn, which a key
        pushes back (KEY_FIRST) so the key's screen update is not also repainting a stream."""
        return self._views_due

    def _refresh_views(self) -> None:
        """Bring every view in line with the current model: one repaint for everything since the last."""
        self._views_stale = False
        self._views_at = time.monotonic()
        changed = self.conversation.take_changes()
        if changed:
            self.transcript.sync(self.conversation.items, self.conversation.order, changed)
        if self.journal.epoch != self._findings_epoch:
            self._show_findings_count()  # a new connection: the findings so far are earlier ones
        if self.facts.take_changes():
            if self.status_line.quiet:
                self._show_quiet()  # a frame came: "server quiet" goes now, not at the next second
            self.status_line.refresh()
            self._update_recorder()
            self.show_proxy_hint()  # a client's connection that failed says why in its empty pane
        self.links.take_changes()
        if self.model.linter is not None:
            self._new_findings(self.model.linter.take_changes())
        self.event_log.frames_added()
        self._update_log_title()
        if self.player is not None and self.player.speed is None:
            self._show_replay_position()  # an at-once load keeps the loop too busy for its timer
        if self.filter_bar.live_status:
            self._filter_status()  # the bar's counts follow the stream, as the pane's corner does

    def _react_to(self, index: int) -> None:
        """Toasts for what a user must not miss (the log shows everything)."""
        frame = self.journal[index]
        # Errors and odd frames fold into one toast past the first on screen (the log has each):
        # a recording with several would otherwise cover the log; a replay's go sooner.
        replay = self.player is not None
        brief = REPLAY_TOAST_SECONDS if replay else 10
        if replay and frame.type in _RECORDED_FACTS:
            return  # the recording machine's devices or refusals: history, which the log shows
        if frame.type == "error":
            data = self.journal.data(index)
            rejected = self.facts.rejections and self.facts.rejections[-1].error_index == index
            said = toast_text(error_summary(data), WHOLE_ERROR)  # a glance: the log has the frame whole
            if rejected and replay:
                # Recorded: as the other errors of a replay (the status line says it was rejected).
                self.say(said, title="session.update rejected", severity="error", timeout=brief, fold=True)
            elif rejected:
                # The whole update was dropped (GA is strict): the status line says so too. Never folded.
                self.say(said, title="session.update rejected", severity="error", timeout=15)
            else:
                self.say(said, title="Server error", severity="error", timeout=brief, fold=True)
        elif frame.type == "rt.malformed":
            message = text(self.journal.data(index).get("message"))
            self.say(message, title="Malformed frame", severity="warning", timeout=min(6, brief), fold=True)
        elif frame.type == "rt.client_error":
            message = text(self.journal.data(index).get("message"))
            self.say(message, title="Unexpected frame", severity="warning", timeout=min(6, brief), fold=True)
        elif frame.type == "rt.capture" and self.journal.data(index).get("state") == "failed":
            # Frames are no longer being saved: the user must know at once, and for a while.
            self.say(
                text(self.journal.data(index).get("message")), title="Capture failed", severity="error", timeout=30
            )
        elif frame.type in ("rt.audio", "rt.capture", "rt.refused", "rt.replay"):
            data = self.journal.data(index)
            if data.get("notify", frame.type != "rt.capture" or data.get("failed", False)):
                self.say(text(data.get("message")), title=frame.type[3:].title(), severity="warning")

    def _update_recorder(self) -> None:
        recorder = self.recorder
        if self.facts.ended:
            # "disconnected, no microphone" says both (a refused session left "× no microphone" alone),
            # and the line's note is then the key that matters (ctrl+r), not the microphone's words again.
            recorder.state = RecorderState.DISCONNECTED
            if recorder.message and recorder.message == self.voice.mic_problem:
                recorder.message = ""
        elif recorder.state is RecorderState.DISCONNECTED and self.facts.state == "open":
            recorder.state = RecorderState.IDLE
            self._say_no_microphone()
        self._follow_server_turns()  # a rejected session.update leaves the server's turn detection

    def ingest_for_display(self, envelopes: Iterable[Envelope]) -> None:
        """Publish envelopes as if a session had received them (screenshots, tests)."""
        for env in envelopes:
            self.bus.publish(FRAMES, env)
        self._pump()
        if self._views_stale:
            self._refresh_views()

    async def action_quit(self) -> None:
        """Quit (stops any reconnect wait)."""
        self._quitting = True
        self.exit()

    def _terminated(self, signum: signal.Signals) -> None:
        """A signal of QUIT_SIGNALS: quit as ctrl+q does (the session closed, the capture flushed and
        closed), with the signal's status."""
        self._quitting = True
        self.exit(return_code=QUIT_SIGNALS[signum])

    async def on_unmount(self) -> None:
        if self.exits_on_signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                for signum in QUIT_SIGNALS:
                    asyncio.get_running_loop().remove_signal_handler(signum)
        self._quitting = True
        release_heap()  # what settle_heap() exempted is collectable again (another app may follow)
        await self.voice_steps.close()
        await self.voice.close()
        if self.session is not None:
            await self.session.close()
        if self.capture is not None:
            self.capture.close()


def run_app(settings: Settings, *, replay: ReplayRequest | None = None, proxy: ProxyRequest | None = None) -> int:
    """Run the app until the user quits; returns the exit status."""
    from tui.app.terminal_input import install_paste_safe_parser
    from tui.audio import silence_native_audio_noise

    silence_native_audio_noise()  # ALSA/JACK chatter on fd 2 would scribble over the screen
    install_paste_safe_parser()  # Textual's parser made keys (Enter, q) of escape sequences in a paste
    app = RtApp(settings, replay=replay, proxy=proxy)
    app.exits_on_signals = True
    app.run()
    said = farewell(app)
    if said is not None and sys.stderr is not None:
        with contextlib.suppress(OSError):  # EIO: the terminal hung up (SIGHUP); the capture is whole
            print(said, file=sys.stderr, flush=True)
    return app.return_code or 0  # 1 after a crash (Textual printed its traceback)


def farewell(app: RtApp) -> str | None:
    """What rt-tui says on stderr once the screen is gone: where this run's frames are (a user
    quit and had to look for the newest folder under the data directory to lint or replay them),
    and which sessions' frames were not all saved, and why (a quit used to be silent about a
    capture that had failed, or named its file as holding every frame)."""
    paths = [capture.path for capture in app.captures if capture.error is None and capture.path.exists()]
    sessions = len(app.captures) + len(app.capture_refusals)
    whose = "the session" if sessions == 1 else f"1 of the {sessions} sessions"
    lines: list[str] = []
    if len(paths) == 1:
        lines.append(f"rt-tui: every frame of {whose} is in {paths[0]} (rt-tui replay or rt-tui lint it)")
    elif paths:
        whose = f"the {len(paths)}" if len(paths) == sessions else f"{len(paths)} of the {sessions}"
        # `rt-tui replay` takes them all at once, in this order, and plays them one after another.
        lines.append(f"rt-tui: every frame of {whose} sessions is in (rt-tui replay them together, or lint each):")
        lines += [f"  {path}" for path in paths]
    lines += [f"rt-tui: {printable(capture.error)}" for capture in app.captures if capture.error is not None]
    # One line per reason, counted: a data directory that cannot be written refuses every session alike.
    refused = Counter(app.capture_refusals)
    for reason, n in refused.items():
        those = "a session's" if n == 1 else f"{n} sessions'"
        lines.append(f"rt-tui: {those} frames were not saved: {printable(reason)}")
    return "\n".join(lines) or None


__all__ = ["RtApp", "farewell", "run_app"]
