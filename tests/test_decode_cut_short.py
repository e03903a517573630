"""A WAV cut short (its header promises more audio than the file holds) is refused, not sent as if
it were whole: libsndfile counts the frames the file holds, so a fixture that a copy cut at 0.45 s of
its 1.96 s was answered, exit 0, with a transcript of its first words (review 54b)."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.server_helpers import speech_pcm24
from tui.audio.decode import AudioDecodeError, decode_file


def tone(path: Path, seconds: float, rate: int = 24_000, subtype: str = "PCM_16", channels: int = 1) -> bytes:
    samples = (np.sin(np.arange(int(seconds * rate)) / 8) * 0.3).astype("float32")
    soundfile.write(path, np.repeat(samples[:, None], channels, axis=1), rate, subtype=subtype)
    return path.read_bytes()


def test_a_wav_cut_short_is_refused_with_both_lengths(tmp_path: Path) -> None:
    whole = tone(tmp_path / "whole.wav", 2.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[:20_000])
    with pytest.raises(AudioDecodeError) as refused:
        decode_file(cut)
    said = str(refused.value)
    assert "cut short: its header says 2.00 s of audio, the file holds 0.42 s" in said
    assert "sox cut.wav whole.wav" in said
    assert decode_file(tmp_path / "whole.wav").duration_ms == 2000.0


@pytest.mark.parametrize(("rate", "channels"), [(16_000, 2), (48_000, 1)])
def test_a_cut_is_found_at_other_rates_and_channel_counts(tmp_path: Path, rate: int, channels: int) -> None:
    whole = tone(tmp_path / "whole.wav", 1.0, rate=rate, channels=channels)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(AudioDecodeError, match="cut short"):
        decode_file(cut)


def test_a_streamed_wav_whose_size_is_unknown_is_read_as_it_is(tmp_path: Path) -> None:
    """A recorder that streams a WAV cannot go back to write its sizes: 0xFFFFFFFF there means
    "unknown", not "cut"."""
    data = tone(tmp_path / "whole.wav", 1.0)
    at = data.index(b"data") + 4
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(data[:at] + struct.pack("<I", 0xFFFFFFFF) + data[at + 4 :])
    assert decode_file(streamed).duration_ms == pytest.approx(1000.0, abs=1)


def test_a_float_wav_python_s_wave_cannot_read_is_not_refused(tmp_path: Path) -> None:
    tone(tmp_path / "float.wav", 0.5, subtype="FLOAT")
    assert decode_file(tmp_path / "float.wav").duration_ms == pytest.approx(500.0, abs=1)


@pytest.mark.parametrize("kept", [20_000, 2_000])
def test_send_refuses_a_cut_fixture_with_status_2(tmp_path: Path, kept: int) -> None:
    """Through the real command: nothing is sent, the reason on stderr, exit 2 as for the other
    files it cannot send. Cut to under 100 ms of audio, it was refused as too short to commit,
    which pointed at the wrong fix (review 55d)."""
    speech = tmp_path / "speech.wav"
    soundfile.write(speech, np.frombuffer(speech_pcm24("what is the weather like"), dtype="<i2"), 24_000)
    cut = tmp_path / "q.wav"
    cut.write_bytes(speech.read_bytes()[:kept])
    binary = Path(sys.executable).parent / "rt-tui"
    result = subprocess.run(
        [str(binary), "send", "--url", "ws://127.0.0.1:9/v1/realtime", str(cut)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "q.wav is cut short" in result.stderr and result.stdout == ""
