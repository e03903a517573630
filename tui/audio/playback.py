"""Speaker playback: a PortAudio callback stream fed from a jitter buffer, counting what was played."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from tui.audio.devices import DeviceChoice, close_stream, open_stream
from tui.audio.pcm import BYTES_PER_MS, SAMPLE_RATE, SAMPLE_WIDTH, float_to_pcm, pcm_to_int16

# PyAudio's constants, copied so the callback never touches the pyaudio module.
_PA_CONTINUE = 0


class _Segment:
    """A run of queued PCM; `item_id` None means not counted (already counted, e.g. a fade tail)."""

    __slots__ = ("item_id", "data", "pos")

    def __init__(self, item_id: str | None, data: bytes) -> None:
        self.item_id = item_id
        self.data = data
        self.pos = 0


class Speaker:
    """Play 24 kHz mono PCM16 per conversation item and count the samples handed to the device.

    `enqueue` may be called from any thread. Playback starts once `prebuffer_ms` of audio is queued,
    or once the first audio has waited that long (so a short reply still plays); an underrun fills
    with silence and re-arms the pre-buffer. `played_ms(item_id)` is what
    `conversation.item.truncate.audio_end_ms` should report after an interruption.
    """

    def __init__(
        self,
        *,
        frames_per_buffer: int = 480,
        prebuffer_ms: int = 100,
        fade_ms: int = 10,
        device: DeviceChoice = None,
    ) -> None:
        self.frames_per_buffer = frames_per_buffer
        self.device = device
        """The device to open: its index, a part of its name, or None for the default."""
        self.device_name = ""
        """The name of the device last opened (empty before)."""
        self.prebuffer_bytes = prebuffer_ms * BYTES_PER_MS
        self.fade_bytes = fade_ms * BYTES_PER_MS
        self.underruns = 0
        """Periods that ran dry while audio was playing (includes the natural end of each reply)."""
        self._lock = threading.Lock()
        self._segments: deque[_Segment] = deque()
        self._queued = 0
        self._primed = False
        self._waited_bytes = 0
        self._played: dict[str, int] = {}
        self._dropped: set[str] = set()
        self._last_item: str | None = None
        self._current_item: str | None = None
        self._pa: Any = None
        self._stream: Any = None

    @property
    def running(self) -> bool:
        """True between a successful `start()` and `close()`."""
        return self._stream is not None

    @property
    def queued_ms(self) -> float:
        """Audio waiting to be handed to the device."""
        with self._lock:
            return self._queued / BYTES_PER_MS

    @property
    def idle(self) -> bool:
        """True when no audio is waiting; the device may still be playing its own buffer."""
        with self._lock:
            return self._queued == 0

    @property
    def current_item(self) -> str | None:
        """The item playing: the one at the head of the queue (a reply queued after the last one
        played out is playing, from its first sample, though none of it has reached the device yet:
        its clock read the last reply's length until then), else the one whose samples were last
        handed to the device."""
        with self._lock:
            head = self._segments[0].item_id if self._segments else None
            return head if head is not None else self._current_item

    def start(self) -> None:
        """Open the output device and start the callback stream; AudioDeviceError if there is none."""
        if self._stream is not None:
            return
        pa, stream, self.device_name = open_stream(
            "output",
            rate=SAMPLE_RATE,
            frames_per_buffer=self.frames_per_buffer,
            device_index=self.device,
            callback=self._on_audio,
        )
        self._pa, self._stream = pa, stream

    def close(self) -> None:
        """Stop and close the stream (stopping first, which joins the audio thread). Safe to call twice."""
        stream, pa = self._stream, self._pa
        self._stream = self._pa = None
        close_stream(pa, stream)

    def enqueue(self, pcm: bytes, item_id: str) -> None:
        """Queue PCM16 for `item_id`. Audio for an item interrupted by `clear()` is dropped."""
        usable = len(pcm) - len(pcm) % SAMPLE_WIDTH
        if usable == 0:
            return
        with self._lock:
            if item_id in self._dropped:
                return
            self._played.setdefault(item_id, 0)
            self._segments.append(_Segment(item_id, pcm[:usable] if usable != len(pcm) else pcm))
            self._queued += usable
            self._last_item = item_id

    def clear(self, *, streaming: bool = True) -> dict[str, int]:
        """Interrupt: drop queued audio, fading out over `fade_ms` if audio was playing.

        Returns `{item_id: played_ms}` for each interrupted item: those with audio still queued, plus
        the most recently enqueued one when `streaming` (its response may still be sending audio).
        Pass `streaming=False` once the response is done, so a reply heard to the end is not reported
        (and not truncated). Late audio for interrupted items is dropped. The fade tail is counted as
        played at once, so the returned values are final.
        """
        with self._lock:
            interrupted = {seg.item_id for seg in self._segments if seg.item_id is not None}
            if streaming and self._last_item is not None:
                interrupted.add(self._last_item)
            tail = self._take(self.fade_bytes) if self._primed and self.fade_bytes else b""
            self._segments.clear()
            self._queued = 0
            if tail:
                self._segments.append(_Segment(None, _fade_out(tail)))
                self._queued = len(tail)
            else:
                self._primed = False
            self._waited_bytes = 0
            self._dropped |= interrupted
            self._last_item = None
            return {item: self._played.get(item, 0) * 1000 // SAMPLE_RATE for item in interrupted}

    def played_samples(self, item_id: str) -> int:
        """Samples of `item_id` handed to the device so far."""
        with self._lock:
            return self._played.get(item_id, 0)

    def played_ms(self, item_id: str) -> int:
        """Milliseconds of `item_id` handed to the device so far (floor)."""
        return self.played_samples(item_id) * 1000 // SAMPLE_RATE

    def _take(self, nbytes: int) -> bytes:
        """Pop up to `nbytes` from the head of the queue, counting them as played. Lock held."""
        parts: list[bytes] = []
        while nbytes > 0 and self._segments:
            seg = self._segments[0]
            n = min(nbytes, len(seg.data) - seg.pos)
            parts.append(seg.data[seg.pos : seg.pos + n])
            seg.pos += n
            nbytes -= n
            self._queued -= n
            if seg.item_id is not None:
                self._played[seg.item_id] += n // SAMPLE_WIDTH
                self._current_item = seg.item_id
            if seg.pos >= len(seg.data):
                self._segments.popleft()
        return b"".join(parts)

    def _on_audio(self, in_data: Any, frame_count: int, time_info: Any, status: int) -> tuple[bytes, int]:
        # PortAudio thread: only short, non-blocking work under the lock; never raise.
        need = frame_count * SAMPLE_WIDTH
        with self._lock:
            if not self._primed:
                if self._queued == 0:
                    return bytes(need), _PA_CONTINUE
                if self._queued < self.prebuffer_bytes and self._waited_bytes < self.prebuffer_bytes:
                    self._waited_bytes += need
                    return bytes(need), _PA_CONTINUE
                self._primed = True
            out = self._take(need)
            if len(out) < need:
                self.underruns += 1
                self._primed = False
                self._waited_bytes = 0
                out += bytes(need - len(out))
        return out, _PA_CONTINUE


def _fade_out(pcm: bytes) -> bytes:
    """Linear ramp to zero over `pcm`, so an interruption does not click."""
    samples = pcm_to_int16(pcm).astype(np.float32) / 32768.0
    ramp = np.linspace(1.0, 0.0, num=samples.size, endpoint=False, dtype=np.float32)
    return float_to_pcm(samples * ramp)
