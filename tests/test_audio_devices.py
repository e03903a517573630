"""Real PyAudio through the fake ALSA devices (tests/alsa/fake.conf): no mocks of PortAudio.

The mic is a FIFO fed in real time and the speaker a FIFO drained in real time (tests/audio_helpers.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio_helpers import (
    FifoFeeder,
    FifoSink,
    espeak_available,
    espeak_wav,
    fake_alsa,
    find_pcm,
    no_card_config,
    sine_pcm,
    wait_until,
)
from tui.audio import AudioDeviceError, Microphone, Speaker, decode_file, list_devices

REPO = Path(__file__).resolve().parent.parent


def _speech_or_tone(tmp_path: Path) -> bytes:
    if espeak_available():
        return decode_file(espeak_wav("what is the weather today", tmp_path / "s.wav")).pcm
    return sine_pcm(440, 1500)


@pytest.fixture
def no_card_conf(tmp_path: Path) -> Path:
    return no_card_config(tmp_path)


async def test_microphone_without_device_raises_clear_error(no_card_conf: Path) -> None:
    with fake_alsa(None, None, config=no_card_conf):
        mic = Microphone()
        with pytest.raises(AudioDeviceError, match=r"^no input device \(PortAudio sees none\)$"):
            mic.start()
        assert not mic.running
        mic.stop()  # harmless after a failed start
        await mic.aclose()


def test_speaker_without_device_raises_clear_error(no_card_conf: Path) -> None:
    with fake_alsa(None, None, config=no_card_conf):
        with pytest.raises(AudioDeviceError, match=r"^no output device \(PortAudio sees none\)$"):
            Speaker().start()
        assert list_devices() == []


def test_fake_devices_are_listed() -> None:
    with fake_alsa(None, None):
        devices = {d.name: d for d in list_devices()}
    assert {"fakemic", "fakespk", "default"} <= set(devices)
    assert devices["default"].max_in >= 1
    assert devices["default"].max_out >= 1


async def test_capture_delivers_the_fed_bytes_in_real_time(tmp_path: Path) -> None:
    pcm = _speech_or_tone(tmp_path)
    expected_s = len(pcm) / 48_000
    loop_thread = threading.get_ident()
    levels: list[tuple[float, int]] = []

    feeder = FifoFeeder(tmp_path / "mic.fifo", chunk_bytes=960)
    feeder.start()
    try:
        with fake_alsa(feeder.path, None):
            mic = Microphone(on_level=lambda lv: levels.append((lv, threading.get_ident())))
            mic.start()
            try:
                captured = bytearray()
                feeder.play(pcm)
                started = time.monotonic()
                async with asyncio.timeout(expected_s + 5):
                    async for chunk in mic.chunks():
                        assert len(chunk) == 960  # 480 frames per callback
                        captured += chunk
                        if feeder.played.is_set() and len(captured) > len(pcm) + 48_00:
                            break
                elapsed = time.monotonic() - started
            finally:
                await mic.aclose()
    finally:
        feeder.stop()  # only after the stream is closed, or PortAudio's read() blocks forever

    captured += mic.drain()
    offset = find_pcm(bytes(captured), pcm)
    assert offset >= 0, "the captured stream does not contain the fed audio"
    assert elapsed > 0.8 * expected_s, f"captured {expected_s:.2f}s of audio in {elapsed:.2f}s: not paced"
    assert elapsed < expected_s + 2.0
    assert mic.bytes_captured >= len(pcm)
    assert levels and max(lv for lv, _ in levels) > 0.3
    assert {tid for _, tid in levels} == {loop_thread}, "on_level must run on the loop thread"


async def test_microphone_restarts_and_chunks_end_after_stop(tmp_path: Path) -> None:
    feeder = FifoFeeder(tmp_path / "mic.fifo", chunk_bytes=960 * 2)
    feeder.start()
    try:
        with fake_alsa(feeder.path, None):
            mic = Microphone()
            for _ in range(2):
                mic.start()
                got = [await asyncio.wait_for(mic.queue.get(), 2) for _ in range(3)]
                assert all(len(c) == 960 for c in got)
                await mic.aclose()
                assert not mic.running
                rest = [c async for c in mic.chunks()]  # the end marker finishes the iterator
                assert all(rest)
    finally:
        feeder.stop()


def test_speaker_plays_exact_samples_and_counts_them(tmp_path: Path) -> None:
    pcm = sine_pcm(440, 1000, amplitude=0.3) + sine_pcm(660, 500, amplitude=0.3)
    duration = len(pcm) * 1000 // 48_000
    with FifoSink(tmp_path / "spk.fifo") as sink, fake_alsa(None, sink.path):
        spk = Speaker()
        spk.start()
        try:
            started = time.monotonic()
            for i in range(0, len(pcm), 4800):  # 100 ms deltas, as a server would send them
                spk.enqueue(pcm[i : i + 4800], "item_1")
            assert wait_until(lambda: spk.played_ms("item_1") >= duration, timeout=duration / 1000 + 3)
            elapsed = time.monotonic() - started
            assert wait_until(lambda: find_pcm(sink.data, pcm) >= 0, timeout=2)
        finally:
            spk.close()  # before the sink stops draining, or PortAudio's write() blocks
    assert spk.played_ms("item_1") == duration
    assert spk.played_samples("item_1") == len(pcm) // 2
    assert spk.idle
    assert spk.current_item == "item_1"
    assert elapsed > 0.7 * duration / 1000, f"{duration} ms handed to the device in {elapsed:.2f}s"
    data = sink.data
    offset = find_pcm(data, pcm)
    assert not any(data[:offset]), "only silence may precede the audio"


def test_a_reply_queued_after_the_last_played_out_is_the_one_playing(tmp_path: Path) -> None:
    """The recorder's `▶ assistant N s` reads the item playing: a reply queued after the last one
    played out is it at once (its clock read the last reply's length until its first samples
    reached the device; review 58a saw `4.1 s` then `0.6 s`)."""
    first, second = sine_pcm(440, 300, amplitude=0.3), sine_pcm(660, 2000, amplitude=0.3)
    with FifoSink(tmp_path / "spk.fifo") as sink, fake_alsa(None, sink.path):
        spk = Speaker()
        spk.start()
        try:
            spk.enqueue(first, "item_1")
            assert wait_until(lambda: spk.idle and spk.played_ms("item_1") == 300, timeout=3)
            assert spk.current_item == "item_1"
            spk.enqueue(second, "item_2")
            assert spk.current_item == "item_2"
            assert spk.played_ms("item_2") < 300  # its own clock, from (nearly) zero
        finally:
            spk.close()


def test_speaker_clear_interrupts_and_drops_late_audio(tmp_path: Path) -> None:
    pcm = sine_pcm(440, 2000, amplitude=0.3)
    with FifoSink(tmp_path / "spk.fifo") as sink, fake_alsa(None, sink.path):
        spk = Speaker(fade_ms=10)
        spk.start()
        try:
            spk.enqueue(pcm, "item_a")
            assert wait_until(lambda: spk.played_ms("item_a") >= 400, timeout=3)
            before = spk.played_ms("item_a")
            interrupted = spk.clear()
            assert set(interrupted) == {"item_a"}
            cut = interrupted["item_a"]
            # Cut where it was, whenever this thread got to clear it (a loaded machine is late), not at the end.
            assert before <= cut < len(pcm) // 48 - 200, (before, cut)
            spk.enqueue(pcm, "item_a")  # a late delta after response.cancel
            time.sleep(0.3)
            assert spk.played_ms("item_a") == cut
            assert spk.idle
            spk.enqueue(sine_pcm(880, 60), "item_b")  # shorter than the pre-buffer: still plays
            assert wait_until(lambda: spk.played_ms("item_b") == 60, timeout=2)
        finally:
            spk.close()
    played = np.frombuffer(sink.data[: len(sink.data) // 2 * 2], dtype="<i2")
    assert np.count_nonzero(played) < (cut + 10 + 60 + 20) * 24  # nothing after the cut but the fade


def _run_python(code: str, env_drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, timeout=30, check=False)


def test_import_does_not_load_pyaudio() -> None:
    proc = _run_python("import sys, tui.audio; print('pyaudio' in sys.modules)")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip() == b"False"


def test_silencing_keeps_native_noise_off_stderr() -> None:
    env_drop = ("ALSA_CONFIG_PATH", "RT_MIC_FILE", "RT_SPK_FILE")  # use the real, noisy system config
    noisy = _run_python("import pyaudio; pyaudio.PyAudio().terminate()", env_drop)
    if not noisy.stderr:
        pytest.skip("this machine's ALSA/JACK print nothing anyway; nothing to prove")
    quiet = _run_python(
        "from tui.audio import open_pyaudio, silence_native_audio_noise\n"
        "silence_native_audio_noise()\n"
        "silence_native_audio_noise()\n"
        "open_pyaudio().terminate()\n"
        "open_pyaudio().terminate()\n",
        env_drop,
    )
    assert quiet.returncode == 0
    assert quiet.stderr == b""
