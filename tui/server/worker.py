"""A lazily loaded native engine, owned by one thread, shared by the whole process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

E = TypeVar("E")
R = TypeVar("R")


class SerialWorker(Generic[E]):
    """Runs every call on one dedicated thread, with the engine built there on first use.

    The native libraries (moonshine, libespeak-ng) are not known to be thread-safe, so all calls
    are serialized on one thread; loading happens on that thread too, so the event loop never
    waits for a model and the first connection is not blocked.
    """

    def __init__(self, name: str, factory: Callable[[], E]) -> None:
        self._factory = factory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._engine: E | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the engine has been built."""
        return self._engine is not None

    def warm_up(self) -> Future[None]:
        """Build the engine in the background; the future completes when it is ready."""
        return self._executor.submit(self._load)

    async def run(self, fn: Callable[[E], R]) -> R:
        """Run `fn(engine)` on the worker thread without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._get()))

    def _load(self) -> None:
        self._get()

    def _get(self) -> E:
        # Only the worker thread calls this, but the lock keeps the invariant obvious and cheap.
        with self._lock:
            if self._engine is None:
                self._engine = self._factory()
            return self._engine
