"""What keeping the key out costs per received frame, with a key set: every form the scrubber
searches for, against the forms it searched before the byte and case forms (hex, every byte
percent-encoded, upper and lower case) were added, in the same run.

Run alone with `python -m tests.bench_scrub`; `make bench` runs it. Figures are printed, never
asserted. The frames are the server's side of the bench's hour mix (tests/bench_traffic.py); the
medium key is an `sk-proj-` key of 56 characters; a 64 KB audio frame is timed apart (the largest
frame a session streams, where each search is longest).
"""

from __future__ import annotations

import base64
import json
import random
import string
import timeit

from tests.bench_traffic import HourSession, envelope
from tui.protocol import Direction, Envelope
from tui.session.scrub import Scrubber, byte_forms, case_forms, search_needles

KEY = "sk-proj-" + "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=48))
"""A made-up key of a real one's shape (built here, so no key-like text sits in the source)."""
FRAMES = 2_000
REPEATS = 7


def _without_byte_and_case_forms(scrubber: Scrubber, key: str) -> Scrubber:
    """The same scrubber, searching only the forms it searched before the byte and case forms."""
    added = {*byte_forms(key), *case_forms(key)}
    forms = [form for form in scrubber._forms if form not in added]
    scrubber._forms = forms
    scrubber._needles = search_needles(forms)
    scrubber._byte_forms = [form.encode() for form in forms]
    scrubber._byte_needles = [needle.encode() for needle in scrubber._needles]
    return scrubber


def _per_frame(scrubber: Scrubber, frames: list[Envelope]) -> float:
    """µs per frame to check `frames` (best of REPEATS: the machine's noise only adds)."""

    def run() -> None:
        for env in frames:
            scrubber.envelope(env)

    return min(timeit.repeat(run, number=1, repeat=REPEATS)) / len(frames) * 1e6


def bench_scrub() -> None:
    """Print the check's cost per frame, all forms against the earlier ones."""
    mix = [envelope(d, raw) for d, raw in HourSession(40).frames() if d is Direction.IN]
    frames = mix[:FRAMES]
    audio = json.dumps({"type": "response.output_audio.delta", "delta": base64.b64encode(bytes(48_000)).decode()})
    big = [envelope(Direction.IN, audio)] * 50
    now, before = Scrubber((KEY,)), _without_byte_and_case_forms(Scrubber((KEY,)), KEY)
    print(
        f"keeping the key out, with a key set ({len(now.forms)} forms in {len(now._needles)} searches; before the "
        f"byte and case forms {len(before.forms)} in {len(before._needles)}): the bench's mix "
        f"{_per_frame(now, frames):.1f} µs/frame vs {_per_frame(before, frames):.1f}; a 64 KB audio frame "
        f"{_per_frame(now, big):.0f} µs vs {_per_frame(before, big):.0f} (best of {REPEATS}; no key: no search)"
    )


if __name__ == "__main__":
    bench_scrub()
