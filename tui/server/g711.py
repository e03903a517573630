"""G.711 μ-law and A-law (ITU-T G.711), vectorized with numpy lookup tables.

The tables are built once from the reference formulas (the classic Sun `g711.c`): decoding maps
each of the 256 codes to a 16-bit sample, encoding maps each of the 65536 samples to a code.
`audioop` would do this too, but it is deprecated and gone in Python 3.13.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

_QUANT_MASK = 0x0F
_SEG_MASK = 0x70
_SEG_SHIFT = 4
_SIGN_BIT = 0x80
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159
#: Segment end points of the 14-bit (μ-law) and 13-bit (A-law) magnitudes.
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])

Int16Array = npt.NDArray[np.int16]


@functools.cache
def _ulaw_decode_table() -> Int16Array:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    t = ((code & _QUANT_MASK) << 3) + _ULAW_BIAS
    t <<= (code & _SEG_MASK) >> _SEG_SHIFT
    return np.where(code & _SIGN_BIT, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


@functools.cache
def _alaw_decode_table() -> Int16Array:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    t = (code & _QUANT_MASK) << 4
    seg = (code & _SEG_MASK) >> _SEG_SHIFT
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(code & _SIGN_BIT, t, -t).astype(np.int16)


@functools.cache
def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, magnitude)
    value = (seg << 4) | ((magnitude >> (seg + 1)) & _QUANT_MASK)
    value = np.where(seg >= 8, 0x7F, value)
    return (value ^ mask).astype(np.uint8)


@functools.cache
def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_ALAW_SEG_END, magnitude)
    low = np.where(seg < 2, magnitude >> 1, magnitude >> np.maximum(seg, 1)) & _QUANT_MASK
    value = np.where(seg >= 8, 0x7F, (seg << _SEG_SHIFT) | low)
    return (value ^ mask).astype(np.uint8)


def ulaw_decode(codes: bytes) -> Int16Array:
    """μ-law bytes to 16-bit samples."""
    return _ulaw_decode_table()[np.frombuffer(codes, dtype=np.uint8)]


def alaw_decode(codes: bytes) -> Int16Array:
    """A-law bytes to 16-bit samples."""
    return _alaw_decode_table()[np.frombuffer(codes, dtype=np.uint8)]


def ulaw_encode(samples: npt.NDArray[np.int16]) -> bytes:
    """16-bit samples to μ-law bytes."""
    return bytes(_ulaw_encode_table()[samples.astype(np.int32) + 32768])


def alaw_encode(samples: npt.NDArray[np.int16]) -> bytes:
    """16-bit samples to A-law bytes."""
    return bytes(_alaw_encode_table()[samples.astype(np.int32) + 32768])
