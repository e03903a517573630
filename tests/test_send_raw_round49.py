"""A headerless file (`.pcm`/`.raw`) is taken as 24 kHz mono PCM16 unchecked: text, G.711, float32 or
doubled stereo in one was sent, the server heard noise (`transcription failed:
audio_unintelligible`), and the linter's fix (declare G.711 in the session) was one `send` offers
no way to follow. Refused before connecting now, with how to convert it; real speech as PCM16 is
sent as before. The real command line, against the real simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.server_helpers import speech_pcm24
from tests.test_send import run_cli
from tui.send import raw_sample_problem
from tui.server.testing import background_simulator

WORDS = "please turn on the kitchen lights and tell me the weather"


def _ulaw(pcm: bytes) -> bytes:
    """G.711 μ-law bytes of PCM16 (what a phone bridge sends)."""
    x = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    y = np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255)
    codes: np.ndarray = ((y + 1) / 2 * 255).astype(np.uint8) ^ 0x7F
    return codes.tobytes()


def _variants() -> dict[str, bytes]:
    pcm = speech_pcm24(WORDS)
    samples = np.frombuffer(pcm, "<i2")
    return {
        "8-bit": _ulaw(pcm),
        "float32": (samples.astype("<f4") / 32768).tobytes(),
        "stereo": np.repeat(samples, 2).astype("<i2").tobytes(),
    }


@pytest.mark.parametrize("kind", ["8-bit", "float32", "stereo"])
def test_raw_bytes_that_are_not_pcm16_are_refused_before_connecting(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "turn.pcm"
    data = _variants()[kind]
    path.write_bytes(data + (b"\0" if len(data) % 2 else b""))
    done = run_cli("send", str(path), "--url", "ws://127.0.0.1:9/v1/realtime")  # never reached
    assert done.returncode == 2, done.stderr
    said = {
        "8-bit": "looks like 8-bit audio (G.711",
        "float32": "looks like 32-bit float",
        "stereo": "looks like stereo",
    }
    assert done.stderr.startswith(f"rt-tui send: turn.pcm {said[kind]}"), done.stderr
    assert "sox " in done.stderr and "connect" not in done.stderr


def test_text_in_a_raw_file_is_refused_as_text(tmp_path: Path) -> None:
    path = tmp_path / "text.pcm"
    path.write_bytes((b"hello this is a text file not audio\n" * 1400)[:48000])
    done = run_cli("send", str(path), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert done.returncode == 2
    assert "holds text ('hello this is a text file not audio hell'…), not audio" in done.stderr, done.stderr
    # Any script: Cyrillic read as "8-bit audio (G.711", with a sox line to convert it.
    path.write_bytes(("Привет мир, это текст. " * 1000).encode())
    done = run_cli("send", str(path), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert done.returncode == 2 and "holds text ('Привет мир, это текст. Привет" in done.stderr, done.stderr


def _loud(pcm: bytes, gain: int) -> bytes:
    """`pcm` amplified `gain` times, clipped at full scale (`sox … vol 10`)."""
    samples = np.frombuffer(pcm, "<i2").astype(np.int32) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def test_loud_clipped_speech_is_sent_and_linted_as_pcm16(tmp_path: Path) -> None:
    """Speech at 10× gain (12% of its samples clipped) has high bytes as busy as its low ones, and
    passed for G.711: send refused it (`looks like 8-bit audio`, with a sox line that would have
    made noise of it), and the linter called the turn's audio G.711 (`audio-sample-format`, exit 1)
    though the server transcribed it. Read as 16-bit samples it is smooth, as no 8-bit stream is."""
    loud = _loud(speech_pcm24(WORDS), 10)
    assert np.mean(np.abs(np.frombuffer(loud, "<i2").astype(np.int32)) >= 32767) > 0.1
    assert raw_sample_problem(loud) is None
    assert raw_sample_problem(_ulaw(speech_pcm24(WORDS))) is not None  # G.711 still is
    path = tmp_path / "loud.pcm"
    path.write_bytes(loud)
    with background_simulator() as sim:
        done = run_cli("send", str(path), "--url", sim.url_for(), env_extra={"RT_TUI_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    [capture] = tmp_path.glob("sessions/*/frames.jsonl")
    linted = run_cli("lint", str(capture))
    assert "audio-sample-format" not in linted.stdout, linted.stdout
    assert "warning: clipped-audio:" in linted.stdout, linted.stdout  # what is wrong with it, said


def test_speech_as_raw_pcm16_is_sent_and_transcribed(tmp_path: Path) -> None:
    pcm = speech_pcm24(WORDS)
    assert raw_sample_problem(pcm) is None
    quiet = (np.frombuffer(pcm, "<i2") // 8).astype("<i2").tobytes()  # a quiet recording is no G.711
    assert raw_sample_problem(quiet) is None
    path = tmp_path / "turn.pcm"
    path.write_bytes(pcm)
    with background_simulator() as sim:
        done = run_cli("send", str(path), "--url", sim.url_for(), env_extra={"RT_TUI_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "kitchen" in done.stdout.lower(), done.stdout


ENGLISH = "He said “hello” — it’s a plain text file, not audio. "
TEXTS = {
    "UTF-16 with its mark (Notepad's Unicode)": (ENGLISH * 60).encode("utf-16"),
    "UTF-16 big-endian, no mark": (ENGLISH * 60).encode("utf-16-be"),
    "UTF-16 Japanese, no mark": ("これはテキストファイルで、音声ではありません。" * 60).encode("utf-16-le"),
    "Latin-1 French": ("Ceci est un texte, pas de l'audio. " * 120).encode("latin-1"),
    "Windows-1252": (ENGLISH * 80).encode("cp1252"),
    "Shift-JIS": ("これはテキストファイルで、音声ではありません。" * 80).encode("shift_jis"),
    "GBK": ("这是一个中文文本文件，不是音频。" * 120).encode("gbk"),
}


@pytest.mark.parametrize("encoding", list(TEXTS))
def test_text_in_any_encoding_is_refused_as_text(encoding: str, tmp_path: Path) -> None:
    """UTF-16, Latin-1, Windows-1252, Shift-JIS and GBK text was sent as audio (the server heard noise)
    or refused as `8-bit audio (G.711` or `32-bit float` with a sox line that makes noise of it."""
    from tui.audio.decode import AudioDecodeError, decode_file

    path = tmp_path / "text.pcm"
    data = TEXTS[encoding]
    path.write_bytes(data[: len(data) & ~1])
    with pytest.raises(AudioDecodeError, match=r"holds text \("):
        decode_file(path)


def test_audio_of_every_kind_is_never_taken_for_text(tmp_path: Path) -> None:
    """Speech at every loudness, G.711, float32 and stereo (refused for what they are, not as text)."""
    from tui.audio.decode import decode_file

    speech = speech_pcm24(WORDS)
    kinds = {f"gain {gain}": _loud(speech, gain) for gain in (1, 4, 10, 30)}
    kinds["quiet"] = (np.frombuffer(speech, "<i2") // 64).astype("<i2").tobytes()
    kinds |= _variants()
    for name, data in kinds.items():
        path = tmp_path / f"{name}.pcm"
        path.write_bytes(data[: len(data) & ~1])
        assert decode_file(path).raw, name  # decoded as raw audio, whatever is judged of it next


def test_stereo_a_converter_made_of_mono_is_stereo() -> None:
    """`sox mono.wav -c 2` writes channels that differ by the dither's last bits (56% of pairs equal);
    one channel at 98% gain differs by 2%: both were sent as mono (the server heard half speed), and
    the linter said nothing. Exact equality is not the same sound; nearly equal is."""
    samples = np.frombuffer(speech_pcm24(WORDS), "<i2").astype(np.int32)
    rng = np.random.default_rng(7)
    dithered = np.stack([samples, samples + rng.integers(-2, 3, len(samples))], axis=1)
    quieter = np.stack([samples, samples * 98 // 100], axis=1)
    for stereo in (dithered, quieter):
        pcm = np.clip(stereo, -32768, 32767).astype("<i2").tobytes()
        assert raw_sample_problem(pcm) is not None and "stereo" in str(raw_sample_problem(pcm))
    assert raw_sample_problem(speech_pcm24(WORDS)) is None  # mono: its neighbours are not its twins


def test_a_line_of_text_is_text_not_a_millisecond_of_audio(tmp_path: Path) -> None:
    """A 56-byte text file read `holds 1.167 ms of audio, and the server commits no less than 100 ms`."""
    path = tmp_path / "txt.pcm"
    path.write_bytes(b"Hello world, this is plain text that should be refused\n\n")
    done = run_cli("send", str(path), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert done.returncode == 2 and "holds text ('Hello world, this is plain text that sho'…)" in done.stderr, (
        done.stderr
    )
