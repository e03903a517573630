"""Async steps run one at a time, in the order they were asked for, off the caller.

The voice keys use it: a step opens or closes an audio device, which can take seconds when the
device is stuck. Awaited in the key handler, such a step held every key of the app (Textual handles
one message at a time), quit included. Queued here, the key handler returns at once: the other keys
go on, and the voice keys still take effect in the order they were pressed (space, space: start,
then send), each step deciding what to do from the state the previous one left.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

Step = Callable[[], Awaitable[None]]


class SerialSteps:
    """A queue of async steps and the one task that runs them (see the module doc)."""

    def __init__(self, name: str, on_error: Callable[[Exception], None]) -> None:
        self.name = name
        self.on_error = on_error
        """Told of an exception a step let out (steps are expected to handle their own)."""
        self._waiting: deque[tuple[Step, asyncio.Future[None]]] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """A step is running or waiting its turn."""
        return self._runner is not None and not self._runner.done()

    def add(self, step: Step) -> asyncio.Future[None]:
        """Run `step` after those already asked for; the future is done when it has run (or was
        dropped by `close`). Awaiting it is optional."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._closed:
            done.set_result(None)
            return done
        self._waiting.append((step, done))
        if not self.busy:
            self._runner = asyncio.create_task(self._run(), name=self.name)
        return done

    async def _run(self) -> None:
        while self._waiting:
            step, done = self._waiting.popleft()
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - one failed step must not drop those queued after it
                self.on_error(exc)
            finally:
                if not done.done():
                    done.set_result(None)

    async def idle(self) -> None:
        """Return once every step asked for so far has run."""
        while self._runner is not None and not self._runner.done():
            await asyncio.wait({self._runner})  # never raises: the runner's own end is not ours

    async def close(self) -> None:
        """Drop the steps still waiting and cancel the one running (the app is ending)."""
        self._closed = True
        while self._waiting:
            _, done = self._waiting.popleft()
            done.set_result(None)
        runner = self._runner
        if runner is not None and not runner.done():
            runner.cancel()
            try:
                await runner
            except asyncio.CancelledError:
                # Ours, unless the caller itself is being cancelled: then it must go on up.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
