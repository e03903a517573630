"""When the app reconnects on its own, and how often it looks for the server meanwhile.

A dropped connection (the server died or shut down, the network blinked, close
1001/1006/1011/1012/1013) is worth retrying: the app probes the server's port every half second
and opens a new session as soon as it answers, so a restarted server is back in use within a
second or two. An outage that outlasts `FAST_PROBING_SECONDS` (a remote service down, a network
gone) is probed less and less often, up to every `SLOW_PROBE_SECONDS`: fifteen minutes of an
unreachable API used to be 1,800 TCP connects (and name lookups); now it is about 240.

A refusal is not worth retrying (a wrong key: close 3000 or HTTP 401; a bad request: 4000; a frame
over the limit: 1009; an expired session): the same request would meet the same answer, so the
user decides (ctrl+r). Failures in a row back the probing off, so a server
that accepts and drops at once is not hammered: a session counts as having lived (the backoff
starts again) only after `STABLE_SECONDS` open, and after `MAX_QUICK_DROPS` such drops in a row
the app stops and leaves it to the user. It used to start again on every open: a server dropping
each session right after `session.updated` was reconnected to every half second for good, each
time with a new capture folder (51 in a reviewer's minute).

Close 1001 ("going away") is sent both by a server shutting down and by one ending an expired
session; only the expiry is preceded by an `error` whose code is `session_expired` (the simulator
and OpenAI alike), so that error (`RealtimeSession.expired`), not the close code, tells them apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

RETRYABLE_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""Close codes of a connection lost or a server going away, restarting or overloaded (1001 only
when no `session_expired` error came before it: see `RetryPolicy.worth_retrying`'s `expired`)."""

UNREACHABLE_PHRASES = ("connection refused", "cannot reach", "timed out", "no close frame")
"""A failed connect that names no close code: the server was not there (rather than refusing us)."""

PROBE_SECONDS = 0.5
"""Time between two looks at the server's port while it is away."""

FAST_PROBING_SECONDS = 30.0
"""How long into an outage the port is probed every `PROBE_SECONDS` (a server being restarted)."""

SLOW_PROBE_SECONDS = 5.0
"""The longest wait between two probes of a long outage (reached by growing ×`PROBE_GROWTH`)."""

PROBE_GROWTH = 1.5
"""How much longer each wait is than the one before, once an outage is past `FAST_PROBING_SECONDS`."""

GIVE_UP_SECONDS = 15 * 60.0
"""How long the app keeps looking before it leaves reconnecting to the user."""

MAX_BACKOFF_SECONDS = 10.0

STABLE_SECONDS = 10.0
"""How long a session must stay open for its drop to start the backoff again."""

MAX_QUICK_DROPS = 6
"""Sessions in a row that dropped within `STABLE_SECONDS` of opening before the app stops retrying
(0.5 + 1 + 2 + 4 + 8 s of backoff between them: half a minute of a server that takes and drops)."""


class RetryPolicy:
    """Decides whether an ended connection is retried, and paces the probes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = 0
        """Sessions in a row that ended in a retryable way without living long."""
        self.gave_up = False
        """The last ending was not retried because too many sessions in a row dropped at once."""
        self._clock = clock
        self._opened_at: float | None = None

    def worth_retrying(
        self, reason: str, close_code: int | None, *, retryable: bool | None = None, expired: bool = False
    ) -> bool:
        """Whether a connection that ended with `reason` / `close_code` should be retried; `expired`:
        the server said the session expired before it closed (never retried)."""
        if expired:
            retryable = False
        elif retryable is None:
            if close_code is not None:
                retryable = close_code in RETRYABLE_CLOSE_CODES
            else:
                lowered = reason.lower()
                retryable = any(phrase in lowered for phrase in UNREACHABLE_PHRASES)
        opened, self._opened_at = self._opened_at, None
        self.gave_up = False
        if retryable:
            lived = opened is not None and self._clock() - opened >= STABLE_SECONDS
            self.failures = 1 if lived else self.failures + 1
            if self.failures > MAX_QUICK_DROPS:
                self.gave_up, retryable = True, False
        return retryable

    def connected(self) -> None:
        """A session opened: if it lives `STABLE_SECONDS`, its drop starts the backoff again."""
        self._opened_at = self._clock()

    def reset(self) -> None:
        """The user asked for a new session (ctrl+r): the count of quick drops starts again."""
        self.failures = 0
        self.gave_up = False

    def delays(self, *, remote: bool = False) -> Iterator[float]:
        """Seconds to wait before each probe, until it is time to give up: the backoff of quick drops
        first, then every `PROBE_SECONDS` (or that backoff) for `FAST_PROBING_SECONDS`, then longer and
        longer waits up to `SLOW_PROBE_SECONDS`.

        `remote`: the server is not on this machine. Half-second probes are for a local server being
        restarted; a remote service that is away (a network gone, DNS failing) was asked twice a
        second for half a minute (a reviewer watched "try 22 in 0.5 s" at 11 s). Its waits double
        from the first probe instead (0.5, 1, 2, 4, then every `SLOW_PROBE_SECONDS`): a network
        that blinked is still found within a few seconds."""
        first = min(MAX_BACKOFF_SECONDS, PROBE_SECONDS * 2 ** max(0, self.failures - 1))
        steady = max(PROBE_SECONDS, first) if self.failures > 1 else PROBE_SECONDS
        waited = 0.0
        delay = first
        while waited < GIVE_UP_SECONDS:
            yield delay
            waited += delay
            if remote:
                delay = max(steady, min(SLOW_PROBE_SECONDS, delay * 2))
            elif waited < FAST_PROBING_SECONDS:
                delay = steady
            else:
                delay = max(steady, min(SLOW_PROBE_SECONDS, delay * PROBE_GROWTH))
