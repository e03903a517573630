"""Memory held for clients: one account per connection, a cap on their total.

Each holder that grows with what a client does has its own cap per connection (the outbound
queue, the input audio buffer, the conversation store); the budget adds the cap across
connections. When the total passes it, the connection holding the most is ended with close
1013 (try again later) and everything it held is released, so one greedy client cannot starve
the others and the process stays bounded however many misbehave at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: Default cap on what all connections of one simulator hold for their clients together.
DEFAULT_TOTAL_BYTES = 128 * 1024 * 1024
#: Close code for a connection ended because the simulator as a whole holds too much (RFC 6455:
#: "try again later", the server is overloaded); 1008 stays for a connection over its own limit.
OVERLOADED_CLOSE_CODE = 1013


def mib(nbytes: int) -> str:
    """`nbytes` in MiB, one decimal (`12.5 MiB`)."""
    return f"{nbytes / 2**20:.1f} MiB"


class MemoryBudget:
    """What every connection of one simulator holds for its clients, capped at `limit` bytes in total."""

    def __init__(self, limit: int = DEFAULT_TOTAL_BYTES) -> None:
        self.limit = limit
        self.total = 0
        """Bytes held right now, across every open account."""
        self.evictions = 0
        """Connections ended for the total so far."""
        self._accounts: set[Account] = set()

    def open(self, evict: Callable[[str], None]) -> Account:
        """A new connection's account; `evict(reason)` ends that connection when it must go."""
        account = Account(self, evict)
        self._accounts.add(account)
        return account

    @property
    def connections(self) -> int:
        """Accounts open right now."""
        return len(self._accounts)

    def enforce(self) -> None:
        """After a charge: past the cap, schedule the end of the connection holding the most."""
        # What is already being released does not count: one victim at a time is enough.
        pending = sum(account.held for account in self._accounts if account.evicting)
        if self.total - pending <= self.limit:
            return
        candidates = [account for account in self._accounts if not account.evicting]
        if not candidates:
            return
        victim = max(candidates, key=lambda account: account.held)
        victim.evicting = True
        self.evictions += 1
        reason = (
            f"server memory limit reached ({mib(self.limit)} for all connections); this one held {mib(victim.held)}"
        )
        # Never inside the handler or emit that charged: the victim may be the caller itself.
        asyncio.get_running_loop().call_soon(victim.evict, reason)

    def forget(self, account: Account) -> None:
        """Stop counting a closed account."""
        self._accounts.discard(account)


class Account:
    """One connection's share of a MemoryBudget; holders call `add` as they grow and shrink."""

    def __init__(self, budget: MemoryBudget, evict: Callable[[str], None]) -> None:
        self._budget = budget
        self._evict = evict
        self.held = 0
        """Bytes this connection holds right now."""
        self.peak = 0
        """The most it ever held."""
        self.evicting = False
        """True once the budget chose this connection to end."""
        self._open = True

    def add(self, delta: int) -> None:
        """Record that a holder grew (positive) or shrank (negative) by `delta` bytes."""
        if not self._open or delta == 0:
            return
        self.held += delta
        self._budget.total += delta
        if self.held > self.peak:
            self.peak = self.held
        if delta > 0:
            self._budget.enforce()

    def evict(self, reason: str) -> None:
        """End the connection for the budget (runs from the loop, see `MemoryBudget.enforce`)."""
        if self._open:
            self._evict(reason)

    def close(self) -> None:
        """The connection is gone: whatever it still counted is no longer held."""
        if not self._open:
            return
        self._open = False
        self._budget.total -= self.held
        self.held = 0
        self._budget.forget(self)
