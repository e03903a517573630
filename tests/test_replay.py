"""`rt-tui replay`: captures, HAR files and JSONL of frames, through the same pipeline as live."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_helpers import items, reply_journaled, screen_text, session_ready, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import TextState
from tui.protocol import Direction
from tui.replay import ReplayError, ReplayRequest, load
from tui.widgets import EventLog, Transcript

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"
OWN_LOGGING = GOLDEN / "own-logging.jsonl"
HAR_KEY = "har-fixture-key-0123456789abcdefXYZ"
RT_TUI = [sys.executable, "-m", "tui"]


async def test_a_live_capture_replays_to_the_same_transcript_and_log(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *"what is the weather in Oslo", "enter", "escape")
        # Its last frames: a frame after the export's (or the capture's) view would be one too many.
        await wait_for(pilot, lambda: reply_journaled(app), 30, "the reply and its last frame")
        await views_settled(pilot, app)
        assert app.capture is not None
        capture = app.capture.path
        live_frames = [(f.direction, f.type, f.size, f.raw) for f in app.journal if f.direction is not Direction.LOCAL]
        await views_settled(pilot, app)
        live_transcript = app.query_one(Transcript).text()
        live_rows = [r for r in app.query_one(EventLog).row_texts() if not r.startswith("●")]
    replay = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(capture)))
    async with replay.run_test(size=(160, 48)) as pilot:
        assert replay.player is not None
        await wait_for(pilot, replay.player.done.is_set, 10, "the replay")
        await views_settled(pilot, replay)
        frames = [(f.direction, f.type, f.size, f.raw) for f in replay.journal if f.direction is not Direction.LOCAL]
        assert frames == live_frames  # frame for frame, sizes and bytes included
        assert replay.query_one(Transcript).text() == live_transcript
        assert [r for r in replay.query_one(EventLog).row_texts() if not r.startswith("●")] == live_rows
        assert "replay" in replay.status_line.state_override and "done" in replay.status_line.state_override
        assert replay.session is None  # nothing connected anywhere


def test_a_devtools_har_file_reads_as_a_session() -> None:
    recording = load(HAR)
    assert recording.kind == "har" and HAR_KEY in recording.secrets
    types = [(env.direction.value, env.type) for env in recording.envelopes]
    assert types[:3] == [("local", "rt.connection"), ("local", "rt.connection"), ("in", "session.created")]
    assert ("out", "conversation.item.create") in types and ("in", "response.done") in types
    assert types[-2] == ("in", "rt.malformed")  # the binary frame, kept
    assert recording.envelopes[-2].binary == b"\x00\x01binary"
    assert types[-1] == ("local", "rt.connection")
    sent = [env for env in recording.envelopes if env.direction is Direction.OUT]
    assert [env.type for env in sent] == ["session.update", "conversation.item.create", "response.create"]
    assert recording.duration == pytest.approx(2.1 - 0.112, abs=0.001)  # first message to the last


async def test_the_har_replay_shows_the_untranscribed_item_and_never_the_key() -> None:
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR)))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        user = items(app, "user")[-1]
        assert user.state is TextState.NOT_TRANSCRIBED
        assert "conversation.item.create" in app.query_one(Transcript).text()
        assert HAR_KEY not in app.export_screenshot()
        assert "no target" not in screen_text(app)  # the status line names the file instead
        assert app.status_line.no_target == f"replay of {HAR.name}"
        assert "Press space" not in app.query_one(Transcript).hint[0]


def test_plain_jsonl_of_frames_guesses_directions_and_reads_wrappers() -> None:
    recording = load(OWN_LOGGING)
    assert recording.kind == "jsonl"
    got = [(env.direction.value, env.type) for env in recording.envelopes]
    assert got == [
        ("in", "session.created"),
        ("out", "input_audio_buffer.append"),
        ("out", "input_audio_buffer.commit"),
        ("in", "input_audio_buffer.committed"),
        ("in", "conversation.item.input_audio_transcription.completed"),
        ("out", "response.create"),
        ("in", "response.created"),
        ("in", "response.done"),
    ]
    assert recording.envelopes[3].mono == 1764500001.56


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RT_TUI, *args], capture_output=True, text=True, timeout=60, input=stdin)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file: no frames in it"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not an rt-tui capture, a HAR file or a JSONL of frames"),
        (b'{"log": {"entries": []}}', "without WebSocket messages"),
        (b"[1, 2, 3]\n", "not an rt-tui capture"),
        (b'{"hello": "world"}\n', "no Realtime event"),
    ],
)
def test_unreadable_files_are_one_line_and_exit_2(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    for command in (["replay", str(path), "--json"], ["lint", str(path)]):
        result = run(*command)
        assert result.returncode == 2, (command, result)
        assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
        # Named like `rt-tui send:` and `rt-tui proxy:`; and lint is not told it has nothing to replay.
        assert result.stderr.startswith(f"rt-tui {command[0]}: {path}: "), result.stderr
        assert "to replay" not in result.stderr


def test_damaged_lines_after_the_first_are_notes_and_exit_2(tmp_path: Path) -> None:
    """Each damaged line is said in a note of one line, naming it; what could be read is printed or
    linted, and the status is 2: lines are missing."""
    path = tmp_path / "input.jsonl"
    path.write_bytes(b'{"seq":1,"dir":"in","t":0,"wall":0,"type":"x","size":2,"raw":"{}"}\n{"seq":2,"dir\n[3]\n')
    for command in (["replay", str(path), "--json"], ["lint", str(path)]):
        result = run(*command)
        assert result.returncode == 2, (command, result)
        notes = result.stderr.splitlines()
        assert len(notes) == 2, notes
        for note, number in zip(notes, (2, 3), strict=True):
            assert note.startswith(f"rt-tui {command[0]}: note: {path}: line {number} "), note
        assert all(note.endswith("left out, the lines after it read") for note in notes), notes
        assert "Traceback" not in result.stderr
    assert [json.loads(line)["seq"] for line in run("replay", str(path), "--json").stdout.splitlines()] == [1]


def test_a_capture_cut_in_its_last_line_reads_up_to_it_with_a_note(tmp_path: Path) -> None:
    """rt-tui killed in the middle of writing a line leaves it cut: the whole lines before it are
    the session, read as they are (a damaged line elsewhere is left out with a note, above)."""
    whole = [
        {
            "seq": n,
            "dir": "in",
            "t": n / 10,
            "wall": 0,
            "type": "vendor.x",
            "size": 20,
            "raw": f'{{"type":"vendor.x","n":{n}}}',
        }
        for n in range(1, 4)
    ]
    path = tmp_path / "frames.jsonl"
    path.write_bytes("".join(json.dumps(r) + "\n" for r in whole).encode() + b'{"seq":4,"dir":"in","t":0.4,"wa')
    replayed = run("replay", str(path), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert [json.loads(line)["seq"] for line in replayed.stdout.splitlines()] == [1, 2, 3]
    assert replayed.stderr.startswith("rt-tui replay: note: ") and "line 4 is cut short" in replayed.stderr
    assert (
        "the 3 lines before it are read, up to line 3" in replayed.stderr
        and len(replayed.stderr.strip().splitlines()) == 1
    )
    linted = run("lint", str(path))
    assert linted.returncode in (0, 1) and "line 4 is cut short" in linted.stderr
    assert linted.stderr.startswith("rt-tui lint: note: "), linted.stderr


def test_replay_json_feeds_jq_and_leaves_the_key_out() -> None:
    jq = shutil.which("jq")
    assert jq is not None, "jq is a system dependency of the test suite (make system-deps installs it)"
    produced = run("replay", str(HAR), "--json")
    assert produced.returncode == 0, produced.stderr
    assert HAR_KEY not in produced.stdout
    selected = subprocess.run(
        [jq, "-r", 'select(.dir == "out") | .frame.type'], input=produced.stdout, capture_output=True, text=True
    )
    assert selected.returncode == 0, selected.stderr
    assert selected.stdout.split() == ["session.update", "conversation.item.create", "response.create"]
    for line in produced.stdout.splitlines():
        json.loads(line)


def test_a_missing_file_is_one_line() -> None:
    result = run("replay", "/nonexistent/frames.jsonl", "--json")
    assert result.returncode == 2 and "No such file" in result.stderr
    assert result.stderr.startswith("rt-tui replay: /nonexistent/frames.jsonl: ")


def test_load_raises_its_own_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": 5}')
    with pytest.raises(ReplayError):
        load(bad)


async def test_findings_show_as_badges_a_count_and_a_view_that_jumps_to_the_frame() -> None:
    from tui.widgets.findings import FindingsView
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR)))
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        assert app.model.linter is not None
        rules = {finding.rule for finding in app.model.linter.findings}
        assert {"item-create-audio-not-transcribed", "wav-header-in-audio"} <= rules
        assert "✖2" in app.status_line.findings_note
        create = next(f.index for f in app.journal if f.type == "conversation.item.create")
        log = app.query_one(EventLog)
        log.select_frame(create)  # the badge is on the frame's row
        assert log.cursor_line is not None
        assert "✖" in log.render_line(log.cursor_line - log.scroll_offset.y).text
        log.select_frame(0)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, FindingsView)
        footer = str(app.screen.query_one(KeyFooter).render())
        assert "⏎ Go to its frame" in footer and "Close" in footer, footer  # it showed Close alone
        await pilot.press("enter")  # the first (worst) finding: back to its frame
        await pilot.pause()
        assert not isinstance(app.screen, FindingsView)
        assert log.selected == create


async def test_the_replay_footer_says_pause_or_resume_as_p_would_do() -> None:
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR), speed=1.0))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()

        def footer() -> str:
            return str(app.query_one(KeyFooter).render())

        assert "Pause" in footer() and "Resume" not in footer() and "[ ] Speed" in footer()
        await pilot.press("p")
        await pilot.pause()
        assert app.player is not None and app.player.paused
        assert "Resume" in footer() and "Pause" not in footer()
        await pilot.press("p")
        await pilot.pause()
        assert not app.player.paused and "Pause" in footer()


def test_replay_json_prints_every_frame_of_a_capture_with_more_audio_than_the_journal_keeps(tmp_path: Path) -> None:
    """The journal keeps 16 MiB of audio and drops older payloads, to be read back from a capture
    file; --json has none to read from, and printed the dropped frames as `"frame": {}`."""
    import base64

    from tui.protocol import Envelope
    from tui.protocol.records import capture_line

    audio = base64.b64encode(bytes(range(256)) * 160).decode("ascii")  # 40 KiB of PCM16
    appends = [json.dumps({"type": "input_audio_buffer.append", "audio": audio, "n": n}) for n in range(500)]
    path = tmp_path / "frames.jsonl"
    with path.open("wb") as capture:
        for seq, raw in enumerate(appends, start=1):
            env = Envelope(seq, Direction.OUT, "input_audio_buffer.append", json.loads(raw), raw, seq / 50, seq / 50)
            capture.write(capture_line(env, 0.0))
    assert path.stat().st_size > 24 * 1024 * 1024  # more than the journal's audio budget
    binary = str(Path(sys.executable).parent / "rt-tui")
    result = subprocess.run([binary, "replay", "--json", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line)["frame"] for line in result.stdout.splitlines()]
    assert printed == [json.loads(raw) for raw in appends]


class _Stream:
    """A text stream that notes how many lines had been flushed when each wait began."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.flushed = 0

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        self.flushed = len(self.lines)


def test_replay_json_with_a_speed_writes_each_line_when_the_recording_reached_it(tmp_path: Path) -> None:
    """`replay --json --speed N` printed everything at once, silently: the lines now come at the
    recorded pace ÷ N, silences shortened to the app's MAX_GAP, each due line out before a wait."""
    from tui.protocol import Envelope
    from tui.protocol.records import capture_line
    from tui.replay.player import MAX_GAP
    from tui.replay_cmd import _print_frames

    times = [0.0, 0.5, 1.5, 1.5, 30.0]  # a burst of two, then a long silence
    path = tmp_path / "frames.jsonl"
    with path.open("wb") as capture:
        for seq, t in enumerate(times, start=1):
            raw = json.dumps({"type": "response.output_text.delta", "delta": f"w{seq}", "event_id": f"e{seq}"})
            capture.write(
                capture_line(Envelope(seq, Direction.IN, "response.output_text.delta", json.loads(raw), raw, t, t), 0.0)
            )
    stream, waits = _Stream(), []

    def sleep(seconds: float) -> None:
        waits.append((round(seconds, 6), stream.flushed))

    assert _print_frames(load(path), stream, speed=2.0, sleep=sleep) == 0  # type: ignore[arg-type]
    assert waits == [(0.25, 1), (0.5, 2), (MAX_GAP, 4)]  # the burst's two lines share one wait
    assert [json.loads(line)["frame"]["delta"] for line in stream.lines] == ["w1", "w2", "w3", "w4", "w5"]
    unpaced: list[tuple[float, int]] = []
    _print_frames(load(path), _Stream(), sleep=lambda s: unpaced.append((s, 0)))  # type: ignore[arg-type]
    assert unpaced == []  # without a speed, all at once


def test_replay_json_with_the_fastest_speed_prints_every_frame() -> None:
    result = run("replay", str(HAR), "--json", "--speed", "64")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [
        json.loads(line)["seq"] for line in run("replay", str(HAR), "--json").stdout.splitlines()
    ]


async def test_a_replay_names_a_session_by_its_folder_and_an_export_by_its_file(tmp_path: Path) -> None:
    """Tester: every export (all in `saved/`) was labelled `saved`, its folder, as a session's
    `frames.jsonl` is by its session folder."""
    line = b'{"seq":1,"dir":"in","t":0,"wall":1,"type":"a.b","size":13,"frame":{"type":"a.b"}}\n'
    session = tmp_path / "20261201-101010-abc123" / "frames.jsonl"
    export = tmp_path / "saved" / "export-101010.jsonl"
    for path in (session, export):
        path.parent.mkdir()
        path.write_bytes(line)
    for path, name in ((session, "20261201-101010-abc123"), (export, "export-101010.jsonl")):
        app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(path)))
        async with app.run_test(size=(100, 30)):
            assert app.status_line.no_target == f"replay of {name}"


def test_the_replay_clock_reads_hours_as_the_log_does() -> None:
    """Tester: past an hour the status read `90:52 / 90:52` beside the log's `1:30:28.4`."""
    from tui.app.modes import _clock

    assert [_clock(s) for s in (0, 59.9, 3599, 3600, 5452.7)] == ["00:00", "00:59", "59:59", "1:00:00", "1:30:52"]
