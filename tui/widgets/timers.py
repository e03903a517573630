"""One-shot timers that fire late under load, but never not at all.

Textual's `set_timer` drops a one-shot timer for good when more than its delay passes between two
of its own clock reads at the start (its skip of missed ticks, meant for intervals): a process held
off the CPU for 2 ms on a loaded machine lost a 1 ms timer, and what waited on it waited forever (a
filter's whole view stuck at its first screen, a find at "searching…", a transcript that stopped
repainting). These ride the event loop's own `call_later`, which has no skip, and run the callback
as a message of its pump, like any other: after the messages already queued, never after the pump
has closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message_pump import MessagePump


def after(pump: MessagePump, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
    """Run `callback` on `pump` once, `delay` seconds from now (later if the loop is busy).

    The handle's `cancel()` stops it; a pump that has closed meanwhile drops it.
    """
    return asyncio.get_running_loop().call_later(delay, pump.call_later, callback)
