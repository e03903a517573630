"""`rt-tui send FILE`: the real console script, a real WAV with its header, the embedded simulator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.audio_helpers import espeak_wav

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"


def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([RT_TUI, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = espeak_wav("what is the weather like in London today", tmp_path_factory.mktemp("wav") / "q.wav")
    info = soundfile.info(path)
    assert info.samplerate == 22050 and path.read_bytes()[:4] == b"RIFF"  # a real WAV, header and all
    return path


def test_send_local_prints_both_sides(question_wav: Path) -> None:
    result = run_cli("send", str(question_wav), "--local")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("user: ") and "weather" in lines[0].lower()
    assert lines[1].startswith("assistant: ") and "weather" in lines[1].lower()
    assert "textual" not in result.stderr.lower()


def test_send_decodes_a_stereo_44k_mp3(question_wav: Path, tmp_path: Path) -> None:
    """Phones and browsers hand people MP3s: decoded, downmixed and resampled, never sent as a file."""
    samples, rate = soundfile.read(question_wav, dtype="float32")
    mp3 = tmp_path / "question.mp3"
    import numpy as np
    import soxr

    stereo = np.stack([soxr.resample(samples, rate, 44100)] * 2, axis=1)
    soundfile.write(mp3, stereo, 44100, format="MP3")
    info = soundfile.info(mp3)
    assert (info.format, info.samplerate, info.channels) == ("MP3", 44100, 2)
    result = run_cli("send", str(mp3), "--local")
    assert result.returncode == 0, result.stderr
    user, assistant = result.stdout.strip().splitlines()[:2]
    assert user.startswith("user: ") and "weather" in user.lower()
    assert assistant.startswith("assistant: ")


def test_send_json_prints_every_frame_in_both_directions(question_wav: Path, tmp_path: Path) -> None:
    result = run_cli("send", str(question_wav), "--local", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    types = [(r["dir"], r["type"]) for r in records]
    assert ("out", "session.update") in types
    assert ("out", "input_audio_buffer.append") in types
    assert ("in", "conversation.item.input_audio_transcription.completed") in types
    assert ("in", "response.done") in types
    completed = next(r for r in records if r["type"] == "conversation.item.input_audio_transcription.completed")
    assert "weather" in completed["frame"]["transcript"].lower()
    # The audio went through the buffer as raw PCM: the first chunk does not start with a RIFF header.
    import base64

    first_append = next(r for r in records if r["type"] == "input_audio_buffer.append")
    assert not base64.b64decode(first_append["frame"]["audio"]).startswith(b"RIFF")


def test_send_with_transcription_off_says_so(question_wav: Path) -> None:
    result = run_cli("send", str(question_wav), "--local", "--no-transcription")
    assert result.returncode == 0, result.stderr
    # The linter warns of it (transcription-off-at-commit): a turn that completed says nothing of that.
    assert result.stderr == ""
    assert "transcription is off" in result.stdout.splitlines()[0]
    assert "weather" in result.stdout.splitlines()[1].lower()  # the model still heard it


def test_send_writes_a_capture_file(question_wav: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_cli("send", str(question_wav), "--local", env_extra={"RT_TUI_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    captures = list(data_dir.glob("sessions/*/frames.jsonl"))
    assert len(captures) == 1
    records = [json.loads(line) for line in captures[0].read_text().splitlines()]
    assert [r["type"] for r in records[:2]] == ["rt.capture", "rt.connection"]  # the file named, then the connection
    assert any(r["type"] == "response.done" for r in records)


def test_send_failures_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    missing = run_cli("send", str(tmp_path / "nope.wav"), "--local")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "nope.wav" in missing.stderr
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + os.urandom(200))
    bad = run_cli("send", str(garbage), "--local")
    assert bad.returncode == 2 and bad.stderr.startswith("rt-tui send:")


def test_send_to_an_unreachable_url_exits_1_with_a_reason(question_wav: Path) -> None:
    result = run_cli("send", str(question_wav), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "refused" in result.stderr or "cannot reach" in result.stderr


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ws://127.0.0.1:99999/v1/realtime?api-key=url-secret-1", "Port out of range"),
        ("ws://[::1/v1/realtime?api-key=url-secret-1", "Invalid IPv6 URL"),
        ("http://127.0.0.1:8765/v1/realtime?api-key=url-secret-1", "not a WebSocket URL"),
    ],
)
def test_send_to_a_malformed_url_exits_2_with_one_line_and_no_secret(question_wav: Path, url: str, why: str) -> None:
    result = run_cli("send", str(question_wav), "--url", url)
    assert result.returncode == 2, result.stderr  # a usage error, as in proxy, replay and lint
    assert result.stderr.startswith("rt-tui send: ") and result.stderr.strip().count("\n") == 0, result.stderr
    assert why in result.stderr and "Traceback" not in result.stderr
    assert "url-secret-1" not in result.stderr


def test_send_openai_without_a_key_says_what_to_do(question_wav: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [RT_TUI, "send", str(question_wav), "--openai"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr


def test_send_help_works_without_textual() -> None:
    result = run_cli("send", "--help")
    assert result.returncode == 0 and "--json" in result.stdout


def test_send_with_a_wrong_or_missing_key_is_refused_without_leaking_it(question_wav: Path) -> None:
    from tui.server.testing import background_simulator

    right, wrong = "test-key-right-0123456789abcd", "test-key-wrong-9876543210zyxw"
    with background_simulator(api_key=right) as sim:
        url = sim.url_for()
        refused = run_cli("send", str(question_wav), "--url", url, env_extra={"RT_TUI_API_KEY": wrong})
        assert refused.returncode == 1
        assert "invalid_api_key" in refused.stderr and "3000" in refused.stderr
        assert wrong not in refused.stderr + refused.stdout
        missing = run_cli("send", str(question_wav), "--url", url)
        assert missing.returncode == 1 and "3000" in missing.stderr
        assert "OPENAI_API_KEY goes only to --openai" not in missing.stderr  # no key anywhere
        assert "(rt-tui sent no key: for a --url, export RT_TUI_API_KEY=KEY)" in missing.stderr  # but where one goes
        # The key in the variable a --url does not read: the refusal says where it belongs.
        misplaced = run_cli("send", str(question_wav), "--url", url, env_extra={"OPENAI_API_KEY": right})
        assert misplaced.returncode == 1 and "3000" in misplaced.stderr
        assert "rt-tui sent no key: OPENAI_API_KEY goes only to --openai; for a --url, export RT_TUI_API_KEY" in (
            misplaced.stderr
        )
        assert right not in misplaced.stderr + misplaced.stdout
        accepted = run_cli("send", str(question_wav), "--url", url, env_extra={"RT_TUI_API_KEY": right})
        assert accepted.returncode == 0, accepted.stderr
        assert "weather" in accepted.stdout.lower()


def test_send_prints_what_arrived_when_the_connection_drops(question_wav: Path) -> None:
    from tui.server.testing import background_simulator

    with background_simulator() as sim:
        # The transcript is held until after response.done, and the socket drops right then.
        url = sim.url_for(transcription="after_response", drop_after="response.done:1")
        result = run_cli("send", str(question_wav), "--url", url)
    assert result.returncode == 1
    assert "assistant:" in result.stdout and "weather" in result.stdout.lower()  # the reply is not lost
    assert result.stderr.startswith("rt-tui send:")


def test_send_keeps_a_reply_cut_off_by_a_drop_and_exits_1(question_wav: Path) -> None:
    import asyncio

    from tui.server.testing import realtime_simulator

    async def run() -> subprocess.CompletedProcess[str]:
        async with realtime_simulator() as sim:
            url = sim.url_for(drop_after="response.output_audio_transcript.delta:3")
            return await asyncio.to_thread(run_cli, "send", str(question_wav), "--url", url)

    result = asyncio.run(run())
    assert result.returncode == 1
    user, assistant = result.stdout.strip().splitlines()
    assert "weather" in user.lower()
    # What arrived before the drop is printed, marked, and the reason is one line on stderr.
    assert assistant.startswith("assistant: ") and assistant.endswith("(incomplete)")
    failure, lint = failure_and_lint(result.stderr)
    assert "1006" in failure and "(connection-dropped)" in lint  # a reply cut: a warning
    assert lint.startswith("rt-tui send: lint: 1 warning in the turn")


def test_send_reads_the_url_from_the_environment_and_warns_about_credentials_in_argv(question_wav: Path) -> None:
    """A URL that carries credentials belongs in RT_TUI_URL, out of `ps`; inline, it is used but warned about."""
    from tui.server.testing import background_simulator

    with background_simulator() as sim:
        url = sim.url_for() + "&api-key=inline-secret-12345"  # the simulator ignores a key it did not ask for
        from_env = run_cli("send", str(question_wav), env_extra={"RT_TUI_URL": url})
        inline = run_cli("send", str(question_wav), "--url", url)
    assert from_env.returncode == 0, from_env.stderr
    assert "weather" in from_env.stdout.lower() and "warning" not in from_env.stderr
    assert inline.returncode == 0, inline.stderr
    [warning] = inline.stderr.splitlines()
    assert warning.startswith("rt-tui send: warning: --url carries credentials (api-key=)") and "RT_TUI_URL" in warning
    assert "inline-secret-12345" not in inline.stderr + inline.stdout


def test_send_exits_non_zero_when_the_capture_fails_and_still_completes_the_turn(
    question_wav: Path, tmp_path: Path
) -> None:
    """A real write error (the kernel's file-size limit): one line on stderr, exit 1, the turn printed."""
    import resource

    from tui.server.testing import background_simulator

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    data_dir = tmp_path / "data"
    with background_simulator() as sim:
        result = subprocess.run(
            [RT_TUI, "send", str(question_wav), "--url", sim.url_for()],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
            preexec_fn=small_files,
        )
    assert result.returncode == 1
    assert "weather" in result.stdout.lower() and result.stdout.startswith("user: ")  # the session went on
    [line] = result.stderr.splitlines()
    assert line.startswith("rt-tui send: capture failed: File too large writing ") and "whole frames" in line
    [capture] = data_dir.glob("sessions/*/frames.jsonl")
    assert capture.read_bytes().endswith(b"\n")
    assert all(json.loads(raw) for raw in capture.read_text().splitlines())  # whole lines only


def test_send_reports_a_frame_over_its_limit_as_refused_by_rt_tui(question_wav: Path) -> None:
    import asyncio

    from websockets.asyncio.server import ServerConnection

    from tests.server_helpers import scripted_peer

    async def big_reply(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_big"}}))
        async for message in ws:
            if json.loads(message)["type"] == "session.update":
                try:
                    await ws.send(json.dumps({"type": "session.updated", "session": {"pad": "x" * 3_000_000}}))
                except Exception:  # noqa: BLE001 - the client hangs up mid-frame, as it should
                    return

    async def run() -> subprocess.CompletedProcess[str]:
        async with scripted_peer(big_reply) as url:
            return await asyncio.to_thread(run_cli, "send", str(question_wav), "--url", url, "--max-frame-mib", "2")

    result = asyncio.run(run())
    assert result.returncode == 1
    assert result.stderr.startswith(
        "rt-tui send: server sent a frame of 3.0 MB, over the 2 MiB limit: rt-tui closed the connection (1009)"
    ), result.stderr
    # And the linter's line, as for any failed turn with errors: the rule, and where its fix is.
    said = result.stderr.splitlines()
    assert len(said) == 2 and said[1].startswith("rt-tui send: lint: 1 error in the turn (frame-refused)"), said


async def test_a_send_refused_by_a_closed_session_reports_why_the_connection_ended() -> None:
    """The reader may close the session (here 1007) while `send` still waits on an earlier frame:
    the append that finds it closed must report the close, not "the session is closed"."""
    from tui.bus import Bus
    from tui.protocol import Direction, Envelope, local_envelope
    from tui.send import _Turn
    from tui.session import FRAMES

    bus = Bus()
    turn = _Turn(bus.subscribe(FRAMES), json_out=False)
    updated = '{"type":"session.updated","session":{}}'
    bus.publish(FRAMES, Envelope(1, Direction.IN, "session.updated", json.loads(updated), updated))
    reason = "rt-tui closed the connection (code 1007: invalid continuation byte)"
    bus.publish(FRAMES, local_envelope("rt.connection", reason, state="closed"))
    await turn.until(lambda: turn.seen["session.updated"] > 0, 1, "session.updated")
    assert turn.ended is None  # the close waits in the queue, as it did in the race
    assert await turn.why_it_ended(timeout=1) == reason
    fresh = _Turn(bus.subscribe(FRAMES), json_out=False)
    assert await fresh.why_it_ended(timeout=0.05) is None  # nothing ended: the send's own error stands


def scripted_turn(
    transcript: str, reply: str, refuse_every: int = 0, fail: dict[str, Any] | None = None, *, output: bool = True
) -> Any:
    """A scripted server for one `send` turn that says `transcript` and answers `reply`; with
    `refuse_every`, every n-th audio append is refused with an error naming it (and the same text);
    with `fail` (an error object), the response fails: that `error` event, then `response.done`
    with status failed and the error in its status_details. Without `output`, the response adds
    no item (it fails before its first)."""
    from websockets.asyncio.server import ServerConnection

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        appends = 0
        async for message in ws:
            event = json.loads(message)
            kind = event["type"]
            if kind == "session.update":
                await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_s"}}))
            elif kind == "input_audio_buffer.append":
                appends += 1
                if refuse_every and appends % refuse_every == 0:
                    error = {"type": "invalid_request_error", "code": "invalid_value", "event_id": event["event_id"]}
                    error["message"] = "Invalid 'audio': the input audio buffer is full"
                    await ws.send(json.dumps({"type": "error", "error": error}))
            elif kind == "input_audio_buffer.commit":
                user = {"id": "item_u", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
                await ws.send(json.dumps({"type": "input_audio_buffer.committed", "item_id": "item_u"}))
                await ws.send(json.dumps({"type": "conversation.item.added", "previous_item_id": None, "item": user}))
                completed = {"item_id": "item_u", "content_index": 0, "transcript": transcript}
                await ws.send(
                    json.dumps({"type": "conversation.item.input_audio_transcription.completed", **completed})
                )
            elif kind == "response.create":
                content = [{"type": "output_text", "text": reply}]
                item = {
                    "id": "item_a",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": content,
                }
                await ws.send(json.dumps({"type": "response.created", "response": {"id": "resp_e"}}))
                if output:
                    await ws.send(
                        json.dumps({"type": "conversation.item.added", "previous_item_id": "item_u", "item": item})
                    )
                done: dict[str, Any] = {"id": "resp_e", "status": "completed"}
                if fail is not None:
                    await ws.send(json.dumps({"type": "error", "error": {**fail, "message": "Rate limit hit"}}))
                    done = {"id": "resp_e", "status": "failed", "status_details": {"type": "failed", "error": fail}}
                await ws.send(json.dumps({"type": "response.done", "response": done}))

    return peer


def send_to(peer: Any, wav: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import asyncio

    from tests.server_helpers import scripted_peer

    async def run() -> subprocess.CompletedProcess[str]:
        async with scripted_peer(peer) as url:
            return await asyncio.to_thread(run_cli, "send", str(wav), "--url", url, env_extra=env_extra)

    return asyncio.run(run())


def test_send_prints_server_control_sequences_as_symbols(question_wav: Path) -> None:
    """A transcript or reply carrying terminal control sequences is printed as text a terminal
    shows (ESC as ␛), never as an instruction to it (an OSC 52 clipboard write here)."""
    evil = "\x1b]52;c;cHduZWQ=\x07"
    result = send_to(scripted_turn(f"heard {evil} this", f"said {evil} that"), question_wav)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "user: heard ␛]52;c;cHduZWQ=␇ this" in result.stdout
    assert "assistant: said ␛]52;c;cHduZWQ=␇ that" in result.stdout


@pytest.mark.parametrize("when", ["at-connect", "mid-turn"])
def test_send_prints_a_refusal_and_a_close_reason_with_control_sequences_as_symbols(
    question_wav: Path, when: str
) -> None:
    """The server's words in why the turn ended (an error refusing the session, a close reason)
    reach stderr as text a terminal shows: an OSC 52 there wrote the user's clipboard."""
    evil = "\x1b]52;c;cHduZWQ=\x07\u202e"
    from websockets.asyncio.server import ServerConnection

    async def peer(ws: ServerConnection) -> None:
        if when == "at-connect":
            error = {"type": "invalid_request_error", "code": "bad_key", "message": f"no {evil} way"}
            await ws.send(json.dumps({"type": "error", "error": error}))
            await ws.close(4000, f"bye {evil}")
            return
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        async for message in ws:
            if json.loads(message)["type"] == "input_audio_buffer.commit":
                await ws.close(4000, f"bye {evil}")
                return
            if json.loads(message)["type"] == "session.update":
                await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_s"}}))

    result = send_to(peer, question_wav)
    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\u202e" not in result.stderr
    said = "no ␛]52;c;cHduZWQ=␇⟨U+202E⟩ way" if when == "at-connect" else "bye ␛]52;c;cHduZWQ=␇⟨U+202E⟩"
    assert said in result.stderr, result.stderr


def test_ctrl_c_prints_what_arrived_says_interrupted_and_exits_130(question_wav: Path) -> None:
    """Ctrl+C while the reply is awaited: the transcript that arrived is printed (as after a drop),
    stderr says why the rest is missing, no traceback, exit 130."""
    import asyncio
    import signal

    from websockets.asyncio.server import ServerConnection

    from tests.server_helpers import scripted_peer

    async def run() -> subprocess.CompletedProcess[str]:
        asked = asyncio.Event()

        async def peer(ws: ServerConnection) -> None:
            await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
            async for message in ws:
                kind = json.loads(message)["type"]
                if kind == "session.update":
                    heard = {"input": {"transcription": {"model": "whisper-1"}}}
                    session = {"id": "sess_s", "type": "realtime", "audio": heard}
                    await ws.send(json.dumps({"type": "session.updated", "session": session}))
                elif kind == "input_audio_buffer.commit":
                    user = {"id": "item_u", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
                    added = {"type": "conversation.item.added", "previous_item_id": None, "item": user}
                    await ws.send(json.dumps(added))
                    done = {"item_id": "item_u", "content_index": 0, "transcript": "heard you"}
                    await ws.send(json.dumps({"type": "conversation.item.input_audio_transcription.completed", **done}))
                    # Committed last: `send` asks for the response once it is, so the transcript is in.
                    await ws.send(json.dumps({"type": "input_audio_buffer.committed", "item_id": "item_u"}))
                elif kind == "response.create":
                    asked.set()  # and never answer it

        async with scripted_peer(peer) as url:
            process = await asyncio.create_subprocess_exec(
                RT_TUI, "send", str(question_wav), "--url", url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            await asyncio.wait_for(asked.wait(), 60)
            process.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(process.communicate(), 30)
            assert process.returncode is not None
            return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())

    result = asyncio.run(run())
    assert result.returncode == 130, result.stderr
    assert result.stdout == "user: heard you\n"
    assert result.stderr == "rt-tui send: interrupted\n"


def test_refused_audio_stops_the_turn_uncommitted_in_one_line(question_wav: Path, tmp_path: Path) -> None:
    """Audio the server refused (a long file overflowing its buffer drew 6,000 identical lines and
    could exit 0; then it was one counted line, but the rest of the file was still sent and the
    part the server took committed, answered as if it were the turn): the first refusal stops the
    turn, nothing is committed, and one line says where in the file and why; exit 1."""
    result = send_to(scripted_turn("partly heard", "a reply"), question_wav)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    # A minute of audio (571 appends of 100 ms): the refusals come while it is still being sent.
    long_wav = tmp_path / "minute.wav"
    soundfile.write(long_wav, np.tile(soundfile.read(question_wav, dtype="int16")[0], 25), 22050, subtype="PCM_16")
    data = tmp_path / "data"
    result = send_to(scripted_turn("partly heard", "a reply", refuse_every=3), long_wav, {"RT_TUI_DATA_DIR": str(data)})
    assert result.returncode == 1
    assert result.stdout == ""  # no turn: no transcript of part of it, no reply to it
    line, lint = failure_and_lint(result.stderr)
    assert line.startswith("rt-tui send: the server refused the audio at 0.2 s of 57.1 s: "), line
    # The refusals, one error repeated, are one finding that counts them (review 56d), not a line each.
    assert re.search(r"lint: 1 error in the turn \(server-error\)", lint), lint
    assert line.endswith(": invalid_value: Invalid 'audio': the input audio buffer is full; nothing was committed")
    sent = [r["type"] for r in capture_records(data) if r["dir"] == "out"]
    assert "input_audio_buffer.commit" not in sent and "response.create" not in sent
    assert sent.count("input_audio_buffer.append") < 200  # stopped, not the whole file sent (571)


def capture_records(data_dir: Path) -> list[dict[str, Any]]:
    """The records of the one capture file `send` wrote under RT_TUI_DATA_DIR."""
    [capture] = data_dir.glob("sessions/*/frames.jsonl")
    return [json.loads(line) for line in capture.read_text().splitlines()]


def failure_and_lint(stderr: str) -> tuple[str, str]:
    """A failed turn's stderr: its one line, then the linter's one line (what it found, counted by
    rule, and the `rt-tui lint` command that says why)."""
    failure, lint = stderr.splitlines()
    assert lint.startswith("rt-tui send: lint: ") and " in the turn (" in lint, lint
    assert "; why, with the fix: rt-tui lint " in lint and lint.endswith("frames.jsonl"), lint
    return failure, lint


def test_send_json_prints_every_record_of_the_capture_through_the_close(question_wav: Path, tmp_path: Path) -> None:
    """`--json` prints the capture file's records: all of them, in order, the last (the close
    rt-tui records after the turn) included."""
    data_dir = tmp_path / "data"
    result = run_cli("send", str(question_wav), "--local", "--json", env_extra={"RT_TUI_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    on_disk = capture_records(data_dir)
    assert [r["seq"] for r in printed] == [r["seq"] for r in on_disk]
    assert printed == on_disk  # record for record
    assert on_disk[-1]["type"] == "rt.connection" and on_disk[-1]["info"]["message"] == "closed by rt-tui"
    # The first names the file, as the app's and the proxy's captures do: a script can lint it.
    [capture] = data_dir.glob("sessions/*/frames.jsonl")
    assert printed[0]["type"] == "rt.capture" and printed[0]["info"]["path"] == str(capture)


def test_a_reply_completed_before_the_timeout_is_not_marked_incomplete(question_wav: Path, tmp_path: Path) -> None:
    """The transcript is held back for a minute, the reply is done in about 1.5 s, and the timeout
    (6 s) ends the wait for the transcript: the reply is printed whole, unmarked; the user line says
    the transcript did not arrive in time; a timeout is a failed turn (exit 1), as the README says."""
    from tui.server.testing import background_simulator

    data_dir = tmp_path / "data"
    with background_simulator(warm=True) as sim:
        url = sim.url_for(transcription_delay_ms=60_000)
        result = run_cli(
            "send", str(question_wav), "--url", url, "--timeout", "6", env_extra={"RT_TUI_DATA_DIR": str(data_dir)}
        )
    records = capture_records(data_dir)
    [done] = [r["frame"]["response"] for r in records if r["type"] == "response.done"]
    assert done["status"] == "completed"  # the premise: the reply was over before the timeout
    assert not any(r["type"].startswith("conversation.item.input_audio_transcription.") for r in records)
    reply = " ".join(part["transcript"] for item in done["output"] for part in item["content"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "user: (the transcript did not arrive within 6 s)",
        f"assistant: {reply}",
    ]
    failure, lint = failure_and_lint(result.stderr)
    said = "rt-tui send: timed out after 6 s waiting for the user's transcript (the response is done)"
    # The reply ended some 4.5 s before the timeout: a slow run makes it 5 s, and the line says so.
    assert re.fullmatch(re.escape(said) + r"(: the server sent nothing in its last [5-6] s)?", failure), failure
    assert "(transcript-never-came)" in lint


def test_a_timeout_says_when_the_server_went_quiet(question_wav: Path, tmp_path: Path) -> None:
    """A stuck model keeps the socket open and answers pings: the timeout said only what was still
    awaited, the same line as for a server slow to finish. It now says how long it had been quiet."""
    from tui.server.testing import background_simulator

    with background_simulator(warm=True) as sim:
        url = sim.url_for(stall_after="response.created:1", stall_ms=120_000)
        result = run_cli(
            "send", str(question_wav), "--url", url, "--timeout", "12", env_extra={"RT_TUI_DATA_DIR": str(tmp_path)}
        )
    assert result.returncode == 1
    failure = result.stderr.splitlines()[0]
    quiet = re.fullmatch(
        r"rt-tui send: timed out after 12 s waiting for .*: the server sent nothing in its last (\d+) s", failure
    )
    assert quiet is not None, failure
    assert 5 <= int(quiet.group(1)) <= 12, failure


def test_a_transcript_cut_off_by_a_drop_is_marked_incomplete(question_wav: Path, tmp_path: Path) -> None:
    """The connection drops right after the second transcription delta, so `.completed` never
    comes: the words that arrived are printed, marked as still coming, like a cut-off reply."""
    from tui.server.testing import background_simulator

    data_dir = tmp_path / "data"
    with background_simulator() as sim:
        url = sim.url_for(drop_after="conversation.item.input_audio_transcription.delta:2")
        result = run_cli("send", str(question_wav), "--url", url, env_extra={"RT_TUI_DATA_DIR": str(data_dir)})
    records = capture_records(data_dir)
    deltas = [r["frame"]["delta"] for r in records if r["type"] == "conversation.item.input_audio_transcription.delta"]
    assert len(deltas) == 2
    assert not any(r["type"] == "conversation.item.input_audio_transcription.completed" for r in records)
    assert result.returncode == 1
    user, *assistant = result.stdout.splitlines()
    assert user == f"user: {''.join(deltas).strip()} (incomplete)"
    assert all(line.endswith(" (incomplete)") for line in assistant)  # whatever of the reply came, cut off too
    failure, lint = failure_and_lint(result.stderr)
    assert failure == "rt-tui send: connection dropped: no close frame from the server (code 1006)"
    # The transcription was under way: an error, where a reply cut alone is a warning.
    assert lint.startswith("rt-tui send: lint: 1 error in the turn (connection-dropped)"), lint


def test_a_failed_response_says_why_in_one_line(question_wav: Path) -> None:
    """`response ended with status failed` said nothing of the reason the server gave with it: the
    response's status_details and the `error` event, summarised as the app's log does (code: message)."""
    fail = {"type": "server_error", "code": "server_error", "message": "The server had an error\n\x1b[2Jtry again"}
    result = send_to(scripted_turn("a question", "a reply", fail=fail), question_wav)
    assert result.returncode == 1
    line, lint = failure_and_lint(result.stderr)
    assert "server-error" in lint and "dialect" not in lint  # the peer's bare session is of no dialect
    assert line == (
        "rt-tui send: response ended with status failed: server_error: The server had an error ␛[2Jtry again; "
        "server error: server_error: Rate limit hit"
    ), line


def test_a_reply_that_failed_before_any_output_says_so_and_the_lint_line_names_it(question_wav: Path) -> None:
    """`assistant: (no text)` read as an empty reply: the line says what the pane's row says, and
    the linter's line counts the failure (it found nothing in it before)."""
    fail = {"type": "insufficient_quota", "code": "insufficient_quota", "message": "You exceeded your current quota."}
    result = send_to(scripted_turn("a question", "a reply", fail=fail, output=False), question_wav)
    assert result.returncode == 1
    assert "assistant: (no reply: the response ended before it made any output)" in result.stdout, result.stdout
    line, lint = failure_and_lint(result.stderr)
    assert line.startswith("rt-tui send: response ended with status failed: insufficient_quota: You exceeded"), line
    assert "server-error" in lint, lint  # the error event that came with it is the finding (not one more)


def test_a_url_with_user_and_password_sends_one_credential_basic_auth_not_also_the_key(question_wav: Path) -> None:
    """With RT_TUI_API_KEY set, `send` sent the URL's user:password (Basic) and the key (Bearer): two
    Authorization headers, which crashed the simulator. The URL's own credentials win, with a warning
    that the key was not sent; either way the key and the password stay off the output."""
    from tui.server.testing import background_simulator

    right, other = "test-key-right-0123456789abcd", "test-key-other-9876543210zyxw"
    with background_simulator(api_key=right) as sim:
        scheme, rest = sim.url_for().split("://", 1)
        url = f"{scheme}://user:{right}@{rest}"
        both = run_cli("send", str(question_wav), env_extra={"RT_TUI_URL": url, "RT_TUI_API_KEY": other})
        basic = run_cli("send", str(question_wav), env_extra={"RT_TUI_URL": url})
        blank = run_cli("send", str(question_wav), env_extra={"RT_TUI_URL": url, "RT_TUI_API_KEY": " "})
    assert blank.returncode == 0 and blank.stderr == "", blank.stderr  # a blank key is no key: nothing left out
    assert both.returncode == 0, both.stderr
    assert both.stderr == (
        "rt-tui send: warning: the URL carries a user name and password, sent as Basic auth; "
        "$RT_TUI_API_KEY is not sent\n"
    )
    assert basic.returncode == 0 and basic.stderr == "", basic.stderr
    for result in (both, basic):
        assert "weather" in result.stdout.lower()
        assert right not in result.stdout + result.stderr and other not in result.stdout + result.stderr


def test_send_refuses_headerless_pcm_piped_in_rather_than_sending_mpeg_noise(tmp_path: Path) -> None:
    """Raw PCM on stdin has no name to say what it is: libsndfile took it for MPEG Layer I and
    `send` streamed a third of a second of noise; refused before connecting (exit 2)."""
    from tests.test_audio_decode import _headerless_speech

    raw = _headerless_speech(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [RT_TUI, "send", "-", "--url", "ws://127.0.0.1:9/v1/realtime"],
        input=raw,
        capture_output=True,
        timeout=60,
        env=env,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "it opens as an MPEG stream" in stderr and "Headerless PCM is read only from a .pcm or .raw file" in stderr
    assert stderr.strip().count("\n") == 0 and "Traceback" not in stderr


def test_a_refused_session_update_names_the_setting_the_server_refused(question_wav: Path) -> None:
    """`--voice bogus` was refused as "Invalid value: 'bogus'", without saying which setting: the
    error's param (session.audio.output.voice) is said too."""
    result = run_cli("send", str(question_wav), "--local", "--voice", "bogus")
    assert result.returncode == 1, result.stderr
    assert "session.update rejected: invalid_value" in result.stderr
    assert "(param session.audio.output.voice)" in result.stderr


@pytest.mark.parametrize(
    ("sigint", "ending"),
    [("default", "SIGTERM"), ("ignored", "SIGTERM"), ("default", "SIGHUP"), ("ignored", "SIGHUP")],
)
def test_sigterm_ends_send_as_ctrl_c_does_with_what_arrived_and_the_close_recorded(
    question_wav: Path, tmp_path: Path, sigint: str, ending: str
) -> None:
    """`timeout 30 rt-tui send …` (SIGTERM) ended it without a word: no line saying why, no reply
    that had arrived, no closing record in the capture. It ends as Ctrl+C does, exit 143. Also when
    started with SIGINT ignored, as a shell script starts a background job (`send q.wav & kill $!`):
    SIGTERM was turned into a SIGINT, and the turn ran to its end and exited 0. SIGHUP (its terminal
    closed, an ssh link gone) killed it at once, the capture's last quarter second unwritten: it ends
    the same way, exit 129."""
    import signal
    import time

    from tui.server.testing import background_simulator

    data_dir = tmp_path / "data"
    with background_simulator(warm=True) as sim:
        url = sim.url_for(transcription_delay_ms=60_000)  # the turn waits for its transcript
        process = subprocess.Popen(
            [RT_TUI, "send", str(question_wav), "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint == "ignored" else None,
        )
        deadline = time.monotonic() + 60
        while not any("response.done" in p.read_text() for p in data_dir.glob("sessions/*/frames.jsonl")):
            assert process.poll() is None and time.monotonic() < deadline, "the reply never came"
            time.sleep(0.05)  # polling a file another process writes: no event to wait on
        process.send_signal(getattr(signal, ending))
        out, err = process.communicate(timeout=30)
    assert process.returncode == (143 if ending == "SIGTERM" else 129), err
    assert err == f"rt-tui send: {'terminated' if ending == 'SIGTERM' else 'hung up'}\n"
    assert "assistant: " in out  # the reply that arrived is printed, as after Ctrl+C
    records = capture_records(data_dir)
    assert records[-1]["type"] == "rt.connection" and records[-1]["info"]["state"] == "closed"


def test_the_lint_command_a_failed_turn_prints_runs_as_pasted_and_says_the_same(
    question_wav: Path, tmp_path: Path
) -> None:
    """The line's command is pasted into a shell: a relative data directory starting with `-` made
    `rt-tui lint -data/…` (an unknown option). The path is absolute, and the command, run as
    printed, finds what the line counted; errors come before warnings."""
    import shlex

    from tui.server.testing import background_simulator

    with background_simulator(warm=True) as sim:
        url = sim.url_for(drop_after="conversation.item.input_audio_transcription.delta:1")
        env = {**os.environ, "RT_TUI_DATA_DIR": "-data"}
        result = subprocess.run(
            [RT_TUI, "send", str(question_wav), "--url", url], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        no_capture = run_cli("send", str(question_wav), "--url", url, "--no-capture")
    assert result.returncode == 1
    _, lint = failure_and_lint(result.stderr)
    counted, command = lint.removeprefix("rt-tui send: lint: ").split("; why, with the fix: ")
    argv = shlex.split(command)
    assert argv[:2] == ["rt-tui", "lint"] and Path(argv[2]).is_absolute() and "/-data/" in argv[2]
    linted = subprocess.run([RT_TUI, *argv[1:]], capture_output=True, text=True, cwd=tmp_path)
    assert linted.returncode == 1, linted.stderr  # an error among them
    rules = [line.split(": ")[1] for line in linted.stdout.splitlines() if line.startswith(("error: ", "warning: "))]
    assert counted.startswith(f"{sum(line.startswith('error: ') for line in linted.stdout.splitlines())} error")
    assert rules and all(rule in counted for rule in rules)
    errors = [line.split(": ")[1] for line in linted.stdout.splitlines() if line.startswith("error: ")]
    assert counted.split("(", 1)[1].startswith(errors[0]), (counted, errors)  # errors named first
    # Without a capture the line says so, rather than naming a file that is not there.
    assert no_capture.returncode == 1
    assert no_capture.stderr.splitlines()[-1].endswith(
        "why, with the fix: rt-tui lint of its capture, which this turn has none of (--no-capture)"
    ), no_capture.stderr


def test_an_error_naming_no_frame_is_not_said_to_be_the_update_s_refusal() -> None:
    """An `error` with no event_id, come while `send` waited for session.updated, was said as
    "session.update rejected: …", though nothing tied it to the update (review 57b). It still ends
    the turn (a server need not echo ids), said as what it is."""
    from tui.bus import Bus, Mode
    from tui.send import _Turn
    from tui.session import FRAMES

    turn = _Turn(Bus().subscribe(FRAMES, Mode.LOSSLESS), json_out=False)
    update = {"type": "session.update", "event_id": "evt_mine"}
    turn.errors.append(("", "just a string"))
    assert turn.rejection(update, 0) == "just a string"
    said = turn.refused("session.update", update, 0)
    assert said.startswith("server error while waiting for the answer to session.update") and "rejected" not in said
    turn.errors.append(("evt_mine", "invalid_value: Invalid value: 'bogus'"))
    assert turn.refused("session.update", update, 1) == "session.update rejected: invalid_value: Invalid value: 'bogus'"
    # The error that names it, not the one before it that named nothing (review 57d).
    assert turn.refused("session.update", update, 0) == "session.update rejected: invalid_value: Invalid value: 'bogus'"
