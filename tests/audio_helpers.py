"""Helpers for tests that drive real PyAudio through the fake ALSA devices in tests/alsa/fake.conf.

Rules learned the hard way (docs: toolchain notes §1):
- Open every FIFO *before* creating PyAudio: PortAudio probes the devices at init, and a FIFO
  nobody holds blocks that open forever. Both helpers hold their FIFO O_RDWR from construction.
- Stop the audio stream before stopping a helper: a capture stream whose FIFO goes quiet blocks
  PortAudio's thread in read(), and a playback stream whose FIFO is not drained blocks in write().
- The fake devices have no clock; the helpers pace the FIFOs at 24 kHz so streams run in real time.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ALSA_DIR = Path(__file__).parent / "alsa"
FAKE_ALSA_CONF = ALSA_DIR / "fake.conf"
BYTES_PER_SECOND = 48_000  # 24 kHz mono int16
_ENV_KEYS = ("ALSA_CONFIG_PATH", "RT_MIC_FILE", "RT_SPK_FILE")


def no_card_config(folder: Path) -> Path:
    """An alsa-lib config like a machine without a sound card, written into `folder`: the only PCM
    is a hw device that does not exist, so PortAudio sees no devices. (A config with no `default`
    PCM at all trips an assert in PortAudio's ALSA device scan and aborts the process.)"""
    config = folder / "nocard.conf"
    config.write_text("pcm.!default {\n    type hw\n    card 0\n}\n")
    return config


def no_sound_card(folder: Path) -> contextlib.AbstractContextManager[None]:
    """alsa-lib set up as on a machine without a sound card (see `no_card_config`)."""
    return fake_alsa(None, None, config=no_card_config(folder))


@contextlib.contextmanager
def fake_alsa(
    mic_path: str | os.PathLike[str] | None,
    spk_path: str | os.PathLike[str] | None,
    config: str | os.PathLike[str] = FAKE_ALSA_CONF,
) -> Iterator[None]:
    """Point alsa-lib at `config` with capture from `mic_path` and playback to `spk_path`.

    Sets ALSA_CONFIG_PATH, RT_MIC_FILE and RT_SPK_FILE in os.environ (None leaves the config's
    default: /dev/zero and /dev/null) and restores the previous values on exit. alsa-lib reads
    them when PyAudio is created and when a stream opens, so create devices inside the block.
    """
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    values = {"ALSA_CONFIG_PATH": config, "RT_MIC_FILE": mic_path, "RT_SPK_FILE": spk_path}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _open_small_fifo(path: Path) -> int:
    """Create a FIFO and hold it O_RDWR (so nobody's open blocks), shrunk to one page: like a real
    device, a late reader finds at most a few periods queued, and a writer runs at most that far ahead."""
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
    return fd


class FifoFeeder:
    """A fake microphone: a FIFO written in real time, silence until `play()` gives it audio.

    `chunk_bytes` must be at least the capture read size (frames_per_buffer * 2): alsa-lib's
    file plugin does one read() per period and a short read corrupts the period.
    """

    def __init__(self, path: str | os.PathLike[str], chunk_bytes: int = 960) -> None:
        self.path = Path(path)
        self.chunk_bytes = chunk_bytes
        self._fd = _open_small_fifo(self.path)
        self.capacity = fcntl.fcntl(self._fd, fcntl.F_GETPIPE_SZ)
        """Bytes the FIFO holds: the most a late reader can find queued."""
        self.written = 0
        """Bytes written into the FIFO so far (a reader can never get more)."""
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._stop = threading.Event()
        self.played = threading.Event()
        """Set when everything passed to `play()` has been written."""
        self.play_started_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="fifo-feeder", daemon=True)

    def __enter__(self) -> FifoFeeder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start writing (silence until `play()`)."""
        self._thread.start()

    def play(self, pcm: bytes) -> None:
        """Write `pcm` next, in real time, then go back to silence."""
        with self._lock:
            self.played.clear()
            self._pending.extend(pcm)
            self.play_started_at = time.monotonic()

    def stop(self) -> None:
        """Stop writing and close the FIFO. Stop the capture stream first."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _next_chunk(self) -> bytes:
        with self._lock:
            chunk = bytes(self._pending[: self.chunk_bytes])
            del self._pending[: self.chunk_bytes]
            if not self._pending:
                self.played.set()
        return chunk.ljust(self.chunk_bytes, b"\0")

    def _run(self) -> None:
        t0 = time.monotonic()
        written = 0
        while not self._stop.is_set():
            with self._lock:
                idle = not self._pending
            chunk = self._next_chunk()
            view = memoryview(chunk)
            while view and not self._stop.is_set():
                try:
                    # Writes of at most PIPE_BUF bytes are atomic: all or EAGAIN, never a torn period.
                    count = os.write(self._fd, view)
                    self.written += count
                    view = view[count:]
                except BlockingIOError:
                    if idle:
                        break  # nobody is reading: a real microphone's silence would be lost too
                    time.sleep(0.002)
            written += len(chunk)
            now = time.monotonic()
            if now - (t0 + written / BYTES_PER_SECOND) > 0.05:
                # Fell behind (the reader was away): carry on at real time instead of bursting to catch up.
                t0 = now - written / BYTES_PER_SECOND
            time.sleep(max(0.0, t0 + written / BYTES_PER_SECOND - now))


class FifoSink:
    """A fake speaker: a FIFO drained in real time, keeping every byte the device wrote.

    The pipe is shrunk to one page so the playback stream runs at most a few ms ahead of the clock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = _open_small_fifo(self.path)
        self._data = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fifo-sink", daemon=True)

    def __enter__(self) -> FifoSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start draining the FIFO."""
        self._thread.start()

    @property
    def data(self) -> bytes:
        """Everything the device has written so far."""
        with self._lock:
            return bytes(self._data)

    def stop(self) -> None:
        """Stop draining and close the FIFO. Close the playback stream first."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._read_available()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _read_available(self) -> int:
        total = 0
        while True:
            try:
                block = os.read(self._fd, 65536)
            except (BlockingIOError, OSError):
                return total
            if not block:
                return total
            with self._lock:
                self._data.extend(block)
            total += len(block)

    def _run(self) -> None:
        t0 = time.monotonic()
        budget = 0
        while not self._stop.is_set():
            budget += 960  # 20 ms of audio per tick
            while not self._stop.is_set():
                with self._lock:
                    have = len(self._data)
                if have >= budget:
                    break
                try:
                    block = os.read(self._fd, budget - have)
                except BlockingIOError:
                    time.sleep(0.002)
                    continue
                with self._lock:
                    self._data.extend(block)
            time.sleep(max(0.0, t0 + budget / BYTES_PER_SECOND - time.monotonic()))


def espeak_available() -> bool:
    """True if the `espeak-ng` binary is on PATH."""
    return shutil.which("espeak-ng") is not None


def espeak_wav(text: str, path: str | os.PathLike[str], rate: int | None = None) -> Path:
    """Synthesize `text` with `espeak-ng -v en-us -w` into a 22.05 kHz mono 16-bit WAV at `path`.

    `rate` is the speaking rate in words per minute (espeak's `-s`); None keeps espeak's default.
    """
    cmd = ["espeak-ng", "-v", "en-us", "-w", str(path)]
    if rate is not None:
        cmd += ["-s", str(rate)]
    subprocess.run([*cmd, text], check=True, capture_output=True, timeout=30)
    return Path(path)


def sine_pcm(freq: float, ms: float, amplitude: float = 0.5, rate: int = 24000) -> bytes:
    """A sine tone as mono int16 LE PCM."""
    n = int(rate * ms / 1000)
    t = np.arange(n, dtype=np.float64) / rate
    samples = np.rint(amplitude * 32767 * np.sin(2 * math.pi * freq * t))
    return samples.astype("<i2").tobytes()


def find_pcm(haystack: bytes, needle: bytes) -> int:
    """Sample-aligned byte offset of `needle` in `haystack`, or -1."""
    start = haystack.find(needle)
    while start != -1 and start % 2:
        start = haystack.find(needle, start + 1)
    return start


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.01) -> bool:
    """Poll `predicate` until it returns true or `timeout` seconds pass; its final verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
