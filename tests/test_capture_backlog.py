"""A turn's end under a backlog: the capture keeps it in its buffer while frames wait behind it,
and has it on disk, with those frames, before the session has caught up with the server.

At a firehose's pace a turn ends every hundred frames or so. Writing each turn's batch on the loop
was most of what the capture cost the reader; handing each one to the writer thread instead woke
that thread a thousand times a second. A backlog's turns now go to disk in a few large batches.
Real files, a real writer thread, and a real session over loopback whose socket holds a burst of
frames.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection

from tests.server_helpers import scripted_peer
from tui.bus import Bus
from tui.protocol import Direction, Envelope, next_seq
from tui.session import FRAMES, CaptureWriter, RealtimeSession, new_session_dir, url_target
from tui.session.capture import BUFFER_LIMIT
from tui.session.wire import WireConnection

DONE = {"type": "response.done", "response": {"status": "completed"}}


def frame(event: dict[str, Any]) -> Envelope:
    return Envelope(next_seq(), Direction.IN, str(event["type"]), event, json.dumps(event, separators=(",", ":")))


def delta(n: int) -> Envelope:
    return frame({"type": "response.output_audio.delta", "response_id": "resp_1", "delta": "AAAA" * 400, "n": n})


def on_disk(path: Path) -> list[str]:
    """The types of the file's whole lines."""
    text = path.read_text()
    return [json.loads(line)["type"] for line in text[: text.rfind("\n") + 1].splitlines()]


class GatedWrites:
    """Wraps a writer's `_write`: notes each batch's types and which thread wrote each batch that held
    a turn's end, and holds the writer thread's batches until `gate` is set."""

    def __init__(self, writer: CaptureWriter) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.turn_ends_by: list[str] = []
        self.batches: list[list[str]] = []
        real = writer._write

        def write(buffers: list[bytes | bytearray], lines: int, size: int, *, on_loop: bool = False) -> None:
            if not on_loop:
                self.gate.wait()
            text = b"".join(buffers).decode()
            self.batches.append([json.loads(line)["type"] for line in text.splitlines()])
            if '"type":"response.done"' in text:
                self.turn_ends_by.append(threading.current_thread().name)
            real(buffers, lines, size, on_loop=on_loop)

        writer._write = write  # type: ignore[method-assign]


def test_a_turn_end_with_frames_behind_it_is_written_with_them_once_they_are_read(tmp_path: Path) -> None:
    writer = CaptureWriter(new_session_dir(tmp_path))
    writes = GatedWrites(writer)
    writer.write(delta(0), more=True)
    writer.write(frame(DONE), more=True)
    writer.write(delta(1), more=True)
    writer.write(frame(DONE), more=True)  # a second turn in the same backlog
    assert on_disk(writer.path) == [] and writes.batches == []  # neither written nor handed over yet
    writer.write(delta(2), more=False)  # caught up: returns once both turns are on disk
    assert on_disk(writer.path) == [
        "response.output_audio.delta",
        "response.done",
        "response.output_audio.delta",
        "response.done",
        "response.output_audio.delta",
    ]
    assert len(writes.batches) == 1  # one write for the backlog, not one per turn
    writer.close()


def test_a_full_buffer_under_a_backlog_goes_to_the_writer_thread_and_the_catch_up_waits_for_it(
    tmp_path: Path,
) -> None:
    """A backlog longer than the buffer: the full buffer (holding the turn's end) is handed to the
    writer thread without waiting, and the write that catches up returns once the thread has it on
    disk (the thread writes in order, so waiting for the last batch covers the turn)."""
    writer = CaptureWriter(new_session_dir(tmp_path))
    writes = GatedWrites(writer)
    writes.gate.clear()  # the writer thread cannot finish: a caller that waited for it now would hang
    writer.write(frame(DONE), more=True)
    n = 0
    while writer._batches_sent == 0:  # until the buffer is full and handed over
        assert n * len(delta(n).raw) < 2 * BUFFER_LIMIT, "the full buffer was never handed over"
        writer.write(delta(n), more=True)
        n += 1
    assert on_disk(writer.path) == []
    writes.gate.set()
    writer.write(delta(n), more=False)
    assert on_disk(writer.path)[:1] == ["response.done"] and len(on_disk(writer.path)) == n + 2
    assert writes.turn_ends_by == ["rt-capture"]
    writer.close()


def test_a_turn_end_with_nothing_behind_it_is_on_disk_on_return(tmp_path: Path) -> None:
    writer = CaptureWriter(new_session_dir(tmp_path))
    writes = GatedWrites(writer)
    writer.write(delta(0), more=True)
    writer.write(frame(DONE))  # `more` false: what every caller that cannot tell gets
    assert on_disk(writer.path) == ["response.output_audio.delta", "response.done"]
    assert writes.turn_ends_by == [threading.current_thread().name]  # the idle writer thread was not woken
    writer.close()


def test_the_socket_is_asked_for_a_backlog_only_at_a_turn_s_end_and_while_that_turn_waits(tmp_path: Path) -> None:
    """`unread` (the socket's kernel buffer) costs a system call: the hot path asks it at a turn's end
    written with `more` false and while that turn waits, never for the frames in between; while it
    says data waits, the turn stays in the buffer, and the first write it says nothing waits for
    writes the turn."""
    writer = CaptureWriter(new_session_dir(tmp_path))
    asked: list[bool] = []
    behind = True

    def unread() -> bool:
        asked.append(behind)
        return behind

    writer.unread = unread
    for n in range(5):
        env = delta(n)
        writer.write_wire(env, env.raw.encode())
    assert asked == []
    done = frame(DONE)
    writer.write_wire(done, done.raw.encode())
    assert asked == [True] and "response.done" not in on_disk(writer.path)  # held: the socket has more
    env = delta(5)
    writer.write_wire(env, env.raw.encode(), True)  # `more`: the reader knows without asking
    assert asked == [True]
    behind = False
    env = delta(6)
    writer.write_wire(env, env.raw.encode())  # caught up: the turn and what followed it are on disk
    assert asked == [True, False]
    assert on_disk(writer.path)[-3:] == ["response.done", "response.output_audio.delta", "response.output_audio.delta"]
    env = delta(7)
    writer.write_wire(env, env.raw.encode())
    assert asked == [True, False]  # no turn waits: not asked
    writer.close()


def test_flush_and_a_second_turn_end_write_a_turn_held_under_a_backlog(tmp_path: Path) -> None:
    for second in ("flush", "turn end"):
        writer = CaptureWriter(new_session_dir(tmp_path))
        writer.write(frame(DONE), more=True)
        assert on_disk(writer.path) == []
        if second == "flush":
            writer.flush()
        else:
            writer.write(frame(DONE))
        assert on_disk(writer.path)[:1] == ["response.done"], second
        writer.close()


async def test_the_socket_s_unread_bytes_count_as_a_backlog() -> None:
    """`backlog()` is true for a whole message in websockets' queue and for bytes the kernel holds
    that the loop has not read; false once the reader has caught up."""
    sent = asyncio.Event()
    go = asyncio.Event()

    async def peer(ws: ServerConnection) -> None:
        await ws.send('{"type":"a"}')
        await go.wait()
        await ws.send('{"type":"b"}')  # into the client's socket buffer: loopback delivers at once
        await ws.send('{"type":"c"}')
        sent.set()
        await ws.wait_closed()

    async with scripted_peer(peer) as url:
        from websockets.asyncio.client import connect

        async with connect(url, create_connection=WireConnection) as ws:
            assert isinstance(ws, WireConnection)
            assert await ws.recv() == '{"type":"a"}'
            ws.take()
            assert not ws.backlog()
            ws.transport.pause_reading()
            go.set()
            await sent.wait()
            assert ws.backlog()  # only the kernel has them
            ws.transport.resume_reading()
            assert await ws.recv() == '{"type":"b"}'
            ws.take()
            assert ws.backlog()  # "c" came in the same read
            assert await ws.recv() == '{"type":"c"}'
            ws.take()
            assert not ws.backlog()


async def test_a_session_behind_the_server_has_the_backlog_s_turn_on_disk_when_caught_up(
    tmp_path: Path,
) -> None:
    """A burst of frames with a turn's end inside waits in the socket: the reader keeps that turn in
    the buffer while it reads the burst, and it is on disk, in one write with the rest of the burst,
    before the burst's last frame is published. A turn's end that comes alone is on disk before it
    is published, as always."""
    burst_sent = asyncio.Event()
    filler = "x" * 300
    burst = [
        *(json.dumps({"type": "response.output_text.delta", "delta": filler, "n": n}) for n in range(10)),
        json.dumps(DONE),
        *(json.dumps({"type": "response.output_text.delta", "delta": filler, "n": n}) for n in range(10, 20)),
    ]

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_backlog"}}))
        async for message in ws:
            if json.loads(message)["type"] == "burst":
                for text in burst:
                    await ws.send(text)
                burst_sent.set()
            else:
                await ws.send(json.dumps(DONE))

    folder = new_session_dir(tmp_path)
    async with scripted_peer(peer) as url:
        bus = Bus()
        feed = bus.subscribe(FRAMES)
        capture = CaptureWriter(folder)
        writes = GatedWrites(capture)
        session = RealtimeSession(url_target(url), bus, capture=capture)
        await session.connect()
        try:
            assert session._ws is not None
            session._ws.transport.pause_reading()  # the burst gathers in the socket: a backlog
            session.send({"type": "burst"})
            await asyncio.wait_for(burst_sent.wait(), 10)
            session._ws.transport.resume_reading()
            last = burst[-1]
            while (await asyncio.wait_for(feed.get(), 10)).raw != last:
                pass
            assert "response.done" in on_disk(capture.path)  # caught up: the turn is on disk
            burst_write = [batch for batch in writes.batches if "response.done" in batch]
            assert len(burst_write) == 1 and burst_write[0][-1] == "response.output_text.delta"  # the burst's end

            session.send({"type": "alone"})
            while (await asyncio.wait_for(feed.get(), 10)).type != "response.done":
                pass
            assert on_disk(capture.path).count("response.done") == 2
            assert writes.batches[-1][-1] == "response.done"  # written when it came, the last line of its write
        finally:
            await session.close()
            capture.close()
