"""`rt-tui replay A B …`: several recordings played one after another, as one replay.

ctrl+r, and each client of `rt-tui proxy`, give every connection a capture of its own: replaying the
first stopped at `closed by rt-tui`, and only `rt-tui replay <(cat A B)` played both. The files are
real captures of `rt-tui send` sessions against the simulator, and one JSONL of events as people's
own logging writes it.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.app_helpers import screen_text, wait_for
from tests.capture_helpers import RT_TUI, sent_captures
from tui import replay_cmd
from tui.app import RtApp
from tui.config import Settings
from tui.model import new_model
from tui.replay import ReplayRequest, load_many
from tui.replay.lean import hydrated
from tui.replay.sources import on_one_clock


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The captures of two real `rt-tui send` sessions against the simulator, oldest first."""
    return sent_captures(tmp_path_factory.mktemp("sessions"))


@pytest.fixture
def events_log(tmp_path: Path) -> Path:
    """A JSONL of bare events (no connection fact of its own): a client's own log."""
    path = tmp_path / "my-client.jsonl"
    events = [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}},
        {"type": "session.updated", "session": {"type": "realtime", "instructions": "be brief"}},
        {"type": "response.create"},
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def rt_tui(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process."""
    return subprocess.run([RT_TUI, *args], capture_output=True, text=True, timeout=120)


def printed(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """`replay --json`'s lines."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_two_captures_print_as_the_two_files_joined_with_cat(tmp_path: Path, captures: list[Path]) -> None:
    """`replay --json A B` prints what `replay --json <(cat A B)` does, without the note that the
    file holds joined captures (they were given as two): every frame of both, each capture's `t`
    from its own first frame."""
    cat = tmp_path / "cat.jsonl"
    cat.write_bytes(b"".join(path.read_bytes() for path in captures))
    several = rt_tui("replay", "--json", *map(str, captures))
    one = rt_tui("replay", "--json", str(cat))
    assert several.returncode == 0 and one.returncode == 0, several.stderr
    assert printed(several) == printed(one)
    lines = [len(path.read_bytes().splitlines()) for path in captures]
    assert len(printed(several)) == sum(lines)
    assert printed(several)[lines[0]]["t"] == 0.0 and printed(several)[lines[0]]["type"] == "rt.capture"
    assert "joined in one file" in one.stderr and several.stderr == ""
    # Whose frame each line is, as `proxy --json` says it: their `seq` numbers may repeat.
    assert [record["conn"] for record in printed(several)] == [1] * lines[0] + [2] * lines[1]
    # One capture: the same keys (a script reads `.conn` without asking how many files it gave).
    alone = printed(rt_tui("replay", "--json", str(captures[0])))
    assert [record["conn"] for record in alone] == [1] * lines[0]


def test_each_file_is_a_connection_of_its_own_on_one_clock(captures: list[Path], events_log: Path) -> None:
    """A file that opens without a connection fact of its own (a client's log of events) is given
    one, named after it: its frames would otherwise count time from, and be judged against, the
    session of the file before. The clock never goes back."""
    recording = on_one_clock(load_many([*map(str, captures), str(events_log)], lean=True))
    assert [path.name for path in recording.files] == ["frames.jsonl", "frames.jsonl", "my-client.jsonl"]
    model = new_model("several", lint=False)
    model.ingest(hydrated(recording.envelopes))
    journal = model.journal
    assert len(journal.epoch_starts) == 4  # before any connection, then one for each file
    opening = journal[journal.epoch_starts[3]]
    assert opening.type == "rt.connection" and opening.direction.value == "local"
    assert journal.data(opening.index)["message"] == f"recording 3: {events_log}"
    assert [frame.type for frame in journal][-3:] == ["session.update", "session.updated", "response.create"]
    times = [frame.mono for frame in journal]
    assert times == sorted(times)
    # The captures brought their own: none is added before them.
    openings = [journal.data(index).get("message", "") for index in journal.epoch_starts[1:]]
    assert [message.startswith("recording") for message in openings] == [False, False, True]


def test_one_unreadable_file_refuses_the_replay_and_names_it(tmp_path: Path, captures: list[Path]) -> None:
    """Nothing plays when one of the files cannot be read: the message names that file, in one line."""
    missing = tmp_path / "gone.jsonl"
    result = rt_tui("replay", "--json", str(captures[0]), str(missing))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"rt-tui replay: {missing}: No such file or directory"]
    twice = subprocess.run([RT_TUI, "replay", "--json", "-", "-"], input="", capture_output=True, text=True, timeout=60)
    assert twice.returncode == 2
    assert twice.stderr == "rt-tui replay: standard input (-) is given more than once: it can be read only once\n"


def test_the_notes_of_each_file_name_it(tmp_path: Path, captures: list[Path]) -> None:
    """A note (a last line cut short) says which of the files it is about."""
    cut = tmp_path / "cut.jsonl"
    data = captures[1].read_bytes()
    cut.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 20])  # the last line cut short
    out = io.StringIO()
    assert replay_cmd.replay([str(captures[0]), str(cut)], json_out=True, out=out) == 0
    result = rt_tui("replay", "--json", str(captures[0]), str(cut))
    notes = result.stderr.splitlines()
    assert notes and all(line.startswith(f"rt-tui replay: note: {cut}: ") for line in notes), notes


async def test_the_app_plays_every_file_and_names_the_one_playing(captures: list[Path], events_log: Path) -> None:
    """In the app: every file's frames, one connection each. The status line named the first file
    `+ 2 more` throughout: it names the file playing, and which of them it is. The transcript's
    separator for a log without times gives no time (its line-order clock read as 00:00:00)."""
    recording = load_many([*map(str, captures), str(events_log)], lean=True)
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(on_one_clock(recording), None))
    async with app.run_test(size=(160, 48)) as pilot:
        played = lambda: app.player is not None and app.player.done.is_set() and len(app.model.journal) > 30  # noqa: E731
        await wait_for(pilot, played, 30, "the replay to end")
        journal = app.model.journal
        assert len(journal.epoch_starts) == 4
        assert [frame.type for frame in journal][-3:] == ["session.update", "session.updated", "response.create"]
        await wait_for(pilot, lambda: app.status_line.source == "my-client.jsonl (3 of 3)", 10, "the last file named")
        # The counters are the latest connection's, and say so beside a log of all three.
        assert "conn 3 ▼1 ▲2" in str(app.status_line.render()), str(app.status_line.render())
        separators = [item.text for item in app.conversation.items.values() if item.role == "session"]
        assert separators[-1] == "new session to my-client.jsonl"
        assert all(" · " in text for text in separators[:-1])  # the captures' have their time of day
        # On screen, each names the file it is replayed from (it said the server it was recorded
        # against: "new session to simulator" for every capture).
        await wait_for(pilot, lambda: "new session · my-client.jsonl ──" in screen_text(app), 5, "the last rule")
        assert re.search(rf"new session · \d\d:\d\d:\d\d · {captures[1].parent.name} ──", screen_text(app))
        # The selected frame's file, not the one played last: a find in the first file said the third.
        app.event_log.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: app.status_line.source == f"{captures[0].parent.name} (1 of 3)", 5, "the first")
        await pilot.press("end")
        await wait_for(pilot, lambda: app.status_line.source == "my-client.jsonl (3 of 3)", 5, "the playing file")
        await pilot.press("p")  # a finished replay: p does nothing; r plays it again from the first file
        await pilot.press("r")
        await wait_for(pilot, lambda: app.status_line.source.endswith(" of 3)"), 10, "a file named")
        first = captures[0].parent.name
        await wait_for(pilot, played, 30, "the replay to end again")
        assert app.status_line.source in {f"{first} (1 of 3)", "my-client.jsonl (3 of 3)"}


def test_two_recordings_a_day_apart_play_at_most_five_seconds_apart(tmp_path: Path, captures: list[Path]) -> None:
    """The time between two recordings is no part of either: a day between them made the position
    read 24:01:01, and a timed replay counted 23 hours as silence skipped."""
    later = tmp_path / "a-day-later.jsonl"
    lines = [json.loads(line) for line in captures[0].read_text().splitlines()]
    later.write_text("".join(json.dumps({**line, "wall": line["wall"] + 86400}) + "\n" for line in lines))
    alone = on_one_clock(load_many([str(captures[0])], lean=True)).duration
    both = on_one_clock(load_many([str(captures[0]), str(later)], lean=True))
    assert both.duration == pytest.approx(2 * alone + 5.0, abs=0.01)


def test_a_file_s_notes_are_said_at_its_own_end(tmp_path: Path, captures: list[Path], events_log: Path) -> None:
    """The note that a file holds captures joined with cat was shown at the very end, in the next
    file's connection: it is said where its own file ends."""
    from tui.replay.sources import with_notes_as_facts

    cat = tmp_path / "joined.jsonl"
    cat.write_bytes(b"".join(path.read_bytes() for path in captures))
    recording = with_notes_as_facts(on_one_clock(load_many([str(cat), str(events_log)], lean=True)))
    envelopes = list(hydrated(recording.envelopes))
    [note] = [
        index
        for index, env in enumerate(envelopes)
        if env.type in ("rt.capture", "rt.replay") and env.data.get("notify")
    ]
    assert "2 captures joined in one file" in envelopes[note].data["message"]
    assert envelopes[note + 1].type == "rt.connection" and "recording 2" in envelopes[note + 1].data["message"]
    assert recording.file_starts == [0, note + 1]


def test_a_log_without_times_before_a_capture_adds_no_gap(captures: list[Path], events_log: Path) -> None:
    """A log without times has its lines' order for a clock (0.001 a line): taken for Unix time
    beside a capture's, it put the capture 56 years later (`replay 499023:50:49`)."""
    recording = on_one_clock(load_many([str(events_log), str(captures[0])], lean=True))
    alone = on_one_clock(load_many([str(captures[0])], lean=True))
    assert recording.duration == pytest.approx(alone.duration + 0.003, abs=0.01)


async def test_the_findings_of_earlier_connections_are_counted_and_listed_apart(captures: list[Path]) -> None:
    """The status line counts the current connection's findings and says how many are earlier; the
    list heads each connection's findings, the current one first."""
    from textual.widgets import OptionList

    from tui.widgets.findings import FindingsView

    har = Path(__file__).parent / "golden" / "replay" / "devtools.har"
    recording = load_many([str(har), str(captures[0])], lean=True)
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(on_one_clock(recording), None))
    async with app.run_test(size=(160, 48)) as pilot:
        played = lambda: app.player is not None and app.player.done.is_set() and app.journal.epoch == 2  # noqa: E731
        await wait_for(pilot, played, 30, "the replay to end")
        await wait_for(pilot, lambda: app.status_line.findings_note != "", 10, "the count")
        # The HAR's three (`rt-tui lint` finds them in it alone), and the tone's failed transcription.
        assert app.status_line.findings_note == "✖1 · earlier ✖2 ⚠1 (!)"
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 10, "the findings")
        prompts = [str(option.prompt).splitlines() for option in app.screen.query_one(OptionList).options]
        lines = [prompt[0] for prompt in prompts]
        assert lines[0] == "━━ connection 2 (the latest) · 1 error ━━"
        assert lines[1] == "✖ error transcription-failed"
        assert "━━ connection 1 · 2 errors, 1 warning ━━" in lines
        # Each heading names its connection's file: in a replay of eight, the reader counted files.
        files = [prompt[1].strip() for prompt in prompts if prompt[0].startswith("━━")]
        assert files == [f"replayed from {captures[0].parent.name}", "replayed from devtools.har"]
        assert sum(line.startswith("━━") for line in lines) == 2


@pytest.mark.parametrize(
    ("seconds", "said"), [(19, "19 s"), (125, "2 min 5 s"), (120, "2 min"), (86059, "23 h 54 min"), (7200, "2 h")]
)
def test_skipped_time_reads_at_a_glance(seconds: int, said: str) -> None:
    """`1434 min 19 s skipped` did not read at a glance: hours are hours."""
    from tui.app.modes import _duration

    assert _duration(seconds) == said


def test_files_given_newest_first_are_said_out_of_order(captures: list[Path], events_log: Path) -> None:
    """Given newest first, the transcript ran backwards from one separator to the next, and nothing
    said why. They still play in the order given (the user's), with a note on the file out of order."""
    newest_first = rt_tui("replay", "--json", str(captures[1]), str(captures[0]))
    assert newest_first.returncode == 0
    notes = newest_first.stderr.splitlines()
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"rt-tui replay: note: {captures[0]}: recorded at "), notes
    assert f"before {captures[1].parent.name} given ahead of it: the files play in the order given" in notes[0]
    # Oldest first, or beside a log without times, nothing is said.
    assert rt_tui("replay", "--json", str(captures[0]), str(captures[1])).stderr == ""
    assert rt_tui("replay", "--json", str(captures[1]), str(events_log)).stderr == ""


def test_files_of_one_second_given_out_of_order_are_not_said_to_come_from_a_glob(tmp_path: Path) -> None:
    """Two session folders made in the same second (a proxy's clients) sort by their random suffix:
    the note said a glob gives them oldest first, which that very glob had not."""
    paths = []
    for name, wall in (("a.jsonl", 1_800_000_000.7), ("b.jsonl", 1_800_000_000.2)):
        line = {"seq": 1, "dir": "in", "t": 0, "wall": wall, "type": "session.created", "size": 60,
                "frame": {"type": "session.created", "session": {"id": "sess_1", "type": "realtime"}}}  # fmt: skip
        (tmp_path / name).write_text(json.dumps(line) + "\n")
        paths.append(str(tmp_path / name))
    notes = rt_tui("replay", "--json", *paths).stderr.splitlines()
    assert len(notes) == 1 and notes[0].endswith(
        "the files play in the order given (session folders made in the same second sort by their random "
        "suffix, not by time)"
    ), notes


async def test_the_counters_are_of_the_selected_frame_s_connection(captures: list[Path]) -> None:
    """The line named the selected frame's file beside the latest connection's counters:
    `…(1 of 2) … conn 2 ▼112 ▲26`. With a frame of an earlier file selected, they are its
    connection's; following again, the latest's."""
    from tui.protocol import Direction

    recording = load_many([str(path) for path in captures])
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(on_one_clock(recording), None))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 30, "the replay")
        await wait_for(pilot, lambda: app.journal.epoch == 2, 5, "both connections")
        first = [frame for frame in app.journal if frame.epoch == 1]
        received = sum(frame.direction is Direction.IN for frame in first)
        sent_ = sum(frame.direction is Direction.OUT for frame in first)
        latest = f"conn 2 ▼{app.facts.frames_in:,} ▲{app.facts.frames_out:,}"
        app.event_log.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: app.status_line.source.endswith("(1 of 2)"), 5, "the first file named")
        assert f"conn 1 ▼{received:,} ▲{sent_:,}" in str(app.status_line.render()), str(app.status_line.render())
        await pilot.press("end")
        await wait_for(pilot, lambda: app.status_line.source.endswith("(2 of 2)"), 5, "the second file named")
        assert latest in str(app.status_line.render()), str(app.status_line.render())


async def test_a_transcript_export_names_each_session_and_its_file(
    captures: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay of two captures exported as Markdown was headed by the last session alone, and its
    separator named neither the session nor the file it came from: each section says both, and
    the head says it is a replay of both files. The JSON's separator records carry them too."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    recording = load_many([str(path) for path in captures])
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(on_one_clock(recording), None))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 30, "the replay")
        await wait_for(pilot, lambda: app.journal.epoch == 2 and len(app.facts.session_ids) == 2, 5, "both sessions")
        ids = [app.facts.session_ids[1], app.facts.session_ids[2]]
        assert ids[0] != ids[1]
        app.export_transcript_markdown()
        app.export_transcript_json()
        saved = tmp_path / "data" / "saved"
        await wait_for(pilot, lambda: saved.is_dir() and len(list(saved.iterdir())) == 2, 5, "both exports")
    markdown = next(saved.glob("*.md")).read_text()
    first, second = (path.parent.name for path in captures)
    head = markdown.splitlines()[2]
    assert head.startswith(f"`replay of {first} + 1 more` · `ws://127.0.0.1:"), head
    assert f"`sessions {ids[0]}, {ids[1]}`" in head
    # The first session's items were told apart from the second's by nothing: it has its line too.
    lines = [line for line in markdown.splitlines() if line.startswith(("*session", "*new session"))]
    assert [line.split(" · session ")[-1] for line in lines] == [
        f"`{ids[0]}` · replayed from `{first}`*",
        f"`{ids[1]}` · replayed from `{second}`*",
    ], lines
    assert re.fullmatch(r"\*session to 127\.0\.0\.1:\d+ · \d\d:\d\d:\d\d · session `.*", lines[0]), lines[0]
    records = json.loads(next(saved.glob("*.json")).read_text())
    sessions = [record for record in records if record["role"] == "session"]
    assert records[0] is sessions[0]
    assert [(r["session_id"], r["replayed_from"]) for r in sessions] == [(ids[0], first), (ids[1], second)]


async def test_an_export_keeps_each_capture_s_own_times(captures: list[Path], tmp_path: Path) -> None:
    """Played on one clock (the time between the files cut), a replay of two captures exported its
    second file's frames at the replay's times (`t` 40.37 for a frame its capture and the log say
    34.58 of): each frame keeps its own capture's `t`, as `replay --json` prints it, whole or filtered."""
    recording = load_many([str(path) for path in captures])
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(on_one_clock(recording), None))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 30, "the replay")
        await wait_for(pilot, lambda: app.journal.epoch == 2, 5, "both connections")
        whole, received = tmp_path / "whole.jsonl", tmp_path / "received.jsonl"

        def written(path: Path, lines: int) -> bool:
            return path.exists() and path.read_text().count("\n") == lines

        app.export_frames(whole, keep_audio=False)
        await wait_for(pilot, lambda: written(whole, len(app.journal)), 10, "the whole export")
        app.apply_filter("dir:in")
        await wait_for(pilot, lambda: 0 < len(app.log_view.indices) < len(app.journal), 5, "the filter")
        app.export_frames(received, keep_audio=False)
        await wait_for(pilot, lambda: written(received, len(app.log_view.indices)), 10, "the filtered export")
    own = [(record["seq"], record["dir"], record["t"]) for path in captures for record in map(json.loads, path.open())]
    exported = [(record["seq"], record["dir"], record["t"]) for record in map(json.loads, whole.open())]
    assert exported == own
    assert [(seq, t) for seq, direction, t in own if direction == "in"] == [
        (record["seq"], record["t"]) for record in map(json.loads, received.open())
    ]


async def test_a_json_export_of_one_capture_names_its_session_and_file(
    captures: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single session's JSON export had no `role: "session"` record: its session's id and the
    file it was replayed from were nowhere in it (the Markdown head names them). The first session's
    line gave its first item's time, where a reconnect's gives when it connected."""
    from tui.conversation.export import iso_time

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    app = RtApp(Settings(capture=False, playback=False), replay=ReplayRequest(load_many([str(captures[0])]), None))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.player is not None and app.player.done.is_set(), 30, "the replay")
        await wait_for(pilot, lambda: 1 in app.facts.session_ids, 5, "the session")
        app.export_transcript_json()
        saved = tmp_path / "data" / "saved"
        await wait_for(pilot, lambda: saved.is_dir() and any(saved.iterdir()), 5, "the export")
        started = app.facts.started[1]
    records = json.loads(next(saved.glob("*.json")).read_text())
    assert records[0]["role"] == "session" and [r["role"] for r in records[1:]].count("session") == 0
    assert records[0]["session_id"] == app.facts.session_ids[1]
    assert records[0]["replayed_from"] == captures[0].parent.name
    assert records[0]["time"] == iso_time(started)  # when it connected, as a reconnect's separator says
