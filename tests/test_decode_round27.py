"""decode_file (round 27): what its files say about themselves, and that reading them a block at a
time (to keep its peak near the PCM it returns) gives the audio reading them whole gave."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tui.audio.decode import AudioDecodeError, decode_file, resample_to_pcm
from tui.audio.pcm import float_to_int16

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"


def int_wav(path: Path, bits: int, *, extensible: bool = False, channels: int = 1, tag: int = 1) -> Path:
    """A second of silence at 24 kHz in `bits`-bit integer samples (WAVE_FORMAT_PCM, or the
    extensible format with the PCM subformat; `tag` 3: floats), well formed."""
    rate, block = 24000, channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits)
    if extensible:  # cbSize, valid bits, channel mask, then the PCM subformat GUID
        fmt += struct.pack("<HHI", 22, bits, 4) + bytes.fromhex("0100000000001000800000aa00389b71")
    data = bytes(block * rate)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize(
    ("bits", "extensible", "tag", "samples"),
    [
        (40, False, 1, "40-bit integers"),
        (64, False, 1, "64-bit integers"),
        (48, True, 1, "48-bit integers"),
        (24, False, 3, "24-bit floats"),
    ],
)
def test_a_wav_of_samples_libsndfile_cannot_read_is_an_unsupported_sample_format(
    tmp_path: Path, bits: int, extensible: bool, tag: int, samples: str
) -> None:
    """A well-formed WAV of 40- or 64-bit integers (or 24-bit floats) was called "damaged or cut
    short": libsndfile has no reader for its samples (`unimplemented format`, or for the floats
    `Unspecified internal error`). Its fmt chunk says what they are."""
    path = int_wav(tmp_path / "wide.wav", bits, extensible=extensible, tag=tag)
    with pytest.raises(AudioDecodeError) as refused:
        decode_file(path)
    assert str(refused.value) == (
        f"cannot decode wide.wav: its samples are {samples}, an unsupported sample format "
        "(rt-tui reads WAVs of 8-, 16-, 24- or 32-bit integers, or 32- or 64-bit floats)"
    )


def test_send_says_a_40_bit_wav_is_an_unsupported_sample_format(tmp_path: Path) -> None:
    """The same words from the console script, in its one line, before it connects."""
    path = int_wav(tmp_path / "wide.wav", 40)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{probe.getsockname()[1]}/v1/realtime"
    done = subprocess.run(
        [RT_TUI, "send", str(path), "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RT_TUI_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "its samples are 40-bit integers, an unsupported sample format" in done.stderr


def test_32_channels_decode_and_33_are_refused(tmp_path: Path) -> None:
    """The limit is 32, as `send`'s: a microphone array's 32 tracks are read, averaged."""
    frames = np.full((2400, 32), 0.25)
    soundfile.write(tmp_path / "array.wav", frames, 24000, subtype="PCM_16")
    assert np.all(np.frombuffer(decode_file(tmp_path / "array.wav").pcm, "<i2") == 8192)
    soundfile.write(tmp_path / "more.wav", np.full((2400, 33), 0.25), 24000, subtype="PCM_16")
    with pytest.raises(AudioDecodeError, match="its header says 33 channels, and rt-tui reads up to 32"):
        decode_file(tmp_path / "more.wav")


def test_float32_to_int16_gives_what_float64_gave() -> None:
    """float_to_int16 keeps float32 as float32 now (no float64 copies): scaling by 2**15 is exact
    there, so rounding and clipping give the same int16, at the edges too."""
    rng = np.random.default_rng(27)
    edges = [  # halves round to even, as np.rint does; past float32's range multiplies to inf
        0.0,
        -0.0,
        0.5 / 32768,
        1.5 / 32768,
        2.5 / 32768,
        -0.5 / 32768,
        1.0,
        -1.0,
        1.5,
        -3.0,
        1e-45,
        3e38,
        -3e38,
    ]
    samples = np.concatenate([np.array(edges, dtype=np.float32), rng.normal(0, 0.7, 100_000).astype(np.float32)])
    as_float64 = np.clip(np.rint(samples.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered" on send's stderr
        assert np.array_equal(float_to_int16(samples), as_float64)


@pytest.mark.parametrize(
    ("rate", "channels", "subtype"), [(48000, 2, "PCM_24"), (44100, 1, "FLOAT"), (24000, 3, "PCM_16")]
)
def test_a_file_read_a_block_at_a_time_decodes_as_it_did_whole(
    tmp_path: Path, rate: int, channels: int, subtype: str
) -> None:
    """Several blocks long (with a ragged last one): bit for bit what averaging and resampling
    the whole file at once makes."""
    rng = np.random.default_rng(rate)
    frames = rng.normal(0, 0.4, (3 * 2**18 // channels + 777, channels))
    path = tmp_path / "long.wav"
    soundfile.write(path, frames, rate, subtype=subtype)
    whole, _ = soundfile.read(path, dtype="float32", always_2d=True)
    assert decode_file(path).pcm == resample_to_pcm(whole, rate)


def test_an_mp3_decodes_all_through(tmp_path: Path) -> None:
    """libsndfile reads an MP3 a block at a time wrongly (near silence after the first block):
    read whole, a steady tone stays steady to its end."""
    rate = 24000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(rate * 15) / rate)  # longer than a block
    path = tmp_path / "tone.mp3"
    soundfile.write(path, tone, rate, format="MP3")
    samples = np.frombuffer(decode_file(path).pcm, "<i2").astype(np.float64) / 32768
    seconds = [
        np.sqrt(np.mean(samples[i : i + rate // 4] ** 2)) for i in range(rate // 4, len(samples) - rate // 2, rate // 4)
    ]
    assert min(seconds) > 0.3 / np.sqrt(2) * 0.8, seconds
