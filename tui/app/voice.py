"""The voice controller: microphone turns (push-to-talk or hands-free) and assistant playback.

It sits between the audio edge and the session: chunks from the PortAudio callback (already
handed to the loop by `Microphone`) become `input_audio_buffer.append` frames; stopping a turn
commits the buffer and asks for a response. Device trouble is published on the bus as a local
event and reported to the caller; it never stops the rest of the app.
"""

from __future__ import annotations

import asyncio
import contextlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tui.bus import Bus, Mode, Subscription, Topic
from tui.protocol import Direction, Envelope, error_summary, local_envelope, new_id, obj, printable, text
from tui.session import FRAMES, RealtimeSession

if TYPE_CHECKING:
    from tui.audio import Microphone, Speaker


MIC_LEVEL: Topic[float] = Topic("mic.level")
"""The microphone's latest level, 0..1 on a dB scale (`tui.audio.meter_level`: 0 is -60 dBFS, 1 is
0 dBFS), not an RMS amplitude (a latest-value topic)."""

MIN_TURN_MS = 300
"""A push-to-talk turn with less captured audio than this is not committed. The server's own floor
is 100 ms (input_audio_buffer_commit_empty), but opening and closing the device alone captures more,
so a quick tap (space, space) would pass it and earn a failed transcription (audio_unintelligible)
and a reply to nothing. No word fits in 300 ms with the press and the release around it."""


SILENT_LISTENING_MS = 2000
"""Hands-free listening that has heard only digital silence this long says so: no turn will ever
end (the server's VAD hears nothing), and a muted microphone is otherwise only a still level bar."""


class TurnMode(StrEnum):
    """Who decides when a user turn ends."""

    PUSH_TO_TALK = "push-to-talk"
    HANDS_FREE = "hands-free"


class VoiceError(Exception):
    """A one-line reason a voice action could not be done (no device, not connected, too short)."""


def unsendable(sent_ms: int, *, heard: bool) -> str | None:
    """Why a push-to-talk turn of `sent_ms` holds no speech to send (`heard`: any sample was not
    digital silence), or None when it is worth committing. Said after "not sent: ", with the turn's
    length first: on a narrow recorder line the end is what gets cut."""
    if sent_ms < MIN_TURN_MS:
        return f"{sent_ms} ms, too short to hold speech"  # ms: "0.3 s, too short" read as the floor itself
    if not heard:
        return f"{sent_ms / 1000:.1f} s of digital silence (microphone muted?)"
    return None


def refusal_said(summary: str, seconds: float) -> str:
    """What the recorder says of the microphone's audio the server refused (`summary`: the error's
    `code: message`), `seconds` into what it had streamed: said after "not sent: " for a push-to-talk
    turn, after "hands-free stopped: " for listening."""
    return f"the server refused the audio at {seconds:.1f} s: {printable(summary).rstrip('. ')}"


class NotConnected(VoiceError):
    """No session is open: the app says what comes next (a session opening, a reconnect, ctrl+r)."""


class TurnNotSent(VoiceError):
    """A push-to-talk turn that held no speech (too short, or digital silence): the buffer was
    cleared instead of committed. Not a fault: the recorder says so, without a notice."""


@dataclass(frozen=True, slots=True)
class CutTurn:
    """What a session's end took from the user: a push-to-talk turn recorded and never committed,
    or hands-free listening (`stop_turns`)."""

    mode: TurnMode
    recorded_ms: int
    """Audio captured in the push-to-talk turn (what was appended and never committed)."""


class VoiceController:
    """Owns the microphone and the speaker for one app; talks to the session it is given."""

    def __init__(
        self,
        bus: Bus,
        *,
        playback: bool = True,
        active_response: Callable[[], str | None] = lambda: None,
        input_device: str | None = None,
        output_device: str | None = None,
    ) -> None:
        self.bus = bus
        self.input_device = input_device
        """The microphone the user named (an index or a part of its name; None: the default)."""
        self.output_device = output_device
        """The speaker the user named, as `input_device`."""
        self._session_items: set[str] = set()
        """The items whose audio this session sent: only they can be truncated. A reply of a
        session that dropped plays on after the reconnect, and the new session knows none of its
        items (a truncate of one earned `item_truncate_invalid_item_id`)."""
        self._devices_said: dict[str, str] = {}
        """The device last said to be in use for "microphone" and "speaker" (said again on a change)."""
        self._active_response = active_response
        """The response in progress, as the frames tell it (the session-facts projection)."""
        self._cancelled: set[str] = set()
        """Responses we already asked to cancel (a second cancel would only earn an error)."""
        self._create_awaiting: str | None = None
        """The event_id of our response.create whose response has not begun yet (None: none)."""
        self._create_wanted = False
        """Another response was asked for meanwhile: sent once the awaited one begins (see `ask_response`)."""
        self._cancel_awaited = False
        """A push-to-talk turn began (barge-in) before the awaited response did: it is cancelled as it begins."""
        self.session: RealtimeSession | None = None
        self.publish_fact: Callable[[Envelope], None] = lambda fact: bus.publish(FRAMES, fact)
        """How device trouble is told: the app sets its own, which also writes the fact to the capture."""
        self.mode = TurnMode.PUSH_TO_TALK
        self.playback_enabled = playback
        self.recording = False
        self.last_turn_ms = 0
        self.audio_ready: bool | None = None
        """Whether the audio stack loaded ahead of the first turn (None: not tried yet)."""
        self.mic_problem: str | None = None
        """Why the microphone cannot open, as the check in `prepare` or the last turn found it (None:
        it can, or it was not checked)."""
        self._setup: asyncio.Future[None] | None = None
        """Set from `setup_begins` until `prepare` ends: PortAudio is being started there, and a
        device opened meanwhile waits for it (two PortAudio starts side by side are not safe)."""
        self._mics_opened = 0
        """Microphones opened so far: a check that began before one opened is out of date."""
        self._mic: Microphone | None = None
        self._heard = False
        """Whether the turn's audio so far holds a sample other than zero (a muted device sends zeros)."""
        self._append_ids = ""
        """What the event id of each append the microphone sends since it opened begins with; its
        number (hex) follows: an error naming one refuses the audio. Numbered, not kept: an hour of
        hands-free is 180,000 appends (25 MB of ids in a dict, which dropping the oldest made miss a
        refusal from a server a flood of appends had left behind)."""
        self._append_starts = array("q")
        """Bytes the microphone had sent before each of its appends, by number."""
        self._streamed = 0
        """Bytes the microphone has sent since it opened."""
        self.refused: str | None = None
        """What the server said refusing the microphone's audio since it opened (`refusal_said`), or None.
        The rest is not sent: a buffer the server holds full refuses every append after (one error
        each, thousands a minute), and a commit would make a turn of part of what was said."""
        self.on_audio_refused: Callable[[str], None] | None = None
        """Told once per opening of the microphone that the server refused its audio (`refused`): the
        app ends the turn, or hands-free, and says why."""
        self._sender: asyncio.Task[None] | None = None
        self._speaker: Speaker | None = None
        self._speaker_failed = False
        self.on_speaker_problem: Callable[[str], None] | None = None
        """Told that the speaker did not open, and why (the app says it on the recorder line); None: a notice."""
        self._player: asyncio.Task[None] | None = None

    @property
    def heard(self) -> bool:
        """Whether the microphone's audio since it last opened holds a sample other than zero
        (a muted device sends only zeros)."""
        return self._heard

    # -- turns ------------------------------------------------------------------------------

    def setup_begins(self) -> None:
        """Mark the audio setup (`prepare`) as begun, before its worker runs: a device opened from
        now on waits for it."""
        self._setup = asyncio.get_running_loop().create_future()

    async def prepare(self, *, check_microphone: bool = False) -> None:
        """Load the audio stack in a worker thread so the first turn starts capturing at once; with
        `check_microphone`, then look for the microphone a turn would open, without opening it, and
        keep why there is none in `mic_problem` (a machine without one said "ready" until the
        first press)."""
        from tui.audio import prepare_audio

        try:
            self.audio_ready = await asyncio.to_thread(prepare_audio)
            if check_microphone:
                await self._check_microphone()
        finally:
            if self._setup is not None and not self._setup.done():
                self._setup.set_result(None)

    async def _check_microphone(self) -> None:
        from tui.audio import AudioDeviceError, find_device

        opened = self._mics_opened
        try:
            await asyncio.to_thread(find_device, "input", self.input_device)
            problem = None
        except AudioDeviceError as exc:
            problem = f"microphone unavailable: {exc}"
        except Exception:  # noqa: BLE001 - a surprise here claims nothing: a press says what it finds
            return
        if self._mics_opened == opened:  # else a microphone opened meanwhile: it says more than the check
            self.mic_problem = problem

    async def _setup_done(self) -> None:
        """Return once the audio setup (`prepare`) has ended, if it is under way."""
        setup = self._setup
        if setup is not None and not setup.done():
            await asyncio.wait([setup])

    async def start_turn(self) -> None:
        """Open the microphone and stream it into the input buffer until `finish_turn`.

        The microphone opens first: with no device, nothing is sent (no barge-in, no clear).
        """
        session = self._open_session()
        await self._start_mic(session, before_streaming=self._begin_turn)

    def _begin_turn(self, session: RealtimeSession) -> None:
        self.interrupt_playback()
        # The response we asked for has not begun: there is none to cancel yet, and begun, it would
        # play over the user's turn (into the microphone) and still run when the turn asks for its own.
        self._cancel_awaited = self._create_awaiting is not None
        session.send({"type": "input_audio_buffer.clear"})

    async def finish_turn(self) -> int:
        """Stop the microphone, commit what was recorded and ask for a response; returns the ms sent."""
        session = self._open_session()
        sent_ms = await self._stop_mic()
        self.last_turn_ms = sent_ms
        if self.refused is not None:
            # What reached the buffer is part of the turn: committed, it would be answered as the whole.
            session.send({"type": "input_audio_buffer.clear"})
            raise TurnNotSent(f"not sent: {self.refused}; nothing was committed")
        why = unsendable(sent_ms, heard=self._heard)
        if why is not None:
            # Committed, it would be transcribed as nothing (audio_unintelligible) and answered anyway.
            session.send({"type": "input_audio_buffer.clear"})
            # "not sent" first: the recorder's line is cut at its end on a narrow terminal.
            raise TurnNotSent(f"not sent: {why}")
        session.send({"type": "input_audio_buffer.commit"})
        self.ask_response(session)
        return sent_ms

    async def stop_listening(self) -> int:
        """Stop the microphone without committing (the server's VAD commits each turn it heard, so a
        commit of ours would come second and find the buffer empty); returns the ms sent."""
        sent_ms = await self._stop_mic()
        self.last_turn_ms = sent_ms
        return sent_ms

    async def start_hands_free(self, session_update: dict[str, object]) -> None:
        """Switch the session to server VAD and stream the microphone continuously."""
        session = self._open_session()
        await self._start_mic(session)
        session.send(session_update)
        self.mode = TurnMode.HANDS_FREE

    async def stop_hands_free(self, session_update: dict[str, object]) -> None:
        """Back to push-to-talk: stop streaming, turn server VAD off, drop any partial turn."""
        await self._stop_mic()
        self.mode = TurnMode.PUSH_TO_TALK
        if self.session is not None and self.session.is_open:
            self.session.send(session_update)
            self.session.send({"type": "input_audio_buffer.clear"})

    async def _start_mic(
        self, session: RealtimeSession, before_streaming: Callable[[RealtimeSession], None] | None = None
    ) -> None:
        from tui.audio import AudioDeviceError, Microphone

        await self._setup_done()
        mic = Microphone(device=self.input_device, on_level=lambda level: self.bus.publish(MIC_LEVEL, level))
        loop = asyncio.get_running_loop()
        try:
            # Opening PortAudio probes every device (tens of ms): keep that off the UI loop.
            await asyncio.to_thread(mic.start, loop)
        except AudioDeviceError as exc:
            # The recorder shows this one; the log keeps it too, without a second toast.
            self.mic_problem = f"microphone unavailable: {exc}"
            self._note("rt.audio", self.mic_problem, notify=False)
            raise VoiceError(f"microphone unavailable: {exc}") from None
        except asyncio.CancelledError:
            # The app is ending while the device opens (the thread cannot be stopped): it closes
            # the device once it has opened it (stop waits for start's lock).
            loop.run_in_executor(None, mic.stop)
            raise
        if not session.is_open:
            # The session ended while the device was opening (slowly): nothing to stream to, and a
            # microphone left open here would never be closed by the next turn (it finds no session).
            await asyncio.to_thread(mic.stop)
            await mic.aclose()
            raise VoiceError("not recording: the session ended while the microphone was opening")
        self._say_device("microphone", mic.device_name)
        self.mic_problem = None  # there is one now (plugged in since the check, or it came back)
        self._mics_opened += 1
        if before_streaming is not None:
            before_streaming(session)
        self._mic = mic
        self._heard = False
        self._append_ids, self._append_starts = new_id("evt_", 10) + "m", array("q")
        self._streamed, self.refused = 0, None
        self.recording = True
        self._sender = asyncio.create_task(self._stream(mic, session), name="rt-mic-sender")

    async def _stop_mic(self) -> int:
        mic, sender = self._mic, self._sender
        self._mic, self._sender, self.recording = None, None, False
        if mic is None:
            return 0
        try:
            # Stopping joins PortAudio's thread and releases the device: off the UI loop.
            await asyncio.to_thread(mic.stop)
        except OSError as exc:
            self._note("rt.audio", f"microphone did not close cleanly: {exc}")
        await mic.aclose()
        if sender is not None:
            await sender
        return mic.captured_ms

    async def _stream(self, mic: Microphone, session: RealtimeSession) -> None:
        from tui.audio import BYTES_PER_MS, to_b64

        silent_bytes = 0
        async for chunk in mic.chunks():
            if not self._heard and chunk.strip(b"\0"):
                self._heard = True
            elif not self._heard and self.mode is TurnMode.HANDS_FREE:
                silent_bytes += len(chunk)
                if silent_bytes // BYTES_PER_MS >= SILENT_LISTENING_MS > (silent_bytes - len(chunk)) // BYTES_PER_MS:
                    # Once per listening: push-to-talk says it per turn ("not sent: … digital silence").
                    self._note("rt.audio", "hands-free hears only digital silence: is the microphone muted?")
            if session.is_open and self.refused is None:
                starts = self._append_starts
                event_id = f"{self._append_ids}{len(starts):x}"
                session.send({"type": "input_audio_buffer.append", "audio": to_b64(chunk), "event_id": event_id})
                starts.append(self._streamed)
                self._streamed += len(chunk)

    def _watch_refusals(self, frames: Iterable[Envelope]) -> None:
        """Note the first error that refuses an append of the microphone's (`refused`), and tell the app."""
        from tui.audio import BYTES_PER_MS

        for env in frames:
            if env.type != "error" or env.direction is not Direction.IN:
                continue
            event_id = text(obj(env.data.get("error")).get("event_id")) or ""
            streamed = self._streamed_before(event_id)
            if streamed is None:
                continue
            self.refused = refusal_said(error_summary(env.data), streamed / BYTES_PER_MS / 1000)
            self._note("rt.audio", f"microphone audio no longer sent: {self.refused}", notify=False)
            if self.on_audio_refused is not None:
                self.on_audio_refused(self.refused)
            return

    def _streamed_before(self, event_id: str) -> int | None:
        """Bytes sent before the microphone's append `event_id` names, or None when it names none."""
        if not event_id.startswith(self._append_ids):
            return None
        try:
            number = int(event_id[len(self._append_ids) :], 16)
        except ValueError:
            return None
        starts = self._append_starts
        return starts[number] if 0 <= number < len(starts) else None

    def session_frames(self, frames: Iterable[Envelope]) -> None:
        """The session's frames as they are journaled: what the voice controller waits for in them
        (an error refusing the microphone's audio, the response a response.create of ours began)."""
        if self.recording and self.refused is None and self._append_starts:
            self._watch_refusals(frames)
        self.response_frames(frames)

    def ask_response(self, session: RealtimeSession) -> None:
        """Ask for a response to everything said so far: now, or, while our last response.create
        has not begun its response (100-300 ms on a real server), once it has.

        A second response.create in that gap is refused (conversation_already_has_active_response:
        the app broke its own linter's `response-while-active`), and the message it answered went
        unanswered. Deferred, it cancels the response that began and asks again, as a message sent
        during a response does (barge-in): the new response answers every message sent since."""
        if self._create_awaiting is not None:
            self._create_wanted = True
            return
        create: dict[str, Any] = {"type": "response.create"}
        session.send(create)
        self._create_awaiting = str(create.get("event_id", ""))

    def response_frames(self, frames: Iterable[Envelope]) -> None:
        """The session's frames, while a response.create of ours awaits its response: its
        `response.created`, or the error refusing it (one naming it, or naming no frame), ends the
        wait (and sends a deferred ask)."""
        if self._create_awaiting is None:
            return
        for env in frames:
            if env.direction is not Direction.IN:
                if env.type == "rt.connection":  # a new connection: nothing of the old one is awaited
                    self._create_awaiting, self._create_wanted, self._cancel_awaited = None, False, False
                continue
            # An error naming no event_id may be this create's refusal (a server that does not echo
            # ids, a rate limit): waiting on, every later ask of the session stayed deferred for good;
            # a second create while a response is under way costs one refusal, said in the log.
            if env.type == "response.created" or (
                env.type == "error" and obj(env.data.get("error")).get("event_id") in (self._create_awaiting, None, "")
            ):
                self._create_awaiting = None
                cancel, self._cancel_awaited = self._cancel_awaited, False
                if cancel and env.type == "response.created":
                    self._cancel_begun(env)
                if self._create_wanted and self.session is not None and self.session.is_open:
                    self._create_wanted = False
                    self.interrupt_playback()  # the response that began answers too little: cancelled
                    self.ask_response(self.session)
                return

    def _cancel_begun(self, created: Envelope) -> None:
        """Cancel the response `created` names: the user barged in before it began."""
        response_id = obj(created.data.get("response")).get("id")
        if not isinstance(response_id, str) or self.session is None or not self.session.is_open:
            return
        if response_id not in self._cancelled:
            self._cancelled.add(response_id)
            self.session.send({"type": "response.cancel", "response_id": response_id})

    def _open_session(self) -> RealtimeSession:
        if self.session is None or not self.session.is_open:
            raise NotConnected("not connected: wait for the session to open (see the status line)")
        return self.session

    # -- playback ---------------------------------------------------------------------------

    def start_playback(self) -> None:
        """Play assistant audio from the bus as it arrives (on its own lossless subscription)."""
        if self.playback_enabled and self._player is None:
            sub = self.bus.subscribe(FRAMES, Mode.LOSSLESS)
            self._player = asyncio.create_task(self._play(sub), name="rt-playback")

    async def _play(self, sub: Subscription[Envelope]) -> None:
        from tui.audio import from_b64

        try:
            async for env in sub:
                try:
                    if env.type in ("response.output_audio.delta", "response.audio.delta"):
                        delta = env.data.get("delta")
                        speaker = await self._ensure_speaker()
                        if speaker is not None and isinstance(delta, str):
                            item_id = str(env.data.get("item_id"))
                            self._session_items.add(item_id)
                            speaker.enqueue(from_b64(delta), item_id)
                    elif env.type == "input_audio_buffer.speech_started":
                        # With server VAD the server cancels its own response (interrupt_response); we
                        # only stop playing and report what was heard.
                        self.interrupt_playback(cancel=False)
                except ValueError as exc:
                    self._note("rt.audio", f"assistant audio not played: {exc}", notify=False)
        finally:
            sub.close()

    def speaking_ms(self) -> float | None:
        """While assistant audio plays, how much of the reply playing has been played (ms); None
        when nothing plays (or there is no speaker). Counted up from what the speaker took, not
        down from what has arrived: a reply still streaming in has no known end."""
        speaker = self._speaker
        if speaker is None or speaker.idle:
            return None
        item = speaker.current_item
        return float(speaker.played_ms(item)) if item is not None else 0.0

    @property
    def playing(self) -> bool:
        """True while assistant audio waits to be handed to the speaker."""
        return self._speaker is not None and not self._speaker.idle

    async def _ensure_speaker(self) -> Speaker | None:
        if self._speaker is not None or self._speaker_failed:
            return self._speaker
        from tui.audio import AudioDeviceError, Speaker

        await self._setup_done()
        if self._speaker is not None or self._speaker_failed:
            return self._speaker  # opened (or failed) by another caller meanwhile
        speaker = Speaker(device=self.output_device)
        try:
            # Opening PortAudio probes devices: off the loop, which is busy receiving the reply.
            await asyncio.to_thread(speaker.start)
        except AudioDeviceError as exc:
            self._speaker_failed = True
            message = f"speaker unavailable, assistant audio is not played: {exc}"
            if self.on_speaker_problem is not None:
                self.on_speaker_problem(message)
            else:
                self._note("rt.audio", message)
            return None
        self._speaker = speaker
        self._say_device("speaker", speaker.device_name)
        return speaker

    def _say_device(self, role: str, name: str) -> None:
        """Note in the log which device plays `role` ("microphone", "speaker"), the first time and
        whenever it changes (the default device can change between turns)."""
        if name and self._devices_said.get(role) != name:
            self._devices_said[role] = name
            self._note("rt.audio", f"{role}: {name}", notify=False)

    def interrupt_playback(self, *, cancel: bool = True) -> bool:
        """Barge-in: cancel the response in progress, stop local playback, and tell the server how much
        of each item the user actually heard. True when a response in progress was cancelled."""
        active = self._active_response()
        cancelled = False
        if cancel and self.session is not None and self.session.is_open and active is not None:
            if active not in self._cancelled:
                self._cancelled.add(active)
                self.session.send({"type": "response.cancel", "response_id": active})
                cancelled = True
            active = None
        if self._speaker is None:
            return cancelled
        heard = self._speaker.clear(streaming=active is not None)
        if self.session is None or not self.session.is_open:
            return cancelled
        for item_id, played_ms in heard.items():
            if item_id not in self._session_items:
                continue  # an ended session's reply: stopped, and nothing to tell this one
            # audio_end_ms comes from samples actually played, never wall-clock time (§6.2).
            self.session.send(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": played_ms,
                }
            )
        return cancelled

    def stop_playback(self, why: str) -> None:
        """Stop what plays, its session being closed (`why`), and note in the log how much of each
        reply was played: no truncate can tell that session any more, and the reply went on
        playing over the next session as if nothing had happened."""
        if self._speaker is None or self._speaker.idle:
            return
        for item_id, played_ms in self._speaker.clear(streaming=True).items():
            self._note("rt.audio", f"reply {item_id}: its audio stopped after {played_ms / 1000:.1f} s ({why})")

    # -- shutdown ---------------------------------------------------------------------------

    async def stop_turns(self) -> CutTurn | None:
        """The session is gone: stop the microphone without sending anything, back to push-to-talk.
        Returns what was cut short (a turn being recorded, hands-free listening), or None."""
        cut = None
        if self.mode is TurnMode.HANDS_FREE or self.recording:
            recorded_ms = self._mic.captured_ms if self._mic is not None else 0
            cut = CutTurn(self.mode, recorded_ms)
        with contextlib.suppress(Exception):
            await self._stop_mic()
        self.mode = TurnMode.PUSH_TO_TALK
        self._session_items.clear()  # what still plays was that session's (see `_session_items`)
        self._cancelled.clear()
        self._create_awaiting, self._create_wanted, self._cancel_awaited = None, False, False
        return cut

    async def close(self) -> None:
        """Stop the microphone, the player and the speaker."""
        with contextlib.suppress(Exception):
            await self._stop_mic()
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
        if self._speaker is not None:
            self._speaker.close()

    def _note(self, event_type: str, message: str, *, notify: bool = True) -> None:
        """A local fact about the devices, for the log (and a notice unless `notify` is False)."""
        self.publish_fact(local_envelope(event_type, message, notify=notify))
