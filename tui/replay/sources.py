"""Recorded sessions, read into envelopes: rt-tui captures, browser HAR files, plain JSONL of frames.

The format is detected from the content, never from the file name:

- an rt-tui capture (`frames.jsonl`): one record per line with `seq`, `dir`, `t`, `wall`, `type`,
  `size` and the frame (see tui.protocol.records); `send --json` output and the log's exports have
  the same shape;
- a HAR file (Chrome/Edge DevTools "Save all as HAR"): every WebSocket entry's
  `_webSocketMessages` (`type` send/receive, `time`, `opcode` 1 text / 2 binary, `data`); each
  WebSocket connection becomes a connection of its own in the replay;
- a JSONL of frames, as people's own logging writes it: one Realtime event per line (direction
  guessed from the event type: client events were sent, the rest received), or a wrapper object
  with the event under `event`/`data`/`message`/`frame` and `direction`/`dir` and a time.

Anything else is a :class:`ReplayError` with one line saying what the file is not.

The input is read once, from its first byte to its last, and never opened twice: a pipe, a process
substitution (`<(…)`) and standard input (`-`) read like a file. The first bytes, read to tell the
formats apart, are served again from memory ahead of the rest of the stream (`_Rewound`), so a
capture or a JSONL is still read line by line, as it was from a file. A UTF-8 byte order mark at the
start (Windows editors and PowerShell write one) and CRLF line ends are accepted in every format.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tui.protocol import Direction, Envelope, FrameError, local_envelope, parse
from tui.protocol.codec import serialize
from tui.protocol.credentials import handshake_secrets
from tui.protocol.events import BETA_TO_GA_CLIENT, GA_CLIENT_EVENTS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SNIFF_BYTES = 64 * 1024
"""Bytes read to tell the formats apart."""

READ_BUFFER = 1024 * 1024
"""Bytes read at a time after the sniffed head (the head's wrapper is Python: few calls, large ones)."""

STDIN = "-"
"""The file name that means standard input, as Unix tools read it."""

STDIN_NAME = Path("<stdin>")
"""How messages name standard input."""


class ReplayError(ValueError):
    """A file that cannot be replayed; the message is one line."""


@dataclass(slots=True)
class Recording:
    """A recorded session: its envelopes in order, what kind of file held them, secrets it revealed."""

    kind: str
    """"capture", "har" or "jsonl"."""
    envelopes: list[Envelope]
    path: Path
    """The file read (`<stdin>` for standard input)."""
    secrets: list[str] = field(default_factory=list)
    """Credentials found beside the frames (HAR request headers), to scrub from everything shown."""
    notes: list[str] = field(default_factory=list)
    """What a reader should know about the file (a last line cut short), one line each."""
    rereadable: bool = True
    """False for a pipe or standard input: read once, it cannot be read again to bring back a
    payload the journal dropped from memory."""

    @property
    def duration(self) -> float:
        """Seconds from the first envelope to the last."""
        if not self.envelopes:
            return 0.0
        return self.envelopes[-1].mono - self.envelopes[0].mono


def load(path: str | Path) -> Recording:
    """Read a recorded session of any supported kind (see the module docstring); `-` is standard input."""
    shown, stream, rereadable = _open(path)
    try:
        recording = _read(shown, stream)
    except OSError as exc:  # a read that failed half-way (EIO, a directory given as /dev/stdin)
        raise ReplayError(f"{shown}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:  # standard input is the process's, not ours to close
            stream.close()
    recording.rereadable = rereadable
    return recording


def _open(path: str | Path) -> tuple[Path, BinaryIO, bool]:
    """The input: the name messages give it, its stream, and whether it can be read again later."""
    if str(path) == STDIN:
        return STDIN_NAME, sys.stdin.buffer, False
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ReplayError(f"{path}: {exc.strerror or exc}") from None
    # Only a regular file holds its bytes for a second read; a pipe's are gone once read.
    return path, stream, stat.S_ISREG(os.fstat(stream.fileno()).st_mode)


def _read(shown: Path, stream: BinaryIO) -> Recording:
    """Tell the format from the first bytes, then read the whole input (those bytes included) once."""
    head = stream.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]  # json refuses a str that starts with one
    if not head.strip():
        # Neutral words: `lint` and the app's replay read files through here too, not only `replay`.
        raise ReplayError(f"{shown}: empty file: no frames in it")
    whole = io.BufferedReader(_Rewound(head, stream), buffer_size=READ_BUFFER)
    first = _first_line_object(head)
    if first is not None and "log" not in first:
        if _is_capture_record(first):
            notes: list[str] = []
            return Recording("capture", _read_capture(whole, shown, notes.append), shown, notes=notes)
        return Recording("jsonl", _read_frames_jsonl(whole, shown), shown)
    return _read_har(whole, shown)


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


def _first_line_object(head: bytes) -> dict[str, Any] | None:
    line = head.lstrip().split(b"\n", 1)[0]
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_capture_record(record: dict[str, Any]) -> bool:
    return all(key in record for key in ("seq", "dir", "type")) and any(
        key in record for key in ("raw", "raw_b64", "info", "frame")
    )


# -- rt-tui captures --------------------------------------------------------------------------


def _read_capture(lines: Iterable[bytes], shown: Path, note: Callable[[str], None]) -> list[Envelope]:
    """A capture's envelopes (also `send --json` output and the log's exports: the same records);
    a last line cut short by a crash is left out, with a `note`.

    The capture module's reader opens a file by its path, which would read a pipe a second time:
    its record parser is used on the lines read here, with the same rule for a cut last line.
    """
    from tui.session.capture import CaptureError
    from tui.session.capture import _envelope as capture_envelope

    envelopes: list[Envelope] = []
    try:
        for number, line in enumerate(lines, start=1):
            try:
                envelopes.append(capture_envelope(line, number, shown))
            except CaptureError as exc:
                if line.endswith(b"\n") or number == 1:
                    raise
                note(f"{exc}; read up to line {number - 1}")
                break
    except CaptureError as exc:
        raise ReplayError(str(exc)) from None
    return envelopes


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


def guess_direction(event_type: str) -> Direction:
    """Client events (either dialect) were sent; everything else was received."""
    return Direction.OUT if event_type in GA_CLIENT_EVENTS or event_type in BETA_TO_GA_CLIENT else Direction.IN


def _read_frames_jsonl(lines: Iterable[bytes], path: Path) -> list[Envelope]:
    envelopes: list[Envelope] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        envelopes.append(_frame_line(line, number, path, len(envelopes)))
    if not envelopes:
        raise ReplayError(f"{path}: no frames in it")
    return envelopes


def _frame_line(line: bytes, number: int, path: Path, position: int) -> Envelope:
    where = f"{path}: line {number}"
    try:
        text = line.decode("utf-8").strip()
        value = json.loads(text)
    except UnicodeDecodeError:
        raise ReplayError(f"{where} is not UTF-8 text") from None
    except ValueError as exc:
        raise ReplayError(f"{where} is not JSON ({exc}): expected one Realtime event per line") from None
    if not isinstance(value, dict):
        raise ReplayError(f"{where} is JSON {type(value).__name__}, not a Realtime event object")
    event: Any = value
    raw = text
    direction: Direction | None = None
    for key in _EVENT_KEYS:
        inner = value.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("type"), str) and not isinstance(value.get("type"), str):
            event, raw = inner, serialize(inner)
            break
        if isinstance(inner, str) and inner.lstrip().startswith("{") and not isinstance(value.get("type"), str):
            raw = inner
            event = _parse_or_empty(inner)
            break
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ReplayError(f"{where} has no Realtime event (an object with a string 'type')")
    for key in ("direction", "dir", "source", "from"):
        word = value.get(key) if event is not value else None
        if isinstance(word, str) and word.lower() in _DIRECTION_WORDS:
            direction = _DIRECTION_WORDS[word.lower()]
            break
    etype = str(event["type"])
    when = next((value[k] for k in _TIME_KEYS if isinstance(value.get(k), int | float) and event is not value), None)
    mono = float(when) if when is not None else position / 1000  # no clock: a millisecond apart
    return Envelope(position + 1, direction or guess_direction(etype), etype, event, raw, mono=mono, wall=mono)


# -- HAR --------------------------------------------------------------------------------------


def _read_har(stream: BinaryIO, path: Path) -> Recording:
    try:
        document = json.loads(_read_all(stream))
    except (ValueError, RecursionError) as exc:
        kind = "not JSON" if isinstance(exc, ValueError) else str(exc)
        raise ReplayError(f"{path}: not an rt-tui capture, a HAR file or a JSONL of frames ({kind})") from None
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ReplayError(f"{path}: JSON, but not an rt-tui capture, a HAR file or a JSONL of frames")
    sockets = [e for e in entries if isinstance(e, dict) and isinstance(e.get("_webSocketMessages"), list)]
    if not sockets:
        raise ReplayError(f"{path}: a HAR file without WebSocket messages (export it with them from DevTools)")
    envelopes: list[Envelope] = []
    secrets: list[str] = []
    seq = 0
    for entry in sockets:
        found = entry.get("request")
        request: dict[str, Any] = found if isinstance(found, dict) else {}
        url = str(request.get("url") or "")
        label, url_secrets = _url_facts(url)
        secrets += _header_secrets(request) + url_secrets
        started = _entry_start(entry)
        for state, message in (("connecting", f"connecting to {label}"), ("open", f"connected to {label}")):
            env = local_envelope("rt.connection", message, state=state, target=label)
            seq += 1
            envelopes.append(Envelope(seq, env.direction, env.type, env.data, env.raw, mono=started, wall=started))
        for message in entry["_webSocketMessages"]:
            if not isinstance(message, dict):
                continue
            seq += 1
            envelopes.append(_har_message(message, seq, started))
        end = envelopes[-1].mono
        closed = local_envelope("rt.connection", "the recording ends here", state="closed", target=label)
        seq += 1
        envelopes.append(Envelope(seq, closed.direction, closed.type, closed.data, closed.raw, mono=end, wall=end))
    return Recording("har", envelopes, path, secrets=[s for s in secrets if s])


def _read_all(stream: BinaryIO) -> bytearray:
    """Every byte of `stream`, gathered in one buffer (no second copy of a large file on the way)."""
    data = bytearray()
    while chunk := stream.read(READ_BUFFER):
        data += chunk
    return data


def _har_message(message: dict[str, Any], seq: int, fallback_time: float) -> Envelope:
    direction = Direction.OUT if message.get("type") == "send" else Direction.IN
    when = message.get("time")
    mono = float(when) if isinstance(when, int | float) and not isinstance(when, bool) else fallback_time
    data_text = message.get("data")
    text = data_text if isinstance(data_text, str) else ""
    if message.get("opcode") == 2:
        try:
            binary = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            binary = text.encode("utf-8", "replace")
        note = {"type": "rt.malformed", "message": f"binary frame of {len(binary)} bytes"}
        return Envelope(seq, direction, "rt.malformed", note, f"<binary {len(binary)} bytes>", mono, mono, binary)
    try:
        data = parse(text)
    except FrameError as exc:
        note = {"type": "rt.malformed", "message": f"malformed frame: {exc}"}
        return Envelope(seq, direction, "rt.malformed", note, text, mono, mono)
    return Envelope(seq, direction, str(data["type"]), data, text, mono, mono)


def _entry_start(entry: dict[str, Any]) -> float:
    messages = [
        m for m in entry["_webSocketMessages"] if isinstance(m, dict) and isinstance(m.get("time"), int | float)
    ]
    return float(messages[0]["time"]) if messages else 0.0


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
    """The URL fit to show (credentials masked), and the credentials it held."""
    from tui.session.targets import url_target

    try:
        target = url_target(url)
    except ValueError:
        return "a recorded WebSocket", []
    return target.label, list(target.secrets)


def _parse_or_empty(raw: str) -> dict[str, Any]:
    try:
        return parse(raw)
    except FrameError:
        return {}
