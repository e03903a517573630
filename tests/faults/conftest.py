"""Fixtures of the fault suite, and its figures at the end of the run: faults survived (of how many
cases) and frames lost (of how many the hostile servers sent before their faults)."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.evidence import FIGURES, TALLY
from tui.server.testing import RunningSimulator, realtime_simulator

_outcomes: dict[str, str] = {}


@pytest.fixture
async def upstream() -> AsyncIterator[RunningSimulator]:
    """The real simulator behind the hostile server, answering at once (no real-time pacing)."""
    async with realtime_simulator(response_speed=0) as sim:
        yield sim


@pytest.fixture(scope="session")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 0.6 s WAV (a 440 Hz tone, 24 kHz mono PCM16), written with the stdlib: what `send` streams."""
    path = tmp_path_factory.mktemp("faults-wav") / "tone.wav"
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 24000))) for n in range(14_400))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(frames)
    return path


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember each fault case's outcome (an xfail is a fault not survived)."""
    if "tests/faults/" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or report.outcome != "passed":
        if hasattr(report, "wasxfail"):
            _outcomes[report.nodeid] = "xfail"
        else:
            _outcomes.setdefault(report.nodeid, report.outcome)
            if report.outcome != "passed":
                _outcomes[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcomes:
        return
    survived = sum(outcome == "passed" for outcome in _outcomes.values())
    terminalreporter.write_line(
        f"fault suite: {survived} of {len(_outcomes)} fault cases survived; "
        f"frames lost {TALLY.lost} of {TALLY.sent} sent before the faults ({TALLY.checks} captures checked)"
    )
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"fault suite: {name}: {value}")
