"""PCM16 maths for the Realtime wire format: 24 kHz, mono, signed 16-bit little-endian.

Pure numpy and stdlib: no device, no resampler, safe to import anywhere.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24000
"""Samples per second of every PCM buffer in this package."""
CHANNELS = 1
SAMPLE_WIDTH = 2
"""Bytes per sample (int16)."""
BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS // 1000  # 48
BYTES_PER_SECOND = BYTES_PER_MS * 1000
SILENCE_DBFS = -120.0
"""What `level_dbfs` reports for digital silence instead of minus infinity."""

_INT16_SCALE = 32768.0

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


def duration_ms(nbytes: int) -> float:
    """Duration in milliseconds of `nbytes` of 24 kHz mono PCM16."""
    return nbytes / BYTES_PER_MS


def bytes_for_ms(ms: float) -> int:
    """Byte count of `ms` milliseconds, rounded down to a whole sample."""
    n = int(ms * BYTES_PER_MS)
    return n - (n % SAMPLE_WIDTH)


def chunk_bytes(pcm: bytes, chunk_ms: float = 20) -> Iterator[bytes]:
    """Split `pcm` into consecutive chunks of `chunk_ms`; the last chunk may be shorter."""
    size = bytes_for_ms(chunk_ms)
    if size <= 0:
        raise ValueError(f"chunk_ms must cover at least one sample, got {chunk_ms}")
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def to_b64(pcm: bytes) -> str:
    """Base64 text of raw PCM, as carried by `input_audio_buffer.append` and `response.audio.delta`."""
    return base64.b64encode(pcm).decode("ascii")


def from_b64(text: str) -> bytes:
    """Raw PCM from base64 text; raises ValueError on malformed input rather than guessing."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64 audio: {exc}") from exc


def pcm_to_int16(pcm: bytes) -> Int16Array:
    """View PCM bytes as int16 samples; a trailing odd byte (half a sample) is ignored."""
    usable = len(pcm) - (len(pcm) % SAMPLE_WIDTH)
    return np.frombuffer(pcm, dtype="<i2", count=usable // SAMPLE_WIDTH).astype(np.int16, copy=False)


def int16_to_pcm(samples: npt.ArrayLike) -> bytes:
    """Little-endian bytes of int16 samples."""
    return np.asarray(samples, dtype="<i2").tobytes()


def int16_to_float(samples: Int16Array) -> Float32Array:
    """int16 samples to float32 in [-1, 1)."""
    return (np.asarray(samples, dtype=np.float32) / _INT16_SCALE).astype(np.float32, copy=False)


def float_to_int16(samples: npt.ArrayLike) -> Int16Array:
    """float samples (nominally [-1, 1]) to int16, rounding and clipping instead of wrapping.

    float32 stays float32 (scaling by 2**15 is exact in it, so the result is the one float64 gives)
    and one scaled copy is rounded and clipped in place: a decoded file's float32 was made three
    float64 copies, each four times the int16 returned.
    """
    data = np.asarray(samples)
    scaled: npt.NDArray[np.floating]
    if data.dtype == np.float32:
        with np.errstate(over="ignore"):  # past float32's range (a damaged float file): inf, clipped
            scaled = data * np.float32(_INT16_SCALE)
    else:
        scaled = np.asarray(data, dtype=np.float64) * _INT16_SCALE
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    result: Int16Array = scaled.astype(np.int16)
    return result


def pcm_to_float(pcm: bytes) -> Float32Array:
    """PCM bytes to float32 samples in [-1, 1)."""
    return int16_to_float(pcm_to_int16(pcm))


def float_to_pcm(samples: npt.ArrayLike) -> bytes:
    """float samples to PCM bytes, clipping out-of-range values."""
    return int16_to_pcm(float_to_int16(samples))


def rms_level(pcm: bytes) -> float:
    """Linear RMS of the samples in 0..1 (full-scale square wave = 1.0); 0.0 for empty input."""
    samples = pcm_to_int16(pcm)
    if samples.size == 0:
        return 0.0
    as_float = samples.astype(np.float64) / _INT16_SCALE
    return float(min(1.0, math.sqrt(float(np.mean(as_float * as_float)))))


def level_dbfs(pcm: bytes) -> float:
    """RMS level in dBFS (0 at full scale); `SILENCE_DBFS` for silence or empty input."""
    rms = rms_level(pcm)
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms))


def meter_level(pcm: bytes, floor_dbfs: float = -60.0) -> float:
    """Level for a meter in 0..1 on a dB scale: `floor_dbfs` maps to 0 and 0 dBFS to 1.

    Speech sits around -30..-10 dBFS, so a linear RMS meter would barely move; a dB scale does.
    """
    if floor_dbfs >= 0:
        raise ValueError("floor_dbfs must be negative")
    db = level_dbfs(pcm)
    return min(1.0, max(0.0, (db - floor_dbfs) / -floor_dbfs))
