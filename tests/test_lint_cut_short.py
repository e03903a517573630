"""A capture cut short (a full disk stopped it; rt-tui killed) linted clean: `lint` said "0 findings"
of a file that ends mid-reply, and a CI job passed it (review 57b). rt-tui ends every capture with
the connection's close, so a recording whose connection is still open at its end was cut short."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.capture_helpers import RT_TUI, sent_captures
from tests.journal_helpers import connecting, received, sent
from tests.lint_helpers import ga_created, of_rule
from tui.journal import Journal, Pipeline
from tui.lint import Linter
from tui.protocol import Envelope, local_envelope


def _lint(path: Path, *flags: str) -> tuple[int, list[dict[str, object]]]:
    done = subprocess.run([RT_TUI, "lint", "--json", *flags, str(path)], capture_output=True, text=True, timeout=120)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_a_capture_cut_mid_reply_is_said_and_a_whole_one_is_not(tmp_path: Path) -> None:
    [capture] = sent_captures(tmp_path, 1)
    _, whole = _lint(capture)
    assert not [f for f in whole if f["rule"] == "recording-cut-short"], whole

    lines = capture.read_text().splitlines(keepends=True)
    created = next(n for n, line in enumerate(lines) if '"type":"response.created"' in line)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[: created + 3]))  # as a failed capture leaves it: whole lines, then nothing
    status, findings = _lint(cut)
    [found] = [f for f in findings if f["rule"] == "recording-cut-short"]
    assert found["severity"] == "warning", found
    assert status == (1 if any(f["severity"] == "error" for f in findings) else 0), (status, findings)
    message = str(found["message"])
    assert f"ends after {json.loads(lines[created + 2])['type']} #" in message, message
    assert "was in progress" in message and "stops short of its session" in message, message
    # A CI job that must not pass an incomplete capture says so.
    assert _lint(cut, "--fail-on", "warning")[0] == 1


def _cut_short(frames: list[Envelope], *, recording: bool = True) -> list[str]:
    pipeline = Pipeline(Journal())
    linter = Linter(pipeline.journal)
    pipeline.add(linter)
    pipeline.ingest(frames)
    linter.finish(recording=recording)
    return [f.rule for f in of_rule(linter.findings, "recording-cut-short")]


def _opened() -> Envelope:
    return local_envelope("rt.connection", "connected to test", state="open", target="test")


def test_a_turn_that_ends_with_its_connection_open_is_not_cut_short() -> None:
    """`rt-tui send` finishes its linter while the connection is still open: not a recording's end."""
    frames = [connecting(), _opened(), ga_created(), received("response.created", response={"id": "r1"})]
    assert _cut_short(frames, recording=False) == []
    assert _cut_short(frames) == ["recording-cut-short"]
    closed = local_envelope("rt.connection", "closed by rt-tui", state="closed", target="test")
    assert _cut_short([*frames, closed]) == []


def test_a_connection_that_never_opened_is_not_cut_short() -> None:
    """A connect cancelled before it opened (quit while connecting) ends on `connecting` with no close,
    and a joined replay gives each part of a log of the user's own a `connecting` fact of its own
    (review 57d): neither stops short of a session."""
    assert _cut_short([connecting()]) == []
    assert _cut_short([connecting(), ga_created(), sent("response.create"), connecting(), ga_created()]) == []
