"""Review 22b: the 30 s safety timer of one wait (`after_whole_view`) cuts the next wait short: it
builds a later filter's whole view at once (the screen held) long before that wait's own 30 s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.app_helpers import wait_for
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, on_a_first_screen, slices_of
from tui.widgets import event_log as event_log_module
from tui.widgets.event_log import EventLog

HOME = "\x1b[H"
SAFETY = 1.5


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 10)
    monkeypatch.setattr(event_log_module, "WAIT_AT_MOST", SAFETY)


async def test_a_waits_safety_does_not_end_the_next_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    fired: list[tuple[float, bool]] = []
    original = EventLog._waited_too_long

    def spy(self: EventLog) -> None:
        fired.append((loop.time(), self._held_keys is not None))
        original(self)

    began: list[float] = []  # when each wait began: its safety timer is set then
    after_whole_view = EventLog.after_whole_view

    def waits(self: EventLog, action: Callable[[], object]) -> bool:
        if self._held_keys is None and self.finish_view is not None:
            began.append(loop.time())
        return after_whole_view(self, action)

    monkeypatch.setattr(EventLog, "_waited_too_long", spy)
    monkeypatch.setattr(EventLog, "after_whole_view", waits)
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)
        terminal_burst(app, HOME)
        await wait_for(pilot, lambda: log.holding_keys, 5, "the first Home to wait")
        first_wait = loop.time()
        log.settle()  # the first filter's view comes (as a quick one's would)
        await wait_for(pilot, lambda: not log.holding_keys, 5, "the first wait to end")
        app.apply_filter("response.id:resp_1*")  # another filter, its first screen, slow slices
        terminal_burst(app, HOME)
        await wait_for(pilot, lambda: log.holding_keys, 5, "the second Home to wait")
        second_wait = loop.time()
        await wait_for(pilot, lambda: not log.holding_keys or loop.time() > second_wait + SAFETY, 10, "either")
        # A timer that fired during the second wait nearer the first wait's due time than the
        # second's was the first wait's: it built the second filter's view at once. The line is drawn
        # halfway, not at the second's due time: Textual's timers keep their own clock, and on a slow
        # machine the second wait's own safety (which is right to fire) came some µs "early" by the
        # loop's clock.
        assert len(began) == 2, began
        halfway = (began[1] - began[0]) / 2
        assert halfway > 0.01, began  # the two due times must be told apart
        early = [t for t, holding in fired if holding and t < began[1] + SAFETY - halfway]
        assert not early, (first_wait, second_wait, began, fired)
