"""Recorded sessions, read into envelopes: rt-tui captures, browser HAR files, plain JSONL of frames.

The format is detected from the content, never from the file name:

- an rt-tui capture (`frames.jsonl`): one record per line with `seq`, `dir`, `t`, `wall`, `type`,
  `size` and the frame (see tui.protocol.records); `send --json` output and the log's exports have
  the same shape;
- a HAR file (Chrome/Edge DevTools "Save all as HAR"): every WebSocket entry's
  `_webSocketMessages` (`type` send/receive, `time`, `opcode` 1 text / 2 binary, `data`, base64
  for a binary message or one marked `"encoding": "base64"`; Chrome's `type` "error" messages are
  its own words about the socket, shown as a fact); each WebSocket connection becomes a connection
  of its own in the replay, but for the page's other sockets (a dev server's reload socket), whose
  messages hold no Realtime event and whose URL does not say realtime: they are left out, with a note;
- a JSONL of frames, as people's own logging writes it: one Realtime event per line (direction
  guessed from the event type: client events were sent, the rest received), or a wrapper object
  (whose own `type`, if any, is not a Realtime event's) with the event under
  `event`/`data`/`message`/`frame`, a `direction`/`dir` and a time (seconds, milliseconds,
  microseconds or nanoseconds since the epoch, or ISO 8601; a `time_ms`-like key: milliseconds);
  the log's records of other things (JSON objects with no event in them) are left out, with a note;
- the same events or log records as one JSON array (`json.dump(events, f)`).

Anything else is a :class:`ReplayError` with one line saying what the file is not.

The input is read once, from its first byte to its last, and never opened twice: a pipe, a process
substitution (`<(…)`) and standard input (`-`) read like a file. The first bytes, read to tell the
formats apart, are served again from memory ahead of the rest of the stream (`_Rewound`), so a
capture or a JSONL is still read line by line, as it was from a file. A UTF-8 byte order mark at the
start (Windows editors and PowerShell write one) and CRLF line ends are accepted in every format.

A HAR file's connections play one after another, each whole: the journal starts a connection (an
epoch: its separator, its "since connect" times, the session its linter judges frames against) at
its `connecting` fact, so interleaving two sockets' frames by time would put the frames one socket
sent after the other opened in the wrong connection, and the linter would judge them against the
wrong session. Connections are taken in the order they opened, at their recorded times, which for
connections that do not overlap is exactly the time order of every frame. A connection that opened
while the one before it was still open (a page that opened a second socket, React's double mount)
plays right after that one's last frame: its frames keep their gaps and their `wall` times, its
`connecting` fact says first how much later than recorded it plays (a log row is cut at the pane's
edge, and a URL is long), and the recording's notes say so too: in the app, as a notice where that
connection starts.
The replay's clock therefore never goes back, starts at the earliest frame, and its duration is the
time it takes to play every connection.

The secrets to scrub from a recording (`Recording.secrets`) are those it revealed (a HAR's request
headers and URLs) and the keys this user configured for rt-tui (`user_secrets`): a recording made
with a key, or by a client that echoed it, must not show it in a replay or a lint report either.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import difflib
import functools
import io
import itertools
import json
import math
import os
import re
import shlex
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TypeGuard
from urllib.parse import urlsplit

from tui.protocol import Direction, Envelope, FrameError, checked, local_envelope, parse, printable
from tui.protocol.codec import MAX_DEPTH, json_reason, json_type_name, serialize
from tui.protocol.credentials import handshake_secrets
from tui.protocol.events import BETA_TO_GA_CLIENT, BETA_TO_GA_SERVER, GA_CLIENT_EVENTS, GA_SERVER_EVENTS, is_known
from tui.protocol.records import NO_TIME, TIME_LIMIT, UNIX_TIME_FLOOR, record_beside_frame

from .lean import FileText, Frames, lean_envelope, place_in_line

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SNIFF_BYTES = 64 * 1024
"""Bytes read to tell the formats apart."""

READ_BUFFER = 1024 * 1024
"""Bytes read at a time after the sniffed head (the head's wrapper is Python: few calls, large ones)."""

_HAR_START = re.compile(rb'\s*\{\s*"log"\s*:')
"""How a HAR file begins (DevTools writes it indented; other tools on one line)."""

STDIN = "-"
"""The file name that means standard input, as Unix tools read it."""

STDIN_NAME = Path("<stdin>")
"""How messages name standard input."""

KEY_ENVIRONMENT = ("OPENAI_API_KEY", "RT_TUI_API_KEY", "AZURE_OPENAI_API_KEY", "RT_TUI_SIM_API_KEY")
"""Environment variables that hold a key rt-tui uses (see tui.session.targets, tui.launch and
tui.serve_cmd); RT_TUI_URL's credentials are read from the URL."""


class ReplayError(ValueError):
    """A file that cannot be replayed; the message is one line."""


@dataclass(slots=True)
class Recording:
    """A recorded session: its envelopes in order, what kind of file held them, secrets to scrub."""

    kind: str
    """"capture", "har", "jsonl" or "json" (an array of events)."""
    envelopes: Sequence[Envelope]
    """In order: a list, or (read lean) `Frames` of lean envelopes, to be read through `hydrated`."""
    path: Path
    """The file read (`<stdin>` for standard input)."""
    secrets: list[str] = field(default_factory=list)
    """Credentials to scrub from everything shown: found beside the frames (HAR request headers and
    URLs) and the user's own keys (`user_secrets`)."""
    notes: list[str] = field(default_factory=list)
    """What a reader should know about the file (a last line cut short), one line each."""
    damaged_lines: int = 0
    """Damaged lines of a capture left out (the notes say the first of them): `lint` reads the rest
    and still exits as for an unreadable file."""
    placed: dict[str, int] = field(default_factory=dict)
    """Those of `notes` that belong at a point of the recording rather than at its end (a HAR
    connection played late: where it starts), each with the index of the envelope it follows."""
    parts: list[int] = field(default_factory=list)
    """Where each capture joined onto the one before (`cat a.jsonl b.jsonl`) begins: the index of its
    first envelope (empty for a single capture and every other kind). Its times are the file's until
    `on_one_clock` puts every part on one clock."""
    rereadable: bool = True
    """False for a pipe or standard input: read once, it cannot be read again to bring back a
    payload the journal dropped from memory."""
    files: list[Path] = field(default_factory=list)
    """Every file read, in the order played, when several were given (`load_many`); empty for one
    (`path`)."""
    file_starts: list[int] = field(default_factory=list)
    """The index of each of `files`' first envelope (its opening fact, when it was given one)."""

    @property
    def duration(self) -> float:
        """Seconds from the first envelope to the last."""
        if not self.envelopes:
            return 0.0
        return self.envelopes[-1].mono - self.envelopes[0].mono


def load(path: str | Path, *, lean: bool = False) -> Recording:
    """Read a recorded session of any supported kind (see the module docstring); `-` is standard input.

    With `lean`, its frames come without their parsed copy where it can be parsed again, held in
    columns (see tui.replay.lean): whoever plays or reads them takes them through `hydrated`.
    """
    shown, stream, rereadable = _open(path)
    try:
        recording = _read(shown, stream, lean)
    except OSError as exc:  # a read that failed half-way (EIO, a directory given as /dev/stdin)
        raise ReplayError(f"{shown}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:  # standard input is the process's, not ours to close
            stream.close()
    recording.rereadable = rereadable
    if lean and not isinstance(recording.envelopes, Frames):
        recording.envelopes = Frames(recording.envelopes)
    recording.secrets = list(dict.fromkeys([*recording.secrets, *user_secrets()]))
    return recording


def load_many(paths: Sequence[str | Path], *, lean: bool = False) -> Recording:
    """Read several recordings as one, played one after another in the order given (`joined`);
    one path is `load`'s. The first that cannot be read refuses them all (its error names it)."""
    if len(paths) == 1:
        return load(paths[0], lean=lean)
    if sum(str(path) == STDIN for path in paths) > 1:
        raise ReplayError("standard input (-) is given more than once: it can be read only once")
    return joined([load(path, lean=lean) for path in paths])


def joined(recordings: Sequence[Recording]) -> Recording:
    """`recordings` as one: each a part (`Recording.parts`) that plays after the one before, on one
    clock (`on_one_clock`), as captures joined with `cat` do.

    Each connection rt-tui recorded (a session's capture: ctrl+r and the proxy's clients write one
    capture each) starts with its own `connecting` fact, so each is a connection of its own in the
    journal (its separator, its "since connect" times, the session its linter judges frames
    against). A file without one before its first frame (a JSONL of frames, a filtered export) is
    given one, named after its file: its frames were judged against the session of the file before.
    Each file's notes name it.
    """
    first = recordings[0]
    lean = isinstance(first.envelopes, Frames)
    envelopes: Frames | list[Envelope] = Frames() if lean else []
    parts: list[int] = []
    notes: list[str] = []
    placed: dict[str, int] = {}
    starts: list[int] = []
    for number, recording in enumerate(recordings):
        start = len(envelopes)
        starts.append(start)
        if number:
            parts.append(start)
        opening = _opening_fact(recording, number)
        if opening is not None:
            envelopes.append(opening)
        offset = len(envelopes)
        envelopes.extend(recording.envelopes)
        parts += [offset + index for index in recording.parts]
        shown = str(recording.path)
        last = len(envelopes) - 1
        if number and (early := _recorded_before(recording, recordings[number - 1])):
            notes.append(early)
            placed[early] = start  # said as it begins to play
        for note in recording.notes:
            named = note if note.startswith(f"{shown}:") else f"{shown}: {note}"
            notes.append(named)
            # Where it belongs, or at its own file's end: said at the end of the last file, the
            # note on a first file's joined captures was shown in another file's connection.
            placed[named] = offset + recording.placed[note] if note in recording.placed else last
    kinds = {recording.kind for recording in recordings}
    return Recording(
        first.kind if len(kinds) == 1 else "mixed",
        envelopes,
        first.path,
        secrets=list(dict.fromkeys(secret for recording in recordings for secret in recording.secrets)),
        notes=notes,
        damaged_lines=sum(recording.damaged_lines for recording in recordings),
        placed=placed,
        parts=parts,
        rereadable=all(recording.rereadable for recording in recordings),
        files=[recording.path for recording in recordings],
        file_starts=starts,
    )


def recording_name(path: Path, rereadable: bool) -> str:
    """A replayed file's name as rt-tui gives it: a session's `frames.jsonl` by its folder; any
    other file (an export, all of them in `saved/`) by its own name, or every export read `saved`;
    a pipe by its path (`/dev/fd/63` says more than its folder, `fd`)."""
    if not rereadable:
        return printable(str(path))
    return printable(path.parent.name if path.name == "frames.jsonl" and path.parent.name else path.name)


def _recorded_before(recording: Recording, before: Recording) -> str | None:
    """A note when `recording`, given after `before`, was recorded before it began (files given
    newest first: the transcript ran backwards from one separator to the next, unsaid); None when
    in order, or when either has no time of day (a log without times)."""
    if not recording.envelopes or not before.envelopes:
        return None
    began, earlier = recording.envelopes[0].wall, before.envelopes[0].wall
    if min(began, earlier) < UNIX_TIME_FLOOR or began >= earlier:
        return None
    when = time.localtime(began)
    clock = time.strftime("%H:%M:%S", when)
    day = "" if when[:3] == time.localtime(earlier)[:3] else time.strftime(" on %Y-%m-%d", when)
    # A session folder's name is its second and a random suffix: folders of one second (a proxy's
    # clients, two `rt-tui send` in a row) sort by the suffix, which a glob of them does not fix.
    glob = (
        "session folders made in the same second sort by their random suffix, not by time"
        if int(began) == int(earlier)
        else "a glob of session folders gives them oldest first"
    )
    return (
        f"{recording.path}: recorded at {clock}{day}, before {recording_name(before.path, before.rereadable)} "
        f"given ahead of it: the files play in the order given ({glob})"
    )


def _opening_fact(recording: Recording, number: int) -> Envelope | None:
    """A `connecting` fact to start `recording` with as part `number` of several (`joined`), or None
    when it opens with one of its own (before its first frame sent or received)."""
    envelopes = recording.envelopes
    if not envelopes:
        return None
    for env in itertools.islice(envelopes, 0, 8):
        if env.direction is not Direction.LOCAL:
            break
        if env.type == "rt.connection" and env.data.get("state") == "connecting":
            return None
    head = envelopes[0]
    # The target is what the status line and the transcript's separator name: the file's name.
    label = printable(recording.path.name or str(recording.path))
    where = printable(str(recording.path))
    return _fact(0, "connecting", f"recording {number + 1}: {where}", label, head.mono, head.wall)


def user_secrets() -> list[str]:
    """The keys this user configured for rt-tui: the key variables, and credentials in RT_TUI_URL.

    A recording may hold them (a capture made before they were scrubbed, a client that put the key in
    its instructions), and a replay shows what the recording holds: they are scrubbed like a HAR's.
    A live session scrubs them too (`tui.launch.scrubbing_every_key`), whatever its target.
    """
    from tui.config import URL_ENV
    from tui.session.targets import TargetError, url_target

    found = [os.environ.get(name, "").strip() for name in KEY_ENVIRONMENT]
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        try:
            found += url_target(url).secrets
        except TargetError:
            pass  # a URL the app would refuse holds no credential it would send
    return [secret for secret in found if secret]


def _open(path: str | Path) -> tuple[Path, BinaryIO, bool]:
    """The input: the name messages give it, its stream, and whether it can be read again later."""
    if str(path) == STDIN:
        return STDIN_NAME, sys.stdin.buffer, False
    path = Path(path)
    if path.is_dir():
        # A session's folder (what `ls sessions/` shows): its capture is the recording.
        from tui.session.capture import CaptureWriter

        if not (path / CaptureWriter.FILENAME).is_file():
            raise ReplayError(f"{path}: a directory without a {CaptureWriter.FILENAME}: {_which_session(path)}")
        path = path / CaptureWriter.FILENAME
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ReplayError(f"{path}: {exc.strerror or exc}") from None
    # Only a regular file holds its bytes for a second read; a pipe's are gone once read.
    return path, stream, stat.S_ISREG(os.fstat(stream.fileno()).st_mode)


def _which_session(folder: Path) -> str:
    """What to give instead of `folder`: the newest session in it, when it holds sessions (the data
    folder's `sessions/`, which `ls` shows beside the capture it was looking for), or when its
    `sessions/` does (the data folder itself)."""
    holder, sessions, within = "it holds", _sessions_in(folder), folder
    if not sessions:
        holder, sessions, within = "its sessions folder holds", _sessions_in(folder / "sessions"), folder / "sessions"
    if not sessions:
        return "give a recording file"
    count = f"{len(sessions):,} session folder{'s' if len(sessions) != 1 else ''}"
    # Several play (and lint) in turn, oldest first as their names sort: the glob gives them all.
    every = f", or all of them: {within}/*/" if len(sessions) > 1 else ""
    return f"{holder} {count}: give one of them (the newest is {sessions[-1]}){every}"


def _sessions_in(folder: Path) -> list[Path]:
    """The session folders in `folder` (those holding a capture), oldest first; none if it cannot be read."""
    from tui.session.capture import CaptureWriter

    try:
        return sorted(
            (child for child in folder.iterdir() if (child / CaptureWriter.FILENAME).is_file()),
            key=lambda child: (child / CaptureWriter.FILENAME).stat().st_mtime,
        )
    except OSError:  # not a folder, not readable, or a capture gone while looked at
        return []


def _read(shown: Path, stream: BinaryIO, lean: bool) -> Recording:
    """Tell the format from the first bytes, then read the whole input (those bytes included) once."""
    head = stream.read(SNIFF_BYTES)
    skipped = 0
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]  # json refuses a str that starts with one
        skipped = len(codecs.BOM_UTF8)
    wide = _wide_text(head)
    if wide:
        # json.loads reads a UTF-16 line by itself, so the capture reader took the file and then
        # called its NUL bytes data lost in a power cut.
        raise ReplayError(
            f"{shown}: {wide} text (as Windows PowerShell's `>` and Out-File write it): rt-tui reads UTF-8; "
            f"convert it first (iconv -f {wide} -t UTF-8, or Out-File -Encoding utf8)"
        )
    if not head.strip():
        # Neutral words: `lint` and the app's replay read files through here too, not only `replay`.
        raise ReplayError(f"{shown}: empty file: no frames in it")
    other = _other_file(head, shown)
    if other:
        raise ReplayError(f"{shown}: {other}")
    if b"\n" not in head.lstrip() and not _HAR_START.match(head):
        if b"\0" in head:
            # Not text, and no line end to read to: reading on for one read all of /dev/zero.
            raise ReplayError(
                f"{shown}: not an rt-tui capture, a HAR file or a JSONL of frames ({_why_not_json(head)})"
            )
        # A first line longer than the head (an export of audio frames, a JSONL whose first event
        # is a long append) is read whole to be told apart. Not a HAR on one line: read whole below.
        head += stream.readline()
    whole = io.BufferedReader(_Rewound(head, stream), buffer_size=READ_BUFFER)
    first = _first_line_object(head, shown)
    if first is not None and not _is_har_document(first):
        notes: list[str] = []
        left_out = _DamagedLines(notes)
        if _is_capture_record(first):
            parts: list[int] = []
            # A file read again later holds the frames' text (`FileText`): a pipe's is gone once read.
            store = _store_of(shown, stream) if lean else None
            lines: Iterable[bytes] = whole if store is None else _PlacedLines(whole, skipped, store)
            envelopes = _read_capture(lines, shown, notes.append, lean, parts, left_out)
            left_out.say_count(shown)
            return Recording("capture", envelopes, shown, notes=notes, parts=parts, damaged_lines=left_out.count)
        envelopes = _read_frames_jsonl(whole, shown, notes.append, lean, left_out)
        left_out.say_count(shown)
        return Recording("jsonl", envelopes, shown, notes=notes, damaged_lines=left_out.count)
    return _read_har(whole, shown, lean)


_COMPRESSED = (
    (b"\x1f\x8b", "gzip", "zcat"),
    (b"BZh", "bzip2", "bzcat"),
    (b"\xfd7zXZ\x00", "xz", "xzcat"),
    (b"\x28\xb5\x2f\xfd", "zstd", "zstdcat"),
    (b"PK\x03\x04", "zip", "unzip -p"),
)
"""A compressed file's first bytes, its format, and the command that writes out its text."""

_AUDIO = ((b"fLaC", "FLAC"), (b"OggS", "Ogg"), (b"ID3", "MP3"))
"""An audio file's first bytes (WAV's are told by `_other_file`), and its format."""


def _other_file(head: bytes, shown: Path) -> str | None:
    """What the input is when it is a compressed recording or an audio file, and what to do instead:
    "it holds NUL bytes: data lost on the disk, as after a power cut" sent a user who had gzipped a
    capture to share it, or given the audio they meant for `send`, looking for a damaged disk."""
    quoted = "FILE" if shown == STDIN_NAME else shlex.quote(str(shown))
    for magic, name, tool in _COMPRESSED:
        if head.startswith(magic) and (name != "bzip2" or head[3:4].isdigit()):
            given = (
                f"{tool} FILE | rt-tui replay --json -" if shown == STDIN_NAME else f"give <({tool} {quoted}) instead"
            )
            return f"a {name}-compressed file: decompress it first, e.g. {given}"
    kind = "WAV" if head.startswith(b"RIFF") and head[8:12] == b"WAVE" else None
    kind = kind or next((name for magic, name in _AUDIO if head.startswith(magic)), None)
    if kind:
        return (
            f"an audio file ({kind}), not a recorded session: `rt-tui send {quoted}` streams it to a server; "
            "replay and lint read an rt-tui capture, a HAR file or a JSONL of events"
        )
    return None


def _wide_text(head: bytes) -> str | None:
    """`UTF-16` or `UTF-32` when the input is text in that encoding (a byte order mark, or ASCII
    with a NUL beside each character), else None. A disk's zeroed blocks are NULs throughout."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    sample = head[:64]
    if len(sample) < 8:
        return None
    for width, name in ((4, "UTF-32"), (2, "UTF-16")):
        sample = sample[: len(sample) - len(sample) % width]
        for at in (0, width - 1):  # little-endian: the character first; big-endian: last
            if all(sample[at::width]) and sample.count(0) == len(sample) - len(sample) // width:
                return name
    return None


class _Rewound(io.RawIOBase):
    """A stream whose first bytes were already read: they come again first, then the rest of it.

    So a pipe is read once, yet every reader below starts at its first byte.
    """

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        """Always: it is a reader."""
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill `buffer` from the head while it lasts, then from the rest of the stream."""
        target = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(target), len(self._head))
            target[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        chunk = self._rest.read(len(target))
        target[: len(chunk)] = chunk
        return len(chunk)


def _first_line_object(head: bytes, shown: Path) -> dict[str, Any] | None:
    line = head.lstrip().split(b"\n", 1)[0]
    try:
        value = json.loads(line)
    except ValueError as exc:
        if type(exc) is not ValueError:  # JSONDecodeError, UnicodeDecodeError: the other readers say why
            return None
        # An integer past Python's digits: in a capture's first frame, the capture reader's to judge;
        # anywhere else, in a line no reader takes (said as a later line's is).
        value = record_beside_frame(line)
        if not isinstance(value, dict) or not _is_capture_record(value):
            raise ReplayError(
                f"{shown}: line 1 holds {_long_integer()}: not a Realtime event rt-tui can read"
            ) from None
    except RecursionError:
        # A capture's first frame nested past json's limit is the capture reader's to judge (a
        # frame a live session showed as rt.malformed); any other line, one no reader takes.
        value = record_beside_frame(line)
        if not isinstance(value, dict) or not _is_capture_record(value):
            raise _too_deep(f"{shown}: line 1") from None
    return value if isinstance(value, dict) else None


def _is_har_document(first: dict[str, Any]) -> bool:
    """True when the first line is a whole HAR file (one written on one line): its `log` is the HAR's
    object. A log's record with a `log` field of its own (Docker's `{"log": "…", "stream": …}`, ECS's
    `{"log": {"level": "info"}}`) begins a JSONL: read as a HAR, it was refused as "not JSON"."""
    log = first.get("log")
    return isinstance(log, dict) and (len(first) == 1 or any(key in log for key in ("entries", "version", "creator")))


def _is_capture_record(record: dict[str, Any]) -> bool:
    return all(key in record for key in ("seq", "dir", "type")) and any(
        key in record for key in ("raw", "raw_b64", "info", "frame")
    )


# -- rt-tui captures --------------------------------------------------------------------------

DAMAGED_LINES_SAID = 5
"""Damaged lines of a capture or a log said one note each; past these, one note counts them all."""


class _DamagedLines:
    """Counts the damaged lines left out of a file, keeping the notes of the first
    `DAMAGED_LINES_SAID` in `notes`; `say_count` adds one that counts them all past those."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.count = 0

    def __call__(self, note: str) -> None:
        self.count += 1
        if self.count <= DAMAGED_LINES_SAID:
            self.notes.append(note)

    def say_count(self, shown: Path) -> None:
        if self.count > DAMAGED_LINES_SAID:
            self.notes.append(f"{shown}: {self.count:,} damaged lines in all, each left out")


def _store_of(shown: Path, stream: BinaryIO) -> FileText | None:
    """The file `stream` reads as the store of its frames' text, if it can be read again (a regular
    file); None for a pipe or standard input."""
    try:
        if stream is sys.stdin.buffer or not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return FileText.beside(shown, stream.fileno())
    except (OSError, ValueError):  # no descriptor (a stream of tests' own), none left to duplicate
        return None


class _PlacedLines:
    """A file's lines, each noted with where it begins in the file as it is read (`last`): the
    capture reader turns each line into its envelope before it reads the next. `store` holds the
    file's text (`FileText`)."""

    def __init__(self, lines: Iterable[bytes], offset: int, store: FileText) -> None:
        self._lines = lines
        self.store = store
        self.offset = offset
        """Where the next line begins."""
        self.last = (b"", offset)
        """The line read last, and where it began."""

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.last = (line, self.offset)
            self.offset += len(line)
            yield line


def _placed(
    envelopes: Iterable[Envelope], lines: _PlacedLines
) -> Iterator[tuple[Envelope, tuple[FileText, int, int] | None]]:
    """Each envelope read from `lines`, with where its text lies in their file (None: not there
    byte for byte, a `raw` record's, a local fact: it keeps its text)."""
    for env in envelopes:
        line, offset = lines.last
        place = place_in_line(env.raw, line, offset) if env.raw else None
        yield env, (lines.store, place[0], place[1]) if place is not None else None


def _read_capture(
    lines: Iterable[bytes],
    shown: Path,
    note: Callable[[str], None],
    lean: bool,
    parts: list[int],
    damaged: Callable[[str], None],
) -> Sequence[Envelope]:
    """A capture's envelopes (also `send --json` output and the log's exports: the same records);
    a last line cut short by a crash is left out, with a `note`, and so is a damaged line in the
    middle (a power cut's NUL bytes, an edit), said to `damaged`: the frames around it are what a
    user reading a damaged capture wants. Read from the lines already being read here (opening the
    file again would read a pipe a second time). Where each of the captures joined in one file
    begins goes into `parts` (`_joins_found`)."""
    from tui.session.capture import CaptureError, iter_capture_lines

    try:
        read = iter_capture_lines(_trailing_blanks_dropped(lines), shown, on_cut_line=note, on_damaged_line=damaged)
        read = _joins_found(read, shown, note, parts)
        if isinstance(lines, _PlacedLines):
            # Each frame's text left in the file, where it is read back as played.
            frames = Frames()
            for env, place in _placed(read, lines):
                frames.append(env, place)
            return frames
        # Lean, each frame goes into the columns as it is read: an hour's envelopes never exist at once.
        return Frames(read) if lean else list(read)
    except CaptureError as exc:
        raise ReplayError(str(exc)) from None


def _trailing_blanks_dropped(lines: Iterable[bytes]) -> Iterator[bytes]:
    """`lines` without the blank ones at the end (`echo >> frames.jsonl`, an editor's last line):
    the capture reader called the first of them a damaged line and refused the whole capture. A
    blank line between two records is passed on (the reader names it by its number)."""
    held: list[bytes] = []
    for line in lines:
        if line.isspace():  # not `strip()`, which copied every line (an hour's capture: 395 MB)
            held.append(line)
            continue
        if held:
            yield from held
            held.clear()
        yield line


def _joins_found(
    envelopes: Iterable[Envelope], shown: Path, note: Callable[[str], None], parts: list[int]
) -> Iterator[Envelope]:
    """`envelopes` as they are, with where each capture joined onto the one before begins put in
    `parts` (see `on_one_clock`), and said in a `note`.

    A capture's `t` counts from its own first frame and its `seq` from 1, so a line whose `seq` or
    `t` goes back (`cat a.jsonl b.jsonl`) begins another capture: a capture rt-tui wrote never does.
    The envelopes keep the file's times here (as `read_capture` gives them).
    """
    previous: Envelope | None = None
    for index, env in enumerate(envelopes):
        if previous is not None and (env.seq < previous.seq or env.mono < previous.mono):
            parts.append(index)
        previous = env
        yield env
    if parts:
        lines = [index + 1 for index in parts]  # a capture's lines are its envelopes, one each
        shown_lines = ", ".join(f"{line:,}" for line in lines[:5]) + ("…" if len(lines) > 5 else "")
        note(
            f"{shown}: {len(parts) + 1} captures joined in one file (a `seq` or `t` goes back at line"
            f"{'s' if len(parts) > 1 else ''} {shown_lines}): each plays after the one before, "
            "and its times count from its own first frame"
        )


JOIN_GAP = 5.0
"""The most a joined capture starts after the one before it ends (seconds), whatever their wall
clocks say: as much as timed playback waits at most between two frames (`player.MAX_GAP`)."""


def on_one_clock(recording: Recording) -> Recording:
    """The recording with captures joined in one file (`Recording.parts`) on one clock that never
    goes back: each plays after the one before, as late as the wall clock says it began but at
    most `JOIN_GAP` after it (right after it when it began earlier: `cat new old`), as a HAR's
    later connection does. Unchanged when it has no joined part.

    The second capture's clock went back to 0: `replay --json` printed negative times (after a
    filtered export, whose first `t` is not 0), the app's position and length were wrong, a timed
    replay published the second capture at once, and lint measured durations across the join.
    Applied before `with_notes_as_facts` (the parts are indices of the envelopes as read).
    """
    if not recording.parts:
        return recording
    envelopes = recording.envelopes
    bounds = [*recording.parts, len(envelopes)]
    delays: list[tuple[int, int, float]] = []  # each joined part's envelopes: from, to, delay
    delay = 0.0
    for begin, end in itertools.pairwise(bounds):
        before, first = envelopes[begin - 1], envelopes[begin]
        gap = first.wall - before.wall
        if min(first.wall, before.wall) < UNIX_TIME_FLOOR:
            # A log without times has its lines' order for a clock (0.001 a line): against a capture's
            # Unix time that was a gap of 56 years, which `rt-tui replay log.jsonl capture` played.
            gap = 0.0
        # The time between two recordings is no part of either: a day between two app runs made the
        # replay's position read 24:01:01, and a timed replay count 23 hours as silence skipped.
        gap = min(gap, JOIN_GAP)
        # `before` is already `delay` later than recorded: this part starts the gap after it.
        delay = before.mono + delay + (gap if _is_time(gap) and gap > 0 else 0.0) - first.mono
        delays.append((begin, end, delay))
    if isinstance(envelopes, Frames):
        moved = envelopes.copy()
        for begin, end, seconds in delays:
            moved.delay(begin, end, seconds)
        return dataclasses.replace(recording, envelopes=moved)
    placed = list(envelopes)
    for begin, end, seconds in delays:
        placed[begin:end] = [dataclasses.replace(env, mono=env.mono + seconds) for env in placed[begin:end]]
    return dataclasses.replace(recording, envelopes=placed)


# -- plain JSONL of frames --------------------------------------------------------------------

_DIRECTION_WORDS = {
    "in": Direction.IN,
    "received": Direction.IN,
    "receive": Direction.IN,
    "recv": Direction.IN,
    "server": Direction.IN,
    "incoming": Direction.IN,
    "out": Direction.OUT,
    "sent": Direction.OUT,
    "send": Direction.OUT,
    "client": Direction.OUT,
    "outgoing": Direction.OUT,
}
_EVENT_KEYS = ("event", "data", "message", "frame", "payload")
_TIME_KEYS = ("time", "timestamp", "ts", "t", "at")
_MS_TIME_KEYS = ("time_ms", "timestamp_ms", "ts_ms", "t_ms", "elapsed_ms", "ms")
"""Times a log names as milliseconds: also small ones (`performance.now()`, since the page loaded),
which no size rule tells from seconds."""


def guess_direction(event_type: str) -> Direction:
    """Client events (either dialect) were sent; everything else was received, but a type that no
    dialect defines and that is a near miss of a client event's (`input_audio_buffer.apend`): a
    client's typo, sent (read as the server's, it made a log of the client's sends look two-sided,
    review 56c)."""
    if event_type in GA_CLIENT_EVENTS or event_type in BETA_TO_GA_CLIENT:
        return Direction.OUT
    if event_type in GA_SERVER_EVENTS or event_type in BETA_TO_GA_SERVER:
        return Direction.IN
    return _nearest_side(event_type)


@functools.lru_cache(maxsize=256)
def _nearest_side(event_type: str) -> Direction:
    """OUT when the nearest known type to `event_type` is a client event's and near enough to be a
    typo of it (difflib's ratio 0.85: one letter missing or swapped in a type of 20); else IN."""
    known = [*GA_CLIENT_EVENTS, *BETA_TO_GA_CLIENT, *GA_SERVER_EVENTS, *BETA_TO_GA_SERVER]
    nearest = difflib.get_close_matches(event_type, known, n=1, cutoff=0.85)
    client = bool(nearest) and (nearest[0] in GA_CLIENT_EVENTS or nearest[0] in BETA_TO_GA_CLIENT)
    return Direction.OUT if client else Direction.IN


def _read_frames_jsonl(
    lines: Iterable[bytes], path: Path, note: Callable[[str], None], lean: bool, damaged: Callable[[str], None]
) -> list[Envelope]:
    """One envelope per event line, on a clock that never goes back (see `_on_one_clock`); the log's
    records of other things (JSON objects with no event) are left out, with a `note`, and so are
    damaged lines after an event (a logger killed mid-line, a power cut's NUL bytes), said to
    `damaged`, as a capture's are: a log refused whole for its last line left nothing to read."""
    last = [b"\n"]  # the file's last line that is not blank: one with no newline was cut short

    def numbered() -> Iterator[tuple[int, _Reader]]:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                last[0] = line
                yield number, functools.partial(_frame_line, line, number, path)

    return _read_events(numbered(), path, "line", note, lean, damaged, lambda: not last[0].endswith(b"\n"))


class _UnreadTime(NamedTuple):
    """A record's time in a form `_log_time` does not read (`"12:03:04"`, `"Dec 3 14:00:00"`):
    said once for the log (`_read_events`), not dropped unseen."""

    key: str
    value: object


_Reader = Callable[[int], tuple[Envelope, float | _UnreadTime | None]]
"""Reads one record, given the records before it in the file (its number less one: its envelope's
`seq` is its number, so `#7` in lint's findings, a filter's `seq:7` and the log's row are the
file's line 7, blank lines and a log's other records counted), and gives its envelope and logged time."""


def _read_events(
    readers: Iterable[tuple[int, _Reader]],
    path: Path,
    unit: str,
    note: Callable[[str], None],
    lean: bool,
    damaged: Callable[[str], None] | None = None,
    cut_at_end: Callable[[], bool] = lambda: False,
) -> list[Envelope]:
    """The envelopes of numbered records (lines, or a JSON array's elements): those with no event are
    left out and said (`_events_only`); none at all is refused. With `damaged`, a record that cannot
    be read once an event has been is left out and said to it (a damaged line), unless they
    outnumber the events (then the file is no log of events: refused with the first's reason); the
    last record, when `cut_at_end()` says the file ends inside it, with a note (a crash mid-line)."""
    envelopes: list[Envelope] = []
    times: list[float | None] = []
    others: list[int] = []
    first: _NoEvent | None = None
    unread: list[tuple[int, _UnreadTime]] = []
    unreadable: list[tuple[int, ReplayError]] = []
    number = 0
    for number, read in readers:
        try:
            env, when = read(number - 1)
        except _NoEvent as exc:
            others.append(number)
            first = first or exc
            continue
        except ReplayError as exc:
            if damaged is None or not envelopes:
                raise
            unreadable.append((number, exc))
            continue
        envelopes.append(lean_envelope(env) if lean else env)
        if isinstance(when, _UnreadTime):
            unread.append((number, when))
            when = None
        times.append(when)
    if not envelopes and not others:
        raise ReplayError(f"{path}: no frames in it")
    if unreadable:
        assert damaged is not None
        cut: ReplayError | None = None
        if unreadable[-1][0] == number and cut_at_end():
            # The last line: cut short as the log was being written (a crash, a kill), as a capture's
            # last line may be. What came before it is whole: a note, not a damaged line, and not
            # counted against the log (one bad line and a cut one refused a log of one event whole).
            cut = unreadable.pop()[1]
        if len(unreadable) > len(envelopes):
            raise unreadable[0][1]
        for _, unread_record in unreadable:
            damaged(f"{_without_expectation(unread_record)}: left out, the other {unit}s are read")
        if cut is not None:  # said after the damaged lines: in the file's order
            note(
                f"{_without_expectation(cut)}, its last {unit}: cut short as it was written? "
                f"The {unit}s before it are read"
            )
    if unread:
        note(_unread_times(unread, len(envelopes), unit))
    return _events_only(envelopes, times, others, first, unit, note)


def _without_expectation(exc: ReplayError) -> str:
    """A record's refusal without what a whole file is expected to hold (said of one line left out)."""
    return str(exc).removesuffix(": expected one Realtime event per line")


def _unread_times(unread: list[tuple[int, _UnreadTime]], events: int, unit: str) -> str:
    """The note for records whose time rt-tui cannot read: which, an example, what it reads."""
    number, example = unread[0]
    shown = json.dumps(example.value, ensure_ascii=False)
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    if len(unread) == 1:
        which = f"{unit} {number} gives"
    elif len(unread) == events:
        which = f"every event's {unit} gives"
    else:
        which = f"{len(unread):,} of the {events:,} events' {unit}s give"
    first = f"{example.key}: {shown}" if len(unread) == 1 else f"{unit} {number}: {example.key}: {shown}"
    return (
        f"{which} a time in a form rt-tui does not read ({first}): "
        "each such event is placed a millisecond after the one before (it reads ISO 8601 dates, "
        "2025-11-30T11:33:20.002Z, and seconds, ms, µs or ns since the epoch)"
    )


class _NoEvent(ReplayError):
    """A JSON object that holds no Realtime event: a log's record of something else."""


def _events_only(
    envelopes: list[Envelope],
    times: list[float | None],
    others: list[int],
    first: _NoEvent | None,
    unit: str,
    note: Callable[[str], None],
) -> list[Envelope]:
    """The events of a log that also records other things: those records are left out, and said.
    A log with no event at all is refused with the first record's reason."""
    if not envelopes:
        assert first is not None
        raise first
    if not others:
        return _on_one_clock(envelopes, times)
    shown = ", ".join(str(number) for number in others[:5]) + ("…" if len(others) > 5 else "")
    plural = "s" if len(others) != 1 else ""
    note(
        f"left out {len(others):,} {unit}{plural} with no Realtime event ({unit}{plural} {shown}): "
        "the log's records of other things"
    )
    return _on_one_clock(envelopes, times)


_LEAST_TIME = math.ulp(0.0)
"""A log line's time 0 as its wall clock: 0 itself means the line has no time."""


def _on_one_clock(envelopes: list[Envelope], times: list[float | None]) -> list[Envelope]:
    """The lines' times as the replay's clock: a line without one comes a millisecond after the line
    before (the lines before the first timed one, a millisecond apart before it), and a time earlier
    than the line before's (two threads logging, a clock stepped back) keeps that one's, as a HAR's
    does. A log that times only some lines (its wrapped ones) would otherwise jump between 0 and
    the epoch and back, and a replay's position, durations and pacing would mean nothing."""
    times = [when if _is_time(when) else None for when in times]  # `"time": 1e308` is as good as none
    first = next((index for index, when in enumerate(times) if when is not None), None)
    origin = times[first] if first is not None else None
    previous = (origin - first / 1000) if origin is not None and first is not None else 0.0
    placed: list[Envelope] = []
    for index, (env, when) in enumerate(zip(envelopes, times, strict=True)):
        if when is None:
            # A millisecond after the one before: its place in the replay's clock, as near as can be
            # said. Its wall clock is unknown (0: an export wrote 1970 for it), which the views read
            # as "no time" (`–`), not as a time measured.
            mono = previous + (0.001 if index else 0.0)
            wall = NO_TIME
        else:
            # Its own time. 0 stands for none (above): a log's time 0 (`time_ms` from its start) is
            # kept as the least time above it, which every view and export still shows as 0.
            mono, wall = max(when, previous), when if when != 0.0 else _LEAST_TIME
        previous = mono
        placed.append(dataclasses.replace(env, mono=mono, wall=wall))
    return placed


def _known_event(event_type: object) -> bool:
    """A type either dialect defines (a log record's own `type`, `"ws"` or `"message"`, is not one)."""
    return isinstance(event_type, str) and is_known(event_type)


def _frame_line(line: bytes, number: int, path: Path, position: int) -> tuple[Envelope, float | _UnreadTime | None]:
    """A line's envelope (at no time yet) and the time it was logged at, when it says."""
    where = f"{path}: line {number}"
    try:
        text = line.decode("utf-8").strip()
        value = json.loads(text)
    except UnicodeDecodeError:
        raise ReplayError(f"{where} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        reason = json_reason(exc)
        raise ReplayError(f"{where} is not JSON ({reason}): expected one Realtime event per line") from None
    except ValueError:  # json hands an integer literal to int(), which refuses past its digit limit
        raise ReplayError(f"{where} holds {_long_integer()}: not a Realtime event rt-tui can read") from None
    except RecursionError:
        raise _too_deep(where) from None
    try:
        # json.loads keeps a lone surrogate (`"\ud800"`) and any depth: a frame must have neither
        # (the app saves and prints its text as UTF-8; its views walk it recursively).
        value = checked(value, text)
    except FrameError:
        raise _too_deep(where) from None
    return _frame_value(value, text, where, position)


def _long_integer() -> str:
    """What json.loads refused, when it raised a plain ValueError: Python's own words ("Exceeds the
    limit (4300 digits) for integer string conversion…; use sys.set_int_max_str_digits()") called
    the line "not JSON" and told a user to call a Python function."""
    return f"an integer of over {sys.get_int_max_str_digits():,} digits"


def _too_deep(where: str) -> ReplayError:
    """A line or an element nested past what a frame may be (tui.protocol.codec.MAX_DEPTH)."""
    return ReplayError(f"{where} is JSON nested deeper than {MAX_DEPTH} levels: not a Realtime event")


def _frame_value(value: object, text: str, where: str, position: int) -> tuple[Envelope, float | _UnreadTime | None]:
    """An event, or a log record around one (see the module docstring), read from its JSON `text`."""
    if not isinstance(value, dict):
        raise ReplayError(f"{where} is JSON {json_type_name(value)}, not a Realtime event object")
    event: Any = value
    raw = text
    direction: Direction | None = None
    # A wrapper: the event is inside, and the outer `type`, if any, is the log record's own.
    wrapper = not isinstance(value.get("type"), str) or not _known_event(value["type"])
    for key in _EVENT_KEYS:
        inner = value.get(key)
        if not wrapper:
            break
        if isinstance(inner, dict) and isinstance(inner.get("type"), str):
            if isinstance(value.get("type"), str) and not _known_event(inner["type"]):
                continue  # both unknown: the line is the event (a new server event with a `data` field)
            event, raw = inner, serialize(inner)
            break
        if isinstance(inner, str) and inner.lstrip().startswith("{"):
            parsed = _parse_or_empty(inner)
            if isinstance(value.get("type"), str) and not _known_event(parsed.get("type")):
                continue
            event, raw = parsed, inner
            break
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise _NoEvent(f"{where} has no Realtime event (an object with a string 'type')")
    # A wrapper says its direction in any of these; an event logged with a `direction` or `dir`
    # beside its own fields (no Realtime event has either) says it too, which matters for a type
    # no dialect defines: a client's misspelt event must not pass for an unknown server event.
    keys = ("direction", "dir", "source", "from", "type") if event is not value else ("direction", "dir")
    for key in keys:
        word = value.get(key)
        if isinstance(word, str) and word.lower() in _DIRECTION_WORDS:
            direction = _DIRECTION_WORDS[word.lower()]
            break
    etype = str(event["type"])
    when: float | _UnreadTime | None = None
    if event is not value:
        when = next((seconds for k in _TIME_KEYS if (seconds := _log_time(value.get(k))) is not None), None)
        if when is None:
            when = next((ms / 1000 for k in _MS_TIME_KEYS if (ms := _number(value.get(k))) is not None), None)
        if when is None:
            # A time given in a form not read: said (`_read_events`), not dropped unseen.
            unread = next((k for k in (*_TIME_KEYS, *_MS_TIME_KEYS) if value.get(k) not in (None, "")), None)
            if unread is not None:
                when = _UnreadTime(unread, value[unread])
    env = Envelope(position + 1, direction or guess_direction(etype), etype, event, raw, mono=0.0, wall=0.0)
    return env, when


def _log_time(value: object) -> float | None:
    """Seconds since the epoch from a log's time: a number in seconds, or in milliseconds, microseconds
    or nanoseconds (`Date.now()`, `time.time_ns()`: told apart by size, as no session is dated
    after the year 5000), or an ISO 8601 string (`2025-11-30T11:33:20.002Z`). None if it is neither."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).timestamp()
        except ValueError:
            return None
    seconds = _number(value)
    if seconds is None:
        return None
    for _ in range(3):
        if abs(seconds) < 1e11:
            break
        seconds /= 1000
    return seconds


def _number(value: object) -> float | None:
    """A finite JSON number (true and false are not numbers here)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value)


# -- HAR --------------------------------------------------------------------------------------


def _read_har(stream: BinaryIO, path: Path, lean: bool) -> Recording:
    text = _read_all(stream)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, json.JSONDecodeError) and _HAR_START.match(text) and b"\0" not in text:
            raise ReplayError(f"{path}: {_damaged_har(exc)}") from None
        if type(exc) is ValueError:  # not JSONDecodeError nor UnicodeDecodeError: int()'s digit limit
            kind = f"JSON holding {_long_integer()}, which rt-tui does not read"
        else:
            kind = _why_not_json(text) if isinstance(exc, ValueError) else "JSON nested too deeply to read"
        raise ReplayError(f"{path}: not an rt-tui capture, a HAR file or a JSONL of frames ({kind})") from None
    if isinstance(document, list) and document and all(isinstance(value, dict) for value in document):
        try:
            checked(document, max_depth=MAX_DEPTH + 1)  # each element a frame (or a record around one)
        except FrameError:
            raise _too_deep(f"{path}: an element of the JSON array") from None
        # `json.dump(events, f)`: the same events (or log records) as a JSONL's lines, in one array.
        said: list[str] = []
        return Recording("json", _read_event_array(document, path, said.append, lean), path, notes=said)
    if isinstance(document, dict) and isinstance(document.get("type"), str) and "log" not in document:
        # One frame, as the detail view's `s` saves it (pretty-printed, so not a line of JSONL): read
        # as an array of one. Refused, rt-tui's own saved frame read "JSON, but not an rt-tui capture".
        try:
            checked(document, max_depth=MAX_DEPTH + 1)
        except FrameError:
            raise _too_deep(f"{path}: the JSON object") from None
        said = []
        return Recording("json", _read_event_array([document], path, said.append, lean), path, notes=said)
    if _SURROGATE_ESCAPE.search(text):
        checked(document, max_depth=None)  # a HAR's strings are shown, saved and scrubbed as UTF-8 text
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ReplayError(f"{path}: JSON, but not an rt-tui capture, a HAR file or a JSONL of frames")
    sockets = [e for e in entries if isinstance(e, dict) and isinstance(e.get("_webSocketMessages"), list)]
    if not sockets:
        offer = _webrtc_offer(entries)
        if offer:
            raise ReplayError(
                f"{path}: a HAR file without WebSocket messages: the page used the Realtime API over WebRTC "
                f"(its SDP offer went to {offer}), whose events travel on a data channel no HAR records: log "
                "each event the data channel carries, both ways, as one JSON line, and replay that file"
            )
        raise ReplayError(f"{path}: a HAR file without WebSocket messages (export it with them from DevTools)")
    secrets: list[str] = []
    connections: list[_Socket] = []
    others: list[_Socket] = []
    for entry in sockets:
        found = entry.get("request")
        request: dict[str, Any] = found if isinstance(found, dict) else {}
        url = str(request.get("url") or "")
        label, url_secrets = _url_facts(url)
        secrets += _header_secrets(request) + url_secrets  # scrubbed whichever socket revealed them
        socket = _socket(entry, label, lean)
        realtime = "realtime" in _url_path(url).lower() or any(_known_event(m.type) for m in socket.messages)
        (connections if realtime or not socket.messages else others).append(socket)
    notes: list[str] = []
    if others and not connections:
        labels = ", ".join(socket.label for socket in others)
        raise ReplayError(
            f"{path}: a HAR file whose WebSocket connections carry no Realtime event ({labels}): nothing to replay"
        )
    for socket in others:
        # A page's other sockets (a dev server's reload socket, analytics) are saved in the same
        # HAR: judged as Realtime traffic, every event they sent would be an unknown-client-event error.
        notes.append(
            f"left out the WebSocket connection to {socket.label}: none of its {len(socket.messages)} messages "
            "is a Realtime event (another socket of the page)"
        )
    if not any(connection.messages or connection.refused for connection in connections):
        # Nothing was said on any socket: a replay would be empty and a lint "clean", which says
        # nothing about the client. Said as plainly as a HAR without WebSocket entries. (A socket
        # whose upgrade the server refused is played as that refusal: lint's `upgrade-refused`,
        # Azure's wrong-key case, where the HAR was "unreadable", exit 2.)
        count = (
            f"its {len(connections)} WebSocket connections carry"
            if len(connections) > 1
            else (f"its WebSocket connection ({connections[0].label}) carries")
        )
        refused = [connection.refused for connection in connections if connection.refused]
        why = f": the server refused the upgrade ({', '.join(dict.fromkeys(refused))})" if refused else ""
        raise ReplayError(f"{path}: a HAR file without WebSocket messages: {count} none{why} (nothing to replay)")
    envelopes, late = _timeline(connections)
    recording = Recording("har", envelopes, path, secrets=[s for s in secrets if s], notes=notes + list(late))
    recording.placed.update(late)
    return recording


def _damaged_har(exc: json.JSONDecodeError) -> str:
    """Why a file that begins as a HAR does not parse: cut short (a save or a copy that did not
    finish), followed by more (two joined), or damaged at a place. "not JSON" alone sent a user
    looking through megabytes for a syntax error that was the file's missing end."""
    if exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip()):
        return "a HAR file cut short: the file ends inside its JSON (a save or a copy that did not finish)"
    if exc.msg == "Extra data":
        return f"a HAR file with more after its end, from line {exc.lineno:,} (files joined? give one HAR at a time)"
    return f"a HAR file whose JSON is damaged at line {exc.lineno:,}, column {exc.colno:,} ({exc.msg})"


def _read_event_array(document: list[Any], path: Path, note: Callable[[str], None], lean: bool) -> list[Envelope]:
    """A JSON array of events or log records, read as a JSONL of them is, element by element."""
    at = f"{path}: element"
    readers = (
        (number, functools.partial(_frame_value, value, serialize(value), f"{at} {number} of the JSON array"))
        for number, value in enumerate(document, start=1)
    )
    return _read_events(readers, path, "element", note, lean)


def _why_not_json(text: bytes | bytearray) -> str:
    """Why a file no reader took is not JSON, when the reason is its bytes: "not JSON" alone sent
    a user looking for a syntax error in a file the disk had zeroed, or in a binary file."""
    if b"\0" in text:
        return "it holds NUL bytes: data lost on the disk, as after a power cut, or not a text file"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: byte {exc.start + 1:,} is not UTF-8"
    return "not JSON"


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
"""A JSON escape of a surrogate, which json.loads keeps as a lone one unless it is half a pair."""


def _read_all(stream: BinaryIO) -> bytearray:
    """Every byte of `stream`, gathered in one buffer (no second copy of a large file on the way)."""
    data = bytearray()
    while chunk := stream.read(READ_BUFFER):
        data += chunk
    return data


@dataclass(slots=True)
class _Socket:
    """One WebSocket entry of a HAR file, before it is placed on the replay's timeline."""

    label: str
    start: float | None
    """When it opened (its first message; else the entry's `startedDateTime`); None if unknown."""
    messages: list[Envelope]
    """Its messages in order, at their recorded times (never earlier than the message before; at 0
    when the socket has no time at all)."""
    refused: str | None = None
    """The server's answer to its upgrade when it was an HTTP error (`HTTP 401 Unauthorized`): the
    socket never opened, and carries no message."""


def _socket(entry: dict[str, Any], label: str, lean: bool) -> _Socket:
    """A HAR entry's socket: its messages at their recorded times (see `_Socket`)."""
    start = _entry_start(entry)
    messages: list[Envelope] = []
    previous = start if start is not None else 0.0
    for message in entry["_webSocketMessages"]:
        if not isinstance(message, dict):
            continue
        env = _har_message(message, 0, previous, label)
        if env.mono < previous:
            # A clock stepped back (or a hand-edited file): the frame keeps its place in the socket's
            # order and its wall time, and the replay's clock does not go backwards for it.
            env = dataclasses.replace(env, mono=previous)
        previous = env.mono
        messages.append(lean_envelope(env) if lean else env)
    return _Socket(label, start, messages, None if messages else _refusal(entry))


def _webrtc_offer(entries: list[Any]) -> str | None:
    """Where the page sent a WebRTC SDP offer to a Realtime endpoint (`…/v1/realtime/calls`), shown
    without its query; None if it sent none. A WebRTC session's events never cross a WebSocket, so
    "export it with them from DevTools" sent its developer looking for an option that is not there."""
    for entry in entries:
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or "realtime" not in _url_path(str(request.get("url") or "")).lower():
            continue
        posted = request.get("postData")
        kinds = [posted.get("mimeType")] if isinstance(posted, dict) else []
        headers = request.get("headers")
        for header in headers if isinstance(headers, list) else []:
            if isinstance(header, dict) and str(header.get("name", "")).lower() == "content-type":
                kinds.append(header.get("value"))
        if any(isinstance(kind, str) and kind.lower().startswith("application/sdp") for kind in kinds):
            parts = urlsplit(str(request["url"]))
            return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
    return None


def _refusal(entry: dict[str, Any]) -> str | None:
    """`HTTP 401 Unauthorized` when the entry's response is an HTTP error, as DevTools saves a socket
    whose upgrade the server refused (a bad key, an expired client secret); else None."""
    response = entry.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        return None
    reason = response.get("statusText") if isinstance(response, dict) else None
    said = f"HTTP {status}" + (f" {reason.strip()[:100]}" if isinstance(reason, str) and reason.strip() else "")
    content = response.get("content") if isinstance(response, dict) else None
    if not isinstance(content, dict):
        return said
    body = content.get("text")
    if isinstance(body, str) and body.strip() and content.get("encoding") != "base64":
        # The server's own words (Azure: "Access denied due to invalid subscription key…"): the fix.
        said += f": {' '.join(body.split())[:300]}"
    return said


def _url_path(url: str) -> str:
    """A URL's path; "" for one urlsplit refuses (`wss://[::1/v1/realtime`: a HAR is anyone's text)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _timeline(sockets: list[_Socket]) -> tuple[list[Envelope], dict[str, int]]:
    """Every socket's envelopes on one clock, numbered in order (the module docstring says why each
    connection is played whole, in the order they opened), and a note for each one played late,
    with the index of its `open` fact (the app shows the note there)."""
    order = sorted(sockets, key=lambda socket: math.inf if socket.start is None else socket.start)
    origin = order[0].start or 0.0
    envelopes: list[Envelope] = []
    notes: dict[str, int] = {}
    cursor: float | None = None  # where the connection played before ends, on the replay's clock
    for number, socket in enumerate(order, start=1):
        start = socket.start if socket.start is not None else 0.0
        end = socket.messages[-1].mono if socket.messages else start
        if socket.start is None:
            shift = cursor or 0.0  # no time at all: right after the connection before
        else:
            shift = max(0.0, cursor - start) if cursor is not None else 0.0
        connecting = f"connecting to {socket.label}"
        note = ""
        if shift > 0 and socket.start is not None:
            late = _seconds(shift)
            # Said first: the log's row is cut at the pane's edge, and most of a URL is past it.
            connecting = f"opened while connection {number - 1} was open, so played after it, {late} late: {connecting}"
            note = (
                f"connection {number} ({socket.label}) opened at {_seconds(start - origin)}, while connection "
                f"{number - 1} was still open: it is played after it, {late} later than recorded"
            )
        if socket.refused:
            # Where a live session says why it could not connect; a HAR's request log says so too.
            refused = f"the server refused the WebSocket upgrade: {socket.refused}"
            for state, message in (("connecting", connecting), ("failed", refused)):
                envelopes.append(_fact(len(envelopes) + 1, state, message, socket.label, start + shift, start))
            if note:
                notes[note] = len(envelopes) - 1
            cursor = end + shift
            continue
        for state, message in (("connecting", connecting), ("open", f"connected to {socket.label}")):
            envelopes.append(_fact(len(envelopes) + 1, state, message, socket.label, start + shift, start))
        if note:
            notes[note] = len(envelopes) - 1  # after its `open` fact: in that connection, before its frames
        for env in socket.messages:
            envelopes.append(dataclasses.replace(env, seq=len(envelopes) + 1, mono=env.mono + shift))
        closed = "the recording ends here"
        envelopes.append(_fact(len(envelopes) + 1, "closed", closed, socket.label, end + shift, end))
        cursor = end + shift
    return envelopes, notes


def _seconds(value: float) -> str:
    """`50 s`, `0.25 s`: to the millisecond, without trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".") + " s"


def _fact(seq: int, state: str, message: str, label: str, mono: float, wall: float) -> Envelope:
    """A connection fact (connecting, open, closed) of a HAR's socket, at `mono` on the replay's clock."""
    env = local_envelope("rt.connection", message, state=state, target=label)
    return Envelope(seq, env.direction, env.type, env.data, env.raw, mono=mono, wall=wall)


def _har_message(message: dict[str, Any], seq: int, fallback_time: float, label: str) -> Envelope:
    """A HAR WebSocket message as an envelope: a frame sent or received, or the browser's error."""
    direction = Direction.OUT if message.get("type") == "send" else Direction.IN
    when = message.get("time")
    mono = float(when) if _is_time(when) else fallback_time
    data_text = message.get("data")
    text = data_text if isinstance(data_text, str) else ""
    if message.get("type") == "error":
        # Chrome records a WebSocket error (a frame it could not decode, a protocol violation) as a
        # message of type "error" (opcode -1) whose data is its own words: not a frame either side sent.
        said = text[:300] or "no details"
        fact = local_envelope("rt.connection", f"the browser reported a WebSocket error: {said}", target=label)
        return Envelope(seq, fact.direction, fact.type, fact.data, fact.raw, mono=mono, wall=mono)
    encoded = str(message.get("encoding") or "").lower() == "base64"
    if message.get("opcode") == 2 or encoded:
        # Chrome writes a binary message's bytes in base64; other tools say so with "encoding".
        try:
            payload = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            payload = text.encode("utf-8", "replace")
        if message.get("opcode") != 2:
            text = payload.decode("utf-8", "replace")
        else:
            binary = payload
            note = {"type": "rt.malformed", "message": f"binary frame of {len(binary)} bytes"}
            return Envelope(seq, direction, "rt.malformed", note, f"<binary {len(binary)} bytes>", mono, mono, binary)
    try:
        data = parse(text)
    except FrameError as exc:
        note = {"type": "rt.malformed", "message": f"malformed frame: {exc}"}
        return Envelope(seq, direction, "rt.malformed", note, text, mono, mono)
    return Envelope(seq, direction, str(data["type"]), data, text, mono, mono)


def _entry_start(entry: dict[str, Any]) -> float | None:
    """When a socket opened: its first timed message, else the entry's `startedDateTime`, else None."""
    for message in entry["_webSocketMessages"]:
        when = message.get("time") if isinstance(message, dict) else None
        if _is_time(when):
            return float(when)
    started = entry.get("startedDateTime")
    if isinstance(started, str):
        try:
            return datetime.fromisoformat(started).timestamp()
        except ValueError:
            return None
    return None


def _is_time(value: object) -> TypeGuard[int | float]:
    """A time of a recording: a number of seconds within TIME_LIMIT (JSON true is no time; NaN,
    Infinity and 1e308 are damage, which no clock of the views can show)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < TIME_LIMIT


def _header_secrets(request: dict[str, Any]) -> list[str]:
    """Keys a browser sent when it opened the socket (headers, the subprotocol trick)."""
    headers = request.get("headers")
    pairs = [
        (str(header.get("name", "")), str(header.get("value", "")))
        for header in (headers if isinstance(headers, list) else [])
        if isinstance(header, dict)
    ]
    return handshake_secrets(pairs)


def _url_facts(url: str) -> tuple[str, list[str]]:
    """The URL fit to show (credentials masked), and the credentials it held.

    A HAR written by an HTTP tool (mitmproxy's `save.har`) names the socket by its upgrade
    request's `https://` URL: read as the `wss://` one it is, or its `?api-key=` went unscrubbed."""
    from tui.session.targets import url_target

    scheme, colon, rest = url.partition(":")
    if colon and scheme.lower() in _WEBSOCKET_SCHEMES:
        url = _WEBSOCKET_SCHEMES[scheme.lower()] + ":" + rest
    try:
        target = url_target(url)
    except ValueError:
        return "a recorded WebSocket", []
    return target.label, list(target.secrets)


_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}
"""The WebSocket scheme of an upgrade request's HTTP one."""


def _parse_or_empty(raw: str) -> dict[str, Any]:
    try:
        return parse(raw)
    except FrameError:
        return {}


def with_notes_as_facts(recording: Recording) -> Recording:
    """The recording with each note as a local fact, which the app shows as a notice when playback
    reaches it: printed on stderr, the note would be hidden behind the app's screen until it quits.
    A note of a point in the recording (`Recording.placed`: a HAR connection played late) goes
    there; the others (a last line cut short, records left out) at the end. (`--json` and `lint`
    keep the file's own frames and say the notes on stderr.)

    A fact's `seq` follows the recording's last: the recording's own frames keep theirs, which
    `lint` and `--json` name them by (so a placed fact's is out of order, as an rt-tui note may be)."""
    envelopes = recording.envelopes
    if not recording.notes or not envelopes:
        return recording
    last = envelopes[-1]
    kind = "rt.capture" if recording.kind == "capture" else "rt.replay"
    after: dict[int, list[Envelope]] = {}
    for number, note in enumerate(recording.notes, start=1):
        at = recording.placed.get(note, len(envelopes) - 1)
        there = envelopes[at]
        fact = dataclasses.replace(
            local_envelope(kind, note, notify=True), seq=last.seq + number, mono=there.mono, wall=there.wall
        )
        after.setdefault(at, []).append(fact)
    if list(after) == [len(envelopes) - 1]:
        if isinstance(envelopes, Frames):
            joined = envelopes.copy()  # the columns copied, not an envelope made of each frame
            joined.extend(after[len(envelopes) - 1])
            return dataclasses.replace(recording, envelopes=joined)
        return dataclasses.replace(recording, envelopes=[*envelopes, *after[len(envelopes) - 1]])
    # Each file starts as many facts later as were woven in before it.
    starts = [start + sum(len(facts) for at, facts in after.items() if at < start) for start in recording.file_starts]
    if isinstance(envelopes, Frames):
        # Row by row as held: a frame whose text its file holds is not read (made an envelope of,
        # each was read from the file and kept in memory).
        woven_frames = Frames()
        for index in range(len(envelopes)):
            woven_frames.take_row(envelopes, index)
            woven_frames.extend(after.get(index, ()))
        return dataclasses.replace(recording, envelopes=woven_frames, file_starts=starts)
    return dataclasses.replace(recording, envelopes=list(_woven(envelopes, after)), file_starts=starts)


def _woven(envelopes: Sequence[Envelope], after: dict[int, list[Envelope]]) -> Iterator[Envelope]:
    """`envelopes` with the facts of `after` following the envelope at each index (a lean one stays lean)."""
    for index, env in enumerate(envelopes):
        yield env
        yield from after.get(index, ())
