"""The log's selection across filters built, changed and cleared (a filter over more frames than a
screen shows its newest matches first and builds the whole view after): the selected frame stays
selected and on screen, and keys pressed on the first screen act on the whole view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app_helpers import wait_for
from tests.journal_helpers import received, sent
from tui.app import RtApp, log_controls
from tui.config import Settings
from tui.protocol import Envelope
from tui.widgets import EventDetail, EventLog
from tui.widgets.export_dialog import ExportDialog
from tui.widgets.timers import after


def on_screen(log: EventLog) -> bool:
    """The selected line is among the pane's visible lines."""
    cursor = log.cursor_line
    return cursor is not None and log.scroll_offset.y <= cursor < log.scroll_offset.y + log.size.height


def long_journal(responses: int = 3000) -> list[Envelope]:
    """`responses` response.created, each followed by 19 rate_limits.updated (a filter on the first
    one is over 60,000 frames, and a JSON path such as `response.id:resp_*` asks every one of them: its
    first screen comes first, the rest in slices)."""
    frames = []
    for n in range(responses):
        frames.append(received("response.created", response={"id": f"resp_{n}"}))
        frames += [received("rate_limits.updated") for _ in range(19)]
    return frames


async def built(pilot: Pilot[None], app: RtApp) -> None:
    await wait_for(pilot, lambda: app._building is None, 60, "the whole filtered view")
    await pilot.pause()


async def test_home_on_a_filters_first_screen_selects_the_first_match_and_shows_it() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        assert app._building is not None and app.log_view.shown < 3000  # the first screen only
        app.event_log.focus()
        await pilot.press("home")
        log = app.event_log
        assert log.selected == 0 and log.cursor_line == 0  # the first match, not the first screen's first
        await built(pilot, app)
        assert app.log_view.shown == 3000
        assert log.selected == 0 and log.cursor_line == 0 and on_screen(log)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")
        assert isinstance(app.screen, EventDetail) and app.screen.indices == [20]


async def test_clearing_a_filter_keeps_the_selected_frame_selected_and_on_screen() -> None:
    """240 frames, `dir:out`, Home, ↓; the filter cleared: Enter opens that frame (the whole view's
    first screen, the newest 200 frames, did not hold it, and the selection was dropped)."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        frames: list[Envelope] = []
        for _ in range(60):
            frames.append(sent("conversation.item.create", item={"type": "message", "role": "user"}))
            frames += [received("rate_limits.updated") for _ in range(3)]
        app.ingest(frames)
        await pilot.pause()
        await pilot.press("f", *"dir:out", "enter")
        await built(pilot, app)
        await pilot.press("home", "down")
        log = app.event_log
        assert log.selected == 4
        await pilot.press("f", "ctrl+u", "enter")
        await built(pilot, app)
        assert app.log_view.shown == 240 and app.log_view.query is None
        assert log.selected == 4 and not log.tail and on_screen(log)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")
        assert isinstance(app.screen, EventDetail) and app.screen.indices == [4]


async def test_an_error_selected_under_a_filter_finds_its_cause_once_the_filter_is_cleared() -> None:
    """ "What did I send right before this error?": `error`, the error selected, the filter cleared
    and `c` pressed at once (before the whole view is built): the cause is selected and shown."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        cancel = sent("response.cancel")
        assert cancel.data is not None
        error = {"type": "invalid_request_error", "code": "response_cancel_not_active", "message": "no response"}
        app.ingest(
            [
                cancel,
                received("error", error={**error, "event_id": cancel.data["event_id"]}),
                *(received("rate_limits.updated") for _ in range(300)),
            ]
        )
        await pilot.press("f", *"error", "enter")
        await built(pilot, app)
        await pilot.press("home")
        log = app.event_log
        assert log.selected == 1
        await pilot.press("f", "ctrl+u", "enter", "c")
        assert log.selected == 0 and on_screen(log)
        await built(pilot, app)
        assert log.selected == 0 and on_screen(log) and app.log_view.shown == 302


async def test_a_filter_applied_while_another_is_built_covers_the_whole_journal() -> None:
    """The second filter's view was derived from the first one's first screen: it started there, and
    the pane said "since clear" with nothing cleared."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        assert app._building is not None
        assert "since clear" not in str(app.event_log.border_subtitle)
        app.apply_filter("type:rate_limits.updated")
        await built(pilot, app)
        assert app.log_view.shown == 57_000 and app.log_view.floor == 0
        assert "since clear" not in str(app.event_log.border_subtitle)


async def test_a_selection_made_on_a_first_screen_and_export_act_on_the_whole_view() -> None:
    """↑ on the first screen, then a filter refined: the frame stays selected and on screen; `e`
    while a filter is built offers every matching frame, not the first screen's."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("type:response.*")
        app.event_log.focus()
        await pilot.press("home", "down", "down")
        log = app.event_log
        assert log.selected == 40
        app.apply_filter("response.id:resp_*")
        assert app._building is not None
        await built(pilot, app)
        assert log.selected == 40 and log.cursor_line == 2 and on_screen(log)
        app.apply_filter("type:rate_limits.updated | seq:0..")
        assert app._building is not None
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the export dialog")
        assert isinstance(app.screen, ExportDialog) and app.screen.count == 60_000


async def test_a_selection_far_from_the_end_comes_on_screen_when_the_whole_view_first_scrolls() -> None:
    """The filter cleared over appends (200 frames, a first screen of 20 rows: no scrollbar); the
    whole view brings one, but Textual refused to scroll a pane before a layout had shown it: the
    frame stayed selected, off screen at the top of the log."""
    from tests.journal_helpers import audio_b64

    audio = audio_b64(20)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(160, 48)) as pilot:
        frames = []
        for n in range(3000):
            frames.append(received("response.created", response={"id": f"resp_{n}"}))
            frames += [sent("input_audio_buffer.append", audio=audio) for _ in range(19)]
        app.ingest(frames)
        await pilot.press("f", *"type:response.created", "enter")
        await built(pilot, app)
        await pilot.press("escape", *["pageup"] * 10)
        log = app.event_log
        selected = log.selected
        assert selected is not None and on_screen(log)
        await pilot.press("f", "ctrl+u", "enter")
        await built(pilot, app)
        assert app.log_view.shown == 60_000 and app.log_view.line_count == 6000
        assert log.selected == selected and log.cursor_line == selected // 10 and on_screen(log)


async def test_a_filter_that_hides_the_selected_error_selects_what_was_sent_right_before_it() -> None:
    """`error`, the error selected, then `dir:out`: the error is hidden, and the selection goes to
    the frame sent right before it, on screen (it was dropped, and the log followed its end)."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        error = {"type": "invalid_request_error", "code": "response_cancel_not_active", "message": "no response"}
        frames: list[Envelope] = []
        for _ in range(150):
            frames += [sent("response.create"), received("rate_limits.updated")]
        frames += [sent("response.cancel"), received("error", error=error)]
        for _ in range(150):
            frames += [sent("response.create"), received("rate_limits.updated")]
        app.ingest(frames)
        await pilot.press("f", *"error", "enter")
        await built(pilot, app)
        await pilot.press("home")
        log = app.event_log
        assert log.selected == 301
        await pilot.press("f", "ctrl+u", *"dir:out", "enter")
        await built(pilot, app)
        assert app.log_view.shown == 301
        assert log.selected == 300 and not log.tail and on_screen(log)
        assert app.journal[300].type == "response.cancel"


async def test_a_frame_clicked_on_a_filters_first_screen_stays_selected_in_the_whole_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 20)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)  # one step a turn
    # The build's next slices wait until the click is done: the click lands on the first screen
    # however fast this machine builds the rest (150 slices took less than a click at times).
    held: list[tuple[Any, float, Callable[[], None]]] = []
    monkeypatch.setattr(log_controls, "after", lambda pump, delay, callback: held.append((pump, delay, callback)))
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        assert app._building is not None
        log = app.event_log
        await pilot.click(EventLog, offset=(10, 5))
        clicked = log.selected
        assert clicked is not None and app.journal[clicked].type == "response.created"
        assert app._building is not None  # clicked on the first screen
        monkeypatch.setattr(log_controls, "after", after)
        for pump, delay, callback in held:
            after(pump, delay, callback)
        await built(pilot, app)
        assert app.log_view.shown == 3000
        assert log.selected == clicked and log.cursor_line == clicked // 20 and on_screen(log)


async def test_a_finds_count_follows_the_filter_to_its_whole_view() -> None:
    """A find's bar kept "match 1 of N" from before the filter changed; it counts what the filter
    shows, its first screen, then its whole view."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("slash", *"resp_1", "enter")
        await pilot.pause()

        def status() -> str:
            return str(app.find_bar.query_one(".query-bar--status").render())

        assert status().startswith("match 1 of 1,111 matching frames")
        app.apply_filter("response.id:resp_*")
        # The first screen (resp_2800 on) does not hold resp_1: the bar waits for the whole view, not
        # saying the word is missing (review round 21).
        assert app._building is not None and status() == "searching the filter's frames…"
        await built(pilot, app)
        # The selected match (resp_1) is in the whole view again: which match it is, of how many.
        assert status().startswith("match 1 of 1,111 matching frames")


async def test_a_filters_whole_view_takes_steps_until_its_turns_time_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow pattern took seconds per 20,000-frame slice, the screen held all along: a turn takes
    steps of `FILTER_SLICE_FRAMES` until `FILTER_SLICE_SECONDS` is up, one step at the least."""
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 500)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)):
        app.ingest(long_journal())
        monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)  # the time is up after one step
        app.apply_filter("response.id:resp_*")
        view = app._building
        assert view is not None
        seen = view._seen
        app._build_slice(view)
        assert view._seen == seen + 500
        monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 60.0)  # all the time it needs
        app._build_slice(view)
        assert view.complete and app._building is None


async def test_a_filters_first_screen_is_painted_before_its_whole_view_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The slices wait for the first screen's update: run first, they held it up a slice or more."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        happened: list[str] = []
        display, build_slice = app._display, app._build_slice

        def spy_display(screen: object, renderable: object) -> None:
            if renderable is not None:
                happened.append("screen")
            display(screen, renderable)  # type: ignore[arg-type]

        def spy_slice(view: object) -> None:
            happened.append("slice")
            build_slice(view)  # type: ignore[arg-type]

        monkeypatch.setattr(app, "_display", spy_display)
        monkeypatch.setattr(app, "_build_slice", spy_slice)
        app.apply_filter("response.id:resp_*")
        assert app._building is not None
        await built(pilot, app)
        assert happened[0] == "screen" and "slice" in happened


async def test_moves_on_a_filters_first_screen_do_not_wait_for_its_whole_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """↑ right after a filter over an hour held the screen while the whole view was built (half a
    second for a JSON path); a move that stays on the first screen acts on it, and the selected
    frame stays selected when the whole view comes. A move past its top builds the view first."""
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 500)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        first_screen = app.log_view
        assert app._building is not None
        log = app.event_log
        log.focus()
        log.action_move(-1)
        log.action_move(-1)
        assert app._building is not None and app.log_view is first_screen  # no build in one go
        assert log.selected == first_screen.indices[-2]
        selected = log.selected
        await built(pilot, app)
        assert log.selected == selected and on_screen(log)
        app.apply_filter("response.id:resp_1*")
        assert app._building is not None
        log.action_first()  # Home: the whole view's first match, once it is built (in slices)
        assert app._building is not None and log.holding_keys
        await built(pilot, app)
        await wait_for(pilot, lambda: not log.holding_keys, 5, "Home to act")
        assert log.selected == 20
        app.apply_filter("response.id:resp_*")
        log.action_move(-(app.log_view.line_count + 5))  # past the first screen's top: the whole view
        assert app._building is not None and log.holding_keys
        await built(pilot, app)
        await wait_for(pilot, lambda: not log.holding_keys, 5, "the move to act")
        assert log.selected == app.log_view.indices[0]


async def test_a_move_from_a_selection_held_for_the_whole_view_starts_from_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review round 21: ↑ on a filter's first screen, with the selected frame older than that screen
    (held for the whole view), jumped to the first screen's newest line."""
    monkeypatch.setattr(log_controls, "FIRST_SCREEN_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 500)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        log = app.event_log
        log.focus()
        assert log.select_frame(100)  # a response.created (every 20th frame) at the journal's start
        app.apply_filter("response.id~resp")  # a JSON path: its whole view is built in slices
        assert log.finish_view is not None and log.selected == 100  # held for the whole view
        log.action_move(-1)  # from the held frame: once the whole view is shown
        await wait_for(pilot, lambda: not log.holding_keys, 60, "the move to act")
        assert log.selected == 80  # the match above it
        log.action_move(1)
        assert log.selected == 100


async def test_undo_clear_shows_the_newest_frames_at_once_and_the_rest_in_slices() -> None:
    """Review round 21: the palette's "log: undo clear" rebuilt an hour's view in one go (a quarter
    of a second, the screen held). It comes back as a filter does; the filter in force applies."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        app.action_clear_log()
        app.ingest(long_journal(2))
        app.unclear_log()
        assert app._building is not None and app.log_view.shown < 60_000  # the first screen
        await built(pilot, app)
        assert app.log_view.shown == 60_040 and app.log_view.floor == 0
        app.apply_filter("type:response.created")
        app.action_clear_log()
        app.unclear_log()
        await built(pilot, app)
        assert app.log_view.shown == 3_002 and app.filter_bar.active == "type:response.created"


async def test_a_row_selected_on_a_first_screen_keeps_its_place_when_the_whole_view_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review round 21: ↑ ↑ ↑ on a filter's first screen, then its whole view came: the selected row
    moved on screen (row 30 to 28), the view re-centred on it. It stays where it was."""
    monkeypatch.setattr(log_controls, "FIRST_SCREEN_SECONDS", 0.0)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", 500)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(long_journal())
        await pilot.pause()
        log = app.event_log
        log.focus()
        app.apply_filter("event_id~event")  # a JSON path every frame has: built in slices
        for _ in range(3):
            log.action_move(-1)
        assert log.finish_view is not None and log.cursor_line is not None
        assert log.scroll_offset.y > 0  # a first screen longer than the pane
        await pilot.pause()
        selected, row = log.selected, log.cursor_line - log.scroll_offset.y
        await built(pilot, app)
        assert log.selected == selected and log.cursor_line is not None
        assert log.cursor_line - log.scroll_offset.y == row
