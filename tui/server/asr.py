"""Speech recognition with moonshine-voice tiny-en (weights ship in the 0.0.73 wheel).

The words heard in an item depend on its audio and nothing else. moonshine's own voice activity
detector cannot promise that: it is one Silero instance per process whose recurrent state no call
resets, plus a smoothing window per transcriber that a new call does not clear. When it cut the
audio into segments, what the process heard before leaked into the cut: after audio that ended
mid-speech, the silence leading the next item (a VAD commit's prefix padding, a pause before
speaking) was taken for speech, became a segment of its own, and the model filled it with words
that were never said ("You What is the weather…"), on any later connection; even after silence,
a noisy item's first segment moved by a hop from one time to the next, and its words with it.

So moonshine's detector only answers whether, and roughly where, an item holds speech (one
thread, its state settled on silence first); the recognizers run with it turned off and hear the
whole item, its silent ends cut to a fixed margin (`_trimmed`: the words changed with the silence
before them), long items cut at their quietest points, all chosen from the audio alone.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
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
#: Samples per step of moonshine's detector (32 ms at 16 kHz); pieces are cut between such steps.
_HOP = 512
#: Silence the detector hears before each item: one step longer than its 0.5 s smoothing window
#: (16 steps), so no probability left from the previous item counts there, and its recurrent
#: state settles on silence. Without it, loud noise after an item that ended mid-word was taken
#: for speech ("You can also use the link in") instead of failing as unintelligible.
_SETTLE = [0.0] * (17 * _HOP)
#: The most the model hears in one go. Its cost grows with the square of the length (~1 s for
#: 18 s of speech, ~3.3 s for 37 s) and near a minute it loops on a phrase; moonshine's own
#: segments stop at about 10 s.
_MAX_PIECE = 15 * _MODEL_RATE
#: A long item is cut at the quietest step between this far and `_MAX_PIECE` into the piece.
_MIN_PIECE = 5 * _MODEL_RATE

POOL_SIZE = max(1, min(2, os.cpu_count() or 1))
"""Recognizers running side by side. Each runs onnxruntime single-threaded: on 2 cores, two
single-threaded recognizers give ~45% more turns per second than one using both cores (measured
7.9 vs 11.4 turns/s for a 3.5 s utterance), which is what many concurrent sessions need."""


_LOAD_LOCK = threading.Lock()
"""moonshine's library wrapper is a lazily initialised singleton: two threads loading at once race.
A transcriber's first call creates the process-wide Silero instance, unguarded: that runs under
the lock too."""

Samples = np.ndarray[Any, np.dtype[np.float32]]


def _load(options: dict[str, str]) -> Any:
    # Read by libmoonshine when it creates its onnxruntime sessions (see POOL_SIZE).
    os.environ.setdefault("MOONSHINE_ORT_SINGLE_THREAD", "1")
    with _LOAD_LOCK, warnings.catch_warnings():
        # moonshine imports requests (for downloads we never make), which warns about SOCKS.
        warnings.simplefilter("ignore")
        from moonshine_voice import ModelArch, get_assets_path
        from moonshine_voice.transcriber import Transcriber

        transcriber = Transcriber(
            model_path=os.path.join(get_assets_path(), "tiny-en"), model_arch=ModelArch.TINY, options=options
        )
        # The first call builds the transcriber's detector, and with it the process's Silero.
        transcriber.transcribe_without_streaming(_SETTLE, sample_rate=_MODEL_RATE)
        return transcriber


class _SpeechDetector:
    """moonshine's voice activity detector, asked only where an item holds speech.

    There is one per process, on one thread: its Silero state is the process's anyway, and
    recognitions running side by side would otherwise interleave their audio in it, step by step.
    """

    def __init__(self) -> None:
        # skip_transcription: segments only, the model never runs here.
        self._transcriber = _load({"skip_transcription": "true", "return_audio_data": "false"})

    def pieces(self, pcm: bytes) -> list[Samples]:
        """The stretches of `pcm` (24 kHz PCM16) to recognize, as 16 kHz floats; [] when no speech."""
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0
        peak = _peak_energy(samples)
        if not _audible(peak):
            return []
        samples = _trimmed(samples, peak)
        import soxr

        # The model works at 16 kHz; resampling first also shrinks the list handed to ctypes.
        resampled = np.asarray(soxr.resample(samples, _INPUT_RATE, _MODEL_RATE), dtype=np.float32)
        self._transcriber.transcribe_without_streaming(_SETTLE, sample_rate=_MODEL_RATE)
        found = self._transcriber.transcribe_without_streaming(resampled.tolist(), sample_rate=_MODEL_RATE)
        speech = [
            (int(line.start_time * _MODEL_RATE), int((line.start_time + line.duration) * _MODEL_RATE))
            for line in found.lines
        ]
        # The detector's answer only drops pieces without speech; where each piece starts and
        # ends comes from the audio, so the words do not depend on the detector's state.
        return [
            resampled[start:end]
            for start, end in piece_bounds(resampled)
            if any(begin < end and finish > start for begin, finish in speech)
        ]


class _Recognizer:
    """One moonshine model with moonshine's detector turned off: it hears all it is given, as one segment."""

    def __init__(self) -> None:
        # A zero threshold skips the detector entirely (Silero is never run, nothing is smoothed):
        # nothing from one call reaches the next.
        self._transcriber = _load({"vad_threshold": "0"})

    def recognize(self, pieces: Sequence[Samples]) -> str:
        """The words in `pieces` (16 kHz floats), in order."""
        texts: list[str] = []
        for piece in pieces:
            result = self._transcriber.transcribe_without_streaming(piece.tolist(), sample_rate=_MODEL_RATE)
            texts += [line.text.strip() for line in result.lines if line.text.strip()]
        return " ".join(texts)


def piece_bounds(samples: Samples) -> list[tuple[int, int]]:
    """[start, end) sample ranges covering `samples`, none longer than `_MAX_PIECE`.

    A long item is cut at the middle of its quietest detector step between `_MIN_PIECE` into the
    piece and `_MAX_PIECE`, or `_MIN_PIECE` before the end: a pause between words if there is
    one, never a choice that depends on anything but these samples. No piece of a long item is
    shorter than `_MIN_PIECE` (the model fails outright on less than 64 ms).
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    while len(samples) - start > _MAX_PIECE:
        low = start + _MIN_PIECE
        steps = (min(start + _MAX_PIECE, len(samples) - _MIN_PIECE) - low) // _HOP
        window = samples[low : low + steps * _HOP].reshape(steps, _HOP).astype(np.float64)
        cut = low + int(np.argmin(np.mean(np.square(window), axis=1))) * _HOP + _HOP // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, len(samples)))
    return bounds


#: Quiet kept around the sound when the silence at an item's ends is cut (`_trimmed`).
_MARGIN_MS = 250
#: A frame quieter than this below the item's loudest is silence at its ends.
_QUIET_BELOW_PEAK_DB = 40.0


def _trimmed(samples: Samples, peak: float) -> Samples:
    """`samples` without the silence at their ends, `_MARGIN_MS` of it kept on each side.

    The model's words changed with the silence before them: "turn on the kitchen lights" with
    0.2, 0.3, 0.8 or 1.5 s of it ahead came back "Turn on vacation lights", with 0.4-0.7 s right:
    a user pressing space a little earlier took it for their microphone's fault. Cut so, an item
    always starts `_MARGIN_MS` before its first sound, and its words no longer depend on when the
    turn began (an item whose sound starts or ends closer to its edge gets silence added up to the
    margin). Chosen from these samples alone (see the module doc); `peak`: their loudest frame's
    energy (`_peak_energy`)."""
    # The ends are found sample by sample (frames would move them with the lead-in's length modulo a
    # frame): the first and last sample louder than the loudest frame's level less the margin's dB.
    level = float(np.sqrt(peak)) * 10.0 ** (-_QUIET_BELOW_PEAK_DB / 20.0)
    loud = np.flatnonzero(np.abs(samples) > level)
    if loud.size == 0:
        return samples
    margin = _MARGIN_MS * BYTES_PER_MS // 2
    first, last = int(loud[0]), int(loud[-1]) + 1
    start, end = max(0, first - margin), min(len(samples), last + margin)
    # Less quiet than the margin at an end (speech from the first sample) is made up with silence:
    # the model hears the same lead-in whatever the turn began with.
    before, after = margin - (first - start), margin - (end - last)
    if before or after:
        quiet = np.zeros(max(before, after), dtype=np.float32)
        return np.concatenate((quiet[:before], samples[start:end], quiet[:after]))
    return samples[start:end]


def _peak_energy(samples: Samples) -> float:
    """The mean square of the loudest whole `FRAME_MS` frame of `samples` (0.0 with none): read
    once per item, by `_audible` and `_trimmed` both."""
    frame = FRAME_MS * BYTES_PER_MS // 2
    usable = len(samples) - len(samples) % frame
    if usable == 0:
        return 0.0
    return float(np.max(np.mean(np.square(samples[:usable].reshape(-1, frame).astype(np.float64)), axis=1)))


def _audible(peak: float) -> bool:
    """Whether an item whose loudest frame has energy `peak` holds anything above `_AUDIBLE_DBFS`."""
    return peak > 0.0 and 10.0 * np.log10(peak) >= _AUDIBLE_DBFS


class AsrEngine:
    """Transcribes 24 kHz PCM16 off the event loop; empty text means nothing intelligible.

    One speech detector finds whether an item holds speech, then a small pool of recognizers
    hears it, each recognizer owned by its own thread (the native library is not known to be
    thread-safe, so a recognizer is never shared); a call goes to the least busy one.
    """

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self._detector: SerialWorker[_SpeechDetector] = SerialWorker("rt-asr-vad", _SpeechDetector)
        self._workers: list[SerialWorker[_Recognizer]] = [
            SerialWorker(f"rt-asr-{index}", _Recognizer) for index in range(pool_size)
        ]
        self._pending = [0] * pool_size

    @property
    def loaded(self) -> bool:
        """True once the detector and every recognizer are in memory."""
        return self._detector.loaded and all(worker.loaded for worker in self._workers)

    def warm_up(self) -> Future[None]:
        """Start loading the models in the background; the future completes when all are loaded."""
        loads = [self._detector.warm_up()] + [worker.warm_up() for worker in self._workers]
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
        pieces = await self._detector.run(lambda detector: detector.pieces(pcm))
        if not pieces:
            return ""
        index = min(range(len(self._workers)), key=self._pending.__getitem__)
        self._pending[index] += 1
        try:
            return await self._workers[index].run(lambda recognizer: recognizer.recognize(pieces))
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
