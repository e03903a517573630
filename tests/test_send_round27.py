"""`rt-tui send` (round 27): what a demanding user of the headless turn tried, against the real
console script in a subprocess, the real simulator, or a scripted WebSocket peer on loopback (for
frames the simulator never sends).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from websockets.asyncio.server import ServerConnection

from tests.server_helpers import scripted_peer
from tui.audio.decode import AudioDecodeError, decode_file
from tui.server.testing import realtime_simulator

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"
SETPRIV = shutil.which("setpriv")


async def run_send(*args: str, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user runs it (no capture file: `--no-capture` is not a flag,
    so a data dir of its own)."""
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "send",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(list(args), proc.returncode, out.decode(), err.decode())


def tone_wav(path: Path, seconds: float = 0.6, rate: int = 24000) -> Path:
    """A 440 Hz tone, mono PCM16: what `send` streams."""
    n = int(rate * seconds)
    soundfile.write(
        path,
        0.25 * np.sin(2 * np.pi * 440 * np.arange(n) / rate),
        rate,
        subtype="PCM_16",
    )
    return path


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a `send` that gets as far as connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}/v1/realtime"


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RT_TUI_URL", raising=False)
    monkeypatch.delenv("RT_TUI_API_KEY", raising=False)


# -- what the server sent that send could not use ----------------------------------------------


def one_turn(
    *,
    odd: Sequence[str | bytes] = (),
    at_connect: Sequence[dict[str, Any]] = (),
    during_reply: Sequence[dict[str, Any]] = (),
) -> Any:
    """A scripted server for one turn that completes; `odd` frames go out after session.created,
    `at_connect` before it, `during_reply` between response.created and response.done."""

    async def peer(ws: ServerConnection) -> None:
        for event in at_connect:
            await ws.send(json.dumps(event))
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_o"}}))
        for frame in odd:
            await ws.send(frame)
        async for message in ws:
            kind = json.loads(message)["type"]
            if kind == "session.update":
                await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_o"}}))
            elif kind == "input_audio_buffer.commit":
                user = {
                    "id": "item_u",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_audio"}],
                }
                await ws.send(json.dumps({"type": "input_audio_buffer.committed", "item_id": "item_u"}))
                await ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.added",
                            "previous_item_id": None,
                            "item": user,
                        }
                    )
                )
                done = {
                    "item_id": "item_u",
                    "content_index": 0,
                    "transcript": "a question",
                }
                await ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.input_audio_transcription.completed",
                            **done,
                        }
                    )
                )
            elif kind == "response.create":
                content = [{"type": "output_text", "text": "an answer"}]
                item = {
                    "id": "item_a",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                }
                await ws.send(json.dumps({"type": "response.created", "response": {"id": "resp_o"}}))
                added = {
                    "type": "conversation.item.added",
                    "previous_item_id": "item_u",
                    "item": item,
                }
                await ws.send(json.dumps({**added, "item": {**item, "content": content}}))
                for event in during_reply:
                    await ws.send(json.dumps(event))
                await ws.send(
                    json.dumps(
                        {
                            "type": "response.done",
                            "response": {"id": "resp_o", "status": "completed"},
                        }
                    )
                )

    return peer


def error_event(code: str, message: str, names: str | None = None) -> dict[str, Any]:
    error = {
        "type": "invalid_request_error",
        "code": code,
        "message": message,
        "param": None,
        "event_id": names,
    }
    return {"type": "error", "event_id": f"event_{code}", "error": error}


async def test_malformed_binary_and_unknown_frames_are_said_one_line_a_kind_and_the_turn_exits_0(
    tmp_path: Path,
) -> None:
    """They were ignored without a word, exit 0: a script in CI never learnt its server sent them.
    Each kind is one line with its count (and the first's reason); the turn, answered whole, is
    still a success, as after an error about another frame."""
    odd: list[str | bytes] = [
        '{"type": "response.output_text.delta", "delta": "cut',
        b"\x00\xff binary",
        '{"no_type": 1}',
        json.dumps({"type": "conversation.item.sparkles", "n": 1}),
        b"\x01\x02",
        json.dumps({"type": "conversation.item.sparkles", "n": 2}),
        json.dumps({"type": "response.\x1b[31mred", "n": 3}),
        "[1, 2]",
    ]
    async with scripted_peer(one_turn(odd=odd)) as url:
        done = await run_send(str(tone_wav(tmp_path / "q.wav")), "--url", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user: a question\nassistant: an answer\n"
    assert done.stderr.splitlines() == [
        "rt-tui send: the server sent 3 malformed frames, ignored (the first: not JSON: "
        "Unterminated string starting at column 49)",
        "rt-tui send: the server sent 2 binary frames (9 bytes the first), ignored: "
        "the Realtime API sends text frames only",
        "rt-tui send: the server sent 3 events of a type rt-tui does not know, ignored: "
        "conversation.item.sparkles (×2), response.␛[31mred",
    ]


async def test_an_error_no_step_waited_for_is_said_even_when_the_turn_completes(
    tmp_path: Path,
) -> None:
    """An `error` before session.created, or one naming no frame while the reply came, was dropped
    in silence when the turn went on to complete: each is said once, counted; exit 0."""
    first = error_event("odd_start", "something at connect")
    meanwhile = error_event("odd_reply", "something while replying")
    async with scripted_peer(one_turn(at_connect=[first], during_reply=[meanwhile, meanwhile])) as url:
        done = await run_send(str(tone_wav(tmp_path / "q.wav")), "--url", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user: a question\nassistant: an answer\n"
    assert done.stderr.splitlines() == [
        "rt-tui send: server error (the turn went on): odd_start: something at connect",
        "rt-tui send: server error (the turn went on): odd_reply: something while replying (×2)",
    ]


# -- memory: the appends are made as the connection takes them ---------------------------------

_PEAK_PROBE = textwrap.dedent(
    """
    import asyncio, sys, tracemalloc
    from tui.config import Settings, TargetChoice
    from tui.send import _send

    seconds, url = float(sys.argv[1]), sys.argv[2]
    settings = Settings(target=TargetChoice.URL, url=url, transcription_model=None, capture=False)
    # A turn of a second first: what it imports and caches is not the audio's.
    asyncio.run(_send(bytes(48000), settings, json_out=False, timeout=60))
    pcm = bytes(range(256)) * int(seconds * 48000 // 256)
    tracemalloc.start()
    status = asyncio.run(_send(pcm, settings, json_out=False, timeout=60))
    print(status, len(pcm), tracemalloc.get_traced_memory()[1], file=sys.stderr)
    """
)


async def test_a_turn_holds_its_audio_once_not_again_as_queued_appends() -> None:
    """Every append of the file was queued before the first went out: the audio again as base64
    (4/3 of it) in the queue, and at the peak nearly 3x it besides the audio itself. Made as the
    socket takes them, the turn holds the audio and a window of frames (the audio was made before
    tracing started; the simulator runs in this process, not the probe's)."""
    async with realtime_simulator(response_speed=0) as sim:
        url = sim.url_for()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _PEAK_PROBE,
            "60",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    status, audio, peak = (int(word) for word in err.decode().split()[-3:])
    assert proc.returncode == 0 and status == 0, err.decode()
    assert out.decode().count("user: ") == 2
    assert audio == 2_880_000
    assert peak < audio // 2, f"peak {peak:,} bytes for {audio:,} bytes of audio"


def test_decode_file_peaks_under_four_times_its_pcm(tmp_path: Path) -> None:
    """A minute of 24 kHz mono PCM16 peaked at 11x the PCM decode_file returned: the file read
    whole as float32, then three float64 copies to make int16 of it."""
    import tracemalloc

    path = tone_wav(tmp_path / "minute.wav", seconds=60)
    tracemalloc.start()
    try:
        pcm = decode_file(path).pcm
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(pcm), f"peak {peak:,} bytes for {len(pcm):,} bytes of PCM"


# -- files the turn cannot take: refused from the header, before decoding or connecting ---------


def wav_header(
    path: Path,
    *,
    channels: int,
    rate: int,
    bits: int,
    data: bytes,
    data_size: int | None = None,
) -> Path:
    """A PCM WAV with the header fields given (`data_size` may claim more than `data` holds)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", min(len(body) - len(data) + size, 2**32 - 1)) + body)
    return path


def one_line(done: subprocess.CompletedProcess[str], status: int, text: str) -> None:
    assert done.returncode == status, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("rt-tui send: "), done.stderr
    assert text in done.stderr, done.stderr


def mono_pcm(seconds: float) -> bytes:
    n = int(24000 * seconds)
    return (8000 * np.sin(2 * np.pi * 440 * np.arange(n) / 24000)).astype("<i2").tobytes()


async def test_a_header_saying_300_channels_is_refused_before_connecting(
    tmp_path: Path,
) -> None:
    """A second of mono speech under a header saying 300 channels decoded to 3 ms of averaged
    noise, was sent, and the server refused the commit as too short: it is a damaged header."""
    path = wav_header(tmp_path / "many.wav", channels=300, rate=24000, bits=16, data=mono_pcm(1))
    done = await run_send(str(path), "--url", closed_port_url())
    one_line(
        done,
        2,
        "cannot decode many.wav: its header says 300 channels, and rt-tui reads up to 32",
    )


def test_decode_file_refuses_a_header_saying_300_channels(tmp_path: Path) -> None:
    """decode_file itself, not only `send`'s check before it: 3 ms of averaged noise is not the
    second of speech the file holds."""
    path = wav_header(tmp_path / "many.wav", channels=300, rate=24000, bits=16, data=mono_pcm(1))
    with pytest.raises(AudioDecodeError) as refused:
        decode_file(path)
    assert str(refused.value) == (
        "cannot decode many.wav: its header says 300 channels, and rt-tui reads up to 32 "
        "(a voice recording has 1 or 2): a damaged header?"
    )


def _limit_memory() -> None:
    """1.5 GiB of address space: a decode of the file whole fails (MemoryError) instead of taking the machine's."""
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, resource.RLIM_INFINITY))


async def test_a_2_gb_wav_is_refused_from_its_header_without_being_read(
    tmp_path: Path,
) -> None:
    """A 2 GB WAV (11.6 hours at 24 kHz) was read and decoded whole (gigabytes) to be streamed into
    a session that ends at 60 minutes. Its header says how long it is: refused, in one line."""
    path = wav_header(
        tmp_path / "long.wav",
        channels=1,
        rate=24000,
        bits=16,
        data=b"",
        data_size=2_000_000_000,
    )
    with path.open("r+b") as fh:
        fh.truncate(44 + 2_000_000_000)  # sparse: the disk holds a header
    done = await run_send(str(path), "--url", closed_port_url(), preexec=_limit_memory)
    one_line(
        done,
        2,
        "long.wav holds 11:34:27 of audio, and a Realtime session lasts at most 60 minutes",
    )


async def test_raw_pcm_over_an_hour_is_refused_from_its_size_and_an_hour_is_sent(
    tmp_path: Path,
) -> None:
    """The limit is the session's, not lower: an hour exactly is decoded and sent (here to a
    closed port, refused there); a second more is refused from the file's size, unread."""
    path = tmp_path / "long.pcm"
    with path.open("wb") as fh:
        fh.truncate(48_000 * 3601)  # an hour and a second of 24 kHz PCM16, sparse
    done = await run_send(str(path), "--url", closed_port_url(), preexec=_limit_memory)
    one_line(
        done,
        2,
        "long.pcm holds 1:00:01 of audio, and a Realtime session lasts at most 60 minutes",
    )
    with path.open("r+b") as fh:
        fh.truncate(48_000 * 3600)
        fh.seek(48_000 * 3600 - 2)
        fh.write(b"\x01\x00")  # one sample not zero: all zeros is refused as digital silence
    done = await run_send(str(path), "--url", closed_port_url())
    note, refused = done.stderr.splitlines()
    assert note == (
        "rt-tui send: note: long.pcm has no header: taken as 24 kHz mono PCM16 (1:00:00); --rate HZ gives another rate"
    )
    assert done.returncode == 1 and "connection refused" in refused, done.stderr


@pytest.mark.parametrize("name", ["short.pcm", "short.wav"])
async def test_audio_too_short_to_commit_is_refused_before_connecting(tmp_path: Path, name: str) -> None:
    """50 ms connected, streamed, and drew the server's `input_audio_buffer_commit_empty`: the
    service commits 100 ms at least, which the file's length tells before anything connects."""
    path = tmp_path / name
    if name.endswith(".pcm"):
        path.write_bytes(mono_pcm(0.05))
    else:
        tone_wav(path, seconds=0.05, rate=16000)
    done = await run_send(str(path), "--url", closed_port_url())
    one_line(
        done,
        2,
        f"{name} holds 50 ms of audio, and the server commits no less than 100 ms",
    )


def _unreadable(path: Path) -> list[str]:
    """The command prefix that makes `path` unreadable to what it runs: as root (which reads any
    file), without the capabilities that let it."""
    path.chmod(0)
    if os.geteuid() != 0:
        return []
    if SETPRIV is None:
        pytest.skip("setpriv is needed to drop root's DAC override")
    return [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search"]


def test_an_unreadable_wav_is_called_unreadable_not_unsupported(tmp_path: Path) -> None:
    """libsndfile answers EACCES with "not a supported audio file (WAV, FLAC, …)": a user with a
    permission problem went looking for a codec."""
    path = tone_wav(tmp_path / "locked.wav")
    prefix = _unreadable(path)
    done = subprocess.run(
        [*prefix, RT_TUI, "send", str(path), "--url", closed_port_url()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    one_line(done, 2, f"cannot read {path}: Permission denied")


def test_decode_file_calls_an_unreadable_wav_unreadable(tmp_path: Path) -> None:
    """decode_file itself, not only `send`'s check before it, says a file it may not open is
    unreadable, naming it: libsndfile's "not a supported audio file" sent users after a codec."""
    path = tone_wav(tmp_path / "locked.wav")
    prefix = _unreadable(path)
    probe = textwrap.dedent(
        """
        import sys
        from tui.audio.decode import decode_file
        try:
            decode_file(sys.argv[1])
        except Exception as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [*prefix, sys.executable, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == f"cannot read {path}: Permission denied\n", done.stdout + done.stderr


# -- standard input ------------------------------------------------------------------------------


async def send_stdin(data: bytes | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`rt-tui send -` with `data` piped to its standard input (None: a terminal)."""
    if data is None:
        import pty

        controller, terminal = pty.openpty()
        stdin: int = terminal
    else:
        stdin = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "send",
        "-",
        *args,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(data), 60)
    finally:
        if data is None:
            os.close(controller)
            os.close(terminal)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(["send", "-"], proc.returncode, out.decode(), err.decode())


async def test_send_reads_audio_piped_to_standard_input(tmp_path: Path) -> None:
    """`sox … -t wav - | rt-tui send -`: "-" was a file name, "audio file not found: -"."""
    data = tone_wav(tmp_path / "q.wav").read_bytes()
    async with scripted_peer(one_turn()) as url:
        done = await send_stdin(data, "--url", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user: a question\nassistant: an answer\n" and done.stderr == ""


@pytest.mark.parametrize(
    ("what", "said"),
    [
        (
            "terminal",
            "standard input is a terminal: pipe audio into `rt-tui send -`, or give a file",
        ),
        (
            "raw",
            "cannot decode standard input: not a supported audio file (WAV, FLAC, OGG, MP3, AIFF; ",
        ),
        ("300 channels", "cannot decode standard input: its header says 300 channels"),
    ],
)
async def test_standard_input_send_cannot_take_is_refused_in_one_line(tmp_path: Path, what: str, said: str) -> None:
    """A terminal would be read until Ctrl+D; raw PCM has no header (its name says it for a file);
    what a file is refused for, piped audio is too, naming standard input, not a temporary file."""
    data = {
        "terminal": None,
        "raw": mono_pcm(1),
        "300 channels": wav_header(
            tmp_path / "m.wav", channels=300, rate=24000, bits=16, data=mono_pcm(1)
        ).read_bytes(),
    }[what]
    done = await send_stdin(data, "--url", closed_port_url())
    one_line(done, 2, said)
    assert "rt-tui-send-" not in done.stderr


async def test_ctrl_c_while_standard_input_is_read_says_interrupted_without_a_traceback() -> None:
    """Ctrl+C before the turn began (a pipe still being read, a long file decoded) ended `send`
    with a KeyboardInterrupt traceback; after it, with "interrupted" and 130."""
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "send",
        "-",
        "--url",
        closed_port_url(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(bytes(4 * 2**20))  # more than a pipe holds: drained only once send reads it
    await asyncio.wait_for(proc.stdin.drain(), 60)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert (proc.returncode, out, err.decode()) == (130, b"", "rt-tui send: interrupted\n")


async def test_a_long_file_on_a_slow_link_is_not_timed_out_while_it_is_still_being_sent(tmp_path: Path) -> None:
    """The wait for the commit's acknowledgement began before the first append went out: a file
    that takes longer than --timeout to upload timed out while it was still being sent. Each
    window of appends now has the timeout; the commit's wait begins once the last is written."""
    path = tmp_path / "five-minutes.pcm"
    path.write_bytes(mono_pcm(300))
    reader = one_turn()

    async def slow(ws: ServerConnection) -> None:
        class Slow:  # the peer, reading an append every 4 ms: 3,000 of them take over 12 s
            def __getattr__(self, name: str) -> Any:
                return getattr(ws, name)

            def __aiter__(self) -> Any:
                return self.frames()

            async def frames(self) -> Any:
                async for message in ws:
                    if '"input_audio_buffer.append"' in str(message)[:60]:
                        await asyncio.sleep(0.004)
                    yield message

        await reader(Slow())

    async with scripted_peer(slow) as url:
        # 10 s: the upload takes longer (12 s at least), and what the socket's buffers still hold once
        # the last append is written (a few seconds to read) leaves room on a loaded machine (4 s,
        # then 6 s against a 9 s upload, did not, in CI).
        done = await run_send(str(path), "--url", url, "--timeout", "10")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user: a question\nassistant: an answer\n"


async def test_the_timeout_bounds_the_connect_to_a_server_that_never_answers(tmp_path: Path) -> None:
    """A port that takes the TCP connection and never answers the handshake held `send --timeout 1`
    for the session's own 15 s before it said `timed out connecting`."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the TCP handshake; nothing ever reads or answers
        url = f"ws://127.0.0.1:{silent.getsockname()[1]}/v1/realtime"
        wav = tmp_path / "turn.wav"
        soundfile.write(wav, np.frombuffer(mono_pcm(1.0), "<i2"), 24_000, subtype="PCM_16")
        started = time.monotonic()
        done = await run_send(str(wav), "--timeout", "1", "--url", url)
        took = time.monotonic() - started
    one_line(done, 1, f"timed out connecting to {url}")
    assert took < 10, took  # the 1 s asked for, plus the interpreter's start: not the 15 s connect wait


async def test_wss_to_a_plain_ws_server_says_the_tls_handshake_failed(tmp_path: Path) -> None:
    """`cannot reach wss://…: ` ended there (a reset carries no text), and the app retried forever
    saying "the server is back: reconnecting"."""
    from tui.app.reconnect import RetryPolicy
    from tui.server.testing import background_simulator

    wav = tmp_path / "turn.wav"
    soundfile.write(wav, np.frombuffer(mono_pcm(1.0), "<i2"), 24_000, subtype="PCM_16")
    with background_simulator() as sim:
        url = sim.url_for().replace("ws://", "wss://", 1)
        done = await run_send(str(wav), "--url", url)
    one_line(done, 1, "TLS handshake with wss://127.0.0.1:")
    assert "failed: is it a plain ws:// server? (then connect with ws://)" in done.stderr, done.stderr
    reason = done.stderr.removeprefix("rt-tui send: ").strip()
    assert not RetryPolicy().worth_retrying(reason, None)  # the app does not retry it
