"""The sample rate a live client's audio is paced like: audio appended per second of the clock.

A client that streams a microphone sends its audio as it is captured: a second of it a second. PCM16
has no header to say its rate, so 16 kHz audio sent to a session that reads 24 kHz is only bytes,
and the server hears it 1.5× too fast; but streamed live, it comes at two thirds of the pace 24 kHz
audio would. `PaceMeter` measures that pace over windows of a few seconds of steady appends and
names the common sample rate it matches, when it is not the session's own. A file sent faster than
real time, or in bursts, matches none, and says nothing. (A file sent as fast as a slow uplink takes
it is paced by the network, steadily: the finding's fix says to ignore it then.)
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_SECONDS = 3.0
"""Clock time a window spans before it is judged (jitter of a few chunks averages out)."""
MIN_APPENDS = 30
"""Appends a window needs: a live stream sends 10 to 50 a second."""
GAP_SECONDS = 1.0
"""A pause in the appends longer than this ends the window (push-to-talk between turns)."""
TOLERANCE = 0.03
"""How close the pace must be to a rate's (clocks drift by far less; bursts by far more)."""
COMMON_RATES = (8000, 11025, 16000, 32000, 44100, 48000)
"""Rates audio is commonly captured at, other than the sessions' 24 kHz. Not 22.05 kHz: rarely a
capture rate, and its pace (8% under 24 kHz's) is what a sender that sleeps a little too long
between 24 kHz chunks keeps up, steadily."""


@dataclass(frozen=True, slots=True)
class Pace:
    """A window of appends whose pace matched another sample rate than the session's."""

    rate: int
    """The sample rate the audio came at the pace of."""
    audio_seconds: float
    """Audio appended in the window, read at the session's rate."""
    wall_seconds: float
    first: int
    """Journal index of the window's first append."""
    last: int


def _paced_like(rate: int, audio: float, wall: float) -> int | None:
    """The common rate (other than `rate`) whose live pace `audio` seconds in `wall` seconds match."""
    if wall <= 0:
        return None
    paced = rate * audio / wall
    for common in COMMON_RATES:
        if common != rate and abs(paced - common) <= TOLERANCE * common:
            return common
    return None


class PaceMeter:
    """Measures the pace of appends window by window (`add` each one, in order).

    A window counts only when it is steady (its two halves alone match the same rate as the whole:
    a stall, a burst of buffered audio or coarse timestamps make them differ), and a finding needs
    two such windows back to back that agree (about 6 s of streaming): a false alarm costs a
    developer more than a finding that comes a few seconds later.
    """

    __slots__ = ("_start", "_last", "_bytes", "_pending", "_appends", "_first", "_half", "_previous")

    def __init__(self) -> None:
        self._start: float | None = None
        self._last = 0.0
        self._bytes = 0
        """Audio of the window's appends before the latest: what was captured by the latest's time."""
        self._pending = 0
        """The latest append's bytes (captured after the time it was sent at)."""
        self._appends = 0
        self._first = 0
        self._half: tuple[int, float] | None = None
        """(bytes, seconds) of the window when it was half done."""
        self._previous: tuple[int, int, int, float] | None = None
        """The window just before, when it was steady and matched a rate: (rate, first, bytes, seconds)."""

    def reset(self) -> None:
        """Forget the windows (a new connection, a new input format)."""
        self._start = None
        self._previous = None

    def add(self, mono: float, size: int, index: int, bytes_per_second: int, rate: int) -> Pace | None:
        """Take one append (`size` bytes of audio at clock time `mono`, journal index `index`) of a
        session reading `rate` Hz at `bytes_per_second`; a `Pace` when it closes the second of two
        steady windows in a row paced like the same other common rate."""
        start = self._start
        if start is None or mono - self._last > GAP_SECONDS or mono < self._last:
            self._previous = None  # a pause: the stream starts again
            self._open(mono, size, index)
            return None
        self._bytes += self._pending
        self._pending = size
        self._last = mono
        self._appends += 1
        wall = mono - start
        if self._half is None and wall >= WINDOW_SECONDS / 2:
            self._half = (self._bytes, wall)
        if wall < WINDOW_SECONDS or self._appends < MIN_APPENDS:
            return None
        first, nbytes, half = self._first, self._bytes, self._half
        self._open(mono, size, index)
        matched = _paced_like(rate, nbytes / bytes_per_second, wall)
        if matched is None or half is None or not _steady(matched, rate, nbytes, wall, half, bytes_per_second):
            self._previous = None
            return None
        previous, self._previous = self._previous, (matched, first, nbytes, wall)
        if previous is None or previous[0] != matched:
            return None
        _, opened, before, before_wall = previous
        return Pace(matched, (before + nbytes) / bytes_per_second, before_wall + wall, opened, index)

    def _open(self, mono: float, size: int, index: int) -> None:
        self._start = self._last = mono
        self._bytes, self._pending, self._appends, self._first = 0, size, 1, index
        self._half = None


def _steady(matched: int, rate: int, nbytes: int, wall: float, half: tuple[int, float], bytes_per_second: int) -> bool:
    """Both halves of a window, alone, are paced like the rate the whole window matched."""
    half_bytes, half_wall = half
    first = _paced_like(rate, half_bytes / bytes_per_second, half_wall)
    second = _paced_like(rate, (nbytes - half_bytes) / bytes_per_second, wall - half_wall)
    return first == matched and second == matched
