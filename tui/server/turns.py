"""Turn taking in VAD mode: speech start/stop, auto-commit, barge-in and the idle timeout.

The rules, all on the session audio clock (milliseconds of audio appended since the session
started, protocol reference §5):

- `speech_started.audio_start_ms` is the onset minus `prefix_padding_ms` (never before the
  oldest audio still buffered); its `item_id` is the id the committed item will get.
- `speech_stopped.audio_end_ms` is the end of the silence window, as the service documents
  ("includes the silence duration"); the committed item holds audio_start_ms..audio_end_ms and
  audio after that stays buffered for the next turn.
- semantic_vad: after the short wait of its `eagerness` the words heard so far are recognized;
  a turn that ends in a word that promises more ("and", "um", "because" ... see
  `UNFINISHED_ENDINGS`) keeps waiting up to the documented maximum (8/4/2 s for low/medium/high),
  any other turn ends at the short wait.
- `interrupt_response`: speech starting while a default-conversation response runs cancels it
  (`turn_detected`). `create_response`: a stop (or idle timeout) starts a response when none
  runs. Both default to true; false keeps every VAD event and only drops that automation.
- `idle_timeout_ms` (server_vad only): counted from the later of the end of the last turn and
  the end of playback of the last response (its start on the clock plus its audio length, as a
  client streaming its microphone meanwhile would hear it). When appended audio reaches that
  point plus the timeout with no speech and no response running, the silent stretch is
  committed: `input_audio_buffer.timeout_triggered` {item_id, audio_start_ms, audio_end_ms},
  then the usual commit events, then a response if `create_response`. Since it runs on the
  audio clock, a client that stops sending audio never times out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from . import ids
from .audio_buffer import InputAudioBuffer
from .hearing import BacklogFull
from .vad import EnergyVad, SpeechPaused, SpeechStarted, SpeechStopped, VadSettings

_log = logging.getLogger(__name__)

#: In VAD mode, idle audio older than this is forgotten so a silent hour cannot fill memory.
IDLE_AUDIO_KEEP_MS = 60_000

#: Last words after which semantic_vad assumes the speaker has more to say.
UNFINISHED_ENDINGS = frozenset(
    {
        "and",
        "or",
        "but",
        "so",
        "because",
        "um",
        "umm",
        "uh",
        "uhm",
        "erm",
        "er",
        "hmm",
        "like",
        "then",
        "if",
        "the",
        "a",
        "an",
        "to",
        "of",
        "with",
        "my",
    }
)
_WORD = re.compile(r"[a-z']+")


def sounds_unfinished(text: str) -> bool:
    """True when the heard text ends in a word that promises more (semantic_vad's rule)."""
    words = _WORD.findall(text.lower())
    return bool(words) and words[-1] in UNFINISHED_ENDINGS


@dataclass(frozen=True, slots=True)
class TurnHooks:
    """What turn taking needs from its connection."""

    emit: Callable[..., dict[str, Any]]
    commit: Callable[[bytes, str], None]
    """Commit audio as a user item with the given id (committed + item events + transcription)."""
    response_active: Callable[[], bool]
    """True while a default-conversation response runs."""
    cancel_response: Callable[[str], None]
    """Cancel the running default-conversation response with this reason."""
    start_response: Callable[[], None]
    """Start an automatic response from the session settings."""
    hear: Callable[[str, bytes], Awaitable[str]]
    spawn: Callable[[Coroutine[Any, Any, None]], None]


def _flag(config: dict[str, Any], key: str) -> bool:
    value = config.get(key)
    return value if isinstance(value, bool) else True


class TurnDetector:
    """Runs the session's `turn_detection` over appended audio; idle when it is null."""

    def __init__(self, buffer: InputAudioBuffer, hooks: TurnHooks) -> None:
        self._buffer = buffer
        self._hooks = hooks
        self._config: dict[str, Any] | None = None
        self._vad: EnergyVad | None = None
        self._item_id: str | None = None
        self._start_ms = 0
        self._idle_since_ms = 0
        self._response_start_ms = 0

    def configure(self, config: dict[str, Any] | None) -> None:
        """Apply a new `turn_detection` (a null one means push-to-talk); speech in progress is forgotten."""
        self._config = dict(config) if config is not None else None
        now = self._buffer.now_ms
        self._vad = EnergyVad(VadSettings.from_turn_detection(config), now) if config is not None else None
        self._item_id = None
        self._idle_since_ms = now

    def on_audio(self, pcm: bytes) -> None:
        """Examine audio just appended to the buffer (24 kHz PCM16)."""
        if self._vad is not None:
            self._run_vad(self._vad, pcm)

    def _run_vad(self, vad: EnergyVad, pcm: bytes) -> None:
        for event in vad.feed(pcm):
            if isinstance(event, SpeechStarted):
                self._on_started(event)
            elif isinstance(event, SpeechPaused):
                self._on_paused(vad, event)
            else:
                self._on_stopped(event)
        if not vad.in_speech:
            self._check_idle()
            self._buffer.discard_before(self._buffer.now_ms - IDLE_AUDIO_KEEP_MS)

    def manual_commit_id(self) -> str:
        """The id for a manual commit: it takes over the id a speech_started announced."""
        item_id = self._item_id or ids.item_id()
        self._forget_turn()
        return item_id

    def cleared(self) -> None:
        """The buffer was cleared: speech in progress is gone, idle time restarts."""
        self._forget_turn()

    def response_started(self) -> None:
        """A default-conversation response began (its playback starts about now)."""
        self._response_start_ms = self._buffer.now_ms

    def response_finished(self, audio_ms: int) -> None:
        """That response ended after `audio_ms` of audio: idle time counts from its playback end."""
        playback_end = self._response_start_ms + audio_ms
        self._idle_since_ms = max(self._idle_since_ms, self._buffer.now_ms, playback_end)

    # ---- events --------------------------------------------------------------------------

    def _on_started(self, event: SpeechStarted) -> None:
        self._item_id = ids.item_id()
        self._start_ms = max(event.audio_start_ms, self._buffer.start_ms)
        self._hooks.emit("input_audio_buffer.speech_started", audio_start_ms=self._start_ms, item_id=self._item_id)
        if self._hooks.response_active() and _flag(self._config or {}, "interrupt_response"):
            self._hooks.cancel_response("turn_detected")

    def _on_paused(self, vad: EnergyVad, event: SpeechPaused) -> None:
        item_id = self._item_id
        if item_id is None:
            return
        pcm = self._buffer.peek(self._start_ms, event.audio_end_ms)
        self._hooks.spawn(self._judge_pause(vad, item_id, event.audio_end_ms, pcm))

    async def _judge_pause(self, vad: EnergyVad, item_id: str, end_ms: int, pcm: bytes) -> None:
        try:
            text = await self._hooks.hear(item_id, pcm)
        except BacklogFull:
            # Audio faster than real time: the pause is judged on no words, i.e. the turn ends.
            text = ""
        except Exception:
            _log.exception("simulator: semantic_vad could not hear %s", item_id)
            text = ""
        # The ruling stands only for the pause it was asked about (a commit or clear may intervene).
        if vad is not self._vad or self._item_id != item_id or vad.paused_at != end_ms:
            return
        if sounds_unfinished(text):
            vad.resume()
        else:
            stopped = vad.stop_at_pause()
            if stopped is not None:
                self._on_stopped(stopped)
        # Catch up with the audio that arrived while the words were being recognized.
        self._run_vad(vad, b"")

    def _on_stopped(self, event: SpeechStopped) -> None:
        item_id = self._item_id or ids.item_id()
        self._item_id = None
        self._hooks.emit("input_audio_buffer.speech_stopped", audio_end_ms=event.audio_end_ms, item_id=item_id)
        self._hooks.commit(self._buffer.take(self._start_ms, event.audio_end_ms), item_id)
        self._idle_since_ms = max(self._idle_since_ms, event.audio_end_ms)
        if _flag(self._config or {}, "create_response") and not self._hooks.response_active():
            self._hooks.start_response()

    def _check_idle(self) -> None:
        config = self._config or {}
        timeout = config.get("idle_timeout_ms")
        if config.get("type") != "server_vad" or not isinstance(timeout, int) or timeout <= 0:
            return
        if self._hooks.response_active():
            return
        start = max(self._idle_since_ms, self._buffer.start_ms)
        end = self._idle_since_ms + timeout
        if self._buffer.now_ms < end:
            return
        item_id = ids.item_id()
        self._hooks.emit(
            "input_audio_buffer.timeout_triggered", item_id=item_id, audio_start_ms=start, audio_end_ms=end
        )
        self._hooks.commit(self._buffer.take(start, end), item_id)
        self._idle_since_ms = end
        if _flag(config, "create_response"):
            self._hooks.start_response()

    def _forget_turn(self) -> None:
        if self._vad is not None:
            self._vad.reset()
        self._item_id = None
        self._idle_since_ms = max(self._idle_since_ms, self._buffer.now_ms)
