"""The client connection that keeps each text message's bytes as they came off the socket, and
when they came.

websockets decodes a text message into a `str` and drops its bytes. The capture file wants those
very bytes: writing them as they are spares it a UTF-8 encode, a copy of every frame (six
kilobytes for an audio delta, 50 a second) on the loop's thread. This subclass notes each data
message's bytes as its frames arrive (a fresh buffer per frame, which websockets never reuses),
in arrival order, and the reader takes them right after `recv()` returns the same message decoded:
websockets hands messages over in order, one per `recv()`, so the two queues stay in step.
Decoding and its UTF-8 check (close 1007) stay websockets' own; only a message that was one text
frame has its bytes kept.

Each message also carries its arrival `Stamp`: the clocks read once per read from the socket,
before websockets parses what was read. A message's time is when its bytes reached rt-tui, not
when the reader got round to it: the messages of one read (dozens, when the reader has fallen
behind) share one time, and the reader's own work, or the screen's update while it yields, is
not counted in the server's timings. (Sharing one time also lets the capture format it once.)

It also says whether the reader has a backlog (`backlog`): the capture file waits for the disk at a
turn's end only once the reader has caught up with the server.
"""

from __future__ import annotations

import array
import asyncio
import time
from collections import deque
from types import ModuleType
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
_BYTES = (bytes, bytearray)

Stamp = tuple[float, float]
"""When a message's bytes came off the socket: (`time.monotonic()`, `time.time()`)."""

Received = tuple[bytes | bytearray | None, Stamp]
"""A message's bytes as they came (None when they are not kept: see the module doc) and its `Stamp`."""

fcntl: ModuleType | None
try:
    import fcntl
    import termios
except ImportError:  # not POSIX: the socket's backlog is not asked (see `_unread_bytes`)
    fcntl = None


class WireConnection(ClientConnection):
    """A `ClientConnection` that keeps each data message's bytes and arrival time for `take` (see
    module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: deque[Received] = deque()
        """Each message received and not yet taken, oldest first. `take` takes the oldest; a reader
        in a hurry may pop it itself (the session's does: a method call a frame is measurable at a
        firehose's pace)."""
        self._stamp: Stamp = (time.monotonic(), time.time())
        """When the bytes being parsed came off the socket (set for each read, in `data_received`)."""
        self._fragmented = False
        """A message's first frame has come without its end: its bytes are not kept (None)."""

    def data_received(self, data: bytes) -> None:
        """Note when these bytes came, then let websockets parse them (see `Stamp`)."""
        self._stamp = (time.monotonic(), time.time())
        super().data_received(data)

    def process_event(self, event: Event) -> None:
        """Queue the message as websockets does, then note its bytes once its last frame is in."""
        super().process_event(event)
        if type(event) is not Frame:
            return  # the handshake's response
        opcode = event.opcode
        if opcode is _TEXT and event.fin:  # the usual message: one text frame (never inside another)
            data = event.data
            self.received.append((data if isinstance(data, _BYTES) else None, self._stamp))
        elif opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
            if not event.fin:
                self._fragmented = True
                return
            self._fragmented = False
            self.received.append((None, self._stamp))

    def take(self) -> Received | tuple[None, None]:
        """The bytes of the message `recv()` returned last, when it was one text frame (else None),
        and when it arrived (None if nothing was noted: never for a message `recv()` returned).

        Call it once after each `recv()` that returned a message.
        """
        return self.received.popleft() if self.received else (None, None)

    def backlog(self) -> bool:
        """Whether more of the server's data is already on this machine behind the message `recv()`
        returned last (call it after `take`): whole messages in websockets' queue, or bytes in
        the socket's kernel buffer, which the loop reads next. False means the next `recv()` most
        likely waits for the network: the session has caught up. Where the socket cannot say, False
        (the safe answer for a caller that does more work when caught up)."""
        return bool(self.received) or self.unread() > 0

    def unread(self) -> int:
        """Bytes of the server's the kernel holds for this socket, not read yet (0 if it cannot say)."""
        return _unread_bytes(self.transport)


def _unread_bytes(transport: asyncio.BaseTransport) -> int:
    """Bytes received by the kernel for the transport's socket and not read yet (FIONREAD), or 0
    when that cannot be asked (no socket, or no FIONREAD on this platform)."""
    sock = transport.get_extra_info("socket")
    if sock is None or fcntl is None:
        return 0
    count = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, count)
    except (OSError, ValueError):  # a closed socket (fileno -1), or one that cannot say
        return 0
    return count[0]
