"""The live session: connect, configure, reconnect on a drop; push-to-talk, hands-free, typing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from textual import events, on, work
from textual.widgets import Input

from tui.launch import open_target, session_options
from tui.protocol import Envelope, local_envelope, obj, session_update
from tui.protocol.session_config import holds_turn_detection
from tui.session import (
    FRAMES,
    CaptureWriter,
    ConnectionFailed,
    RealtimeSession,
    TargetError,
    is_loopback_host,
    new_session_dir,
)
from tui.widgets import RecorderState
from tui.widgets.message_input import MessageInput
from tui.widgets.timers import after
from tui.widgets.transcript import VOICE_HINT

from .base import AppBase
from .reconnect import MAX_QUICK_DROPS, STABLE_SECONDS
from .voice import CutTurn, NotConnected, TurnMode, TurnNotSent, VoiceError

KEPT_VAD_HINT = (
    "The server {does} ({turns}: {why}). Press space to listen, pause and the "
    "server ends your turn and answers, space again stops listening; or t to type a message."
)
"""The empty transcript's first paragraph while the server ends turns itself (`_listen_for_server_vad`)."""

ENDED_HINT = "No session is open (the status line says why): ctrl+r opens a new one, then {then}."
"""The empty transcript's first paragraph once the connection has closed or was refused, and no
reconnect is coming: space cannot talk."""

RECONNECTING_HINT = (
    "No session is open (the status line says why): rt-tui reconnects when the server answers "
    "(ctrl+r tries now), then {then}."
)
"""The first paragraph after a drop while rt-tui reconnects on its own (`run_session`)."""

NO_MICROPHONE_HINT = (
    "No microphone to record from: {why}. Press t to type a message; space tries the microphone "
    "again (one plugged in since), and rt-tui devices lists the devices."
)
"""The empty transcript's only paragraph when the microphone a turn would open is not there (what
the user's recordings would show is moot: at 80×24 a second paragraph did not fit)."""

NO_TRANSCRIPTION_HINT = (
    "Input transcription is off (--no-transcription): your recordings appear here, without "
    "their words; the assistant still hears them."
)
"""The second paragraph when the user turned transcription off."""

TRANSCRIPTION_REFUSED_HINT = (
    "Input transcription is off in the session the server applied (the status line says why): your "
    "recordings appear here, without their words; the assistant still hears them."
)
"""The second paragraph when transcription was asked for but the server's session has none (it
rejected the session.update, or applied it without transcription)."""

CONNECTION_TROUBLE = ("Connection failed", "Disconnected", "Reconnect", "Session failed", "No target")
"""Titles of the notices about a connection's trouble: taken down when a connection opens."""

SPACE_ACTIONS = {"talk_send": "Send", "talk_listen": "Listen", "talk_stop_listening": "Stop listening"}
"""Space's other names in the footer: one binding per meaning in the app's BINDINGS, each active
only while space does that (`check_action`), beside `talk` ("Talk")."""

V_ACTIONS = {"hands_free": "Hands-free", "hands_free_off": "Push-to-talk"}
"""v's two names in the footer, one binding each, active as space's are (`check_action`): what a
press does now (it said "Hands-free" while hands-free was on)."""

VOICE_ACTIONS = frozenset({"talk", *SPACE_ACTIONS, *V_ACTIONS})

SLOW_VOICE_STEP = 0.3
"""Seconds a voice step may take before the recorder says it waits for the device (opening a
working one takes tens of milliseconds)."""
SLOW_VOICE_STEP_SAID = "waiting for the audio device…"
"""The keys that need an open session: dimmed while none is open and none opens on its own."""


class LiveSession(AppBase):
    """Runs the websocket session and the voice actions."""

    _fact_capture: CaptureWriter | None = None
    """The capture file the app's own local facts are written to: the open session's, or None
    between sessions (`self.capture` stays set then, for the folder files are saved in)."""
    _facts_waiting: list[Envelope] | None = None
    """Facts published while no capture was open, for the head of the next session's capture."""
    _hands_free_cut = False
    """The last session ended while hands-free was on: an automatic reconnect turns it back on."""
    _next_session = "opening"
    """What comes after now, for what space and the hint say while no session is open: "opening"
    (a session is connecting), "open", "reconnect" (a drop: rt-tui reconnects on its own when the
    server answers) or "none" (refused, expired, --no-reconnect, the reconnect gave up: only ctrl+r
    opens one). Set where the session worker decides, never in a cleanup: a worker cancelled by
    ctrl+r must not overwrite what the new one said."""

    def _space_action(self) -> str:
        """What space does now: the action whose name the footer shows."""
        if self.voice.mode is TurnMode.HANDS_FREE:
            return "talk"  # just speak (space says so)
        if self._kept_turns():
            return "talk_stop_listening" if self.voice.recording else "talk_listen"
        return "talk_send" if self.voice.recording else "talk"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Space's bindings: only the one that says what space does now is active. Space and v show
        dimmed (None) while no session is open and none opens on its own (`_next_session` "none":
        refused, expired, --no-reconnect, the reconnect gave up): only ctrl+r opens one. While one
        is opening or rt-tui reconnects, they stay lit: the press says to wait. Hands-free dims
        space too: the footer said "space Talk" while a press only said to just speak."""
        if action == "talk" or action in SPACE_ACTIONS:
            if action != self._space_action():
                return False
            action = "talk"
        elif action in V_ACTIONS:
            if (action == "hands_free_off") is not (self.voice.mode is TurnMode.HANDS_FREE):
                return False
        allowed = super().check_action(action, parameters)
        if allowed and action == "send_event" and (self.session is None or not self.session.is_open):
            # No session to send to: left out of the palette. Offered, it opened nothing but a notice,
            # and the event the user then typed went to the app's keys (`t` opened the message box).
            return False
        if allowed and action in VOICE_ACTIONS and self._next_session == "none":
            return None
        if allowed and action in VOICE_ACTIONS and self._no_microphone():
            return None  # dimmed, and the first to leave a narrow footer; a press still looks (on_key)
        if allowed and action == "talk" and self.voice.mode is TurnMode.HANDS_FREE:
            return None
        return allowed

    async def on_key(self, event: events.Key) -> None:
        """A dimmed voice key, pressed, says why it does nothing (ctrl+r opens a session; under
        hands-free, just speak), as the log's dimmed frame keys do: Textual runs no action for it,
        and the press went unanswered."""
        if self._next_session != "none" and self.voice.mode is not TurnMode.HANDS_FREE and not self._no_microphone():
            return  # the usual case, and the cheap test: the keys are lit
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled or active.node is not self:
            return
        action = active.binding.action
        if action in VOICE_ACTIONS:
            event.stop()
            event.prevent_default()
            if self._next_session == "none":
                self._voice_failed(self._not_connected())
            elif self._no_microphone():
                # Dimmed for want of a microphone, the press looks again (one plugged in since).
                await getattr(self, f"action_{action}")()
            else:
                # In its turn after the steps asked for: it says why.
                self.voice_steps.add(partial(self._unless_refused_since, self._refusals_ended, self._talk))

    def _no_microphone(self) -> bool:
        """The last look found no microphone and no turn is running: space and v show dimmed."""
        return self.voice.mic_problem is not None and not self.voice.recording

    async def action_talk_send(self) -> None:
        """Space while recording: send the turn (`action_talk`)."""
        await self.action_talk()

    async def action_talk_listen(self) -> None:
        """Space while the server kept its VAD: listen (`action_talk`)."""
        await self.action_talk()

    async def action_hands_free_off(self) -> None:
        """v while hands-free is on: back to push-to-talk (`action_hands_free`)."""
        await self.action_hands_free()

    async def action_talk_stop_listening(self) -> None:
        """Space while listening under the server's kept VAD: stop (`action_talk`)."""
        await self.action_talk()

    @work(exclusive=True, group="session", exit_on_error=False, description="Realtime session")
    async def run_session(self) -> None:
        """Connect, configure the session, live until it closes; reconnect on its own after a drop."""
        resume_hands_free = False
        self.watch_for_quiet()
        while True:
            retry = await self._one_session(resume_hands_free)
            if not retry or self._quitting or not self.settings.reconnect:
                return
            if not await self._wait_for_server():
                self._session_next("none")  # gave up (or quitting): ctrl+r is the way now
                return
            self.publish_fact(local_envelope("rt.reconnect", "the server is back: reconnecting"))
            # A drop is not the user's choice: hands-free carries on in the new session.
            resume_hands_free = self._hands_free_cut

    async def _one_session(self, resume_hands_free: bool = False) -> bool:
        """One connection, start to end; True when it ended in a way worth retrying.
        `resume_hands_free`: turn hands-free back on once the session is configured."""
        # Locals, not self.session/self.capture: a reconnect may replace those while this one ends.
        capture: CaptureWriter | None = None
        if self._next_session != "reconnect":
            self._session_next("opening")
        try:
            async with open_target(self.settings) as target:
                capture = self.capture = self._open_capture(target.secrets)
                session = RealtimeSession(
                    target, self.bus, capture=capture, max_frame_bytes=self.settings.max_frame_bytes
                )
                try:
                    self.session = self.voice.session = session
                    self.voice.publish_fact = self.publish_fact
                    if target.kind == "simulator":
                        self._warm_up_simulator()
                    self._target_url = target.url
                    return await self._live(session, resume_hands_free)
                finally:
                    # Closed before the target: an embedded simulator stops with it, and would
                    # otherwise close the session first (the capture would blame the server).
                    await session.close()
        except TargetError as exc:
            self._session_next("none")
            self._live_session_failed(str(exc), "No target")
        except Exception as exc:  # noqa: BLE001 - e.g. the simulator could not start: say so, keep the app
            self._session_next("none")
            self._live_session_failed(f"{type(exc).__name__}: {exc}", "Session failed")
        finally:
            # Stopped before the capture closes, so the fact saying what was cut short is in it.
            self._turns_cut(await self.voice.stop_turns())
            if capture is not None:
                if self._fact_capture is capture:
                    self._fact_capture = None  # facts from now on wait for the next session's capture
                capture.close()
        return False

    async def _live(self, session: RealtimeSession, resume_hands_free: bool) -> bool:
        """Connect `session`, configure it and live until it closes; True when worth retrying."""
        try:
            await session.connect()
        except ConnectionFailed as exc:
            self.say(str(exc), title="Connection failed", severity="error", timeout=30)
            return self._ended(self._retry.worth_retrying(str(exc), session.close_code, expired=session.expired))
        self._retry.connected()
        self._session_next("open")
        if self.recorder.message.startswith("not connected"):
            self.recorder.message = ""  # space's answer while none was open: one is now
        # The trouble those said is over: the status line says open, they must not say otherwise.
        self.unsay(*CONNECTION_TROUBLE)
        self.unsay_while("connection")  # "not connected: …", said to a press or a message meanwhile
        self.send_session_update(session_update(session_options(self.settings)))
        self.voice.start_playback()
        if resume_hands_free:
            await self.voice_steps.add(self._resume_hands_free)  # after any step still under way
        await session.wait_closed()
        if session.close_reason:
            self.say(session.close_reason, title="Disconnected", severity="error", timeout=30)
            retry = self._retry.worth_retrying(session.close_reason, session.close_code, expired=session.expired)
            if self._retry.gave_up:
                said = (
                    f"the server ended {MAX_QUICK_DROPS + 1} sessions in a row within {STABLE_SECONDS:.0f} s of "
                    "opening: rt-tui stopped reconnecting (ctrl+r tries again)"
                )
                self.publish_fact(local_envelope("rt.reconnect", said))
                self.say(said, title="Reconnect", severity="warning", timeout=30)
            return self._ended(retry)
        return self._ended(False)

    def _ended(self, retry: bool) -> bool:
        """The session ended, worth retrying or not: what comes next is said at once (before the
        worker's cleanup), so space and the hint never say ctrl+r while rt-tui reconnects itself."""
        self._session_next("reconnect" if retry and self.settings.reconnect and not self._quitting else "none")
        return retry

    def _session_next(self, what: str) -> None:
        """Record what comes after now (`_next_session`); the empty transcript's hint follows it."""
        if what == self._next_session:
            return
        self._next_session = what
        self._follow_server_turns()
        self.refresh_bindings()  # space and v are dimmed while only ctrl+r opens a session

    def _not_connected(self) -> str:
        """Space's (or v's) answer while no session is open: what will open one."""
        if self._next_session == "reconnect":
            return "not connected: rt-tui reconnects when the server answers (ctrl+r tries now)"
        if self._next_session == "none":
            return "not connected: ctrl+r opens a new session"
        return "not connected: wait for the session to open (see the status line)"

    def _turns_cut(self, cut: CutTurn | None) -> None:
        """The session ended: the recorder leaves recording or listening (its timer stops), and what
        was cut short is said, in the log (and the capture) and in a notice, never dropped silently."""
        recorder = self.recorder
        listening = recorder.state is RecorderState.LISTENING
        self._hands_free_cut = cut is not None and cut.mode is TurnMode.HANDS_FREE
        recorder.mode = "push-to-talk"
        # The last turn's note ("sent 3.9 s") was that session's: beside "× disconnected", and in the
        # next session, it read as news.
        recorder.message = ""
        if recorder.state in (RecorderState.RECORDING, RecorderState.LISTENING, RecorderState.SENDING):
            recorder.state = RecorderState.DISCONNECTED
        # Space no longer sends or stops listening: nothing else refreshes the footer's name for it.
        self.refresh_bindings()
        if cut is None:
            return
        if cut.mode is TurnMode.HANDS_FREE:
            said = "hands-free stopped: the connection ended"
        elif listening:
            said = "listening stopped: the connection ended"
        else:
            # "not sent" first, as for a turn of silence: a narrow recorder line is cut at its end.
            said = f"not sent: recording cut off at {cut.recorded_ms / 1000:.1f} s (the connection ended)"
        self._recorder_said(said)
        if not self._quitting:
            self.say(said, title="Recorder", severity="warning")

    def _recorder_said(self, said: str, logged: str | None = None) -> None:
        """`said` on the recorder's line, and (as `logged`, if given) as a local fact in the log and
        the capture: what happened to the user's audio is never only on screen."""
        self.recorder.message = said
        self.publish_fact(local_envelope("rt.audio", logged or said, notify=False))

    async def _resume_hands_free(self) -> None:
        """Hands-free was on when the connection dropped: on again in the new session (its VAD
        session.update sent again, the microphone reopened), and said so."""
        recorder = self.recorder
        async with self._voice_step():
            update = session_update(session_options(self.settings, turn_detection="server_vad"))
            await self.voice.start_hands_free(update)
            recorder.mode = "hands-free"
            recorder.state = RecorderState.LISTENING
            said = "hands-free resumed on the new session"
            self._recorder_said(said)
            self.say(said, title="Recorder")
        self._follow_server_turns()

    async def _wait_for_server(self) -> bool:
        """Probe the server's port until it accepts again (quietly, no new session per try)."""
        parts = urlsplit(getattr(self, "_target_url", ""))
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        started = time.monotonic()
        for attempt, delay in enumerate(self._retry.delays(remote=not is_loopback_host(host)), 1):
            due = time.monotonic() + delay
            left = delay
            while left > 0.01:
                # Each try says so, and a wait of seconds counts down: the same "reconnecting in 0.5 s"
                # for a ten-second outage, or "try 65 in 5.0 s" for five seconds, looked stuck.
                self.status_line.state_override = (
                    f"reconnecting in {left:.1f} s"
                    if attempt == 1
                    else f"server unreachable for {time.monotonic() - started:.0f} s · try {attempt} in {left:.1f} s"
                )
                self.status_line.refresh()
                await asyncio.sleep(min(left, 1.0))
                if self._quitting:
                    return False
                left = due - time.monotonic()
            # A probe can take up to its timeout (a host that drops packets): "try 3 in 0.5 s" would
            # be stale for all of it.
            self.status_line.state_override = (
                f"server unreachable for {time.monotonic() - started:.0f} s · try {attempt}: connecting"
            )
            self.status_line.refresh()
            try:
                async with asyncio.timeout(2):  # not wait_for: on 3.11 it can swallow a cancel (quit)
                    _, writer = await asyncio.open_connection(host, port)
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
            self._facts_waiting = None  # no file to write them to: the journal has them
            self.publish_fact(local_envelope("rt.capture", f"no capture file: {exc}"))
            self.say(f"frames will not be saved: {exc}", title="Capture", severity="warning")
            self.capture_refusals.append(str(exc))
            return None
        # What happened between sessions (a reconnect, a device's trouble) heads this session's
        # file: their seqs come before everything the session publishes, so the file stays in order.
        for fact in self._facts_waiting or ():
            capture.write(fact)
        self._facts_waiting = None
        self._fact_capture = capture
        self.captures.append(capture)
        self.journal.capture_path = str(capture.path)
        self.publish_fact(local_envelope("rt.capture", f"capturing every frame to {capture.path}"))
        return capture

    def publish_fact(self, fact: Envelope) -> None:
        """Publish one of the app's own local facts (a reconnect, a device's trouble, the capture)
        and write it to the capture file, as the session does with its connection facts: the file
        holds every fact the journal gets, once and in seq order. Between sessions a fact waits for
        the next session's capture (none comes with --no-capture, or when it cannot be written)."""
        if self._fact_capture is not None:
            self._fact_capture.write(fact)
        elif self.settings.capture:
            if self._facts_waiting is None:
                self._facts_waiting = []
            self._facts_waiting.append(fact)
        self.bus.publish(FRAMES, fact)

    def _live_session_failed(self, message: str, title: str) -> None:
        """The session could not run (no target, the simulator did not start): a failed connection
        fact, through `publish_fact` so the capture has it too, and a notice."""
        self.publish_fact(local_envelope("rt.connection", message, state="failed"))
        self.say(message, title=title, severity="error", timeout=30)

    def action_reconnect(self) -> None:
        """Open a new session, keeping the transcript: at once after a disconnect or a failed
        connection; while connected, once this session has closed (a fresh server session, for a
        debugger user who wants `session.created` again)."""
        self._retry.reset()  # the user's own try: the count of quick drops starts again
        # The log follows again, as End does: a paused log showed none of the new session's frames,
        # and the key seemed to do nothing (`+8 new below` in the corner was all it said).
        self.event_log.action_tail()
        if self.session is not None and self.session.is_open:
            self.run_worker(self._restart_session(), group="restart", exclusive=True, exit_on_error=False)
            return
        self.publish_fact(local_envelope("rt.reconnect", "reconnecting: a new session starts"))
        self._session_next("opening")
        self.run_session()

    async def _restart_session(self) -> None:
        """Close the open session and wait until its worker has finished (its capture closed, its
        turns stopped), so the new session's worker does not cancel it half way; then start anew."""
        session = self.session
        assert session is not None
        self.publish_fact(local_envelope("rt.reconnect", "a new session: closing this one first"))
        self.voice.stop_playback("ctrl+r closed its session")
        await session.close()
        for worker in [w for w in self.workers if w.group == "session"]:
            with contextlib.suppress(Exception):
                await worker.wait()
        self.run_session()

    def _warm_up_simulator(self) -> None:
        """Load the simulator's speech models in a thread now, so the first turn does not wait."""
        from tui.server import warm_up

        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False, description="load models")

    def send_session_update(self, event: dict[str, Any]) -> None:
        """Send a `session.update` (the session-facts projection sees it and any rejection)."""
        if self.session is not None and self.session.is_open:
            self.session.send(event)

    @property
    def session_updates(self) -> int:
        """`session.updated` frames received in this connection."""
        return self.facts.updates_applied

    def _kept_turns(self) -> str:
        """Who ends turns when the session the server applied disagrees with the app's mode ("server
        VAD", "manual turns"); "" when it does what the mode asks, or has yet to answer an update.
        It disagrees when it refused the session.update that set the mode and kept its own turn
        detection, and when a session.update sent from the palette (or a server that applies turn
        detection its own way) set another: the recorder said push-to-talk while the server's VAD
        ended the turns, and a press of space committed a second time."""
        facts = self.facts
        if facts.ended or facts.updates_awaiting or not self._session_answered() or not facts.states_turns:
            return ""  # (a session that does not state its turns is not taken to disagree)
        server_turns = facts.turn_detection
        if self.voice.mode is TurnMode.PUSH_TO_TALK and server_turns is not None:
            return server_turns.replace("_vad", " VAD").replace("_", " ")
        if self.voice.mode is TurnMode.HANDS_FREE and server_turns is None:
            return "manual turns"
        return ""

    def _follow_server_turns(self) -> None:
        """Show who really ends turns, and what the session does: the recorder's mode, and the empty
        transcript's hint. Called when the session facts change (the views' refresh) and when the
        user switches mode."""
        if self.replay is not None or self.proxy is not None:
            return  # no microphone of ours: a recording's or a client's turns are theirs
        kept = self._kept_turns()
        refused = bool(kept) and self._refused_turns()  # read once per refresh: the update's frame
        if kept:
            # Short: at 80 columns the key and this share what is left of the recorder's line.
            why = "the server kept it: session.update rejected" if refused else "session.updated set it"
            self.recorder.kept_why = why
        if kept != self.recorder.kept:
            self.recorder.kept = kept
            self.refresh_bindings()  # space listens now, or talks again: the footer says which
        hint = self._live_hint(kept, refused)
        if hint != self.transcript.hint:
            self.transcript.hint = hint

    def _refused_turns(self) -> bool:
        """Whether the turn detection in force is one the server kept by refusing the last
        session.update, which asked for another (a refused update that did not touch turn detection,
        a palette probe of the transcription model, leaves the one an earlier update applied)."""
        facts = self.facts
        if not facts.last_update_rejected:
            return False
        update = self.journal.data(facts.rejections[-1].update_index)
        return holds_turn_detection(obj(update.get("session")))

    def _live_hint(self, kept: str, refused: bool) -> tuple[str, ...]:
        """The empty transcript's paragraphs for the session as the server applied it: what space
        does (or that no session is open), then whether the user's words will come. `kept`, `refused`:
        who ends turns if not the mode, and whether a refused update is why (`_follow_server_turns`)."""
        facts = self.facts
        if facts.ended:
            hint = RECONNECTING_HINT if self._next_session == "reconnect" else ENDED_HINT
            # With no microphone space has nothing to talk with (review 56e).
            then = "t types a message (no microphone)" if self.voice.mic_problem else "space talks or t types a message"
            first = hint.format(then=then)
        elif self.voice.mic_problem is not None:  # nothing to talk or listen with, whoever ends turns
            return (NO_MICROPHONE_HINT.format(why=self.voice.mic_problem.removeprefix("microphone unavailable: ")),)
        elif kept.endswith("VAD"):
            if refused:
                does, why = "kept its own turn detection", "it rejected the session.update that turned it off"
            else:
                does, why = "detects turns itself", "the last session.update it applied set it, not push-to-talk"
            first = KEPT_VAD_HINT.format(does=does, turns=kept, why=why)
        else:
            first = VOICE_HINT[0]
        if self.settings.transcription_model is None:
            second = NO_TRANSCRIPTION_HINT
        elif (
            facts.applied is not None
            and facts.states_transcription
            and facts.transcription_model is None
            and self._session_answered()
        ):
            second = TRANSCRIPTION_REFUSED_HINT
        else:
            second = VOICE_HINT[1]
        return (first, second)

    def _session_answered(self) -> bool:
        """Whether the server has answered our session.update (applied or refused it): until then its
        session.created shows its defaults (transcription off), not what this session will do."""
        facts = self.facts
        return facts.updates_applied > 0 or facts.last_update_rejected

    _refusals_ended = 0
    """Turns (or hands-free listening) the server's refusal of the audio ended (`_end_refused_audio`)."""

    async def action_talk(self) -> None:
        """Start a push-to-talk turn, or end it: commit, then ask for a response. The step runs after
        the voice steps already asked for, off the key handler (see `tui.app.serial_steps`)."""
        self.voice_steps.add(partial(self._unless_refused_since, self._refusals_ended, self._talk))

    async def _unless_refused_since(self, ended: int, step: Callable[[], Awaitable[None]]) -> None:
        """Run a voice key's `step`, unless the server's refusal ended the turn (or hands-free) after the
        key was pressed: space pressed to send it would start a new turn, v pressed to stop hands-free
        would start it again (the recorder says what the refusal did)."""
        if self._refusals_ended == ended:
            await step()

    async def _talk(self) -> None:
        recorder = self.recorder
        if self.voice.mode is TurnMode.HANDS_FREE:
            if self._kept_turns():  # the server does not detect turns: nothing ends one while the mic streams
                self.say(f"the server ends no turn itself ({self.recorder.kept_why}): v goes back to push-to-talk")
            else:
                self.say_while("mode", "hands-free is on: just speak (v switches back to push-to-talk)")
            return
        if self._kept_turns():
            await self._listen_for_server_vad()
            return
        async with self._voice_step():
            if not self.voice.recording:
                await self.voice.start_turn()
                recorder.message = ""
                recorder.state = RecorderState.RECORDING
            else:
                recorder.state = RecorderState.SENDING
                sent_ms = await self.voice.finish_turn()
                recorder.message = f"sent {sent_ms / 1000:.1f} s"
                recorder.state = RecorderState.IDLE

    def audio_refused(self, said: str) -> None:
        """The server refused the microphone's audio (`said`, from `VoiceController.refused`): the
        turn, or hands-free, ends now as a step of its own, unsent, rather than stream on into
        refusals until the user's next press, and the recorder says why."""
        self.voice_steps.add(self._end_refused_audio)

    async def _end_refused_audio(self) -> None:
        voice, recorder = self.voice, self.recorder
        said = voice.refused
        if not voice.recording or said is None:
            return  # ended meanwhile (a press, the session's end): that step said what happened
        self._refusals_ended += 1
        if voice.mode is TurnMode.HANDS_FREE:
            await self._toggle_hands_free()  # back to push-to-talk: the buffer is cleared, not committed
            if recorder.mode == "push-to-talk":  # else it failed, and the recorder says why
                self._recorder_said(f"hands-free stopped: {said}")
        elif self._kept_turns():
            async with self._voice_step():
                await voice.stop_listening()
                recorder.state = RecorderState.IDLE
            self._recorder_said(f"stopped listening: {said}")
        else:
            async with self._voice_step():
                recorder.state = RecorderState.SENDING
                await voice.finish_turn()  # raises TurnNotSent, which the step says

    async def _listen_for_server_vad(self) -> None:
        """Space while the server kept its VAD (it rejected our session.update that turned it off):
        start streaming the microphone, or stop it, never committing.

        The server commits each turn when you pause, and answers it. A push-to-talk commit of ours
        on top would come second and find the buffer empty (input_audio_buffer_commit_empty, the
        classic double commit), and a response.create would collide with the server's own. So space
        streams as hands-free does and leaves the turns to the server, and the recorder says so."""
        recorder = self.recorder
        async with self._voice_step():
            if not self.voice.recording:
                await self.voice.start_turn()
                recorder.message = ""
                recorder.state = RecorderState.LISTENING
            else:
                await self.voice.stop_listening()
                recorder.state = RecorderState.IDLE

    async def action_hands_free(self) -> None:
        """Toggle hands-free: server VAD decides when you have finished speaking (a voice step, as
        `action_talk`'s)."""
        self.voice_steps.add(partial(self._unless_refused_since, self._refusals_ended, self._toggle_hands_free))

    async def _toggle_hands_free(self) -> None:
        recorder = self.recorder
        self.unsay_while("mode")  # "hands-free is on" is about to be untrue (or true again, said anew)
        async with self._voice_step():
            if self.voice.mode is TurnMode.PUSH_TO_TALK:
                if self.voice.recording and self._kept_turns():
                    await self.voice.stop_listening()  # the server's VAD commits: never a second commit
                elif self.voice.recording:
                    try:
                        await self.voice.finish_turn()
                    except TurnNotSent as exc:
                        # A tap, or silence: nothing to send (the buffer was cleared), and still
                        # what the key asked for, hands-free, follows.
                        self._recorder_said(str(exc), f"push-to-talk turn {exc}")
                update = session_update(session_options(self.settings, turn_detection="server_vad"))
                await self.voice.start_hands_free(update)
                recorder.mode = "hands-free"
                recorder.state = RecorderState.LISTENING
            else:
                update = session_update(session_options(self.settings))
                await self.voice.stop_hands_free(update)
                recorder.mode = "push-to-talk"
                recorder.state = RecorderState.IDLE
        self._follow_server_turns()  # the mode asked for changed: the server may not do it

    @contextlib.asynccontextmanager
    async def _voice_step(self) -> AsyncIterator[None]:
        """The body of one voice step (they run one at a time: `voice_steps`); any failure lands on
        the recorder instead of ending the app. A step still under way after `SLOW_VOICE_STEP`
        (a device slow to open or close) says so on the recorder, so a press that seems to do
        nothing is not pressed again."""
        before = self.recorder.state
        slow = after(self, SLOW_VOICE_STEP, self._voice_step_slow)
        try:
            yield
        except TurnNotSent as exc:
            # No speech in it: the buffer was cleared. Said on the recorder and in the log, no notice.
            self._recorder_said(str(exc), f"push-to-talk turn {exc}")
            self.recorder.state = RecorderState.IDLE
        except NotConnected:
            self._voice_failed(self._not_connected())
        except VoiceError as exc:
            self._voice_failed(str(exc))
        except Exception as exc:  # noqa: BLE001 - a device or socket surprise must not end the app
            self._voice_failed(f"{type(exc).__name__}: {exc}")
        finally:
            slow.cancel()
            if self.recorder.message == SLOW_VOICE_STEP_SAID:
                self.recorder.message = ""  # the step ended without a word of its own
            if self.recorder.state is RecorderState.WAITING:
                self.recorder.state = before  # nor a state of its own: as it was
            self.refresh_bindings()  # space's name in the footer follows what it does now

    def _voice_step_slow(self) -> None:
        self.recorder.state = RecorderState.WAITING  # not "ready": a press now would only wait its turn
        self.recorder.message = SLOW_VOICE_STEP_SAID

    def _voice_step_crashed(self, exc: Exception) -> None:
        """A voice step let an exception out (its own handling failed): said, and the next steps run."""
        self._voice_failed(f"{type(exc).__name__}: {exc}")

    def _voice_failed(self, message: str) -> None:
        recorder = self.recorder
        recorder.message = message
        if "unavailable" in message:
            recorder.unavailable_why = message
            if self.facts.ended:
                # The microphone's check ended after the session did (a refused key): "disconnected,
                # no microphone" says both; `× no microphone` alone stayed, the session's end unsaid.
                recorder.state = RecorderState.DISCONNECTED
                recorder.message = ""
            else:
                recorder.state = RecorderState.UNAVAILABLE
            self._follow_server_turns()  # the empty transcript's hint: no microphone
        elif self.facts.ended or "not connected" in message:
            recorder.state = RecorderState.DISCONNECTED
        else:
            recorder.state = RecorderState.IDLE
        if "not connected" in message:
            # True until a session opens: taken down then (it stayed up beside "● open").
            self.say_while("connection", message, title="Recorder", severity="warning")
        elif self.voice.mic_problem is not None:
            self.refresh_bindings()  # space and v show dimmed
            # The way left to talk, said where the press is answered (only the empty transcript said it).
            self.say(f"{message} · t types a message", title="Recorder", severity="warning")
        else:
            self.say(message, title="Recorder", severity="warning")

    @on(Input.Submitted, "#message")
    def send_text(self, event: Input.Submitted) -> None:
        """Send the typed text as a user message and ask for a response; then the keys typed after
        its Enter go on (`_hold_keys`)."""
        try:
            self._send_text(event)
        finally:
            self.release_keys()

    def _send_text(self, event: Input.Submitted) -> None:
        said = event.value.strip()
        if not said:
            return
        if self.session is None or not self.session.is_open:
            # Said how to get a session, unless one is on its way: a closed session's footer has
            # no ctrl+r, and the palette's "new session" is not found by "reconnect".
            busy = self.status_line.state_override or self.facts.state in ("connecting", "open")
            how = "" if busy else "; ctrl+r opens a new session"
            said = f"not connected: the message was not sent (it stays in the input){how}"
            self.say_while("connection", said, severity="warning")
            if isinstance(event.input, MessageInput):
                event.input.restore(event.value)  # kept to send once connected
            return
        if self.voice.recording and self.voice.mode is TurnMode.PUSH_TO_TALK:
            # Sent now, it came between the turn's appends: answered while the microphone still
            # recorded (the reply into the turn), and the spoken turn committed after it, out of order.
            self.say(
                "a spoken turn is recording: send it first (Esc, then space); the message waits in the input",
                title="Message kept",
                severity="warning",
            )
            if isinstance(event.input, MessageInput):
                event.input.restore(event.value)
            return
        if self.voice.interrupt_playback():
            # As speaking over it does; said, since typing is not speaking (a reviewer took it for a bug).
            self.say("your message cut the reply in progress short (response.cancel sent)", title="Message")
        self.session.send(
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": said}]},
            }
        )
        self.voice.ask_response(self.session)

    def action_send_event(self) -> None:
        """Type one client event as JSON and send it as it is (the palette's "session: send an
        event"): a debugger's probe of what the server says to a frame."""
        from tui.widgets.send_event import SendEventDialog

        if self.session is None or not self.session.is_open:
            self.say_while("connection", "not connected: no event can be sent", severity="warning")
            return
        self.push_screen(SendEventDialog(self._event_text, self.session.target.label), callback=self._send_event)

    def _send_event(self, event: dict[str, Any] | str | None) -> None:
        if event is None:
            return
        if isinstance(event, str):  # cancelled: the draft is offered next time, unsent
            if event.strip():  # an emptied field is no draft: the last event sent (if any) stays
                self._event_text = event
            return
        # Offered again next time as typed: without the event_id the send adds (sent twice, the
        # server would take both; the log would show two frames with one id).
        self._event_text = json.dumps(event, ensure_ascii=False)
        if self.session is None or not self.session.is_open:
            self.say_while("connection", "not connected: the event was not sent", severity="warning")
            return
        self.session.send(event)

    def action_focus_input(self) -> None:
        """Move the focus to the message input (space then types spaces), before the next key is
        dispatched: `Widget.focus()` waits behind the keys already queued, so a message typed
        (or pasted) right after `t` went to the log's bindings (`f` opened the filter, `q` quit)."""
        message = self.query_one("#message", Input)
        message.screen.set_focus(message)  # its own screen, whatever is on top
