"""Handing freed memory back to the operating system after a connection that held a lot.

CPython frees a connection's buffers at once (see `Connection._release`), but glibc keeps the
freed pages in its heaps for reuse: a process that once held 600 MB of audio clips would keep
that resident forever, even with nothing left in it. `malloc_trim(0)` returns the free pages of
every heap to the kernel. It exists only in glibc; elsewhere this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

_log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def trim_now() -> bool:
    """Return free heap memory to the OS now; False when the C library cannot (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


async def release_freed_memory() -> None:
    """`trim_now` on a worker thread (it walks the heaps; ctypes releases the GIL meanwhile)."""
    try:
        await asyncio.to_thread(trim_now)
    except Exception:  # pragma: no cover - never worth failing a connection's shutdown for
        _log.debug("simulator: malloc_trim failed", exc_info=True)
