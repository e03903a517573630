"""The client connection that keeps each text message's bytes as they came off the socket.

websockets decodes a text message into a `str` and drops its bytes. The capture file wants those
very bytes: writing them as they are spares it a UTF-8 encode, a copy of every frame (six
kilobytes for an audio delta, 50 a second) on the loop's thread. This subclass notes each data
message's bytes as its frames arrive (a fresh buffer per frame, which websockets never reuses),
in arrival order, and the reader takes them right after `recv()` returns the same message decoded:
websockets hands messages over in order, one per `recv()`, so the two queues stay in step.
Decoding and its UTF-8 check (close 1007) stay websockets' own; only a message that was one text
frame has its bytes kept.

It also says whether the reader has a backlog (`backlog`): the capture file waits for the disk at a
turn's end only once the reader has caught up with the server.
"""

from __future__ import annotations

import array
import asyncio
from collections import deque
from types import ModuleType
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

fcntl: ModuleType | None
try:
    import fcntl
    import termios
except ImportError:  # not POSIX: the socket's backlog is not asked (see `_unread_bytes`)
    fcntl = None


class WireConnection(ClientConnection):
    """A `ClientConnection` whose data messages' bytes are kept for `take_wire` (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wire: deque[bytes | bytearray | None] = deque()
        self._fragmented = False
        """A message's first frame has come without its end: its bytes are not kept (None)."""

    def process_event(self, event: Event) -> None:
        """Queue the message as websockets does, then note its bytes once its last frame is in."""
        super().process_event(event)
        if not isinstance(event, Frame) or event.opcode not in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            return
        if not event.fin:
            self._fragmented = True
            return
        whole = event.opcode is Opcode.TEXT and not self._fragmented and isinstance(event.data, bytes | bytearray)
        self._fragmented = False
        self._wire.append(event.data if whole else None)  # type: ignore[arg-type]  # narrowed by `whole`

    def take_wire(self) -> bytes | bytearray | None:
        """The bytes of the message `recv()` returned last, when it was one text frame, else None.

        Call it once after each `recv()` that returned a message.
        """
        return self._wire.popleft() if self._wire else None

    def backlog(self) -> bool:
        """Whether more of the server's data is already on this machine behind the message `recv()`
        returned last (call it after `take_wire`): whole messages in websockets' queue, or bytes in
        the socket's kernel buffer, which the loop reads next. False means the next `recv()` most
        likely waits for the network: the session has caught up. Where the socket cannot say, False
        (the safe answer for a caller that does more work when caught up)."""
        if self._wire:
            return True
        return _unread_bytes(self.transport) > 0


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
