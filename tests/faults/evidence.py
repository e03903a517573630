"""What the fault suite checks after each fault: the capture files, compared with what the hostile
server counted, and a tally of frames sent and lost over the whole suite (printed at its end)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tui.protocol import Direction, Envelope
from tui.session import read_capture

Wire = str | bytes


@dataclass(slots=True)
class Tally:
    """Frames a server sent before a fault, and how many of them a capture lacked."""

    sent: int = 0
    lost: int = 0
    checks: int = 0


TALLY = Tally()
"""The suite's totals; `tests/faults/conftest.py` prints them in pytest's summary."""

FIGURES: dict[str, str] = {}
"""Other measured figures (name → value), printed in the summary too."""


def captures(data_dir: Path | None = None) -> list[list[Envelope]]:
    """Every capture file under the data directory, read back, in the order their sessions began."""
    root = data_dir or Path(os.environ["RT_TUI_DATA_DIR"])
    files = list(root.glob("sessions/*/frames.jsonl"))
    # An empty file is a capture that had written nothing yet (a process killed within its first
    # flush interval); read_capture refuses it as "not a capture", rightly for a file given by hand.
    read = [read_capture(path) if path.stat().st_size else [] for path in files]
    return sorted(read, key=lambda envs: envs[0].wall if envs else 0.0)


def strict_lines(data_dir: Path | None = None) -> int:
    """Check that every line of every capture file is strict JSON (no NaN/Infinity); returns the count."""
    root = data_dir or Path(os.environ["RT_TUI_DATA_DIR"])

    def refuse(constant: str) -> None:
        raise AssertionError(f"a capture line is not strict JSON: {constant}")

    count = 0
    for path in root.glob("sessions/*/frames.jsonl"):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path} ends in a cut line"
        for line in data.splitlines():
            json.loads(line, parse_constant=refuse)
            count += 1
    return count


def received(capture: list[Envelope]) -> list[Wire]:
    """The frames a capture holds from the server, as they were on the wire."""
    return [env.binary if env.binary is not None else env.raw for env in capture if env.direction is Direction.IN]


def _digest(frame: Wire) -> tuple[int, str]:
    data = frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass")
    return len(data), hashlib.sha1(data).hexdigest()[:12]


def lost_frames(sent: list[Wire], captured: list[Wire]) -> int:
    """How many of `sent` are missing from `captured`, matching in order (equal wire text)."""
    position = 0
    lost = 0
    for frame in sent:
        try:
            position = captured.index(frame, position) + 1
        except ValueError:
            lost += 1
    return lost


def assert_holds_every_frame(sent: list[Wire], capture: list[Envelope], *, upto: int | None = None) -> None:
    """The capture holds every frame the server sent, text for text, in order, and nothing else
    from the server; the tally counts them.

    `upto`: the frames sent up to the fault (`Connection.acted_at`) when the session went on after
    it and the test then quit: the frames sent after that may still have been in flight when the
    app closed, so the capture must hold at least `sent[:upto]`, and beyond it only what followed.
    Compared by size and digest, so a failure prints a readable list, not megabytes of frames.
    """
    before = sent if upto is None else sent[:upto]
    got = received(capture)
    lost = lost_frames(before, got)
    TALLY.sent += len(before)
    TALLY.lost += lost
    TALLY.checks += 1
    what = (
        f"the capture's {len(got)} frames from the server differ from the {len(sent)} it sent "
        f"({lost} of the {len(before)} sent before the fault are missing)"
    )
    if upto is None:
        assert [_digest(f) for f in got] == [_digest(f) for f in sent], what
    else:
        assert len(got) >= upto, what
        assert [_digest(f) for f in got] == [_digest(f) for f in sent[: len(got)]], what


def local_facts(capture: list[Envelope], event_type: str) -> list[Envelope]:
    """The capture's local facts of one type (`rt.connection`, `rt.capture`, ...)."""
    return [env for env in capture if env.direction is Direction.LOCAL and env.type == event_type]
