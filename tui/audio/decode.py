"""Decode audio files to the wire format: raw 24 kHz mono PCM16 LE, never with a file header."""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import sys
import tempfile
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

from tui.audio.pcm import SAMPLE_RATE, SAMPLE_WIDTH, duration_ms, float_to_pcm, int16_to_pcm
from tui.protocol.printable import printable

RAW_SUFFIXES = frozenset({".pcm", ".raw"})
"""Headerless files taken as 24 kHz mono int16 LE, the Realtime API's own format (`send --rate`: another rate)."""

RAW_FORMAT = "raw files must be 16-bit mono PCM (24 kHz, or send --rate)"
"""What a headerless file must hold, as a refusal says it."""

# A file named .raw/.pcm that really starts with a container header is decoded as that container,
# so the header never leaks into the PCM that goes on the wire.
_CONTAINER_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"FORM")


LOWEST_RATE = 4000
"""The lowest sample rate a file may declare. Speech is recorded at 8 kHz and up (telephony's 8 kHz
is the Realtime API's lowest too); a rate under half that is a damaged header, and converting 128 KB
said to be at 1 Hz to 24 kHz made 4 hours of audio and took 8 GB of memory."""


HIGHEST_RATE = 768_000
"""The highest sample rate a file may declare (studio formats stop at 768 kHz). An AIFF whose rate
(an 80-bit float) is NaN or infinite reads as 67 MHz: a second of speech became 0.4 ms, and the
server refused the commit as too short, as if the recording were."""


MAX_CHANNELS = 32
"""The most channels a file may declare. A voice recording has one or two (a microphone array's raw
tracks, eight or so); a header saying 300 channels is damage, and averaging 300 "channels" of a
mono file made 3 ms of noise out of a second of speech."""


class AudioDecodeError(ValueError):
    """A file could not be turned into audio; `str()` is a one-line message fit for a user."""


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio: `pcm` is raw 24 kHz mono PCM16 LE (no header); the rest describes the source."""

    pcm: bytes
    source_rate: int
    source_channels: int
    duration_ms: float
    raw: bool = False
    """The file had no header (`.pcm`/`.raw`): its bytes were taken as 24 kHz mono PCM16, unchecked."""


def decode_file(path: str | os.PathLike[str]) -> DecodedAudio:
    """Read WAV (any rate, channel count, subtype), FLAC, OGG, MP3, AIFF or raw `.pcm`/`.raw` into 24 kHz mono PCM16.

    Channels are averaged to mono and the rate converted with soxr. Raises AudioDecodeError when the
    file is missing, not audio, or holds no samples.
    """
    p = Path(path)
    if not p.exists():
        raise AudioDecodeError(f"audio file not found: {p}")
    if not p.is_file():
        raise AudioDecodeError(f"not a regular file: {p}")
    if p.stat().st_size == 0:  # any name: "not a supported audio file" would send one looking for a codec
        raise AudioDecodeError(f"{p} contains no audio (empty file, 0 bytes)")
    check_readable(p)
    if p.suffix.lower() in RAW_SUFFIXES:
        if not _has_container_magic(p):
            return _decode_raw(p)
        # soundfile trusts a .raw extension and would demand a rate; hand it the bytes, unnamed.
        return _decode_container(p, io.BytesIO(_read_bytes(p)))
    # As bytes: soundfile encodes a str name strictly, and a name that is not UTF-8 (its bytes kept
    # as surrogates) raised UnicodeEncodeError, a traceback from `send`.
    return _decode_container(p, os.fsencode(p))


def resample_to_pcm(samples: npt.ArrayLike, rate: int) -> bytes:
    """Float samples at `rate`, shaped (frames,) or (frames, channels), to 24 kHz mono PCM16 bytes."""
    data = _mono(np.asarray(samples, dtype=np.float32))
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if rate != SAMPLE_RATE and data.size:
        data = soxr.resample(data, rate, SAMPLE_RATE)
    return float_to_pcm(data)


def resample_pcm16(pcm: bytes, rate: int) -> bytes:
    """Mono PCM16 LE at `rate` to 24 kHz mono PCM16 LE (identity when `rate` is already 24 kHz)."""
    if rate == SAMPLE_RATE:
        return pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // SAMPLE_WIDTH)
    return resample_to_pcm(samples.astype(np.float32) / 32768.0, rate)


def check_readable(p: Path) -> None:
    """Refuse a file this process may not open: libsndfile answers EACCES as it answers a file
    that is not audio ("not a supported audio file"), and a user with a permission problem went
    looking for a codec."""
    try:
        os.close(os.open(p, os.O_RDONLY))
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {p}: {exc.strerror or exc}") from exc


def _has_container_magic(p: Path) -> bool:
    try:
        with p.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {p}: {exc.strerror or exc}") from exc
    return head in _CONTAINER_MAGIC


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {p}: {exc.strerror or exc}") from exc


def _decode_raw(p: Path) -> DecodedAudio:
    pcm = _read_bytes(p)
    if not pcm:
        raise AudioDecodeError(f"{p} contains no audio (empty file)")
    if len(pcm) % SAMPLE_WIDTH:
        raise AudioDecodeError(f"{p} has an odd number of bytes ({len(pcm)}); {RAW_FORMAT}")
    refuse_text(p, pcm[:TEXT_CHECKED_BYTES])
    return DecodedAudio(
        pcm=pcm, source_rate=SAMPLE_RATE, source_channels=1, duration_ms=duration_ms(len(pcm)), raw=True
    )


def refuse_text(p: Path, head: bytes) -> None:
    """Refuse a raw file whose first bytes (`head`) are text: sent, the server heard noise
    (`audio_unintelligible`), and the linter's fix spoke of declaring G.711, which `send` offers no
    way to do. Checked before its length: a line of text was called 1 ms of audio."""
    text = _text_of(head[:TEXT_CHECKED_BYTES])
    if text is not None:
        shown = " ".join(text[:40].split())
        raise AudioDecodeError(f"{p} holds text ({shown!r}…), not audio; {RAW_FORMAT}")


TEXT_CHECKED_BYTES = 4096
"""Bytes of a raw file looked at for text: PCM16 of any sound breaks UTF-8, or holds a control
character, long before (a sample's high byte near 0 or 0xFF, its low byte anything)."""


def _text_of(head: bytes) -> str | None:
    """`head` as text when it reads as text, else None: printable UTF-8 (any script; a character
    cut at its end allowed), printable UTF-16 (with its byte-order mark, as Notepad's "Unicode"
    saves it, or without, in either order), or bytes of an
    8-bit or multi-byte encoding (Latin-1, Windows-1252, Shift-JIS, GBK) that hold no control
    character and many different bytes. Audio has control bytes: a PCM16 sample's high byte sits
    at 00 or FF near silence, and G.711's quiet codes are 7F and FF; A-law's quiet codes (55, D5)
    are few, where text uses dozens of different bytes."""
    for cut in range(4):  # a multi-byte character the head ends inside
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return text
        break  # UTF-8, but not text (NULs of UTF-16's ASCII, of silence): the other readings below
    # UTF-16 with its mark, or without (either order): PCM16 read so holds control characters (the
    # samples near silence) and lone surrogates (-10240 to -8193).
    even = len(head) & ~1
    encodings = ("utf-16",) if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-16-le", "utf-16-be")
    for encoding in encodings:
        for cut in (0, 2):  # a surrogate pair the head ends inside
            try:
                text = head[: even - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            if _printable(text):
                return text
            break
    if not head.translate(None, _TEXT_BYTES) and len(set(head)) >= MIN_TEXT_BYTES:
        return head.decode("latin-1")
    return None


MIN_TEXT_BYTES = 12
"""Different byte values a head of text without control characters holds at least (a sentence
of any language has more; A-law's near silence, a few)."""
_TEXT_BYTES = bytes([9, 10, 13, *range(0x20, 0x7F), *range(0x80, 0x100)])
"""Every byte but the C0 controls (tab, newline and return aside) and DEL."""


MIN_TEXT_CHARS = 8
"""Different characters text holds at least (`hello world` has 8). A constant sample (DC, a test's
filler: 00 10 repeated) reads as one printable character over and over, `ကကကက`, in UTF-16."""


def _printable(text: str) -> bool:
    return len(set(text)) >= MIN_TEXT_CHARS and all(c.isprintable() or c in "\t\n\r" for c in text)


def _decode_container(p: Path, source: bytes | io.BytesIO) -> DecodedAudio:
    said: list[str] = []
    try:
        with _decoder_stderr_kept(said), soundfile.SoundFile(source) as sf:
            rate, channels = int(sf.samplerate), int(sf.channels)
            if sf.frames == 0:
                raise AudioDecodeError(_no_samples(p))
            check_header(p, rate, channels)
            declared, mpeg, wav = int(sf.frames), sf.format == "MP3", sf.format == "WAV"
            pcm, frames = _read_pcm(sf)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioDecodeError(_refusal(p, exc, said)) from exc
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if mpeg and said and frames < declared * MPEG_FOUND_SHARE:
        raise AudioDecodeError(_not_mpeg(p, frames, declared, rate, said))
    promised = wav_header_frames(source) if wav else None
    if promised is not None and cut_short(frames, promised, rate):
        raise AudioDecodeError(_cut_short(p, frames, promised, rate))
    if frames == 0:
        raise AudioDecodeError(_no_samples(p))
    if not pcm:
        raise AudioDecodeError(f"{p} contains no audio after resampling ({frames} samples at {rate} Hz)")
    return DecodedAudio(pcm=pcm, source_rate=rate, source_channels=channels, duration_ms=duration_ms(len(pcm)))


def check_header(p: Path, rate: int, channels: int) -> None:
    """Refuse, from the header, a rate no recorder has or more channels than a voice recording
    (before the file is read)."""
    if rate < LOWEST_RATE:
        raise AudioDecodeError(
            f"cannot decode {p.name}: its header says {rate} Hz, and speech is recorded at 8 kHz and up "
            f"(rt-tui reads {LOWEST_RATE} Hz and up): a damaged header?"
        )
    if rate > HIGHEST_RATE:
        raise AudioDecodeError(
            f"cannot decode {p.name}: its header says {rate:,} Hz, and no recorder goes past 768 kHz "
            f"(rt-tui reads up to {HIGHEST_RATE:,} Hz): a damaged header?"
        )
    if channels > MAX_CHANNELS:
        raise AudioDecodeError(
            f"cannot decode {p.name}: its header says {channels:,} channels, and rt-tui reads up to {MAX_CHANNELS} "
            "(a voice recording has 1 or 2): a damaged header?"
        )


_BLOCK_BYTES = 2**20
"""float32 bytes of one block read from a file (2**18 samples, over all its channels): the whole
file read as float32 (and three float64 copies to make int16) peaked at 11 times the PCM returned."""


_READ_IN_BLOCKS = frozenset(
    {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW", "FLAC"}
)
"""Subtypes libsndfile decodes the same a block at a time as whole. Its lossy decoders (1.2.2) do
not: an MP3 read 4096 frames at a time came back near silence from its second block on, and an
Opus file's last few samples differed when read apart. Those are read whole, as before."""


def _read_pcm(sf: soundfile.SoundFile) -> tuple[bytes, int]:
    """The open file's audio as 24 kHz mono PCM16, and how many frames it held.

    16-bit mono at 24 kHz is already the wire format: read as int16 (exactly the samples; as float
    they came back the same). Anything else is read a block at a time, each block averaged to mono,
    resampled by one soxr stream (the same output as `soxr.resample` on the whole, bit for bit) and
    made int16: the peak is the PCM twice (its blocks, then joined) and a block's worth (a lossy
    file's block is all of it: see _READ_IN_BLOCKS).
    """
    rate, channels = int(sf.samplerate), int(sf.channels)
    if sf.seekable():  # as soundfile.read() does: an MP3 decodes differently (by an ulp) without it
        sf.seek(0)
    if sf.subtype == "PCM_16" and rate == SAMPLE_RATE and channels == 1:
        samples = sf.read(dtype="int16")
        return int16_to_pcm(samples), len(samples)
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32") if rate != SAMPLE_RATE else None
    block_frames = max(1, _BLOCK_BYTES // (4 * channels))
    if sf.subtype not in _READ_IN_BLOCKS:
        block_frames = max(1, int(sf.frames))
    buffer = np.empty((min(block_frames, max(1, int(sf.frames))), channels), dtype=np.float32)
    parts: list[bytes] = []
    frames, left = 0, int(sf.frames)  # as many as soundfile.read() of it whole reads
    # Not sf.blocks(): it yields all of a reused buffer even when a read came up short (a damaged
    # file whose header promises more), stale samples and all. read(out=) trims to what it read.
    while left > 0:
        block = sf.read(dtype="float32", always_2d=True, out=buffer[: min(len(buffer), left)])
        if not len(block):
            break
        frames += len(block)
        left -= len(block)
        mono = _mono(block)
        parts.append(float_to_pcm(stream.resample_chunk(mono) if stream is not None else mono))
    if stream is not None and frames:
        parts.append(float_to_pcm(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)))
    return b"".join(parts), frames


def _mono(data: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """float32 samples, (frames,) or (frames, channels), as finite mono: channels averaged."""
    if not np.isfinite(data).all():
        # A float file's NaN or infinity (damage): silence and full scale. Left in, the resampler
        # spreads a NaN over its filter's span, and the int16 cast warns on stderr.
        data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
    if data.ndim == 2:
        return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if data.ndim != 1:
        raise ValueError(f"expected 1-D or 2-D samples, got shape {data.shape}")
    return data


_SUPPORTED = "WAV, FLAC, OGG, MP3, AIFF, or raw 24 kHz PCM16 .pcm/.raw"

_HEADER_ONLY = 4096
"""Bytes a file with no samples may hold before it is more than a header: past this, its decoder
found none in a file that has room for seconds of audio (an Ogg Vorbis cut short reads as 0)."""


MPEG_FOUND_SHARE = 0.5
"""The least share of the audio an MPEG stream's length promises that its decoder must find, when it
complained, for the file to be taken as MPEG. libsndfile takes any bytes starting with 0xFFF (a
frame sync) for an MPEG stream: headerless PCM (a WAV's samples without their header, a raw
recording piped to `send -`) opened as 17.6 s of "MPEG Layer I" of which its decoder, complaining,
found 0.36 s of noise, and that noise was sent. A real MP3, even damaged, decodes nearly whole."""


def _not_mpeg(p: Path, frames: int, declared: int, rate: int, said: list[str]) -> str:
    """Why a file libsndfile took for MPEG is refused: its decoder found next to nothing of it."""
    found, promised = frames / rate if rate else 0.0, declared / rate if rate else 0.0
    # The advice first: such a file is most often raw samples under another name (`x24.s16`).
    return (
        f"cannot decode {p.name}: not an MP3 file? Headerless PCM is read only from a .pcm or .raw file, as "
        f"24 kHz mono 16-bit little-endian (it opens as an MPEG stream, but its decoder found {found:.2f} s "
        f"of the {promised:.1f} s it promises; it said: {printable(said[0])[:120]})"
    )


def wav_header_frames(source: bytes | io.BytesIO) -> int | None:
    """The frames a WAV's header says its data holds (read by Python's `wave`), or None when it
    cannot tell: not plain PCM, or a size a recorder that streamed the file left unknown (0, or
    2-4 GiB). libsndfile counts the frames the file holds, and says nothing of a header that
    promised more."""
    try:
        if isinstance(source, io.BytesIO):
            source.seek(0)
            reader = wave.open(source, "rb")
        else:
            reader = wave.open(os.fsdecode(source), "rb")
        with reader:
            frames, frame_bytes = reader.getnframes(), reader.getnchannels() * reader.getsampwidth()
    except (wave.Error, EOFError, OSError, ValueError):
        return None
    size = frames * frame_bytes
    return frames if 0 < size < 0x7FFF_0000 else None


def cut_short(frames: int, promised: int | None, rate: int) -> bool:
    """Whether a WAV whose header says `promised` frames (None: it cannot tell) and that holds
    `frames` at `rate` is cut short (more than 10 ms missing)."""
    return promised is not None and promised - frames > rate // 100


def _cut_short(p: Path, frames: int, promised: int, rate: int) -> str:
    """Why a WAV that holds less audio than its header says is refused: a copy, a download or a
    recording that stopped; sent, it was answered as if it were the whole file."""
    return (
        f"{p} is cut short: its header says {promised / rate:.2f} s of audio, the file holds {frames / rate:.2f} s "
        f"(a copy, a download or a recording that stopped?); write it again, or rewrite its header "
        f"(sox {p.name} whole.wav) to send what it holds"
    )


def _no_samples(p: Path) -> str:
    """Why a file that opened holds no samples: nothing past its header, or a cut its decoder
    cannot read past (said, so a 7 KB file is not called empty)."""
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    if size <= _HEADER_ONLY:
        return f"{p} contains no audio (0 samples)"
    return f"cannot decode {p.name}: its decoder found no samples in its {size:,} bytes: cut short or damaged?"


# libsndfile's error codes (sndfile.h); the others are its internal ones, each with its own words.
_SF_ERR_UNRECOGNISED_FORMAT = 1
_SF_ERR_UNSUPPORTED_ENCODING = 4
_SF_MISLEADING = frozenset({2, 7})
"""Codes whose words ("File does not exist or is not a regular file") are libsndfile's reply to any
MP3 its decoder gave up on: they name no damage, and the file does exist."""


_SF_UNIMPLEMENTED = "unimplemented format"
"""libsndfile's words (`File contains data in an unimplemented format.`) for a header it reads
whose samples it has no reader for; its code for them (18) is an internal one."""


def _refusal(p: Path, exc: Exception, said: list[str]) -> str:
    """Why a file did not decode, in one line: the decoder's own first words when it printed any
    (mpg123 names the damage and its offset), else libsndfile's (`flac decoder lost sync`,
    `file is malformed`). A damaged FLAC or Opus file was called "not a supported audio file"."""
    code, own = (exc.code, exc.error_string) if isinstance(exc, soundfile.LibsndfileError) else (None, "")
    words = said[0] if said else None
    if words is None and code is not None and code != _SF_ERR_UNRECOGNISED_FORMAT and code not in _SF_MISLEADING:
        words = _DECODER_PREFIX.sub("", own.strip(), count=1).strip().rstrip(".") or None
    if code == _SF_ERR_UNSUPPORTED_ENCODING:
        why = f" ({printable(words)[:200]})" if words else ""
        return f"cannot decode {p.name}: an encoding rt-tui cannot decode{why}: rt-tui reads {_SUPPORTED}"
    if code is not None and (samples := _unreadable_wav_samples(p)) is not None:
        # A well-formed WAV of 40- or 64-bit integers (or 24-bit floats): samples libsndfile has no
        # reader for. It was called "damaged or cut short".
        return (
            f"cannot decode {p.name}: its samples are {samples}, an unsupported sample format "
            f"(rt-tui reads WAVs of {_WAV_READ})"
        )
    if code is not None and _SF_UNIMPLEMENTED in own.lower():
        said_so = printable(words or own)[:200]
        return f"cannot decode {p.name}: an unsupported sample format (the decoder said: {said_so})"
    if words is None:
        return f"cannot decode {p.name}: not a supported audio file ({_SUPPORTED})"
    return f"cannot decode {p.name}: damaged or cut short (the decoder said: {printable(words)[:200]})"


_WAV_READ = "8-, 16-, 24- or 32-bit integers, or 32- or 64-bit floats"
"""The WAV sample formats libsndfile reads (and so rt-tui)."""

_WAV_MAGIC = {b"RIFF": "<", b"RF64": "<", b"RIFX": ">"}
_WAV_PCM = 1
_WAV_FLOAT = 3
_WAV_EXTENSIBLE = 0xFFFE


def _unreadable_wav_samples(p: Path) -> str | None:
    """`40-bit integers`: a WAV's samples when its fmt chunk names ones libsndfile has no reader
    for (None: not a WAV, or samples it reads)."""
    fmt = _wav_fmt(p)
    if fmt is None:
        return None
    tag, bits = fmt
    if tag == _WAV_PCM and bits > 32:
        return f"{bits}-bit integers"
    if tag == _WAV_FLOAT and bits not in (32, 64):
        return f"{bits}-bit floats"
    return None


def _wav_fmt(p: Path) -> tuple[int, int] | None:
    """(format tag, bits per sample) from a WAV's fmt chunk (an extensible one's subformat), or
    None when the file is not a WAV or has no fmt chunk in its first 64 KiB."""
    try:
        with p.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return None
    order = _WAV_MAGIC.get(head[:4])
    if order is None or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(head):
        kind, size = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little" if order == "<" else "big")
        if kind == b"fmt " and at + 8 + 16 <= len(head):
            tag, bits = (
                struct.unpack_from(f"{order}H", head, at + 8)[0],
                struct.unpack_from(f"{order}H", head, at + 22)[0],
            )
            if tag == _WAV_EXTENSIBLE and size >= 26 and at + 8 + 26 <= len(head):
                tag = struct.unpack_from(f"{order}H", head, at + 8 + 24)[0]  # the subformat GUID's first field
            return int(tag), int(bits)
        at += 8 + size + (size & 1)
    return None


_STDERR_LOCK = threading.Lock()
"""fd 2 is the process's: one decode at a time moves it (two at once would each put back the
other's stand-in, and the real stderr would be lost)."""

_DECODER_SAID_MAX = 4096
"""Bytes of the decoder's own output read back: its first lines name the first damage."""

_DECODER_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)?(?:(?:note|warning|error)\s*:\s*)?", re.IGNORECASE)
"""mpg123's `[src/libmpg123/parse.c:do_readahead():1083] warning: ` or `Note: ` before its words."""


@contextlib.contextmanager
def _decoder_stderr_kept(said: list[str]) -> Iterator[None]:
    """Keep what the C decoders print on fd 2 (libmpg123, inside libsndfile: `Note: Illegal
    Audio-MPEG-Header …`, `Trying to resync…`) off the user's stderr, where it came before and
    around rt-tui's own one-line message. Their first line, if any, is appended to `said`.

    fd 2 is moved to a temporary file (not a pipe: a long damaged file's notes would fill a pipe's
    buffer and block the decoder, which nothing reads until it returns) and put back after. This is
    for the headless commands (`send`): the TUI draws on fd 2, so no decode may run under it.
    """
    with _STDERR_LOCK:
        with contextlib.suppress(Exception):  # Python's own lines so far go where they were meant to
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to keep the decoder's words from
            yield
            return
        try:
            sink = tempfile.TemporaryFile()
        except OSError:  # no room for a temporary file: the words are dropped, not shown
            sink = open(os.devnull, "w+b")  # noqa: SIM115 - closed below, with the saved fd
        try:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                said.extend(_first_words(sink))  # a failed decode's too: its words explain it
        finally:
            os.close(saved)
            sink.close()


def _first_words(sink: io.BufferedRandom | io.BufferedWriter) -> list[str]:
    """The first line the decoder wrote, as one printable line without its source-file prefix."""
    try:
        sink.seek(0)
        head = sink.read(_DECODER_SAID_MAX)
    except OSError:
        return []
    for line in head.decode("utf-8", "replace").splitlines():
        words = _DECODER_PREFIX.sub("", line.strip(), count=1).strip()
        if words:
            return [printable(words)[:200].rstrip(".")]
    return []
