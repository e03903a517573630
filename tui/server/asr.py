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

POOL_SIZE = max(1, min(2, os.cpu_count() or 1))
"""Recognizers running side by side. Each runs onnxruntime single-threaded: on 2 cores, two
single-threaded recognizers give ~45% more turns per second than one using both cores (measured
7.9 vs 11.4 turns/s for a 3.5 s utterance), which is what many concurrent sessions need."""


_LOAD_LOCK = threading.Lock()
"""moonshine's library wrapper is a lazily initialised singleton: two threads loading at once race."""


class _Moonshine:
    def __init__(self) -> None:
        # Read by libmoonshine when it creates its onnxruntime sessions (see POOL_SIZE).
        os.environ.setdefault("MOONSHINE_ORT_SINGLE_THREAD", "1")
        with _LOAD_LOCK, warnings.catch_warnings():
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
    """Transcribes 24 kHz PCM16 off the event loop; empty text means nothing intelligible.

    A small pool of recognizers, each owned by its own thread (the native library is not known to
    be thread-safe, so a recognizer is never shared); a call goes to the least busy one.
    """

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self._workers: list[SerialWorker[_Moonshine]] = [
            SerialWorker(f"rt-asr-{index}", _Moonshine) for index in range(pool_size)
        ]
        self._pending = [0] * pool_size

    @property
    def loaded(self) -> bool:
        """True once every recognizer is in memory."""
        return all(worker.loaded for worker in self._workers)

    def warm_up(self) -> Future[None]:
        """Start loading the models in the background; the future completes when all are loaded."""
        loads = [worker.warm_up() for worker in self._workers]
        done: Future[None] = Future()
        remaining = [len(loads)]
        lock = threading.Lock()

        def one_loaded(future: Future[None]) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if future.exception() is not None and not done.done():
                done.set_exception(future.exception())
            elif last and not done.done():
                done.set_result(None)

        for load in loads:
            load.add_done_callback(one_loaded)
        return done

    async def transcribe(self, pcm: bytes) -> str:
        """The text heard in `pcm` (24 kHz mono PCM16), or "" when nothing intelligible."""
        index = min(range(len(self._workers)), key=self._pending.__getitem__)
        self._pending[index] += 1
        try:
            return await self._workers[index].run(lambda engine: engine.transcribe(pcm))
        finally:
            self._pending[index] -= 1


_engine: AsrEngine | None = None
_engine_lock = threading.Lock()


def get_asr() -> AsrEngine:
    """The process-wide ASR engine: every connection shares one model."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = AsrEngine()
        return _engine
