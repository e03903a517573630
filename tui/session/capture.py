"""The capture file: every frame of a session, in both directions, as JSON lines on disk.

One folder per session under the user data directory (0700, its file 0600), so nothing the event
log forgets is lost and nobody else can read it. The API key is never written: frames are scrubbed
of it before they reach the disk.

One line per envelope, strict JSON (`tui.protocol.strict_json`), in the order the session saw them:

    {"seq": 12, "dir": "in", "t": 1.234567, "wall": 1760000000.123456, "type": "response.done",
     "size": 812, "raw": "<the frame's text exactly as it crossed the wire>"}

- `seq`: the envelope's sequence number (frames and local facts share one order);
- `dir`: `in` (from the server), `out` (sent by rt-tui) or `local` (a fact of rt-tui itself);
- `t`: seconds since the capture's first envelope (monotonic clock); `wall`: Unix time;
- `type`: the frame's `type` (`rt.malformed` for a frame that did not parse, `rt.*` for local facts);
- `size`: bytes on the wire;
- `raw`: a text frame's exact text (also for frames that did not parse), or instead `raw_b64`: a
  binary frame's bytes in base64;
- `info`: for local facts and frames that did not parse, the data rt-tui attached (a message,
  a state); local facts have no `raw`.

Crash safety: lines are buffered in memory and written by one `write` per batch, at most
`FLUSH_INTERVAL` after the oldest buffered line (an asyncio timer: an idle session is flushed
too), at every turn's end (`response.done`), when the buffer grows past `BUFFER_LIMIT`, and on
close, which also fsyncs. A batch that fails (a full disk) is cut back to its last whole line, so
the file never holds half a record; the failure is reported once through `on_error` and the
capture stops, while the session goes on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tui.protocol import Direction, Envelope, parse, strict_json
from tui.protocol.envelope import local_raw

from .scrub import Scrubber

FLUSH_INTERVAL = 0.25
"""Seconds a buffered line may wait before it is written: the most a crash can lose."""

BUFFER_LIMIT = 1 << 20
"""Bytes buffered before a write regardless of the timer (bounded memory, about one write per MiB)."""

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


def envelope_record(env: Envelope, t0: float, *, parsed: bool = False) -> dict[str, Any]:
    """The JSON-lines record of one envelope (the capture's shape: see the module docstring).

    With `parsed`, a frame that parsed carries its parsed object under `frame` instead of `raw`
    (what `rt-tui send --json` prints, for tools like jq).
    """
    record: dict[str, Any] = {
        "seq": env.seq,
        "dir": env.direction.value,
        "t": round(env.mono - t0, 6),
        "wall": round(env.wall, 6),
        "type": env.type,
        "size": env.size,
    }
    # Facts rt-tui attached (local facts, frames that did not parse) go under `info`; a frame's
    # data is its raw text parsed, so it is not written twice.
    own_data = env.direction is Direction.LOCAL or env.type.startswith("rt.")
    if env.binary is not None:
        record["raw_b64"] = base64.b64encode(env.binary).decode("ascii")
    elif parsed and not own_data:
        record["frame"] = env.data
    elif env.direction is not Direction.LOCAL:
        record["raw"] = env.raw
    if own_data and env.data:
        record["info"] = env.data
    return record


_quote = json.encoder.encode_basestring  # C: a str as a JSON string literal


def capture_line(env: Envelope, t0: float) -> bytes:
    """One capture line, UTF-8, newline included: the same bytes as `envelope_record` written as
    strict JSON, built without walking anything for a text frame that parsed.

    Such a frame's raw text is valid JSON, so it holds no control characters but whitespace between
    tokens; without those, quoting it is two C-level replaces (`\\`, `"`), about twice as fast as
    the general escaper on an audio delta. Anything else takes the general path.
    """
    raw = env.raw
    if (
        env.data  # parsed from (or serialized to) `raw`: valid JSON text, so no control characters
        and env.binary is None
        and env.direction is not Direction.LOCAL
        and not env.type.startswith("rt.")
        and "\n" not in raw
        and "\r" not in raw
        and "\t" not in raw
    ):
        quoted = raw.replace("\\", "\\\\").replace('"', '\\"')
        line = (
            f'{{"seq":{env.seq},"dir":"{env.direction.value}","t":{round(env.mono - t0, 6)!r},'
            f'"wall":{round(env.wall, 6)!r},"type":{_quote(env.type)},"size":{env.size},"raw":"{quoted}"}}\n'
        )
        try:
            return line.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate in text rt-tui sent: the general path escapes it
    return strict_json.dumps_bytes(envelope_record(env, t0)) + b"\n"


class CaptureWriter:
    """Appends envelopes to `frames.jsonl` in a session folder, scrubbing the secret (see module doc).

    Used from the event loop (the session's reader and writer tasks); without a running loop the
    buffer is written when its oldest line is `FLUSH_INTERVAL` old, checked on each write.
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
        """Called once, with a one-line message, when the capture fails and stops."""
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
        """Where the last whole line ends: a failed batch is cut back to here."""
        self._last_seq: int | None = None
        self._pending: list[bytes] = []
        self._pending_seqs: list[int] = []
        self._pending_bytes = 0
        self._pending_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._t0: float | None = None

    def write(self, env: Envelope, *, scrubbed: bool = False) -> None:
        """Buffer one envelope's line; it reaches the disk within FLUSH_INTERVAL (see class doc).

        `scrubbed`: the caller has already removed this writer's secrets (the session does, before
        publishing), so they are not searched for twice.
        """
        if self._fd is None:
            if self.error is not None:
                self.frames_lost += 1
            return
        if self._t0 is None:
            self._t0 = env.mono
        line = capture_line(env if scrubbed else self._scrub.envelope(env), self._t0)
        self._pending.append(line)
        self._pending_seqs.append(env.seq)
        self._pending_bytes += len(line)
        if env.type in TURN_END or self._pending_bytes >= BUFFER_LIMIT:
            self.flush()
        else:
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
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
        self._timer = loop.call_later(FLUSH_INTERVAL, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Write the buffered lines now, in one `write` (more only if the kernel takes less)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending_since = None
        if self._fd is None or not self._pending:
            return
        data = b"".join(self._pending)
        seqs = self._pending_seqs
        self._pending, self._pending_seqs, self._pending_bytes = [], [], 0
        written = 0
        view = memoryview(data)
        try:
            while written < len(data):
                written += os.write(self._fd, view[written:])
        except OSError as exc:
            # Keep the whole lines that made it, cut the half one: the file never holds half a record.
            kept = data.rfind(b"\n", 0, written) + 1
            lines = data.count(b"\n", 0, kept)
            self.frames_written += lines
            if lines:
                self._last_seq = seqs[lines - 1]
            self.frames_lost += len(seqs) - lines
            self._fail(exc, self._end + kept)
            return
        self._end += len(data)
        self.frames_written += len(seqs)
        self._last_seq = seqs[-1]

    def close(self) -> None:
        """Write what is buffered, fsync and close. Safe to call more than once."""
        self.flush()
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

    def _fail(self, exc: OSError, end: int) -> None:
        fd, self._fd = self._fd, None
        assert fd is not None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, end)  # shrinking frees space even on a full disk
        with contextlib.suppress(OSError):
            os.close(fd)
        self._end = end
        self._report(exc)

    def _report(self, exc: OSError) -> None:
        if self.error is not None:
            return
        upto = f"up to #{self._last_seq}" if self._last_seq is not None else "none yet"
        self.error = (
            f"capture failed: {exc.strerror or exc} writing {self.path} "
            f"(it keeps {self.frames_written} whole frames, {upto}; later frames are not saved)"
        )
        if self.on_error is not None:
            self.on_error(self.error)


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


def iter_capture(path: Path | str) -> Iterator[Envelope]:
    """The envelopes of a capture file, in order (see `read_capture`)."""
    path = Path(path)
    try:
        file = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from None
    with file:
        number = 0
        for number, line in enumerate(file, start=1):
            yield _envelope(line, number, path)
    if number == 0:
        raise CaptureError(f"{path}: empty file, not an rt-tui capture")


def read_capture(path: Path | str) -> list[Envelope]:
    """Read a capture file back into envelopes: the same seq, direction, type, size and raw text;
    a frame's data parsed again from its raw text, a local fact's from `info`; `mono` is the
    capture's `t` (seconds since its first envelope), `wall` its Unix time.

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


def _envelope(line: bytes, number: int, path: Path) -> Envelope:
    where = f"{path}: line {number}"
    what = "not an rt-tui capture file" if number == 1 else "a damaged capture"
    try:
        record = json.loads(line)
    except UnicodeDecodeError:
        raise CaptureError(f"{where} is not UTF-8 text ({what})") from None
    except ValueError as exc:
        cut = "" if line.endswith(b"\n") else ", and it is cut short"
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise CaptureError(f"{where} is not JSON ({reason}{cut}): {what}") from None
    if not isinstance(record, dict):
        raise CaptureError(f"{where} is JSON {type(record).__name__}, not a capture record: {what}")
    for key, kind in _REQUIRED.items():
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            raise CaptureError(f"{where} has no valid {key!r}: {what}")
    try:
        direction = Direction(record["dir"])
    except ValueError:
        raise CaptureError(f"{where} has an unknown direction {record['dir']!r}: {what}") from None
    info = record.get("info")
    if info is not None and not isinstance(info, dict):
        raise CaptureError(f"{where} has an 'info' that is not an object: {what}")
    binary: bytes | None = None
    if "raw_b64" in record:
        try:
            binary = base64.b64decode(str(record["raw_b64"]), validate=True)
        except (binascii.Error, ValueError):
            raise CaptureError(f"{where} has a 'raw_b64' that is not base64: {what}") from None
        raw = f"<binary {len(binary)} bytes>"
    elif isinstance(record.get("raw"), str):
        raw = record["raw"]
    elif direction is Direction.LOCAL and info is not None:
        raw = ""
    else:
        raise CaptureError(f"{where} has neither 'raw', 'raw_b64' nor (for a local fact) 'info': {what}")
    data: dict[str, Any]
    if info is not None:
        data = strict_json.restore(info)
        if direction is Direction.LOCAL:
            raw = local_raw(data)
    elif binary is None:
        try:
            data = parse(raw)
        except Exception:  # noqa: BLE001 - the parser's verdict may have changed since: keep the frame
            data = {}
    else:
        data = {}
    return Envelope(
        record["seq"],
        direction,
        record["type"],
        data,
        raw,
        mono=float(record["t"]),
        wall=float(record["wall"]),
        binary=binary,
        wire_size=record["size"],
    )
