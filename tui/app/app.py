"""RtApp: the composition root. Builds the bus, the session, the pipeline and the views.

Data flow: a source (the websocket session; later a replay or a proxied connection) publishes
every frame on the bus. A pump running at a fixed cadence drains them in batches into the
pipeline: the journal appends each frame once, then the projections (conversation, session facts,
error ↔ cause links) apply it. The views render from the journal and the projections and keep no
protocol state of their own. The reader never waits on the UI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.bus import Bus, Mode, Subscription, Topic
from tui.config import Settings
from tui.conversation import Conversation
from tui.journal import Family, Finder, Journal, Links, LogView, Pipeline, Query, QueryError, SessionFacts
from tui.launch import open_target, session_options
from tui.lint import Finding, Severity
from tui.model import SessionModel, new_model
from tui.protocol import Direction, Envelope, error_summary, local_envelope, session_update, text
from tui.replay import ReplayPlayer, ReplayRequest

if TYPE_CHECKING:
    from tui.proxy import ProxyConnection, Sink
    from tui.proxy_cmd import ProxyRequest
from tui.session import FRAMES, CaptureWriter, ConnectionFailed, RealtimeSession, TargetError, new_session_dir
from tui.widgets import EventDetail, EventLog, Recorder, RecorderState, StatusLine, Transcript
from tui.widgets.query_bar import FamilyToggles, FilterBar, FindBar, QueryBar

from .files import output_folder, write_private
from .reconnect import RetryPolicy
from .voice import MIC_LEVEL, TurnMode, VoiceController, VoiceError

PALETTE: list[tuple[str, str, str]] = [
    ("recorder: talk / send", "Start or end a push-to-talk turn (space)", "action_talk"),
    ("recorder: hands-free on/off", "Let server VAD end your turns (v)", "action_hands_free"),
    ("message: type", "Focus the message input (t)", "action_focus_input"),
    ("session: reconnect", "Open a new session, keeping the transcript (ctrl+r)", "action_reconnect"),
    ("log: filter", "Show only frames that match a query (f)", "action_filter"),
    ("log: clear filter", "Show every frame again", "clear_filter"),
    ("log: find", "Find a word or /regex/ in the frames (/)", "action_find"),
    ("log: find next", "The next match (n)", "event_log.action_find_next"),
    ("log: find previous", "The previous match (N)", "event_log.action_find_previous"),
    ("log: follow", "Follow new frames (end)", "event_log.action_tail"),
    ("log: clear", "Clear the log view; the journal keeps every frame (ctrl+l)", "action_clear_log"),
    ("log: export", "Write the shown frames as JSONL (e)", "action_export"),
    ("log: details", "Details of the selected frame or run (d)", "event_log.action_details"),
    ("log: cause ↔ error", "Jump between an error and the frame that caused it (c)", "event_log.action_cause"),
    ("log: copy frame", "Copy the selected frame (y)", "event_log.action_copy"),
    ("log: transcript row", "Go to the selected frame's transcript row (o)", "event_log.action_transcript"),
    ("transcript: its frames", "Show only the selected row's frames in the log (o)", "transcript.action_frames"),
    ("transcript: copy as Markdown", "Copy the whole conversation", "copy_transcript"),
    ("transcript: export Markdown", "Save the conversation as Markdown", "export_transcript_markdown"),
    ("transcript: export JSON", "Save the conversation as JSON", "export_transcript_json"),
    ("view: zoom pane", "Give the focused pane the whole screen (z)", "action_zoom"),
    ("lint: findings", "What the linter found, and the fix for each (!)", "action_findings"),
]
"""The command palette: (title, help, the method it runs). Every action of the app is here."""

MAX_FINDING_NOTICES = 3
"""Error findings announced with a notice per session (the findings view holds them all)."""

PUMP_HZ = 30
"""How often bus traffic is moved into the pipeline and the views: one refresh per batch."""


class RtApp(App[None]):
    """rt-tui: talk to a Realtime server and watch every frame."""

    CSS_PATH = "app.tcss"
    TITLE = "rt-tui"
    BINDINGS = [
        Binding("space", "talk", "Talk", id="talk"),
        Binding("v", "hands_free", "Hands-free", id="hands-free"),
        Binding("t", "focus_input", "Type", id="type"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("slash", "find", "Find", id="find"),
        Binding("exclamation_mark", "findings", "Findings", id="findings"),
        Binding("e", "export", "Export", id="export", show=False),
        Binding("z", "zoom", "Zoom pane", id="zoom", show=False),
        Binding("escape", "leave_input", "Leave input", show=False, id="leave-input"),
        Binding("ctrl+l", "clear_log", "Clear log", id="clear-log", show=False),
        Binding("ctrl+r", "reconnect", "Reconnect", id="reconnect", show=False),
        Binding("p", "replay_pause", "Pause", id="replay-pause"),
        Binding("right_square_bracket", "replay_speed(2)", "Faster", id="replay-faster"),
        Binding("left_square_bracket", "replay_speed(0.5)", "Slower", id="replay-slower", show=False),
        Binding("less_than_sign", "switch_session(-1)", "Previous session", id="session-previous", show=False),
        Binding("greater_than_sign", "switch_session(1)", "Next session", id="session-next"),
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
        label = replay.recording.path.name if replay is not None else ""
        self.model = new_model(label)
        self.models: list[SessionModel] = [self.model]
        """Every session this app shows (the proxy adds one per client connection)."""
        self._feeds: list[tuple[SessionModel, Subscription[Envelope]]] = [
            (self.model, self.bus.subscribe(FRAMES, Mode.LOSSLESS))
        ]
        self.session: RealtimeSession | None = None
        self.capture: CaptureWriter | None = None
        self.player: ReplayPlayer | None = None
        self.voice = VoiceController(
            self.bus, playback=self.settings.playback, active_response=lambda: self.model.facts.active_response
        )
        self._level = self.bus.subscribe(MIC_LEVEL, Mode.LATEST)
        self.started_at = time.monotonic()
        self.first_paint_at: float | None = None
        self.last_filter_seconds = 0.0
        self._busy = False
        self._user_filter = ""
        self._retry = RetryPolicy()
        self._quitting = False
        self._target_url = ""
        self._error_notices = 0

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

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The pump updates these 30 times a second: keep direct references rather than querying the DOM
        # (which also fails once the screen is gone during shutdown, while a last tick may still run).
        self.status_line = StatusLine(self.facts, id="status")
        self.transcript = Transcript(id="transcript")
        self.transcript.border_title = "Transcript"
        self.event_log = EventLog(self.log_view, id="event-log")
        self.filter_bar = FilterBar(self.journal, id="filter-bar")
        self.find_bar = FindBar(self.journal, id="find-bar")
        self.recorder = Recorder(id="recorder")
        yield self.status_line
        with Horizontal(id="panes"):
            yield self.transcript
            with Vertical(id="log-pane"):
                yield self.filter_bar
                yield self.find_bar
                yield self.event_log
        with Vertical(id="bottom"):
            yield self.recorder
            yield Input(placeholder="t: type a message · Enter sends · Esc leaves", id="message", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._update_log_title()
        self.set_interval(1 / PUMP_HZ, self._pump)
        self.event_log.focus()
        self.call_after_refresh(self._painted)
        if self.replay is not None:
            self.start_replay(self.replay)
        elif self.proxy is not None:
            self.run_proxy(self.proxy)
        elif self.connect_on_mount:
            self.run_session()

    # -- replay -----------------------------------------------------------------------------

    def start_replay(self, request: ReplayRequest) -> None:
        """Play a recording into the views; nothing connects anywhere."""
        from tui.session.scrub import Scrubber

        recording = request.recording
        if recording.kind == "capture":
            self.journal.capture_path = str(recording.path)  # payloads dropped from memory are read back
        scrub = Scrubber(tuple(recording.secrets))
        envelopes = [scrub.envelope(env) for env in recording.envelopes] if recording.secrets else recording.envelopes
        self.player = ReplayPlayer(envelopes, self.bus, FRAMES, speed=request.speed)
        self.run_worker(self._play(self.player), name="replay", group="replay", exit_on_error=False)
        self.set_interval(0.5, self._show_replay_position)
        self._show_replay_position()

    async def _play(self, player: ReplayPlayer) -> None:
        await player.run()
        self._show_replay_position()

    def _show_replay_position(self) -> None:
        player = self.player
        if player is None:
            return
        speed = "at once" if player.speed is None else f"×{player.speed:g}"
        state = "⏸ paused" if player.paused else ("done" if player.done.is_set() else "playing")
        self.status_line.state_override = (
            f"replay {_clock(player.played_seconds)} / {_clock(player.recorded_seconds)} {speed} · {state}"
        )
        self.status_line.refresh()

    def action_replay_pause(self) -> None:
        """Pause or resume the replay."""
        if self.player is not None:
            self.player.toggle()
            self._show_replay_position()

    def action_replay_speed(self, factor: float) -> None:
        """Play faster or slower (from at-once playback, start timed playback at real time)."""
        if self.player is None:
            return
        current = self.player.speed or 1.0
        self.player.speed = max(0.25, min(64.0, current * factor))
        self._show_replay_position()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replays and the proxy have no voice keys; each mode shows its own (the footer follows)."""
        if action in ("talk", "hands_free", "focus_input", "reconnect"):
            return self.replay is None and self.proxy is None
        if action in ("replay_pause", "replay_speed"):
            return self.replay is not None
        if action == "switch_session":
            return len(self.models) > 1
        return True

    # -- proxy ------------------------------------------------------------------------------

    @work(exclusive=True, group="proxy", exit_on_error=False, description="proxy")
    async def run_proxy(self, request: ProxyRequest) -> None:
        """Relay your own client's connections; each one becomes a session of its own here."""
        from tui.proxy import ProxyServer
        from tui.proxy_cmd import proxy_target

        try:
            async with proxy_target(self.settings) as target:
                server = ProxyServer(
                    target,
                    host=request.host,
                    port=request.port,
                    on_connection=self._proxied_connection,
                    capture=self.settings.capture,
                    max_frame_bytes=self.settings.max_frame_bytes,
                )
                async with server:
                    self.proxy_url = server.url
                    self.model.label = f"waiting for a client on {server.url}"
                    self._show_proxy_state()
                    self.say(f"point your client at {server.url} (relayed to {target.label})", title="Proxy")
                    await asyncio.Event().wait()
        except OSError as exc:
            self._session_failed(
                f"proxy cannot listen on {request.host}:{request.port}: {exc.strerror or exc}", "Proxy"
            )
        except ValueError as exc:
            self._session_failed(str(exc), "Proxy")

    def _proxied_connection(self, connection: ProxyConnection) -> Sink:
        """A new client connection: a model and a bus topic of its own; shown if nothing else is."""
        topic: Topic[Envelope] = Topic(f"proxy:{connection.number}")
        if len(self.journal) == 0 and len(self.models) == 1:
            model = self.model  # the placeholder shown while waiting: this connection takes it
            model.label = connection.label
            self._feeds = []
        else:
            model = new_model(connection.label)
            self.models.append(model)
        self._feeds.append((model, self.bus.subscribe(topic, Mode.LOSSLESS)))
        self._show_proxy_state()
        bus = self.bus
        return lambda env: bus.publish(topic, env)

    def _show_proxy_state(self) -> None:
        position = self.models.index(self.model) + 1
        sessions = f" · session {position}/{len(self.models)} (< >)" if len(self.models) > 1 else ""
        self.status_line.state_override = f"proxy {self.proxy_url}{sessions}"
        self.status_line.refresh()
        self.refresh_bindings()

    def action_switch_session(self, delta: int) -> None:
        """Show the previous or next proxied session."""
        position = (self.models.index(self.model) + delta) % len(self.models)
        self.switch_to(self.models[position])

    def switch_to(self, model: SessionModel) -> None:
        """Render another session's model in every view."""
        if model is self.model:
            return
        self.model = model
        self.filter_bar.journal = self.find_bar.journal = model.journal
        self.status_line.show(model.facts)
        self._show_findings_count()
        self.event_log.attach(model.log_view)
        self.transcript.reset()
        self.transcript.sync(model.conversation.ordered(), set(model.conversation.items))
        self._update_log_title()
        if self.proxy is not None:
            self._show_proxy_state()

    def on_resize(self) -> None:
        # Below 100 columns the panes stack: side by side, neither would be readable.
        self.screen.set_class(self.size.width < 100, "-narrow")

    def _painted(self) -> None:
        self.first_paint_at = time.monotonic()
        if self.replay is None:
            # After the first paint, never before it: the screen does not wait for PortAudio.
            self.run_worker(self.voice.prepare(), name="prepare-audio", exit_on_error=False)

    # -- telling the user -------------------------------------------------------------------

    def say(self, message: str, *, title: str = "", severity: str = "information", timeout: float = 6) -> None:
        """A notification whose text is shown as written: server text is never read as markup."""
        level = severity if severity in ("information", "warning", "error") else "information"
        self.notify(message, title=title, severity=level, timeout=timeout, markup=False)  # type: ignore[arg-type]

    # -- session ----------------------------------------------------------------------------

    @work(exclusive=True, group="session", exit_on_error=False, description="Realtime session")
    async def run_session(self) -> None:
        """Connect, configure the session, live until it closes; reconnect on its own after a drop."""
        while True:
            retry = await self._one_session()
            if not retry or self._quitting or not self.settings.reconnect:
                return
            if not await self._wait_for_server():
                return
            self.bus.publish(FRAMES, local_envelope("rt.reconnect", "the server is back: reconnecting"))

    async def _one_session(self) -> bool:
        """One connection, start to end; True when it ended in a way worth retrying."""
        # Locals, not self.session/self.capture: a reconnect may replace those while this one ends.
        session: RealtimeSession | None = None
        capture: CaptureWriter | None = None
        try:
            async with open_target(self.settings) as target:
                capture = self.capture = self._open_capture(target.secrets)
                session = RealtimeSession(
                    target, self.bus, capture=capture, max_frame_bytes=self.settings.max_frame_bytes
                )
                self.session = self.voice.session = session
                if target.kind == "simulator":
                    self._warm_up_simulator()
                self._target_url = target.url
                try:
                    await session.connect()
                except ConnectionFailed as exc:
                    self.say(str(exc), title="Connection failed", severity="error", timeout=30)
                    return self._retry.worth_retrying(str(exc), None)
                self._retry.connected()
                self.send_session_update(session_update(session_options(self.settings)))
                self.voice.start_playback()
                await session.wait_closed()
                if session.close_reason:
                    self.say(session.close_reason, title="Disconnected", severity="error", timeout=30)
                    return self._retry.worth_retrying(session.close_reason, session.close_code)
                return False
        except TargetError as exc:
            self._session_failed(str(exc), "No target")
        except Exception as exc:  # noqa: BLE001 - e.g. the simulator could not start: say so, keep the app
            self._session_failed(f"{type(exc).__name__}: {exc}", "Session failed")
        finally:
            if session is not None:
                await session.close()
            if capture is not None:
                capture.close()
            await self.voice.stop_turns()
            self.recorder.mode = "push-to-talk"
        return False

    async def _wait_for_server(self) -> bool:
        """Probe the server's port until it accepts again (quietly, no new session per try)."""
        parts = urlsplit(getattr(self, "_target_url", ""))
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        for delay in self._retry.delays():
            self.status_line.state_override = f"reconnecting in {delay:.1f} s"
            self.status_line.refresh()
            await asyncio.sleep(delay)
            if self._quitting:
                return False
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=2)
            except (OSError, TimeoutError):
                continue
            writer.close()
            self.status_line.state_override = ""
            return True
        self.status_line.state_override = ""
        self.say("the server did not come back: ctrl+r to try again", title="Reconnect", severity="warning")
        return False

    def _open_capture(self, secrets: tuple[str, ...]) -> CaptureWriter | None:
        """The capture file for a new session, or None (with a note) when it cannot be written."""
        if not self.settings.capture:
            return None
        try:
            capture = CaptureWriter(new_session_dir(), secrets)
        except OSError as exc:
            self.bus.publish(FRAMES, local_envelope("rt.capture", f"no capture file: {exc}"))
            self.say(f"frames will not be saved: {exc}", title="Capture", severity="warning")
            return None
        self.journal.capture_path = str(capture.path)
        self.bus.publish(FRAMES, local_envelope("rt.capture", f"capturing every frame to {capture.path}"))
        return capture

    def _session_failed(self, message: str, title: str) -> None:
        self.bus.publish(FRAMES, local_envelope("rt.connection", message, state="failed"))
        self.say(message, title=title, severity="error", timeout=30)

    def action_reconnect(self) -> None:
        """Open a new session (after a disconnect or a failed connection); the transcript is kept."""
        if self.session is not None and self.session.is_open:
            self.say("already connected")
            return
        self.bus.publish(FRAMES, local_envelope("rt.reconnect", "reconnecting: a new session starts"))
        self.run_session()

    def _warm_up_simulator(self) -> None:
        """Load the simulator's speech models in a thread now, so the first turn does not wait."""
        from tui.server import warm_up

        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False, description="load models")

    # -- the pump ---------------------------------------------------------------------------

    def _pump(self) -> None:
        for model, subscription in self._feeds:
            frames = subscription.drain()
            if frames:
                self.ingest(frames, model)
        level = self._level.get_nowait()
        if level is not None:
            self.recorder.level = level

    def ingest(self, frames: list[Envelope], model: SessionModel | None = None) -> None:
        """Journal a batch into `model` (the current one by default); refresh the views once if shown."""
        model = model or self.model
        added = model.ingest(frames)
        while model.conversation.bad_frames:
            message = model.conversation.bad_frames.pop(0)
            model.ingest([local_envelope("rt.client_error", message)])
        if model is not self.model:
            return  # another proxied session: its views catch up when it is shown
        for index in added:
            if self.journal[index].direction is not Direction.OUT:
                self._react_to(index)
        changed = self.conversation.take_changes()
        if changed:
            self.transcript.sync(self.conversation.ordered(), changed)
        if self.facts.take_changes():
            self.status_line.refresh()
            self._update_recorder()
        self.links.take_changes()
        if model.linter is not None:
            self._new_findings(model.linter.take_changes())
        self.event_log.frames_added()
        self._update_log_title()

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
                self.say(finding.message, title=f"Lint: {finding.rule}", severity="error", timeout=20)

    def _show_findings_count(self) -> None:
        linter = self.model.linter
        counts = linter.summary() if linter is not None else {}
        if any(counts.values()):
            parts = [
                f"{mark}{counts.get(severity, 0)}"
                for severity, mark in ((Severity.ERROR, "✖"), (Severity.WARNING, "▲"))
            ]
            self.status_line.findings_note = " ".join(parts) + " (!)"
        else:
            self.status_line.findings_note = ""
        self.status_line.refresh()

    def action_findings(self) -> None:
        """Show what the linter found; Enter goes to the finding's frame in the log."""
        from tui.widgets.findings import FindingsView

        linter = self.model.linter
        findings = list(linter.findings) if linter is not None else []

        def chosen(index: int | None) -> None:
            if index is not None and not self.event_log.select_frame(index):
                self.say(f"frame #{self.journal[index].seq} is hidden by the filter")
            self.event_log.focus()

        self.push_screen(FindingsView(findings, self.journal), chosen)

    def _react_to(self, index: int) -> None:
        """Toasts for what a user must not miss (the log shows everything)."""
        frame = self.journal[index]
        if frame.type == "error":
            data = self.journal.data(index)
            rejected = self.facts.rejections and self.facts.rejections[-1].error_index == index
            if rejected:
                # The whole update was dropped (GA is strict): the status line says so too.
                self.say(error_summary(data), title="session.update rejected", severity="error", timeout=30)
            else:
                self.say(error_summary(data), title="Server error", severity="error", timeout=10)
        elif frame.type == "rt.malformed":
            self.say(text(self.journal.data(index).get("message")), title="Malformed frame", severity="warning")
        elif frame.type == "rt.client_error":
            self.say(text(self.journal.data(index).get("message")), title="Unexpected frame", severity="warning")
        elif frame.type == "rt.capture" and self.journal.data(index).get("state") == "failed":
            # Frames are no longer being saved: the user must know at once, and for a while.
            self.say(
                text(self.journal.data(index).get("message")), title="Capture failed", severity="error", timeout=30
            )
        elif frame.type in ("rt.audio", "rt.capture", "rt.refused"):
            data = self.journal.data(index)
            if data.get("notify", frame.type != "rt.capture" or data.get("failed", False)):
                self.say(text(data.get("message")), title=frame.type[3:].title(), severity="warning")

    def _update_recorder(self) -> None:
        recorder = self.recorder
        if self.facts.ended:
            if recorder.state is not RecorderState.UNAVAILABLE:
                recorder.state = RecorderState.DISCONNECTED
        elif recorder.state is RecorderState.DISCONNECTED and self.facts.state == "open":
            recorder.state = RecorderState.IDLE

    def send_session_update(self, event: dict[str, Any]) -> None:
        """Send a `session.update` (the session-facts projection sees it and any rejection)."""
        if self.session is not None and self.session.is_open:
            self.session.send(event)

    def ingest_for_display(self, envelopes: Iterable[Envelope]) -> None:
        """Publish envelopes as if a session had received them (screenshots, tests)."""
        for env in envelopes:
            self.bus.publish(FRAMES, env)
        self._pump()

    @property
    def session_updates(self) -> int:
        """`session.updated` frames received in this connection."""
        return self.facts.updates_applied

    # -- actions: voice ---------------------------------------------------------------------

    async def action_talk(self) -> None:
        """Start a push-to-talk turn, or end it: commit, then ask for a response."""
        if self._busy:
            return
        recorder = self.recorder
        if self.voice.mode is TurnMode.HANDS_FREE:
            self.say("hands-free is on: just speak (v switches back to push-to-talk)")
            return
        self._busy = True
        try:
            if not self.voice.recording:
                await self.voice.start_turn()
                recorder.message = ""
                recorder.state = RecorderState.RECORDING
            else:
                recorder.state = RecorderState.SENDING
                sent_ms = await self.voice.finish_turn()
                recorder.message = f"sent {sent_ms / 1000:.1f} s"
                recorder.state = RecorderState.IDLE
        except VoiceError as exc:
            self._voice_failed(str(exc))
        except Exception as exc:  # noqa: BLE001 - a device or socket surprise must not end the app
            self._voice_failed(f"{type(exc).__name__}: {exc}")
        finally:
            self._busy = False

    async def action_hands_free(self) -> None:
        """Toggle hands-free: server VAD decides when you have finished speaking."""
        if self._busy:
            return
        recorder = self.recorder
        self._busy = True
        try:
            if self.voice.mode is TurnMode.PUSH_TO_TALK:
                if self.voice.recording:
                    await self.voice.finish_turn()
                update = session_update(session_options(self.settings, turn_detection="server_vad"))
                await self.voice.start_hands_free(update)
                recorder.mode = "hands-free"
                recorder.state = RecorderState.LISTENING
            else:
                update = session_update(session_options(self.settings))
                await self.voice.stop_hands_free(update)
                recorder.mode = "push-to-talk"
                recorder.state = RecorderState.IDLE
        except VoiceError as exc:
            self._voice_failed(str(exc))
        except Exception as exc:  # noqa: BLE001 - a device or socket surprise must not end the app
            self._voice_failed(f"{type(exc).__name__}: {exc}")
        finally:
            self._busy = False

    def _voice_failed(self, message: str) -> None:
        recorder = self.recorder
        recorder.message = message
        if "unavailable" in message:
            recorder.state = RecorderState.UNAVAILABLE
        elif self.facts.ended or "not connected" in message:
            recorder.state = RecorderState.DISCONNECTED
        else:
            recorder.state = RecorderState.IDLE
        self.say(message, title="Recorder", severity="warning")

    @on(Input.Submitted, "#message")
    def send_text(self, event: Input.Submitted) -> None:
        """Send the typed text as a user message and ask for a response."""
        said = event.value.strip()
        if not said:
            return
        if self.session is None or not self.session.is_open:
            self.say("not connected: the message was not sent", severity="warning")
            return
        self.voice.interrupt_playback()
        self.session.send(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": said}]},
            }
        )
        self.session.send({"type": "response.create"})
        event.input.value = ""

    def action_focus_input(self) -> None:
        """Move the focus to the message input (space then types spaces)."""
        self.query_one("#message", Input).focus()

    def action_leave_input(self) -> None:
        """Leave an input or a zoomed pane: back to the event log, so space talks again."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        self.event_log.focus()

    def action_zoom(self) -> None:
        """Give the focused pane the whole screen (again: back to both panes)."""
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        target = self.transcript if self.transcript.has_focus else self.query_one("#log-pane")
        self.screen.maximize(target, container=False)

    # -- actions: the log -------------------------------------------------------------------

    def action_clear_log(self) -> None:
        """Clear the event-log view (the journal and the capture file keep everything)."""
        self.log_view.clear()
        self.event_log.rebuilt()
        self._update_log_title()

    def action_filter(self) -> None:
        """Open the filter bar."""
        self.filter_bar.open()

    def action_find(self) -> None:
        """Open the find bar."""
        self.find_bar.open()

    @on(QueryBar.Submitted, "#filter-bar")
    def _filter_submitted(self, event: QueryBar.Submitted) -> None:
        self.apply_filter(event.text)
        self.event_log.focus()

    @on(QueryBar.Submitted, "#find-bar")
    def _find_submitted(self, event: QueryBar.Submitted) -> None:
        if not event.text:
            self.find_bar.active = ""
            self.event_log.set_finder(None)
            self.find_bar.close()
            self.event_log.focus()
            return
        finder = Finder(event.text)
        self.find_bar.active = event.text
        self.event_log.set_finder(finder)
        found = self.event_log.find()
        count = finder.count(self.log_view)
        if found is None:
            self.find_bar.set_status(f"{event.text!r} is not in the {self.log_view.shown:,} frames shown", error=True)
        else:
            self.find_bar.set_status(f"{count:,} matching frames · n next · N previous · Esc leaves")
        self.event_log.focus()

    @on(QueryBar.Left)
    def _bar_left(self, event: QueryBar.Left) -> None:
        event.bar.close()
        self.event_log.focus()

    @on(FamilyToggles.Toggled)
    def _family_toggled(self, event: FamilyToggles.Toggled) -> None:
        self.toggle_family(event.family)

    def toggle_family(self, family: Family) -> None:
        """Hide or show one family of frames."""
        hidden = self.filter_bar.hidden_families
        hidden.symmetric_difference_update({family})
        self.filter_bar.show_families()
        self.apply_filter(self._user_filter)

    def apply_filter(self, text: str) -> bool:
        """Show only frames that pass `text` (and the family toggles); False for a malformed query."""
        hidden = sorted(family.value for family in self.filter_bar.hidden_families)
        families = [f"-family:{name}" for name in hidden]
        combined = " ".join(filter(None, [f"({text})" if text and families else text, *families]))
        try:
            query = Query(combined, self.journal, self.links)
        except QueryError as exc:
            self.filter_bar.set_status(str(exc), error=True)
            return False
        started = time.perf_counter()
        self.log_view.set_query(query)
        self.last_filter_seconds = time.perf_counter() - started
        self._user_filter = text
        self.filter_bar.active = combined
        if combined:
            self.filter_bar.add_class("-shown")
            self.filter_bar.set_status(
                f"{self.log_view.shown:,} of {self.log_view.in_range:,} frames · Enter on an empty filter clears it"
            )
        else:
            self.filter_bar.close()
        self.event_log.rebuilt()
        self._update_log_title()
        return True

    def clear_filter(self) -> None:
        """Show every frame again (the family toggles included)."""
        self.filter_bar.hidden_families.clear()
        self.filter_bar.show_families()
        self.apply_filter("")

    def _update_log_title(self) -> None:
        title = "Events ▲ sent ▼ received ● local"
        if self.filter_bar.active:
            title = f"Events · filter: {self.filter_bar.active}"
        self.event_log.border_title = Text(title)  # the filter is user text: never markup

    @on(EventLog.Details)
    def show_detail(self, event: EventLog.Details) -> None:
        """Open the details of frames (one, or a whole run)."""

        def jumped(index: int | None) -> None:
            if index is not None and not self.event_log.select_frame(index):
                self.say(f"frame #{self.journal[index].seq} is hidden by the filter")

        self.push_screen(EventDetail(self.journal, self.links, event.indices, self.recover_payload), jumped)

    def recover_payload(self, index: int) -> str | None:
        """A dropped frame's wire text, read back from the capture file."""
        from tui.journal.export import recover_payloads

        frame = self.journal[index]
        path = self.journal.capture_path
        if path is None:
            return None
        return recover_payloads(Path(path), {frame.seq}).get(frame.seq)

    @on(EventLog.Notice)
    def _log_notice(self, event: EventLog.Notice) -> None:
        self.say(event.text)

    @on(EventLog.ShowItem)
    def _show_item(self, event: EventLog.ShowItem) -> None:
        if self.transcript.select_item(event.item_id):
            self.transcript.focus()
        else:
            self.say(f"{event.item_id} has no row in the transcript")

    @on(Transcript.ShowFrames)
    def _show_frames(self, event: Transcript.ShowFrames) -> None:
        item = self.conversation.items.get(event.item_id)
        query = f"item:{event.item_id}"
        if item is not None and item.response_id:
            query += f" | response:{item.response_id}"
        self.filter_bar.add_class("-shown")
        self.apply_filter(query)
        self.event_log.focus()

    @on(EventLog.CopyFrame)
    def _copy_frame(self, event: EventLog.CopyFrame) -> None:
        detail = EventDetail(self.journal, self.links, [event.index], self.recover_payload)
        self.keep_text(detail.frames_json(), detail.file_name(), copy=True)

    @on(EventDetail.Export)
    def _detail_export(self, event: EventDetail.Export) -> None:
        self.keep_text(event.text, event.name, copy=event.copy)

    def keep_text(self, text: str, name: str, *, copy: bool) -> Path | None:
        """Copy `text` to the clipboard (OSC 52) and/or save it to a file; say where it went."""
        folder = self.capture.folder if self.capture is not None else None
        try:
            path = write_private(output_folder(folder), name, text)
        except OSError as exc:
            self.say(f"could not save {name}: {exc}", severity="error")
            path = None
        if copy:
            self.copy_to_clipboard(text)
            where = f"; also saved to {path}" if path is not None else ""
            self.say(f"copied {len(text):,} characters (OSC 52: your terminal must allow it){where}", title="Copy")
        elif path is not None:
            self.say(f"saved to {path}", title="Save")
        return path

    async def action_export(self) -> None:
        """Export the frames the log shows as JSONL (audio kept, or replaced by a size tag)."""
        from tui.widgets.export_dialog import ExportDialog, ExportRequest

        folder = output_folder(self.capture.folder if self.capture is not None else None)
        default = folder / f"export-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"

        def chosen(request: ExportRequest | None) -> None:
            if request is not None:
                self.export_frames(Path(request.path), keep_audio=request.keep_audio)

        self.push_screen(ExportDialog(self.log_view.shown, self.filter_bar.active, str(default)), chosen)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, description="export frames")
    def export_frames(self, path: Path, *, keep_audio: bool) -> None:
        """Write the shown frames to `path` (off the UI thread: an hour of audio is hundreds of MB)."""
        from tui.journal.export import ExportError, export_jsonl

        indices = list(self.log_view.indices)
        try:
            written = export_jsonl(self.journal, indices, path, keep_audio=keep_audio)
        except (OSError, ExportError) as exc:
            self.call_from_thread(self.say, f"export failed: {exc}", title="Export", severity="error")
            return
        self.call_from_thread(self.say, f"{written:,} frames written to {path}", title="Export")

    # -- the command palette, screenshots, shutdown -----------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action of the app, beside Textual's own."""
        for command in super().get_system_commands(screen):
            if command.title.lower() != "screenshot":
                yield command
        yield SystemCommand("Screenshot", "Save an SVG screenshot in the session folder", self.action_save_screenshot)
        for title, help_text, target in PALETTE:
            action = target.rsplit(".", 1)[-1].removeprefix("action_")
            if self.check_action(action, ()) is not False:
                yield SystemCommand(title, help_text, self._resolve(target))
        if len(self.models) > 1:
            yield SystemCommand(
                "session: next", "Show the next proxied session (>)", partial(self.action_switch_session, 1)
            )
            yield SystemCommand(
                "session: previous", "Show the previous proxied session (<)", partial(self.action_switch_session, -1)
            )
        if self.replay is not None:
            yield SystemCommand("replay: pause / resume", "Stop or go on (p)", self.action_replay_pause)
            yield SystemCommand("replay: faster", "Twice as fast (])", partial(self.action_replay_speed, 2))
            yield SystemCommand("replay: slower", "Half as fast ([)", partial(self.action_replay_speed, 0.5))
        for family in Family:
            verb = "show" if family in self.filter_bar.hidden_families else "hide"
            yield SystemCommand(
                f"log: {verb} {family.value} frames",
                f"Toggle the {family.value} family",
                partial(self.toggle_family, family),
            )

    def _resolve(self, target: str) -> Callable[[], Any]:
        """`"event_log.action_tail"` → that bound method."""
        obj: Any = self
        for name in target.split("."):
            obj = getattr(obj, name)
        return cast(Callable[[], Any], obj)

    def copy_transcript(self) -> None:
        """Copy the conversation as Markdown (and save it beside the capture)."""
        from tui.conversation.export import to_markdown

        self.keep_text(to_markdown(self.conversation.ordered()), f"transcript-{time.strftime('%H%M%S')}.md", copy=True)

    def export_transcript_markdown(self) -> None:
        """Save the conversation as Markdown."""
        from tui.conversation.export import to_markdown

        self.keep_text(to_markdown(self.conversation.ordered()), f"transcript-{time.strftime('%H%M%S')}.md", copy=False)

    def export_transcript_json(self) -> None:
        """Save the conversation as JSON (role, time, text, transcript status)."""
        from tui.conversation.export import to_json

        self.keep_text(to_json(self.conversation.ordered()), f"transcript-{time.strftime('%H%M%S')}.json", copy=False)

    def action_save_screenshot(self) -> None:
        """Save an SVG screenshot in the session folder (no Downloads folder needed)."""
        folder = output_folder(self.capture.folder if self.capture is not None else None)
        try:
            path = self.save_screenshot(path=str(folder))
        except OSError as exc:
            self.say(f"screenshot not saved: {exc}", severity="error")
            return
        self.say(f"screenshot saved to {path}", title="Screenshot")

    async def action_quit(self) -> None:
        """Quit (stops any reconnect wait)."""
        self._quitting = True
        self.exit()

    async def on_unmount(self) -> None:
        self._quitting = True
        await self.voice.close()
        if self.session is not None:
            await self.session.close()
        if self.capture is not None:
            self.capture.close()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def describe_session(session: dict[str, Any]) -> str:
    """What the server says the session does: who ends turns, and whether input is transcribed."""
    facts = SessionFacts(applied=session, state="open")
    return facts.describe()


def run_app(settings: Settings, *, replay: ReplayRequest | None = None, proxy: ProxyRequest | None = None) -> int:
    """Run the app until the user quits; returns the exit status."""
    from tui.audio import silence_native_audio_noise

    silence_native_audio_noise()  # ALSA/JACK chatter on fd 2 would scribble over the screen
    RtApp(settings, replay=replay, proxy=proxy).run()
    return 0


__all__ = ["RtApp", "describe_session", "run_app"]
