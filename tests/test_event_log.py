"""The event-log pane on its own, over a real journal: times, runs that expand in place, tail mode,
a selection that never jumps, find, cause ↔ error, and columns that fit narrow panes."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Offset, Region
from textual.pilot import Pilot
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

from tests.app_helpers import wait_for
from tests.journal_helpers import Clock, audio_b64, connecting, received, response_stream, sent
from tui.journal import Finder, Journal, Links, LogView, PayloadPolicy, Pipeline, Query
from tui.protocol import Envelope, local_envelope
from tui.widgets import EventLog
from tui.widgets.log_format import MATCH_LEAD, Columns, abbreviate_type, summary_at_match
from tui.widgets.virtual import SteadyScrollBar, line_width, thumb_extent


class LogApp(App[None]):
    def __init__(self, policy: PayloadPolicy | None = None) -> None:
        super().__init__()
        self.pipeline = Pipeline(Journal(policy))
        self.links = Links(self.pipeline.journal)
        self.pipeline.add(self.links)
        self.view = LogView(self.pipeline.journal, self.links)

    def compose(self) -> ComposeResult:
        yield EventLog(self.view)

    def feed(self, envs: list[Envelope]) -> None:
        self.pipeline.ingest(envs)
        self.query_one(EventLog).frames_added()


class NoticeApp(LogApp):
    """A LogApp that keeps what the log tells the user (`EventLog.Notice`)."""

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []

    def on_event_log_notice(self, event: EventLog.Notice) -> None:
        self.notices.append(event.text)


class BorderedLogApp(LogApp):
    """The pane with the border the app gives it (its subtitle is drawn on the border)."""

    CSS = "EventLog { border: round $accent; }"


def record_calls(widget: object, method: str) -> list[tuple[Any, ...]]:
    """Wrap `widget.method` so each call's arguments are recorded (the method still runs)."""
    calls: list[tuple[Any, ...]] = []
    original = getattr(widget, method)

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    setattr(widget, method, recording)
    return calls


async def assert_drawn_as_a_whole_repaint_draws(app: App[None], log: EventLog, pilot: Pilot[None]) -> None:
    """The screen as a partial repaint left it is the one a whole repaint of the log draws."""
    shown = app.export_screenshot()
    log.refresh()
    await pilot.pause()
    assert app.export_screenshot() == shown


async def paused_log(app: LogApp, pilot: Pilot[None], rows: int) -> EventLog:
    """The app's log after `rows` frames, paused by two `↑` (its last row but one selected)."""
    log = app.query_one(EventLog)
    app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(rows)])
    log.focus()
    await pilot.press("up", "up")
    await pilot.pause()
    assert not log.tail
    return log


def drawn(log: EventLog) -> list[str]:
    """The lines as drawn on screen (the Line API's own rendering), trailing blanks dropped."""
    return [log.render_line(y).text.rstrip() for y in range(min(log.view.line_count, log.size.height))]


async def test_times_count_from_each_connect_with_a_delta_column() -> None:
    app = LogApp()
    clock = Clock(step=0.25)
    async with app.run_test(size=(120, 20)) as pilot:
        app.feed(
            [
                connecting(clock),
                received("session.created", clock, session={"id": "sess_1"}),
                local_envelope("rt.reconnect", "reconnecting"),
                connecting(clock),
                received("session.created", clock, session={"id": "sess_2"}),
            ]
        )
        await pilot.pause()
        lines = drawn(app.query_one(EventLog))
    times = [line.split()[1] for line in lines]
    assert times[0] == "00:00.000" and times[1] == "00:00.250"
    assert times[3] == "00:00.000" and times[4] == "00:00.250"  # the second connection counts from 0
    assert "+250ms" in lines[1] and "━━ connection 2 ━━" in lines[3]


async def test_a_reply_collapses_into_one_row_that_expands_in_place() -> None:
    app = LogApp()
    async with app.run_test(size=(160, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed(
            [
                connecting(),
                received("response.created", response={"id": "resp_1"}),
                *response_stream("resp_1", "item_a", [" Sure,", " turning", " on"]),
                received("response.done", response={"id": "resp_1", "status": "completed"}),
            ]
        )
        log.focus()
        await pilot.pause()
        lines = drawn(log)
        assert len(lines) == 4
        assert "response deltas ×6" in lines[2] and "'Sure, turning on'" in lines[2]
        assert "[audio 14.1 KB · 300 ms]" in lines[2] and "AAAA" not in lines[2]
        await pilot.press("up", "up")  # the first ↑ selects the last row; the second, the run
        assert log.cursor_line == 2
        await pilot.press("right")
        await pilot.pause()
        lines = drawn(log)
        assert len(lines) == 4 + 6
        assert "output_audio.delta" in lines[3] and "' turning'" in lines[6]
        await pilot.press("down", "down")
        await pilot.press("left")  # from inside the run: back to its line, collapsed
        await pilot.pause()
        assert len(drawn(log)) == 4 and log.cursor_line == 2
        await pilot.press("enter")  # Enter toggles a run too
        await pilot.pause()
        assert len(drawn(log)) == 10


async def test_the_first_up_from_tail_selects_the_last_row() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed([connecting(), *(received("session.updated") for _ in range(5))])
        log.focus()
        await pilot.pause()
        assert log.tail and log.cursor_line is None
        await pilot.press("up")
        assert log.cursor_line == 5 and log.selected == 5 and not log.tail


async def test_the_selection_stays_on_its_frame_while_frames_arrive() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(50)])
        log.focus()
        await pilot.press("up", "up", "up")
        selected = log.selected
        assert selected == 47
        for _ in range(5):
            app.feed([received("rate_limits.updated") for _ in range(100)])
            await pilot.pause()
            assert log.selected == selected and log.cursor_line == 47
        assert log.unseen == 500 and "+500 new below" in str(log.border_subtitle)  # all below the screen
        await pilot.press("end")
        await pilot.pause()
        assert log.tail and log.unseen == 0 and "new" not in str(log.border_subtitle)


async def test_moving_within_the_screen_repaints_two_lines_and_draws_what_a_full_repaint_draws() -> None:
    """A held arrow key under a stream must not repaint the pane per step: once paused, a move that
    neither scrolls nor changes the title redraws only the old and the new highlighted line, and the
    screen is then exactly what a whole repaint draws."""
    app = LogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = app.query_one(EventLog)
        # Bordered, as in the app: the corner names the selected frame (it changes with each move),
        # and only the border's line is drawn again for it. Without a border to draw it on, the
        # subtitle is set the plain way, which repaints the pane.
        log.styles.border = ("round", "white")
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(30)])
        log.focus()
        await pilot.press("up")  # leaves following: the title changes, the pane repaints
        await pilot.pause()
        painted = record_calls(log, "render_line")
        await pilot.press("up", "up")
        await pilot.pause()
        assert log.cursor_line == 27
        assert 0 < len(painted) <= 4, painted  # two lines per step at most, not the pane's 12
        moved = app.export_screenshot()
        log.refresh()
        await pilot.pause()
        assert app.export_screenshot() == moved


async def test_leaving_following_repaints_the_selected_line_and_the_subtitle_only() -> None:
    """The first ↑ under a stream: the new highlight and the "paused" subtitle on the border, not
    the pane; and the screen is then exactly what a whole repaint draws."""
    app = BorderedLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(30)])
        log.focus()
        await pilot.pause()
        painted = record_calls(log, "render_line")
        await pilot.press("up")
        await pilot.pause()
        assert not log.tail and log.cursor_line == 29
        assert painted == [(log.size.height - 1,)], painted  # the new highlight, at the foot of the pane
        paused = app.export_screenshot()
        assert "paused · end: follow" in str(log.border_subtitle) and "paused" in paused
        log.refresh()
        await pilot.pause()
        assert app.export_screenshot() == paused


@pytest.mark.parametrize("following", [True, False])
async def test_deltas_joining_a_run_repaint_its_line_only_and_draw_what_a_full_repaint_draws(following: bool) -> None:
    """A reply streams 50 audio deltas a second into one run: each batch repainted the whole pane
    (and sent every row beside it through the compositor) for the one line whose count changed.
    Following at the end, or paused with the run on screen: that line is painted, and the screen is
    then exactly what a whole repaint draws."""
    app = BorderedLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(20)])
        app.feed([received("response.created", response={"id": "resp_1"})])
        app.feed(response_stream("resp_1", "item_a", [" one", " two"]))
        log.focus()
        if not following:
            await pilot.press("up", "up")  # the run's line stays on screen, selected no more
        await pilot.pause()
        run_line = log.view.line_of(log.view.rows[-1]) - log.scroll_offset.y
        painted = record_calls(log, "render_line")
        app.feed(response_stream("resp_1", "item_a", [" three", " four", " five"]))
        await pilot.pause()
        assert log.view.rows[-1].count == 10
        assert {y for (y,) in painted} == {run_line}, painted
        assert "×10" in app.export_screenshot()
        await assert_drawn_as_a_whole_repaint_draws(app, log, pilot)


@pytest.mark.parametrize(("before", "screen_lines"), [(40, set()), (3, set(range(3, 11)))])
async def test_frames_below_a_paused_log_repaint_only_new_lines_on_screen_and_match_a_full_repaint(
    before: int, screen_lines: set[int]
) -> None:
    """A user reading up the log while frames stream in: rows added below the screen changed
    nothing on it but the scrollbar and the "+N new" count, yet each batch repainted the whole pane
    (the cost stood in front of every key press). Only the new lines that fall on screen are
    painted (none when the log is longer than the pane), and the screen is then exactly what a
    whole repaint draws: the scrollbar's thumb and the subtitle's count included."""
    app = BorderedLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = await paused_log(app, pilot, before)
        top = log.scroll_offset.y
        painted = record_calls(log, "render_line")
        app.feed([received("rate_limits.updated", rate_limits=[{"name": f"r{i}"}]) for i in range(4)])
        app.feed([received("input_audio_buffer.speech_started", audio_start_ms=i) for i in range(4)])
        await pilot.pause()
        assert log.scroll_offset.y == top
        assert {y for (y,) in painted} == {line - top for line in screen_lines}, painted
        assert ("+8 new below" in str(log.border_subtitle)) == (not screen_lines), log.border_subtitle
        await assert_drawn_as_a_whole_repaint_draws(app, log, pilot)


async def test_an_expanded_run_growing_above_a_paused_logs_rows_moves_them_down() -> None:
    """An expanded run takes a line per frame: frames joining it move every line after it (here
    the `rate_limits.updated` row the run's deltas stream around), so the pane is drawn again."""
    app = BorderedLogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("response.created", response={"id": "resp_1"})])
        app.feed(response_stream("resp_1", "item_a", [" one"]))
        app.feed([received("rate_limits.updated", rate_limits=[{"name": "requests"}])])
        log.focus()
        await pilot.press("up", "up", "right")  # the run, opened
        await pilot.pause()
        assert log.view.rows[-2].expanded and not log.tail
        app.feed(response_stream("resp_1", "item_a", [" two", " three"]))
        await pilot.pause()
        assert any("rate_limits.updated" in line for line in drawn(log)[-1:]), drawn(log)
        await assert_drawn_as_a_whole_repaint_draws(app, log, pilot)


async def test_a_paused_log_whose_new_frames_bring_its_scrollbar_draws_what_a_full_repaint_draws() -> None:
    """New lines that bring the scrollbar change the pane's layout: bar and lines are all drawn."""
    app = BorderedLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = await paused_log(app, pilot, 5)
        app.feed([received("rate_limits.updated", rate_limits=[{"name": f"r{i}"}]) for i in range(30)])
        await pilot.pause()
        assert log.max_scroll_y > 0 and not log.tail
        await assert_drawn_as_a_whole_repaint_draws(app, log, pilot)


async def test_following_scrolls_to_new_frames_in_the_same_update_that_shows_them() -> None:
    """A deferred scroll would paint the pane twice per batch: once with the new lines at the old
    offset, then again scrolled."""
    app = LogApp()
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated") for _ in range(40)])
        await pilot.pause()
        assert log.scroll_offset.y == log.max_scroll_y > 0
        app.feed([received("rate_limits.updated") for _ in range(7)])
        assert log.scroll_offset.y == log.max_scroll_y  # before any refresh
        await pilot.pause()
        assert "rate_limits.updated" in drawn_from_offset(log)[-1]


def drawn_from_offset(log: EventLog) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.size.height)]


async def test_a_focus_change_keeps_the_rendered_lines_and_a_new_theme_renders_them_again() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(30)])
        log.focus()
        await pilot.pause()
        rendered = record_calls(log, "_render_strip")
        log.blur()  # the :focus style goes: Textual reports a style update
        await pilot.pause()
        log.focus()
        await pilot.pause()
        assert rendered == []  # every line on screen came from the cache
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert len(rendered) >= log.size.height  # the look changed: each line drawn again


async def test_paging_up_stops_following() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 10)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated") for _ in range(40)])
        log.focus()
        await pilot.pause()
        await pilot.press("pageup")
        assert log.tail is False and log.cursor_line is not None and log.cursor_line < 39


async def test_find_goes_inside_collapsed_runs_and_highlights() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed(
            [
                connecting(),
                *response_stream("resp_1", "item_a", [" the", " kitchen", " lights"]),
                received("response.done", response={"id": "resp_1"}),
                received("conversation.item.input_audio_transcription.completed", item_id="u", transcript="kitchen"),
            ]
        )
        log.focus()
        log.set_finder(Finder("kitchen"))
        found = log.find()
        await pilot.pause()
        assert found == 4 and app.view.rows[1].expanded  # the run opened to show the match
        assert log.cursor_line == 1 + 1 + 3  # the run's line, then its 4th frame
        line = log.render_line(log.cursor_line - log.scroll_offset.y)
        highlighted = [seg for seg in line if "kitchen" in seg.text and seg.style and seg.style.bgcolor is not None]
        assert highlighted
        await pilot.press("n")
        assert log.selected == 8
        await pilot.press("N")
        assert log.selected == 4


async def test_a_row_found_shows_its_match_where_the_summary_hid_it() -> None:
    """A find's word past the summary's quote (or past a narrow pane's edge) is brought into the
    row, with the text just before it, instead of a highlighted row that does not say why it matched.
    The row's other columns stay; the find's end brings the summary back."""
    app = LogApp()
    async with app.run_test(size=(80, 12)) as pilot:
        log = app.query_one(EventLog)
        words = "please describe the living room and then the garden and then the kitchen with its lights"
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
        app.feed([connecting(), sent("conversation.item.create", item=item), received("session.updated")])
        await pilot.pause()
        before, other = drawn(log)[1:3]
        assert "kitchen" not in before
        log.set_finder(Finder("kitchen"))
        assert log.find() == 1
        await pilot.pause()
        row = log.render_line(1 - log.scroll_offset.y)
        head = before.split("conversation.item.create")[0]
        assert row.text.startswith(head + "conversation.item.create")
        assert re.search(r"create +…\S[^…]* the kitchen with its", row.text)  # a few characters before it
        highlighted = [seg for seg in row if seg.text.strip() == "kitchen" and seg.style and seg.style.bgcolor]
        assert highlighted
        assert drawn(log)[2] == other  # a row without the word: its summary
        log.set_finder(None)
        await pilot.pause()
        assert drawn(log)[1] == before  # no find: the summary from its start again


def test_summary_at_match_keeps_a_summary_that_shows_its_match() -> None:
    finder = Finder("kitchen")
    assert summary_at_match("the kitchen lights are on", finder, 40) == "the kitchen lights are on"  # fits

    def unasked() -> str:
        raise AssertionError("the frame's text was asked for though the summary shows the match")

    assert summary_at_match("the kitchen lights are on", finder, 40, unasked) == "the kitchen lights are on"
    assert summary_at_match("the kitchen lights are on and off", finder, 20) == "the kitchen lights are on and off"
    # No match, and no text to look in: as it is.
    assert summary_at_match("no such word in here at all, none", finder, 12) == "no such word in here at all, none"
    # The match ends in the column's last cell, which the cut's ellipsis takes: moved.
    assert summary_at_match("0123456789kitchen and more", finder, 17).startswith("…")
    assert summary_at_match("0123456789kitchen and more", finder, 18) == "0123456789kitchen and more"


def test_summary_at_match_leads_with_context_and_fits_the_match() -> None:
    finder = Finder("kitchen")
    summary = "a" * 60 + " before the kitchen, after it"
    shown = summary_at_match(summary, finder, 60)
    assert shown == "…" + summary[summary.index("kitchen") - MATCH_LEAD :]
    # A narrower column keeps a third of its room before the match, the rest for what follows it.
    narrow = summary_at_match(summary, finder, 30)
    assert narrow == "…" + summary[summary.index("kitchen") - (30 - 7) // 3 :]
    assert cell_len(narrow[: narrow.index("kitchen") + len("kitchen")]) <= 29
    # A column too narrow for the lead: less of it, the match still whole before the edge's ellipsis.
    tight = summary_at_match(summary, finder, 12)
    assert tight.startswith("…") and cell_len(tight[: tight.index("kitchen") + 7]) <= 11
    # Wide characters count two cells each.
    wide = "台所" * 20 + " kitchen"
    moved = summary_at_match(wide, finder, 20)
    assert cell_len(moved[: moved.index("kitchen") + 7]) <= 19
    # A match wider than the column starts it.
    assert summary_at_match("x" * 30 + "kitchen", Finder("/x{5}kitchen/"), 8) == "…xxxxxkitchen"


def test_summary_at_match_takes_the_match_from_the_frames_text_when_the_summary_lacks_it() -> None:
    finder = Finder("kitchen")
    # The searched text has its JSON escapes undone (`Journal.search_text`): a line break is one.
    text = '{"type":"session.update","session":{"instructions":"Answer questions\nabout the kitchen only."}}'
    shown = summary_at_match("instructions 41 chars", finder, 60, lambda: text, "session.update")
    assert shown == '…s about the kitchen only."}}'  # `MATCH_LEAD` characters before it, the break a space
    assert summary_at_match("instructions", finder, 30, lambda: text, "session.update") == '…ut the kitchen only."}}'
    # A control character in the frame's text is shown, never sent to the terminal.
    raw = '{"type":"x","note":"the\u001b[2J kitchen"}'.encode().decode("unicode_escape")
    assert "\x1b" not in summary_at_match("x", finder, 30, lambda: raw, "x")
    # A match only in the frame's type: the type column shows that one; the summary stays.
    typed = '{"type":"kitchen.event","a":1}'
    assert summary_at_match("a summary", finder, 30, lambda: typed, "kitchen.event") == "a summary"
    # ...but one elsewhere in the text is shown.
    both = '{"type":"kitchen.event","room":"the kitchen"}'
    assert "the kitchen" in summary_at_match("a summary", finder, 30, lambda: both, "kitchen.event")
    # A long text: only what the column can show is taken.
    huge = '{"type":"x","t":"' + "kitchen " + "y" * 1_000_000 + '"}'
    assert len(summary_at_match("s", finder, 30, lambda: huge, "x")) < 100
    # Nothing found anywhere: the summary.
    assert summary_at_match("a summary", finder, 30, lambda: '{"type":"x"}', "x") == "a summary"


async def test_c_jumps_between_an_error_and_the_frame_that_caused_it() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        app.feed([connecting(), cancel, received("session.updated"), error])
        log.focus()
        await pilot.pause()
        assert "← response.cancel #" in drawn(log)[3] and "→ error" in drawn(log)[1]
        await pilot.press("up")
        assert log.selected == 3
        await pilot.press("c")
        assert log.selected == 1
        await pilot.press("c")
        assert log.selected == 3


async def test_the_title_says_how_many_payloads_left_memory() -> None:
    app = LogApp(PayloadPolicy(small_bytes=1024, large_budget_bytes=16_000))
    async with app.run_test(size=(120, 20)) as pilot:
        app.feed([sent("input_audio_buffer.append", audio=audio_b64(100)) for _ in range(10)])
        await pilot.pause()
        subtitle = str(app.query_one(EventLog).border_subtitle)
        assert "10 frames" in subtitle and "8 payloads on disk only" in subtitle
        # Paused, the key that follows again comes before the note, which a narrow border cuts first:
        # under a stream at 140 columns, `end: follow` went past the border's end.
        app.query_one(EventLog).focus()
        await pilot.press("up")
        subtitle = str(app.query_one(EventLog).border_subtitle)
    assert subtitle.index("end: follow") < subtitle.index("payloads on disk only"), subtitle


async def six_frames_none_of_them_errors(app: LogApp, pilot: Pilot[None]) -> EventLog:
    """Six `session.created` frames in the log under `type:error`, which none of them pass."""
    log = app.query_one(EventLog)
    app.feed([received("session.created", session={"id": "s"}) for _ in range(6)])
    app.view.set_query(Query("type:error", app.pipeline.journal))
    log.rebuilt()
    await pilot.pause()
    return log


async def test_under_a_filter_the_title_s_total_follows_frames_that_do_not_pass_it() -> None:
    """Tester: with `error` in force, new frames that were not errors left the title at its old total
    (`0 of 6 frames` while the bar said `0 of 66`)."""
    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = await six_frames_none_of_them_errors(app, pilot)
        assert "0 of 6 frames" in str(log.border_subtitle)
        app.feed([received("response.created", response={"id": f"r{n}"}) for n in range(60)])
        await pilot.pause()
        assert "0 of 66 frames" in str(log.border_subtitle)


async def test_a_pane_that_shows_no_frame_says_why() -> None:
    """Review in tmux: a filter that matched nothing (`type:(`) left the pane blank, which read as a log
    that had stopped; only the subtitle's `0 of 167` said otherwise. A clear says what it hid."""
    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        assert log.render_line(0).text.strip() == ""  # no frame yet: nothing to say
        app.feed([received("session.created", session={"id": "s"}) for _ in range(6)])
        app.view.set_query(Query("type:(", app.pipeline.journal))
        log.rebuilt()
        await pilot.pause()
        said = log.render_line(0).text
        assert said.strip() == "No frame matches the filter, of 6 frames: f changes it (empty: all frames)"
        assert len(said) == log.paint_width() and log.render_line(1).text.strip() == ""  # one row at 120
        app.view.set_query(None)
        log.rebuilt()
        app.view.clear()
        log.rebuilt()
        await pilot.pause()
        assert log.render_line(0).text.strip().startswith("Cleared: new frames appear here")
        assert "the 6 frames before are kept (palette: log: undo clear)" in log.render_line(0).text
        app.feed([received("response.created", response={"id": "r1"})])
        await pilot.pause()
        assert "response.created" in log.render_line(0).text  # a frame: the pane shows it, nothing else
        app.view.set_query(Query("type:error", app.pipeline.journal))
        log.rebuilt()
        await pilot.pause()
        assert "of 1 frame:" in log.render_line(0).text  # the frames since the clear


async def test_the_empty_pane_s_words_wrap_then_end_with_an_ellipsis_in_a_narrow_pane() -> None:
    app = LogApp()
    async with app.run_test(size=(30, 10)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.created", session={"id": "s"})])
        app.view.set_query(Query("zzz", app.pipeline.journal))
        log.rebuilt()
        await pilot.pause()
        rows = [log.render_line(y).text for y in range(5)]
        assert all(len(row) == log.paint_width() for row in rows)
        assert rows[0].startswith(" No frame matches") and rows[2].rstrip().endswith("…"), rows
        assert rows[3].strip() == rows[4].strip() == ""
        words = " ".join(row.strip() for row in rows[:3])
        assert words.startswith("No frame matches the filter, of 1 frame: f changes it"), words


@pytest.mark.parametrize("width", [40, 48, 60, 78, 94, 140])
def test_the_type_column_shrinks_before_the_summary_vanishes(width: int) -> None:
    columns = Columns.fit(width)
    used = 2 + columns.time + columns.delta + columns.type + 1 + columns.size + columns.summary
    assert used <= width
    assert columns.summary >= 10 and columns.type >= 12
    assert columns.summary >= columns.type or width >= 94


@given(label=st.text(max_size=60), width=st.integers(min_value=0, max_value=70))
def test_any_label_fits_any_width_without_an_error(label: str, width: int) -> None:
    """A narrow pane (a resize) once crashed the app on a run's label, which has no dots."""
    short = abbreviate_type(label, width)
    assert len(short) <= width or short == label


def test_counts_are_singular_for_one() -> None:
    from tui.widgets.log_format import counted

    assert [counted(n, "frame") for n in (0, 1, 2, 1204)] == ["0 frames", "1 frame", "2 frames", "1,204 frames"]


def test_a_run_label_keeps_its_count_when_cut() -> None:
    assert abbreviate_type("response deltas ×45", 16) == "resp. deltas ×45"  # a shorter name before a cut
    assert abbreviate_type("response deltas ×45", 19) == "response deltas ×45"
    assert abbreviate_type("something deltas ×45", 16) == "something d… ×45"  # no shorter name: cut, count kept


def test_long_types_keep_their_telling_tail() -> None:
    assert abbreviate_type("response.output_audio_transcript.done", 28) == "r.o_a_transcript.done"
    assert abbreviate_type("conversation.item.input_audio_transcription.completed", 28) == "…transcription.completed"
    assert abbreviate_type("session.created", 28) == "session.created"


async def test_a_click_selects_the_line_under_the_pointer_inside_the_border() -> None:
    app = BorderedLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(5)])
        await pilot.pause()
        assert log.content_region.y == 1  # the border's row above the first line
        await pilot.click(EventLog, offset=(10, 2))  # the pane's second row inside the border
        assert log.cursor_line == 1 and log.selected == 1


@pytest.mark.parametrize("width", [30, 40, 58, 120])
def test_a_line_painted_from_its_pieces_is_what_rich_renders_of_its_text(width: int) -> None:
    """The log paints a line's pieces as segments directly (no Rich text machinery per line): the
    terminal must get exactly what rendering `render_line`'s text gives, selected or not, for
    runs, their frames, links, lint marks, unknown types and server text with control codes."""
    from rich.console import Console
    from textual.strip import Strip

    from tui.model import new_model
    from tui.widgets.log_format import line_pieces, line_segments, render_line

    model = new_model()
    model.ingest(
        [
            connecting(),
            received("session.created", session={"id": "sess_1"}),
            sent("response.cancel", event_id="evt_cancel"),
            received(
                "error",
                error={"type": "invalid_request_error", "message": "no\x1b[31m red\x07", "event_id": "evt_cancel"},
            ),
            received("vendor.surprise", note="\x1b]0;title\x07 tab\there"),
            sent("input_audio_buffer.append", audio="UklGRiQAAABXQVZF"),  # a WAV header: a lint mark
            received("response.created", response={"id": "resp_1"}),
            *response_stream("resp_1", "item_a", [" Sure,", " turning", " on"]),
            received("response.done", response={"id": "resp_1", "status": "completed"}),
        ]
    )
    view = model.log_view
    view.catch_up()
    view.set_expanded(view.rows[-2], True)
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    cursor = Style.parse("on #334455 bold")
    columns = Columns.fit(width)
    compared = 0
    for number in range(view.line_count):
        line = view.line(number)
        assert line is not None
        previous_index = view.previous_index(line.frame_index)
        previous = model.journal[previous_index] if previous_index is not None else None
        for selected in (False, True):
            pieces = line_pieces(view, line.row, line.member, columns, previous)
            fast = line_segments(pieces)
            text = render_line(view, line.row, line.member, columns, previous)
            if selected:
                fast = list(Segment.apply_style(fast, post_style=cursor))
                text.stylize(cursor)
            painted = Strip(fast).crop_extend(0, width, None).render(console)
            rendered = Strip(list(text.render(console))).crop_extend(0, width, None).render(console)
            assert painted == rendered, (number, selected)
            assert "\x1b]" not in painted and "\x07" not in painted
            compared += 1
    assert compared >= 2 * 12


async def test_a_following_log_stays_at_its_end_when_the_pane_shrinks() -> None:
    """The scroll offset outlives a resize: a following log must not keep its old top and leave
    its newest rows below the new edge (until the next frame came)."""
    app = LogApp()
    async with app.run_test(size=(120, 32)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated", session={"id": f"s{i}"}) for i in range(60)])
        await pilot.pause()
        assert log.tail and "s59" in drawn_from_offset(log)[-1]
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: log.size.height == 24, 5, "the pane to shrink")
        await pilot.pause()
        assert log.tail and log.scroll_offset.y == log.max_scroll_y
        assert "s59" in drawn_from_offset(log)[-1]


async def test_a_summary_cut_at_the_pane_s_edge_ends_with_an_ellipsis() -> None:
    """A cut id must not look whole: at 100 columns a long response id (a server's own) does not
    fit, and the line says so; where it fits it is whole, with no ellipsis. The cached line of one
    width is not reused at another."""
    response_id = "resp_" + "7ROZKMuYbvvIMWj4l377S" * 3
    app = LogApp()
    async with app.run_test(size=(100, 10)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("response.done", response={"id": response_id, "status": "completed"})])
        await pilot.pause()
        line = drawn(log)[0]
        assert line.endswith("…") and response_id not in line
        assert "resp_7ROZ" in line and len(log.render_line(0).text) == line_width(log)
        log.focus()
        await pilot.press("up")  # selected, and with find's highlights (drawn another way)
        log.set_finder(Finder("7ROZ"))
        await pilot.pause()
        assert drawn(log)[0].endswith("…") and len(log.render_line(0).text) == line_width(log)
        await pilot.press("end")
        await pilot.resize_terminal(200, 10)
        await wait_for(pilot, lambda: log.size.width == 200, 5, "the pane to widen")
        line = drawn(log)[0]
        assert response_id in line and "…" not in line


async def test_a_linked_failure_says_what_went_wrong_before_where_it_came_from() -> None:
    """At 120×32 the log pane's summary column is ~26 cells: every linked error read `← response.create
    #3010 ·…` and every failed response `← response.create #5392 ·…`, whatever went wrong. The code
    (or the status) comes first now, then the frame that caused it."""
    app = LogApp()
    async with app.run_test(size=(70, 20)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        create = sent("response.create")
        started = received("response.created", response={"id": "resp_1", "status": "in_progress"})
        failure = {"type": "failed", "error": {"code": "server_error", "message": "The server had an error"}}
        done = received("response.done", response={"id": "resp_1", "status": "failed", "status_details": failure})
        # Numbered 1 to 6 as in a session's start: the process-wide numbers a whole test run reaches
        # (#1234567) are too long for the cause's type to fit beside them at this width.
        frames = [
            dataclasses.replace(env, seq=n)
            for n, env in enumerate([connecting(), cancel, error, create, started, done], 1)
        ]
        cancel, create = frames[1], frames[3]
        app.feed(frames)
        await pilot.pause()
        lines = drawn(log)
        # What went wrong keeps a readable start (session 45: `respon…` beside the whole link named
        # no code), and the link its place (c goes there; session 32: the link was what the column's
        # edge cut, at every width a narrow pane has), its type as the initials `type:` takes where
        # they fit (session 38: at this width the number stood alone).
        assert re.search(rf"error +response_cancel\w*…? ← (r\.cancel )?#{cancel.seq}\b", lines[2]), lines[2]
        # Too narrow for the code whole beside even `← #4`: its start (whole where it fits: the test below).
        assert re.search(rf"response\.done +failed: server_err\w*…? ← (r\.create )?#{create.seq}\b", lines[5]), lines[5]
        await pilot.resize_terminal(160, 20)
        await pilot.pause()
        lines = drawn(log)
        assert f"response_cancel_not_active ← response.cancel #{cancel.seq}" in lines[2], lines[2]
        assert f"failed: server_error ← response.create #{create.seq} · The server had an error · resp_1" in lines[5]


async def test_an_error_row_gives_its_type_column_s_blank_cells_to_its_message() -> None:
    """`error` fills 5 of the type column's 30-odd cells: a long error's summary takes the rest, so
    its code, its cause and the start of the service's message show (in the grid, the message was
    cut before its first word at 160 columns). An error whose summary fits stays in the grid."""
    app = LogApp()
    message = "Cancellation failed: no active response found"
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        long_error = received(
            "error",
            error={"code": "response_cancel_not_active", "message": message, "event_id": cancel.data["event_id"]},
        )
        short_error = received("error", error={"code": "bad"})
        frames = [
            dataclasses.replace(env, seq=n)
            for n, env in enumerate(
                [
                    connecting(),
                    cancel,
                    long_error,
                    short_error,
                    received("session.updated", session={"id": "sess_grid"}),
                ],
                1,
            )
        ]
        app.feed(frames)
        await pilot.pause()
        lines = drawn(log)
        assert re.search(r"error response_cancel_not_active ← r\.cancel #2 · Cancellation", lines[2]), lines[2]
        grid = lines[4].index("sess_grid")  # where the summary column begins
        assert lines[3].index("bad") == grid, lines[3]  # a short error's summary: in the grid
        assert lines[2].index("response_cancel") < grid - 20, lines[2]
        await pilot.resize_terminal(80, 20)
        await pilot.pause()
        # No size column at 80: the message still begins on the row.
        assert re.search(r"error response_cancel_not_active ← r\.cancel #2 · Canc", drawn(log)[2]), drawn(log)[2]


async def test_a_failed_response_s_error_code_is_whole_before_its_long_message() -> None:
    """The service's `insufficient_quota` message runs to 200 characters: before it, the link; the
    code stays whole at widths where `failed: insufficie… ← r.create #4` hid it."""
    app = LogApp()
    message = "You exceeded your current quota, please check your plan and billing details. " * 2
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(EventLog)
        create = sent("response.create")
        started = received("response.created", response={"id": "resp_1", "status": "in_progress"})
        failure = {"type": "failed", "error": {"code": "insufficient_quota", "message": message}}
        done = received("response.done", response={"id": "resp_1", "status": "failed", "status_details": failure})
        frames = [dataclasses.replace(env, seq=n) for n, env in enumerate([connecting(), create, started, done], 1)]
        app.feed(frames)
        await pilot.pause()
        assert re.search(r"failed: insufficient_quota ← (\S+ )?#2 · You", drawn(log)[3]), drawn(log)[3]


async def test_a_jump_brings_the_frame_to_the_middle_of_the_pane_with_what_came_before_it() -> None:
    """`c` from an error (or a find, a finding) to a frame off screen put it at the pane's edge: at
    the top, what was sent right before it was out of view. It comes to the middle now; a frame
    already on screen stays where it is."""
    app = LogApp()
    async with app.run_test(size=(120, 21)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        filler = [received("rate_limits.updated") for _ in range(100)]
        more = [received("rate_limits.updated") for _ in range(100)]
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        after = [received("rate_limits.updated") for _ in range(50)]
        app.feed([connecting(), *filler, cancel, *more, error, *after])
        log.focus()
        await pilot.pause()
        await pilot.press("home", *["down"] * 5)
        assert log.scroll_offset.y == 0  # on screen: nothing scrolls
        assert log.select_frame(202) and log.selected == 202  # the error, off screen below
        await pilot.pause()
        height = log.size.height
        assert log.scroll_offset.y == 202 - height // 2
        await pilot.press("c")
        await pilot.pause()
        assert log.selected == 101 and log.cursor_line == 101
        assert log.scroll_offset.y == 101 - height // 2, (log.scroll_offset.y, height)
        await pilot.press("c")  # back to the error, off screen below: to the middle too
        await pilot.pause()
        assert log.selected == 202 and log.scroll_offset.y == 202 - height // 2
        top = log.scroll_offset.y
        await pilot.press("up", "up")
        assert log.scroll_offset.y == top  # moving on screen scrolls nothing


async def test_n_and_shift_n_without_a_find_both_say_to_press_slash_first() -> None:
    """`N` (and the palette's 'log: find previous') with no find did nothing at all, where `n` said
    what to do."""
    app = NoticeApp()
    notices = app.notices
    async with app.run_test(size=(120, 20)) as pilot:
        app.feed([connecting(), received("session.updated")])
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("n", "N")
        await pilot.pause()
    assert notices == ["nothing to find: press / first"] * 2


async def test_o_on_a_response_that_ended_with_no_item_does_not_say_yet() -> None:
    """`o` on a failed response.done that output nothing said '… has output no conversation item
    (yet)': it is over, nothing is coming. The log asks for the response's own row (one that ended
    early has one), with that to say when there is none (the app says it: `missing`)."""
    notices: list[str] = []

    class RowApp(NoticeApp):
        def on_event_log_show_item(self, event: EventLog.ShowItem) -> None:
            assert event.item_id == "rt-no-output-resp_1"  # a reply that never came: its row
            notices.append(event.missing)

    app = RowApp()
    async with app.run_test(size=(120, 20)) as pilot:
        started = received("response.created", response={"id": "resp_1", "status": "in_progress", "output": []})
        done = received("response.done", response={"id": "resp_1", "status": "failed", "output": []})
        app.feed([connecting(), sent("response.create"), started, done])
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("up", "o", "up", "o")
        await pilot.pause()
    assert notices == ["resp_1 has output no conversation item", "resp_1 has output no conversation item (yet)"]


def test_a_run_whose_audio_left_memory_says_the_same_length_as_one_in_memory() -> None:
    """A run's audio length, read from the frames' sizes once their payloads left memory, counted the
    JSON around the base64: 200 appends of 20 ms read `[audio 200.0 KB · 4.27 s]` for 4.00 s."""
    from tui.widgets.log_format import run_summary

    def summary(policy: PayloadPolicy | None) -> str:
        pipeline = Pipeline(Journal(policy))
        view = LogView(pipeline.journal)
        pipeline.ingest([sent("input_audio_buffer.append", audio=audio_b64(20)) for _ in range(200)])
        view.catch_up()
        [row] = view.rows
        return run_summary(pipeline.journal, row)

    in_memory = summary(None)
    dropped = summary(PayloadPolicy(large_budget_bytes=2_000))
    assert "[audio 187.5 KB · 4.00 s]" in in_memory, in_memory
    assert dropped == in_memory, dropped


@pytest.mark.parametrize("policy", [None, PayloadPolicy(large_budget_bytes=2_000)])
def test_a_python_client_s_appends_read_their_audio_length_not_their_frame_size(policy: PayloadPolicy | None) -> None:
    """Tester: a client that writes JSON with `json.dumps`' default spaces (`"audio": "…"`) had its
    run read `[audio 132.0 KB · 2.82 s]` for 124.4 KB and 2.65 s: the audio field was not found, so
    the frame's size was taken for it."""
    from tui.widgets.log_format import run_summary

    def spaced(env: Envelope) -> Envelope:
        return Envelope(env.seq, env.direction, env.type, env.data, json.dumps(env.data), env.mono, env.wall)

    pipeline = Pipeline(Journal(policy))
    view = LogView(pipeline.journal)
    pipeline.ingest([spaced(sent("input_audio_buffer.append", audio=audio_b64(20))) for _ in range(200)])
    view.catch_up()
    [row] = view.rows
    assert "[audio 187.5 KB · 4.00 s]" in run_summary(pipeline.journal, row)


def test_an_audio_frame_whose_payload_left_memory_still_says_its_length() -> None:
    """In an expanded run an hour in, every audio row read '(payload in the capture file only)'."""
    from tui.widgets.log_format import frame_summary

    pipeline = Pipeline(Journal(PayloadPolicy(small_bytes=1024, large_budget_bytes=2_000)))
    pipeline.ingest([sent("input_audio_buffer.append", audio=audio_b64(100)) for _ in range(3)])
    journal = pipeline.journal
    assert journal[0].payload_dropped and not journal[2].payload_dropped
    assert frame_summary(journal, None, journal[0]) == frame_summary(journal, None, journal[2])
    assert "[audio 4.7 KB · 100 ms]" in frame_summary(journal, None, journal[0])


async def test_c_to_a_cause_before_a_clear_says_so_not_hidden_by_the_filter() -> None:
    """After ctrl+l, `c` from an error to a cause before the clear said 'hidden by the filter', with
    no filter in force."""
    app = NoticeApp()
    notices = app.notices
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        app.feed([connecting(), cancel])
        app.view.clear()
        log.rebuilt()
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        app.feed([error])
        log.focus()
        await pilot.press("up", "c")
        await pilot.pause()
    assert notices == [f"frame #{cancel.seq} is from before the clear: the palette's 'log: undo clear' brings it back"]


@pytest.mark.parametrize(("step", "said"), [(0.02, "over 3.98s"), (0.0001, "over 20ms"), (0.0, "at once")])
def test_a_run_says_how_long_it_took_beside_the_audio_it_carried(step: float, said: str) -> None:
    """A run's line showed its first frame's time and nothing of its last: 4 s of appends sent over
    4 s (a live microphone) read the same as ones sent at once (a file), and the next row's Δt, from
    the run's last frame, read as if from its first. The summary says the span after the audio."""
    from tui.widgets.log_format import run_summary

    pipeline = Pipeline(Journal())
    view = LogView(pipeline.journal)
    clock = Clock(step)
    pipeline.ingest([sent("input_audio_buffer.append", clock, audio=audio_b64(20)) for _ in range(200)])
    view.catch_up()
    [row] = view.rows
    assert run_summary(pipeline.journal, row) == f"[audio 187.5 KB · 4.00 s] · {said}"


@pytest.mark.parametrize(
    ("seconds", "delta", "span"),
    [
        (0.0004, "+0", "at once"),
        (0.25, "+250ms", "over 250ms"),
        (75, "+1m15s", "over 1m15s"),
        (400_000, "+111h", "over 111h"),
        # Rounded in the unit shown: `+4m41s` for 4m41.987s, `+1000ms` (past the column) for 999.6 ms.
        (281.987, "+4m42s", "over 4m42s"),
        (0.9996, "+1.00s", "over 1.00s"),
        (59.996, "+1m00s", "over 1m00s"),
    ],
)
def test_a_span_reads_as_the_delta_column_does(seconds: float, delta: str, span: str) -> None:
    from tui.widgets.log_format import delta_text, span_text

    assert (delta_text(seconds), span_text(seconds)) == (delta, span)


@pytest.mark.parametrize(
    ("seconds", "time", "delta"),
    [
        (5.1305, "00:05.130", "+5.13s"),
        (3599.9999, "1:00:00.0", "+1h00m"),  # was 59:60.000; rounded as the time is
        (6000, "1:40:00.0", "+1h40m"),  # was 100:00.000 and +100m00s, past their columns
        (36_000, "10:00:00", "+10h00m"),
    ],
)
def test_times_past_an_hour_stay_within_their_columns(seconds: float, time: str, delta: str) -> None:
    from tui.widgets.log_format import delta_text, time_text

    assert (time_text(seconds), delta_text(seconds)) == (time, delta)
    assert len(time_text(seconds)) < Columns.fit(120).time and len(delta_text(seconds)) < Columns.fit(120).delta


async def scrolled_log(app: LogApp, pilot: Any, frames: int) -> tuple[EventLog, SteadyScrollBar]:
    """`app`'s log fed `frames` frames, more than it shows, and its (steady) scrollbar, on screen."""
    log = app.query_one(EventLog)
    app.feed([received("session.updated") for _ in range(frames)])
    await pilot.pause()
    bar = log.vertical_scrollbar
    assert isinstance(bar, SteadyScrollBar) and bar.display
    return log, bar


async def test_a_following_logs_scrollbar_repaints_only_when_its_thumb_moves() -> None:
    """Textual repaints a scrollbar at every growth of its view: each of its rows through the
    compositor, 15 times a second under a stream, for a one-cell thumb held at the foot of a log of
    thousands of lines that has not moved by the eighth of a cell it can show."""
    app = LogApp()
    async with app.run_test(size=(120, 12)) as pilot:
        log, bar = await scrolled_log(app, pilot, 400)
        renders = record_calls(bar, "render")
        for _ in range(5):
            app.feed([received("rate_limits.updated") for _ in range(3)])
            await pilot.pause()
        assert log.scroll_offset.y == log.max_scroll_y
        assert renders == []
        log.scroll_home(animate=False)
        await pilot.pause()
        assert len(renders) == 1  # the thumb went to the top: drawn again


class BarBelowLogApp(LogApp):
    """The log above a one-row bar shown on demand (as the filter bar opens under the log)."""

    CSS = "EventLog { height: 1fr; } #bar { height: 1; display: none; }"

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("families: …", id="bar")


async def test_a_log_shrinking_under_a_bar_that_opens_lays_the_screen_out_once() -> None:
    """The log's scrollbar changes size and style during the layout that shows a bar under the log:
    Textual asked the scrollbar for a layout of its own then, a second layout of the whole screen (a
    third of what `f` cost). A scrollbar's place is its view's to decide: it repaints, and the screen
    is what a whole repaint draws."""
    app = BarBelowLogApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log, bar = await scrolled_log(app, pilot, 300)
        shown_bar = app.query_one("#bar")
        shown_bar.display = True  # shown once before: the bar's own first layout sizes its rows
        await pilot.pause()
        shown_bar.display = False
        log.focus()
        await pilot.pause()
        height = bar.size.height
        layouts = record_calls(app.screen, "_refresh_layout")
        shown_bar.display = True
        log.blur()  # the focus leaving the log restyles its scrollbar, as the filter bar's input takes it
        await pilot.pause()
        await pilot.pause()
        assert bar.size.height == height - 1
        assert len(layouts) == 1, layouts
        await assert_drawn_as_a_whole_repaint_draws(app, log, pilot)
        app.screen.refresh()
        shown = app.export_screenshot()
        await pilot.pause()
        assert app.export_screenshot() == shown


@given(
    length=st.integers(1, 60),
    a=st.tuples(st.integers(0, 5000), st.integers(0, 200), st.floats(0, 5000)),
    grow=st.integers(0, 40),
    scroll=st.floats(-3, 40),
)
def test_a_scrollbar_whose_thumb_extent_is_unchanged_draws_the_same(
    length: int, a: tuple[int, int, float], grow: int, scroll: float
) -> None:
    """`thumb_extent` is all Textual's bar drawing depends on: equal extents, equal bars."""

    def bar(virtual: int, window: int, position: float) -> list[Segment]:
        window = window if window < virtual else 0
        position = min(position, max(0, virtual - window))
        return list(ScrollBarRender.render_bar(length, virtual, window, position).segments)

    def extent(virtual: int, window: int, position: float) -> tuple[int, int, int]:
        window = window if window < virtual else 0
        return thumb_extent(length, virtual, window, min(position, max(0, virtual - window)))

    b = (a[0] + grow, a[1], max(0.0, a[2] + scroll))  # the view grew, and scrolled (to its end, often)
    if extent(*a) == extent(*b):
        assert bar(*a) == bar(*b)


async def test_a_scrollbar_draws_its_rows_as_textual_does() -> None:
    """The bar makes its rows itself (`SteadyScrollBar.render_lines`: Textual's console rendering of
    it cost 60 µs a row): the same segments and styles, mouse actions included, as Textual's own
    drawing of the same bar, wherever the thumb is, hovered or grabbed, in a dark and a light theme."""
    app = LogApp()
    async with app.run_test(size=(100, 14)) as pilot:
        log, bar = await scrolled_log(app, pilot, 300)

        def drawn() -> list[list[Segment]]:
            bar.render_lines(Region(0, 0, *bar.size))
            return [list(bar.render_line(y)) for y in range(bar.size.height)]

        def textuals() -> list[list[Segment]]:
            width, height = bar.size
            return [list(strip) for strip in Visual.to_strips(bar, bar._render(), width, height, bar.visual_style)]

        seen = set()
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            for y in (0, 7, 150, log.max_scroll_y):
                log.scroll_to(y=y, animate=False)
                await pilot.pause()
                for grabbed, over in ((None, False), (None, True), (Offset(0, 1), False)):
                    bar.grabbed, bar.mouse_over = grabbed, over
                    rows = drawn()
                    assert rows == textuals()
                    seen.add(str(rows))
        assert len(seen) >= 12  # the cases drew different bars: the comparison saw thumbs and colors move


class LogWithBannerApp(LogApp):
    """The pane below a banner that comes and goes (as the filter bar does above the app's log)."""

    def compose(self) -> ComposeResult:
        yield Static("banner", id="banner")
        yield EventLog(self.view)


async def test_a_layout_elsewhere_does_not_repaint_a_scrollbar_that_would_draw_the_same() -> None:
    """Textual repaints every scrollbar on screen at every layout (`f` opening the filter bar
    repainted the transcript's bar, twice): a bar whose thumb and colors are unchanged keeps its
    lines; a new theme (other colors) repaints it."""
    app = LogWithBannerApp()
    async with app.run_test(size=(120, 14)) as pilot:
        log, bar = await scrolled_log(app, pilot, 400)
        log.scroll_home(animate=False)  # not following: a layout leaves the thumb where it is
        await pilot.pause()
        renders = record_calls(bar, "render")
        banner = app.query_one("#banner", Static)
        banner.styles.height = 2  # the log is shorter: its bar too, drawn again
        await pilot.pause()
        resized = len(renders)
        assert resized >= 1
        banner.update("banner, a new text")  # a layout that leaves the log's size alone
        await pilot.pause()
        assert len(renders) == resized
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert len(renders) > resized


async def test_a_following_log_made_shorter_is_painted_at_its_end_only() -> None:
    """A bar opening above the log (`f`) shortens it: it was painted at its old scroll offset in
    the layout's screen update (its newest rows below its edge), then again, scrolled to its end, at
    the Resize event after it."""
    app = LogWithBannerApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated") for _ in range(60)] + [received("rate_limits.updated")])
        await pilot.pause()
        assert log.tail and log.scroll_offset.y == log.max_scroll_y
        offsets: list[int] = []
        render_line = log.render_line

        def noting_offset(y: int) -> Strip:
            offsets.append(log.scroll_offset.y)
            return render_line(y)

        log.render_line = noting_offset  # type: ignore[method-assign]
        app.query_one("#banner", Static).styles.height = 4
        await pilot.pause()
        await pilot.pause()
        assert log.scroll_offset.y == log.max_scroll_y
        assert "rate_limits.updated" in drawn_from_offset(log)[-1]
        assert offsets and set(offsets) == {log.max_scroll_y}, "painted at another offset than its end"


async def test_a_paint_measures_the_line_width_once_and_a_resize_is_seen_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`LineView`: the width of every line of one paint is measured once (`render_lines`); a line
    asked for after the paint, after a resize, is measured again."""
    from tui.widgets import virtual

    app = LogApp()
    async with app.run_test(size=(100, 12)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("session.updated") for _ in range(30)])
        await pilot.pause()
        measures: list[int] = []
        measure = virtual.line_width

        def counted(view: Any) -> int:
            measures.append(1)
            return measure(view)

        monkeypatch.setattr(virtual, "line_width", counted)
        asked = record_calls(log, "paint_width")
        log.refresh()  # every line stale: the paint asks for each
        strips = log.render_lines(Region(0, 0, *log.size))
        assert len(asked) == len(strips) == log.size.height and len(measures) == 1
        assert log._paint_width is None  # the paint's width is not kept past it
        await pilot.resize_terminal(80, 12)
        await pilot.pause()
        assert log.render_line(0).cell_length == measure(log) == 80 - 2


def test_a_transcription_run_is_labelled_as_its_stream() -> None:
    """Tester: a collapsed run of transcription deltas read `…delta ×24` in a narrow column, which
    named no stream (response runs read `response deltas ×26`)."""
    from tui.widgets.log_format import run_label

    journal = Journal()
    view = LogView(journal)
    etype = "conversation.item.input_audio_transcription.delta"
    for n in range(3):
        journal.append(received(etype, item_id="item_1", content_index=0, delta=f" w{n}"))
    view.catch_up()
    [row] = [view.line(0)]
    assert row is not None and row.row.count == 3
    assert run_label(journal, row.row) == "transcription deltas ×3"


def test_a_misspelt_client_event_shows_the_id_an_error_will_name() -> None:
    """Tester: `✖ unknown type ·  → error`: a misspelt event with only its id summarized to nothing."""
    from tui.protocol.summary import summarize_event

    assert summarize_event({"type": "respose.create", "event_id": "evt_bogus"}) == "evt_bogus"
    assert summarize_event({"type": "response.create", "event_id": "my-own-7"}) == "my-own-7"
    assert summarize_event({"type": "bogus.server_event", "event_id": "event_B1"}) == ""  # the server's own id


async def test_a_frame_key_with_nothing_selected_says_how_to_select_one() -> None:
    """Enter, d, c, o and y while following: the footer dims them and Textual runs no dimmed
    binding, so the key did nothing and said nothing. Each says how to select a frame; once one
    is selected the keys act and say nothing of the kind."""
    app = NoticeApp()
    notices = app.notices
    async with app.run_test(size=(120, 20)) as pilot:
        app.feed([connecting(), received("session.updated")])
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("enter", "d", "c", "o", "y")
        await pilot.pause()
        assert [notice.split(":")[0] for notice in notices] == [
            "Open",
            "Details",
            "Cause ↔ error",
            "Its transcript row",
            "Copy frame",
        ]
        assert all(notice.endswith("no frame is selected (↑ selects the newest)") for notice in notices)
        notices.clear()
        await pilot.press("up", "enter")  # selected: Enter opens the frame, no such notice
        await pilot.pause()
        assert not any("no frame is selected" in notice for notice in notices)


async def test_an_expanded_run_s_frames_count_their_time_from_the_run_s_frame_above() -> None:
    """A user's transcription deltas came while the reply's audio streamed, 20 ms apart, one audio
    delta between each two: counted from the frame before in the journal, the expanded run read
    `+10ms` for each, the spacing of two streams, not of its own."""
    app = LogApp()
    clock = Clock(step=0.01)
    frames = [connecting(clock), received("response.created", clock, response={"id": "resp_1"})]
    for word in ["turn", " on", " the", " lights"]:
        frames.append(
            received("response.output_audio.delta", clock, response_id="resp_1", item_id="item_a", delta=audio_b64(20))
        )
        frames.append(
            received("conversation.item.input_audio_transcription.delta", clock, item_id="item_u", delta=word)
        )
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed(frames)
        log.focus()
        await pilot.pause()
        lines = drawn(log)
        [run] = [n for n, line in enumerate(lines) if "transcription deltas ×4" in line]
        await pilot.press("up", *["up"] * (len(lines) - 1 - run), "right")
        await pilot.pause()
        members = [line for line in drawn(log) if "└" in line or "│" in line]
        members = [line for line in members if "transcription.delta" in line]
        assert len(members) == 4, drawn(log)
        assert "+10ms" in members[0]  # the first: from the audio delta just before it, as its run's line
        assert all("+20ms" in line for line in members[1:]), members


def test_audio_that_is_no_base64_is_summarized_as_what_it_is() -> None:
    """A data URL sent as an append read `[audio 19 B · 0 ms]`: its characters counted as audio the
    server refused (its error answered the append). It reads as what it is, quoted with its length;
    base64 and an export's size tags read as before, in an item's audio part too."""
    from tui.protocol.summary import summarize_event

    data_url = "data:audio/wav;base64,AAAA"
    summary = summarize_event({"type": "input_audio_buffer.append", "audio": data_url})
    assert summary == f"not base64 audio: '{data_url}' (26 chars)"
    url_safe = "ab-_" * 30
    assert summarize_event({"type": "input_audio_buffer.append", "audio": url_safe}).startswith("not base64 audio: '")
    assert summarize_event({"type": "input_audio_buffer.append", "audio": audio_b64(100)}) == "[audio 4.7 KB · 100 ms]"
    tag = "[audio 4.7 KB · 100 ms]"
    assert summarize_event({"type": "input_audio_buffer.append", "audio": tag}) == tag
    item = {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": data_url}]}
    assert "not base64 audio: 'data:audio/wav;base64,AAAA'" in summarize_event(
        {"type": "conversation.item.create", "item": item}
    )


async def test_c_and_o_are_dimmed_on_a_row_they_have_nowhere_to_go_from_and_say_why() -> None:
    """The footer showed `c Cause` and `o Row` on every selected row: pressed on session.created they
    only said there was nowhere to go. Dimmed there (a narrow footer drops them first), they still
    say why when pressed; on an error (a cause) and an item's frame (a row) they act."""
    app = NoticeApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        cancel = sent("response.cancel")
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        added = received("conversation.item.added", item={"id": "item_1", "type": "message", "role": "user"})
        app.feed([connecting(), received("session.created", session={"id": "sess_1"}), cancel, error, added])
        log.focus()
        await pilot.press("home", "down")  # session.created
        await pilot.pause()
        assert log.check_action("cause", ()) is None and log.check_action("transcript", ()) is None
        assert log.check_action("enter", ()) is True
        await pilot.press("c", "o")
        await pilot.pause()
        assert any("has no linked cause or error" in said for said in app.notices), app.notices
        assert any("names no conversation item" in said for said in app.notices), app.notices
        await pilot.press("down", "down")  # the error: a cause, no item
        await pilot.pause()
        assert log.check_action("cause", ()) is True and log.check_action("transcript", ()) is None
        await pilot.press("down")  # the item's frame
        await pilot.pause()
        assert log.check_action("transcript", ()) is True and log.check_action("cause", ()) is None


async def test_following_c_is_enabled_when_an_error_has_a_cause_and_goes_there() -> None:
    """Following, `c` goes from the newest error to its cause; the footer showed it dimmed, as if it
    could not act. With no linked frame at all it stays dimmed and says how to select one."""
    app = NoticeApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed([connecting(), received("session.created", session={"id": "sess_1"})])
        log.focus()
        await pilot.pause()
        assert log.tail and log.check_action("cause", ()) is None
        cancel = sent("response.cancel")
        error = received("error", error={"code": "response_cancel_not_active", "event_id": cancel.data["event_id"]})
        app.feed([cancel, error])
        await pilot.pause()
        assert log.tail and log.check_action("cause", ()) is True
        assert any(a.binding.action == "cause" and a.enabled for a in app.screen.active_bindings.values())
        await pilot.press("c")
        await pilot.pause()
        assert log.selected == 2  # the response.cancel (journal index 2)


async def test_an_error_row_s_link_gives_way_to_the_message_s_start() -> None:
    """At 100 columns `error invalid_value ← conversation.item.create #7` showed no message: the
    link's long spelling took its room. A shorter spelling leaves the message's start; where only
    the number would leave it, the cause's type comes first (`← #2` names a frame no row numbers,
    review 57a)."""
    app = LogApp()
    async with app.run_test(size=(64, 12)) as pilot:
        log = app.query_one(EventLog)
        create = sent("conversation.item.create", previous_item_id="nope")
        refusal = {"code": "invalid_value", "message": "Previous item with id 'nope' not found"}
        error = received("error", error={**refusal, "event_id": create.data["event_id"]})
        frames = [dataclasses.replace(env, seq=n) for n, env in enumerate([connecting(), create, error], 1)]
        app.feed(frames)
        await pilot.pause()
        for width in range(54, 66):
            await pilot.resize_terminal(width, 12)
            await pilot.pause()
            row = drawn(log)[2]
            # Whatever the width: the code whole and a link with the cause's type, the message's start
            # where there is room for it too.
            assert re.search(r"error invalid_value ← c\.\S+ #2( · Pr|$)", row.rstrip(" │▕▁▔")), (width, row)
        assert re.search(r"error invalid_value ← c\.\S+ #2 · Pr", row), row  # at 65 columns, room for all
