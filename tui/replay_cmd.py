"""`rt-tui replay FILE` and `rt-tui lint FILE`: recorded sessions, in the app or headless.

Both read the recording through :mod:`tui.replay` and run it through the same session model as a
live session (journal, conversation, facts, links, linter). `--json` and `lint` never load textual.
"""

from __future__ import annotations

import bisect
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from tui.protocol import Direction, printable, text
from tui.protocol.codec import exact_data
from tui.protocol.records import UNIX_TIME_FLOOR, has_time, unparsed_bytes
from tui.replay import Recording, ReplayError, load, load_many
from tui.replay.lean import RecordingChanged, hydrated
from tui.replay.sources import STDIN, on_one_clock, with_notes_as_facts

if TYPE_CHECKING:
    from tui.journal import Journal
    from tui.lint import Finding

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_FAILED = 1
"""`replay --json` could not write its frames (standard output closed): it has no findings to count."""
EXIT_UNREADABLE = 2
EXIT_INTERRUPTED = 130
"""Ctrl-C (SIGINT) ended the command, as a shell reports a command SIGINT ended (`send` does too)."""


def _load(path: str | Sequence[str], command: str, *, named: bool = False) -> Recording | None:
    """Read the recording, or say in one line why not; its notes are said too. Every line names
    the `command` (`rt-tui lint: ...`), as `send` and `proxy` do, so a script running several can tell;
    `named` (one of several files): each note names its file too (an error names it already).

    It is read lean (tui.replay.lean): its frames are parsed again as they are played (`hydrated`),
    rather than held parsed beside their wire text for the whole run. Captures joined in it are
    put on one clock (`on_one_clock`); several paths are read as one recording (`load_many`: its
    notes name their files).
    """
    try:
        recording = load(path, lean=True) if isinstance(path, str) else load_many(path, lean=True)
    except ReplayError as exc:
        # One line, whatever the file's name holds (a newline, an escape sequence): a script reads
        # stderr line by line, and the terminal must not act on a name.
        print(f"rt-tui {command}: {printable(str(exc))}", file=sys.stderr)
        return None
    where = printable(path) if named and isinstance(path, str) else ""  # several: each note names its file
    for note in recording.notes:
        said = printable(note)
        if where:
            # The file once, first: a note that names it already read `dmg.jsonl: note: dmg.jsonl: line 50 …`.
            said = said.removeprefix(f"{where}: ")
            print(f"rt-tui {command}: {where}: note: {said}", file=sys.stderr)
        else:
            print(f"rt-tui {command}: note: {said}", file=sys.stderr)
    # Captures joined with `cat`: the app, the pace of `--json` and the linter's durations on one clock.
    try:
        return on_one_clock(recording)
    except RecordingChanged as exc:  # the file cut or rewritten since it was read (a frame's time is read)
        print(f"rt-tui {command}: {printable(str(exc))}", file=sys.stderr)
        return None


SAY_READING_BYTES = 16 * 1024 * 1024
"""A recording this large takes seconds to read (an hour's capture: about 10 s) before the app paints."""


def _say_reading(path: str) -> None:
    """On a terminal, say that a large recording is being read: the screen stays as it was until
    the app starts, and a blank wait reads as a hang."""
    try:
        if os.path.isdir(path):
            path = os.path.join(path, "frames.jsonl")  # a session folder opens its capture
        size = os.stat(path).st_size
    except OSError:
        return  # `load` says why, in its own words
    if size >= SAY_READING_BYTES and sys.stderr is not None and sys.stderr.isatty():
        print(f"rt-tui replay: reading {printable(path)} ({size / 1e6:,.0f} MB)…", file=sys.stderr, flush=True)


def replay(
    path: str | Sequence[str], *, json_out: bool = False, speed: float | None = None, out: TextIO | None = None
) -> int:
    """Open a recording in the app, or print its frames as JSON lines (`json_out`). Several paths
    play one after another, in the order given, as one recording (each its own connection)."""
    paths = [path] if isinstance(path, str) else list(path)
    try:
        return _replay(paths, json_out=json_out, speed=speed, out=out)
    except KeyboardInterrupt:
        return _interrupted("replay")


def lint(path: str, *, json_out: bool = False, out: TextIO | None = None) -> int:
    """Lint a recording: 0 clean, 1 when a finding of severity error, 2 unreadable input."""
    return lint_files([path], json_out=json_out, out=out)


def lint_files(paths: list[str], *, json_out: bool = False, out: TextIO | None = None, fail_on: str = "error") -> int:
    """Lint each recording in turn (`lint sessions/*/frames.jsonl` in CI), each with its own
    findings and summary line; the status is the worst: 2 when one is unreadable, else 1 when one
    has a finding of severity `fail_on` or worse (`error` by default; `warning` fails a CI job on a
    transcript that never came, too), else 0. With several, each JSON finding names its `file`."""
    verdict = EXIT_CLEAN
    try:
        for path in paths:
            verdict = max(verdict, _lint(path, json_out=json_out, out=out, named=len(paths) > 1, fail_on=fail_on))
    except KeyboardInterrupt:
        return _interrupted("lint")
    return verdict


def _numbered(journal: Journal, frames: int) -> str:
    """`, numbered #223–#302` when a capture's frames are not numbered from #1: a capture after
    ctrl+r goes on with the app's numbers, and a finding's `#300` in an 80-line file was nowhere
    a reader looked (each line has its `"seq"`). Of a capture only: a log's frames are numbered by
    their lines, which its findings name as they are. `frames`: the recording's, the first in the
    journal (a fault rt-tui journals after them has a number of its own process)."""
    if not frames or journal[0].seq == 1:
        return ""
    return f", numbered #{journal[0].seq}–#{journal[frames - 1].seq}"


def _interrupted(command: str) -> int:
    """Ctrl-C: one line says why the rest is missing (what was written is flushed at exit).

    A `replay --json --realtime` is stopped this way as a rule, and reading an hour's recording takes
    seconds: both printed Python's traceback.
    """
    print(f"rt-tui {command}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _replay(paths: list[str], *, json_out: bool, speed: float | None, out: TextIO | None) -> int:
    """`replay`, but for Ctrl-C."""
    if not json_out and any(_is_standard_input(path) for path in paths):
        # The app reads its keys from standard input: it cannot also be the recording (checked
        # before reading, so nothing is consumed for a replay that cannot start).
        print(
            "rt-tui replay: the app reads its keys from standard input, so the recording cannot come from "
            "there: give a FILE (a pipe such as <(cmd) works), or use --json",
            file=sys.stderr,
        )
        return EXIT_UNREADABLE
    if not json_out:
        for path in paths:
            _say_reading(path)
    # Read before asking for a terminal: a script that replays a file that is missing or no
    # recording (a WAV) was told it needs a terminal, and went after the wrong problem.
    recording = _load(paths[0] if len(paths) == 1 else paths, "replay")
    if recording is None:
        return EXIT_UNREADABLE
    if not json_out:
        from tui.stdout import terminal_problem

        problem = terminal_problem("for a script, use --json (or rt-tui lint)")
        if problem is not None:
            print(f"rt-tui replay: {problem}", file=sys.stderr)
            return EXIT_UNREADABLE
    if json_out:
        stream = out or sys.stdout
        if stream is None:  # started with standard output closed (`>&-`): Python has no sys.stdout
            print("rt-tui replay: standard output is closed: nowhere to write the frames", file=sys.stderr)
            return EXIT_FAILED
        return _print_frames(recording, stream, speed=speed)
    from tui.app import run_app
    from tui.config import Settings
    from tui.replay import ReplayRequest

    # The same name: the recording without the notes' facts is not held through the app's run.
    try:
        recording = with_notes_as_facts(recording)
    except RecordingChanged as exc:  # the file cut or rewritten since it was read
        print(f"rt-tui replay: {printable(str(exc))}", file=sys.stderr)
        return EXIT_UNREADABLE
    return run_app(Settings(capture=False, playback=False), replay=ReplayRequest(recording, speed))


def _is_standard_input(path: str) -> bool:
    """True for `-`, and for a name of the file standard input is (/dev/stdin, /proc/self/fd/0)."""
    if path == STDIN:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdin.fileno()))
    except (OSError, ValueError, AttributeError):  # no such file; stdin closed or replaced
        return False


def _print_frames(
    recording: Recording, out: TextIO, *, speed: float | None = None, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Every frame, normalised (direction, time since the first frame, type, size, parsed frame).
    In captures joined in one file (`cat a.jsonl b.jsonl`: `Recording.parts`), `t` counts from the
    first frame of the capture the frame is in, as in that capture's own file.

    With a `speed` (`--realtime` is 1), each line is written when the recording reached it, at that
    pace, with silences shortened to `MAX_GAP` as the app's timed replay does: a recorded session fed
    to a script as a live one would be. Without, all at once.
    """
    from tui.model import KEEP_EVERY_PAYLOAD, new_model
    from tui.protocol import strict_json
    from tui.replay.player import MAX_GAP
    from tui.session.streamed import scrubbed

    # Its lines would print `"frame": {}` for a payload the default budget dropped.
    model = new_model(recording.path.name, lint=False, policy=KEEP_EVERY_PAYLOAD)
    try:
        model.ingest(scrubbed(hydrated(recording.envelopes), tuple(recording.secrets)))
    except RecordingChanged as exc:  # the file cut or rewritten since it was read
        print(f"rt-tui replay: {printable(str(exc))}", file=sys.stderr)
        return EXIT_UNREADABLE
    journal = model.journal
    t0 = journal[0].mono if len(journal) else 0.0
    previous = t0
    # Captures joined in one file (`cat a.jsonl b.jsonl`): each one's `t` counts from its own first
    # frame, as in its file (and as `proxy --json` counts each connection's), never below 0. The
    # journal holds one frame per envelope, so an envelope's index is its frame's.
    part_starts = frozenset(recording.parts)
    try:
        for frame in journal:
            if frame.index in part_starts:
                t0 = frame.mono
            if speed is not None:
                wait = min((frame.mono - previous) / speed, MAX_GAP)
                previous = frame.mono
                if wait > 0:
                    out.flush()  # what is due is out before the wait: the reader sees it live
                    sleep(wait)
            # Whose frame it is, as `proxy --json` says it, whatever was given: joined captures' and
            # several files' `seq` numbers repeat (two copies of one capture differed in nothing else),
            # a HAR holds several sockets, and a script reads `.conn` without asking how many there were.
            # (A first capture's fact comes before its connecting one: epoch 0, the first connection's.)
            record: dict[str, object] = {"conn": max(frame.epoch, 1)}
            record |= {"seq": frame.seq, "dir": frame.direction.value}
            if has_time(frame.wall):
                # A line of a log that gave it no time has only its order, which the views play 1 ms
                # after the line before: printed as `t`, a latency worked out from it was fiction.
                record["t"] = round(frame.mono - t0, 6)
            if frame.wall >= UNIX_TIME_FLOOR:
                # As a capture and `proxy --json` have it, where the recording says when (a capture,
                # a HAR, a log with times of day); a log with times from its start has no time of day.
                record["wall"] = round(frame.wall, 6)
            record["type"], record["size"] = frame.type, frame.size
            data = exact_data(journal.data(frame.index), frame.raw)  # a lone surrogate kept, escaped
            # As `proxy --json` writes them: a frame sent or received goes under `frame` (rt-tui's note
            # for one that did not parse or was binary), only a local fact under `info`, so one jq
            # (`select(.dir == "out") | .frame.type`) reads both.
            record["info" if frame.direction is Direction.LOCAL else "frame"] = data
            record |= unparsed_bytes(frame.direction, frame.type, frame.raw, frame.binary)
            out.write(strict_json.dumps_line(record) + "\n")
        out.flush()
    except BrokenPipeError:
        # `| head`: the reader has what it wanted. Quietly, with the status a shell gives a command
        # SIGPIPE ended (as `send` ends): a dump has no verdict to keep, and under
        # `set -o pipefail` a cut-off dump is not a whole one.
        from tui.stdout import EXIT_BROKEN_PIPE, drop_stdout

        if out is sys.stdout:
            drop_stdout()
        return EXIT_BROKEN_PIPE
    # Every frame that could be read is printed; a script must still learn that lines were missing.
    return EXIT_UNREADABLE if recording.damaged_lines else EXIT_CLEAN


def _part_of(recording: Recording) -> Callable[[Finding], int]:
    """Which of the captures joined in the recording (`cat a b`: `Recording.parts`) a finding is
    in, counted from 1 (its first frame's): their `seq` numbers repeat, so `#26` alone named a
    frame of either. The journal's indices are the recording's, as `_lint` ingests it."""
    starts = recording.parts

    def part(finding: Finding) -> int:
        return bisect.bisect_right(starts, finding.frames[0]) + 1 if finding.frames else 1

    return part


def _lint(path: str, *, json_out: bool, out: TextIO | None, named: bool = False, fail_on: str = "error") -> int:
    """`lint` of one recording, but for Ctrl-C; `named`: one of several, each finding names its file;
    `fail_on`: the least severity that makes the status 1."""
    recording = _load(path, "lint", named=named)
    if recording is None:
        return EXIT_UNREADABLE
    # Standard output closed (`>&-`: no sys.stdout) is read as `>/dev/null`: the verdict is the status.
    out = out or sys.stdout or io.StringIO()
    from tui.lint import SEVERITY_ORDER, Severity, finding_record, format_finding
    from tui.model import new_model
    from tui.protocol import strict_json
    from tui.session.streamed import scrubbed

    model = new_model(recording.path.name)
    try:
        model.ingest(scrubbed(hydrated(recording.envelopes), tuple(recording.secrets)))
    except RecordingChanged as exc:  # the file cut or rewritten since it was read
        print(f"rt-tui lint: {printable(str(exc))}", file=sys.stderr)
        return EXIT_UNREADABLE
    # A projection's failure is journaled after the batch (a bug of rt-tui's, not of the recording):
    # said on stderr, and left out of the frames counted and numbered.
    recorded = len(recording.envelopes)
    where = f"{printable(path)}: " if named else ""
    for index in range(recorded, len(model.journal)):
        message = printable(text(model.journal.data(index).get("message")))
        print(
            f"rt-tui lint: {where}a frame rt-tui's model could not take (a bug of rt-tui's): {message}", file=sys.stderr
        )
    linter = model.linter
    if linter is not None:
        linter.finish(recording=True)  # the recording ends here: what still waits for an answer never gets one
    directions = {frame.direction for frame in model.journal}
    if Direction.OUT in directions and Direction.IN not in directions:
        # A log of one's own sends alone (a common way to log) linted "clean" with no caveat.
        where = f"{printable(path)}: " if named else ""
        print(
            f"rt-tui lint: {where}note: the recording holds only frames sent, none from the server: what the server "
            "applied, and what it refused, cannot be told (log the server's events too)",
            file=sys.stderr,
        )
    findings = list(getattr(linter, "findings", []))
    failing = SEVERITY_ORDER[: SEVERITY_ORDER.index(Severity(fail_on)) + 1]
    verdict = EXIT_FINDINGS if any(finding.severity in failing for finding in findings) else EXIT_CLEAN
    if recording.damaged_lines:
        # What could be read is linted, but a CI job must not pass on a capture with lines missing.
        verdict = EXIT_UNREADABLE
    try:
        part = _part_of(recording)
        if json_out:
            for finding in findings:
                # The same keys whatever was given (one file or several, joined captures or not): a
                # script reads `.file` and `.capture` without asking how many there were.
                record = finding_record(finding, model.journal)
                record["capture"] = part(finding) if recording.parts else None
                record["file"] = _shown_name(recording)
                out.write(strict_json.dumps_line(record) + "\n")
        else:
            count = len(recording.parts) + 1
            file = f"{_shown_name(recording)}: " if named else ""  # one of several: as a compiler says it
            for finding in findings:
                where = f"[capture {part(finding)} of {count}] " if recording.parts else ""
                out.write(file + where + format_finding(finding, model.journal) + "\n")
            errors = sum(finding.severity is Severity.ERROR for finding in findings)
            # The findings were made without the damaged lines' frames: one missing (a session.updated)
            # can make a finding of its own, so the summary says so beside them.
            damaged = recording.damaged_lines
            left_out = f"; {damaged:,} damaged line{'s' if damaged != 1 else ''} left out" if damaged else ""
            out.write(
                f"{_shown_name(recording)}: {recorded:,} frame{'s' if recorded != 1 else ''} "
                f"({recording.kind}{_numbered(model.journal, recorded) if recording.kind == 'capture' else ''}"
                f"{left_out}), "
                f"{len(findings)} finding{'s' if len(findings) != 1 else ''}, "
                f"{errors} error{'s' if errors != 1 else ''}\n"
            )
        out.flush()
    except BrokenPipeError:
        # `| head`: the reader has what it wanted. The verdict does not depend on who read how much,
        # so CI under `set -o pipefail` gets the same status as without the pipe.
        if out is sys.stdout:
            from tui.stdout import drop_stdout

            drop_stdout()
    return verdict


def _shown_name(recording: Recording) -> str:
    """The recording's name in a summary: its path as given (`sessions/2025…/frames.jsonl`: every
    capture's file is called frames.jsonl, so its name alone told a CI log's captures apart by
    nothing), or a session folder's capture in it.

    Fit for standard output: a byte that is not UTF-8 (Python keeps it as a surrogate) as U+FFFD, and
    control characters as symbols. The name went out as it was: an escape sequence in it was obeyed
    by the terminal, and a strict standard output (a UTF-8 locale but C's) raised UnicodeEncodeError.
    """
    return printable(os.fsencode(str(recording.path)).decode("utf-8", "replace"))


def list_rules(out: TextIO | None = None, *, json_out: bool = False) -> int:
    """Print the linter's rules: id, usual severity, what triggers it (`json_out`: one JSON object each)."""
    from tui.lint.rules import RULES
    from tui.protocol import strict_json

    out = out or sys.stdout or io.StringIO()
    width = max(len(rule_id) for rule_id in RULES)
    for rule in RULES.values():
        if json_out:
            record = {"rule": rule.id, "severity": rule.severity.value, "trigger": rule.trigger}
            out.write(strict_json.dumps_line(record) + "\n")
        else:
            out.write(f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.trigger}\n")
    return EXIT_CLEAN
