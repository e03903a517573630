"""Speech synthesis with libespeak-ng from espeakng-loader, through ctypes."""

from __future__ import annotations

import ctypes
import threading
from concurrent.futures import Future
from typing import Any

import numpy as np

from .worker import SerialWorker

OUTPUT_RATE = 24000
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1
_DEFAULT_WPM = 175
_POS_CHARACTER = 1
_CHARS_UTF8 = 1

#: Each API voice gets a distinct espeak variant, so a voice change is audible in tests too.
#: The two recommended voices use the variants moonshine recognizes best, because clients test
#: against the simulator by transcribing its replies. (libespeak-ng keeps noise state between
#: utterances, so the same text never comes out bit-identical twice.)
_VOICE_VARIANTS = {
    "marin": "en-us+f5",
    "cedar": "en-us+m3",
    "alloy": "en-us+f3",
    "ash": "en-us+m1",
    "ballad": "en-us+m2",
    "coral": "en-us+f4",
    "echo": "en-us+m4",
    "sage": "en-us+f1",
    "shimmer": "en-us+f2",
    "verse": "en-us+m5",
}

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    def __init__(self) -> None:
        import espeakng_loader

        lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib = lib
        self._chunks: list[bytes] = []
        # The C library keeps only a raw pointer: the ctypes callback object must outlive it.
        self._callback = _SynthCallback(self._collect)
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate})")
        self._rate = int(rate)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def synthesize(self, text: str, voice: str, speed: float) -> bytes:
        import soxr

        variant = _VOICE_VARIANTS.get(voice, "en-us")
        if self._lib.espeak_SetVoiceByName(variant.encode()) != 0:
            self._lib.espeak_SetVoiceByName(b"en-us")
        wpm = int(round(_DEFAULT_WPM * min(max(speed, 0.25), 1.5)))
        self._lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
        self._chunks = []
        data = text.encode("utf-8")
        self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        native = np.frombuffer(b"".join(self._chunks), dtype=np.int16)
        if native.size == 0:
            return b""
        return np.asarray(soxr.resample(native, self._rate, OUTPUT_RATE), dtype="<i2").tobytes()


class TtsEngine:
    """Speaks text as 24 kHz mono PCM16, off the event loop."""

    def __init__(self) -> None:
        self._worker: SerialWorker[_Espeak] = SerialWorker("rt-tts", _Espeak)

    @property
    def loaded(self) -> bool:
        """True once libespeak-ng is initialized."""
        return self._worker.loaded

    def warm_up(self) -> Future[None]:
        """Start initializing the library in the background."""
        return self._worker.warm_up()

    async def synthesize(self, text: str, *, voice: str = "marin", speed: float = 1.0) -> bytes:
        """`text` spoken with the espeak variant standing in for `voice`, as 24 kHz PCM16."""
        return await self._worker.run(lambda engine: engine.synthesize(text, voice, speed))


_engine: TtsEngine | None = None
_engine_lock = threading.Lock()


def get_tts() -> TtsEngine:
    """The process-wide TTS engine (libespeak-ng holds global state: one per process)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = TtsEngine()
        return _engine
