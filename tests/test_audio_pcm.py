"""PCM16 helpers: levels, base64, chunking, conversions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import sine_pcm
from tui.audio import pcm


def test_constants_describe_24k_mono_int16() -> None:
    assert pcm.SAMPLE_RATE == 24000
    assert pcm.BYTES_PER_MS == 48
    assert pcm.duration_ms(48_000) == 1000
    assert pcm.bytes_for_ms(20) == 960


def test_levels_of_sine_and_silence() -> None:
    tone = sine_pcm(440, 200, amplitude=0.5)
    silence = bytes(len(tone))
    # RMS of a sine is amplitude / sqrt(2).
    assert pcm.rms_level(tone) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert pcm.level_dbfs(tone) == pytest.approx(-9.03, abs=0.05)
    assert pcm.rms_level(silence) == 0.0
    assert pcm.level_dbfs(silence) == pcm.SILENCE_DBFS
    assert pcm.rms_level(b"") == 0.0
    assert 0.8 < pcm.meter_level(tone) <= 1.0
    assert pcm.meter_level(silence) == 0.0
    quiet = sine_pcm(440, 200, amplitude=0.01)
    assert 0.0 < pcm.meter_level(quiet) < pcm.meter_level(tone)


def test_full_scale_level_is_capped_at_one() -> None:
    square = np.full(480, -32768, dtype="<i2").tobytes()
    assert pcm.rms_level(square) == 1.0
    assert pcm.meter_level(square) == 1.0


def test_b64_round_trip() -> None:
    data = sine_pcm(1000, 30)
    text = pcm.to_b64(data)
    assert isinstance(text, str)
    assert pcm.from_b64(text) == data
    assert pcm.from_b64(pcm.to_b64(b"")) == b""


def test_from_b64_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid base64"):
        pcm.from_b64("not base64!!")


def test_chunking_covers_everything_in_order() -> None:
    data = bytes(range(256)) * 10  # 2560 bytes
    chunks = list(pcm.chunk_bytes(data, 20))
    assert [len(c) for c in chunks] == [960, 960, 640]
    assert b"".join(chunks) == data
    assert list(pcm.chunk_bytes(b"", 20)) == []
    with pytest.raises(ValueError):
        list(pcm.chunk_bytes(data, 0))


def test_float_int16_conversions_clip_and_round_trip() -> None:
    samples = np.array([-32768, -1, 0, 1, 32767], dtype=np.int16)
    assert np.array_equal(pcm.float_to_int16(pcm.int16_to_float(samples)), samples)
    clipped = pcm.float_to_int16(np.array([-2.0, -1.0, 1.0, 2.0]))
    assert clipped.tolist() == [-32768, -32768, 32767, 32767]
    raw = pcm.int16_to_pcm(samples)
    assert raw[:2] == b"\x00\x80"  # little-endian -32768
    assert np.array_equal(pcm.pcm_to_int16(raw), samples)
    assert pcm.pcm_to_int16(raw + b"\x01").size == samples.size  # half a sample is ignored
    assert pcm.float_to_pcm(pcm.pcm_to_float(raw)) == raw
