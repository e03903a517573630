"""A find over a long session searches in slices: the screen and the keys never wait for it.

Over an hour's journal a find took 0.2-1 s of the UI thread in one go. It now searches for
`FIND_SLICE_SECONDS` between screen updates: the first match is selected as soon as the frames
searched tell it, and its count follows once every frame is searched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.pilot import Pilot

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tui.app import RtApp, log_controls
from tui.config import Settings
from tui.journal import Finder, Journal, LogView, Pipeline
from tui.journal import find as find_module
from tui.protocol import Envelope
from tui.widgets import event_log

WORD_AT = (41_000, 52_000)
"""Where the only two frames holding "kitchen" are, in `long_journal`."""


def long_journal() -> list[Envelope]:
    frames = []
    for n in range(60_000):
        if n in WORD_AT:
            frames.append(received("response.output_audio_transcript.done", response_id="r", transcript="the kitchen"))
        elif n % 20 == 0:
            frames.append(received("response.created", response={"id": f"resp_{n}"}))
        else:
            frames.append(received("rate_limits.updated"))
    return frames


@pytest.fixture
def one_step_a_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slice searches one step of frames: how many slices a find takes does not hang on the
    machine's speed."""
    monkeypatch.setattr(event_log, "FIND_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FIND_SLICE_SECONDS", 0.0)


@asynccontextmanager
async def long_session() -> AsyncIterator[tuple[RtApp, Pilot[None]]]:
    """The app (140×40) showing `long_journal`, the log focused."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.event_log.focus()
        yield app, pilot


def status(app: RtApp) -> str:
    return str(app.find_bar.query_one(".query-bar--status").render())


@pytest.mark.usefixtures("one_step_a_slice")
async def test_a_find_over_a_long_session_selects_its_first_match_between_screen_updates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with long_session() as (app, pilot):
        slices: list[int] = []
        search_on = app.event_log._search_on

        def counting(ticket: int, forward: bool | None) -> None:
            slices.append(ticket)
            search_on(ticket, forward)

        monkeypatch.setattr(app.event_log, "_search_on", counting)
        app._find("kitchen")  # the find bar's Enter
        finder = app.event_log.finder
        assert finder is not None and not finder.searched(app.log_view)
        assert status(app).startswith("searching 60,000 frames")
        await wait_for(pilot, lambda: app.event_log.selected == WORD_AT[0], 60, "the first match")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 2 matching frames"), 60, "the count")
        assert len(slices) >= 60_000 // find_module.STEP - 1  # a step a slice, each on a turn of its own
        await pilot.press("n")
        assert app.event_log.selected == WORD_AT[1]  # every frame searched: the next match at once
        assert status(app).startswith("match 2 of 2")


@pytest.mark.usefixtures("one_step_a_slice")
async def test_a_find_that_ends_without_a_match_says_so_in_its_bar() -> None:
    async with long_session() as (app, pilot):
        app._find("zebra")  # the find bar's Enter
        assert status(app).startswith("searching")
        await wait_for(pilot, lambda: "is not in the 60,000 frames shown" in status(app), 60, "the miss")
        assert app.event_log.selected is None


@pytest.mark.usefixtures("one_step_a_slice")
async def test_a_new_find_stops_the_slices_of_the_one_before() -> None:
    async with long_session() as (app, pilot):
        app._find("zebra")
        app._find("kitchen")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 2"), 60, "the second find's match")
        assert app.event_log.selected == WORD_AT[0]
        assert "zebra" not in status(app)


def _journal_with_hits(hits: set[int], size: int) -> tuple[Journal, LogView]:
    pipeline = Pipeline()
    pipeline.ingest(
        [
            received(
                "response.output_audio_transcript.done", response_id="r", transcript="kitchen" if i in hits else ""
            )
            for i in range(size)
        ]
    )
    view = LogView(pipeline.journal)
    view.catch_up()
    return pipeline.journal, view


@given(
    size=st.integers(1, 40),
    hits=st.sets(st.integers(0, 39), max_size=6),
    searched=st.integers(0, 40),
    after=st.one_of(st.none(), st.integers(0, 39)),
    forward=st.booleans(),
)
def test_what_a_part_searched_tells_is_what_the_whole_search_finds(
    size: int, hits: set[int], searched: int, after: int | None, forward: bool
) -> None:
    """`find_known` over a part of the frames: when it says it knows, it is the whole search's answer."""
    journal, view = _journal_with_hits({h for h in hits if h < size}, size)
    whole = Finder("kitchen").find(view, after, forward=forward)
    part = Finder("kitchen")
    part.advance(view, 0.0)  # one step: all of these few frames; then pretend fewer were searched
    part._scanned = min(searched, size)
    part._hits = [h for h in part._hits if h < part._scanned]
    found, known = part.find_known(view, after, forward=forward)
    if known:
        assert found == whole
    if part._scanned == size:
        assert known  # every frame searched: always known
    if forward and whole is not None and after is None and whole < part._scanned:
        assert known  # the first match is known as soon as the frames up to it are searched


@pytest.mark.usefixtures("one_step_a_slice")
async def test_a_find_on_a_filters_first_screen_waits_for_its_whole_view_without_holding_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A find looks through a filter's whole view; built at once for it, the view held the screen
    for as long as its build took (over 100 ms an hour in): the find waits for the slices instead."""
    monkeypatch.setattr(log_controls, "FIRST_SCREEN_SECONDS", 0.0)  # a first screen of the newest frames only
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 2_000)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    async with long_session() as (app, pilot):
        app.apply_filter("transcript~kitch")  # a JSON path: built in slices
        assert app._building is not None and app.log_view.shown == 0
        app._find("kitchen")
        assert app._building is not None  # not built in one go for the find
        await wait_for(pilot, lambda: app.event_log.selected == WORD_AT[0], 60, "the first match of the whole view")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 2"), 60, "the count")


@pytest.fixture
def slow_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_controls, "FIRST_SCREEN_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 2_000)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)


@pytest.mark.usefixtures("slow_build")
async def test_filter_change_under_a_find_never_says_no_match_while_the_view_is_built() -> None:
    """Review round 21: while a filter's whole view was built under a find, the bar counted the
    first screen's frames and said the word was missing (it is in the view being built)."""
    async with long_session() as (app, pilot):
        app._find("kitchen")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 2"), 60, "count")
        app.apply_filter("transcript~kitch | type:rate_limits.updated")  # JSON path: no candidates, sliced
        assert app._building is not None
        said = status(app)
        assert "is not in" not in said, said
        await wait_for(pilot, lambda: app._building is None, 60, "build")
        await wait_for(pilot, lambda: "of 2" in status(app), 60, "count after build")


@pytest.mark.usefixtures("slow_build")
async def test_backward_find_on_a_first_screen_then_a_clear() -> None:
    """N on a filter's first screen waits for the whole view; a clear meanwhile must end the wait
    with a status (no search left looping, no stale 'searching')."""
    async with long_session() as (app, pilot):
        app._find("kitchen")
        await wait_for(pilot, lambda: status(app).startswith("match 1 of 2"), 60, "count")
        app.apply_filter("transcript~kitch | type:rate_limits.updated")
        await pilot.press("N")
        app.action_clear_log()
        await wait_for(pilot, lambda: app.event_log._searching is None, 60, "search ended")
        said = status(app)
        assert "searching" not in said and "counting" not in said, said
        app.ingest([received("response.output_audio_transcript.done", response_id="r", transcript="kitchen")])
        await pilot.pause()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.event_log.selected == len(app.journal) - 1, 60, "new match")


async def test_n_typed_during_the_first_search_is_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review round 21: an `n` typed while the first match was searched for restarted the search
    from the same place (match 1), where a find in one go went on to match 2."""
    monkeypatch.setattr(event_log, "FIND_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FIND_SLICE_SECONDS", 0.0)
    async with long_session() as (app, pilot):
        app._find("kitchen")  # Enter in the find bar
        app.event_log.action_find_next()  # `n`, on the same turn: typed ahead
        await wait_for(pilot, lambda: "of 2" in status(app), 60, "count")
        assert app.event_log.selected == WORD_AT[1], (app.event_log.selected, status(app))


@pytest.mark.usefixtures("one_step_a_slice")
@pytest.mark.parametrize(
    ("keys", "match"),
    [("n", 1), ("nN", 0), ("N", 1), ("nn", 0), ("nNN", 1), ("NNn", 1)],
)
async def test_n_and_shift_n_typed_ahead_add_up_in_order(keys: str, match: int) -> None:
    """Review round 21: `n` and `N` typed while the first match was searched for, mixed, lost the
    ones before a change of direction (Enter n N went to match 2). They move on from the match
    found, in the order typed: over two matches, Enter n N is match 1 again."""
    async with long_session() as (app, pilot):
        app._find("kitchen")  # Enter: match 1, once found
        for key in keys:
            app.event_log.find(forward=key == "n")
        await wait_for(pilot, lambda: "of 2" in status(app), 60, "the count")
        assert app.event_log.selected == WORD_AT[match]
