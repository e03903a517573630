"""The input audio buffer and the session-cumulative audio clock."""

from __future__ import annotations

from collections.abc import Callable

#: 24 kHz mono PCM16.
BYTES_PER_MS = 48
BYTES_PER_SECOND = BYTES_PER_MS * 1000
MIN_COMMIT_MS = 100
#: Most audio one `input_audio_buffer.append` may carry, as sent (protocol reference §3.1).
MAX_APPEND_BYTES = 15 * 1024 * 1024
#: Most audio the buffer holds before a commit or clear: 10 minutes of 24 kHz PCM16 (~27 MiB).
#: The reference documents no such limit; it bounds the simulator's memory per connection. An
#: append past it is refused whole with an `error`, which is also how audio sent faster than
#: real time without turn detection ends: the client must commit or clear.
MAX_BUFFER_MS = 10 * 60 * 1000


def bytes_to_ms(nbytes: int) -> int:
    """Whole milliseconds of 24 kHz PCM16 in `nbytes`."""
    return nbytes // BYTES_PER_MS


class InputAudioBuffer:
    """Audio appended since the last commit, placed on the session's audio clock.

    `audio_start_ms` / `audio_end_ms` in VAD events count milliseconds of all audio appended
    during the session, not per turn (protocol reference §5), so the buffer remembers where its
    first byte sits on that clock.
    """

    def __init__(self, meter: Callable[[int], None] | None = None) -> None:
        self._meter = meter
        """Told every change of the bytes held (the connection's memory account)."""
        self._data = bytearray()
        self._start_byte = 0
        """Session-clock position of `_data[0]`, in bytes."""

    @property
    def now_ms(self) -> int:
        """The session clock: milliseconds of audio appended since the session started."""
        return bytes_to_ms(self._start_byte + len(self._data))

    @property
    def start_ms(self) -> int:
        """Session-clock position of the oldest buffered audio."""
        return bytes_to_ms(self._start_byte)

    @property
    def duration_ms(self) -> int:
        """Milliseconds of audio currently buffered."""
        return bytes_to_ms(len(self._data))

    @property
    def exact_ms(self) -> float:
        """Milliseconds of audio currently buffered, with the fraction (for error messages)."""
        return len(self._data) / BYTES_PER_MS

    def append(self, pcm: bytes) -> None:
        """Add raw PCM16 audio at the end of the buffer."""
        self._data.extend(pcm)
        if self._meter is not None and pcm:
            self._meter(len(pcm))

    def take_all(self) -> bytes:
        """Remove and return everything buffered (a manual commit)."""
        pcm = bytes(self._data)
        self.clear()
        return pcm

    def take(self, start_ms: int, end_ms: int) -> bytes:
        """Remove and return the audio between two clock positions, dropping anything older.

        Audio after `end_ms` stays buffered: it belongs to the next turn.
        """
        start = max(self._offset(start_ms), 0)
        end = min(max(self._offset(end_ms), start), len(self._data))
        pcm = bytes(self._data[start:end])
        self._drop(end)
        return pcm

    def peek(self, start_ms: int, end_ms: int) -> bytes:
        """The audio `take(start_ms, end_ms)` would return, left in place (semantic_vad listens early)."""
        start = max(self._offset(start_ms), 0)
        end = min(max(self._offset(end_ms), start), len(self._data))
        return bytes(self._data[start:end])

    def discard_before(self, ms: int) -> None:
        """Forget audio older than clock position `ms` (idle audio in VAD mode)."""
        self._drop(min(max(self._offset(ms), 0), len(self._data)))

    def clear(self) -> None:
        """Forget everything buffered; the session clock keeps running."""
        self._drop(len(self._data))

    def _offset(self, ms: int) -> int:
        return ms * BYTES_PER_MS - self._start_byte

    def _drop(self, nbytes: int) -> None:
        # Keep sample alignment so later slices never split a 16-bit sample.
        if nbytes < len(self._data):
            nbytes -= nbytes % 2
        del self._data[:nbytes]
        self._start_byte += nbytes
        if not self._data:
            # A bytearray keeps its allocation after `del`: let a drained buffer go back to empty.
            self._data = bytearray()
        if self._meter is not None and nbytes:
            self._meter(-nbytes)
