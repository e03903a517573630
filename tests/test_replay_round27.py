"""`rt-tui replay` as a voice-agent developer uses it (round 27): captures of real `rt-tui send`
sessions against the simulator, joined with `cat`, cut, padded with blank lines; DevTools HAR files
made from them; Ctrl-C; a folder given instead of a file.
"""

from __future__ import annotations

import base64
import bz2
import contextlib
import gzip
import json
import lzma
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.capture_helpers import RT_TUI, sent_captures, tone_wav
from tui import replay_cmd
from tui.replay import ReplayError, load
from tui.replay.sources import on_one_clock

# -- real captures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The captures of two real `rt-tui send` sessions against the simulator, oldest first."""
    return sent_captures(tmp_path_factory.mktemp("sessions"))


def rt_tui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process."""
    return subprocess.run([RT_TUI, *args], capture_output=True, text=True, timeout=timeout)


def printed(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """`replay --json`'s lines."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def one_plain_line(stderr: str) -> None:
    """Each message one plain line: no traceback, no escape sequence."""
    assert "Traceback" not in stderr and "\x1b" not in stderr
    for line in stderr.splitlines():
        assert line.startswith(("rt-tui replay: ", "rt-tui lint: ")), stderr


def joined(tmp_path: Path, captures: list[Path]) -> tuple[Path, list[bytes], list[bytes]]:
    """`cat export.jsonl second/frames.jsonl`: a filtered export of the first session (its last 40
    frames: its first `t` is not 0, as the log's exports keep the capture's times), then the
    second session's whole capture. Returns the file and each part's lines."""
    first = captures[0].read_bytes().splitlines(keepends=True)[-40:]
    second = captures[1].read_bytes().splitlines(keepends=True)
    path = tmp_path / "joined.jsonl"
    path.write_bytes(b"".join(first + second))
    return path, first, second


# -- captures joined with cat -------------------------------------------------------------------


def test_joined_captures_print_each_ones_times_from_its_own_first_frame_never_negative(
    tmp_path: Path, captures: list[Path]
) -> None:
    """`replay --json` printed the second capture's frames at negative times (-0.54 s): its `t` went
    back to 0, below the first part's first `t`. Each joined capture's `t` now counts from its own
    first frame, as in its file (and as `proxy --json` counts each connection's)."""
    path, first, second = joined(tmp_path, captures)
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    records = printed(result)
    assert len(records) == len(first) + len(second)
    assert min(record["t"] for record in records) >= 0
    for part, lines in ((records[: len(first)], first), (records[len(first) :], second)):
        in_file = [json.loads(line)["t"] for line in lines]
        assert [record["t"] for record in part] == pytest.approx([t - in_file[0] for t in in_file], abs=2e-6)
        assert [record["seq"] for record in part] == [json.loads(line)["seq"] for line in lines]
    one_plain_line(result.stderr)
    assert f"2 captures joined in one file (a `seq` or `t` goes back at line {len(first) + 1})" in result.stderr


def test_joined_captures_play_on_one_clock_that_never_goes_back(tmp_path: Path, captures: list[Path]) -> None:
    """The replay's clock (the app's position, its length, timed playback's waits) went back with
    the second capture: its frames were published at once in a timed replay, and the recording's
    length was the second's end minus the first's start (0.4 s for 2 s of sessions). The second
    now plays after the first, as late as their wall clocks say."""
    path, first, second = joined(tmp_path, captures)
    for lean in (False, True):
        read = load(path, lean=lean)
        assert read.parts == [len(first)]
        # As read, the file's times (as `read_capture` gives them); on one clock for whoever plays them.
        assert [env.mono for env in read.envelopes] == [json.loads(line)["t"] for line in first + second]
        recording = on_one_clock(read)
        assert type(recording.envelopes) is type(read.envelopes)
        times = [env.mono for env in recording.envelopes]
        assert times == sorted(times)
        assert [env.wall for env in recording.envelopes] == [env.wall for env in read.envelopes]
        lengths = [json.loads(lines[-1])["t"] - json.loads(lines[0])["t"] for lines in (first, second)]
        walls = [json.loads(line)["wall"] for line in (first[-1], second[0])]
        assert recording.duration == pytest.approx(sum(lengths) + max(0.0, walls[1] - walls[0]), abs=1e-5)
    # What the app, `replay --json` and `lint` are given.
    given = replay_cmd._load(str(path), "replay")
    assert given is not None and [env.mono for env in given.envelopes] == times


def test_captures_joined_in_the_wrong_order_play_one_after_the_other(tmp_path: Path, captures: list[Path]) -> None:
    """`cat new old`: the second began before the first by the wall clock; it plays right after it."""
    path = tmp_path / "backwards.jsonl"
    path.write_bytes(captures[1].read_bytes() + captures[0].read_bytes())
    recording = on_one_clock(load(path, lean=True))
    count = len(captures[1].read_bytes().splitlines())
    before, after = recording.envelopes[count - 1], recording.envelopes[count]
    assert after.mono == before.mono
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0 and printed(result)[count]["t"] == 0.0


def test_a_single_capture_prints_as_it_did(captures: list[Path]) -> None:
    """A capture alone has no part but the one: its `t` as in the file, and no note."""
    result = rt_tui("replay", "--json", str(captures[0]))
    in_file = [json.loads(line) for line in captures[0].read_bytes().splitlines()]
    assert [record["t"] for record in printed(result)] == [record["t"] for record in in_file]
    assert result.stderr == ""
    assert load(captures[0]).parts == []


# -- blank lines --------------------------------------------------------------------------------


@pytest.mark.parametrize("tail", [b"\n", b"\r\n", b"\n\n  \n", b"\n \t"], ids=["LF", "CRLF", "several", "spaces"])
def test_blank_lines_after_a_capture_are_not_damage(tmp_path: Path, captures: list[Path], tail: bytes) -> None:
    """`echo >> frames.jsonl`, or an editor's last line: the whole capture was refused as "line 84 is
    not JSON (Expecting value): a damaged capture"."""
    path = tmp_path / "frames.jsonl"
    path.write_bytes(captures[0].read_bytes() + tail)
    expected = len(captures[0].read_bytes().splitlines())
    for command in (["replay", "--json"], ["lint"]):
        result = rt_tui(*command, str(path))
        assert result.returncode in (0, 1), result.stderr
        assert "damaged" not in result.stderr
    assert len(printed(rt_tui("replay", "--json", str(path)))) == expected


@pytest.mark.parametrize("where", ["between", "leading"])
def test_a_blank_line_between_joined_captures_is_skipped(tmp_path: Path, captures: list[Path], where: str) -> None:
    """`cat a.jsonl <(echo) b.jsonl`, `(echo; cat a.jsonl)`, or a hand-edited capture: a leading one
    is called "line 1 is not JSON (Expecting value): not an rt-tui capture file" of a capture."""
    path = tmp_path / "gap.jsonl"
    if where == "between":
        path.write_bytes(captures[0].read_bytes() + b"\n" + captures[1].read_bytes())
    else:
        path.write_bytes(b"\n" + captures[0].read_bytes())
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr


# -- damaged lines in the middle ---------------------------------------------------------------


def _damaged(tmp_path: Path, capture: Path, at: list[int], damage: bytes) -> tuple[Path, list[bytes]]:
    """`capture` with its lines `at` (0-based) replaced by `damage` (a line of its own)."""
    lines = capture.read_bytes().splitlines(keepends=True)
    for index in at:
        lines[index] = damage + b"\n"
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(lines))
    return path, lines


@pytest.mark.parametrize("damage", [b"\0" * 40, b'{"seq": 5, "dir": "in", "t": 1.0, garbage'], ids=["NUL", "broken"])
def test_a_damaged_line_in_the_middle_is_left_out_and_the_rest_read(
    tmp_path: Path, captures: list[Path], damage: bytes
) -> None:
    """A review: one damaged line (a power cut's NUL bytes, an edit) refused the whole capture, the
    frames around it unreadable. They are read; the note names the line; lint judges what is there
    but exits 2 (lines are missing), and so does `replay --json`, having printed every frame."""
    whole = printed(rt_tui("replay", "--json", str(captures[0])))
    path, lines = _damaged(tmp_path, captures[0], [5], damage)
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 2, result.stderr
    one_plain_line(result.stderr)
    [note] = result.stderr.splitlines()
    assert "damaged.jsonl: line 6 " in note and note.endswith("a damaged capture: left out, the lines after it read")
    assert [frame["seq"] for frame in printed(result)] == [frame["seq"] for i, frame in enumerate(whole) if i != 5]
    linted = rt_tui("lint", str(path))
    assert linted.returncode == 2 and linted.stderr.count("left out") == 1, linted.stderr
    # It still says what it found, and that a line is missing beside it (the frame left out can make
    # a finding of its own: a session.updated gone reads as a commit before transcription was on).
    summary = linted.stdout.splitlines()[-1]
    assert summary.startswith(f"{path}: {len(lines) - 1} frames (capture; 1 damaged line left out), "), summary
    recording = load(path)
    assert recording.damaged_lines == 1 and len(recording.envelopes) == len(lines) - 1


def test_many_damaged_lines_are_said_five_then_counted(tmp_path: Path, captures: list[Path]) -> None:
    path, lines = _damaged(tmp_path, captures[0], list(range(3, 11)), b"\0" * 8)
    recording = load(path)
    assert recording.damaged_lines == 8 and len(recording.envelopes) == len(lines) - 8
    assert [note.split(": line ")[1].split()[0] for note in recording.notes[:5]] == ["4", "5", "6", "7", "8"]
    assert recording.notes[5].endswith("damaged.jsonl: 8 damaged lines in all, each left out")
    assert len(recording.notes) == 6


def test_a_first_line_that_is_not_a_record_is_still_refused(tmp_path: Path, captures: list[Path]) -> None:
    path, _ = _damaged(tmp_path, captures[0], [0], b"\0" * 8)
    with pytest.raises(ReplayError):
        load(path)
    result = rt_tui("lint", str(path))
    assert result.returncode == 2 and "left out" not in result.stderr, result.stderr


def test_the_help_says_how_joined_captures_are_timed() -> None:
    """The brief asked for the choice to be documented where the user looks: the command's help."""
    result = rt_tui("replay", "--help")
    assert "joined" in result.stdout


# -- Ctrl-C -------------------------------------------------------------------------------------


def test_ctrl_c_ends_a_paced_json_replay_with_one_line_and_130(tmp_path: Path, captures: list[Path]) -> None:
    """`replay --json --realtime` is stopped with Ctrl-C as a rule: it printed Python's traceback
    (KeyboardInterrupt in time.sleep) and exited 1 (the interpreter's status for it: -2 by signal)."""
    lines = captures[0].read_bytes().splitlines(keepends=True)
    # The second half after 4 s of silence: the replay waits there, mid-recording.
    later = [line.replace(b'"t":', b'"t":4', 1) if n >= 20 else line for n, line in enumerate(lines)]
    path = tmp_path / "pause.jsonl"
    path.write_bytes(b"".join(later))
    assert load(path).parts == []  # `t` of 0.2 s written as 40.2 s, never backwards: one capture
    process = subprocess.Popen(
        [RT_TUI, "replay", "--json", "--realtime", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        for _ in range(20):  # every frame before the silence: the replay now waits in it
            assert json.loads(process.stdout.readline())
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert stderr.decode() == "rt-tui replay: interrupted\n"
    assert all(json.loads(line) for line in rest.splitlines())


def test_ctrl_c_while_a_recording_is_read_ends_lint_and_replay_with_one_line(
    tmp_path: Path, captures: list[Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An hour's recording takes seconds to read: Ctrl-C then printed a traceback from the reader."""
    from tui import replay_cmd

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(replay_cmd, "load", interrupted)
    try:
        statuses = replay_cmd.lint(str(captures[0])), replay_cmd.replay(str(captures[0]), json_out=True)
    except KeyboardInterrupt:  # caught here: let through, it would end the test session
        pytest.fail("Ctrl-C while reading went through as a traceback")
    assert statuses == (130, 130)
    assert capsys.readouterr().err == "rt-tui lint: interrupted\nrt-tui replay: interrupted\n"


# -- HAR files ----------------------------------------------------------------------------------


def _har_messages(capture: Path) -> list[dict[str, Any]]:
    """A capture's frames as Chrome's `_webSocketMessages` (epoch seconds, opcode 1)."""
    messages = []
    for line in capture.read_bytes().splitlines():
        record = json.loads(line)
        if record["dir"] == "local":
            continue
        data = json.dumps(record["frame"]) if "frame" in record else record["raw"]
        kind = "send" if record["dir"] == "out" else "receive"
        messages.append({"type": kind, "time": record["wall"], "opcode": 1, "data": data})
    return messages


def devtools_har(captures: list[Path]) -> dict[str, Any]:
    """A DevTools HAR of both sessions, one binary message, and the page's dev-server socket."""
    second = _har_messages(captures[1])
    second.insert(
        3, {"type": "receive", "time": second[3]["time"], "opcode": 2, "data": base64.b64encode(b"\0\1").decode()}
    )

    def entry(url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        request = {
            "method": "GET",
            "url": url,
            "headers": [{"name": "Authorization", "value": "Bearer test-har-secret-0123456789"}],
        }
        return {
            "_resourceType": "websocket",
            "request": request,
            "response": {"status": 101},
            "_webSocketMessages": messages,
        }

    reload = [{"type": "receive", "time": second[0]["time"], "opcode": 1, "data": '{"type":"connected"}'}]
    realtime = "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    entries = [
        entry(realtime, _har_messages(captures[0])),
        entry(realtime, second),
        entry("ws://localhost:5173/", reload),
    ]
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector"}, "entries": entries}}


def test_a_devtools_har_of_two_sessions_replays_both(tmp_path: Path, captures: list[Path]) -> None:
    """Checked fine: both connections, in order, the binary message as a note, the other socket left out."""
    path = tmp_path / "page.har"
    path.write_text(json.dumps(devtools_har(captures), indent=2))
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    records = printed(result)
    opened = [r for r in records if r["type"] == "rt.connection" and r["info"].get("state") == "connecting"]
    assert len(opened) == 2
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    assert any(r["type"] == "rt.malformed" and "binary frame of 2 bytes" in r["frame"]["message"] for r in records)
    assert "har-secret" not in result.stdout
    one_plain_line(result.stderr)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("cut", "a HAR file cut short: the file ends inside its JSON"),
        ("cut-between", "a HAR file cut short: the file ends inside its JSON"),
        ("twice", "a HAR file with more after its end, from line"),
        ("garbled", "a HAR file whose JSON is damaged at line 5, column 14 (Expecting ':' delimiter)"),
    ],
)
def test_a_damaged_har_says_how(tmp_path: Path, captures: list[Path], damage: str, said: str) -> None:
    """A HAR cut short (a save or a copy that did not finish), two joined, or one with a typo was
    "not an rt-tui capture, a HAR file or a JSONL of frames (not JSON)": the user looked through
    megabytes for a syntax error that was the file's missing end."""
    text = json.dumps(devtools_har(captures), indent=2)
    damaged = {
        "cut": text[: len(text) // 2],
        "cut-between": text[: text.index("}", len(text) // 2) + 1],
        "twice": text + "\n" + text,
        "garbled": text.replace('"name": "WebInspector"', '"name" "WebInspector"', 1),
    }[damage]
    path = tmp_path / "page.har"
    path.write_text(damaged)
    for command in ("replay", "lint"):
        result = rt_tui(command, *(["--json"] if command == "replay" else []), str(path))
        assert result.returncode == 2
        assert result.stderr.startswith(f"rt-tui {command}: {path}: {said}")
        assert result.stderr.count("\n") == 1
        one_plain_line(result.stderr)


@pytest.mark.parametrize(
    "first",
    [
        {"log": "ws", "stream": "stdout"},  # Docker's json-file records
        {"log": {"level": "info", "logger": "voice"}, "message": "started"},  # Elastic Common Schema
    ],
    ids=["docker", "ecs"],
)
def test_a_log_whose_records_have_a_log_field_is_read_as_a_log(tmp_path: Path, first: dict[str, Any]) -> None:
    """A JSONL whose first record has a `log` key was taken for a HAR and refused as "not JSON"."""
    events = [
        {"direction": "out", "event": {"type": "session.update", "session": {"type": "realtime"}}, "log": "ws"},
        {"direction": "in", "event": {"type": "session.updated", "session": {"type": "realtime"}}, "log": "ws"},
    ]
    path = tmp_path / "app.log"
    path.write_text("".join(json.dumps(record) + "\n" for record in [first, *events]))
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    assert [(r["dir"], r["type"]) for r in printed(result)] == [("out", "session.update"), ("in", "session.updated")]
    assert "left out 1 line with no Realtime event (line 1)" in result.stderr


def test_a_har_on_one_line_is_still_a_har(tmp_path: Path, captures: list[Path]) -> None:
    """The `log`-key rule keeps a small HAR written on one line (its first line is the whole file)."""
    har = devtools_har(captures)
    har["log"]["entries"] = har["log"]["entries"][:1]
    path = tmp_path / "small.har"
    path.write_text(json.dumps(har) + "\n")
    assert load(path).kind == "har"
    for document, said in (({"log": {"entries": []}}, "a HAR file without WebSocket"), ({"log": {}}, "JSON, but not")):
        path.write_text(json.dumps(document) + "\n")
        with pytest.raises(ReplayError, match=said):
            load(path)


# -- folders ------------------------------------------------------------------------------------


def test_the_sessions_folder_names_its_newest_session(captures: list[Path]) -> None:
    """`rt-tui replay ~/.local/share/rt-tui/sessions` said only "give a recording file"."""
    sessions = captures[0].parent.parent
    result = rt_tui("replay", "--json", str(sessions))
    assert result.returncode == 2
    assert result.stderr == (
        f"rt-tui replay: {sessions}: a directory without a frames.jsonl: it holds 2 session folders: "
        f"give one of them (the newest is {captures[1].parent}), or all of them: {sessions}/*/\n"
    )
    assert rt_tui("replay", "--json", str(captures[1].parent)).returncode == 0
    assert rt_tui("replay", "--json", *map(str, sorted(sessions.glob("*/")))).returncode == 0  # the one named works
    data = sessions.parent  # RT_TUI_DATA_DIR itself
    assert rt_tui("lint", str(data)).stderr == (
        f"rt-tui lint: {data}: a directory without a frames.jsonl: its sessions folder holds 2 session folders: "
        f"give one of them (the newest is {captures[1].parent}), or all of them: {data}/sessions/*/\n"
    )


def test_an_empty_folder_still_asks_for_a_file(tmp_path: Path) -> None:
    result = rt_tui("replay", "--json", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == f"rt-tui replay: {tmp_path}: a directory without a frames.jsonl: give a recording file\n"


# -- files that are not recordings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "compress", "tool"),
    [(".gz", gzip.compress, "zcat"), (".bz2", bz2.compress, "bzcat"), (".xz", lzma.compress, "xzcat")],
)
def test_a_compressed_capture_says_how_to_read_it(
    tmp_path: Path, captures: list[Path], suffix: str, compress: Callable[[bytes], bytes], tool: str
) -> None:
    """A capture compressed to be shared was "not a text file … data lost on the disk, as after a power
    cut"; the way to read it (`<(zcat F)`, which the README gives) is now said, and works."""
    path = tmp_path / f"frames.jsonl{suffix}"
    path.write_bytes(compress(captures[0].read_bytes()))
    for command in (["replay", "--json"], ["lint"]):
        result = rt_tui(*command, str(path))
        assert result.returncode == 2
        assert result.stderr.endswith(f"-compressed file: decompress it first, e.g. give <({tool} {path}) instead\n")
        assert "power cut" not in result.stderr and result.stderr.count("\n") == 1
    decompressed = subprocess.run(
        ["bash", "-c", f'"$0" replay --json <({tool} "$1")', RT_TUI, str(path)], capture_output=True, text=True
    )
    assert decompressed.returncode == 0 and len(printed(decompressed)) == len(captures[0].read_bytes().splitlines())


def test_the_audio_meant_for_send_is_named_as_audio(tmp_path: Path) -> None:
    """The WAV a developer streams with `send`, given to `replay` by mistake."""
    path = tone_wav(tmp_path / "question.wav")
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 2
    assert result.stderr == (
        f"rt-tui replay: {path}: an audio file (WAV), not a recorded session: `rt-tui send {path}` streams it to "
        "a server; replay and lint read an rt-tui capture, a HAR file or a JSONL of events\n"
    )


def test_binary_input_without_a_line_end_is_refused_without_reading_on() -> None:
    """NUL bytes and no line end in the first 64 KiB: the first line was read on to its end, which for
    /dev/zero, or a pipe that stays open, never comes (memory grew until the machine ran out)."""
    process = subprocess.Popen(
        [RT_TUI, "replay", "--json", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    try:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(b"\0" * (80 * 1024))  # more than the head; the pipe is left open
            process.stdin.flush()
        assert process.wait(timeout=60) == 2
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
    assert process.stderr is not None
    assert b"it holds NUL bytes" in process.stderr.read()


def _refused_socket() -> dict[str, Any]:
    """A socket whose upgrade the server refused, as DevTools saves it: the 401, no message."""
    return {
        "_resourceType": "websocket",
        "request": {"method": "GET", "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime", "headers": []},
        "response": {"status": 401, "statusText": "Unauthorized"},
        "startedDateTime": "2020-01-01T00:00:00.000Z",  # before the sessions: the first attempt
        "_webSocketMessages": [],
    }


def test_a_har_socket_the_server_refused_is_a_failed_connection(tmp_path: Path, captures: list[Path]) -> None:
    """A page whose first attempt got HTTP 401 (an expired client secret) and whose retry worked: the
    refused socket was replayed as `connected to …` then `the recording ends here`, so the replay
    and lint hid the very failure the HAR was saved to show."""
    har = devtools_har(captures)
    har["log"]["entries"].insert(0, _refused_socket())
    path = tmp_path / "retry.har"
    path.write_text(json.dumps(har, indent=2))
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    first = [record["info"] for record in printed(result)[:3]]
    assert [info["state"] for info in first] == ["connecting", "failed", "connecting"]
    assert first[1]["message"] == "the server refused the WebSocket upgrade: HTTP 401 Unauthorized"
    linted = rt_tui("lint", str(path))
    assert "error: upgrade-refused: rt.connection #2: the server refused the WebSocket upgrade: HTTP 401" in (
        linted.stdout
    )


def test_a_har_whose_only_socket_was_refused_plays_and_lints_as_that_refusal(tmp_path: Path) -> None:
    """Azure's wrong-key case, saved from DevTools: one socket, HTTP 401, the server's words in
    the body, no message. It was "unreadable" (exit 2), where `upgrade-refused` exists for it:
    it plays as the refused connection, and lint says why, quoting the server, exit 1. The key in
    the request's header appears nowhere."""
    key = "abcdef0123456789abcdef0123456789"
    socket = _refused_socket()
    socket["request"]["url"] = "wss://myres.openai.azure.com/openai/realtime?api-version=2024-10-01-preview"
    socket["request"]["headers"] = [{"name": "api-key", "value": key}]
    said = "Access denied due to invalid subscription key or wrong API endpoint."
    socket["response"]["content"] = {"mimeType": "application/json", "text": json.dumps({"error": {"message": said}})}
    path = tmp_path / "refused.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [socket]}}))
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    infos = [record["info"] for record in printed(result)]
    assert [info["state"] for info in infos[:2]] == ["connecting", "failed"]
    assert infos[1]["message"].startswith("the server refused the WebSocket upgrade: HTTP 401 Unauthorized: {")
    assert said in infos[1]["message"]
    linted = rt_tui("lint", str(path))
    assert linted.returncode == 1, linted.stdout + linted.stderr
    assert linted.stdout.startswith("error: upgrade-refused: rt.connection #2: the server refused the WebSocket")
    assert said in linted.stdout
    assert key not in result.stdout + result.stderr + linted.stdout + linted.stderr


def test_a_har_of_a_webrtc_session_says_where_its_events_went(tmp_path: Path) -> None:
    """A voice agent on WebRTC: the HAR holds the SDP offer to /v1/realtime/calls and no socket, as
    its events go over a data channel. "export it with them from DevTools" sent the developer
    looking for an export option that cannot exist."""
    offer = {
        "method": "POST",
        "url": "https://api.openai.com/v1/realtime/calls?model=gpt-realtime",
        "headers": [{"name": "Authorization", "value": "Bearer ek_webrtc_secret"}],
        "postData": {"mimeType": "application/sdp", "text": "v=0"},
    }
    path = tmp_path / "webrtc.har"
    path.write_text(
        json.dumps({"log": {"version": "1.2", "entries": [{"request": offer, "response": {"status": 201}}]}})
    )
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 2
    assert result.stderr == (
        f"rt-tui replay: {path}: a HAR file without WebSocket messages: the page used the Realtime API over WebRTC "
        "(its SDP offer went to https://api.openai.com/v1/realtime/calls), whose events travel on a data channel no "
        "HAR records: log each event the data channel carries, both ways, as one JSON line, and replay that file\n"
    )
    assert "ek_webrtc_secret" not in result.stderr
    # A page that sent no offer keeps the DevTools hint.
    offer["postData"] = {"mimeType": "application/json", "text": "{}"}
    path.write_text(
        json.dumps({"log": {"version": "1.2", "entries": [{"request": offer, "response": {"status": 200}}]}})
    )
    assert rt_tui("replay", "--json", str(path)).stderr.endswith("(export it with them from DevTools)\n")


def test_lint_of_joined_captures_says_which_capture_each_finding_is_in(tmp_path: Path, captures: list[Path]) -> None:
    """Their `seq` numbers repeat: `input_audio_buffer.commit #26` named a frame of either capture.
    Each finding says its capture ([capture 2 of 2]; `capture` in --json), by its first frame."""
    path = tmp_path / "both.jsonl"
    path.write_bytes(captures[0].read_bytes() + captures[1].read_bytes())
    alone = [rt_tui("lint", str(capture)).stdout.splitlines() for capture in captures]
    text = rt_tui("lint", str(path)).stdout.splitlines()
    heads = [line for line in text if not line.startswith("  ") and "[capture " in line]
    # The tone's transcription fails in each session: one finding per capture, each labelled with its own.
    for number, lines in enumerate(alone, 1):
        findings = [line for line in lines if line.startswith(("error: ", "warning: ", "info: "))]
        assert findings, lines
        assert [line for line in heads if line.startswith(f"[capture {number} of 2] ")] == [
            f"[capture {number} of 2] {line}" for line in findings
        ]
    records = printed(rt_tui("lint", str(path), "--json"))
    assert {record["capture"] for record in records} == {1, 2}
    single = printed(rt_tui("lint", str(captures[0]), "--json"))
    assert single and all(record["capture"] is None for record in single)  # the same keys: null for one capture
