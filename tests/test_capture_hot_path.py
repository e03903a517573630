"""The capture's hot path (a received frame written as it came) and the release of its written pages.

The hot path inlines `wire_line_head` for a type already embedded once; it must write byte for
byte what the general path writes. The release asks the kernel to drop the page-cache pages of
the file's older part: checked against the kernel itself (`mincore`) and against the file's
content, which nothing may lose.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import json
import mmap
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.protocol import DIR_LOCAL, Direction, Envelope, local_envelope, next_seq, records
from tui.session import CaptureWriter, read_capture
from tui.session import capture as capture_module


def received(event: dict[str, Any], *, spaced: bool = False) -> Envelope:
    raw = json.dumps(event, separators=(", ", ": ") if spaced else (",", ":"), ensure_ascii=False)
    return Envelope(next_seq(), Direction.IN, str(event["type"]), event, raw, wire_size=len(raw.encode()))


def mixed_frames() -> list[Envelope]:
    """Frames of every kind the writer tells apart: types seen before and new ones, non-ASCII
    text, a frame spanning lines, one sent, a local fact, turn ends."""
    frames: list[Envelope] = []
    for turn in range(3):
        frames.append(received({"type": "response.created", "response": {"id": f"resp_{turn}"}}))
        for n in range(5):
            frames.append(received({"type": "response.output_audio.delta", "delta": "AAAA" * (50 + n), "n": n}))
            frames.append(received({"type": "response.output_audio_transcript.delta", "delta": f"café {n} 😀"}))
        frames.append(received({"type": f"vendor.new_{turn}", "x": turn}, spaced=True))
        raw = '{"type":"response.text.delta",\n"delta":"two lines"}'
        frames.append(Envelope(next_seq(), Direction.IN, "response.text.delta", json.loads(raw), raw))
        frames.append(
            Envelope(
                next_seq(), Direction.OUT, "response.create", {"type": "response.create"}, '{"type":"response.create"}'
            )
        )
        frames.append(local_envelope("rt.note", f"turn {turn}"))
        frames.append(received({"type": "response.done", "response": {"status": "completed"}}))
    return frames


def write_all(folder: Path, frames: list[Envelope], *, with_wire: bool) -> bytes:
    folder.mkdir()
    writer = CaptureWriter(folder)
    for env in frames:
        wire = env.raw.encode() if with_wire and env.direction is Direction.IN else None
        writer.write(env, scrubbed=True, wire=wire, more=env.type != "response.done")
    writer.close()
    return writer.path.read_bytes()


def test_the_hot_path_writes_byte_for_byte_what_the_general_path_writes(tmp_path: Path) -> None:
    frames = mixed_frames()
    hot = write_all(tmp_path / "hot", frames, with_wire=True)
    general = write_all(tmp_path / "general", frames, with_wire=False)
    assert hot == general
    back = read_capture(tmp_path / "hot" / "frames.jsonl")
    assert [(e.seq, e.type, e.raw) for e in back] == [(e.seq, e.type, e.raw) for e in frames]
    assert sum(1 for e in back if e.direction is DIR_LOCAL) == 3


def test_frames_that_share_their_times_are_written_as_the_general_path_writes_them(tmp_path: Path) -> None:
    """The frames of one read from the socket share their time objects (`tui.session.wire.Stamp`)
    and the hot path formats those times once: the lines stay byte for byte the general path's,
    for shared times, for equal times in new objects, and for a shared `mono` with another `wall`."""
    frames = mixed_frames()
    shared: list[Envelope] = []
    stamp = (100.25, 1_760_000_000.5)
    for n, env in enumerate(frames):
        if n % 4 == 0:  # a new read: new objects, sometimes with the same values as the last
            stamp = (stamp[0] + (n % 8) * 0.001, stamp[1] + (n % 8) * 0.001)
        mono, wall = stamp
        if n % 7 == 6:
            wall = wall + 2.0  # the same `mono` object beside another `wall`
        shared.append(dataclasses.replace(env, mono=mono, wall=wall))
    hot = write_all(tmp_path / "hot", shared, with_wire=True)
    assert hot == write_all(tmp_path / "general", shared, with_wire=False)
    back = read_capture(tmp_path / "hot" / "frames.jsonl")
    assert [round(e.wall, 6) for e in back] == [round(e.wall, 6) for e in shared]
    assert len({e.mono for e in back}) < len(back) / 2  # the times were shared


def test_a_line_s_times_never_go_back(tmp_path: Path) -> None:
    """A frame read before a line written since (one rt-tui sent, or a fact it noted, while the
    frame waited for the reader) takes that line's times: the file's `t` never goes back (replay
    reads a `t` that does as two captures joined), on the hot path as on the general one."""
    shared: list[Envelope] = []
    mono, wall = 100.25, 1_760_000_000.5
    for n, env in enumerate(mixed_frames()):
        if n % 5 == 0:
            mono, wall = mono + 0.01, wall + 0.01  # a new read
        if env.direction is Direction.IN:
            shared.append(dataclasses.replace(env, mono=mono, wall=wall))
        else:  # made while the read's frames waited: later than the rest of them
            shared.append(dataclasses.replace(env, mono=mono + 0.005, wall=wall + 0.005))
    hot = write_all(tmp_path / "hot", shared, with_wire=True)
    assert hot == write_all(tmp_path / "general", shared, with_wire=False)
    back = read_capture(tmp_path / "hot" / "frames.jsonl")
    times = [(e.mono, e.wall) for e in back]
    assert times == sorted(times)
    late = [n for n, env in enumerate(shared) if env.mono < max(e.mono for e in shared[:n] or [env])]
    assert late  # the frames did wait behind later lines
    assert all(back[n].mono == back[n - 1].mono for n in late)  # the line before's times


def test_the_hot_path_is_taken_for_a_type_seen_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a type's first frame goes through `wire_line_head` (it fails without the hot path)."""
    calls: list[str] = []
    general = records.wire_line_head

    def counted(env: Envelope, t0: float, wire: bytes | bytearray) -> bytes | None:
        calls.append(env.type)
        return general(env, t0, wire)

    monkeypatch.setattr(capture_module, "wire_line_head", counted)
    frames = [received({"type": "response.output_audio.delta", "delta": "AAAA", "n": n}) for n in range(50)]
    write_all(tmp_path / "c", frames, with_wire=True)
    assert calls == ["response.output_audio.delta"]


def test_a_failed_capture_counts_hot_path_frames_lost(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    writer = CaptureWriter(folder)
    frames = [received({"type": "response.output_audio.delta", "delta": "AAAA", "n": n}) for n in range(4)]
    for env in frames[:2]:
        writer.write(env, scrubbed=True, wire=env.raw.encode())
    writer.flush()
    assert writer._fd is not None
    writer._fail(OSError(28, "No space left on device"), writer._end)
    for env in frames[2:]:
        writer.write(env, scrubbed=True, wire=env.raw.encode())
    writer.close()
    assert writer.frames_lost == 2
    assert [e.data["n"] for e in read_capture(writer.path)] == [0, 1]


def audio_frames(total: int) -> list[Envelope]:
    """~6.5 KB audio deltas, as many as make `total` bytes."""
    delta = "QUJD" * 1600
    return [
        received({"type": "response.output_audio.delta", "response_id": "resp_1", "delta": delta, "n": n})
        for n in range(total // 6500 + 1)
    ]


def test_pages_are_released_once_they_are_release_age_old_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer thread notes where the file ends every `RELEASE_STEP`, and advises the kernel to
    drop what was written `RELEASE_AGE` ago or more: nothing while the file is young, then up to
    the newest note that old, from `RELEASE_OVERLAP` before where the last release ended (pages
    still being written to the disk then are covered again); the file is whole."""
    if capture_module._fadvise is None:
        pytest.skip("no posix_fadvise on this platform")
    real = capture_module._fadvise
    advised: list[tuple[int, int, int]] = []  # (start, end, the file's size then)
    now = [1000.0]

    def recorded(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        advised.append((offset, offset + length, os.fstat(fd).st_size))
        real(fd, offset, length, advice)

    monkeypatch.setattr(capture_module, "_fadvise", recorded)
    monkeypatch.setattr(capture_module, "_clock", lambda: now[0])
    folder = tmp_path / "c"
    folder.mkdir()
    writer = CaptureWriter(folder)
    frames = audio_frames(40 << 20)
    young, old = frames[: len(frames) // 2], frames[len(frames) // 2 :]
    for env in young:
        writer.write(env, scrubbed=True, wire=env.raw.encode(), more=True)  # full buffers: the writer thread's
    writer.flush()
    assert advised == []  # all of it written just now: the kernel has not had it long enough to write it
    notes = list(writer._written_at)
    step = capture_module.RELEASE_STEP
    assert len(notes) >= (20 << 20) // (step + capture_module.BUFFER_LIMIT + 6600)
    assert all(b - a >= step for (_, a), (_, b) in zip(notes, notes[1:], strict=False))
    now[0] += capture_module.RELEASE_AGE  # the first half is now old enough
    for number, env in enumerate(old):
        writer.write(env, scrubbed=True, wire=env.raw.encode(), more=True)
        now[0] += 0.03  # the old half spans two RELEASE_AGEs: its own early notes come of age too
        if number % 200 == 199:  # past BUFFER_LIMIT: a batch for the writer thread, which is waited for
            writer.flush()  # so the writer thread keeps up with the clock
    writer.close()
    assert len(advised) >= 2, advised
    first_start, first_end, _ = advised[0]
    assert first_start == 0
    assert first_end >= notes[-1][1]  # every note of the first half was old enough at once
    for (start, end, size), (_, previous_end, _) in zip(advised[1:], advised, strict=False):
        assert start == max(0, previous_end - capture_module.RELEASE_OVERLAP)
        assert previous_end < end <= size
    assert [e.data["n"] for e in read_capture(writer.path)] == list(range(len(frames)))


def resident_pages(path: Path) -> list[bool]:
    """Which of the file's pages are in the page cache, as the kernel says (mincore over a private
    mapping that is never written, so each page is the file's own)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    with path.open("rb") as file, mmap.mmap(file.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        first = ctypes.c_char.from_buffer(mapped)  # the mapping's address (ctypes wants a writable buffer)
        try:
            failed = libc.mincore(ctypes.c_void_p(ctypes.addressof(first)), ctypes.c_size_t(size), vector)
        finally:
            del first  # the mapping cannot close while ctypes holds it
    if failed:
        raise OSError(ctypes.get_errno(), "mincore failed")
    return [bool(v & 1) for v in vector]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and POSIX_FADV_DONTNEED as Linux has them")
def test_the_kernel_drops_the_released_pages_once_they_are_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(capture_module, "_clock", lambda: now[0])
    folder = tmp_path / "c"
    folder.mkdir()
    writer = CaptureWriter(folder)
    for env in audio_frames(24 << 20):
        writer.write(env, scrubbed=True, wire=env.raw.encode(), more=True)
    writer.flush()
    fd = writer._fd
    assert fd is not None
    os.fsync(fd)  # every page clean, as the kernel's flusher leaves them by `RELEASE_AGE`
    end = writer._written_at[-1][1]
    now[0] += capture_module.RELEASE_AGE
    writer._release(fd)
    assert writer._released == end
    writer.close()
    resident = resident_pages(writer.path)
    page = mmap.PAGESIZE
    released = resident[: end // page]  # the whole pages of the release
    assert len(released) >= (20 << 20) // page
    # A few may stay: pages still in another CPU's batch for the page lists (31 to a batch) are
    # skipped. Without the release every one of them is cached.
    assert sum(released) <= len(released) // 20, f"{sum(released)} of {len(released)} released pages still cached"
    print(
        f"pages cached: {sum(resident[: end // page])} of {end // page} released, {sum(resident[end // page :])} kept"
    )


def test_a_batch_of_many_writev_calls_is_written_whole(tmp_path: Path) -> None:
    """A batch of 6,000 buffers takes six `writev` calls: the last is checked against the batch's
    size counted as its lines were built, the others against their own buffers'; every line lands."""
    folder = tmp_path / "c"
    folder.mkdir()
    writer = CaptureWriter(folder)
    frames = [
        received({"type": "response.output_audio_transcript.delta", "delta": "é" * (n % 7), "n": n})
        for n in range(2000)
    ]
    for env in frames:
        writer.write(env, scrubbed=True, wire=env.raw.encode(), more=True)
    assert len(writer._pending) == 6000
    writer.flush()
    assert writer._end == writer.path.stat().st_size
    writer.close()
    assert [e.data["n"] for e in read_capture(writer.path)] == list(range(2000))
