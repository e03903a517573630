"""File decoding: any WAV/FLAC/OGG to raw 24 kHz mono PCM16 with no header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.audio_helpers import espeak_available, espeak_wav
from tui.audio import AudioDecodeError, decode_file, pcm_to_int16, resample_pcm16


def _sine(freq: float, seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def _peak_hz(pcm: bytes, rate: int = 24000) -> float:
    samples = pcm_to_int16(pcm).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    ("rate", "channels", "subtype", "suffix"),
    [
        (22050, 2, "PCM_16", ".wav"),
        (44100, 1, "PCM_16", ".wav"),
        (16000, 1, "PCM_16", ".wav"),
        (48000, 2, "FLOAT", ".wav"),
        (24000, 1, "PCM_24", ".wav"),
        (32000, 1, "PCM_16", ".flac"),
        (44100, 2, "VORBIS", ".ogg"),
    ],
)
def test_files_decode_to_24k_mono_pcm16(tmp_path: Path, rate: int, channels: int, subtype: str, suffix: str) -> None:
    path = tmp_path / f"tone{suffix}"
    soundfile.write(path, _sine(1000, 1.5, rate, channels), rate, subtype=subtype)

    audio = decode_file(path)

    assert audio.source_rate == rate
    assert audio.source_channels == channels
    assert audio.pcm[:4] not in (b"RIFF", b"fLaC", b"OggS")
    assert len(audio.pcm) % 2 == 0
    assert audio.duration_ms == pytest.approx(1500, abs=1)
    assert len(audio.pcm) / 48 == pytest.approx(1500, abs=1)
    assert _peak_hz(audio.pcm) == pytest.approx(1000, abs=2)
    level = np.sqrt(np.mean((pcm_to_int16(audio.pcm) / 32768.0) ** 2))
    assert level == pytest.approx(0.5 / np.sqrt(2), rel=0.05)  # downmix averages, resampling keeps gain


def test_24k_int16_wav_is_bit_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-20000, 20000, size=24000, dtype=np.int16)
    path = tmp_path / "exact.wav"
    soundfile.write(path, samples, 24000, subtype="PCM_16")
    assert decode_file(path).pcm == samples.astype("<i2").tobytes()


def test_stereo_downmix_averages_channels(tmp_path: Path) -> None:
    left = np.full(2400, 0.5)
    right = np.zeros(2400)
    path = tmp_path / "lr.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 24000, subtype="FLOAT")
    samples = pcm_to_int16(decode_file(path).pcm)
    assert np.all(samples == 8192)  # (0.5 + 0) / 2 * 32768


def test_raw_pcm_is_taken_as_24k_mono(tmp_path: Path) -> None:
    raw = np.arange(-500, 500, dtype="<i2").tobytes()
    path = tmp_path / "speech.pcm"
    path.write_bytes(raw)
    audio = decode_file(path)
    assert audio.pcm == raw
    assert (audio.source_rate, audio.source_channels) == (24000, 1)
    assert audio.duration_ms == pytest.approx(1000 / 24, abs=0.01)


def test_wav_named_raw_still_loses_its_header(tmp_path: Path) -> None:
    path = tmp_path / "mislabelled.raw"
    soundfile.write(path, _sine(440, 0.2, 16000, 1), 16000, subtype="PCM_16", format="WAV")
    audio = decode_file(path)
    assert audio.pcm[:4] != b"RIFF"
    assert audio.source_rate == 16000
    assert audio.duration_ms == pytest.approx(200, abs=1)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng binary not installed")
def test_espeak_wav_decodes(tmp_path: Path) -> None:
    wav = espeak_wav("hello world, what is the weather today", tmp_path / "hello.wav")
    info = soundfile.info(wav)
    audio = decode_file(wav)
    assert audio.source_rate == 22050
    assert audio.duration_ms == pytest.approx(info.frames / info.samplerate * 1000, abs=1)
    assert audio.pcm[:4] != b"RIFF"
    assert np.abs(pcm_to_int16(audio.pcm)).max() > 1000  # actual speech, not silence


def test_missing_file_raises_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="audio file not found: .*nope.wav"):
        decode_file(tmp_path / "nope.wav")


def test_garbage_file_raises_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(AudioDecodeError, match="cannot decode garbage.wav: not a supported audio file") as info:
        decode_file(path)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_directory_and_empty_files_raise(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="not a regular file"):
        decode_file(tmp_path)
    empty_raw = tmp_path / "empty.pcm"
    empty_raw.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="contains no audio"):
        decode_file(empty_raw)
    empty_wav = tmp_path / "empty.wav"
    soundfile.write(empty_wav, np.zeros(0), 24000, subtype="PCM_16")
    with pytest.raises(AudioDecodeError, match="contains no audio"):
        decode_file(empty_wav)
    zero_bytes = tmp_path / "zero.wav"  # a recording that never started: not a codec question
    zero_bytes.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match=r"contains no audio \(empty file, 0 bytes\)"):
        decode_file(zero_bytes)
    odd = tmp_path / "odd.raw"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(AudioDecodeError, match="odd number of bytes"):
        decode_file(odd)


def test_resample_pcm16_keeps_duration_and_tone() -> None:
    t = np.arange(16000) / 16000
    pcm16k = np.rint(0.5 * 32767 * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes()
    out = resample_pcm16(pcm16k, 16000)
    assert len(out) / 48 == pytest.approx(1000, abs=1)
    assert _peak_hz(out) == pytest.approx(1000, abs=2)
    assert resample_pcm16(pcm16k, 24000) == pcm16k


def _headerless_speech(tmp_path: Path) -> bytes:
    """A real recording's samples without their header, starting with the samples -1, 0 (bytes FF FF
    00 00, a quiet recording's first dither: to libsndfile, an MPEG Layer I frame header)."""
    wav = espeak_wav("hello world, what is the weather today", tmp_path / "hello.wav")
    samples, _ = soundfile.read(wav, dtype="int16")
    return np.concatenate([np.array([-1, 0], dtype="<i2"), samples.astype("<i2")]).tobytes()


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_headerless_pcm_named_wav_is_refused_not_decoded_as_mpeg_noise(tmp_path: Path) -> None:
    path = tmp_path / "recording.wav"
    path.write_bytes(_headerless_speech(tmp_path))
    assert soundfile.info(path).format == "MP3"  # what libsndfile takes it for
    with pytest.raises(AudioDecodeError, match="cannot decode recording.wav: not an MP3 file") as info:
        decode_file(path)
    # The advice first (a review: it came last, after the decoder's complaint about bits), then why.
    said = str(info.value)
    assert said.index("Headerless PCM is read only from a .pcm or .raw file") < said.index("it opens as an MPEG")
    assert "\n" not in str(info.value)
    raw = tmp_path / "recording.pcm"  # the same bytes, named as what they are: taken as they are
    raw.write_bytes(path.read_bytes())
    assert decode_file(raw).pcm == path.read_bytes()
