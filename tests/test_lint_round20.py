"""A commit of under 100 ms that the server never answered is said (`commit-too-short`), naming the
commit, its appends and what ended first: the connection (its `rt.connection` fact, live, proxied or
recorded) or the recording (the linter's end of input). "I committed and nothing happened" is the
case a developer runs `rt-tui lint` for. A commit the server did answer is said as it always was.

The frames are real: a session recorded by `rt-tui send --local` against the simulator, a session
held with the simulator under server VAD, a client talking through the real proxy to a server that
drops it; each cut where the answer would have come.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from tests.lint_helpers import ga_session, speech
from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import b64, client, recv_until, running_simulator, scripted_peer, send, session_patch
from tui.journal import Journal
from tui.lint import Finding, lint_envelopes
from tui.model import new_model
from tui.replay import load

RT_TUI = str(Path(sys.executable).parent / "rt-tui")

ANSWERED = (
    "commits only 40 ms of audio (1,920 bytes of 24 kHz mono PCM16 appended since the session began): the server "
    "needs at least 100 ms and refuses the commit (input_audio_buffer_commit_empty), so no item is created and "
    "nothing is transcribed."
)
"""What `commit-too-short` says of the recorded commit the server refused (unchanged by this round)."""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The capture of a real session of the client's (`RealtimeSession` and its capture file) that
    commits 40 ms of speech to the simulator, which refuses the commit. (`rt-tui send` of 40 ms made
    it until round 27: `send` now refuses audio under 100 ms before connecting.)"""
    folder = tmp_path_factory.mktemp("recorded")
    capture = asyncio.run(_record_short_commit(folder))
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    # The capture's tail: the commit, the server's refusal, and the connection closed by rt-tui.
    assert [r["type"] for r in records[-3:]] == ["input_audio_buffer.commit", "error", "rt.connection"]
    assert records[-1]["info"]["state"] == "closed"
    return records


async def _record_short_commit(folder: Path) -> Path:
    """40 ms of speech appended and committed, in push-to-talk, up to the server's refusal."""
    from tui.bus import Bus, Mode
    from tui.session import FRAMES, CaptureWriter, RealtimeSession, new_session_dir, url_target

    async with running_simulator() as simulator:
        bus = Bus()
        feed = bus.subscribe(FRAMES, Mode.LOSSLESS)
        capture = CaptureWriter(new_session_dir(folder))
        session = RealtimeSession(url_target(simulator.url + "?model=gpt-realtime"), bus, capture=capture)
        await session.connect()
        session.send(session_patch())  # push-to-talk, no transcription: the commit alone
        while (await feed.get()).type != "session.updated":
            pass
        session.send({"type": "input_audio_buffer.append", "audio": b64(speech(40))})
        session.send({"type": "input_audio_buffer.commit"})
        while (await feed.get()).type != "error":
            pass
        await session.close()
        capture.close()
        return capture.path


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def _seq(records: list[dict[str, Any]], event_type: str) -> int:
    return int(next(r["seq"] for r in records if r["type"] == event_type))


def _lint(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RT_TUI, "lint", *args, str(path)], capture_output=True, text=True, timeout=60)


def _too_short(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "commit-too-short"]


def test_the_commit_the_server_refused_is_said_exactly_as_before(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = _write(tmp_path / "whole.jsonl", recorded)
    done = _lint(path)
    assert done.returncode == 1, done.stderr
    commit = _seq(recorded, "input_audio_buffer.commit")
    lines = done.stdout.splitlines()
    assert lines[0] == f"error: commit-too-short: input_audio_buffer.commit #{commit} {ANSWERED}"
    assert lines[-1].endswith(", 1 finding, 1 error")  # the end of the recording adds no second one
    assert "never answered" not in done.stdout
    journal = Journal()
    assert [f.rule for f in lint_envelopes(load(path).envelopes, journal)] == ["commit-too-short"]


def _without_the_session_s_own(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recording as a log that begins after the session's start (many do): no session.created or
    session.updated, so the linter knows no applied session."""
    return [r for r in records if r["type"] not in ("session.created", "session.updated")]


def test_a_log_without_the_session_s_start_still_says_the_refused_commit(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    records = _without_the_session_s_own(recorded)
    done = _lint(_write(tmp_path / "late.jsonl", records))
    commit, error = _seq(records, "input_audio_buffer.commit"), _seq(records, "error")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"error: commit-too-short: input_audio_buffer.commit #{commit} {ANSWERED}"
    assert f"#{error} error" in done.stdout  # the server's refusal is named beside it


def test_a_log_without_the_session_s_start_says_nothing_of_a_commit_the_server_took(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A review: a log that began after session.created, whose short commit the server answered with
    input_audio_buffer.committed, failed lint with `commit-too-short` (exit 1): a turn that worked.
    Its answer settles it, as it does with the session's start in the log."""
    records = _without_the_session_s_own(recorded)
    at = next(i for i, r in enumerate(records) if r["type"] == "error")
    committed = {"type": "input_audio_buffer.committed", "item_id": "item_1", "previous_item_id": None}
    records[at] = {**records[at], "type": committed["type"], "size": len(json.dumps(committed)), "frame": committed}
    done = _lint(_write(tmp_path / "took.jsonl", records))
    assert "commit-too-short" not in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_log_of_the_client_s_side_alone_still_says_the_short_commit(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """No server frame at all: nothing could answer the commit, so it is said as sent (not as "never
    answered"), once, at the recording's end."""
    records = [r for r in recorded if r["dir"] == "out"]
    done = _lint(_write(tmp_path / "client.jsonl", records))
    commit = _seq(records, "input_audio_buffer.commit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"error: commit-too-short: input_audio_buffer.commit #{commit} {ANSWERED}"
    assert "never answered" not in done.stdout and done.stdout.count("commit-too-short") == 1


def test_a_connection_closed_before_the_answer_says_the_commit_was_too_short_and_never_answered(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """What a capture holds when the connection ended between the commit and its answer."""
    records = [r for r in recorded if r["type"] != "error"]
    path = _write(tmp_path / "closed.jsonl", records)
    commit, append = _seq(records, "input_audio_buffer.commit"), _seq(records, "input_audio_buffer.append")
    closed = records[-1]["seq"]
    done = _lint(path)
    assert done.returncode == 1, done.stdout + done.stderr
    [said, fix, summary] = done.stdout.splitlines()
    assert said.startswith(f"error: commit-too-short: input_audio_buffer.commit #{commit} commits only 40 ms ")
    assert f"in input_audio_buffer.append #{append}:" in said
    assert (
        f"the server never answered this one: the connection ended (rt.connection #{closed}: closed by rt-tui) "
        "before any input_audio_buffer.committed or error for it" in said
    )
    assert "4,800 bytes" in fix
    assert summary.endswith(", 1 finding, 1 error")
    as_json = _lint(path, "--json")
    [record] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert record["rule"] == "commit-too-short" and as_json.returncode == 1
    assert [frame["seq"] for frame in record["frames"]] == [commit, append, closed]


def test_a_capture_cut_before_the_answer_is_said_at_the_end_of_the_recording(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    commit_at = next(i for i, r in enumerate(recorded) if r["type"] == "input_audio_buffer.commit")
    records = recorded[: commit_at + 1]  # no answer, and no close: the recording just stops
    path = _write(tmp_path / "cut.jsonl", records)
    model = new_model("cut")
    model.ingest(load(path).envelopes)
    linter = model.linter
    assert linter is not None
    assert _too_short(linter.take_changes()) == []  # the answer may still come: nothing said yet
    linter.finish()
    [found] = linter.take_changes()
    assert found.rule == "commit-too-short"
    commit = _seq(records, "input_audio_buffer.commit")
    assert found.message.startswith(f"input_audio_buffer.commit #{commit} commits only 40 ms of audio")
    assert "the server never answered this one: the recording ends before any" in found.message
    linter.finish()  # a second end says nothing more
    assert linter.take_changes() == []
    assert [f.rule for f in lint_envelopes(load(path).envelopes)] == ["commit-too-short"]


def test_rt_tui_lint_says_it_for_a_capture_cut_before_the_answer(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    commit = next(i for i, r in enumerate(recorded) if r["type"] == "input_audio_buffer.commit")
    done = _lint(_write(tmp_path / "cut.jsonl", recorded[: commit + 1]))
    assert "the server never answered this one: the recording ends" in done.stdout
    assert done.returncode == 1


def test_a_new_connection_after_an_unanswered_short_commit_says_it_once(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A capture of a reconnect: the first connection's commit unanswered, then a second connection."""
    commit = next(i for i, r in enumerate(recorded) if r["type"] == "input_audio_buffer.commit")
    first = recorded[: commit + 1]
    again = [r for r in recorded[:commit] if r["type"] != "rt.capture"]  # the connection's own records
    second = [{**r, "seq": len(first) + n + 1} for n, r in enumerate(again)]
    assert second[0]["type"] == "rt.connection" and second[0]["info"]["state"] == "connecting"
    findings = lint_envelopes(load(_write(tmp_path / "again.jsonl", first + second)).envelopes, Journal())
    [found] = _too_short(findings)
    assert f"the connection ended (rt.connection #{second[0]['seq']}: connecting to " in found.message


async def _vad_log(pcm: bytes, answer: str) -> list[dict[str, Any]]:
    """Own logging (one event per line, with its direction) of a session with the simulator's VAD
    on: `pcm` appended in 100 ms chunks, then committed, up to the server's `answer`."""
    log: list[dict[str, Any]] = []

    async def out(ws: Any, event: dict[str, Any]) -> None:
        log.append({"direction": "out", "event": event})
        await send(ws, event)

    async with running_simulator() as simulator, client(simulator.url) as ws:
        await out(ws, session_patch(vad=True))
        log += [{"direction": "in", "event": e} for e in await recv_until(ws, "session.updated")]
        for start in range(0, len(pcm), 4800):
            await out(ws, {"type": "input_audio_buffer.append", "audio": b64(pcm[start : start + 4800])})
        await out(ws, {"type": "input_audio_buffer.commit"})
        log += [{"direction": "in", "event": e} for e in await recv_until(ws, answer)]
    return log


async def test_under_server_vad_a_short_commit_never_answered_is_said_and_an_answered_one_as_before(
    tmp_path: Path,
) -> None:
    log = await _vad_log(speech(40), "error")
    assert log[-1]["event"]["error"]["code"] == "input_audio_buffer_commit_empty"
    whole = lint_envelopes(load(_write(tmp_path / "whole.jsonl", log)).envelopes, Journal())
    [answered] = _too_short(whole)
    assert "was refused by error" in answered.message and "never answered" not in answered.message
    commit = next(i for i, line in enumerate(log) if line["event"]["type"] == "input_audio_buffer.commit")
    cut = lint_envelopes(load(_write(tmp_path / "cut.jsonl", log[: commit + 1])).envelopes, Journal())
    [unanswered] = _too_short(cut)
    assert "only 40 ms of audio" in unanswered.message
    assert "the server never answered this one: the recording ends" in unanswered.message


async def test_under_server_vad_the_audio_of_a_commit_never_answered_is_still_judged(tmp_path: Path) -> None:
    """Under VAD a commit's audio is judged at the server's answer; when none comes, at the end."""
    log = await _vad_log(bytes(24000 * 2), "input_audio_buffer.committed")  # 1 s of digital silence
    whole = lint_envelopes(load(_write(tmp_path / "whole.jsonl", log)).envelopes, Journal())
    [answered] = [f for f in whole if f.rule == "silent-audio"]
    assert answered.message.startswith("input_audio_buffer.commit #") and "never answered" not in answered.message
    commit = next(i for i, line in enumerate(log) if line["event"]["type"] == "input_audio_buffer.commit")
    cut = lint_envelopes(load(_write(tmp_path / "cut.jsonl", log[: commit + 1])).envelopes, Journal())
    # Transcription is off in the log's session: said of the unanswered commit too (review 56c).
    assert [f.rule for f in cut] == ["transcription-off-at-commit", "silent-audio"]
    assert ", which the server never answered, commits 1.00 s of audio that is all zeros" in cut[1].message
    assert cut[1].frames[:2] == answered.frames[:2]  # the commit, then the first append


async def test_the_proxy_says_it_when_the_server_drops_the_client_after_a_short_commit(tmp_path: Path) -> None:
    """Live: a client's 40 ms commit through the real headless proxy to a server that drops the
    connection instead of answering; the finding is on the proxy's stderr."""

    async def upstream(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": ga_session(vad=False)}))
        async for raw in ws:
            if json.loads(raw)["type"] == "input_audio_buffer.commit":
                await ws.close(1011, "internal error")  # dropped: no answer to the commit
                return

    async with scripted_peer(upstream) as target:
        process = start_headless_proxy(tmp_path / "data", "--url", target, stdout=subprocess.DEVNULL)
        assert process.stderr is not None
        try:
            url, said = await listening_url(process.stderr, 30)
            async with connect(url + "?model=gpt-realtime") as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(speech(40))}))
                await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
                await ws.wait_closed()
            async with asyncio.timeout(30):
                while not any("commit-too-short" in line for line in said):
                    line = await asyncio.to_thread(process.stderr.readline)
                    assert line, "".join(said)
                    said.append(line)
        finally:
            process.terminate()
            process.communicate(timeout=10)
    [finding] = [line for line in said if "commit-too-short" in line]
    assert finding.startswith("[conn 1] error: commit-too-short: input_audio_buffer.commit #")
    assert "commits only 40 ms of audio" in finding
    assert "the server never answered this one: the connection ended" in finding


async def test_a_replay_of_a_capture_cut_before_the_answer_shows_the_finding_at_its_end(
    recorded: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The app's replay says it too, as `rt-tui lint` does, once the recording has played out."""
    from tests.app_helpers import wait_for
    from tui.app import RtApp
    from tui.config import Settings
    from tui.replay import ReplayRequest

    commit = next(i for i, r in enumerate(recorded) if r["type"] == "input_audio_buffer.commit")
    path = _write(tmp_path / "cut.jsonl", recorded[: commit + 1])
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(path)))
    async with app.run_test(size=(120, 32)) as pilot:
        assert app.player is not None and app.model.linter is not None
        linter = app.model.linter
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await wait_for(pilot, lambda: _too_short(linter.findings) != [], 10, "the finding")
        [found] = _too_short(linter.findings)
        assert "the recording ends" in found.message
        # Shown as any finding is: a notice (the views' next turn took it from the linter).
        shown = lambda: any("commit-too-short" in str(n.title) for n in app._notifications)  # noqa: E731
        await wait_for(pilot, shown, 10, "the finding's notice")
