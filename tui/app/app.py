"""RtApp: the composition root. Builds the bus, the session, the voice controller and the views.

Data flow: the session's reader publishes every frame on the bus; a pump running at a fixed
cadence drains the subscriptions in batches into the conversation reducer and the widgets, so a
burst of frames costs one refresh, and the reader never waits on the UI.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.bus import Bus, Mode
from tui.config import Settings
from tui.conversation import Conversation
from tui.launch import open_target, session_options
from tui.protocol import (
    Direction,
    Envelope,
    error_summary,
    field,
    local_envelope,
    session_update,
    text,
    transcription_config,
    turn_detection_config,
)
from tui.session import (
    FRAMES,
    CaptureWriter,
    ConnectionFailed,
    RealtimeSession,
    TargetError,
    new_session_dir,
)
from tui.widgets import EventDetail, EventLog, Recorder, RecorderState, StatusLine, Transcript

from .voice import MIC_LEVEL, TurnMode, VoiceController, VoiceError

PUMP_HZ = 30
"""How often bus traffic is flushed into the widgets: smooth to the eye, one refresh per batch."""

LOG_RING = 20_000
"""Envelopes the event-log subscription holds between two pump ticks before it drops the oldest."""


class RtApp(App[None]):
    """rt-tui: talk to a Realtime server and watch every frame."""

    CSS_PATH = "app.tcss"
    TITLE = "rt-tui"
    BINDINGS = [
        Binding("space", "talk", "Talk / send", id="talk"),
        Binding("v", "hands_free", "Hands-free", id="hands-free"),
        Binding("slash", "focus_input", "Type", id="type"),
        Binding("escape", "leave_input", "Leave input", show=False, id="leave-input"),
        Binding("ctrl+l", "clear_log", "Clear log", id="clear-log"),
        Binding("ctrl+r", "reconnect", "Reconnect", id="reconnect"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, settings: Settings | None = None, *, connect: bool = True) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.connect_on_mount = connect
        self.bus = Bus()
        self.conversation = Conversation()
        self.session: RealtimeSession | None = None
        self.capture: CaptureWriter | None = None
        self.voice = VoiceController(self.bus, playback=self.settings.playback)
        self._conv_sub = self.bus.subscribe(FRAMES, Mode.LOSSLESS)
        self._log_sub = self.bus.subscribe(FRAMES, Mode.LOSSY, maxlen=LOG_RING)
        self._level_sub = self.bus.subscribe(MIC_LEVEL, Mode.LATEST)
        self.started_at = time.monotonic()
        self.first_paint_at: float | None = None
        self._busy = False
        self.session_updates = 0
        self.config_event_ids: set[str] = set()
        """event_ids of our session.update frames, to recognise an `error` that rejects one."""
        """`session.updated` frames received: the first one means our configuration took."""

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The pump updates these 30 times a second: keep direct references rather than querying the DOM
        # (which also fails once the screen is gone during shutdown, while a last tick may still run).
        self.status_line = StatusLine(id="status")
        self.transcript = Transcript(id="transcript")
        self.transcript.border_title = "Transcript"
        self.event_log = EventLog(id="event-log")
        self.event_log.border_title = "Events  ▲ sent  ▼ received  ● local"
        self.recorder = Recorder(id="recorder")
        yield self.status_line
        with Horizontal(id="panes"):
            yield self.transcript
            yield self.event_log
        with Vertical(id="bottom"):
            yield self.recorder
            yield Input(placeholder="/ to type a message, Enter to send, Esc to leave", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1 / PUMP_HZ, self._pump)
        self.event_log.focus()
        self.call_after_refresh(self._painted)
        if self.connect_on_mount:
            self.run_session()

    def _painted(self) -> None:
        self.first_paint_at = time.monotonic()
        # After the first paint, never before it: the screen does not wait for PortAudio.
        self.run_worker(self.voice.prepare(), name="prepare-audio", exit_on_error=False)

    # -- session ----------------------------------------------------------------------------

    @work(exclusive=True, group="session", exit_on_error=False, description="Realtime session")
    async def run_session(self) -> None:
        """Resolve the target, connect, configure the session, then live until it closes."""
        status = self.status_line
        # Locals, not self.session/self.capture: a reconnect may replace those while this one ends.
        session: RealtimeSession | None = None
        capture: CaptureWriter | None = None
        try:
            async with open_target(self.settings) as target:
                status.target = target.label
                capture = self.capture = self._open_capture(target.secrets)
                session = RealtimeSession(target, self.bus, capture=capture)
                self.session = self.voice.session = session
                if target.kind == "simulator":
                    self._warm_up_simulator()
                try:
                    await session.connect()
                except ConnectionFailed as exc:
                    self.notify(str(exc), title="Connection failed", severity="error", timeout=30)
                    return
                self.send_session_update(session_update(session_options(self.settings)))
                self.voice.start_playback()
                await session.wait_closed()
                if session.close_reason:
                    self.notify(session.close_reason, title="Disconnected", severity="error", timeout=30)
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
            if self.recorder.state is not RecorderState.UNAVAILABLE:
                self.recorder.state = RecorderState.IDLE

    def _open_capture(self, secrets: tuple[str, ...]) -> CaptureWriter | None:
        """The capture file for a new session, or None (with a note) when it cannot be written."""
        if not self.settings.capture:
            return None
        try:
            capture = CaptureWriter(new_session_dir(), secrets)
        except OSError as exc:
            self.bus.publish(FRAMES, local_envelope("rt.capture", f"no capture file: {exc}"))
            self.notify(f"frames will not be saved: {exc}", title="Capture", severity="warning")
            return None
        self.bus.publish(FRAMES, local_envelope("rt.capture", f"capturing every frame to {capture.path}"))
        return capture

    def _session_failed(self, message: str, title: str) -> None:
        self.status_line.state = "failed"
        self.status_line.detail = message
        self.bus.publish(FRAMES, local_envelope("rt.connection", message, state="failed"))
        self.notify(message, title=title, severity="error", timeout=30)

    def action_reconnect(self) -> None:
        """Open a new session (after a disconnect or a failed connection); the transcript is kept."""
        if self.session is not None and self.session.is_open:
            self.notify("already connected")
            return
        self.bus.publish(FRAMES, local_envelope("rt.reconnect", "reconnecting: a new session starts"))
        self.run_session()

    def _warm_up_simulator(self) -> None:
        """Load the simulator's speech models in a thread now, so the first turn does not wait."""
        from tui.server import warm_up

        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False, description="load models")

    # -- the pump ---------------------------------------------------------------------------

    def _pump(self) -> None:
        frames = self._conv_sub.drain()
        if frames:
            self._ingest(frames)
        batch = self._log_sub.drain()
        if batch:
            self.event_log.extend(batch)
        level = self._level_sub.get_nowait()
        if level is not None:
            self.recorder.level = level

    def _ingest(self, frames: Iterable[Envelope]) -> None:
        status = self.status_line
        frames_in = frames_out = 0
        for env in frames:
            try:
                self.conversation.apply(env)
                if env.direction is Direction.IN:
                    frames_in += 1
                    self.voice.observe(env)
                    self._react_to(env)
            except Exception as exc:  # noqa: BLE001 - one odd frame must not take the app down
                self.bus.publish(FRAMES, local_envelope("rt.client_error", f"frame #{env.seq} not shown: {exc}"))
                continue
            if env.direction is Direction.OUT:
                frames_out += 1
            elif env.type == "rt.connection":
                status.state = str(env.data.get("state"))
            elif env.type == "rt.audio" and env.data.get("notify", True):
                self.notify(str(env.data.get("message")), title="Audio", severity="warning")
        status.frames_in += frames_in
        status.frames_out += frames_out
        status.session_id = self.conversation.session_id or ""
        while self.conversation.bad_frames:
            message = self.conversation.bad_frames.pop(0)
            self.bus.publish(FRAMES, local_envelope("rt.client_error", message))
            self.notify(message, title="Unexpected frame", severity="warning")
        changed = self.conversation.take_changes()
        if changed:
            self.transcript.sync(self.conversation.ordered(), changed)

    def _react_to(self, env: Envelope) -> None:
        if env.type in ("session.created", "session.updated"):
            if env.type == "session.updated":
                self.session_updates += 1
            self.status_line.detail = describe_session(field(env.data, "session"))
        elif env.type == "error":
            err = field(env.data, "error")
            if text(err.get("event_id")) in self.config_event_ids:
                # The whole update was dropped (GA is strict): say so, or the screen would claim a
                # configuration (push-to-talk, transcription) the server is not using.
                self.status_line.detail = "session.update rejected: server kept its previous configuration"
                self.notify(error_summary(env.data), title="session.update rejected", severity="error", timeout=30)
            else:
                self.notify(error_summary(env.data), title="Server error", severity="error", timeout=10)
        elif env.type == "rt.malformed":
            self.notify(text(env.data.get("message")), title="Malformed frame", severity="warning")

    def send_session_update(self, event: dict[str, Any]) -> None:
        """Send a `session.update`, remembering its id to recognise a rejection."""
        if self.session is not None and self.session.is_open:
            self.session.send(event)
            self.config_event_ids.add(str(event["event_id"]))

    def ingest_for_display(self, envelopes: Iterable[Envelope]) -> None:
        """Publish envelopes as if a session had received them (replays, screenshots, tests)."""
        for env in envelopes:
            self.bus.publish(FRAMES, env)
        self._pump()

    # -- actions ----------------------------------------------------------------------------

    async def action_talk(self) -> None:
        """Start a push-to-talk turn, or end it: commit, then ask for a response."""
        if self._busy:
            return
        recorder = self.recorder
        if self.voice.mode is TurnMode.HANDS_FREE:
            self.notify("hands-free is on: just speak (v switches back to push-to-talk)")
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
            if "event_id" in update:  # set by the session when it was sent
                self.config_event_ids.add(str(update["event_id"]))
        except VoiceError as exc:
            self._voice_failed(str(exc))
        except Exception as exc:  # noqa: BLE001 - a device or socket surprise must not end the app
            self._voice_failed(f"{type(exc).__name__}: {exc}")
        finally:
            self._busy = False

    def _voice_failed(self, message: str) -> None:
        recorder = self.recorder
        recorder.message = message
        recorder.state = RecorderState.UNAVAILABLE if "unavailable" in message else RecorderState.IDLE
        self.notify(message, title="Recorder", severity="warning")

    @on(Input.Submitted, "#message")
    def send_text(self, event: Input.Submitted) -> None:
        """Send the typed text as a user message and ask for a response."""
        text = event.value.strip()
        if not text:
            return
        if self.session is None or not self.session.is_open:
            self.notify("not connected: the message was not sent", severity="warning")
            return
        self.voice.interrupt_playback()
        self.session.send(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
            }
        )
        self.session.send({"type": "response.create"})
        event.input.value = ""

    def action_focus_input(self) -> None:
        """Move the focus to the message input (space then types spaces)."""
        self.query_one("#message", Input).focus()

    def action_leave_input(self) -> None:
        """Leave the message input so space talks again."""
        self.event_log.focus()

    def action_clear_log(self) -> None:
        """Clear the event-log view (the capture file keeps everything)."""
        self.event_log.clear()

    @on(EventLog.Selected)
    def show_detail(self, event: EventLog.Selected) -> None:
        """Open the JSON of the selected row."""
        self.push_screen(EventDetail(event.row))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: the app's own commands beside Textual's."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("recorder: talk / send", "Start or end a push-to-talk turn", self.action_talk)
        yield SystemCommand("recorder: hands-free on/off", "Let server VAD end your turns", self.action_hands_free)
        yield SystemCommand("log: clear", "Clear the event-log view", self.action_clear_log)
        yield SystemCommand("session: reconnect", "Open a new session, keeping the transcript", self.action_reconnect)
        yield SystemCommand("log: follow", "Follow new frames", self.event_log.action_tail)
        yield SystemCommand("message: type", "Focus the message input", self.action_focus_input)

    async def on_unmount(self) -> None:
        await self.voice.close()
        if self.session is not None:
            await self.session.close()
        if self.capture is not None:
            self.capture.close()


def describe_session(session: dict[str, Any]) -> str:
    """What the server says the session does: who ends turns, and whether input is transcribed."""
    turns = turn_detection_config(session)
    transcription = transcription_config(session)
    turn_text = (text(turns.get("type")) or "vad") if turns else "manual turns"
    model = text(transcription.get("model")) if transcription else ""
    return f"{turn_text} · {'transcribe: ' + model if model else 'no input transcription'}"


def run_app(settings: Settings) -> int:
    """Run the app until the user quits; returns the exit status."""
    from tui.audio import silence_native_audio_noise

    silence_native_audio_noise()  # ALSA/JACK chatter on fd 2 would scribble over the screen
    RtApp(settings).run()
    return 0


__all__ = ["RtApp", "run_app"]
