"""What a review of the debugger found in session 51, each through the real app on the real
simulator: `c` with nothing selected starts from the newest error, not a barge-in's cancel; `c` on a
log a clear emptied says where the error went."""

from __future__ import annotations

from typing import Any

from tests.app_helpers import cancel_refused, notices, session_ready, views_settled, wait_for
from tests.test_ux_round32 import live_app
from tui.widgets import EventLog


async def test_c_following_goes_to_the_newest_error_not_to_a_later_barge_in(simulator_url: str) -> None:
    app = live_app(simulator_url)
    async with app.run_test(size=(120, 36)) as pilot:
        refused, _error = await cancel_refused(pilot, app)
        assert app.session is not None
        # A reply cancelled by the client as it begins: a `response.done` cancelled
        # (client_cancelled), linked to this second `response.cancel`, newer than the error.
        app.session.send(
            {"type": "response.create", "response": {"instructions": "Tell a long story about a lighthouse keeper."}}
        )
        await wait_for(pilot, lambda: any(f.type == "response.created" for f in app.journal), 10, "the reply")
        app.session.send({"type": "response.cancel"})
        await wait_for(pilot, lambda: any(f.type == "response.done" for f in app.journal), 10, "its end")
        await views_settled(pilot, app)
        done = next(f for f in app.journal if f.type == "response.done")
        assert app.journal.data(done.index)["response"]["status_details"]["reason"] == "client_cancelled"
        links = app.model.links
        assert done.index in links.cause_of  # the barge-in is linked too: the newer of the two
        log = app.query_one(EventLog)
        log.focus()
        await pilot.pause()
        assert log.selected is None
        await pilot.press("c")
        await wait_for(pilot, lambda: log.selected is not None, 10, "a jump")
        assert log.selected == refused, app.journal[log.selected or 0].type


async def test_c_after_a_clear_says_where_the_error_went(simulator_url: str) -> None:
    app = live_app(simulator_url)
    async with app.run_test(size=(120, 36)) as pilot:
        _cancel, error = await cancel_refused(pilot, app)
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: not log.view.rows, 5, "the log cleared")
        await pilot.press("c")
        said = f"frame #{app.journal[error].seq} is from before the clear"
        await wait_for(pilot, lambda: any(said in text for _, text in notices(app)), 5, "where the error went")
        assert log.selected is None
        # Frames came since the clear: `c` said "no frame is selected" then.
        app.clear_notifications()
        assert app.session is not None
        app.session.send({"type": "input_audio_buffer.clear"})
        await wait_for(pilot, lambda: bool(log.view.rows), 10, "a frame after the clear")
        await views_settled(pilot, app)
        await pilot.press("c")
        await wait_for(pilot, lambda: any(said in text for _, text in notices(app)), 5, "where the error went, again")
        assert not any("no frame is selected" in text for _, text in notices(app)), notices(app)


def test_a_field_with_two_letters_swapped_is_named_as_the_shortcut_meant() -> None:
    from tui.journal import Journal
    from tui.journal.query import Query

    journal = Journal()
    assert Query("dri:in", journal).suggestion == "dri: is read as a field of the frames; did you mean dir:?"
    assert Query("tpye:error", journal).suggestion == "tpye: is read as a field of the frames; did you mean type:?"
    assert Query("dir:in", journal).suggestion is None
    # Two neighbouring letters swapped, not any word of the same letters: `time` is no misspelt `item`.
    assert Query("time:x", journal).suggestion is None and Query("rid:x", journal).suggestion is None


def test_a_type_written_as_a_choice_says_how_to_write_either() -> None:
    """`type:(response.done|error)` matched nothing, silently: no type's name holds a `|`."""
    from tui.journal import Journal
    from tui.journal.query import Query

    said = Query("type:(response.done|error)", Journal()).suggestion
    assert said == "type:(response.done|error) is one name, '|' and all; for either: type:response.done | type:error"


def reply_with_limits_inside() -> list[Any]:
    """A reply's deltas with `rate_limits.updated` among them, then the audio's end."""
    from tests.journal_helpers import Clock, audio_b64, received

    clock = Clock(0.02)
    ids = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}
    return [
        received("response.output_audio.delta", clock, delta=audio_b64(20), **ids),
        received("response.output_audio_transcript.delta", clock, delta="Hello", **ids),
        received("rate_limits.updated", clock, rate_limits=[]),
        received("response.output_audio.delta", clock, delta=audio_b64(20), **ids),
        received("response.output_audio.done", clock, **ids),
    ]


async def test_the_log_pane_draws_in_run_where_a_frame_came_inside_a_run() -> None:
    from tui.app import RtApp
    from tui.config import Settings
    from tui.widgets.log_format import IN_RUN

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 36)) as pilot:
        app.ingest_for_display(reply_with_limits_inside())
        await pilot.pause()
        log = app.query_one(EventLog)
        drawn = [log.render_line(y).text for y in range(log.size.height)]
        [limits] = [line for line in drawn if "rate_limits.updated" in line]
        [done] = [line for line in drawn if "output_audio.done" in line]
        assert IN_RUN in limits and IN_RUN not in done, drawn


def test_a_frame_that_came_while_a_run_streamed_says_so_in_its_delta_column() -> None:
    """`rate_limits.updated` (or a local fact) in the middle of a reply's deltas is shown after the
    run's row: expanded, the run's last times came before it on screen and read as time going back,
    and its Δt was counted from a frame hidden in the run. Its Δt column says `in run`; the row after
    the run, which came after all of it, keeps its Δt."""
    from tui.journal import Journal, LogView
    from tui.model import KEEP_EVERY_PAYLOAD
    from tui.widgets.log_format import IN_RUN, Columns, render_line

    frames = reply_with_limits_inside()
    journal = Journal(KEEP_EVERY_PAYLOAD)
    for env in frames:
        journal.append_index(env)
    view = LogView(journal)
    view.catch_up()
    run, limits, done = view.rows
    assert run.count == 3 and journal[limits.first].type == "rate_limits.updated"
    assert [view.arrived_in_run(row) for row in view.rows] == [False, True, False]
    columns = Columns.fit(120)

    def shown(row_index: int) -> str:
        row = view.rows[row_index]
        line = view.line(row_index)
        assert line is not None
        previous_index = view.previous_of_line(line)
        previous = journal[previous_index] if previous_index is not None else None
        return render_line(view, row, -1, columns, previous, in_run=view.arrived_in_run(row)).plain

    assert IN_RUN in shown(1) and IN_RUN not in shown(2) and "+20ms" in shown(2)


async def test_at_80x24_an_error_and_its_finding_make_one_toast(simulator_url: str) -> None:
    """An empty commit raises a server error's toast and a finding's (commit-too-short): at 80x24 the
    second stacked under the first as "More findings", and the two covered most of the log's rows
    (the error's row under them). The second is counted in the first's title; at 120x32 it stays a
    toast of its own."""
    for size, merged in (((80, 24), True), ((120, 32), False)):
        app = live_app(simulator_url)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")  # noqa: B023
            assert app.session is not None
            app.session.send({"type": "input_audio_buffer.commit"})  # nothing appended: refused
            linter = app.model.linter
            assert linter is not None
            expected = ["Server error · +1 finding: ! lists them"] if merged else ["Server error", "More findings"]
            await wait_for(
                pilot,
                lambda: [title for title, _ in notices(app)] == expected,  # noqa: B023
                10,
                f"the toasts {expected} at {size}: {notices(app)} {linter.findings}",
            )


async def test_beside_the_keys_panel_at_80_columns_the_filter_names_every_family() -> None:
    """F1 in the filter bar opens the Keys panel beside it: the families line, 40 cells wide, was cut
    after `transcr` (resp, error, local and unknown gone). Short labels fit; a click still toggles."""
    from tui.app import RtApp
    from tui.config import Settings
    from tui.journal import Family
    from tui.widgets.query_bar import FamilyToggles

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        toggles = app.filter_bar.query_one(FamilyToggles)
        await wait_for(pilot, lambda: toggles.region.width > 0, 5, "the filter bar")
        wide = "".join(segment.text for segment in toggles.render_line(0))
        assert "families: session input conv transcr resp error local unknown" in wide, wide
        await pilot.press("f1")
        await wait_for(pilot, lambda: toggles.region.width < 60, 5, "the Keys panel beside the bar")
        await pilot.pause()
        narrow = "".join(segment.text for segment in toggles.render_line(0)).strip()
        assert narrow == "sess in conv tr resp err loc unk", (narrow, toggles.region.width)
        # `err` is the sixth label: a click on it hides the error family.
        await pilot.click(FamilyToggles, offset=(1 + narrow.index("err") + 1, 0))
        await wait_for(pilot, lambda: Family.ERROR in app.filter_bar.hidden_families, 5, "error hidden")


def test_a_conversation_handler_s_failure_is_journaled_on_the_headless_path(monkeypatch: Any) -> None:
    """The reducer kept a failing handler's message for the app to report, and only the app did: `lint`,
    `replay --json`, `proxy --json` and `send` (which build the same model) never said it. The
    pipeline journals it as an `rt.client_error` on every path, after the batch."""
    from tests.journal_helpers import received
    from tui.conversation import reducer
    from tui.model import new_model

    def broken(self: object, data: object, mono: float) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setitem(reducer._HANDLERS, "response.done", broken)
    model = new_model("headless")
    model.ingest([received("response.done", response={"id": "resp_1", "status": "completed", "output": []})])
    errors = [model.journal.data(i)["message"] for i, f in enumerate(model.journal) if f.type == "rt.client_error"]
    assert len(errors) == 1 and "response.done" in errors[0] and "a bug in a handler" in errors[0], errors


def test_lint_and_send_say_a_frame_their_model_could_not_take(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    """The pipeline journals a projection's failure as `rt.client_error` after the batch: `lint` says
    it on stderr and counts and numbers only the recording's frames (the fault's own number read
    `numbered #223–#1`); `send`'s report of odd frames names it."""
    import io
    import json as json_module

    from tui.conversation import reducer
    from tui.replay_cmd import lint
    from tui.send import OddFrames

    def broken(self: object, data: object, mono: float) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setitem(reducer._HANDLERS, "response.done", broken)
    capture = tmp_path / "frames.jsonl"
    lines = []
    for seq, (etype, extra) in enumerate(
        [
            ("session.created", {"session": {"id": "s"}}),
            ("response.done", {"response": {"id": "r", "status": "completed"}}),
        ],
        start=223,
    ):
        frame = json_module.dumps({"type": etype, **extra})
        lines.append(
            f'{{"seq": {seq}, "dir": "in", "t": 0.{seq}, "wall": 1760000000.{seq}, "type": "{etype}", '
            f'"size": {len(frame)}, "frame": {frame}}}'
        )
    capture.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    lint(str(capture), out=out)
    err = capsys.readouterr().err
    assert "a frame rt-tui's model could not take" in err and "a bug in a handler" in err, err
    assert "2 frames (capture, numbered #223–#224)" in out.getvalue(), out.getvalue()

    odd = OddFrames()
    odd.fault("frame #9 (response.done) not taken by Conversation: RuntimeError: a bug in a handler")
    assert odd.lines() == [
        "1 frame not taken by rt-tui's own model, a bug of rt-tui's "
        "(frame #9 (response.done) not taken by Conversation: RuntimeError: a bug in a handler)"
    ]
