"""A recording held lean: its frames without their parsed copy, in columns, parsed again as played.

A replay holds the whole recording for its whole run (to play it again with `r`; a HAR, a log or a
pipe has no capture to read a payload back from). Held as read, an hour's capture took 1 GB: each
frame parsed beside its wire text (an audio frame's base64 twice), and an object for every frame
and every one of its numbers. Here a frame that can be parsed again keeps only its wire text
(`lean_envelope`), the recording is held in flat columns (`Frames`), and whoever plays it reads its
frames through `hydrated`, which parses each one again as it goes: subscribers get whole frames, as
from a live session, one at a time.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from tui.protocol import DIR_IN, DIR_LOCAL, DIR_OUT, Envelope, FrameError, parse


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

    __slots__ = ("_binary", "_codes", "_data", "_dir", "_mono", "_names", "_raw", "_seq", "_size", "_type", "_wall")

    def __init__(self, envelopes: Iterable[Envelope] = ()) -> None:
        self._seq = array("q")
        self._mono = array("d")
        self._wall = array("d")
        self._size = array("q")
        self._dir = bytearray()
        self._type = array("i")
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        self._raw: list[str] = []
        self._data: list[dict[str, Any]] = []
        self._binary: dict[int, bytes] = {}
        self.extend(envelopes)

    def extend(self, envelopes: Iterable[Envelope]) -> None:
        """Append each of `envelopes` (read one at a time: a generator is never held whole)."""
        for env in envelopes:
            self.append(env)

    def append(self, env: Envelope) -> None:
        """Append one envelope, without its parsed copy when it can be parsed again."""
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
        self._raw.append(env.raw)
        # Decided here, not by making a lean envelope first: an hour's capture is 178,653 of them.
        self._data.append(UNPARSED if env.data is UNPARSED or can_be_lean(env) else env.data)

    def copy(self) -> Frames:
        """Another `Frames` of the same envelopes (its columns copied; texts and data shared)."""
        other = Frames()
        other._seq, other._mono, other._wall = self._seq[:], self._mono[:], self._wall[:]
        other._size, other._dir, other._type = self._size[:], self._dir[:], self._type[:]
        other._names, other._codes = self._names[:], dict(self._codes)
        other._raw, other._data, other._binary = self._raw[:], self._data[:], dict(self._binary)
        return other

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
        names, raws, binary = self._names, self._raw, self._binary
        for i, data in enumerate(self._data):
            raw, wire_size = raws[i], size[i]
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

    def _envelope(self, i: int) -> Envelope:
        size = self._size[i]
        return Envelope(
            self._seq[i],
            _DIRECTIONS[self._dir[i]],
            self._names[self._type[i]],
            self._data[i],
            self._raw[i],
            self._mono[i],
            self._wall[i],
            self._binary.get(i),
            None if size == _NO_SIZE else size,
        )
