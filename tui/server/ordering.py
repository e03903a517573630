"""Where input-transcription events land: a reordering filter over one connection's outbound events.

The service runs transcription asynchronously, so its events may come before the user item is
announced, in the middle of the reply, after it, or out of order across turns (protocol
reference §4.3 c). Rather than racing tasks against each other, which would make the order
depend on timing, this filter holds events back and releases them at a chosen cue in the stream
the client receives, so an ordering mode gives the same order every time.

Rules are created when a commit the connection announced as transcribed passes (the turn's item id is known
then). A rule captures events (holds them) and is released by a later event passing; released
events pass through the filter again, so rules compose. Every rule gives up after a hold limit,
so a cue that never comes (a response nobody asked for) only delays events.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from .scenario import TranscriptionOrder

Event = dict[str, Any]

_TRANSCRIPTION = "conversation.item.input_audio_transcription."
_TERMINAL = frozenset({_TRANSCRIPTION + "completed", _TRANSCRIPTION + "failed"})
#: Streaming parts of a response: `mid_response` lands between two of these.
_RESPONSE_DELTAS = frozenset(
    {
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
    }
)
#: The modes `random` draws from, per turn.
_RANDOM_CHOICES = (
    TranscriptionOrder.NORMAL,
    TranscriptionOrder.AFTER_RESPONSE,
    TranscriptionOrder.MID_RESPONSE,
    TranscriptionOrder.BEFORE_ITEM,
    TranscriptionOrder.OUT_OF_ORDER,
)


def _transcription_item(event: Event) -> str | None:
    """The item id of an input-transcription event, else None."""
    if str(event.get("type", "")).startswith(_TRANSCRIPTION):
        item_id = event.get("item_id")
        return item_id if isinstance(item_id, str) else None
    return None


def _is_terminal(event: Event, item_id: str) -> bool:
    return event.get("type") in _TERMINAL and event.get("item_id") == item_id


class _Rule:
    """Holds some events of the stream for one turn until a cue passes."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.held: list[Event] = []
        self.finished = False
        self.timer: asyncio.TimerHandle | None = None

    def captures(self, event: Event) -> bool:
        """True to hold `event` back (called before it is sent)."""
        return _transcription_item(event) == self.item_id

    def after_sent(self, event: Event) -> bool:
        """Update on an event that reached the client; True to release what is held now."""
        raise NotImplementedError


class _AfterResponse(_Rule):
    """The turn's transcription events wait for the `response.done` of the next response."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.response_id: str | None = None

    def after_sent(self, event: Event) -> bool:
        response = event.get("response") or {}
        if event.get("type") == "response.created" and self.response_id is None:
            self.response_id = response.get("id")
        elif event.get("type") == "response.done" and self.response_id is not None:
            if response.get("id") == self.response_id:
                self.finished = True
                return True
        return False


class _MidResponse(_Rule):
    """The turn's transcription events wait for the first response delta; then, if `.completed`
    has not come yet, everything else waits for it, so it lands between two deltas."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.stalled = False

    def captures(self, event: Event) -> bool:
        own = _transcription_item(event) == self.item_id
        return not own if self.stalled else own

    def after_sent(self, event: Event) -> bool:
        if _is_terminal(event, self.item_id):
            self.finished = True
            return True
        if self.stalled:
            return False
        if event.get("type") in _RESPONSE_DELTAS:
            self.stalled = True
            return True
        if event.get("type") == "response.done":
            # A response without deltas (cancelled at once): nothing to land among.
            self.finished = True
            return True
        return False


class _BeforeItem(_Rule):
    """From the turn's `conversation.item.added` on, everything but its transcription waits for
    `.completed`/`.failed`: the transcript arrives before the item it belongs to."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.stalled = False

    def captures(self, event: Event) -> bool:
        if self.stalled:
            return _transcription_item(event) != self.item_id
        if event.get("type") == "conversation.item.added" and (event.get("item") or {}).get("id") == self.item_id:
            self.stalled = True
            return True
        return False

    def after_sent(self, event: Event) -> bool:
        if _is_terminal(event, self.item_id):
            self.finished = True
            return True
        return False


class _OutOfOrder(_Rule):
    """The turn's transcription events wait until the next turn's transcript is complete."""

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.next_item: str | None = None

    def after_sent(self, event: Event) -> bool:
        if self.next_item is not None and _is_terminal(event, self.next_item):
            self.finished = True
            return True
        return False


_RULES: dict[TranscriptionOrder, type[_Rule]] = {
    TranscriptionOrder.AFTER_RESPONSE: _AfterResponse,
    TranscriptionOrder.MID_RESPONSE: _MidResponse,
    TranscriptionOrder.BEFORE_ITEM: _BeforeItem,
    TranscriptionOrder.OUT_OF_ORDER: _OutOfOrder,
}


class TranscriptOrdering:
    """The filter: `route(event)` returns the events to send now, in order (possibly none).

    Events released later by a hold limit go to the `push` callback set with `bind`.
    """

    def __init__(self, mode: TranscriptionOrder, *, hold_limit_s: float, rng: random.Random) -> None:
        self._mode = mode
        self._hold_limit_s = hold_limit_s
        self._rng = rng
        self._rules: list[_Rule] = []
        self._expected: set[str] = set()
        """Items whose commit the connection said a transcript will follow."""
        self._turns = 0
        self._push: Callable[[list[Event]], None] | None = None

    @property
    def holding(self) -> int:
        """How many events are held back right now."""
        return sum(len(rule.held) for rule in self._rules)

    def bind(self, push: Callable[[list[Event]], None]) -> None:
        """Where events released by a timer go."""
        self._push = push

    def route(self, event: Event) -> list[Event]:
        """Pass one emitted event through the rules; the events that reach the client now."""
        out: list[Event] = []
        self._route(event, out)
        return out

    def expect_transcript(self, item_id: str) -> None:
        """The connection will transcribe this item: its commit starts a rule when it passes.

        Said by the connection, which alone knows its session (events passing the filter may be
        held or dropped, so they cannot tell whether transcription is on).
        """
        self._expected.add(item_id)

    def discard(self) -> None:
        """Forget every held event (the session is over) and stop the timers."""
        for rule in self._rules:
            if rule.timer is not None:
                rule.timer.cancel()
        self._rules.clear()

    # ---- internals -----------------------------------------------------------------------

    def _route(self, event: Event, out: list[Event]) -> None:
        for rule in self._rules:
            if rule.captures(event):
                rule.held.append(event)
                return
        self._send(event, out)

    def _send(self, event: Event, out: list[Event]) -> None:
        out.append(event)
        self._observe(event)
        for rule in list(self._rules):
            if rule in self._rules and rule.after_sent(event):
                self._release(rule, out)

    def _release(self, rule: _Rule, out: list[Event]) -> None:
        held, rule.held = rule.held, []
        if rule.finished and rule in self._rules:
            self._rules.remove(rule)
            if rule.timer is not None:
                rule.timer.cancel()
        for event in held:
            self._route(event, out)

    def _observe(self, event: Event) -> None:
        if event.get("type") == "input_audio_buffer.committed":
            item_id = event.get("item_id")
            if isinstance(item_id, str) and item_id in self._expected:
                self._expected.discard(item_id)
                self._on_transcribed_commit(item_id)

    def _on_transcribed_commit(self, item_id: str) -> None:
        self._turns += 1
        for rule in self._rules:
            if isinstance(rule, _OutOfOrder) and rule.next_item is None:
                rule.next_item = item_id
        mode = self._rng.choice(_RANDOM_CHOICES) if self._mode is TranscriptionOrder.RANDOM else self._mode
        if mode is TranscriptionOrder.OUT_OF_ORDER and self._mode is not TranscriptionOrder.RANDOM:
            # Turns pair up: the first of each pair waits for the second.
            if self._turns % 2 == 0:
                return
        factory = _RULES.get(mode)
        if factory is None:
            return
        rule = factory(item_id)
        rule.timer = asyncio.get_running_loop().call_later(self._hold_limit_s, self._give_up, rule)
        self._rules.append(rule)

    def _give_up(self, rule: _Rule) -> None:
        if rule not in self._rules:
            return
        rule.finished = True
        out: list[Event] = []
        self._release(rule, out)
        if out and self._push is not None:
            self._push(out)
