"""The client connection that keeps each text message's bytes as they came off the socket.

websockets decodes a text message into a `str` and drops its bytes. The capture file wants those
very bytes: writing them as they are spares it a UTF-8 encode, a copy of every frame (six
kilobytes for an audio delta, 50 a second) on the loop's thread. This subclass notes each data
message's bytes as its frames arrive (a fresh buffer per frame, which websockets never reuses),
in arrival order, and the reader takes them right after `recv()` returns the same message decoded:
websockets hands messages over in order, one per `recv()`, so the two queues stay in step.
Decoding and its UTF-8 check (close 1007) stay websockets' own; only a message that was one text
frame has its bytes kept.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event


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
