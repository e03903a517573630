"""Review 22b: keys held while a filter's whole view is built are re-posted to the log's own queue,
where the log's bindings take theirs at once, ahead of (and under) whatever the keys before them did."""

from __future__ import annotations

from functools import partial

import pytest
from textual import events
from textual.pilot import Pilot

from tests.app_helpers import wait_for
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, held_count_is, on_a_first_screen, slices_of
from tui.app import RtApp
from tui.widgets import EventDetail, EventLog

HOME, UP, DOWN, ESC = "\x1b[H", "\x1b[A", "\x1b[B", "\x1b"


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 20)


async def home_and_hold(pilot: Pilot[None], app: RtApp, keys: str) -> EventLog:
    """Home on a filter's first screen; once it waits, `keys` typed (as a user types on), each held
    before the next (`|` separates keys of more than one character; ESC alone is Esc); the log."""
    log = await on_a_first_screen(pilot, app)
    terminal_burst(app, HOME)
    await wait_for(pilot, lambda: log.holding_keys, 5, "Home to wait")
    for n, key in enumerate([ESC] if keys == ESC else keys.split("|") if "|" in keys else keys, 1):
        if key == ESC:
            app.post_message(events.Key("escape", None))  # a lone ESC waits in the parser for more
        else:
            terminal_burst(app, key)
        await wait_for(pilot, partial(held_count_is, log, n), 5, "the key to be held")
    return log


async def home_then(pilot: Pilot[None], app: RtApp, keys: str) -> None:
    """`home_and_hold`, then the held keys acted on, all of them."""
    log = await home_and_hold(pilot, app, keys)
    assert log.holding_keys and app._building is not None
    await wait_for(pilot, lambda: not log.keys_pending, 60, "the keys to act")
    for _ in range(20):
        await pilot.pause()


async def test_find_typed_while_home_waits_types_into_the_find_bar() -> None:
    """Home, `/`, `do`: the find bar opens and gets `do`; `d` and `o` are not the log's keys then."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await home_then(pilot, app, "/do")
        assert not isinstance(app.screen, EventDetail), "d went to the log, not to the find bar"
        assert app.find_bar.input.value == "do", repr(app.find_bar.input.value)


async def test_filter_typed_while_home_waits_types_into_the_filter_bar() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await home_then(pilot, app, "fdone")
        assert not isinstance(app.screen, EventDetail), "d went to the log, not to the filter bar"
        assert app.filter_bar.input.value.endswith("done"), repr(app.filter_bar.input.value)


async def test_d_q_while_home_waits_closes_the_details_and_does_not_quit() -> None:
    """Home, d, q: the details open, and q (the details' close) closes them; the app goes on."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await home_then(pilot, app, "dq")
        await wait_for(pilot, lambda: not isinstance(app.screen, EventDetail), 10, "q to close the details")
        assert app.is_running and app._exit_renderables == [] and app.return_code is None


async def test_keys_typed_while_held_keys_are_handed_on_act_after_them() -> None:
    """Home, `fdo`: once `f` has opened the filter and `d` `o` are still being handed on, the user
    types `ne`. They went straight to the filter's input, ahead of `do` (`nedo`); they queue behind."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await home_and_hold(pilot, app, "fdo")
        await wait_for(
            pilot, lambda: log.handing_on and app.focused is app.filter_bar.input, 60, "`f` to open the filter"
        )
        assert log.handing_on, "the held keys were all handed on before the test could type"
        terminal_burst(app, "ne")
        await wait_for(pilot, lambda: not log.keys_pending, 10, "the keys to act")
        assert app.filter_bar.input.value.endswith("done"), repr(app.filter_bar.input.value)


async def test_held_keys_still_handed_on_as_the_app_closes_are_dropped() -> None:
    """Home, `dq` `x`, and the app closes while they are handed on: no key reaches a screen-less app
    (Textual's binding check raised ScreenStackError and failed the run), and the hand-on ends."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await home_and_hold(pilot, app, "dqx")
        await wait_for(pilot, lambda: log.handing_on, 60, "the keys to be handed on")
    assert not app.screen_stack
    await app.on_event(events.Key("d", "d"))  # a key handed on late: raised ScreenStackError before
    with app._context():  # as the log's own timer runs it
        log._hand_on_when_settled(quiet_looks=1)  # the next step of the hand-on, due as the app closed
    assert not log.keys_pending
