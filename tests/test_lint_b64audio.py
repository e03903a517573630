"""Clipping, level and byte order read from sampled windows of base64 PCM16 (tui/lint/b64audio.py).

Audio is real 24 kHz mono PCM16 built with numpy and base64-encoded as a client sends it. The case
behind these tests: a hard-clipped square wave (every sample at +32767 or -32768) went unreported
while milder clipping was caught. Each sample's bytes are FF 7F or 00 80; the sampler also reads
every window big-endian (to tell byte-swapped audio), where those bytes are -129 and 128, and it
treated the window as silence because of that reading.
"""

from __future__ import annotations

import base64

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.journal_helpers import sent
from tests.lint_helpers import ga_created, lint, of_rule, rules, wav_file
from tui.lint import Finding
from tui.lint.b64audio import PcmSampler
from tui.protocol import Envelope

RATE = 24000


def pcm(samples: np.ndarray, byteorder: str = "<") -> bytes:
    """Samples clamped to 16 bits, as PCM16 bytes (`<` little-endian, as the server reads; `>` swapped)."""
    clamped: np.ndarray = np.clip(np.rint(samples), -32768, 32767)
    return clamped.astype(f"{byteorder}i2").tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def square(seconds: float = 1.0, hz: float = 200.0, phase: float = 0.0) -> np.ndarray:
    """A full-scale square wave: every sample at +32767 or -32768 (the worst clipping there is)."""
    t = np.arange(int(RATE * seconds)) / RATE
    return np.where(np.sin(2 * np.pi * hz * t + phase) >= 0, 32767, -32768)


def clipped_sine(seconds: float = 1.0, gain: float = 1.8) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return gain * 32767 * np.sin(2 * np.pi * 220 * t)


def noisy_speech(seconds: float = 1.0, clipped_share: float = 0.05) -> np.ndarray:
    """Loud noise with a share of its samples pushed to the rails."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 6000, int(RATE * seconds))
    at = rng.choice(len(x), int(len(x) * clipped_share), replace=False)
    x[at] = np.where(rng.random(len(at)) < 0.5, 32767, -32768)
    return x


def quiet(seconds: float = 1.0) -> np.ndarray:
    """Low-level noise (a room with nobody speaking)."""
    return np.random.default_rng(3).normal(0, 40, int(RATE * seconds))


def append(data: bytes) -> Envelope:
    return sent("input_audio_buffer.append", audio=b64(data))


def commit() -> Envelope:
    return sent("input_audio_buffer.commit")


def audio_findings(findings: list[Finding]) -> list[str]:
    """Rule ids of the findings about the audio itself (transcription being off is not one)."""
    return [r for r in rules(findings) if r in {"clipped-audio", "byte-swapped-audio", "silent-audio"}]


def fed(*chunks: bytes, skip: int = 0) -> PcmSampler:
    """A sampler fed `chunks` in order, each base64-encoded as its own append."""
    sampler = PcmSampler()
    for chunk in chunks:
        sampler.feed(b64(chunk), skip)
    return sampler


def test_the_testers_file_reports_all_three_clipped_signals() -> None:
    # session.created, then per signal one append of 1 s and a commit, as in the bug report.
    frames = [ga_created(vad=False)]
    for signal in (square(), clipped_sine(), noisy_speech()):
        frames += [append(pcm(signal)), commit()]
    findings, _ = lint(*frames)
    assert audio_findings(findings) == ["clipped-audio"] * 3
    square_finding = of_rule(findings, "clipped-audio")[0]
    assert square_finding.frames == (2, 1)  # its commit and its append (session.created is #0)
    assert "100% of the samples looked at sit at full scale" in square_finding.message


def test_full_scale_square_is_clipped_not_byte_swapped_and_not_silence() -> None:
    sampler = fed(pcm(square()))
    assert sampler.voiced == sampler.windows > 0
    assert sampler.judged and sampler.clipped == sampler.samples
    assert not sampler.byte_swapped  # read the other way round it is a tiny ±128 square, no smoother
    assert sampler.clipping and sampler.clipped_share == 1.0


def test_quiet_audio_stays_quiet_in_either_byte_order_while_full_scale_is_signal() -> None:
    # Quiet, little-endian or byte-swapped, is silence to the sampler; so is quiet swapped audio
    # with a third of its samples at exactly -129 or 128, whose bytes read little-endian are the
    # full-scale values. The full-scale square after them is signal.
    near_rail = np.where(np.random.default_rng(5).random(RATE) < 1 / 3, 128, quiet() * 2)
    near_rail[::2] = np.where(near_rail[::2] == 128, -129, near_rail[::2])
    sampler = fed(pcm(quiet()), pcm(quiet(), ">"), pcm(near_rail, ">"))
    assert sampler.windows > 0 and sampler.voiced == 0 and not sampler.judged
    findings, _ = lint(ga_created(vad=False), append(pcm(quiet())), commit(), append(pcm(near_rail, ">")), commit())
    assert audio_findings(findings) == []
    sampler.feed(b64(pcm(square())))
    assert sampler.voiced > 0 and sampler.clipping


@given(
    sizes=st.lists(st.integers(min_value=100, max_value=12_000), min_size=1, max_size=12),
    hz=st.floats(min_value=50, max_value=2000),
    phase=st.floats(min_value=0, max_value=6.28),
)
def test_full_scale_is_read_at_every_alignment_of_any_chunking(sizes: list[int], hz: float, phase: float) -> None:
    # Chunks of odd length shift where the next chunk's samples begin; the server reads the whole
    # turn little-endian from its start, so every window must too: each one reads ±32767/-32768.
    data = pcm(square(seconds=sum(sizes) / 2 / RATE + 0.01, hz=hz, phase=phase))
    cuts = np.cumsum([0, *sizes])
    sampler = fed(*(data[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)))
    assert sampler.windows > 0
    assert sampler.voiced == sampler.windows
    assert sampler.clipped == sampler.samples
    assert sampler.clipping == sampler.judged  # judged from 256 samples on
    assert not sampler.byte_swapped


def test_wav_wrapped_square_reads_only_samples_not_header_bytes() -> None:
    wav = wav_file(pcm(square()))
    sampler = fed(wav, skip=44)
    assert sampler.judged
    assert sampler.clipped == sampler.samples  # a window from byte 42 would take the data size as a sample
    findings, _ = lint(ga_created(vad=False), append(wav), commit())
    assert "clipped-audio" in rules(findings) and "byte-swapped-audio" not in rules(findings)


@given(
    st.lists(st.integers(-32768, 32767), max_size=80),
    st.lists(st.sampled_from([0, 1, -1, 255, 256, -256, 32767, -32768]), max_size=80),
    st.lists(st.booleans(), max_size=80),
)
def test_equal_samples_counts_as_a_pairwise_comparison_does(a: list[int], other: list[int], same: list[bool]) -> None:
    """The stereo statistics' count of equal samples, done on whole integers at C speed, is the
    plain count of places where two arrays agree (bytes that differ in one half of a sample only:
    255 and 256 share no byte, -1 and 255 share one)."""
    from array import array

    from tui.lint.b64audio import _equal_samples

    b = [x if keep else y for x, y, keep in zip(a, other, same, strict=False)] + other[len(a) :]
    left, right = array("h", a), array("h", b)
    assert _equal_samples(left, right) == sum(x == y for x, y in zip(a, b, strict=False))
    assert _equal_samples(right, left) == _equal_samples(left, right)


def test_the_sample_width_is_judged_from_the_first_voiced_windows_and_the_level_from_all() -> None:
    """Past `FORMAT_WINDOWS` voiced windows only the level, clipping and byte-order sums grow: the
    width's byte and stereo counts stay where they were (and stereo is still told from them)."""
    from tui.lint.b64audio import FORMAT_WINDOWS, VOICED_WINDOWS

    mono = noisy_speech(1.0, clipped_share=0.0)
    stereo = pcm(np.repeat(mono, 2))  # both channels the same sound: equal sample pairs
    chunks = [stereo[at : at + 1920] for at in range(0, len(stereo), 1920)]  # 20 ms appends
    sampler = fed(*chunks)
    assert sampler.voiced == VOICED_WINDOWS > FORMAT_WINDOWS
    assert sampler.looked == FORMAT_WINDOWS * 258
    assert sampler.pairs == FORMAT_WINDOWS * 64
    assert sampler.samples == VOICED_WINDOWS * 129
    assert sampler.sample_width == "stereo"
