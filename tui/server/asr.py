"""Speech recognition with moonshine-voice tiny-en (weights ship in the 0.0.73 wheel)."""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import Future
from typing import Any

import numpy as np

from .audio_buffer import BYTES_PER_MS
from .vad import FRAME_MS
from .worker import SerialWorker

_INPUT_RATE = 24000
_MODEL_RATE = 16000
#: Moonshine invents words ("You") for silence; audio with no frame above this is not sent to it.
_AUDIBLE_DBFS = -50.0


class _Moonshine:
    def __init__(self) -> None:
        with warnings.catch_warnings():
            # moonshine imports requests (for downloads we never make), which warns about SOCKS.
            warnings.simplefilter("ignore")
            from moonshine_voice import ModelArch, get_assets_path
            from moonshine_voice.transcriber import Transcriber

        self._transcriber: Any = Transcriber(
            model_path=os.path.join(get_assets_path(), "tiny-en"), model_arch=ModelArch.TINY
        )

    def transcribe(self, pcm: bytes) -> str:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0
        if not _audible(samples):
            return ""
        import soxr

        # The model works at 16 kHz; resampling first also shrinks the list handed to ctypes.
        resampled = soxr.resample(samples, _INPUT_RATE, _MODEL_RATE)
        result = self._transcriber.transcribe_without_streaming(resampled.tolist(), sample_rate=_MODEL_RATE)
        return " ".join(line.text.strip() for line in result.lines if line.text.strip())


def _audible(samples: np.ndarray[Any, np.dtype[np.float32]]) -> bool:
    frame = FRAME_MS * BYTES_PER_MS // 2
    usable = len(samples) - len(samples) % frame
    if usable == 0:
        return False
    energies = np.mean(np.square(samples[:usable].reshape(-1, frame).astype(np.float64)), axis=1)
    peak = float(np.max(energies))
    return peak > 0.0 and 10.0 * np.log10(peak) >= _AUDIBLE_DBFS


class AsrEngine:
    """Transcribes 24 kHz PCM16 off the event loop; empty text means nothing intelligible."""

    def __init__(self) -> None:
        self._worker: SerialWorker[_Moonshine] = SerialWorker("rt-asr", _Moonshine)

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._worker.loaded

    def warm_up(self) -> Future[None]:
        """Start loading the model in the background; the future completes when it is loaded."""
        return self._worker.warm_up()

    async def transcribe(self, pcm: bytes) -> str:
        """The text heard in `pcm` (24 kHz mono PCM16), or "" when nothing intelligible."""
        return await self._worker.run(lambda engine: engine.transcribe(pcm))


_engine: AsrEngine | None = None
_engine_lock = threading.Lock()


def get_asr() -> AsrEngine:
    """The process-wide ASR engine: every connection shares one model."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = AsrEngine()
        return _engine
