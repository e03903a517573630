"""The linter's shortcuts give exactly what the plain computation gives (tui/lint).

The sampler settles a window's level from the sum of its first samples when that sum alone passes
the floor, and counts full-scale samples only when their bytes occur in the window at all; each
test here holds the shortcut equal to a plain reading of every sample, on windows generated to sit
on either side of every threshold. `base64_problem` passes text whose two ends are all in the
alphabet without its regexes; it must pass exactly the text they pass. `decoded_size` returns
early for unpadded text; it must still give what decoding gives.
"""

from __future__ import annotations

import base64
import re
import struct

from hypothesis import example, given
from hypothesis import strategies as st

from tui.lint.b64audio import DIFF_PAIRS, VOICED_FLOOR, PcmSampler, base64_problem, decoded_size

_SPECIAL = [0, 1, -1, 128, -129, 199, -199, 200, -200, 201, -201, 255, -256, 32767, -32768, -32767, 32512, -32513]
"""Samples at the edges that matter: the floor, full scale, and their byte-swapped readings."""

SAMPLES = st.one_of(
    st.sampled_from(_SPECIAL),
    st.integers(min_value=-300, max_value=300),
    st.integers(min_value=-32768, max_value=32767),
)


def reference_window(raw: bytes) -> tuple[int, int, int, int, int]:
    """(voiced, samples, clipped, diff_le, diff_be) one window adds, reading every sample plainly."""
    n = len(raw) // 2
    le = list(struct.unpack(f"<{n}h", raw[: 2 * n]))
    be = list(struct.unpack(f">{n}h", raw[: 2 * n]))
    floor = VOICED_FLOOR * n
    if sum(abs(x) for x in le) < floor:
        return (0, 0, 0, 0, 0)
    clipped = sum(1 for x in le if x in (32767, -32768))
    if sum(abs(x) for x in be) < floor:
        return (1, n, clipped, 0, 0) if 2 * clipped >= n else (0, 0, 0, 0, 0)
    pairs = DIFF_PAIRS + 1
    diff_le = sum(abs(b - a) for a, b in zip(le[: pairs - 1], le[1:pairs], strict=False))
    diff_be = sum(abs(b - a) for a, b in zip(be[: pairs - 1], be[1:pairs], strict=False))
    return (1, n, clipped, diff_le, diff_be)


def window_stats(raw: bytes) -> tuple[int, int, int, int, int]:
    """What the sampler adds for a chunk of at most 258 bytes: exactly one window, the whole chunk."""
    sampler = PcmSampler()
    sampler.feed(base64.b64encode(raw).decode("ascii"))
    assert sampler.windows == 1
    return (sampler.voiced, sampler.samples, sampler.clipped, sampler.diff_le, sampler.diff_be)


def _pcm(samples: list[int], odd_byte: bool) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples) + (b"\x80" if odd_byte else b"")


@given(
    samples=st.lists(SAMPLES, min_size=32, max_size=129),
    scale=st.sampled_from([1, 2, 8, 64]),
    odd_byte=st.booleans(),
)
@example(samples=[199] * 129, scale=1, odd_byte=False)  # one below the floor: quiet
@example(samples=[200] * 129, scale=1, odd_byte=False)  # at the floor: loud little-endian, quiet big-endian
@example(samples=[0] * 33 + [266] * 96, scale=1, odd_byte=False)  # the head is silent, the rest passes the floor
@example(samples=[32767, -32768] * 64 + [5], scale=1, odd_byte=False)  # full scale: quiet only read swapped
@example(samples=[32767] * 64 + [0] * 65, scale=1, odd_byte=False)  # just under half at full scale
@example(samples=[-256, 127, 20000] * 43, scale=1, odd_byte=False)  # bytes 00 FF 7F 00: FF 7F across two samples
@example(samples=[1, 128, -20000] * 43, scale=1, odd_byte=True)  # bytes 01 00 80 00: 00 80 across two samples
def test_a_sampled_window_adds_what_reading_every_sample_adds(samples: list[int], scale: int, odd_byte: bool) -> None:
    # `scale` divides the samples (toward zero) so that whole windows land near the floor too.
    raw = _pcm([int(x / scale) for x in samples], odd_byte)
    assert window_stats(raw) == reference_window(raw)


def ends_look_right(text: str) -> bool:
    """The rule `base64_problem` states: a length a multiple of 4, the first 128 characters in the
    alphabet, the last 128 too but for one or two `=` at the very end."""
    if len(text) % 4:
        return False
    if len(text) <= 128:
        return re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) is not None
    head = re.fullmatch(r"[A-Za-z0-9+/]*", text[:128])
    return head is not None and re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text[-128:]) is not None


_GOOD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BAD = st.sampled_from(["=", "-", "_", "\n", " ", "é", "\x00", "\x80", "€", ":", ",", "A"])


@given(
    length=st.sampled_from([4, 8, 124, 128, 132, 252, 256, 260, 1280, 1281, 1282, 1283]),
    body=st.characters(codec="ascii", categories=["Lu", "Ll", "Nd"]),
    flaws=st.lists(st.tuples(st.integers(min_value=-300, max_value=300), _BAD), max_size=3),
    padding=st.sampled_from(["", "=", "==", "==="]),
)
@example(length=1280, body="A", flaws=[(127, "=")], padding="")  # the head's last character
@example(length=1280, body="A", flaws=[(-128, "é")], padding="")  # the tail's first character
@example(length=1280, body="A", flaws=[(128, "!")], padding="")  # between the ends: unseen
def test_base64_problem_passes_exactly_the_text_whose_ends_look_right(
    length: int, body: str, flaws: list[tuple[int, str]], padding: str
) -> None:
    chars = list((_GOOD * (length // len(_GOOD) + 1))[:length].replace("A", body))
    for at, flaw in flaws:
        if -length <= at < length:
            chars[at] = flaw
    text = "".join(chars)[: length - len(padding)] + padding
    assert (base64_problem(text) is None) == ends_look_right(text)


@given(st.binary(max_size=40))
@example(b"")
def test_decoded_size_is_the_length_of_the_decoded_bytes(data: bytes) -> None:
    text = base64.b64encode(data).decode("ascii")
    assert decoded_size(text) == len(data)
    for cut in range(1, 4):  # cut short, a size is still said, never below zero
        assert decoded_size(text[:-cut]) == max(len(text[:-cut]) * 3 // 4 - text[:-cut][-2:].count("="), 0)
    assert decoded_size("=") == decoded_size("==") == 0
