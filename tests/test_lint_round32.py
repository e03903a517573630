"""lint on a developer's own log: a finding's `#N` is the record's line in the file (session 32's
review: it was the frame's position among the events, which the log's blank lines and its records
of other things moved away from the line an editor shows)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.audio_helpers import espeak_wav
from tests.journal_helpers import Clock, received, sent
from tests.lint_helpers import ga_created, lint, rules
from tests.test_lint import one
from tests.test_replay_inputs import rt_tui
from tests.test_send import run_cli
from tui.lint import Severity
from tui.protocol import Direction, Envelope, local_envelope, next_seq
from tui.server.testing import background_simulator

LOG = [
    {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
    },
    {"msg": "websocket connected", "level": "info"},  # the app's own record: no event
    {},
    {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "AAAA"}]},
    },
    {"type": "response.create"},
]


def test_a_finding_names_the_frame_by_its_line_in_a_jsonl_log(tmp_path: Path) -> None:
    lines = [json.dumps(record) if record else "" for record in LOG]  # line 3 is blank
    log = tmp_path / "client.jsonl"
    log.write_text("\n".join(lines) + "\n")
    done = rt_tui("lint", "--json", str(log))
    assert done.returncode == 1, done.stderr
    report = [json.loads(line) for line in done.stdout.splitlines()]  # one finding per line
    findings = [f for f in report if f["rule"] == "item-create-audio-not-transcribed"]
    assert findings, report
    assert re.search(r"conversation\.item\.create #4\b", findings[0]["message"]), findings[0]["message"]
    assert findings[0]["frames"][0]["seq"] == 4
    assert "line 2" in done.stderr  # the left-out record is named by its line too


def test_an_element_of_a_json_array_is_named_by_its_number(tmp_path: Path) -> None:
    log = tmp_path / "client.json"
    log.write_text(json.dumps([LOG[0], LOG[1], LOG[3]]))
    done = rt_tui("lint", str(log))
    assert done.returncode == 1, done.stderr
    assert "conversation.item.create #3 carries audio" in done.stdout, done.stdout


def test_times_in_a_form_not_read_are_said_not_dropped_unseen(tmp_path: Path) -> None:
    """A log timed as `12:03:04.100` (time of day only): its events were placed a millisecond
    apart without a word, so a replay's pacing and Δt said nothing true and nobody knew why."""
    records = [
        {"time": "12:03:04.100", "direction": "sent", "event": {"type": "response.create"}},
        {"time": "12:03:05.300", "direction": "received", "event": {"type": "response.created"}},
        {"time": "2025-11-30T12:03:06.000Z", "direction": "received", "event": {"type": "rate_limits.updated"}},
    ]
    log = tmp_path / "client.jsonl"
    log.write_text("".join(json.dumps(record) + "\n" for record in records))
    done = rt_tui("lint", str(log))
    assert '2 of the 3 events\' lines give a time in a form rt-tui does not read (line 1: time: "12:03:04.100")' in (
        done.stderr
    ), done.stderr
    log.write_text(json.dumps(records[0]) + "\n" + json.dumps(records[2]) + "\n")
    assert 'line 1 gives a time in a form rt-tui does not read (time: "12:03:04.100"): ' in (
        rt_tui("replay", "--json", str(log)).stderr
    )
    log.write_text(json.dumps(records[0]) + "\n" + json.dumps(records[1]) + "\n")
    both = rt_tui("lint", str(log), str(log)).stderr.splitlines()  # one of several: the note names its file
    assert both[0].startswith(f"rt-tui lint: {log}: note: every event's line gives a time in a form"), both
    log.write_text(json.dumps(records[2]) + "\n")
    assert "a form rt-tui does not read" not in rt_tui("lint", str(log)).stderr


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak_wav("turn on the kitchen lights", tmp_path_factory.mktemp("wav") / "q.wav")


#: A drop with both a reply and the user's transcript under way, on every run: `mid_response` holds
#: the transcript until the reply's first delta, and the socket goes right after the transcript's
#: first delta. (A drop after the reply's third audio delta raced the recognizer: on a slow or
#: cold run the transcript had completed by then, and only the reply was cut.)
MID_TURN_DROP = {"transcription": "mid_response", "drop_after": "conversation.item.input_audio_transcription.delta:1"}


def _send_and_lint(wav: Path, folder: Path, **faults: str) -> subprocess.CompletedProcess[str]:
    """`rt-tui send` against the real simulator with `faults`, then `rt-tui lint` of its capture."""
    with background_simulator() as sim:
        run_cli("send", str(wav), "--url", sim.url_for(**faults), env_extra={"RT_TUI_DATA_DIR": str(folder)})
    [capture] = folder.glob("sessions/*/frames.jsonl")
    return rt_tui("lint", str(capture))


@pytest.mark.parametrize(
    ("faults", "cut"),
    [
        # The reply had begun and the transcript's first words had come: both cut.
        (MID_TURN_DROP, "had begun and never completed"),
        # The transcript held until after the response: awaited when the socket went.
        ({"drop_after": "response.created:1", "transcription": "after_response"}, "was awaited"),
    ],
)
def test_a_connection_that_drops_with_a_turn_in_flight_is_a_finding(
    spoken_wav: Path, tmp_path: Path, faults: dict[str, str], cut: str
) -> None:
    """`send` said `connection dropped … (code 1006)` and exit 1; `lint` of the same capture said
    `0 findings` and exit 0: a CI gate passed a run whose user transcript never arrived."""
    done = _send_and_lint(spoken_wav, tmp_path, **faults)
    assert done.returncode == 1, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("error: connection-dropped: rt.connection #"), first
    assert "(code 1006), with work in flight: response resp_" in first, first
    assert "the transcription of item item_" in first and cut in first, first
    assert "the user's transcript stays null or partial" in first


def test_a_connection_that_ends_between_turns_or_as_agreed_is_no_finding(spoken_wav: Path, tmp_path: Path) -> None:
    done = _send_and_lint(spoken_wav, tmp_path)  # send closes with 1000 once the turn is done
    assert "connection-dropped" not in done.stdout, done.stdout


def test_a_frame_from_the_server_that_is_not_json_is_a_warning(spoken_wav: Path, tmp_path: Path) -> None:
    done = _send_and_lint(spoken_wav, tmp_path, malformed="not_json")
    assert done.returncode == 0, done.stdout  # the client's events were right
    assert re.search(
        r"^warning: malformed-server-frame: rt\.malformed #\d+: the server sent a frame that is not a JSON event "
        r"\(not JSON: ",
        done.stdout,
        re.MULTILINE,
    ), done.stdout


def _closed(code: int) -> Envelope:
    message = "connection dropped: no close frame from the server" if code == 1006 else "connection closed"
    return local_envelope("rt.connection", f"{message} (code {code})", state="closed", closed_by="network", code=code)


def _turn_answered_by_a_reply_in_progress(transcribed: bool) -> list[Envelope]:
    turn = [
        sent("input_audio_buffer.commit"),
        received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None),
        sent("response.create"),
        received("response.created", response={"id": "resp_1"}),
    ]
    if transcribed:
        turn.insert(2, received("conversation.item.input_audio_transcription.completed", item_id="item_1"))
    return turn


def test_a_drop_that_cuts_only_a_reply_is_a_warning_and_a_clean_close_is_nothing() -> None:
    on = ga_created(transcription="gpt-4o-transcribe", vad=False)
    findings, journal = lint(on, *_turn_answered_by_a_reply_in_progress(transcribed=True), _closed(1006))
    found = one(findings, "connection-dropped")
    assert found.severity is Severity.WARNING
    assert "with work in flight: response resp_1 was in progress (response.created #" in found.message
    assert "transcript" not in found.message
    assert [journal[i].type for i in found.frames] == ["rt.connection", "response.created"]
    for code in (1000, 1001, 1005):
        closed = lint(on, *_turn_answered_by_a_reply_in_progress(transcribed=False), _closed(code))[0]
        assert "connection-dropped" not in rules(closed)
    # Transcription off: no transcript was awaited, only the reply is cut.
    off = lint(ga_created(vad=False), *_turn_answered_by_a_reply_in_progress(transcribed=False), _closed(1011))[0]
    assert one(off, "connection-dropped").severity is Severity.WARNING
    # A new connection forgets the old one's work: its own clean end says nothing.
    reconnect = local_envelope("rt.connection", "connecting", state="connecting")
    again = lint(on, *_turn_answered_by_a_reply_in_progress(transcribed=False), reconnect, on, _closed(1006))[0]
    assert "connection-dropped" not in rules(again)


def test_several_recordings_are_checked_in_turn_each_named_by_its_path(spoken_wav: Path, tmp_path: Path) -> None:
    """`lint sessions/*/frames.jsonl` was refused (`unrecognized arguments`), and a summary named only
    `frames.jsonl`, which every capture is called: a CI log told its captures apart by nothing."""
    dropped = _send_and_lint(spoken_wav, tmp_path / "a", **MID_TURN_DROP)
    assert dropped.returncode == 1
    clean = _send_and_lint(spoken_wav, tmp_path / "b")
    assert clean.returncode == 0, clean.stdout
    captures = sorted(str(path) for path in tmp_path.glob("*/sessions/*/frames.jsonl"))
    done = rt_tui("lint", *captures)
    assert done.returncode == 1, done.stderr  # the worst of the two
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{captures[0]}: error: connection-dropped: "), lines[0]
    assert [line for line in lines if " frames (capture), " in line] == [
        f"{captures[0]}: {dropped.stdout.splitlines()[-1].split(': ', 1)[1]}",
        f"{captures[1]}: {clean.stdout.splitlines()[-1].split(': ', 1)[1]}",
    ]
    records = [json.loads(line) for line in rt_tui("lint", "--json", *captures).stdout.splitlines()]
    assert {record["file"] for record in records} == {captures[0]}
    unreadable = rt_tui("lint", captures[1], str(tmp_path / "missing.jsonl"))
    assert unreadable.returncode == 2 and "missing.jsonl" in unreadable.stderr
    assert " frames (capture), 0 findings" in unreadable.stdout  # the readable one is still checked
    assert rt_tui("lint", "-", "-").returncode == 2


def test_a_malformed_frame_s_finding_names_the_server_s_error_answering_it() -> None:
    """The log links the error to the frame it could not read; the finding named the frame alone."""
    bad = Envelope(next_seq(), Direction.OUT, "rt.malformed", {"type": "rt.malformed", "message": "not JSON"}, "{oops")
    answer = received("error", error={"type": "invalid_request_error", "code": "invalid_json", "message": "bad"})
    findings, journal = lint(ga_created(), bad, answer)
    found = one(findings, "malformed-client-frame")
    assert found.message.endswith(f" The server answered it with error #{answer.seq} (invalid_json).")
    assert [journal[i].seq for i in found.frames] == [bad.seq, answer.seq]
    assert rules(findings) == ["malformed-client-frame"]  # the error is its answer, not a finding of its own


def test_a_minimal_server_s_session_is_not_read_as_transcription_off() -> None:
    """A server whose session.created and session.updated hold only an id (a minimal local server, a
    test peer) was read as beta with transcription null: `transcription-off-at-commit` quoted an
    `input_audio_transcription: null` that no frame held, while the client had asked for it."""
    from tests.lint_helpers import b64, speech

    update = {"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}
    frames = [
        received("session.created", session={"id": "sess_min"}),
        sent("session.update", session=update),
        received("session.updated", session={"id": "sess_min"}),
        sent("input_audio_buffer.append", audio=b64(speech(1000))),
        sent("input_audio_buffer.commit"),
    ]
    findings, _ = lint(*frames)
    assert "transcription-off-at-commit" not in rules(findings) and "dialect-mismatch" not in rules(findings)
    # Asked for off, the same commit is warned about: what is known of it is what the client asked.
    off = {"type": "realtime", "audio": {"input": {"transcription": None}}}
    findings, _ = lint(frames[0], sent("session.update", session=off), *frames[2:])
    assert "transcription-off-at-commit" in rules(findings)


# -- a transcript that began and never completed, or never came, before a clean close -----------------


def _clean_close(clock: Clock) -> Envelope:
    mono = clock.tick()
    env = local_envelope("rt.connection", "closed by rt-tui", state="closed", closed_by="client", code=1000)
    return Envelope(env.seq, env.direction, env.type, env.data, env.raw, mono, 1.7e9 + mono)


def _transcribing_turn(clock: Clock, *, deltas: int, done: bool) -> list[Envelope]:
    turn = [
        sent("input_audio_buffer.commit", clock),
        received("input_audio_buffer.committed", clock, item_id="item_1", previous_item_id=None),
        sent("response.create", clock),
        received("response.created", clock, response={"id": "resp_1"}),
    ]
    turn += [
        received("conversation.item.input_audio_transcription.delta", clock, item_id="item_1", delta=f"word{n} ")
        for n in range(deltas)
    ]
    if done:
        turn.append(received("response.done", clock, response={"id": "resp_1", "status": "completed"}))
    return turn


def test_a_transcription_that_began_and_never_completed_is_a_warning() -> None:
    """A ten-minute turn: its transcription streamed 652 deltas, and the client closed before the
    `completed` came (`send` timed out). `lint` of the capture said 0 findings and exit 0: the
    transcript in the recording is partial, and a CI gate passed it."""
    on = ga_created(transcription="gpt-4o-transcribe", vad=False)
    clock = Clock(step=0.5)
    turn = _transcribing_turn(clock, deltas=3, done=True)
    findings, journal = lint(on, *turn, _clean_close(clock))
    found = one(findings, "transcript-incomplete")
    assert found.severity is Severity.WARNING
    delta = [env for env in turn if env.type.endswith(".delta")]
    assert found.message.startswith(
        f"The transcription of item item_1 (input_audio_buffer.committed #{turn[1].seq}) began (3 parts, from "
        f"conversation.item.input_audio_transcription.delta #{delta[0].seq} to "
        f"conversation.item.input_audio_transcription.delta #{delta[-1].seq}) but its "
        "conversation.item.input_audio_transcription.completed never came before the connection ended "
        "(rt.connection #"
    ), found.message
    assert ", 1.0 s after the last): the transcript is partial" in found.message
    assert "names item_id item_1" in found.fix
    assert journal[found.frames[0]].type.endswith(".delta")
    assert "transcript-never-came" not in rules(findings)
    # Completed, or failed: nothing to say. A drop: connection-dropped says it (not twice).
    came = received("conversation.item.input_audio_transcription.completed", clock, item_id="item_1", transcript="x")
    assert "transcript-incomplete" not in rules(lint(on, *turn, came, _clean_close(clock))[0])
    dropped = rules(lint(on, *turn, _closed(1006))[0])
    assert "connection-dropped" in dropped and "transcript-incomplete" not in dropped
    # A recording that ends mid-transcription with no reply ended since: too soon to tell; after one, said.
    assert "transcript-incomplete" not in rules(lint(on, *_transcribing_turn(Clock(), deltas=2, done=False))[0])
    assert "transcript-incomplete" in rules(lint(on, *_transcribing_turn(Clock(), deltas=2, done=True))[0])


def test_a_transcript_that_never_came_before_a_close_long_after_the_commit_is_said() -> None:
    """A stalled server: commit, committed, response.created, then nothing until the client gave up
    and closed 8 s later. No reply ended, so `transcript-never-came` said nothing: the close long
    after the commit says as much. A close soon after it says nothing."""
    on = ga_created(transcription="gpt-4o-transcribe", vad=False)
    slow = Clock(step=2.0)
    turn = _transcribing_turn(slow, deltas=0, done=False)
    found = one(lint(on, *turn, _clean_close(slow))[0], "transcript-never-came")
    assert "came before the connection ended (rt.connection #" in found.message
    assert "6.0 s after it): its transcript is null in this recording, and no reply ended either" in found.message
    quick = Clock(step=1.0)
    assert rules(lint(on, *_transcribing_turn(quick, deltas=0, done=False), _clean_close(quick))[0]) == []


def test_lint_of_a_send_that_timed_out_on_a_stalled_server_says_the_transcript_never_came(
    spoken_wav: Path, tmp_path: Path
) -> None:
    """`send --timeout 6` against a simulator that stalls after response.created: send says the
    transcript did not arrive and exits 1; lint of its capture said 0 findings."""
    with background_simulator() as sim:
        url = sim.url_for(stall_after="response.created:1")
        sent_ = run_cli(
            "send", "--timeout", "6", str(spoken_wav), "--url", url, env_extra={"RT_TUI_DATA_DIR": str(tmp_path)}
        )
    assert sent_.returncode == 1, sent_.stdout + sent_.stderr
    [capture] = tmp_path.glob("sessions/*/frames.jsonl")
    done = rt_tui("lint", str(capture))
    assert done.returncode == 0, done.stdout  # a warning: the default fails on errors only
    failing = rt_tui("lint", "--fail-on", "warning", str(capture))
    assert failing.returncode == 1 and failing.stdout == done.stdout, failing.stdout
    assert re.search(
        r"^warning: transcript-never-came: input_audio_buffer\.commit #\d+ committed item item_",
        done.stdout,
        re.MULTILINE,
    ), done.stdout
    assert "allowing for the turn's length" in done.stdout and "the server has stalled: reconnect" in done.stdout
    assert rt_tui("lint", "--fail-on", "info", str(capture)).returncode == 1


def test_lint_json_has_the_same_keys_for_one_file_as_for_several(tmp_path: Path) -> None:
    """`.file` was null for one file and a path for several, `.capture` there only for joined
    captures: a script had to know how many files it gave to read them."""
    log = tmp_path / "mine.jsonl"
    log.write_text('{"type":"input_audio_buffer.commit"}\n{"type":"input_audio_buffer.commit"}\n')
    alone = [json.loads(line) for line in rt_tui("lint", "--json", str(log)).stdout.splitlines()]
    both = [json.loads(line) for line in rt_tui("lint", "--json", str(log), str(log)).stdout.splitlines()]
    assert alone and len(both) == 2 * len(alone)
    assert [list(record) for record in alone] == [list(record) for record in both[: len(alone)]]
    assert all(record["file"] == str(log) and record["capture"] is None for record in alone + both)
