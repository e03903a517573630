"""The capture file: every frame of a session, in both directions, as JSON lines on disk.

One folder per session under the user data directory (0700, its file 0600), so nothing the event
log forgets is lost and nobody else can read it. The API key is never written: frames are scrubbed
of it before they reach the disk.

One line per envelope, strict JSON (`tui.protocol.strict_json`), in the order the session saw them:

    {"seq": 12, "dir": "in", "t": 1.234567, "wall": 1760000000.123456, "type": "response.done",
     "size": 812, "frame": <the frame's JSON text, byte for byte as it crossed the wire>}

- `seq`: the envelope's sequence number (frames and local facts share one order);
- `dir`: `in` (from the server), `out` (sent by rt-tui) or `local` (a fact of rt-tui itself);
- `t`: seconds since the capture's first envelope (monotonic clock); `wall`: Unix time (for a
  received frame, both are when its bytes came off the socket: `tui.session.wire.Stamp`). A
  line's times never go back: a frame read from the socket before a line written since (a frame
  rt-tui sent, a fact it noted, while the frame waited for the reader) takes that line's times,
  so a file whose `t` goes back is two captures joined (`cat a b`), as replay reads it;
- `type`: the frame's `type` (`rt.malformed` for a frame that did not parse, `rt.*` for local facts);
- `size`: bytes on the wire;
- `frame`: a frame that parsed, embedded as the very text that crossed the wire (so `jq .frame`
  reads it, and the reader gets the exact bytes back by slicing the line; it is always the last
  key); or `raw`: a frame's exact text as a JSON string, when embedding it would not be strict
  one-line JSON (it did not parse, holds NaN/Infinity, or spans lines); or `raw_b64`: a binary
  frame's bytes in base64;
- `info`: for local facts and frames that did not parse, the data rt-tui attached (a message,
  a state); local facts have no `raw`.

Crash safety: lines are buffered in memory and written by one `writev` per batch (in a thread of
the writer's own: the copy into the kernel takes longer than building the line; `writev` takes the
lines as they are, so the loop never joins a megabyte batch into one buffer; a received frame's
line is three buffers, its head, its bytes as they came off the socket and its end, so the frame
itself is never copied or encoded on the loop), at most
`FLUSH_INTERVAL` after the oldest buffered line (an asyncio timer: an idle session is flushed
too), at every turn's end (`response.done`: on disk before the frame is published, so what a user
saw end a turn survives a kill; under a backlog, with frames already received behind it, the turn
is on disk before the caller runs out of frames, written with the backlog's other frames: see
`write`'s `more`), when the buffer grows past `BUFFER_LIMIT`, and on close, which also fsyncs.
The writer thread releases the page-cache pages of what it wrote `RELEASE_AGE` ago and more
(`_release`): a capture is written once and seldom read.
A batch that fails (a full disk) is cut back to its last whole line, so the file never holds half
a record; the failure is reported once through `on_error` and the
capture stops, while the session goes on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import errno
import json
import math
import os
import queue
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tui.protocol import DIR_IN, DIR_LOCAL, Direction, Envelope, FrameError, checked, parse, strict_json
from tui.protocol.codec import MAX_DEPTH, json_reason, json_type_name
from tui.protocol.envelope import local_raw
from tui.protocol.records import (
    INT64_LIMIT,
    QUOTED_TYPE_BYTES,
    TIME_LIMIT,
    WIRE_HEAD_IN,
    WIRE_LINE_END,
    WIRE_WHEN,
    capture_line,
    embedded_envelope,
    embedded_frame,
    line_seq,
    record_beside_frame,
    wire_line_head,
)

from .scrub import Scrubber

FLUSH_INTERVAL = 0.25
"""Seconds a buffered line may wait before it is written: the most a crash can lose."""

BUFFER_LIMIT = 1 << 20
"""Bytes buffered before a write regardless of the timer (bounded memory, about one write per MiB)."""

_IOV_MAX = 1024
"""Lines per `writev` call (POSIX guarantees at least 16; Linux and macOS take 1,024)."""

RELEASE_AGE = 45.0
"""Seconds after its write a page of the file is released (see `_release`): by then the kernel has
written it to the disk of its own accord (Linux writes a dirty page once it is 30 s old,
`vm.dirty_expire_centisecs`, looking every 5 s, `vm.dirty_writeback_centisecs`), so the release
drops clean pages and starts no disk writes on the writer thread."""

RELEASE_STEP = 1 << 20
"""Bytes written between two notes of where the file ended and when (what `_release` goes by)."""

RELEASE_OVERLAP = 4 << 20
"""Bytes before the last release's end that the next one covers again: pages still being written
to the disk then were skipped."""

_fadvise = getattr(os, "posix_fadvise", None)
_clock = time.monotonic
"""The clock `_release` goes by (a test's to set)."""
_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 0)

TURN_END = frozenset({"response.done", "rate_limits.updated"})
"""Frames after which the buffer is written at once: a turn has ended (`rate_limits.updated` follows
`response.done` by ~40 ms) and the session is likely to go idle."""

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class CaptureError(ValueError):
    """A file that cannot be read as a capture; the message is one line naming the file and line."""


def data_dir() -> Path:
    """rt-tui's user data directory (RT_TUI_DATA_DIR, else $XDG_DATA_HOME/rt-tui)."""
    override = os.environ.get("RT_TUI_DATA_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rt-tui"


def make_private_dirs(path: Path) -> None:
    """Create `path` and any missing parents as 0700 folders (existing ones are left as they are)."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made meanwhile by another rt-tui: theirs to set
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask: set it exactly


def new_session_dir(root: Path | None = None) -> Path:
    """Create and return a fresh per-session folder (0700), named by start time."""
    root = root or data_dir() / "sessions"
    make_private_dirs(root)
    path = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    path.mkdir(mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


class CaptureWriter:
    """Appends envelopes to `frames.jsonl` in a session folder, scrubbing the secret (see module doc).

        Lines are built and buffered on the caller's thread (the event loop); each batch is written by a
        thread of the writer's own, so the copy into the kernel (a few milliseconds per megabyte) never
        holds up the session. The timer and a full buffer only hand the batch over; `flush`, `close` and a
        turn's end wait for the disk (when the writer thread is idle, which it nearly always is by a
        turn's end, the caller's thread writes that small batch itself rather than wake it and wait;
    under a backlog the wait comes once the caller has caught up: see `write`).
        Without a running loop the buffer is written when its oldest line is `FLUSH_INTERVAL` old,
        checked on each write.
    """

    FILENAME = "frames.jsonl"

    def __init__(
        self,
        folder: Path,
        secrets: tuple[str | None, ...] = (),
        *,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = folder
        self.path = folder / self.FILENAME
        self.on_error = on_error
        """Called once, with a one-line message, when the capture fails and stops (on the loop's thread)."""
        self.error: str | None = None
        """The failure's one-line message, once the capture has failed."""
        self.frames_written = 0
        """Lines on disk (written whole)."""
        self.frames_lost = 0
        """Envelopes not saved because the capture had failed."""
        self.secrets = frozenset(s for s in secrets if s)
        """The credentials kept out of the file."""
        self._scrub = Scrubber(secrets)
        self._fd: int | None = _open_private(self.path)
        self._end = os.lseek(self._fd, 0, os.SEEK_END)
        """Where the last whole line ends: a failed batch is cut back to here (the writer thread's)."""
        self._released = self._end
        """Where the page-cache pages last released end (`_release`; the writer thread's)."""
        self._written_at: deque[tuple[float, int]] = deque()
        """(when, where the file ended then), one every `RELEASE_STEP` bytes, oldest first: what is
        old enough to release (`_release`; the thread writing the batch's)."""
        self._noted = self._end
        """Where the file ended at the last note in `_written_at`."""
        self._last_seq: int | None = None
        self._failed = False
        self._closed = False
        self._open = True
        """Neither closed nor failed (one test for the hot path)."""
        self._when = b""
        """The hot path's last times formatted (`WIRE_WHEN`), for `_when_mono` and `_when_wall`."""
        self._when_mono: float | None = None
        self._when_wall: float | None = None
        self._last_mono = -math.inf
        """The latest time a line was written with (monotonic), and `_last_wall` its Unix time: no
        line is written earlier (see the module doc)."""
        self._last_wall = -math.inf
        self._pending: list[bytes | bytearray] = []
        """Buffers to write: a line is one buffer, or three (a head, a frame's wire bytes, its end)."""
        self._pending_lines = 0
        self._pending_bytes = 0
        self._pending_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._t0: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batches_sent = 0
        """Batches queued for the writer thread (counted by the caller's thread only)."""
        self._batches_done = 0
        """Batches the writer thread has finished (counted by it only): equal counts mean it is idle."""
        self._batches: queue.SimpleQueue[tuple[list[bytes | bytearray], int, int, threading.Event | None] | None] = (
            queue.SimpleQueue()
        )
        self._turn_due = False
        """A turn ended under a backlog (`more`) and is not on disk yet: written once the caller catches up."""
        self.unread: Callable[[], bool] | None = None
        """Whether more of the peer's data waits unread behind the frames written (the socket's kernel
        buffer), for a caller whose `more` says only what it knows for free (websockets' own queue).
        Asking costs a system call, about a microsecond, so it is asked only where the answer matters:
        at a turn's end written with `more` false, and while a turn waits for its backlog to end (the
        reader asked it for every frame that emptied websockets' queue; at a firehose's pace, with many
        frames a read, that was rarely, and `make bench` shows no measurable change)."""
        self._thread = threading.Thread(target=self._write_batches, name="rt-capture", daemon=True)
        self._thread.start()

    def write(
        self, env: Envelope, *, scrubbed: bool = False, wire: bytes | bytearray | None = None, more: bool = False
    ) -> None:
        """Buffer one envelope's line; it reaches the disk within FLUSH_INTERVAL (see class doc).

        `scrubbed`: the caller has already removed this writer's secrets (the session does, before
        publishing), so they are not searched for twice.
        `wire`: a received frame's bytes as they came, when `env.raw` is their text unchanged (no
        secret was scrubbed from it) and they parsed as strict JSON (`parse_frame`): they are
        written as they are, not encoded again from `raw`.
        `more`: frames the caller has already received wait behind this one, or (`unread`, asked only
        when `more` is false at a turn's end) the peer's data waits unread: a backlog (the session
        reads faster than the server sends only when it has fallen behind). A turn's end then stays
        in the buffer, and the first write with no backlog behind it writes it with everything after it: the
        turn is on disk before the caller runs out of frames and lets anything else run, as a turn's
        end always is, but a backlog that holds many turns is written in a few large batches, not one
        per turn (at a firehose's pace a turn ends every hundred frames, and handing each turn to the
        writer thread cost more than its writes). A caller that cannot tell leaves it false: each
        turn's end is then on disk on return.
        """
        if wire is not None and scrubbed:
            self.write_wire(env, wire, more)
            return
        self._write_general(env, scrubbed, wire, more)

    def write_wire(self, env: Envelope, wire: bytes | bytearray, more: bool = False) -> None:
        """`write(env, scrubbed=True, wire=wire, more=more)`: the session's call for each received
        frame, taken without keyword arguments (a firehose's frames cost less each)."""
        t0 = self._t0
        raw = env.raw
        etype = env.type
        quoted = QUOTED_TYPE_BYTES.get(etype)
        if (
            quoted is None  # a type not embedded before: the general path embeds it once
            or t0 is None
            or not self._open
            or "\n" in raw
            or "\r" in raw
            or env.direction is not DIR_IN
            or not env.data
        ):
            self._write_general(env, True, wire, more)
            return
        # The hot path, `wire_line_head` inlined: a received frame as it came, on one line. The
        # frames of one read from the socket share their times (the same objects): formatted once.
        mono, wall = env.mono, env.wall
        if mono is self._when_mono and wall is self._when_wall:
            when = self._when
        else:
            if mono < self._last_mono:  # read before a line written since (see the module doc)
                when = WIRE_WHEN % (self._last_mono - t0, self._last_wall)
            else:
                when = WIRE_WHEN % (mono - t0, wall)
                self._last_mono, self._last_wall = mono, wall
            self._when, self._when_mono, self._when_wall = when, mono, wall
        size = len(wire)
        start = WIRE_HEAD_IN % (env.seq, when, quoted, size)
        self._pending += (start, wire, WIRE_LINE_END)
        self._pending_bytes += len(start) + size + 2
        self._pending_lines += 1
        if etype in TURN_END or self._turn_due or self._pending_bytes >= BUFFER_LIMIT or self._timer is None:
            self._after_line(etype, more)  # else nothing to do: the timer is set, the buffer has room

    def _write_general(self, env: Envelope, scrubbed: bool, wire: bytes | bytearray | None, more: bool) -> None:
        """`write`'s general path: any envelope, scrubbed here unless `scrubbed`."""
        if self._failed:
            self.frames_lost += 1
            return
        if self._closed:
            return
        if self._t0 is None:
            self._t0 = env.mono
        clean = env if scrubbed else self._scrub.envelope(env)
        unchanged = clean is env
        if clean.mono < self._last_mono:  # a line's times never go back (see the module doc)
            clean = dataclasses.replace(clean, mono=self._last_mono, wall=self._last_wall)
        else:
            self._last_mono, self._last_wall = clean.mono, clean.wall
        self._when_mono = None  # the hot path's times may be older than this line's: formatted again
        head = wire_line_head(clean, self._t0, wire) if wire is not None and unchanged else None
        if head is not None:
            assert wire is not None
            self._pending += (head, wire, WIRE_LINE_END)
            self._pending_bytes += len(head) + len(wire) + 2
        else:
            line = capture_line(clean, self._t0)
            self._pending.append(line)
            self._pending_bytes += len(line)
        self._pending_lines += 1
        self._after_line(env.type, more)

    def _after_line(self, etype: str, more: bool) -> None:
        """Hand the buffer over when a line calls for it (a turn's end, a full buffer), else make
        sure the timer will."""
        if (self._turn_due or etype in TURN_END) and not (more or (self.unread is not None and self.unread())):
            self._hand_over(wait=True)  # a turn ended (in the backlog just read): on disk before anything else
            return
        if etype in TURN_END:
            self._turn_due = True  # frames wait behind it: written with them once they are read
        if self._pending_bytes >= BUFFER_LIMIT:
            self._hand_over(wait=False)
        elif self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop (a script writing envelopes): write when the oldest buffered line is due.
            now = time.monotonic()
            if self._pending_since is None:
                self._pending_since = now
            elif now - self._pending_since >= FLUSH_INTERVAL:
                self.flush()
            return
        self._loop = loop
        self._timer = loop.call_later(FLUSH_INTERVAL, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._hand_over(wait=False)

    def flush(self) -> None:
        """Write the buffered lines now, and wait until they are on disk."""
        self._hand_over(wait=True)

    def _hand_over(self, *, wait: bool) -> None:
        """Hand the buffered lines over; with `wait`, return once they are on disk."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending_since = None
        if wait:
            self._turn_due = False  # the writer thread works in order: this wait covers the turn
        if self._closed or (self._failed and not self._pending):
            return
        if self._loop is None:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()
        if wait and self._batches_done == self._batches_sent:
            # The writer thread is idle with nothing queued, so the loop's thread writes the batch
            # itself: on disk on return, without two thread wake-ups per turn end.
            buffers, lines, size = self._pending, self._pending_lines, self._pending_bytes
            self._pending, self._pending_lines, self._pending_bytes = [], 0, 0
            self._write_batch(buffers, lines, size, on_loop=True)
            return
        done = threading.Event() if wait else None
        if self._pending or done is not None:
            self._batches_sent += 1
            # An empty batch: a marker to wait on.
            self._batches.put((self._pending, self._pending_lines, self._pending_bytes, done))
            self._pending, self._pending_lines, self._pending_bytes = [], 0, 0
        if done is not None:
            done.wait()

    def _write_batches(self) -> None:
        """The writer thread: one `writev` per batch of up to _IOV_MAX lines (more only if the kernel
        takes less)."""
        while True:
            batch = self._batches.get()
            if batch is None:
                return
            buffers, lines, size, done = batch
            try:
                self._write_batch(buffers, lines, size)
            finally:
                self._batches_done += 1
                if done is not None:
                    done.set()

    def _write_batch(self, buffers: list[bytes | bytearray], lines: int, size: int, *, on_loop: bool = False) -> None:
        """Write a batch (`lines` lines in `buffers`, `size` bytes), or count it lost once the capture has failed.
        Whatever goes wrong ends as a reported capture failure: a writer thread that died would hang
        the next turn end, and an exception on the loop would reach the session."""
        if not buffers:
            return
        if self._fd is None:
            self.frames_lost += lines
            return
        try:
            self._write(buffers, lines, size, on_loop=on_loop)
        except Exception as exc:  # noqa: BLE001 - see the docstring: OSError is handled in _write
            self.frames_lost += lines
            if self._fd is not None:
                self._fail(OSError(errno.EIO, f"{type(exc).__name__}: {exc}"), self._end, on_loop=on_loop)

    def _write(self, buffers: list[bytes | bytearray], lines: int, size: int, *, on_loop: bool = False) -> None:
        """Write whole lines; on an error keep the whole ones, cut the rest and report (see `_report`).

        `size`: the batch's bytes, counted as its lines were built, so the last (most often the only)
        `writev` of a batch is checked without summing a thousand buffers' lengths, ~20-50 µs that the
        writer thread would hold the GIL for, and the loop wait for.

        A line ends with the buffer that ends in a newline (a head or a frame's wire bytes never
        does), so a line of three buffers is cut whole like a line of one.
        """
        fd = self._fd
        assert fd is not None
        done = 0  # buffers wholly on disk
        done_bytes = 0  # their bytes
        partial = 0  # bytes of buffers[done] on disk (a short write stopped inside it)
        try:
            while done < len(buffers):
                if partial:
                    count = os.write(fd, memoryview(buffers[done])[partial:])
                else:
                    chunk = buffers[done : done + _IOV_MAX]
                    count = os.writev(fd, chunk)
                    last = done + len(chunk) == len(buffers)
                    if count == (size - done_bytes if last else sum(map(len, chunk))):  # all taken: the usual case
                        done += len(chunk)
                        done_bytes += count
                        continue
                if count == 0:  # never for a regular file with room; guards against spinning forever
                    raise OSError(errno.EIO, "the file took no bytes")
                taken, partial = partial + count, 0
                while taken and done < len(buffers):
                    size = len(buffers[done])
                    if taken < size:
                        partial = taken
                        break
                    taken -= size
                    done_bytes += size
                    done += 1
        except OSError as exc:
            # Keep the whole lines that made it, cut the rest: the file never holds half a record.
            whole, whole_bytes, last_start = _whole_lines(buffers[:done])
            self.frames_written += whole
            if last_start is not None:
                self._last_seq = line_seq(buffers[last_start])
            self.frames_lost += lines - whole
            self._fail(exc, self._end + whole_bytes, on_loop=on_loop)
            return
        self._end += done_bytes
        self.frames_written += lines
        if self._end - self._noted >= RELEASE_STEP:
            self._noted = self._end
            self._written_at.append((_clock(), self._end))
        if not on_loop and self._written_at and _clock() - self._written_at[0][0] >= RELEASE_AGE:
            self._release(fd)
        self._last_seq = line_seq(buffers[-3] if buffers[-1] is WIRE_LINE_END else buffers[-1])

    def _release(self, fd: int) -> None:
        """Release the page-cache pages of what was written `RELEASE_AGE` ago or more, on the writer
        thread (the loop's thread writes a batch only when this one is idle: never at once).

        A capture is written once and read later, if ever: an hour of audio would otherwise sit in
        the page cache as ~350 MB that nothing reads. The pages are that old so the kernel has
        written them to the disk already: POSIX_FADV_DONTNEED drops clean pages at little cost, but
        on dirty ones it starts their writing to the disk there and then, on this thread. With a
        release 4 MiB behind the file's end, as before, that writing, work the kernel's own flusher
        does later for any file a program writes, cost the reader bench's capture about two points
        of the reader's rate (medians of five alternating runs, 2026-12-06: 19% against 17%; see the
        README). Pages still dirty then are skipped: the next release starts `RELEASE_OVERLAP` back.
        """
        now = _clock()
        end = None
        while self._written_at and now - self._written_at[0][0] >= RELEASE_AGE:
            end = self._written_at.popleft()[1]
        if end is None or _fadvise is None:  # not on macOS or Windows: the page cache is left to the system
            return
        start = max(0, self._released - RELEASE_OVERLAP)
        with contextlib.suppress(OSError):  # advice only: a file system that cannot take it loses nothing
            _fadvise(fd, start, end - start, _DONTNEED)
        self._released = end

    def close(self) -> None:
        """Write what is buffered, fsync and close. Safe to call more than once."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._open = False
        self._batches.put(None)
        self._thread.join()
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError as exc:
            self._report(exc)
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):  # the file's name too, so a power cut does not lose the file
            folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def _fail(self, exc: OSError, end: int, *, on_loop: bool = False) -> None:
        fd, self._fd = self._fd, None
        self._failed = True
        self._open = False
        assert fd is not None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, end)  # shrinking frees space even on a full disk
        with contextlib.suppress(OSError):
            os.close(fd)
        self._end = end
        self._report(exc, on_loop=on_loop)

    def _report(self, exc: OSError, *, on_loop: bool = False) -> None:
        """Keep the failure's message and tell `on_error` once: on the loop's thread, and never in the
        middle of a `write` (whose caller is publishing the frame: the notice comes after it)."""
        if self.error is not None:
            return
        upto = f"up to #{self._last_seq}" if self._last_seq is not None else "none yet"
        self.error = (
            f"capture failed: {exc.strerror or exc} writing {self.path} "
            f"(it keeps {self.frames_written} whole frames, {upto}; later frames are not saved)"
        )
        if self.on_error is None:
            return
        loop = self._loop
        if loop is not None and threading.current_thread() is self._thread and not loop.is_closed():
            loop.call_soon_threadsafe(self.on_error, self.error)  # the session's bus lives on the loop
        elif loop is not None and on_loop and loop.is_running():
            loop.call_soon(self.on_error, self.error)
        else:
            self.on_error(self.error)


def _whole_lines(buffers: list[bytes | bytearray]) -> tuple[int, int, int | None]:
    """(lines, bytes) of the whole lines at the start of `buffers`, and where the last one starts."""
    lines = size = whole_bytes = start = 0
    last_start: int | None = None
    for index, buffer in enumerate(buffers):
        size += len(buffer)
        if buffer.endswith(b"\n"):
            lines, whole_bytes, last_start, start = lines + 1, size, start, index + 1
    return lines, whole_bytes, last_start


def _open_private(path: Path) -> int:
    """Open `path` for appending; a file rt-tui creates is 0600 exactly (an existing one, or what a
    symlink points to, keeps its mode: it is not rt-tui's to change)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return os.open(path, flags)
    os.fchmod(fd, PRIVATE_FILE)  # the umask may have narrowed it further
    return fd


def iter_capture(path: Path | str, *, on_cut_line: Callable[[str], None] | None = None) -> Iterator[Envelope]:
    """The envelopes of a capture file, in order (see `read_capture`).

    `on_cut_line`: a last line cut short (rt-tui was killed in the middle of writing it) ends the
    file with a note to this callback (what was whole is kept) instead of a CaptureError.
    """
    path = Path(path)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from None
    with file:
        yield from iter_capture_lines(file, path, on_cut_line=on_cut_line)


def iter_capture_lines(
    lines: Iterable[bytes],
    path: Path,
    *,
    on_cut_line: Callable[[str], None] | None = None,
    on_damaged_line: Callable[[str], None] | None = None,
) -> Iterator[Envelope]:
    """`iter_capture` over lines already being read (a pipe can be read only once); `path` names
    the input in messages.

    `on_damaged_line`: a damaged whole line after the first record (not JSON, NUL bytes where writes
    were lost, not a record) is left out, its reason said to this callback, and the lines after it
    are read, instead of a CaptureError refusing the whole file. The first record must be whole: a
    file that does not begin as a capture is not one."""
    number = records = 0
    for number, line in enumerate(lines, start=1):
        if line.isspace():
            # A blank line (`cat a.jsonl <(echo) b.jsonl`, an editor's) holds no record and no damage;
            # bytes.isspace() looks at the line in place. Line numbers in messages stay the file's.
            continue
        records += 1
        # The usual line (a frame that parsed, embedded) is read with its frame parsed once; any
        # other (`raw`, `info`, damaged, cut) is judged by `_envelope`, which gives the same envelope.
        envelope = embedded_envelope(line)
        if envelope is not None:
            yield envelope
            continue
        try:
            envelope = _envelope(line, number, path, first=records == 1)
        except CaptureError as error:
            joined = _after_a_cut(line, number, path) if on_cut_line is not None else None
            if joined is not None and on_cut_line is not None:
                on_cut_line(
                    f"{path}: line {number} begins with a line cut short (its writer was stopped mid-line, and "
                    "another capture joined after it, as cat does): the part cut short is left out, the rest read"
                )
                yield joined
                continue
            if on_damaged_line is not None and line.endswith(b"\n") and records > 1:
                on_damaged_line(f"{error}: left out, the lines after it read")
                continue
            if on_cut_line is None or line.endswith(b"\n") or records == 1:
                raise
            on_cut_line(
                f"{path}: line {number} is cut short: the file ends inside it (the writer was stopped "
                f"mid-line); {_whole_before(number)} read, up to line {number - 1}"
            )
            return
        yield envelope
    if records == 0:
        raise CaptureError(f"{path}: empty file, not an rt-tui capture")


_RECORD_START = re.compile(rb'\{"seq": ?-?[0-9]')
"""How every capture record begins (rt-tui writes `seq` first); inside a record's strings a quote
is escaped, so unescaped, this is where a record starts."""


def _after_a_cut(line: bytes, number: int, path: Path) -> Envelope | None:
    """The record a damaged `line` ends with, when it is a line cut short with a whole record after
    it: a capture cut mid-line (rt-tui killed) and another joined after it (`cat a b`), whose first
    line then continues the cut one. None when the line is no such thing (damage is said as before)."""
    for start in _RECORD_START.finditer(line, 1):
        tail = line[start.start() :]
        try:
            return embedded_envelope(tail) or _envelope(tail, number, path, first=False)
        except CaptureError:
            continue
    return None


def read_capture(path: Path | str) -> list[Envelope]:
    """Read a capture file back into envelopes: the same seq, direction, type, size and raw text;
    a frame's data parsed again from its raw text, a local fact's from `info`; `mono` is the
    capture's `t` (seconds since its first envelope), `wall` its Unix time. A frame the parser
    refuses (nested past MAX_DEPTH, even past json's own limit; an integer past Python's digits)
    comes as a live session made it: `rt.malformed`, its text kept, and the lines after it are read.

    Raises CaptureError (one line, naming the line number) for a damaged line, an empty file or a
    file that is not a capture.
    """
    return list(iter_capture(path))


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "seq": int,
    "dir": str,
    "t": (int, float),
    "wall": (int, float),
    "type": str,
    "size": int,
}


def _cut_short(where: str, number: int, what: str) -> CaptureError:
    """A last line the file ends inside (no newline), whether the cut fell between two characters
    or inside one."""
    return CaptureError(
        f"{where} is cut short: the file ends inside it (the writer was stopped mid-line); "
        f"{_whole_before(number)} whole: {what}"
    )


def _whole_before(number: int) -> str:
    """`the line before it is` / `the 102 lines before it are`, for line `number`."""
    return "the line before it is" if number == 2 else f"the {number - 1:,} lines before it are"


def _envelope(line: bytes, number: int, path: Path, *, first: bool) -> Envelope:
    where = f"{path}: line {number}"
    what = "not an rt-tui capture file" if first else "a damaged capture"
    if b"\0" in line and line.endswith(b"\n"):
        # What a file system leaves where writes were lost (a power cut), never in a line rt-tui
        # wrote; json.loads would read the bytes as UTF-16 and call them "not UTF-8 text".
        raise CaptureError(f"{where} holds NUL bytes (data lost on the disk, as after a power cut): {what}")
    try:
        record = json.loads(line)
    except UnicodeDecodeError as exc:
        if not line.endswith(b"\n") and exc.end == len(line) and exc.reason == "unexpected end of data":
            raise _cut_short(where, number, what) from None  # cut inside a character: a cut like any other
        raise CaptureError(f"{where} is not UTF-8 text ({what})") from None
    except ValueError as exc:
        # An integer past Python's digits in the frame: the frame is the server's (rt.malformed
        # below, as live), the line around it whole.
        record = None if isinstance(exc, json.JSONDecodeError) else record_beside_frame(line)
        beside = record is not None
        if record is None:
            if not line.endswith(b"\n"):
                raise _cut_short(where, number, what) from None
            reason = json_reason(exc) if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise CaptureError(f"{where} is not JSON ({reason}): {what}") from None
    except RecursionError:
        record = record_beside_frame(line)  # a frame nested past json's limit: rt.malformed below
        beside = True
        if record is None:  # the record itself (its `info`, a key of its own) is: damage
            raise CaptureError(f"{where} is JSON nested too deeply to read: {what}") from None
    else:
        beside = False
    if b"\\u" in line:
        # json.loads keeps a lone surrogate escape (`"\ud800"`: rt-tui writes one it sent under `raw`)
        # as a character no UTF-8 text holds, which saving or printing the frame would fail on.
        record = checked(record, max_depth=None)
    if not isinstance(record, dict):
        raise CaptureError(f"{where} is JSON {json_type_name(record)}, not a capture record: {what}")
    for key, kind in _REQUIRED.items():
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            raise CaptureError(f"{where} has no valid {key!r}: {what}")
    for key in ("seq", "size"):
        if not abs(record[key]) < INT64_LIMIT:  # 10**30: the columns replay and lint keep them in are 64-bit
            raise CaptureError(f"{where} has no valid {key!r} (past a 64-bit integer): {what}")
    if not abs(record["t"]) < TIME_LIMIT:  # NaN, Infinity, 1e300: never written, and no clock shows it
        raise CaptureError(f"{where} has no valid 't' ({record['t']!r} s): {what}")
    try:
        direction = Direction(record["dir"])
    except ValueError:
        raise CaptureError(f"{where} has an unknown direction {record['dir']!r}: {what}") from None
    info = record.get("info")
    if info is not None and not isinstance(info, dict):
        raise CaptureError(f"{where} has an 'info' that is not an object: {what}")
    try:
        checked(info, max_depth=MAX_DEPTH)  # read back recursively (strict_json.restore), then shown
    except FrameError:
        raise CaptureError(f"{where} has an 'info' nested deeper than {MAX_DEPTH} levels: {what}") from None
    binary: bytes | None = None
    if "raw_b64" in record:
        try:
            binary = base64.b64decode(str(record["raw_b64"]), validate=True)
        except (binascii.Error, ValueError):
            raise CaptureError(f"{where} has a 'raw_b64' that is not base64: {what}") from None
        raw = f"<binary {len(binary)} bytes>"
    elif isinstance(record.get("raw"), str):
        raw = record["raw"]
    elif isinstance(record.get("frame"), dict):
        raw = embedded_frame(line) or strict_json.dumps(record["frame"])
    elif direction is DIR_LOCAL and info is not None:
        raw = ""
    else:
        raise CaptureError(f"{where} has no 'frame', 'raw' or 'raw_b64' (nor, for a local fact, 'info'): {what}")
    data: dict[str, Any]
    etype: str = record["type"]
    if info is not None:
        data = strict_json.restore(info)
        if direction is DIR_LOCAL:
            raw = local_raw(data)
    elif binary is None:
        try:
            data = parse(raw)
        except Exception as exc:  # noqa: BLE001 - FrameError, or anything a parser may raise on hostile input
            if not beside and _untyped(record.get("frame")):
                data = {}  # `"frame": {}` written by hand: the record's own `type` names it, as it did
            else:
                # A frame the parser refuses (nested past MAX_DEPTH, an integer past Python's
                # digits, a `raw` that is not JSON): what a live session made of it, its text kept;
                # not its type with no data, which the views would take for the frame sent.
                etype, data = "rt.malformed", _malformed(direction, exc)
    else:
        data = {}
    return Envelope(
        record["seq"],
        direction,
        etype,
        data,
        raw,
        mono=float(record["t"]),
        # A wall past any clock (Infinity, 1e999, 400 digits) is unknown (0, as iso_time reads it):
        # a time of day of it (the session separator's, an export's) raised OverflowError.
        wall=float(record["wall"]) if abs(record["wall"]) < TIME_LIMIT else 0.0,
        binary=binary,
        wire_size=record["size"],
    )


def _untyped(frame: object) -> bool:
    """An embedded frame read whole that is an object without a string `type` (`{}`, a stub)."""
    return isinstance(frame, dict) and not isinstance(frame.get("type"), str)


def _malformed(direction: Direction, exc: Exception) -> dict[str, Any]:
    """A live session's note on a frame its parser refused (tui.session.client: received; the
    proxy's words for a frame either side sent)."""
    reason = str(exc) if isinstance(exc, FrameError) else f"{type(exc).__name__}: {exc}"
    reason = reason.splitlines()[0][:300] if reason else type(exc).__name__
    said = "malformed frame from server" if direction is Direction.IN else "malformed frame"
    return {"type": "rt.malformed", "message": f"{said}: {reason}"}
