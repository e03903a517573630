"""Recordings as people's tools write them: logs that time some lines or in other units, log records
with a `type` of their own around the event, and HAR WebSocket messages Chrome marks as errors or
other tools write in base64."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.protocol import Direction
from tui.replay import load

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"
OWN_LOGGING = GOLDEN / "own-logging.jsonl"
RT_TUI = str(Path(sys.executable).parent / "rt-tui")


def _har(tmp_path: Path, edit: Any) -> Path:
    """The golden DevTools HAR with its WebSocket entry's messages passed through `edit`."""
    document = json.loads(HAR.read_text())
    socket = next(e for e in document["log"]["entries"] if "_webSocketMessages" in e)
    socket["_webSocketMessages"] = edit(copy.deepcopy(socket["_webSocketMessages"]))
    path = tmp_path / "edited.har"
    path.write_text(json.dumps(document))
    return path


def test_a_log_that_times_only_some_lines_plays_on_one_clock_that_never_goes_back() -> None:
    # The golden log times its wrapped lines (epoch seconds) and not its bare ones: read as they
    # were, the clock jumped 56 years forward at line 3 and back to 0.005 s at line 6.
    recording = load(OWN_LOGGING)
    monos = [env.mono for env in recording.envelopes]
    assert monos == sorted(monos)
    assert 0.3 < recording.duration < 1.0  # 1.5 s → 1.9 s recorded, the untimed lines 1 ms apart
    assert recording.envelopes[3].mono - recording.envelopes[2].mono == pytest.approx(0.06)


def test_log_records_with_their_own_type_iso_times_and_milliseconds_read_as_the_events_inside(
    tmp_path: Path,
) -> None:
    created = {"type": "session.created", "event_id": "event_1", "session": {"type": "realtime"}}
    commit = {"type": "input_audio_buffer.commit"}
    done = {"type": "response.done", "response": {"id": "resp_1", "status": "completed", "output": []}}
    lines = [
        {"type": "ws", "time": "2025-11-30T11:33:20.000Z", "direction": "in", "event": created},
        {"type": "sent", "ts": 1764502400500, "data": json.dumps(commit)},  # Date.now(), and type as direction
        {"type": "websocket.message", "timestamp": 1764502401_250_000_000, "message": done},  # time_ns()
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    recording = load(path)
    assert [env.type for env in recording.envelopes] == [
        "session.created",
        "input_audio_buffer.commit",
        "response.done",
    ]
    assert [env.direction for env in recording.envelopes] == [Direction.IN, Direction.OUT, Direction.IN]
    assert [round(env.mono - recording.envelopes[0].mono, 3) for env in recording.envelopes] == [0.0, 0.5, 1.25]
    assert recording.envelopes[1].data == commit


def test_a_line_that_is_an_unknown_event_with_a_data_field_stays_that_event(tmp_path: Path) -> None:
    line = {"type": "future.thing", "data": {"type": "inner", "x": 1}}
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(line) + "\n")
    (env,) = load(path).envelopes
    assert env.type == "future.thing"
    assert env.data == line


def test_a_browser_websocket_error_in_a_har_is_its_words_not_a_malformed_frame(tmp_path: Path) -> None:
    def add_error(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        error = {"type": "error", "time": messages[-1]["time"] + 0.5, "opcode": -1, "data": "Invalid frame header"}
        return [*messages, error]

    path = _har(tmp_path, add_error)
    recording = load(path)
    fact = recording.envelopes[-2]
    assert fact.direction is Direction.LOCAL
    assert fact.type == "rt.connection"
    assert fact.data["message"] == "the browser reported a WebSocket error: Invalid frame header"
    assert "state" not in fact.data  # the connection's state is the closing fact's to say
    assert [env.type for env in recording.envelopes].count("rt.malformed") == 1  # the golden's binary frame
    done = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, timeout=60)
    rules = [json.loads(line)["rule"] for line in done.stdout.splitlines()]
    assert "malformed-client-frame" not in rules and "unknown-server-event" not in rules


def test_har_messages_marked_base64_are_read_as_the_text_they_encode(tmp_path: Path) -> None:
    def encode(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in messages:
            if message["opcode"] == 1:
                message["data"] = base64.b64encode(message["data"].encode()).decode()
                message["encoding"] = "base64"
        return messages

    plain, encoded = load(HAR), load(_har(tmp_path, encode))
    assert [(env.type, env.data) for env in encoded.envelopes] == [(env.type, env.data) for env in plain.envelopes]


def test_a_har_whose_websockets_carry_no_messages_is_refused_in_plain_words_not_linted_clean(
    tmp_path: Path,
) -> None:
    path = _har(tmp_path, lambda messages: [])
    done = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "a HAR file without WebSocket messages: its WebSocket connection (wss://api.openai.com" in done.stderr
    assert "carries none (nothing to replay)" in done.stderr


def test_a_json_array_of_events_reads_as_the_jsonl_of_them_does(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in OWN_LOGGING.read_text().splitlines()]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(lines, indent=2))  # `json.dump(events, f, indent=2)`
    as_array, as_lines = load(path), load(OWN_LOGGING)
    assert as_array.kind == "json"
    assert [(e.direction, e.type, e.data, e.mono) for e in as_array.envelopes] == [
        (e.direction, e.type, e.data, e.mono) for e in as_lines.envelopes
    ]
    done = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    # The golden log's commit of 1 ms (as logged) was taken by the server: clean in both shapes.
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("events.json: 8 frames (json), 0 findings, 0 errors\n")
    assert done.stderr == "" and as_array.notes == []  # nothing was left out: no note says "left out 0"


def test_replay_json_puts_a_malformed_or_binary_frame_under_frame_as_proxy_json_does() -> None:
    done = subprocess.run([RT_TUI, "replay", "--json", str(HAR)], capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    binary = next(line for line in lines if line["type"] == "rt.malformed")
    assert binary["dir"] == "in"
    assert binary["frame"] == {"type": "rt.malformed", "message": "binary frame of 8 bytes"}
    assert "info" not in binary
    assert all(("info" in line) == (line["dir"] == "local") for line in lines)


def test_an_event_logged_with_its_direction_beside_its_fields_keeps_it_a_misspelt_client_event_is_an_error(
    tmp_path: Path,
) -> None:
    lines = [
        {"type": "session.created", "session": {"type": "realtime", "id": "sess_1"}},
        {"direction": "sent", "type": "input_audio_buffer.comit"},  # a typo the client sent
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    typo = load(path).envelopes[1]
    assert (typo.direction, typo.type) == (Direction.OUT, "input_audio_buffer.comit")
    done = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1  # not an unknown server event (info), which passed CI
    assert [json.loads(line)["rule"] for line in done.stdout.splitlines()] == ["unknown-client-event"]


def test_a_sessions_folder_replays_its_capture_and_another_folder_says_what_to_give(tmp_path: Path) -> None:
    session = tmp_path / "20261201-095653-0f19ae"
    session.mkdir()
    (session / "frames.jsonl").write_bytes(OWN_LOGGING.read_bytes())
    done = subprocess.run([RT_TUI, "lint", str(session)], capture_output=True, text=True, timeout=60)
    assert done.stdout.endswith("frames.jsonl: 8 frames (jsonl), 0 findings, 0 errors\n"), done.stderr
    assert load(session).path == session / "frames.jsonl"
    other = tmp_path / "other"
    other.mkdir()
    done = subprocess.run([RT_TUI, "replay", "--json", str(other)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"rt-tui replay: {other}: a directory without a frames.jsonl: give a recording file\n"


async def test_the_replay_app_shows_a_captures_cut_last_line_as_a_notice_not_only_behind_its_screen(
    tmp_path: Path,
) -> None:
    from tests.app_helpers import notices, replay_shown
    from tui.app import RtApp
    from tui.config import Settings
    from tui.replay import ReplayRequest
    from tui.replay.sources import with_notes_as_facts

    lines = [
        {"seq": 1, "dir": "in", "t": 0.0, "wall": 1.0, "type": "session.created", "size": 2, "frame": {}},
        {"seq": 2, "dir": "out", "t": 0.1, "wall": 1.1, "type": "response.create", "size": 2, "frame": {}},
    ]
    path = tmp_path / "frames.jsonl"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b'{"seq":3,"dir":"in","t":0.')
    recording = load(path)
    assert len(recording.notes) == 1
    assert with_notes_as_facts(load(HAR)).envelopes == load(HAR).envelopes  # no notes: nothing added
    # A HAR's note of a socket left out is shown too (it was said on stderr, behind the app's screen).
    har = load(_with_dev_server_socket(tmp_path, keep_realtime=True))
    assert har.notes and with_notes_as_facts(har).envelopes[-1].type == "rt.replay"
    shown = with_notes_as_facts(recording)
    assert [env.type for env in shown.envelopes] == ["session.created", "response.create", "rt.capture"]
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(shown))
    async with app.run_test(size=(140, 40)) as pilot:
        await replay_shown(pilot, app)
        assert ("Capture", recording.notes[0]) in notices(app)
        assert "line 3 is cut short" in recording.notes[0]


def _with_dev_server_socket(tmp_path: Path, *, keep_realtime: bool) -> Path:
    """The golden HAR with the page's Vite reload socket saved beside (or instead of) the Realtime one."""
    document = json.loads(HAR.read_text())
    reload_socket = {
        "startedDateTime": "2025-11-30T11:33:19.000Z",
        "request": {"url": "ws://localhost:5173/?token=vite-token-123", "headers": []},
        "_webSocketMessages": [
            {"type": "receive", "time": 1764500000.0, "opcode": 1, "data": '{"type":"connected"}'},
            {"type": "send", "time": 1764500001.0, "opcode": 1, "data": '{"type":"custom","event":"vite:x"}'},
            {"type": "receive", "time": 1764500030.0, "opcode": 1, "data": '{"type":"ping"}'},
        ],
    }
    entries = document["log"]["entries"] if keep_realtime else []
    document["log"]["entries"] = [reload_socket, *entries]
    path = tmp_path / "page.har"
    path.write_text(json.dumps(document))
    return path


def test_a_pages_other_websocket_in_the_har_is_left_out_with_a_note_not_linted_as_realtime(tmp_path: Path) -> None:
    path = _with_dev_server_socket(tmp_path, keep_realtime=True)
    recording, golden = load(path), load(HAR)
    assert [(e.type, e.data, e.mono) for e in recording.envelopes] == [
        (e.type, e.data, e.mono) for e in golden.envelopes
    ]
    assert recording.notes == [
        "left out the WebSocket connection to ws://localhost:5173/?token=***: none of its 3 messages is a "
        "Realtime event (another socket of the page)"
    ]
    done = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, timeout=60)
    rules = [json.loads(line)["rule"] for line in done.stdout.splitlines()]
    # The golden's, no more (its binary frame from the server is a malformed-server-frame).
    assert rules == ["item-create-audio-not-transcribed", "wav-header-in-audio", "malformed-server-frame"]
    assert "vite-token-123" not in done.stdout + done.stderr


def test_a_har_whose_websockets_carry_no_realtime_event_is_refused_in_plain_words(tmp_path: Path) -> None:
    path = _with_dev_server_socket(tmp_path, keep_realtime=False)
    done = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"rt-tui lint: {path}: a HAR file whose WebSocket connections carry no Realtime event "
        "(ws://localhost:5173/?token=***): nothing to replay\n"
    )


def test_a_log_that_also_records_other_things_keeps_its_events_and_says_what_it_left_out(tmp_path: Path) -> None:
    events = OWN_LOGGING.read_text().splitlines()
    other = json.dumps({"level": "info", "msg": "microphone opened", "device": "default"})
    path = tmp_path / "app.log.jsonl"
    path.write_text("\n".join([other, *events[:3], other, *events[3:]]) + "\n")
    recording, golden = load(path), load(OWN_LOGGING)
    assert [(e.type, e.data) for e in recording.envelopes] == [(e.type, e.data) for e in golden.envelopes]
    assert recording.notes == [
        "left out 2 lines with no Realtime event (lines 1, 5): the log's records of other things"
    ]
    done = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.endswith("app.log.jsonl: 8 frames (jsonl), 0 findings, 0 errors\n")
    assert "rt-tui lint: note: left out 2 lines with no Realtime event" in done.stderr
    as_array = tmp_path / "app.log.json"
    as_array.write_text(json.dumps([json.loads(line) for line in path.read_text().splitlines()]))
    assert load(as_array).notes == [
        "left out 2 elements with no Realtime event (elements 1, 5): the log's records of other things"
    ]


def test_a_log_with_no_realtime_event_at_all_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.log.jsonl"
    path.write_text('{"level":"info","msg":"a"}\n{"level":"info","msg":"b"}\n')
    done = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "line 1 has no Realtime event (an object with a string 'type')" in done.stderr


def test_a_log_timed_in_milliseconds_since_the_page_loaded_plays_at_its_pace(tmp_path: Path) -> None:
    lines = [
        {"time_ms": 1523.5, "direction": "in", "event": {"type": "session.created", "session": {}}},
        {"time_ms": 1810.0, "direction": "out", "event": {"type": "response.create"}},
        {"elapsed_ms": 2523.5, "direction": "in", "event": {"type": "response.done", "response": {}}},
    ]
    path = tmp_path / "browser.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    recording = load(path)
    assert recording.duration == pytest.approx(1.0)  # not 1000 s: `performance.now()` counts milliseconds
    assert recording.envelopes[1].mono - recording.envelopes[0].mono == pytest.approx(0.2865)


def test_lint_and_replay_json_with_standard_output_closed_answer_without_a_traceback() -> None:
    def closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
        # `>&-`: the process starts with fd 1 closed, and Python's sys.stdout is None.
        return subprocess.run(
            [RT_TUI, *args],
            stdout=subprocess.DEVNULL,
            capture_output=False,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            preexec_fn=lambda: os.close(1),
        )

    linted = closed_stdout("lint", str(HAR))
    assert (linted.returncode, linted.stderr) == (1, "")  # the verdict, as with >/dev/null
    replayed = closed_stdout("replay", "--json", str(HAR))
    assert replayed.returncode == 1
    assert replayed.stderr == "rt-tui replay: standard output is closed: nowhere to write the frames\n"
