"""What `rt-tui replay` and `rt-tui lint` read: standard input, pipes and process substitution as
well as files; a byte order mark and CRLF line ends; a HAR's overlapping connections on one clock;
and the user's own key, scrubbed from every output of a recording that holds it."""

from __future__ import annotations

import base64
import codecs
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.app_helpers import replay_shown, views_settled, wait_for
from tests.secret_helpers import assert_no_leak, new_test_key, svg_text
from tests.test_secrets import planted_frames
from tui.app import RtApp
from tui.cli import SPEED_RANGE, build_parser
from tui.config import Settings
from tui.protocol import Direction, Envelope
from tui.protocol.records import capture_line
from tui.replay import ReplayRequest, load
from tui.replay.sources import KEY_ENVIRONMENT
from tui.widgets import EventDetail, EventLog

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"
OWN_LOGGING = GOLDEN / "own-logging.jsonl"
RT_TUI = str(Path(sys.executable).parent / "rt-tui")
"""The console script the user runs (this virtual environment's)."""
KEY_SOURCES = (*KEY_ENVIRONMENT, "RT_TUI_URL")


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


def write_capture(envelopes: Sequence[Envelope], path: Path) -> Path:
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
    if command == ["lint", "--json"]:  # each finding names the file it was read from (`<stdin>` for a pipe)
        return "".join(json.dumps({**json.loads(line), "file": None}) + "\n" for line in output.splitlines())
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
        # (the golden log lints clean: `lint --json` has no finding to print for it)
        assert from_file.returncode in (0, 1) and (from_file.stdout or command == ["lint", "--json"]), from_file.stderr
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
    created = json.dumps({"type": "session.created", "session": {}})
    lines = [created] * 3 + ["{not json", created]
    data = ("\n".join(lines) + "\n").encode()
    result = rt_tui("lint", "-", stdin=data)
    assert result.returncode == 2  # a damaged line left out (tests/test_replay_log_damaged.py)
    assert result.stderr.startswith("rt-tui lint: note: <stdin>: line 4 is not JSON"), result.stderr


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
            # The file is the store of its payloads, read back from it as a live capture's are; a pipe's
            # are all kept in memory.
            assert app.journal.capture_path == capture_path
            if capture_path is None:
                assert app.journal.payloads_dropped == 0
            # The status line names a pipe by its path, not by its folder (`fd`).
            shown = name if capture_path is None else path.parent.name
            assert app.status_line.no_target == f"replay of {shown}"


# -- 2. a HAR's connections on one clock ------------------------------------------------------

T0 = 1_700_000_000.0


def socket_entry(model: str, times: list[float], started: str) -> dict[str, object]:
    """A DevTools WebSocket entry: session.created at the first time, a response.create at each other."""
    messages: list[dict[str, object]] = []
    for n, when in enumerate(times):
        if n == 0:
            frame: dict[str, object] = {"type": "session.created", "event_id": f"evt_{model}", "session": {}}
            messages.append({"type": "receive", "time": T0 + when, "opcode": 1, "data": json.dumps(frame)})
        else:
            frame = {"type": "response.create", "event_id": f"{model}_{n}"}
            messages.append({"type": "send", "time": T0 + when, "opcode": 1, "data": json.dumps(frame)})
    url = f"wss://example.test/v1/realtime?model={model}"
    return {"startedDateTime": started, "request": {"url": url, "headers": []}, "_webSocketMessages": messages}


def har_file(path: Path, *entries: dict[str, object]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": list(entries)}}))
    return path


FIRST = socket_entry("first", [0, 30, 60], "2023-11-14T22:13:20Z")
SECOND = socket_entry("second", [10, 14, 18], "2023-11-14T22:13:30Z")
"""Opened 10 s after FIRST, while FIRST was open (until 60 s)."""
LATER = socket_entry("later", [100, 104], "2023-11-14T22:15:00Z")
"""Opened after FIRST closed."""


def connection_of(envelopes: Sequence[Envelope]) -> list[str]:
    """For each envelope, the model of the connection the journal would put it in (the latest
    `connecting` fact before it)."""
    current, owners = "", []
    for env in envelopes:
        if env.type == "rt.connection" and env.data.get("state") == "connecting":
            current = str(env.data["target"]).rsplit("=", 1)[1]
        owners.append(current)
    return owners


@pytest.mark.parametrize("order", ["as opened", "second entry first"])
def test_overlapping_connections_play_whole_one_after_the_other_on_a_clock_that_never_goes_back(
    order: str, tmp_path: Path
) -> None:
    entries = (FIRST, SECOND) if order == "as opened" else (SECOND, FIRST)
    recording = load(har_file(tmp_path / "overlap.har", *entries))
    envelopes = recording.envelopes
    assert [env.seq for env in envelopes] == list(range(1, len(envelopes) + 1))
    monos = [env.mono for env in envelopes]
    assert monos == sorted(monos) and monos[0] == T0  # from the earliest frame, never back
    # Each connection whole, the earlier-opened first: no frame is put in the other's connection.
    owners = connection_of(envelopes)
    assert owners == ["first"] * 6 + ["second"] * 6
    for env, owner in zip(envelopes, owners, strict=True):
        if env.type == "response.create":
            assert env.data["event_id"].startswith(owner)
    # The second keeps its own gaps and its recorded wall times, played after the first's last frame.
    second = [env for env, owner in zip(envelopes, owners, strict=True) if owner == "second"]
    assert [round(env.mono - T0, 6) for env in second] == [60, 60, 60, 64, 68, 68]
    assert [round(env.wall - T0, 6) for env in second] == [10, 10, 10, 14, 18, 18]
    assert "played after it, 50 s late" in second[0].data["message"]
    assert recording.duration == 68
    assert recording.notes == [
        "connection 2 (wss://example.test/v1/realtime?model=second) opened at 10 s, while connection 1 "
        "was still open: it is played after it, 50 s later than recorded"
    ]


def test_connections_that_do_not_overlap_keep_their_recorded_times_in_time_order(tmp_path: Path) -> None:
    recording = load(har_file(tmp_path / "apart.har", LATER, FIRST))  # listed out of order
    envelopes = recording.envelopes
    assert connection_of(envelopes) == ["first"] * 6 + ["later"] * 5
    assert all(env.mono == env.wall for env in envelopes)  # nothing moved
    assert [round(env.mono - T0, 6) for env in envelopes] == [0, 0, 0, 30, 60, 60, 100, 100, 100, 104, 104]
    assert recording.notes == [] and recording.duration == 104


def test_replay_json_of_overlapping_connections_counts_time_forward_and_says_why_one_is_late(
    tmp_path: Path,
) -> None:
    path = har_file(tmp_path / "overlap.har", SECOND, FIRST)
    result = rt_tui("replay", "--json", str(path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 13))
    times = [r["t"] for r in records]
    assert times == sorted(times) and times[0] == 0 and times[-1] == 68
    assert result.stderr.startswith("rt-tui replay: note: connection 2 ") and "50 s later" in result.stderr


async def test_the_replay_status_counts_the_whole_recording_and_each_connection_its_own_time(
    tmp_path: Path,
) -> None:
    """It read `replay -2:22 / -2:22` when the second entry opened first, `00:59 / 00:18` at the
    recorded pace; the log's "since connect" counted the first socket's frames from the second's."""
    recording = load(har_file(tmp_path / "overlap.har", SECOND, FIRST))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(140, 40)) as pilot:
        await replay_shown(pilot, app)
        assert "replay 01:08 / 01:08" in app.status_line.state_override
        sent = [frame for frame in app.journal if frame.type == "response.create"]
        assert [round(app.journal.since_connect(frame), 6) for frame in sent] == [30, 60, 4, 8]


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


# -- 4. --speed, and the range the keys keep to -----------------------------------------------


async def test_the_command_line_takes_exactly_the_speeds_the_keys_keep_to() -> None:
    """`--speed` takes SPEED_RANGE, the range ] and [ clamp to: a speed given above it would have
    been slowed down by `]` (faster), one below it sped up by `[` (slower)."""
    low, high = SPEED_RANGE
    parser = build_parser()
    for taken in (low, 1.0, high):
        assert parser.parse_args(["replay", "f.jsonl", "--speed", str(taken)]).speed == taken
    for refused in (low - 0.01, high + 0.5):
        with pytest.raises(SystemExit):
            parser.parse_args(["replay", "f.jsonl", "--speed", str(refused)])
    for speed, key in ((high, "right_square_bracket"), (low, "left_square_bracket")):
        app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR), speed=speed))
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press(key)
            assert app.player is not None and app.player.speed == speed


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_replay_refuses_a_speed_that_is_not_a_positive_number_before_reading_anything(value: str) -> None:
    result = rt_tui("replay", "--speed", value, "/nonexistent/frames.jsonl")
    assert result.returncode == 2 and result.stdout == ""
    assert f"argument --speed: {value}: the speed must be a number from 0.25 to 64" in result.stderr
    assert "No such file" not in result.stderr  # refused by the parser, before the file


# -- 5. the user's own key ---------------------------------------------------------------------


def keyed_capture(key: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A capture (written with no key set, so nothing scrubbed it) whose client put the key in its
    instructions and whose server quoted it back in every spelling, some of them errors."""
    for name in KEY_SOURCES:
        monkeypatch.delenv(name, raising=False)
    frames, errors = planted_frames(key)
    update = {"type": "session.update", "session": {"type": "realtime", "instructions": f"my key is {key}"}}
    messages = [{"type": "send", "time": T0, "opcode": 1, "data": json.dumps(update)}]
    for n, frame in enumerate([*frames, *errors], start=1):
        if isinstance(frame, bytes):
            data, opcode = base64.b64encode(frame).decode("ascii"), 2
        else:
            data, opcode = frame, 1
        messages.append({"type": "receive", "time": T0 + n / 100, "opcode": opcode, "data": data})
    entry = {"request": {"url": "wss://example.test/v1/realtime?model=m", "headers": []}}
    har = har_file(path.with_suffix(".har"), {**entry, "_webSocketMessages": messages})
    recording = load(har)
    assert recording.secrets == []  # the key is nowhere but in the frames
    write_capture(recording.envelopes, path)
    assert key in path.read_text()
    return path


def key_environment(source: str, key: str) -> dict[str, str]:
    """The environment of a user whose key comes from `source`."""
    if source == "RT_TUI_URL":
        return clean_env(RT_TUI_URL=f"wss://example.test/v1/realtime?model=m&api-key={key}")
    return clean_env(**{source: key})


@pytest.mark.parametrize("source", KEY_SOURCES)
def test_replay_json_and_lint_scrub_the_users_own_key_from_a_recording(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_test_key()
    capture = keyed_capture(key, tmp_path / "frames.jsonl", monkeypatch)
    env = key_environment(source, key)
    for command in (["replay", "--json"], ["lint"], ["lint", "--json"]):
        result = rt_tui(*command, str(capture), env=env)
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout.strip()
        assert_no_leak(result.stdout, key, f"{' '.join(command)} stdout, key from {source}")
        assert_no_leak(result.stderr, key, f"{' '.join(command)} stderr, key from {source}")
    piped = rt_tui("replay", "--json", "-", stdin=capture.read_bytes(), env=env)
    assert piped.returncode == 0 and "[redacted]" in piped.stdout
    assert_no_leak(piped.stdout, key, "replay --json from standard input")


async def test_the_replay_app_scrubs_the_users_own_key_from_the_screen_details_and_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_test_key()
    capture = keyed_capture(key, tmp_path / "frames.jsonl", monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    data = tmp_path / "data"
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(data))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(capture)))
    async with app.run_test(size=(160, 48)) as pilot:
        await replay_shown(pilot, app)
        assert_no_leak(svg_text(app.export_screenshot()), key, "the replay's screen")
        # The file holds the key: a payload read back from it (once the journal dropped it) is scrubbed
        # as the player scrubbed what it played.
        assert app.journal.capture_path == str(capture)
        for frame in app.journal:
            read_back = app.recover_payload(frame.index)
            if frame.direction is not Direction.LOCAL and read_back is not None:
                assert_no_leak(read_back, key, f"#{frame.seq} read back from the file")
                assert read_back == frame.raw, frame.seq
        log = app.query_one(EventLog)
        log.focus()
        update = next(frame.index for frame in app.journal if frame.type == "session.update")
        for index in (update, len(app.journal) - 2):  # the instructions; an error quoting the key
            assert log.select_frame(index)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the detail view")
            assert_no_leak(svg_text(app.export_screenshot()), key, f"the details of #{index + 1}")
            await pilot.press("s")  # saved beside the data folder
            await pilot.pause()
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, EventDetail), 5, "the log")
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert_no_leak(svg_text(app.export_screenshot()), key, "the replay's findings")
    for frame in app.journal:
        scanned = (frame.raw or "") + json.dumps(app.journal.data(frame.index))
        assert_no_leak(scanned, key, f"replayed #{frame.seq}")
    saved = sorted(data.rglob("*.json*"))
    assert len(saved) == 2
    for path in saved:
        assert_no_leak(path.read_text(), key, f"the saved {path.name}")
    assert any(frame.direction is Direction.OUT for frame in app.journal)


# -- a first line longer than the bytes read to tell the formats apart ----------------------


def test_a_first_line_longer_than_the_sniffed_head_reads_in_every_line_format(tmp_path: Path) -> None:
    """An export of audio frames, or a JSONL whose first event is a long append, has a first line
    over 64 KiB: it was cut there, was not JSON, and the file was refused as not a recording."""
    audio = base64.b64encode(bytes(range(256)) * 400).decode("ascii")  # 100 KiB of PCM16
    append = json.dumps({"type": "input_audio_buffer.append", "audio": audio})
    commit = json.dumps({"type": "input_audio_buffer.commit"})
    events = tmp_path / "events.jsonl"
    events.write_text(f"{append}\n{commit}\n")
    envelopes = [
        Envelope(n, Direction.OUT, json.loads(raw)["type"], json.loads(raw), raw, n / 10, n / 10)
        for n, raw in enumerate((append, commit), start=1)
    ]
    capture = write_capture(envelopes, tmp_path / "export.jsonl")
    for path, kind in ((events, "jsonl"), (capture, "capture")):
        assert path.read_bytes().index(b"\n") > 64 * 1024
        recording = load(path)
        assert recording.kind == kind and [env.raw for env in recording.envelopes] == [append, commit]
        piped = rt_tui("replay", "--json", "-", stdin=path.read_bytes())
        assert piped.returncode == 0, piped.stderr
        assert [json.loads(line)["frame"]["type"] for line in piped.stdout.splitlines()] == [
            "input_audio_buffer.append",
            "input_audio_buffer.commit",
        ]
