"""What a review of the debugger found in session 51, each through the real app on the real
simulator: `c` with nothing selected starts from the newest error, not a barge-in's cancel; `c` on a
log a clear emptied says where the error went."""

from __future__ import annotations

from tests.app_helpers import cancel_refused, notices, views_settled, wait_for
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


def test_a_field_with_two_letters_swapped_is_named_as_the_shortcut_meant() -> None:
    from tui.journal import Journal
    from tui.journal.query import Query

    journal = Journal()
    assert Query("dri:in", journal).suggestion == "dri: is read as a field of the frames; did you mean dir:?"
    assert Query("tpye:error", journal).suggestion == "tpye: is read as a field of the frames; did you mean type:?"
    assert Query("dir:in", journal).suggestion is None


def test_a_type_written_as_a_choice_says_how_to_write_either() -> None:
    """`type:(response.done|error)` matched nothing, silently: no type's name holds a `|`."""
    from tui.journal import Journal
    from tui.journal.query import Query

    said = Query("type:(response.done|error)", Journal()).suggestion
    assert said == "type:(response.done|error) is one name, '|' and all; for either: type:response.done | type:error"
