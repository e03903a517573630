"""The capture file: crash-safe (timer, turn end, whole lines, fsync), private, strict, lossless.

Real files, a real kernel file-size limit for the write error, real `rt-tui send` processes killed
with SIGKILL, and live sessions against the real simulator for the round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from tests.server_helpers import scripted_peer
from tui.bus import Bus
from tui.protocol import Direction, Envelope, local_envelope, next_seq
from tui.protocol.records import WIRE_LINE_END, capture_line, embedded_frame, wire_line_head
from tui.session import (
    FRAMES,
    CaptureError,
    CaptureWriter,
    RealtimeSession,
    new_session_dir,
    read_capture,
    url_target,
)

RT_TUI = str(Path(sys.executable).parent / "rt-tui")


def frame(event: dict[str, Any], direction: Direction = Direction.IN) -> Envelope:
    raw = json.dumps(event, separators=(",", ":"))
    return Envelope(next_seq(), direction, str(event["type"]), event, raw)


def delta(n: int = 0) -> Envelope:
    return frame({"type": "response.output_audio.delta", "response_id": "resp_1", "delta": "AAAA" * 1600, "n": n})


def lines(path: Path) -> list[dict[str, Any]]:
    """The file's whole lines. Tests poll the file while the writer thread appends to it: a line
    still being written (no newline yet) is not one, and is read on the next poll."""
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


class Collected:
    """Every envelope a subscription has received so far (drained as the test polls)."""

    def __init__(self, bus: Bus) -> None:
        self.sub = bus.subscribe(FRAMES)
        self.envs: list[Envelope] = []

    def count(self, event_type: str) -> int:
        self.envs += self.sub.drain()
        return sum(e.type == event_type for e in self.envs)

    def all(self) -> list[Envelope]:
        self.envs += self.sub.drain()
        return self.envs


@contextlib.asynccontextmanager
async def capturing_session(
    peer: Callable[[ServerConnection], Awaitable[None]], folder: Path
) -> AsyncIterator[tuple[RealtimeSession, CaptureWriter, Collected]]:
    """A real session to `peer` (a scripted server) capturing into `folder`, with what its bus
    carried; the session and the capture are closed on the way out."""
    async with scripted_peer(peer) as url:
        bus = Bus()
        got = Collected(bus)
        capture = CaptureWriter(folder)
        session = RealtimeSession(url_target(url), bus, capture=capture)
        await session.connect()
        try:
            yield session, capture, got
        finally:
            await session.close()
            capture.close()


async def until(condition: Any, timeout: float, what: str) -> None:
    """Poll `condition()` until it holds, failing with `what` after a generous deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)


# -- flushing ---------------------------------------------------------------------------------


async def test_a_lone_frame_reaches_the_disk_on_the_timer_without_another_write(tmp_path: Path) -> None:
    """After a turn, frames used to wait in the buffer for the next write, which never came."""
    writer = CaptureWriter(new_session_dir(tmp_path))
    writer.write(delta())
    assert writer.path.stat().st_size == 0  # buffered: no system call per audio delta
    await until(lambda: writer.path.stat().st_size > 0, 5, "the timer to write the buffered frame")
    assert [r["type"] for r in lines(writer.path)] == ["response.output_audio.delta"]
    for n in range(50):  # a stream: many frames, one write per timer tick
        writer.write(delta(n))
    assert len(lines(writer.path)) == 1
    await until(lambda: len(lines(writer.path)) == 51, 5, "the stream's frames")
    writer.close()


def test_a_turn_end_is_written_at_once_and_close_writes_the_rest(tmp_path: Path) -> None:
    writer = CaptureWriter(new_session_dir(tmp_path))
    writer.write(delta())
    writer.write(frame({"type": "response.done", "response": {"status": "completed"}}))
    assert [r["type"] for r in lines(writer.path)] == ["response.output_audio.delta", "response.done"]
    writer.write(delta())
    writer.close()
    assert len(lines(writer.path)) == 3 and writer.frames_written == 3
    writer.close()  # twice is harmless
    writer.write(delta())  # after close: ignored, not an error
    assert writer.error is None


# -- privacy ----------------------------------------------------------------------------------


def test_folders_rt_tui_creates_are_0700_and_the_file_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask would give 0755 folders and a 0644 file
    try:
        root = tmp_path / "fresh" / "rt-tui" / "sessions"
        folder = new_session_dir(root)
        CaptureWriter(folder).close()
    finally:
        os.umask(old)
    for path in (root.parent.parent, root.parent, root, folder):
        assert oct(path.stat().st_mode & 0o777) == oct(0o700), path
    assert oct((folder / "frames.jsonl").stat().st_mode & 0o777) == oct(0o600)


# -- strict JSON, raw kept --------------------------------------------------------------------


def strict(line: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(line, parse_constant=refuse)


def test_every_line_is_strict_json_and_keeps_the_raw_text(tmp_path: Path) -> None:
    writer = CaptureWriter(new_session_dir(tmp_path))
    odd = '{"type":"vendor.numbers", "x": NaN, "y": -Infinity,\n "z": 1e999, "s": "caf\\u00e9 \\ud800"}'
    writer.write(Envelope(next_seq(), Direction.IN, "vendor.numbers", json.loads(odd), odd))
    writer.write(local_envelope("rt.audio", "level", value=float("nan"), peak=float("inf")))
    writer.write(Envelope(next_seq(), Direction.IN, "rt.malformed", {"type": "rt.malformed", "message": "m"}, "{oops"))
    binary = bytes(range(256))
    writer.write(
        Envelope(
            next_seq(), Direction.IN, "rt.malformed", {"type": "rt.malformed"}, "<binary 256 bytes>", binary=binary
        )
    )
    writer.close()
    numbers, audio, malformed, binary_record = [strict(line) for line in writer.path.read_text().splitlines()]
    assert numbers["raw"] == odd and numbers["size"] == len(odd.encode()) and "frame" not in numbers
    assert audio["info"]["value"] == "rt-tui:non-finite:NaN" and audio["info"]["peak"] == "rt-tui:non-finite:Infinity"
    assert "raw" not in audio  # a local fact's raw text is its info
    assert malformed["raw"] == "{oops" and malformed["info"]["message"] == "m"
    assert binary_record["raw_b64"] and binary_record["size"] == 256 and "raw" not in binary_record
    back = read_capture(writer.path)
    assert back[0].raw == odd and back[0].data["y"] == float("-inf")
    assert back[1].data["peak"] == float("inf") and back[1].direction is Direction.LOCAL
    assert back[3].binary == binary and back[3].size == 256


def test_a_capture_line_is_one_c_level_pass_for_a_big_frame() -> None:
    """A 15 MB frame's line is its raw text quoted: the parsed data is never walked or re-serialized."""

    class Unserializable(dict[str, Any]):
        def items(self) -> Any:  # json.dumps of the parsed frame would call this
            raise AssertionError("the parsed frame was walked")

    raw = '{"type":"conversation.item.retrieved","audio":"' + "A" * 15_000_000 + '"}'
    env = Envelope(1, Direction.IN, "conversation.item.retrieved", Unserializable(type="x"), raw)
    line = capture_line(env, env.mono)
    assert embedded_frame(line) == raw and json.loads(line)["frame"]["audio"] == "A" * 15_000_000


def test_a_frame_is_embedded_byte_for_byte_and_reads_back_as_the_general_line_does() -> None:
    """A frame that parsed is written as its own JSON text (no escaping; `jq .frame` reads it); the
    exact text comes back from the line. Frames that would not be strict one-line JSON (line
    breaks between tokens, NaN or Infinity) are written as a `raw` string instead."""
    from tui.protocol import strict_json
    from tui.session import envelope_record

    embedded = [
        '{"type":"response.output_audio.delta","delta":"QUJD+/=="}',
        '{"type":"error","error":{"message":"a \\"quoted\\" \\\\ path \\u00e9 caf\u00e9 \u2028"}}',
        '{"type":"x", "spaced": [1, 2.5e-7, -0.0]}',
        '{"type":"t\\"ype","v":null}',
    ]
    escaped = ['{"type":"x",\n"newline":true}', '{"type":"x","n":NaN}', '{"type":"x","big":1e999}']
    for direction in (Direction.IN, Direction.OUT):
        for text in embedded + escaped:
            env = Envelope(next_seq(), direction, str(json.loads(text)["type"]), json.loads(text), text, mono=12.5)
            line = capture_line(env, 10.0)
            record = strict_json.loads(line)
            general = strict_json.loads(strict_json.dumps_bytes(envelope_record(env, 10.0)))
            head = wire_line_head(env, 10.0, text.encode())
            if direction is Direction.IN and text in embedded:  # the same line from the wire bytes
                assert head is not None and head + text.encode() + WIRE_LINE_END == line
            elif "\n" in text or direction is Direction.OUT:
                assert head is None  # NaN/Infinity are for the caller to rule out (parse_frame)
            if text in embedded:
                assert embedded_frame(line) == text and "raw" not in record
                assert record["frame"] == json.loads(text)
                assert {k: v for k, v in record.items() if k != "frame"} == {
                    k: v for k, v in general.items() if k != "raw"
                }
            else:
                assert record == general and record["raw"] == text
            json.loads(line)  # strict JSON either way


# -- write errors -----------------------------------------------------------------------------

FSIZE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from tui.protocol import Direction, Envelope
    from tui.session import CaptureWriter

    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    errors = []
    writer = CaptureWriter(Path(sys.argv[1]), on_error=errors.append)
    wire = sys.argv[3] == "wire"
    for n in range(200):
        event = {"type": "response.output_audio.delta", "n": n, "delta": "QUJD" * 700}
        raw = json.dumps(event)
        env = Envelope(n + 1, Direction.IN, event["type"], event, raw)
        writer.write(env, wire=bytearray(raw.encode()) if wire else None)
        if n % 7 == 6:
            writer.flush()  # batches of several lines, so a batch is cut in its middle
    writer.close()
    print(json.dumps({"errors": errors, "written": writer.frames_written, "lost": writer.frames_lost}))
    """
)


@pytest.mark.parametrize("lines_from", ["text", "wire"])
def test_a_write_error_keeps_whole_lines_only_and_is_reported_once(tmp_path: Path, lines_from: str) -> None:
    """A real EFBIG from the kernel (RLIMIT_FSIZE), in the middle of a batch and of a line; a line
    of a frame's wire bytes is three buffers (head, bytes, end), and is cut whole all the same."""
    folder = new_session_dir(tmp_path)
    limit = 100_000
    result = subprocess.run(
        [sys.executable, "-c", FSIZE_SCRIPT, str(folder), str(limit), lines_from],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [error] = report["errors"]
    assert error.startswith("capture failed: File too large writing ") and "\n" not in error
    assert f"keeps {report['written']} whole frames" in error
    data = (folder / "frames.jsonl").read_bytes()
    assert 0 < len(data) <= limit and data.endswith(b"\n")  # cut back to the last whole line
    records = [json.loads(line) for line in data.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, report["written"] + 1))
    assert report["written"] + report["lost"] == 200
    assert f"up to #{records[-1]['seq']};" in error


@pytest.mark.parametrize("lines_from", ["text", "wire"])
def test_short_writes_resume_inside_a_line_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines_from: str
) -> None:
    """A kernel may take part of a `writev` (a signal, a pipe-like file): the writer carries on from
    the very byte it stopped at, inside a line (inside a frame's wire bytes too), and the file ends
    up whole."""
    real_writev = os.writev
    calls: list[int] = []

    def stingy_writev(fd: int, buffers: list[bytes]) -> int:
        calls.append(len(buffers))
        return real_writev(fd, [b"".join(buffers)[:5_000]])  # at most 5,000 bytes a call

    monkeypatch.setattr(os, "writev", stingy_writev)
    writer = CaptureWriter(new_session_dir(tmp_path))
    frames = [delta(n) for n in range(40)]  # 6.4 KB lines: every call stops inside one
    for env in frames:
        writer.write(env, wire=env.raw.encode() if lines_from == "wire" else None)
    writer.close()
    assert calls and writer.frames_written == 40 and writer.frames_lost == 0
    assert [r["n"] for r in (r["frame"] for r in lines(writer.path))] == list(range(40))
    if lines_from == "wire":
        assert max(calls) == 3 * 40  # three buffers a line: the wire bytes went as they were


async def test_a_full_disk_is_a_local_fact_and_the_session_goes_on(tmp_path: Path) -> None:
    """/dev/full answers every write with ENOSPC: the capture stops, says so once, the frames flow on."""

    async def chatty(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_full"}}))
        async for message in ws:
            await ws.send(json.dumps({"type": "vendor.echo", "got": json.loads(message)["type"]}))

    folder = new_session_dir(tmp_path)
    (folder / "frames.jsonl").symlink_to("/dev/full")
    mode = os.stat("/dev/full").st_mode
    async with capturing_session(chatty, folder) as (session, capture, got):
        await until(lambda: capture.error is not None, 5, "the capture to fail")
        for n in range(3):
            session.send({"type": "input_audio_buffer.clear", "n": n})
        await until(lambda: got.count("vendor.echo") == 3, 5, "the echoes")
        assert session.is_open
    assert os.stat("/dev/full").st_mode == mode  # a file rt-tui did not create keeps its mode
    envs = got.all()
    failures = [e for e in envs if e.type == "rt.capture"]
    assert len(failures) == 1 and failures[0].data["state"] == "failed" and failures[0].data["notify"] is True
    assert "No space left on device" in failures[0].data["message"]
    assert session.capture_error == failures[0].data["message"]


# -- reading back -----------------------------------------------------------------------------


async def test_a_live_session_reads_back_as_the_envelopes_the_bus_saw(sim: Any, tmp_path: Path) -> None:
    bus = Bus()
    sub = bus.subscribe(FRAMES)
    folder = new_session_dir(tmp_path)
    capture = CaptureWriter(folder)
    session = RealtimeSession(url_target(sim.url + "?model=gpt-realtime"), bus, capture=capture)
    await session.connect()
    session.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "café, s'il vous plaît"}]}
    session.send({"type": "conversation.item.create", "item": item})
    session.send({"type": "response.create"})
    seen: list[Envelope] = []
    while not any(e.type == "response.done" for e in seen):
        seen.append(await asyncio.wait_for(sub.get(), 20))
    await session.close()
    capture.close()
    seen += sub.drain()
    back = read_capture(folder / "frames.jsonl")

    def key(env: Envelope) -> tuple[Any, ...]:
        return (env.seq, env.direction, env.type, env.size, env.raw, env.data)

    assert [key(e) for e in back] == [key(e) for e in seen]
    assert {Direction.IN, Direction.OUT, Direction.LOCAL} <= {e.direction for e in back}
    assert back[0].mono == 0.0 and all(
        b.wall == pytest.approx(e.wall, abs=1e-5) for b, e in zip(back, seen, strict=True)
    )


async def test_frames_the_parser_refuses_are_captured_with_their_raw_text(tmp_path: Path) -> None:
    deep = '{"type":"x","a":' + "[" * 100_000 + "]" * 100_000 + "}"
    huge = '{"type":"x","n":' + "9" * 5000 + "}"
    sent = [deep, huge, "{not json", '["no", "type"]']

    async def hostile(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_bad"}}))
        for text in sent:
            await ws.send(text)
        await ws.send(b"\x00\xffbinary")
        await ws.wait_closed()

    folder = new_session_dir(tmp_path)
    async with capturing_session(hostile, folder) as (session, _, got):
        await until(lambda: got.count("rt.malformed") == 5, 10, "the bad frames")
        assert session.is_open
    malformed = [e for e in read_capture(folder / "frames.jsonl") if e.type == "rt.malformed"]
    assert [e.raw for e in malformed[:4]] == sent
    assert all(e.data["message"].startswith("malformed frame from server: ") for e in malformed)
    assert malformed[4].binary == b"\x00\xffbinary"


async def test_the_capture_writes_each_text_frame_s_own_wire_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes the capture writes as they came are the very message the reader parsed, frame
    after frame, around what has no bytes of its own to keep (a fragmented message, a binary frame)
    or must not be embedded (NaN, a line break, a frame the parser refused)."""
    sent: list[str | bytes | list[str]] = [
        '{"type":"response.output_audio_transcript.delta","delta":"caf\u00e9 été 😀"}',
        ['{"type":"frag', 'mented","n":1}'],  # one message in two frames
        '{"type":"x","n":NaN}',
        b'{"type":"binary"}',
        '{"type":"x",\n"newline":true}',
        "{not json",
        '{"type":"response.done","response":{"status":"completed"}}',
        '{"type":"after","n":2}',
    ]

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_wire"}}))
        for message in sent:
            await ws.send(message)
        await ws.wait_closed()

    pairs: list[tuple[Envelope, bytes | bytearray | None]] = []
    real_write, real_write_wire = CaptureWriter.write, CaptureWriter.write_wire

    def spy(
        self: CaptureWriter, env: Envelope, *, scrubbed: bool = False, wire: Any = None, more: bool = False
    ) -> None:
        if wire is None or not scrubbed:  # else it is `write_wire`'s (below)
            pairs.append((env, wire))
        real_write(self, env, scrubbed=scrubbed, wire=wire, more=more)

    def spy_wire(self: CaptureWriter, env: Envelope, wire: bytes | bytearray, more: bool = False) -> None:
        pairs.append((env, wire))
        real_write_wire(self, env, wire, more)

    monkeypatch.setattr(CaptureWriter, "write", spy)
    monkeypatch.setattr(CaptureWriter, "write_wire", spy_wire)
    folder = new_session_dir(tmp_path)
    async with capturing_session(peer, folder) as (_, _, got):
        await until(lambda: got.count("after") == 1, 10, "the last frame")
    received = [(env.raw, wire) for env, wire in pairs if env.direction is Direction.IN]
    assert [raw for raw, wire in received if wire is not None] == [
        json.dumps({"type": "session.created", "session": {"id": "sess_wire"}}),
        sent[0],
        sent[4],  # strict JSON, but on two lines: written the general way (below)
        sent[6],
        sent[7],
    ]
    assert all(wire.decode() == raw for raw, wire in received if wire is not None)
    on_disk = [e for e in read_capture(folder / "frames.jsonl") if e.direction is Direction.IN]
    texts = ["".join(m) if isinstance(m, list) else m for m in sent]
    assert [e.raw for e in on_disk[1:] if e.binary is None] == [t for t in texts if isinstance(t, str)]
    assert on_disk[4].binary == sent[3]
    records = [json.loads(line) for line in (folder / "frames.jsonl").read_bytes().splitlines()]
    assert [r.get("raw") for r in records if "raw" in r and r["dir"] == "in"] == [sent[2], sent[4], sent[5]]
    [after] = [line for line in (folder / "frames.jsonl").read_bytes().splitlines() if b'"type":"after"' in line]
    assert after.endswith(b',"frame":' + str(sent[7]).encode() + b"}")  # embedded as it came


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file, not an rt-tui capture"),
        (b'{"name": "something else"}\n', "line 1 has no valid 'seq': not an rt-tui capture file"),
        (b"hello\n", "line 1 is not JSON"),
        (b"[1, 2]\n", "line 1 is JSON array, not a capture record"),
        (None, "line 3 is cut short: the file ends inside it"),
        (None, "the 2 lines before it are whole: a damaged capture"),
        (
            None,
            "line 2 is cut short: the file ends inside it (the writer was stopped mid-line); the line before it is",
        ),
        (b'{"seq":1,"dir":"sideways","t":0,"wall":0,"type":"x","size":1,"raw":"x"}\n', "unknown direction"),
        (b'{"seq":1,"dir":"in","t":0,"wall":0,"type":"x","size":1}\n', "has no 'frame', 'raw' or 'raw_b64'"),
        (b"\xff\xfe\n", "line 1 is not UTF-8 text"),
        (None, "line 3 holds NUL bytes (data lost on the disk, as after a power cut): a damaged capture"),
        (b'{"seq":1,"dir":"in"\n{"seq":2}\n', "line 1 is not JSON (Expecting ',' delimiter): not an rt-tui"),
    ],
)
def test_a_file_that_is_not_a_good_capture_gives_one_clear_line(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "frames.jsonl"
    if content is None:  # two good lines, then one cut in its middle, or zeroed (as after a power cut)
        good = b"".join(capture_line(frame({"type": "vendor.x", "n": n}), 0.0) for n in range(3))
        zeroed = "NUL" in expected
        content = good[: good.rindex(b"\n", 0, -1) + 1] + b"\0" * 40 + b"\n" + good if zeroed else good[:-20]
        if "line 2" in expected:  # one whole line before the cut
            content = good[: good.index(b"\n") + 1] + good[:20]
    path.write_bytes(content)
    with pytest.raises(CaptureError) as info:
        read_capture(path)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(path) in message


def read_with(command: str, path: Path) -> subprocess.CompletedProcess[str]:
    """`rt-tui lint PATH` or `rt-tui replay PATH --json`, run for real."""
    replay = ["--json"] if command == "replay" else []
    return subprocess.run([RT_TUI, command, str(path), *replay], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("cut", [1, 2])  # inside 'é' (2 bytes) and inside '€' (3 bytes)
def test_a_last_line_cut_inside_a_character_is_cut_short_not_bad_text(tmp_path: Path, cut: int) -> None:
    """A kill -9 can cut the last line inside a multi-byte character: that line was refused as `not
    UTF-8 text (a damaged capture)`, where any other cut point says it is cut short. Both replay and
    lint read the whole lines before it, with the same note; bad bytes elsewhere are still bad text."""
    event = {"type": "response.output_text.delta", "delta": "café, 3 €"}
    raw = json.dumps(event, ensure_ascii=False)  # as the service sends it: UTF-8, not \u escapes
    reply = Envelope(next_seq(), Direction.IN, event["type"], event, raw)
    good = b"".join(capture_line(frame({"type": "vendor.x", "n": n}), 0.0) for n in range(2))
    last = capture_line(reply, 0.1)
    char = "é".encode() if cut == 1 else "€".encode()
    path = tmp_path / "frames.jsonl"
    path.write_bytes(good + last[: last.rindex(char) + cut])
    for command in ("lint", "replay"):
        result = read_with(command, path)
        assert result.returncode == 0, result.stderr
        (note,) = result.stderr.splitlines()
        assert note.startswith(f"rt-tui {command}: note: {path}: line 3 is cut short: the file ends inside it"), note
        assert note.endswith("the 2 lines before it are read, up to line 2") and "UTF-8" not in note
        assert note.count("whole") == 0 and "damaged" not in note  # one statement of what was read
    with pytest.raises(CaptureError, match="line 3 is cut short"):
        read_capture(path)
    path.write_bytes(good + last.replace("é".encode(), b"\xff")[:-5])  # no newline, but bad text before the cut
    with pytest.raises(CaptureError, match="line 3 is not UTF-8 text"):
        read_capture(path)


def test_a_capture_cut_mid_line_then_joined_with_another_reads_both(tmp_path: Path) -> None:
    """Reviewer: a capture cut mid-line opens alone with a note, and captures joined with cat play
    one after the other, but the two together were refused whole ("line 3 is not JSON: a damaged
    capture", exit 2): the next capture's first line continues the cut one. The part cut short is
    left out with a note; every whole record of both is read, by replay and by lint alike."""
    first = b"".join(capture_line(frame({"type": "vendor.x", "n": n}), n / 10) for n in range(3))
    second = b"".join(capture_line(frame({"type": "vendor.y", "n": n}), n / 10) for n in range(4))
    path = tmp_path / "joined.jsonl"
    path.write_bytes(first[:-20] + second)  # `head -c` of one, then `cat` of both
    for command in ("lint", "replay"):
        result = read_with(command, path)
        assert result.returncode == 0, result.stderr
        notes = result.stderr.splitlines()
        assert notes[0] == (
            f"rt-tui {command}: note: {path}: line 3 begins with a line cut short (its writer was stopped mid-line, "
            "and another capture joined after it, as cat does): the part cut short is left out, the rest read"
        ), notes
        if command == "replay":
            types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
            assert types == ["vendor.x"] * 2 + ["vendor.y"] * 4
    with pytest.raises(CaptureError, match="line 3 is not JSON"):
        read_capture(path)  # the strict reader still says the file is damaged
    # Damage that is no cut before a whole record is said as before.
    path.write_bytes(first[:-20] + b"garbage\n" + second)
    result = subprocess.run([RT_TUI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "line 3 is not JSON" in result.stderr, result.stderr


# -- kill -9 ----------------------------------------------------------------------------------


def test_kill_9_after_a_turn_ends_loses_no_frame(tmp_path: Path, question_wav: Path) -> None:
    """`send` is idle after response.done (the transcript comes 4 s later): a SIGKILL then loses nothing."""
    from tui.server.testing import background_simulator

    data_dir = tmp_path / "data"
    with background_simulator() as sim:
        url = sim.url_for(transcription="after_response", transcription_delay_ms=4000)
        proc = subprocess.Popen(
            [RT_TUI, "send", str(question_wav), "--url", url, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
        )
        printed: list[dict[str, Any]] = []
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                printed.append(json.loads(line))
                if printed[-1]["type"] == "rate_limits.updated":
                    break
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(30)
    assert printed and printed[-1]["type"] == "rate_limits.updated", "the turn did not end"
    [capture] = data_dir.glob("sessions/*/frames.jsonl")
    on_disk = [json.loads(line) for line in capture.read_text().splitlines()]
    assert {r["seq"] for r in printed} <= {r["seq"] for r in on_disk}  # every frame printed is on disk
    assert capture.read_bytes().endswith(b"\n")


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.audio_helpers import espeak_wav

    return espeak_wav("what is the weather like in London today", tmp_path_factory.mktemp("wav") / "q.wav")


@pytest.mark.parametrize("writer_busy", [False, True])
def test_an_unexpected_error_while_writing_is_a_reported_failure_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer_busy: bool
) -> None:
    """Whichever thread writes the batch (the loop's at an idle turn end, or the writer's), an error
    that is not an OSError stops the capture with a message; the turn end after it returns."""
    errors: list[str] = []
    writer = CaptureWriter(new_session_dir(tmp_path), on_error=errors.append)

    def broken(buffers: list[bytes], lines: int, size: int, *, on_loop: bool = False) -> None:
        raise RuntimeError("not a disk error")

    monkeypatch.setattr(writer, "_write", broken)
    writer.write(delta())
    if writer_busy:
        writer._hand_over(wait=False)  # queued to the writer thread
    writer.write(frame({"type": "response.done", "response": {"status": "completed"}}))  # must return
    writer.write(frame({"type": "response.done", "response": {"status": "completed"}}))
    writer.close()
    assert writer.error is not None and "RuntimeError: not a disk error" in writer.error
    assert errors == [writer.error] and writer.frames_written == 0 and writer.frames_lost == 3
