"""Timers that must fire on a loaded machine (round 24).

`make check` failed once with a filter's whole view stuck at its first screen for 60 s: the chain of
slices went on by 1 ms one-shot timers, and Textual drops a one-shot timer for good when more than
its delay passes between two reads of its clock as it starts (its skip of missed ticks, meant for
intervals). A process held off the CPU between those reads, as happens on a loaded 2-core machine,
lost the timer and the chain with it. The same held the transcript's deferred repaint (its row
stopped growing for the rest of the session), a find's slices, the transcript's row count.

`held_one_shots` makes every one-shot Textual timer see its process held for a second between those
reads; interval timers (the pump, the cursor's blink) see the real clock.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import textual.timer
from textual.app import App

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tests.test_log_selection_round20 import long_journal
from tests.test_transcript import TranscriptApp, history
from tui.app import RtApp, log_controls
from tui.config import Settings
from tui.widgets import Transcript
from tui.widgets.timers import after

HELD = 1.0


@pytest.fixture
def held_one_shots(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    offset = [0.0]

    def clock() -> float:
        caller = sys._getframe(1).f_locals.get("self")
        if isinstance(caller, textual.timer.Timer) and caller._repeat == 0:
            offset[0] += HELD  # the process was held between this read and the one before
        return time.monotonic() + offset[0]

    monkeypatch.setattr(textual.timer, "_time", types.SimpleNamespace(get_time=clock))
    yield


class Fired(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.fired: list[str] = []


async def test_textuals_one_shot_timer_is_lost_when_held_and_ours_is_not(held_one_shots: None) -> None:
    """Why `after` exists: the control (`set_timer`) is dropped, `after` fires. Should a Textual
    release stop dropping it, the control fails here and `after` can go."""
    app = Fired()
    async with app.run_test() as pilot:
        app.set_timer(0.01, lambda: app.fired.append("set_timer"))
        after(app, 0.01, lambda: app.fired.append("after"))
        await wait_for(pilot, lambda: "after" in app.fired, 5, "`after`'s callback")
        await pilot.pause(0.1)
        assert app.fired == ["after"]


async def test_a_cancelled_one_does_not_fire() -> None:
    app = Fired()
    async with app.run_test() as pilot:
        after(app, 0.01, lambda: app.fired.append("cancelled")).cancel()
        after(app, 0.02, lambda: app.fired.append("kept"))
        await wait_for(pilot, lambda: app.fired, 5, "the kept callback")
        await pilot.pause(0.05)
        assert app.fired == ["kept"]


async def test_a_filters_whole_view_is_built_on_a_held_machine(
    held_one_shots: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure `make check` saw: the slices' chain broke and the first screen stayed."""
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 500)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)  # one step a turn: many timers
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal(300))
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        assert app._building is not None
        await wait_for(pilot, lambda: app._building is None, 30, "the whole filtered view")
        assert app.log_view.shown == 300


async def test_a_find_counts_its_matches_on_a_held_machine(
    held_one_shots: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.widgets import event_log

    monkeypatch.setattr(event_log, "FIND_SLICE_SECONDS", 0.0)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal(3000))
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("slash", *"resp_1", "enter")

        def status() -> str:
            return str(app.find_bar.query_one(".query-bar--status").render())

        await wait_for(pilot, lambda: "1,111 matching frames" in status(), 30, "the find's count")


async def test_a_streaming_reply_keeps_repainting_on_a_held_machine(held_one_shots: None) -> None:
    """The transcript's deferred repaint lost: the reply's row was never laid out (the view did not
    grow to hold it, nor follow it), and no later delta repainted it: the repaint stayed "pending"."""
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(3))
        await pilot.pause()
        height, renders = transcript.virtual_size.height, transcript.renders
        for word in ("one", "two", "three"):
            delta = received(
                "response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=f" {word}"
            )
            app.feed([delta])
        await wait_for(pilot, lambda: transcript.renders > renders, 10, "the reply's repaint")
        assert transcript.virtual_size.height > height  # its row is laid out below the history


def test_no_one_shot_textual_timer_is_left_in_the_app() -> None:
    """Every one-shot timer goes through `after`, called or passed (`call_after_refresh(self.set_timer,…)`
    hid one from a search for calls); `set_interval` (no skip to lose a tick) stays."""
    sources = Path(__file__).parent.parent / "tui"
    users = [str(path) for path in sources.rglob("*.py") if "set_timer" in path.read_text().replace("`set_timer`", "")]
    assert users == []
