"""Cheap facts about base64 audio, read without decoding whole payloads.

The linter sees every frame of a live session (50 appends a second), so nothing here decodes a
whole chunk: sizes come from the base64 length, validity from its first and last characters, a
WAV header from its first ~100 bytes, silence from a character count (zero bytes are `A` in
base64), and level, clipping and byte order from short windows decoded at a few places.
"""

from __future__ import annotations

import binascii
import re
import sys
from array import array
from dataclasses import dataclass
from operator import sub

MAX_APPEND_BYTES = 15 * 1024 * 1024
"""The service's limit on the audio of one `input_audio_buffer.append` (protocol reference §3.1)."""

RIFF_PREFIX = "UklGR"
"""Every base64 text of bytes that begin with `RIFF` begins with these characters."""
_HEAD_CHARS = 128
"""Base64 characters decoded to read a WAV header (96 bytes: RIFF, WAVE, `fmt ` and a small chunk)."""
_CHECK_CHARS = 128
"""Characters looked at, at each end, to tell whether the text is base64 at all."""
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
"""Standard base64's characters, except the padding `=`."""
_BODY = re.compile(r"[A-Za-z0-9+/]*")
_END = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URL_SAFE = re.compile(r"[-_]")


def decoded_size(b64: str) -> int:
    """Bytes that base64 text `b64` decodes to (exact for well-formed text, O(1))."""
    n = len(b64)
    if n and b64[n - 1] == "=":  # indexing, not endswith(): this runs for every append and audio delta
        return max(n * 3 // 4 - (2 if n > 1 and b64[n - 2] == "=" else 1), 0)
    return n * 3 // 4  # unpadded (20 ms chunks are): no padding to take off, nothing to clamp


def base64_problem(b64: str) -> str | None:
    """Why `b64` is certainly not standard padded base64, or None when its ends look right.

    Only the first and last characters are checked, so a problem in the middle goes unseen; what
    is reported is certain.
    """
    if not b64:
        return None
    n = len(b64)
    if not n % 4:
        # The common case (every append of a session): both ends in the alphabet, unpadded. Deleting
        # the alphabet's bytes from them leaves nothing: one pass in C, half the cost of the regexes.
        # (isascii() is a flag of the string, read in O(1); it keeps encode() from failing on a lone surrogate.)
        if b64.isascii() and not (b64[:_CHECK_CHARS] + b64[-_CHECK_CHARS:]).encode().translate(None, _ALPHABET):
            return None
        # Padded text (or worse): matched in place.
        if n <= _CHECK_CHARS:
            if _END.fullmatch(b64):
                return None
        elif _BODY.fullmatch(b64, 0, _CHECK_CHARS) and _END.fullmatch(b64, n - _CHECK_CHARS):
            return None
    # Something is wrong: find what, in the order a user would want to hear it.
    if b64.startswith("data:"):
        comma = b64.find(",", 0, 200)
        prefix = b64[: comma + 1] if 0 <= comma < 60 else b64[:30] + "…"
        return f"is a data URL (it starts with {prefix!r}), not bare base64"
    head = b64[:_CHECK_CHARS]
    tail = b64[-_CHECK_CHARS:]
    whole = len(b64) <= _CHECK_CHARS
    if not (_END.fullmatch(head) if whole else _BODY.fullmatch(head) and _END.fullmatch(tail)):
        sample = head if not _BODY.fullmatch(head) else tail
        if _URL_SAFE.search(sample):
            return "uses the URL-safe base64 alphabet ('-' and '_'); the server expects standard base64 ('+' and '/')"
        bad = next((c for c in sample if not (c.isascii() and (c.isalnum() or c in "+/="))), "=")
        return f"is not base64: it contains {bad!r}"
    if len(b64) % 4:
        return f"is not padded base64: its length ({len(b64)} characters) is not a multiple of 4"
    return None


def is_zero_audio(b64: str) -> bool:
    """True when well-formed base64 `b64` decodes to zero bytes only (digital silence in PCM16).

    A character count over the text (C speed, no copy, no decoding).
    """
    end = len(b64) - (2 if b64.endswith("==") else 1 if b64.endswith("=") else 0)
    if b64.count("A", 0, min(end, 64)) != min(end, 64):
        return False
    return b64.count("A", 0, end) == end


@dataclass(frozen=True, slots=True)
class WavHeader:
    """What a RIFF/WAVE header at the start of some audio declares (None where it was not read)."""

    riff_type: str
    """The RIFF form type: `WAVE` for a WAV file."""
    format_tag: int | None = None
    channels: int | None = None
    rate: int | None = None
    bits: int | None = None
    data_offset: int | None = None
    """Where the samples begin (after the `data` chunk header), when it was within the bytes read."""

    @property
    def format_name(self) -> str:
        """`PCM`, `IEEE float`, `A-law`, `μ-law`, or the numeric tag."""
        names = {1: "PCM", 3: "IEEE float", 6: "A-law", 7: "μ-law"}
        return names.get(self.format_tag, f"format {self.format_tag}") if self.format_tag is not None else "?"

    def describe(self) -> str:
        """E.g. `a WAV file (44.1 kHz stereo 16-bit PCM)`, or what little the header said."""
        if self.riff_type != "WAVE":
            return f"a RIFF {self.riff_type.strip() or '?'} file"
        if self.rate is None:
            return "a WAV file (its format chunk is not in its first bytes)"
        return f"a WAV file ({self.format()})"

    def format(self) -> str:
        """E.g. `44.1 kHz stereo 16-bit PCM` (`?` where the header did not say)."""
        if self.rate is None:
            return "?"
        channels = {1: "mono", 2: "stereo"}.get(self.channels or 0, f"{self.channels}-channel")
        return f"{rate_label(self.rate)} {channels} {self.bits}-bit {self.format_name}"

    def matches(self, *, rate: int, bits: int, format_tag: int) -> bool:
        """True when the header declares exactly this mono format."""
        return (self.rate, self.channels, self.bits, self.format_tag) == (rate, 1, bits, format_tag)

    @property
    def bytes_per_second(self) -> int | None:
        """Bytes per second of the declared format, when the header said enough."""
        if self.rate is None or self.channels is None or self.bits is None:
            return None
        return self.rate * self.channels * self.bits // 8


def rate_label(rate: int) -> str:
    """`24 kHz`, `44.1 kHz`, `8 kHz`."""
    return f"{rate / 1000:g} kHz"


def wav_header(b64: str) -> WavHeader | None:
    """The RIFF header `b64` starts with, or None (decodes the first 96 bytes at most)."""
    if not b64.startswith(RIFF_PREFIX):
        return None
    try:
        head = binascii.a2b_base64(b64[:_HEAD_CHARS])
    except (binascii.Error, ValueError):
        return None
    if head[:4] != b"RIFF" or len(head) < 12:
        return None
    riff_type = head[8:12].decode("latin-1")
    if riff_type != "WAVE":
        return WavHeader(riff_type)
    fields: dict[str, int] = {}
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        size = int.from_bytes(head[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"fmt " and body + 16 <= len(head):
            fields["format_tag"] = int.from_bytes(head[body : body + 2], "little")
            fields["channels"] = int.from_bytes(head[body + 2 : body + 4], "little")
            fields["rate"] = int.from_bytes(head[body + 4 : body + 8], "little")
            fields["bits"] = int.from_bytes(head[body + 14 : body + 16], "little")
            if fields["format_tag"] == 0xFFFE and size >= 40 and body + 26 <= len(head):
                # WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
                fields["format_tag"] = int.from_bytes(head[body + 24 : body + 26], "little")
        elif chunk_id == b"data":
            fields["data_offset"] = body
            break
        pos = body + size + (size & 1)
    return WavHeader(riff_type, **fields)


WINDOW_CHARS = 344
"""Base64 characters decoded per window: 258 bytes, 129 PCM16 samples (about 5 ms at 24 kHz)."""
WINDOW_SPACING_BYTES = 9600
"""One window per 200 ms of a long chunk; a 20 ms chunk gets one."""
VOICED_WINDOWS = 24
"""Windows with signal in them that are enough to judge a turn (about 3,000 samples)."""
MAX_WINDOWS = 400
"""Windows looked at per turn before giving up on finding signal (8 s of 20 ms chunks)."""
VOICED_FLOOR = 200
"""Mean absolute sample value (in either byte order) below which a window is treated as silence.

Except when most of its samples read little-endian sit at full scale: swapped, 0x7FFF and 0x8000
read -129 and 128, so hard-clipped audio is quiet only the wrong way round (see `PcmSampler._window`).
"""
FORMAT_WINDOWS = 8
"""Voiced windows whose bytes tell the sample width (`PcmSampler.sample_width`): about 1,000 samples,
four times the 256 pairs the stereo test asks for. Windows after them add only to the level, clipping
and byte-order sums, which need the turn's `VOICED_WINDOWS` (the width's statistics were most of a
voiced window's cost, and more of them never changed a verdict)."""
DIFF_PAIRS = 32
"""Adjacent sample pairs per voiced window whose differences weigh the byte order (of 128)."""
_NATIVE_LITTLE = sys.byteorder == "little"
MIN_BYTES_JUDGED = 768
"""Bytes of windows looked at before the sample width is judged (three windows)."""
_MAGNITUDE = bytes(b if b < 128 else 256 - b for b in range(256))
"""Each byte's magnitude read as a signed 8-bit value (0x80 reads 128)."""
_HIGH_NIBBLE = bytes(b >> 4 for b in range(256))
_HIGHS_HELD = 8192
"""High nibbles held before they are counted (`PcmSampler.highs`): 32 windows' worth."""
_FLOAT_TOP = bytes(1 if b & 0x70 == 0x30 else 0 for b in range(256))
"""1 for a little-endian float32's top byte (sign and 7 exponent bits) of a sample within ±2 and above
2^-32 (exponent 96–127), else 0: 16-bit and 8-bit audio have such bytes at one place in eight."""


def _reaches(head: list[int], samples: array[int], floor: int) -> bool:
    """True when the samples' absolute values (`head` being the first of them, as ints) sum to `floor` or more.

    The head's sum is a lower bound of the whole: for a loud window (speech, noise) it passes the
    floor alone, and the rest of the samples are never made into ints.
    """
    level = sum(map(abs, head))
    return level >= floor or level + sum(map(abs, samples[len(head) :])) >= floor


_LOW_BYTES: dict[int, int] = {}
"""Masks of the low byte of each 16-bit lane, by lane count (`_equal_samples`)."""


def _equal_samples(a: array[int], b: array[int]) -> int:
    """How many places hold the same sample in `a` and `b` (up to the shorter's length).

    As `sum(map(eq, a, b))`, at C speed: the two arrays as one integer each, XORed; a lane of 16
    bits is zero where the samples are equal, and its two bytes ORed into its low one tell it in
    one count. (Comparing each pair of ints was a third of a voiced window's cost.)
    """
    n = min(len(a), len(b))
    if not n:
        return 0
    x = int.from_bytes(a[:n].tobytes(), "little") ^ int.from_bytes(b[:n].tobytes(), "little")
    mask = _LOW_BYTES.get(n)
    if mask is None:
        mask = _LOW_BYTES[n] = int.from_bytes(b"\xff\x00" * n, "little")
    return ((x | (x >> 8)) & mask).to_bytes(2 * n, "little")[0::2].count(0)


def _near_samples(a: array[int], b: array[int]) -> int:
    """How many places hold nearly the same sample in `a` and `b` (up to the shorter's length): equal
    (`_equal_samples`), or within 2 and a 32nd of the sample. A stereo file that a converter made of
    mono (`sox -c 2`) differs between its channels by the dither's last bits; one channel at 98% gain,
    by 2%: the same sound in both, which exact equality missed."""
    equal = _equal_samples(a, b)
    n = min(len(a), len(b))
    if equal == n:
        return n
    return sum(1 for x, y in zip(a[:n], b[:n], strict=True) if abs(x - y) <= 2 + (abs(x) >> 5))


def _full_scale(raw: bytes, samples: array[int]) -> int:
    """Samples at +32767 or -32768 (`samples`: `raw` read little-endian).

    Full-scale samples are the bytes FF 7F and 00 80: a window holding neither pair anywhere has
    none, which a byte search tells at C speed (most windows); only otherwise are samples counted.
    """
    if b"\xff\x7f" not in raw and b"\x00\x80" not in raw:
        return 0
    xs = samples.tolist()  # a list counts 2.5× faster than an array
    return xs.count(32767) + xs.count(-32768)


class PcmSampler:
    """Level, clipping and byte-order statistics of one turn of PCM16, from windows of its chunks.

    `feed` each chunk's base64 in order; windows are decoded at sample-aligned places of the
    turn (a chunk of odd length shifts the next chunk's samples, as it does in the server's
    buffer). Cost per chunk is bounded, and zero once the turn has been judged enough.
    """

    __slots__ = (
        "offset",
        "windows",
        "voiced",
        "samples",
        "clipped",
        "diff_le",
        "diff_be",
        "looked",
        "even_level",
        "odd_level",
        "float_tops",
        "float_like",
        "nibbles",
        "highs",
        "pairs",
        "pairs_same",
        "pairs_across",
    )

    def __init__(self) -> None:
        self.offset = 0
        """Bytes of the turn fed so far."""
        self.windows = 0
        self.voiced = 0
        self.samples = 0
        """Samples in voiced windows."""
        self.clipped = 0
        self.diff_le = 0
        """Sum of |x[i] - x[i-1]| over the first pairs of voiced windows, read little-endian (as the
        server does)."""
        self.diff_be = 0
        """The same, read big-endian: speech is smooth in its right byte order, noise-like in the wrong one."""
        self.looked = 0
        """Bytes of the windows looked at (all of them, voiced or not): what the byte statistics below weigh."""
        self.even_level = 0
        """Sum of |byte| (read as signed 8-bit) over the bytes at even places of the turn: a PCM16 sample's
        low byte, which varies across its range."""
        self.odd_level = 0
        """The same at odd places: a PCM16 sample's high byte, near 0 (00 or FF) unless the audio is loud.
        In 8-bit audio (G.711) every byte is a sample: both sums come out alike."""
        self.float_tops = 0
        """Non-zero bytes at places 3 mod 4 of the turn: a little-endian float32 sample's top byte."""
        self.float_like = 0
        """How many of them hold a float's exponent for a sample within ±1 (0x30–0x3F, sign aside)."""
        self.nibbles = [0] * 16
        self.highs = bytearray()
        """High nibbles of the bytes looked at, not yet counted into `nibbles` (bounded: `_HIGHS_HELD`)."""
        self.pairs = 0
        """Sample pairs (frames of two channels, were the audio stereo) compared in voiced windows."""
        self.pairs_same = 0
        """Of them, pairs whose two samples are equal: every one, for stereo with the same sound in both channels."""
        self.pairs_across = 0
        """Equal samples across the pairs' boundaries (a pair's second and the next one's first): few in
        either case, unless the signal stands still (which makes both high)."""
        """How many bytes looked at have each high nibble: G.711 speech keeps to a few (its quiet codes),
        bytes of noise spread over all sixteen."""

    def feed(self, b64: str, skip: int = 0, size: int | None = None) -> None:
        """Take one chunk of the turn; `skip` bytes at its start (a WAV header) are not samples;
        `size`: its decoded size, when the caller has it already."""
        if size is None:
            size = decoded_size(b64)
        start = self.offset
        self.offset += size
        if self.voiced >= VOICED_WINDOWS or self.windows >= MAX_WINDOWS or size - skip < 64:
            return
        count = min(1 + (size - skip) // WINDOW_SPACING_BYTES, MAX_WINDOWS - self.windows)
        span = size - skip
        for k in range(count):
            at = skip + k * span // count
            at -= at % 3  # a base64 quantum boundary: 4 characters decode to 3 bytes
            if at < skip:
                at += 3  # not back into the header the samples follow
            if (start + at) % 2:
                at += 3  # keep to sample boundaries of the whole turn
            if at >= size:
                break
            chars = at // 3 * 4
            try:
                raw = binascii.a2b_base64(b64[chars : chars + WINDOW_CHARS])
            except (binascii.Error, ValueError):
                return
            phase = (start + at) % 4
            if self.voiced < FORMAT_WINDOWS:
                self._bytes(raw, phase)
            self._window(raw, phase)

    def _bytes(self, raw: bytes, phase: int) -> None:
        """Byte statistics of one window whose first byte sits at `phase` (mod 4) of the turn: what tells
        16-bit samples from 8-bit (G.711) and 32-bit float ones."""
        if len(raw) < 64:
            return
        self.looked += len(raw)
        signed = raw.translate(_MAGNITUDE)
        self.even_level += sum(signed[0::2])
        self.odd_level += sum(signed[1::2])
        tops = raw[(3 - phase) % 4 :: 4]
        self.float_tops += len(tops) - tops.count(0)
        self.float_like += sum(tops.translate(_FLOAT_TOP))
        # Counted when judged (`_count_nibbles`): sixteen counts a window were a fifth of its cost.
        self.highs += raw.translate(_HIGH_NIBBLE)
        if len(self.highs) >= _HIGHS_HELD:
            self._count_nibbles()

    def _count_nibbles(self) -> list[int]:
        """`nibbles`, with the high nibbles held since last counted added in."""
        highs, nibbles = self.highs, self.nibbles
        if highs:
            for nibble in range(16):
                nibbles[nibble] += highs.count(nibble)
            highs.clear()
        return nibbles

    @property
    def sample_width(self) -> str | None:
        """What the bytes look like: `pcm16` (every second byte stays small: 16-bit samples, either byte
        order), `stereo` (16-bit samples in equal pairs: two channels of the same sound), `8-bit` (every
        byte varies alike: G.711), `float32` (every fourth byte a float's exponent), or None (too little
        seen, too quiet to tell, or none of these clearly)."""
        if self.looked < MIN_BYTES_JUDGED:
            return None
        if self.float_tops >= MIN_BYTES_JUDGED // 16 and self.float_like >= 0.8 * self.float_tops:
            return "float32"
        if self.pairs >= 256 and self.pairs_same >= 0.9 * self.pairs and self.pairs_across < 0.5 * self.pairs:
            return "stereo"
        half = self.looked / 2
        even, odd = self.even_level / half, self.odd_level / half
        if max(even, odd) < 16:
            return None  # near silence: its bytes are small at every place
        ratio = odd / max(even, 1.0)
        if ratio <= 0.5 or ratio >= 2.0:
            return "pcm16"
        # Alike at every place, and kept to a few codes: companded speech, not noise-like bytes. Unless
        # the bytes read as 16-bit samples are smooth, as no 8-bit stream's are: loud speech (clipped at
        # 10% of its samples) has high bytes as busy as its low ones, and passed for G.711 (`send`
        # refused it, with a sox line that would have made noise of it).
        if (
            0.75 <= ratio <= 1.33
            and sum(sorted(self._count_nibbles())[-4:]) >= 0.4 * self.looked
            and not self.smooth_little_endian
        ):
            return "8-bit"
        return None

    def _window(self, raw: bytes, phase: int = 0) -> None:
        self.windows += 1
        if len(raw) < 64:
            return
        le = array("h", raw[: len(raw) & ~1])
        if not _NATIVE_LITTLE:
            le.byteswap()
        n = len(le)
        floor = VOICED_FLOOR * n
        # Only the first pairs become ints unless more are needed: the level is only compared with
        # the floor, and the head's sum often settles that alone (see `_reaches`).
        head_le = le[: DIFF_PAIRS + 1].tolist()
        if not _reaches(head_le, le, floor):
            return  # quiet read little-endian: the other order is not even made (most windows)
        be = le[:]
        be.byteswap()
        head_be = be[: DIFF_PAIRS + 1].tolist()
        if not _reaches(head_be, be, floor):
            # Quiet read big-endian: quiet audio sent byte-swapped, or little-endian samples at full
            # scale, whose bytes (FF 7F, 00 80) read big-endian are -129 and 128. The bytes are the
            # same; when most samples sit there, the server (reading little-endian) hears a clipped
            # window, loud. Its byte-order sums are left out: read swapped, a signal pinned to two
            # levels is only smaller, not smoother, and would pass for byte-swapped audio.
            clipped = _full_scale(raw, le)
            if 2 * clipped < n:
                return
            self.voiced += 1
            self.samples += n
            self.clipped += clipped
            return
        self.voiced += 1
        self.samples += n
        self.clipped += _full_scale(raw, le)
        # Smoothness from the window's first pairs only: the ratio of the two sums is what is judged,
        # and 24 windows of 32 pairs settle it as surely as of 128, at a quarter of the cost (these
        # two sums were most of the linter's time on a live session's appends).
        self.diff_le += sum(map(abs, map(sub, head_le[1:], head_le)))
        self.diff_be += sum(map(abs, map(sub, head_be[1:], head_be)))
        if self.voiced > FORMAT_WINDOWS:
            return  # the width is judged from the first voiced windows (`FORMAT_WINDOWS`)
        # Stereo frames begin every 4 bytes of the turn: at the window's first sample or its second.
        first = 0 if phase == 0 else 1
        lefts, rights = le[first::2], le[first + 1 :: 2]
        self.pairs += len(rights)
        self.pairs_same += _near_samples(lefts, rights)
        self.pairs_across += _near_samples(rights, le[first + 2 :: 2])

    @property
    def judged(self) -> bool:
        """True when enough signal was seen to say anything about byte order or clipping."""
        return self.samples >= 256

    @property
    def smooth_little_endian(self) -> bool:
        """The samples read far smoother little-endian than big-endian: 16-bit audio in the right
        order (speech at 24 kHz: 5 to 30 times smoother; 8-bit or text bytes read either way: alike)."""
        return self.judged and self.diff_be > 2.5 * self.diff_le

    @property
    def byte_swapped(self) -> bool:
        """The samples read far smoother big-endian than little-endian: the bytes are swapped."""
        return self.judged and self.diff_le > 2.5 * self.diff_be

    @property
    def clipped_share(self) -> float:
        """Share of the looked-at samples that sit at full scale (±32767)."""
        return self.clipped / self.samples if self.samples else 0.0

    @property
    def clipping(self) -> bool:
        """Many samples at full scale: the level was too high before conversion to 16 bits."""
        return self.judged and not self.byte_swapped and self.clipped >= 16 and self.clipped_share >= 0.01
