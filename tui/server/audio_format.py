"""The session's wire audio formats and the simulator's internal one (24 kHz mono PCM16).

Everything inside the simulator (the input buffer, VAD, ASR, TTS, truncation) works on 24 kHz
PCM16. G.711 (`audio/pcmu`, `audio/pcma`; beta `g711_ulaw`, `g711_alaw`) is 8 kHz with one byte
per sample, so it is decoded and upsampled ×3 on the way in and downsampled ×3 and encoded on the
way out. The ×3 filters emit exactly three samples per G.711 sample (and one per three back),
so the session audio clock stays exact: 8 G.711 bytes are 1 ms, like 48 PCM16 bytes.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from . import g711

PCM = "audio/pcm"
PCMU = "audio/pcmu"
PCMA = "audio/pcma"

_FACTOR = 3
#: G.711 bytes (1 s) upsampled at a time: the filter's float intermediates stay small however
#: long the clip.
_DECODE_CHUNK = 8000
#: Taps per polyphase branch; 24 at 8 kHz is 3 ms of history, plenty for speech.
_TAPS_PER_PHASE = 24
_CUTOFF_HZ = 3600.0
_RATE = 24000

FloatArray = npt.NDArray[np.float64]


def format_type(fmt: Any) -> str:
    """The GA type of a format object (`audio/pcm` for anything unrecognized)."""
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    return kind if kind in (PCMU, PCMA) else PCM


def wire_ms(fmt: Any, nbytes: int) -> int:
    """Whole milliseconds of audio in `nbytes` of this wire format, known before decoding."""
    return nbytes // 8 if format_type(fmt) != PCM else nbytes // 48


@functools.cache
def _lowpass() -> FloatArray:
    """A Kaiser-windowed sinc low-pass at 24 kHz with its pass band under 4 kHz (G.711's Nyquist)."""
    length = _FACTOR * _TAPS_PER_PHASE
    n = np.arange(length) - (length - 1) / 2.0
    taps = 2.0 * _CUTOFF_HZ / _RATE * np.sinc(2.0 * _CUTOFF_HZ / _RATE * n) * np.kaiser(length, 8.0)
    result: FloatArray = taps / taps.sum()
    return result


class Upsampler:
    """8 kHz to 24 kHz, streaming: exactly three output samples per input sample."""

    def __init__(self) -> None:
        taps = _lowpass() * _FACTOR
        self._phases = [taps[phase::_FACTOR] for phase in range(_FACTOR)]
        self._history = np.zeros(_TAPS_PER_PHASE - 1)

    def process(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """Upsample one chunk; the filter state carries over to the next."""
        if samples.size == 0:
            return np.zeros(0, dtype=np.int16)
        full = np.concatenate([self._history, samples.astype(np.float64)])
        self._history = full[-(_TAPS_PER_PHASE - 1) :]
        out = np.empty(samples.size * _FACTOR)
        for phase, taps in enumerate(self._phases):
            out[phase::_FACTOR] = np.convolve(full, taps, mode="valid")
        return _to_int16(out)


class Downsampler:
    """24 kHz to 8 kHz, streaming: one output sample per three input samples, across chunks."""

    def __init__(self) -> None:
        self._taps = _lowpass()
        self._history = np.zeros(self._taps.size - 1)
        self._phase = 0
        """Index, in the next chunk, of the first sample that lands on the 8 kHz grid."""

    def process(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """Filter and decimate one chunk of any length."""
        if samples.size == 0:
            return np.zeros(0, dtype=np.int16)
        full = np.concatenate([self._history, samples.astype(np.float64)])
        self._history = full[-(self._taps.size - 1) :]
        filtered = np.convolve(full, self._taps, mode="valid")
        out = filtered[self._phase :: _FACTOR]
        self._phase = (self._phase - samples.size) % _FACTOR
        return _to_int16(out)


def _to_int16(values: FloatArray) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(values), -32768, 32767).astype(np.int16)


class InputDecoder:
    """Wire audio of one session input format to internal PCM16, keeping filter state per stream."""

    def __init__(self, fmt: Any) -> None:
        self.kind = format_type(fmt)
        self._upsampler = Upsampler() if self.kind != PCM else None

    def decode(self, data: bytes) -> bytes:
        """Decode one appended chunk."""
        if self._upsampler is None:
            return data
        # In steps: the streaming filter gives the same samples, with bounded intermediates.
        return b"".join(self._decode_step(data[i : i + _DECODE_CHUNK]) for i in range(0, len(data), _DECODE_CHUNK))

    def _decode_step(self, data: bytes) -> bytes:
        assert self._upsampler is not None
        samples = g711.ulaw_decode(data) if self.kind == PCMU else g711.alaw_decode(data)
        return self._upsampler.process(samples).astype("<i2").tobytes()


class OutputEncoder:
    """Internal PCM16 to the wire audio of one output format, streaming."""

    def __init__(self, fmt: Any) -> None:
        self.kind = format_type(fmt)
        self._downsampler = Downsampler() if self.kind != PCM else None
        self._odd = b""

    def encode(self, pcm: bytes) -> bytes:
        """Encode one chunk of 24 kHz PCM16."""
        if self._downsampler is None:
            return pcm
        data = self._odd + pcm
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        samples = self._downsampler.process(np.frombuffer(data[:whole], dtype="<i2"))
        return g711.ulaw_encode(samples) if self.kind == PCMU else g711.alaw_encode(samples)


def decode_clip(fmt: Any, data: bytes) -> bytes:
    """Decode a whole clip (an item's audio) to internal PCM16."""
    return InputDecoder(fmt).decode(data)


def encode_clip(fmt: Any, pcm: bytes) -> bytes:
    """Encode a whole clip of internal PCM16 to the wire format (for `conversation.item.retrieved`)."""
    return OutputEncoder(fmt).encode(pcm)


class ResponseAudio:
    """Re-encodes `response.output_audio.delta` for responses whose output format is G.711.

    Responses generate 24 kHz PCM16; the output format is fixed per response when it is
    created (the session's, or the one `response.create` asked for), so the writer feeds every
    outbound event through `transcode` and each response keeps its own streaming encoder.
    """

    def __init__(self) -> None:
        self._encoders: dict[str, OutputEncoder] = {}

    def transcode(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as it goes on the wire (a new dict when its audio was re-encoded)."""
        kind = event.get("type")
        if kind == "response.created":
            response = event.get("response") or {}
            fmt = ((response.get("audio") or {}).get("output") or {}).get("format")
            if format_type(fmt) != PCM:
                self._encoders[str(response.get("id"))] = OutputEncoder(fmt)
        elif kind == "response.output_audio.delta":
            encoder = self._encoders.get(str(event.get("response_id")))
            if encoder is not None:
                wire = encoder.encode(base64.b64decode(event.get("delta") or ""))
                return {**event, "delta": base64.b64encode(wire).decode("ascii")}
        elif kind == "response.done":
            self._encoders.pop(str((event.get("response") or {}).get("id")), None)
        return event
