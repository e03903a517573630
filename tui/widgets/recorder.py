"""The recorder widget: push-to-talk or hands-free state, elapsed time and a live level meter."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input

from .text_cut import end_cut


class RecorderState(StrEnum):
    """What the microphone is doing."""

    IDLE = "idle"
    RECORDING = "recording"
    LISTENING = "listening"
    """Hands-free (server VAD): the mic streams continuously; the server decides turns."""
    SENDING = "sending"
    UNAVAILABLE = "unavailable"
    """No microphone."""
    DISCONNECTED = "disconnected"
    """The session is closed or failed: nothing can be sent until it reconnects."""
    WAITING = "waiting"
    """A voice step waits for the audio device (slow to open or close): a press now waits its turn."""


METER_WIDTH = 24
"""Cells in the level bar (at most: on a narrow line it gives way to the hint)."""

MIN_METER_WIDTH = 6
"""A bar narrower than this says nothing: it is left out, and its dB figure with it if need be."""

FLOOR_DB = -60.0
"""Level shown as an empty bar; speech sits around -30 to -10 dBFS."""

NO_AUDIO_SECONDS = 1.0
"""A live microphone sends a level every 20 ms (digital silence too): none for this long while a turn
runs means the device stopped delivering (unplugged, an audio server gone)."""


def level_to_db(level: float) -> float:
    """The microphone's 0..1 level as dBFS. The level is already on a dB scale (`meter_level`:
    0 is FLOOR_DB, 1 is 0 dBFS), so it is not an RMS amplitude: taken for one, speech at -20 dBFS
    read "-4 dB" under a bar in the red, as if the input clipped."""
    return FLOOR_DB + min(1.0, max(0.0, level)) * -FLOOR_DB


class Recorder(Widget):
    """Shows the recording state; the app owns the microphone and tells this widget what happens."""

    DEFAULT_CSS = """
    Recorder { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    Recorder.-recording { background: $error 25%; }
    Recorder.-listening { background: $success 20%; }
    Recorder.-unavailable { color: $text-muted; }
    Recorder.-disconnected { color: $text-muted; }
    """

    state: reactive[RecorderState] = reactive(RecorderState.IDLE)
    level: reactive[float] = reactive(0.0)
    mode: reactive[str] = reactive("push-to-talk")
    kept: reactive[str] = reactive("")
    """Who ends turns when the session the server applied disagrees with `mode` (it refused the
    `session.update` that set `mode` and kept its own turn detection, or another update set one):
    "server VAD", "manual turns", shown in place of `mode`, since it is what the server does. Empty
    when the server does what `mode` asked."""
    kept_why: reactive[str] = reactive("the server kept it: session.update rejected")
    """Why `kept` differs from `mode`, shown after the keys (the app says which)."""
    message: reactive[str] = reactive("")
    """The last turn's fate or a step's problem: a session's end and a new mode clear it."""
    unavailable_why: reactive[str] = reactive("")
    """Why there is no microphone, said while the state is unavailable and `message` says nothing
    else: still true after a reconnect, which clears `message` (it showed "no microphone" alone)."""
    speaker: reactive[str] = reactive("")
    """Why the assistant's replies are not heard: "off" (--no-playback) or "missing" (no speaker
    opened), said after the keys while no turn runs, where there is room; empty while a speaker
    plays them. With no microphone either, the label says both are missing."""
    started_at: reactive[float | None] = reactive(None)
    typing: reactive[bool] = reactive(False)
    """A text input has the focus: space types there, so the hint says to leave it first."""

    def __init__(
        self,
        *,
        speaking: Callable[[], float | None] | None = None,
        microphone_missing: Callable[[], bool] | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name for it
    ) -> None:
        """`speaking`: while the assistant's audio plays, how many milliseconds of its reply have
        played, else None (the app's speaker knows; the line says so, and how to interrupt it).
        `microphone_missing`: whether the last look for a microphone found none (said beside
        "disconnected" too: a session that never opened showed a level meter on a machine with no
        microphone)."""
        super().__init__(id=id)
        self._microphone_missing = microphone_missing or _present
        self._level_at: float | None = None
        """When the microphone last sent a level in this turn (None: not yet)."""
        self._speaking = speaking or _silent
        self._spoke = False
        """The last tick found the assistant's audio playing (the next one clears the line)."""

    def on_mount(self) -> None:
        # The elapsed time moves on its own while recording; 10 Hz is smooth enough for tenths.
        self.set_interval(0.1, self._tick)
        self.watch(self.screen, "focused", self._focus_moved)

    def _focus_moved(self, focused: Widget | None) -> None:
        self.typing = isinstance(focused, Input)

    def validate_level(self, level: float) -> float:
        # The microphone's last level can arrive after the turn ended: only a live mic moves the bar.
        if self.state not in (RecorderState.RECORDING, RecorderState.LISTENING):
            return 0.0
        self._level_at = time.monotonic()  # here, not in a watcher: the same level twice is news too
        return level

    def _tick(self) -> None:
        speaking = self._speaking() is not None
        if speaking or self._spoke or self.state in (RecorderState.RECORDING, RecorderState.LISTENING):
            self.refresh()
        self._spoke = speaking

    def watch_state(self, state: RecorderState) -> None:
        for name in RecorderState:
            self.set_class(state is name, f"-{name.value}")
        if state in (RecorderState.RECORDING, RecorderState.LISTENING):
            self._level_at = None
            self.started_at = time.monotonic()
        else:
            self.level = 0.0
            self.started_at = None

    def watch_mode(self, mode: str) -> None:
        # A note about the last push-to-talk turn ("sent 4.2 s") means nothing in the other mode.
        self.message = ""

    def render(self) -> Text:
        icon, label, style = {
            RecorderState.IDLE: ("○", "ready", "bold"),
            RecorderState.RECORDING: ("●", "REC", "bold red"),
            RecorderState.LISTENING: ("◉", "listening (VAD)", "bold green"),
            RecorderState.SENDING: ("↑", "sending", "bold yellow"),
            RecorderState.UNAVAILABLE: ("×", "no microphone", "bold"),
            RecorderState.DISCONNECTED: ("×", "disconnected", "bold"),
            RecorderState.WAITING: ("◌", "waiting", "bold yellow"),
        }[self.state]
        speaker_note = _SPEAKER_NOTES.get(self.speaker, "")
        if self.state is RecorderState.UNAVAILABLE and self.speaker == "missing":
            label, speaker_note = "no microphone, no speaker", ""  # at 80 columns the note had no room
        elif self.state is RecorderState.DISCONNECTED and self._microphone_missing():
            label = "disconnected, no microphone"
        elapsed = 0.0
        if self.started_at is not None and self.state in (RecorderState.RECORDING, RecorderState.LISTENING):
            elapsed = time.monotonic() - self.started_at
        quiet = self._no_audio_for()
        # A device that stopped delivering left its last level: a full bar would say it still hears.
        db = FLOOR_DB if quiet else level_to_db(self.level)
        head = Text.assemble(
            (f"{icon} {label:<15}", style), (f" {int(elapsed // 60):02d}:{elapsed % 60:04.1f} ", "bold")
        )
        level = Text(f" {db:5.0f} dB ", "dim")
        idle_for_good = self.state in (RecorderState.UNAVAILABLE, RecorderState.DISCONNECTED)
        if idle_for_good:
            # No device, or no session to record for: no clock, level or meter (a meter said
            # something was listening), and the room goes to what to do.
            head, level = Text.assemble((f"{icon} {label}", style), " "), Text()
        badge = Text(f" {self.kept or self.mode} ", "reverse")
        unavailable = self.unavailable_why if self.state is RecorderState.UNAVAILABLE else ""
        said = self.message or unavailable or self._hint()
        room = self.content_size.width or 10_000
        if speaker_note and self.state in (RecorderState.IDLE, RecorderState.UNAVAILABLE):
            # Last, and only whole: the keys and the microphone's trouble come first on a narrow line,
            # before the level bar and the clock (nothing to read while no turn runs).
            with_speaker = f"{said} · {speaker_note}" if said else speaker_note
            if len(f"{icon} {label}   {self.kept or self.mode}   {with_speaker}") <= room:
                said = with_speaker
        if (playing := self._playing()) is not None:
            said = playing  # the last turn's note ("sent 4.2 s") is back when the reply has played
        if quiet:
            # First: on a narrow line the end is cut, and the footer names the key anyway.
            said = f"no audio from the microphone for {quiet:.0f} s" + (f" · {said}" if said else "")
        hint = Text(f"  {said}", "italic")
        # On a narrow line the hint (the key to press, the last turn's fate) comes before the bar:
        # the bar shrinks, then goes, then its dB figure; then, unless a turn is running, the clock
        # (it says 00:00.0 then) and the label's padding; only then is the hint cut at the end.
        spare = room - sum(part.cell_len for part in (head, level, badge, hint))
        if spare + level.cell_len < 0 and self.state not in (RecorderState.RECORDING, RecorderState.LISTENING):
            head = Text.assemble((f"{icon} {label}", style), " ")
            spare = room - sum(part.cell_len for part in (head, level, badge, hint))
        cells = min(METER_WIDTH, spare - 2)
        if cells < MIN_METER_WIDTH or idle_for_good:
            meter = Text()
            if spare < 0:
                level = Text()
        else:
            filled = round((db - FLOOR_DB) / -FLOOR_DB * cells)
            meter = Text.assemble(
                ("▕", "dim"),
                ("█" * filled, "green" if db < -12 else "yellow" if db < -3 else "red"),
                ("░" * (cells - filled), "dim"),
                ("▏", "dim"),
            )
        left = room - sum(part.cell_len for part in (head, meter, level, badge))
        if hint.cell_len > left > 1:
            # Cut here, never inside a number (`PortAudio sees 0 d…` at 100 columns, review 56b).
            hint = Text(end_cut(hint.plain, left), "italic")
        return Text.assemble(head, meter, level, badge, hint, no_wrap=True, overflow="ellipsis")

    def _no_audio_for(self) -> float:
        """Seconds the running turn's microphone has sent no level, once that is `NO_AUDIO_SECONDS`
        or more (0.0: it sends, or no turn runs)."""
        if self.started_at is None or self.state not in (RecorderState.RECORDING, RecorderState.LISTENING):
            return 0.0
        quiet = time.monotonic() - (self._level_at or self.started_at)
        return quiet if quiet >= NO_AUDIO_SECONDS else 0.0

    def _playing(self) -> str | None:
        """What the speaker is doing, while the assistant's audio plays and a key (or speech) can
        interrupt it; None otherwise."""
        if self.state not in (RecorderState.IDLE, RecorderState.LISTENING):
            return None
        played = self._speaking()
        if played is None:
            return None
        talk_key = self.state is RecorderState.IDLE and self.mode == "push-to-talk" and not self.kept
        # Short: on an 80-column hands-free line the head and the badge leave about 40 cells.
        # Space talks over the reply (it stops it, then records): "space: interrupt" read as a key that
        # only stops it, and beside the footer's "space Talk" as a second meaning of the key.
        how = ("Esc, then space" if self.typing else "space") + ": talk over it" if talk_key else "speak to interrupt"
        return f"▶ assistant {played / 1000:.1f} s · {how}"

    def _hint(self) -> str:
        """The keys that matter now; in a text input space types a space, so Esc comes first."""
        hint = self._keys_hint()
        # "Esc, then": in the input Esc only leaves it ("Esc, space: talk" read as either key).
        return f"Esc, then {hint}" if self.typing and hint.startswith("space:") else hint

    def _keys_hint(self) -> str:
        """The keys that matter now, and why the server ends turns its own way when it does."""
        push_to_talk = self.mode == "push-to-talk"
        if self.kept and self.state in (RecorderState.IDLE, RecorderState.LISTENING):
            # The key first: on a narrow line the reason is what gets cut.
            why = f"({self.kept_why})"
            if not push_to_talk:
                return f"v: push-to-talk {why}"
            # Space listens as hands-free does and never commits: the server's VAD ends each turn.
            return f"space: {'stop listening' if self.state is RecorderState.LISTENING else 'listen'} {why}"
        return {
            RecorderState.IDLE: "space: talk" if push_to_talk else "v: stop hands-free",
            RecorderState.RECORDING: "space: send",
            RecorderState.LISTENING: "v: stop hands-free",
            RecorderState.SENDING: "",
            RecorderState.UNAVAILABLE: "",
            RecorderState.DISCONNECTED: "ctrl+r: reconnect",
            RecorderState.WAITING: "",
        }[self.state]


_SPEAKER_NOTES = {"off": "replies not played (--no-playback)", "missing": "no speaker: replies not played"}
"""What the recorder line says of `Recorder.speaker`."""


def _silent() -> float | None:
    return None


def _present() -> bool:
    return False
