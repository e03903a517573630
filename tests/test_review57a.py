"""Review 57a (the "done when" questions, keyboard only): "only this item's frames" took `o` in the
log, then `o` again in the transcript, and nothing said so; Esc after it left the selection on the
item's first frame; `↓` past the transcript's last row left `o Its frames` lit; a sent frame's link
to its error was cut behind an event id; an error's cause read `← #241`, a number no row shows;
`rate_limits.updated` read `…updated`; the palette's first match for "send" was the microphone's."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app_helpers import notices, views_settled
from tests.journal_helpers import cancel_refused, connecting
from tests.scripted import scripted_envelopes
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Journal, Links, Pipeline
from tui.widgets import EventLog, Transcript
from tui.widgets.log_format import _keep_the_link, abbreviate_type, frame_summary


def _app() -> RtApp:
    return RtApp(Settings(playback=False, capture=False), connect=False)


async def _scripted_log(pilot: Pilot[None], app: RtApp) -> EventLog:
    """The scripted turn taken in and shown; the event log, focused."""
    app.ingest(scripted_envelopes())
    await views_settled(pilot, app)
    app.event_log.focus()
    return app.event_log


def _last_reply_done(app: RtApp) -> int:
    """The journal index of the last `response.done`: a frame of the reply's item."""
    return max(frame.index for frame in app.journal.frames() if frame.type == "response.done")


async def test_i_in_the_log_shows_the_item_s_frames_as_o_o_does_and_esc_comes_back_to_the_frame() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        done = _last_reply_done(app)
        app.event_log.focus()
        assert app.event_log.select_frame(done)
        await pilot.press("o", "o")  # through the transcript: the way there was
        await views_settled(pilot, app)
        through_transcript, shown = app.filter_bar.user_text, app.log_view.shown
        assert through_transcript.startswith("for:") and app.event_log.selected != done
        await pilot.press("escape")
        await views_settled(pilot, app)
        assert not app.filter_bar.active
        assert app.event_log.selected == done, "Esc left the selection on the item's first frame"

        await pilot.press("i")  # one key, from the frame itself, which stays selected
        await views_settled(pilot, app)
        assert app.filter_bar.user_text == through_transcript and app.log_view.shown == shown
        assert app.focused is app.event_log and app.event_log.selected == done
        await pilot.press("escape")
        await views_settled(pilot, app)
        assert not app.filter_bar.active and app.event_log.selected == done


async def test_on_a_collapsed_run_i_and_esc_keep_the_run_s_line() -> None:
    """Esc after `i` on a run of deltas came back to the run opened, its first delta selected
    (review 57c): the line it was pressed on was the run's, collapsed."""
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        log = app.event_log
        run = next(row for row in app.log_view.rows if row.count > 1 and app.journal[row.members[0]].item_id)
        first = run.members[0]
        log.focus()
        assert log.select_frame(first, expand=False) and log.on_collapsed_run()
        for key in ("i", "escape"):
            await pilot.press(key)
            await views_settled(pilot, app)
            assert log.selected == first and log.on_collapsed_run(), key


async def test_the_bar_names_what_esc_goes_back_to() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        status = app.filter_bar.query_one(".query-bar--status")
        app.event_log.focus()
        assert app.event_log.select_frame(_last_reply_done(app))
        await pilot.press("i")
        await views_settled(pilot, app)
        assert "Esc in the log shows every frame again" in str(status.render())
        await pilot.press("escape")
        assert app.apply_filter("dir:in")
        await views_settled(pilot, app)
        assert app.event_log.select_frame(_last_reply_done(app))
        await pilot.press("i")
        await views_settled(pilot, app)
        assert "Esc in the log goes back to 'dir:in'" in str(status.render())


async def test_on_a_short_screen_the_item_s_frames_leave_the_bar_closed_and_say_the_way_back() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        app.event_log.focus()
        assert app.event_log.select_frame(_last_reply_done(app))
        await pilot.press("i")
        await views_settled(pilot, app)
        assert app.filter_bar.active.startswith("for:") and not app.filter_bar.display
        said = [message for _, message in notices(app)]
        assert any("frames: Esc in the log shows every frame again" in message for message in said), said
        await pilot.press("escape")
        await views_settled(pilot, app)
        assert not app.filter_bar.active
        assert not any("Esc in the log shows every frame" in message for _, message in notices(app))


async def test_past_the_last_transcript_row_the_row_keys_dim_and_still_say_how_to_select() -> None:
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        transcript = app.query_one(Transcript)
        transcript.focus()
        await pilot.press("up")
        await pilot.pause()
        assert transcript.selected is not None
        assert app.screen.active_bindings["o"].enabled and app.screen.active_bindings["y"].enabled
        await pilot.press("down")  # past the last row: following the end again
        await pilot.pause()
        assert transcript.selected is None
        assert not app.screen.active_bindings["o"].enabled and not app.screen.active_bindings["y"].enabled
        await pilot.press("o")
        await pilot.pause()
        assert any("Select a row first" in message for _, message in notices(app)), notices(app)
        assert not app.filter_bar.active


def _linked_journal() -> tuple[Journal, Links, int, int]:
    """A journal holding a `response.cancel` we sent and the error it drew: (journal, links, the
    cancel's index, the error's)."""
    pipeline = Pipeline(Journal())
    links = Links(pipeline.journal)
    pipeline.add(links)
    cancel, error = cancel_refused()
    pipeline.ingest([connecting(), cancel, error])
    return pipeline.journal, links, 1, 2


def test_a_sent_frame_s_link_to_its_error_leads_its_summary() -> None:
    journal, links, cancel, _ = _linked_journal()
    summary = frame_summary(journal, links, journal[cancel])
    assert summary.startswith("→ error · "), summary


def test_an_error_keeps_its_cause_s_type_before_its_message() -> None:
    journal, links, _, error = _linked_journal()
    summary = frame_summary(journal, links, journal[error])
    assert "← response.cancel #" in summary
    cause = journal[1].seq
    # Room for the code and the cause's short type, not for the message's start too: the type (it
    # was `← #N` and the message's start, the cause's kind unread).
    typed = len(f"response_cancel_not_active ← r.cancel #{cause}")
    for room in (typed, typed + 4, typed + 7):
        cut = _keep_the_link(journal, links, error, summary, room)
        assert cut.startswith("response_cancel_not_active ← r") and cut.endswith(f".cancel #{cause}"), (room, cut)
    # Too narrow for the type beside the whole code: the number, the code whole.
    cut = _keep_the_link(journal, links, error, summary, typed - 1)
    assert cut.startswith(f"response_cancel_not_active ← #{cause}"), cut


def test_rate_limits_updated_is_never_cut_to_a_tail_another_type_shares() -> None:
    for width in range(11, 16):
        label = abbreviate_type("rate_limits.updated", width)
        assert label == "r_l.updated", (width, label)


async def test_with_no_microphone_the_palette_s_talk_does_not_match_send() -> None:
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.voice.mic_problem = "no input device (PortAudio sees none)"
        app.refresh_bindings()
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "recorder: talk (no microphone)" in titles and "recorder: talk / send" not in titles, titles


async def test_the_log_s_corner_names_the_selected_frame_s_number() -> None:
    """An error's `← #241` named a frame by a number no row showed (review 57a): the log's corner
    says the selected frame's, and a collapsed run's first and last."""
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(scripted_envelopes())
        await views_settled(pilot, app)
        log = app.event_log
        done = _last_reply_done(app)
        assert log.select_frame(done)
        await pilot.pause()
        assert f"frames · #{app.journal[done].seq} · paused" in str(log.border_subtitle), log.border_subtitle
        run = next(row for row in app.log_view.rows if row.count > 1)
        assert log.select_frame(run.members[0], expand=False)
        await pilot.pause()
        seqs = f"#{app.journal[run.members[0]].seq}–#{app.journal[run.members[-1]].seq}"
        assert f"frames · {seqs} · paused" in str(log.border_subtitle), log.border_subtitle
        log.action_tail()
        await pilot.pause()
        assert "#" not in str(log.border_subtitle), log.border_subtitle


async def test_the_corner_s_number_costs_a_move_no_more_than_its_two_lines() -> None:
    """The corner changes with every move now: in the app's bordered pane only its border line is
    drawn again (`set_border_subtitle`), not the pane's lines: a held arrow key under a stream still
    redraws two lines a step."""
    from tests.test_event_log import record_calls

    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await _scripted_log(pilot, app)
        await pilot.press("up")  # leaves following: the title changes, the pane repaints
        await pilot.pause()
        painted = record_calls(log, "render_line")
        before = str(log.border_subtitle)
        await pilot.press("up", "up")
        await pilot.pause()
        assert str(log.border_subtitle) != before
        assert 0 < len(painted) <= 4, painted


async def test_a_filter_of_the_user_s_own_ends_where_o_was_and_a_jump_keeps_its_selection() -> None:
    """Esc once went back to where `i` had been pressed after the user had typed a filter of their own
    since, and a jump's lifted filter (no `o` in it) sent the selection to the end (review 57d)."""
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await _scripted_log(pilot, app)
        done = _last_reply_done(app)
        assert log.select_frame(done)
        await pilot.press("i")
        await views_settled(pilot, app)
        assert app.apply_filter("dir:in")  # the user's own: `i`'s way back ends
        await views_settled(pilot, app)
        assert app._frames_from is None
        error = max(frame.index for frame in app.journal.frames() if frame.type == "error")
        assert log.select_frame(error)
        await pilot.press("c")  # to the cause we sent, which dir:in hides: the filter is lifted
        await views_settled(pilot, app)
        assert not app.filter_bar.active
        assert log.select_frame(error)
        await pilot.press("escape")  # dir:in back, the selection kept (it was sent to the end)
        await views_settled(pilot, app)
        assert app.filter_bar.user_text == "dir:in" and log.selected == error and not log.tail
