"""Microphone capture: a PortAudio callback stream handing PCM16 chunks to an asyncio loop."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from tui.audio.devices import DeviceChoice, close_stream, open_stream
from tui.audio.pcm import BYTES_PER_MS, SAMPLE_RATE, meter_level

LevelCallback = Callable[[float], None]

# PyAudio's constants, copied so the callback never touches the pyaudio module.
_PA_CONTINUE = 0
_PA_INPUT_OVERFLOW = 2


class Microphone:
    """Capture 24 kHz mono PCM16 from an input device into an `asyncio.Queue[bytes]`.

    The PortAudio thread only computes a level and hands each chunk to the loop with
    `call_soon_threadsafe`; everything else (the queue, `on_level`) runs on the loop thread.
    After `stop()`, an empty `b""` is put on the queue to mark the end of the stream.
    """

    def __init__(
        self,
        *,
        frames_per_buffer: int = 480,
        device: DeviceChoice = None,
        on_level: LevelCallback | None = None,
        rate: int = SAMPLE_RATE,
    ) -> None:
        self.frames_per_buffer = frames_per_buffer
        self.device = device
        """The device to open: its index, a part of its name, or None for the default."""
        self.device_name = ""
        """The name of the device last opened (empty before)."""
        self.on_level = on_level
        self.rate = rate
        self.level = 0.0
        """Latest chunk's meter level in 0..1 (dB scale); written by the audio thread."""
        self.overflows = 0
        """Callbacks in which PortAudio reported dropped input."""
        self.bytes_captured = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pa: Any = None
        self._stream: Any = None
        self._ended = threading.Event()
        self._ended.set()  # nothing is running, so there is nothing to wait for
        self._lock = threading.Lock()

    @property
    def queue(self) -> asyncio.Queue[bytes]:
        """Chunks of the current (or last) capture; `b""` marks the end after `stop()`."""
        return self._queue

    @property
    def running(self) -> bool:
        """True between a successful `start()` and `stop()`."""
        return self._stream is not None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Open the input device and start capturing.

        Call it from the loop thread, or pass `loop` when calling from another thread. Raises
        AudioDeviceError when there is no usable input device or PyAudio is missing.
        """
        with self._lock:
            if self._stream is not None:
                return
            self._loop = loop if loop is not None else asyncio.get_running_loop()
            # A fresh queue per capture, bound into the callback: deliveries still pending from a
            # previous capture land in that capture's queue, never in this one.
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            self.level = 0.0
            pa, stream, self.device_name = open_stream(
                "input",
                rate=self.rate,
                frames_per_buffer=self.frames_per_buffer,
                device_index=self.device,
                callback=functools.partial(self._on_audio, queue),
            )
            self._pa = pa
            self._stream = stream
            self._queue = queue
            self._ended = threading.Event()

    def stop(self) -> None:
        """Stop and close the stream, then queue the `b""` end marker. Safe to call twice.

        The stream is stopped before anything else: PortAudio joins its thread there, and after
        that no callback can race with closing.
        """
        with self._lock:
            stream, pa, loop, queue, ended = self._stream, self._pa, self._loop, self._queue, self._ended
            self._stream = self._pa = None
            try:
                close_stream(pa, stream)
            finally:
                # Even if closing failed (a device unplugged mid-turn), readers must see the end.
                if loop is not None and stream is not None:
                    # Queued after every chunk the callback already scheduled, so it really is last.
                    try:
                        loop.call_soon_threadsafe(_finish, queue, ended)
                    except RuntimeError:
                        ended.set()

    async def aclose(self) -> None:
        """Stop, then wait until every captured chunk is in the queue (so `drain()` gets them all)."""
        ended = self._ended
        self.stop()
        await asyncio.sleep(0)  # normally enough: the end marker is already scheduled on this loop
        deadline = time.monotonic() + 2.0  # bounded, in case the capture loop is not this one or is gone
        while not ended.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def get_nowait(self) -> bytes | None:
        """The next captured chunk, or None if none is waiting (the end marker is skipped)."""
        while True:
            try:
                chunk = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return None
            if chunk:
                return chunk

    def drain(self) -> bytes:
        """Everything waiting in the queue, joined; after `aclose()` that is the rest of the capture."""
        parts: list[bytes] = []
        while (chunk := self.get_nowait()) is not None:
            parts.append(chunk)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield chunks of the current capture as they arrive; ends after `stop()`. Call after `start()`."""
        queue = self._queue
        while True:
            chunk = await queue.get()
            if not chunk:
                return
            yield chunk

    def _on_audio(
        self, queue: asyncio.Queue[bytes], in_data: bytes | None, frame_count: int, time_info: Any, status: int
    ) -> tuple[None, int]:
        # PortAudio thread: no locks, no blocking, no exceptions escaping (they abort the stream).
        if status & _PA_INPUT_OVERFLOW:
            self.overflows += 1
        if in_data:
            level = meter_level(in_data)
            self.level = level
            loop = self._loop
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self._deliver, queue, in_data, level)
                except RuntimeError:
                    pass  # the loop is closed; nobody is listening any more
        return None, _PA_CONTINUE

    @property
    def captured_ms(self) -> int:
        """Milliseconds of audio captured so far (the session's 24 kHz mono PCM16)."""
        return self.bytes_captured // BYTES_PER_MS

    def _deliver(self, queue: asyncio.Queue[bytes], chunk: bytes, level: float) -> None:
        self.bytes_captured += len(chunk)
        queue.put_nowait(chunk)
        if self.on_level is not None:
            self.on_level(level)


def _finish(queue: asyncio.Queue[bytes], ended: threading.Event) -> None:
    queue.put_nowait(b"")
    ended.set()
