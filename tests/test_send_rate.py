"""`rt-tui send --rate HZ`: a headerless file at another rate than the wire's. A 16 kHz `.pcm` (what
most speech toolkits write) was sent as 24 kHz, sped up by half, and its transcript came back
plausible and wrong ("please go to Tango Focoon" for "please book a table"), with nothing said.
Now `send` says what it assumed, and `--rate` resamples the file to 24 kHz. The real command line,
against the real simulator."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soxr

from tests.server_helpers import speech_pcm24
from tests.test_send import run_cli
from tui.server.testing import background_simulator

WORDS = "please turn on the kitchen lights and tell me the weather"
NOWHERE = "ws://127.0.0.1:9/v1/realtime"
"""A target never reached: the file is refused first."""


def pcm_at(rate: int) -> bytes:
    """The words as mono PCM16 at `rate`."""
    samples = np.frombuffer(speech_pcm24(WORDS), "<i2").astype(np.float32) / 32768
    resampled = np.asarray(soxr.resample(samples, 24_000, rate), dtype=np.float32)
    return (np.clip(resampled, -1, 1) * 32767).astype("<i2").tobytes()


def appended_bytes(capture: Path) -> int:
    """The PCM bytes the capture's `input_audio_buffer.append` frames carried."""
    total = 0
    for line in capture.read_text().splitlines():
        record = json.loads(line)
        frame = record.get("frame")
        if record["dir"] == "out" and isinstance(frame, dict) and frame["type"] == "input_audio_buffer.append":
            total += len(base64.b64decode(frame["audio"]))
    return total


def test_a_16_khz_file_with_rate_is_resampled_and_transcribed(tmp_path: Path) -> None:
    pcm = pcm_at(16_000)
    path = tmp_path / "turn.pcm"
    path.write_bytes(pcm)
    with background_simulator() as sim:
        done = run_cli(
            "send", str(path), "--rate", "16000", "--url", sim.url_for(), env_extra={"RT_TUI_DATA_DIR": str(tmp_path)}
        )
    assert done.returncode == 0, done.stderr
    assert "kitchen lights" in done.stdout.lower(), done.stdout
    assert "note:" not in done.stderr, done.stderr  # the rate was said: nothing assumed
    [capture] = tmp_path.glob("sessions/*/frames.jsonl")
    sent = appended_bytes(capture)
    assert abs(sent - len(pcm) * 24 // 16) <= 48, (sent, len(pcm))  # as long as it was, at 24 kHz


def test_a_raw_file_without_rate_is_sent_as_24_khz_and_the_assumption_is_said(tmp_path: Path) -> None:
    path = tmp_path / "turn.pcm"
    path.write_bytes(pcm_at(16_000))
    with background_simulator() as sim:
        done = run_cli("send", str(path), "--url", sim.url_for(), env_extra={"RT_TUI_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    seconds = len(path.read_bytes()) / 48_000
    assert done.stderr.splitlines()[0] == (
        f"rt-tui send: note: turn.pcm has no header: taken as 24 kHz mono PCM16 ({seconds:.1f} s); "
        "--rate HZ gives another rate"
    ), done.stderr


def test_rate_is_refused_for_a_file_with_a_header_and_for_standard_input(tmp_path: Path) -> None:
    import soundfile

    wav = tmp_path / "turn.wav"
    soundfile.write(wav, np.frombuffer(pcm_at(16_000), "<i2"), 16_000, subtype="PCM_16")
    done = run_cli("send", str(wav), "--rate", "16000", "--url", NOWHERE)
    assert done.returncode == 2
    assert done.stderr == (
        "rt-tui send: --rate is for a raw .pcm/.raw file: turn.wav has a header, which says its rate (16,000 Hz)\n"
    )
    piped = subprocess.run(
        [sys.executable, "-m", "tui", "send", "-", "--rate", "16000", "--url", NOWHERE],
        input=wav.read_bytes(),
        capture_output=True,
        timeout=60,
    )
    assert piped.returncode == 2
    assert b"--rate is for a raw .pcm/.raw file: standard input takes audio with a header" in piped.stderr


def test_a_rate_no_recorder_has_is_refused_by_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "turn.pcm"
    path.write_bytes(pcm_at(16_000))
    refused = {
        "3000": "3000 Hz: rt-tui reads 4,000 to 768,000 Hz",
        "fast": "not a sample rate in Hz",
        "16.5": "not a whole number of Hz",
    }
    for rate, said in refused.items():
        done = run_cli("send", str(path), "--rate", rate, "--url", NOWHERE)
        assert done.returncode == 2 and said in done.stderr, done.stderr


def test_a_rate_is_read_as_people_write_it() -> None:
    """`16kHz`, `16 kHz` and `16000HZ` were refused as "not a sample rate in Hz"."""
    from tui.cli import _raw_rate

    spellings = {"16000": 16000, "16000Hz": 16000, "16000HZ": 16000, "16 kHz": 16000, "16k": 16000, "22.05k": 22050}
    assert {text: _raw_rate(text) for text in spellings} == spellings


def test_a_stereo_file_at_a_given_rate_is_refused_with_that_rate_in_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "turn.pcm"
    path.write_bytes(np.repeat(np.frombuffer(pcm_at(16_000), "<i2"), 2).astype("<i2").tobytes())
    done = run_cli("send", str(path), "--rate", "16000", "--url", NOWHERE)
    assert done.returncode == 2
    assert "looks like stereo" in done.stderr and "sox -t s16 -r 16000 -c 2" in done.stderr, done.stderr
