"""Review 35: keys in one burst keep their order and their target around a filter's whole view, a
bar's Enter, and the command palette."""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser
from textual.command import CommandInput, CommandPalette
from textual.pilot import Pilot

from tests.app_helpers import wait_for
from tests.test_log_selection_round20 import long_journal
from tests.test_message_input_round20 import terminal_burst
from tests.test_whole_view_wait_round22 import filtered_app, on_a_first_screen, slices_of
from tui.app import RtApp
from tui.widgets import EventDetail, EventLog

HOME, DOWN = "\x1b[H", "\x1b[B"


async def log_focused(pilot: Pilot[None], app: RtApp) -> EventLog:
    """The app showing 2,000 frames, the focus on its log (returned)."""
    app.ingest(long_journal(2_000))
    await pilot.pause()
    log = app.event_log
    log.focus()
    await pilot.pause()
    return log


def queued_now(app: RtApp, data: str) -> None:
    """Put the keys of `data` in the app's queue at once, as the terminal's reader has once its
    read reached the loop (`terminal_burst` gets there a few loop turns later)."""
    for message in XTermParser().feed(data):
        message.set_sender(app)
        app.post_message(message)


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 20)


@pytest.mark.parametrize("bar", ["f", "/"])
async def test_the_palette_opened_right_after_a_bar_enter_takes_the_keys_after_it(bar: str) -> None:
    """`/ resp_5` Enter ctrl+p in one burst: ctrl+p skipped the Enter's hold, the palette opened, and
    the Enter's handling then put the palette's focus on the log (behind it): the palette took no
    key, Esc did not close it, and letters ran the log's hidden bindings."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await log_focused(pilot, app)
        terminal_burst(app, f"{bar}resp_5\r\x10")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), 10, "the palette to open")
        for _ in range(10):
            await pilot.pause()
        terminal_burst(app, "hello")
        palette = app.screen
        typed = palette.query_one(CommandInput)
        await wait_for(pilot, lambda: typed.value == "hello", 10, "the palette to take the text")
        app.post_message(events.Key("escape", None))
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), 10, "Esc to close the palette")
        assert app.is_running


@pytest.mark.parametrize("bar", ["f", "/"])
async def test_moves_between_home_and_a_bar_in_one_burst_act_on_the_log(bar: str) -> None:
    """Home ↓ ↓ ↓ `/` in one burst on a filter's first screen: `/` moved the focus before the log took
    Home, so the ↓ behind Home went to the find bar, and the selection stayed on the first row."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)
        terminal_burst(app, HOME + DOWN * 3 + bar + "ab")
        await wait_for(pilot, lambda: app._building is None and not log.keys_pending, 60, "the keys to act")
        for _ in range(20):
            await pilot.pause()
        target = app.filter_bar if bar == "f" else app.find_bar
        assert app.focused is target.input
        assert target.input.value.endswith("ab"), repr(target.input.value)
        assert log.selected == app.log_view.indices[3], "the ↓ after Home did not act on the log"


async def test_a_paste_right_after_a_bar_enter_goes_where_the_enter_put_the_focus() -> None:
    """`f` query Enter `/` and a paste, in one burst: the keys were held for the Enter, the paste was
    not, and it went to the filter's input (then left) before `/` opened the find bar."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await log_focused(pilot, app)
        terminal_burst(app, "ftype:response.created\r/\x1b[200~xyz\x1b[201~")  # the paste bracketed
        await wait_for(pilot, lambda: app.find_bar.input.value == "xyz", 10, "the paste in the find bar")
        assert app.filter_bar.active.endswith("type:response.created"), repr(app.filter_bar.active)


async def test_keys_typed_just_before_a_hold_behind_the_log_lets_go_act_after_it() -> None:
    """Home ↓×40 `/` in one burst held `/` until the log had taken its keys; `a` `d` `x` typed in
    reads of their own, queued just before the hold let go, reached the log first (the hold was
    over), and `/` was put back behind them: `d` opened a frame's details, the find bar got `x`."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await log_focused(pilot, app)
        release = app._release_behind_log
        typed_meanwhile: list[str] = []

        def racing(hold: int, since: float) -> None:
            if not log.message_queue_size and not typed_meanwhile:
                for key in "adx":  # each its own read: they queue before what the release posts
                    queued_now(app, key)
                    typed_meanwhile.append(key)
            release(hold, since)

        app._release_behind_log = racing  # type: ignore[method-assign]
        terminal_burst(app, HOME + DOWN * 40 + "/")
        await wait_for(pilot, lambda: app.find_bar.input.value == "adx", 10, "the find bar to take `adx`")
        assert typed_meanwhile == ["a", "d", "x"]
        assert app.focused is app.find_bar.input
        assert log.selected == app.log_view.indices[40]


async def test_keys_typed_just_before_a_bar_enter_hold_lets_go_act_after_it() -> None:
    """`f` query Enter `/` held `/` for the Enter; `a` `d` `x` queued just before the hold let go
    went to the log ahead of `/`, which was put back behind them."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await log_focused(pilot, app)
        release = app.release_keys
        typed_meanwhile: list[str] = []

        def racing() -> None:
            if app._held_keys and not typed_meanwhile:
                for key in "adx":
                    queued_now(app, key)
                    typed_meanwhile.append(key)
            release()

        app.release_keys = racing  # type: ignore[method-assign]
        terminal_burst(app, "ftype:response.created\r/")
        await wait_for(pilot, lambda: app.find_bar.input.value == "adx", 10, "the find bar to take `adx`")
        assert typed_meanwhile == ["a", "d", "x"]
        assert app.focused is app.find_bar.input


async def test_the_palette_key_waits_with_the_keys_held_for_the_whole_view() -> None:
    """Home ↓ ctrl+p on a filter's first screen: Home waited for the whole view with ↓ behind it,
    ctrl+p (a priority key) opened the palette at once, and the held ↓ then moved the palette's
    choice (Enter after it ran "Quit"). It waits its turn now: ↓ moves the log's selection."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)
        terminal_burst(app, HOME + DOWN + "\x10")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), 60, "the palette to open")
        await wait_for(pilot, lambda: not log.keys_pending, 60, "the held keys to act")
        assert log.selected == app.log_view.indices[1], "↓ did not act on the log"
        typed = app.screen.query_one(CommandInput)
        terminal_burst(app, "hi")
        await wait_for(pilot, lambda: typed.value == "hi", 10, "the palette to take the text")
        assert app.is_running


@pytest.mark.parametrize("bar", ["f", "/"])
async def test_keys_right_after_a_bar_esc_act_on_the_log(bar: str) -> None:
    """`/` `ab` Esc, then `d` in a read of its own before the bar's Esc was handled: Esc is the
    bar's own binding, run once the key bubbled back, so the focus moved only once its `Left` was
    handled, and `d` was typed into the bar instead of opening the frame's details."""
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await log_focused(pilot, app)
        terminal_burst(app, "\x1b[A")  # ↑: the newest frame selected
        await wait_for(pilot, lambda: log.selected is not None, 10, "a selection")
        target = app.filter_bar if bar == "f" else app.find_bar
        terminal_burst(app, bar + "ab")
        await wait_for(pilot, lambda: target.input.value == "ab", 10, "the bar to take `ab`")
        for key in (events.Key("escape", "\x1b"), events.Key("d", "d")):  # as the terminal's reader posts them
            key.set_sender(app)
            app.post_message(key)
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 10, "`d` to open the details")
        assert "d" not in target.input.value
        assert not target.display, "Esc left the bar open"
