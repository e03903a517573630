"""What `rt-tui replay` and `rt-tui lint` read: standard input, pipes and process substitution as
well as files; a byte order mark and CRLF line ends."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import Envelope
from tui.protocol.records import capture_line
from tui.replay import ReplayRequest, load

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"
OWN_LOGGING = GOLDEN / "own-logging.jsonl"
RT_TUI = str(Path(sys.executable).parent / "rt-tui")
"""The console script the user runs (this virtual environment's)."""
KEY_SOURCES = ("OPENAI_API_KEY", "RT_TUI_API_KEY", "AZURE_OPENAI_API_KEY", "RT_TUI_SIM_API_KEY", "RT_TUI_URL")
"""Where rt-tui reads keys: none of them is set for these commands."""


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any key rt-tui reads, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in KEY_SOURCES}, **extra}


def rt_tui(
    *args: str, stdin: bytes | Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `rt-tui`; `stdin` is piped bytes, or a file opened as standard input."""
    command = [RT_TUI, *args]
    environment = env if env is not None else clean_env()
    if isinstance(stdin, Path):
        with stdin.open("rb") as file:
            done = subprocess.run(command, stdin=file, capture_output=True, timeout=60, env=environment)
    else:
        piped = stdin if stdin is not None else b""
        done = subprocess.run(command, input=piped, capture_output=True, timeout=60, env=environment)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def write_capture(envelopes: list[Envelope], path: Path) -> Path:
    """`envelopes` as an rt-tui capture file, each line written by the capture's own line writer."""
    t0 = envelopes[0].mono
    path.write_bytes(b"".join(capture_line(env, t0) for env in envelopes))
    return path


def fixture(kind: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recording of `kind` on disk: the golden HAR and JSONL, and a capture made of the HAR's frames."""
    if kind == "har":
        return HAR
    if kind == "jsonl":
        return OWN_LOGGING
    for name in KEY_SOURCES:
        monkeypatch.delenv(name, raising=False)
    return write_capture(load(HAR).envelopes, folder / "frames.jsonl")


def without_name(lint_output: str) -> str:
    """`rt-tui lint`'s report without the input's name on its summary line (the rest must not change)."""
    *findings, summary = lint_output.splitlines()
    return "\n".join([*findings, summary.split(": ", 1)[1]])


def comparable(command: list[str], output: str) -> str:
    return without_name(output) if command == ["lint"] else output


# -- 1. standard input, pipes, process substitution ------------------------------------------


@pytest.mark.parametrize("kind", ["capture", "har", "jsonl"])
def test_standard_input_a_pipe_and_a_process_substitution_read_as_the_file_does(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader sniffed the format from a first open and read the file from a second: a pipe had
    nothing left for the second (`line 1 is not JSON`), and `-` was looked for as a file name."""
    path = fixture(kind, tmp_path, monkeypatch)
    data = path.read_bytes()
    for command in (["lint"], ["lint", "--json"], ["replay", "--json"]):
        from_file = rt_tui(*command, str(path))
        assert from_file.returncode in (0, 1) and from_file.stdout, from_file.stderr
        expected = comparable(command, from_file.stdout)
        ways = {
            "- < FILE": rt_tui(*command, "-", stdin=path),
            "cat FILE | -": rt_tui(*command, "-", stdin=data),
            "cat FILE | /dev/stdin": rt_tui(*command, "/dev/stdin", stdin=data),
            "<(cat FILE)": subprocess.run(
                ["bash", "-c", f'"$0" {" ".join(command)} <(cat "$1")', RT_TUI, str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                env=clean_env(),
            ),
        }
        for way, result in ways.items():
            assert result.returncode == from_file.returncode, (command, way, result.stderr)
            assert result.stderr == from_file.stderr, (command, way)
            assert comparable(command, result.stdout) == expected, (command, way)
    summary = rt_tui("lint", "-", stdin=data).stdout.splitlines()[-1]
    assert summary.startswith("<stdin>: "), summary  # named as Python names it, not `-`


def test_a_damaged_line_read_from_a_pipe_is_named_as_from_a_file(tmp_path: Path) -> None:
    """The line numbers of a pipe count from its first byte: the sniffed head is read again, not skipped."""
    lines = [json.dumps({"type": "session.created", "session": {}}) for _ in range(3)] + ["{not json"]
    data = ("\n".join(lines) + "\n").encode()
    result = rt_tui("lint", "-", stdin=data)
    assert result.returncode == 2
    assert result.stderr.startswith("rt-tui lint: <stdin>: line 4 is not JSON"), result.stderr


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_the_replay_app_says_in_one_line_it_cannot_read_the_recording_from_standard_input(name: str) -> None:
    """Textual reads the keys from standard input: the recording cannot be there too (--json can)."""
    result = rt_tui("replay", name, stdin=OWN_LOGGING.read_bytes())
    assert result.returncode == 2 and result.stdout == ""  # no screen was drawn
    assert result.stderr.startswith("rt-tui replay: ") and result.stderr.count("\n") == 1, result.stderr
    assert "standard input" in result.stderr and "--json" in result.stderr


def pipe_of(data: bytes) -> str:
    """A pipe that gives `data` (as `<(cat FILE)` does): its /dev/fd name."""
    read, write = os.pipe()

    def feed() -> None:
        with os.fdopen(write, "wb") as out:
            out.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return f"/dev/fd/{read}"


async def test_a_capture_replayed_from_a_pipe_has_no_file_to_read_payloads_back_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Payloads the journal drops are read back from the capture file: a pipe is not one (opening
    /dev/fd/N again would wait for a writer that is gone), so the app must not name it."""
    path = fixture("capture", tmp_path, monkeypatch)
    name = pipe_of(path.read_bytes())
    try:
        piped = load(name)
    finally:
        os.close(int(name.rsplit("/", 1)[1]))
    from_file = load(path)
    assert not piped.rereadable and from_file.rereadable
    assert [(e.seq, e.type, e.raw, e.mono) for e in piped.envelopes] == [
        (e.seq, e.type, e.raw, e.mono) for e in from_file.envelopes
    ]
    for recording, capture_path in ((piped, None), (from_file, str(path))):
        app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
        async with app.run_test(size=(140, 40)) as pilot:
            assert app.player is not None
            await wait_for(pilot, app.player.done.is_set, 10, "the replay")
            await views_settled(pilot, app)
            assert len(app.journal) == len(recording.envelopes)
            assert app.journal.capture_path == capture_path


# -- 3. a byte order mark, CRLF line ends -----------------------------------------------------


def test_a_byte_order_mark_and_crlf_line_ends_read_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows tools write both; a JSONL of events was refused (`Unexpected UTF-8 BOM`)."""
    for kind in ("capture", "har", "jsonl"):
        path = fixture(kind, tmp_path, monkeypatch)
        marked = tmp_path / f"windows-{kind}-{path.name}"
        marked.write_bytes(codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", b"\r\n"))
        plain, windows = load(path), load(marked)
        assert windows.kind == plain.kind == kind
        assert [(e.seq, e.direction, e.type, e.raw, e.mono) for e in windows.envelopes] == [
            (e.seq, e.direction, e.type, e.raw, e.mono) for e in plain.envelopes
        ]
        linted, expected = rt_tui("lint", str(marked)), rt_tui("lint", str(path))
        assert linted.returncode == expected.returncode and linted.stderr == "", (kind, linted.stderr)
        assert without_name(linted.stdout) == without_name(expected.stdout)
