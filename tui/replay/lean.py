"""A recording held lean: its frames without their parsed copy, in columns, parsed again as played.

A replay holds the whole recording for its whole run (to play it again with `r`; a HAR, a log or a
pipe has no capture to read a payload back from). Held as read, an hour's capture took 1 GB: each
frame parsed beside its wire text (an audio frame's base64 twice), and an object for every frame
and every one of its numbers. Here a frame that can be parsed again keeps only its wire text
(`lean_envelope`), the recording is held in flat columns (`Frames`), and whoever plays it reads its
frames through `hydrated`, which parses each one again as it goes: subscribers get whole frames, as
from a live session, one at a time.

A capture read from a regular file keeps not even the text: the file is the frames' store (as
toolong's log is its file's view), and a frame holds only where its text lies in it (`FileText`),
read back as the frame is played. An hour's capture held its 396 MB of text for the whole run
(424 MB of RSS for the recording alone); it now holds its columns, about 60 bytes a frame.
"""

from __future__ import annotations

import json
import os
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from tui.protocol import DIR_IN, DIR_LOCAL, DIR_OUT, Envelope, FrameError, parse
from tui.protocol.records import embedded_frame_start


class _Unparsed(dict[str, Any]):
    """The type of `UNPARSED` (a type of its own, so no frame's empty data is mistaken for it).

    Shared by every lean frame, so it refuses to be written to: a write would be every lean
    frame's at once."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("UNPARSED is shared by every lean frame: hydrate the frame before changing its data")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]


UNPARSED: dict[str, Any] = _Unparsed()
"""The data of a lean envelope (`lean_envelope`): left out, to be parsed again from the wire text
(`hydrated`). Empty, so code that reads it unhydrated finds no field rather than a stale one."""


def can_be_lean(env: Envelope) -> bool:
    """True when parsing `env`'s wire text again gives its data, which can then be left out.

    That is a frame parsed from its wire text, and that text holds no escape, where the parsers
    could differ (a lone surrogate): never a local fact, an `rt.*` note (a frame that did not parse,
    a HAR's error) or a binary frame, whose data is rt-tui's own words.
    """
    etype = env.type
    return not (
        env.direction is DIR_LOCAL
        or env.binary is not None
        or etype.startswith("rt.")
        or env.data.get("type") != etype
        or "\\" in env.raw
    )


def lean_envelope(env: Envelope) -> Envelope:
    """`env` without its parsed copy (`UNPARSED`) when it can be parsed again (`can_be_lean`)."""
    if env.data is UNPARSED or not can_be_lean(env):
        return env
    return Envelope(env.seq, env.direction, env.type, UNPARSED, env.raw, env.mono, env.wall, None, env.wire_size)


def hydrated(envelopes: Iterable[Envelope]) -> Iterator[Envelope]:
    """`envelopes` with the data of each lean one (`lean_envelope`) parsed again from its wire text;
    the others as they are. What a player publishes: subscribers read `data` as from a live session."""
    if isinstance(envelopes, Frames):
        yield from envelopes.hydrated()  # each envelope made once, already whole
        return
    for env in envelopes:
        if env.data is UNPARSED:
            raw = env.raw
            data = _parse_again(raw)
            env = Envelope(env.seq, env.direction, env.type, data, raw, env.mono, env.wall, None, env.wire_size)
        yield env


def _parse_again(raw: str) -> dict[str, Any]:
    """A lean frame's data: `lean_envelope` took only text both parsers read alike (the codec's, and
    `json.loads` that read a JSONL's lines)."""
    try:
        return parse(raw)
    except FrameError:  # deeper than the codec allows: as the journal reads a frame again
        value = json.loads(raw)
        return value if isinstance(value, dict) else {}


class RecordingChanged(OSError):
    """A frame's text is no longer where it was read in its file (the file was cut or rewritten
    since): the message is one line naming the file."""


class FileText:
    """The frames' text a capture file holds, read back by place: the file is its store.

    Holds a descriptor of its own on the file as it was opened (a file deleted or renamed since is
    still read; one rewritten in place is told by what its bytes no longer are)."""

    MOST_OPEN = 64
    """Stores open at once at most: each holds a descriptor for the run, and `lint sessions/*/` may
    name hundreds of files (the process's limit is often 1,024, and exports and read-backs need
    some). A file read past them keeps its frames' text in memory, as a pipe's."""

    open_now = 0
    """Stores whose descriptor is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        FileText.open_now += 1
        weakref.finalize(self, FileText._close, fd)

    @staticmethod
    def _close(fd: int) -> None:
        FileText.open_now -= 1
        os.close(fd)

    @classmethod
    def beside(cls, path: Path, fileno: int) -> FileText | None:
        """A store of the file open as `fileno` (its descriptor duplicated: the caller closes its own);
        None when `MOST_OPEN` are open already."""
        if cls.open_now >= cls.MOST_OPEN:
            return None
        return cls(path, os.dup(fileno))

    def read(self, offset: int, length: int) -> str:
        """The text of `length` bytes at `offset`: one frame, which begins with `{`."""
        try:
            data = os.pread(self._fd, length, offset)
        except OSError as exc:
            raise RecordingChanged(f"{self.path}: {exc.strerror or exc}") from None
        if len(data) != length or data[:1] != b"{":
            raise RecordingChanged(f"{self.path}: the file changed since it was read: a frame is not where it was")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise RecordingChanged(f"{self.path}: the file changed since it was read: a frame is not UTF-8") from None


def place_in_line(raw: str, line: bytes, line_offset: int) -> tuple[int, int] | None:
    """Where `raw` (a frame read from capture line `line`, which starts `line_offset` bytes into
    its file) lies in the file, as (offset, length in bytes); None unless the line is one the
    capture's writer wrote with its frame embedded (`embedded_frame_start`: the reader then took the
    frame's text as those very bytes), `raw` is as long and the same at both ends. Any other line (a
    header spaced by hand, whose frame the reader may write again in its own form) keeps its text."""
    if line.endswith(b"}\n"):
        end = len(line) - 2
    elif line.endswith(b"}"):
        end = len(line) - 1
    else:
        return None
    if not raw.startswith("{"):
        return None  # what `FileText.read` checks a frame read back by
    if raw.isascii():  # nearly every frame: its length in bytes is its length, known without a copy
        length, head, tail = len(raw), raw[:32].encode("ascii"), raw[-32:].encode("ascii")
    else:
        encoded = raw.encode("utf-8")
        length, head, tail = len(encoded), encoded[:32], encoded[-32:]
    start = end - length
    if start != embedded_frame_start(line):
        return None
    if line[start : start + len(head)] != head or line[end - len(tail) : end] != tail:
        return None
    return line_offset + start, length


_DIRECTIONS = (DIR_OUT, DIR_IN, DIR_LOCAL)
_DIRECTION_CODES = {direction: code for code, direction in enumerate(_DIRECTIONS)}
_NO_SIZE = -1
"""The size column's value for an envelope whose `wire_size` is None."""


class Frames(Sequence[Envelope]):
    """Envelopes held lean (`can_be_lean`) in flat columns, each made again when read.

    One object per frame and per number (sequence, two times, size) took 200 bytes a frame beside
    its text: 45 MB an hour, for frames the journal holds in its own columns too. Here a frame
    costs about 60 bytes, its type is stored once per type, and its text and data are the
    envelope's own objects (a lean envelope's data is the shared `UNPARSED`).
    """

    __slots__ = (
        "_at",
        "_binary",
        "_bytes",
        "_codes",
        "_data",
        "_dir",
        "_file_numbers",
        "_files",
        "_in",
        "_mono",
        "_names",
        "_raw",
        "_seq",
        "_size",
        "_type",
        "_wall",
    )

    def __init__(self, envelopes: Iterable[Envelope] = ()) -> None:
        self._seq = array("q")
        self._mono = array("d")
        self._wall = array("d")
        self._size = array("q")
        self._dir = bytearray()
        self._type = array("i")
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        self._raw: list[str | None] = []
        """Each frame's wire text, or None where its file holds it (`_at`)."""
        self._data: list[dict[str, Any]] = []
        self._binary: dict[int, bytes] = {}
        self._at = array("q")
        """Where a frame's text begins in its file (`_in`), or -1 where `_raw` holds it."""
        self._bytes = array("q")
        """The length of a frame's text in its file, in bytes (0 where `_raw` holds it)."""
        self._in = array("i")
        """Which of `_files` holds a frame's text (0 where `_raw` holds it)."""
        self._files: list[FileText] = []
        self._file_numbers: dict[int, int] = {}
        """`id()` of each of `_files` → its place in it."""
        self.extend(envelopes)

    def extend(self, envelopes: Iterable[Envelope]) -> None:
        """Append each of `envelopes` (read one at a time: a generator is never held whole); another
        `Frames`' rows are copied as they are held (a frame its file holds is not read)."""
        if isinstance(envelopes, Frames):
            for index in range(len(envelopes)):
                self.take_row(envelopes, index)
            return
        for env in envelopes:
            self.append(env)

    def take_row(self, other: Frames, index: int) -> None:
        """Append `other`'s frame at `index` as `other` holds it (its text left in its file)."""
        at = other._at[index]
        if at < 0:
            self.append(other._envelope(index))
            return
        source = other._files[other._in[index]]
        self.append(other._envelope(index, text=""), (source, at, other._bytes[index]))

    def append(self, env: Envelope, place: tuple[FileText, int, int] | None = None) -> None:
        """Append one envelope, without its parsed copy when it can be parsed again. `place`: the file
        that holds its text, where and how many bytes (`place_in_line`), for one that can be parsed
        again: then its text is left there, read back when the frame is played."""
        code = self._codes.get(env.type)
        if code is None:
            code = self._codes[env.type] = len(self._names)
            self._names.append(env.type)
        if env.binary is not None:
            self._binary[len(self._raw)] = env.binary
        self._seq.append(env.seq)
        self._mono.append(env.mono)
        self._wall.append(env.wall)
        self._size.append(_NO_SIZE if env.wire_size is None else env.wire_size)
        self._dir.append(_DIRECTION_CODES[env.direction])
        self._type.append(code)
        # Decided here, not by making a lean envelope first: an hour's capture is 178,653 of them.
        lean = env.data is UNPARSED or can_be_lean(env)
        self._data.append(UNPARSED if lean else env.data)
        if place is not None and lean:
            source, at, length = place
            number = self._file_numbers.get(id(source))
            if number is None:
                number = self._file_numbers[id(source)] = len(self._files)
                self._files.append(source)
            self._raw.append(None)
            self._at.append(at)
            self._bytes.append(length)
            self._in.append(number)
            return
        self._raw.append(env.raw)
        self._at.append(-1)
        self._bytes.append(0)
        self._in.append(0)

    def copy(self) -> Frames:
        """Another `Frames` of the same envelopes (its columns copied; texts and data shared)."""
        other = Frames()
        other._seq, other._mono, other._wall = self._seq[:], self._mono[:], self._wall[:]
        other._size, other._dir, other._type = self._size[:], self._dir[:], self._type[:]
        other._names, other._codes = self._names[:], dict(self._codes)
        other._raw, other._data, other._binary = self._raw[:], self._data[:], dict(self._binary)
        other._at, other._bytes, other._in, other._files = self._at[:], self._bytes[:], self._in[:], self._files[:]
        other._file_numbers = dict(self._file_numbers)
        return other

    @property
    def in_files(self) -> int:
        """Frames whose text their file holds (read back as played), not this object."""
        return sum(1 for at in self._at if at >= 0)

    def text(self, index: int) -> str:
        """The wire text of the frame at `index` (read from its file, where that holds it)."""
        raw = self._raw[index]
        if raw is None:
            return self._files[self._in[index]].read(self._at[index], self._bytes[index])
        return raw

    def monos(self) -> Sequence[float]:
        """Every frame's `mono`, in order, without making an envelope of each (nor reading its text)."""
        return self._mono

    def walls(self) -> Sequence[float]:
        """Every frame's `wall`, as `monos`."""
        return self._wall

    def delay(self, start: int, stop: int, seconds: float) -> None:
        """Play the envelopes from `start` to `stop` `seconds` later (their `mono`; `wall` is kept)."""
        mono = self._mono
        for index in range(start, stop):
            mono[index] += seconds

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> Envelope: ...
    @overload
    def __getitem__(self, index: slice) -> list[Envelope]: ...
    def __getitem__(self, index: int | slice) -> Envelope | list[Envelope]:
        if isinstance(index, slice):
            return [self._envelope(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("Frames index out of range")
        return self._envelope(index)

    def __iter__(self) -> Iterator[Envelope]:
        for index in range(len(self._raw)):
            yield self._envelope(index)

    def hydrated(self) -> Iterator[Envelope]:
        """Every envelope, whole: a lean one's data parsed again from its wire text."""
        seq, mono, wall, size, direction, etype = self._seq, self._mono, self._wall, self._size, self._dir, self._type
        names, raws, binary, text = self._names, self._raw, self._binary, self.text
        for i, data in enumerate(self._data):
            raw, wire_size = raws[i], size[i]
            if raw is None:
                raw = text(i)
            yield Envelope(
                seq[i],
                _DIRECTIONS[direction[i]],
                names[etype[i]],
                _parse_again(raw) if data is UNPARSED else data,
                raw,
                mono[i],
                wall[i],
                binary.get(i) if binary else None,
                None if wire_size == _NO_SIZE else wire_size,
            )

    def _envelope(self, i: int, text: str | None = None) -> Envelope:
        """The envelope at `i` (lean as held); `text` in place of its wire text (`take_row`'s "": not read)."""
        size = self._size[i]
        return Envelope(
            self._seq[i],
            _DIRECTIONS[self._dir[i]],
            self._names[self._type[i]],
            self._data[i],
            self.text(i) if text is None else text,
            self._mono[i],
            self._wall[i],
            self._binary.get(i),
            None if size == _NO_SIZE else size,
        )
