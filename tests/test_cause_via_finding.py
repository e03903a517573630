"""`c` on a frame with no linked cause or error goes to the frames a finding names with it: on a
dropped connection's row (1006) it said `has no linked cause or error`, though its finding named the
work in flight it cut (review 54b)."""

from __future__ import annotations

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import received, sent
from tests.lint_helpers import ga_created
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import local_envelope


def a_turn_the_connection_cut(app: RtApp) -> tuple[int, int]:
    """A committed turn awaiting its transcript, then a 1006 drop, into `app`: (the drop's index,
    the commit's answer's), the frames `connection-dropped` names."""
    drop = local_envelope("rt.connection", "connection dropped (code 1006)", state="closed", code=1006)
    app.ingest(
        [
            ga_created(transcription="gpt-4o-transcribe", vad=False),
            sent("input_audio_buffer.commit"),
            received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None),
            drop,
        ]
    )
    types = [app.journal.type_at(index) for index in range(len(app.journal))]
    return len(types) - 1, types.index("input_audio_buffer.committed")  # the drop came last


async def test_c_on_a_dropped_connection_goes_to_the_work_it_cut_and_back() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        dropped, committed = a_turn_the_connection_cut(app)
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: app.event_log.selected == dropped, 5, "the drop selected")
        assert app.event_log.check_action("cause", ()) is True  # not dimmed: it has somewhere to go
        await pilot.press("c")
        await wait_for(pilot, lambda: app.event_log.selected == committed, 5, "the work it cut")
        assert any("connection-dropped names it with" in message for _, message in notices(app)), notices(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: app.event_log.selected == dropped, 5, "back to the drop")


async def test_c_on_a_frame_no_finding_relates_still_says_it_has_nowhere_to_go() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        app.ingest([ga_created(vad=False), received("rate_limits.updated", rate_limits=[])])
        await pilot.pause()
        app.event_log.focus()
        await pilot.press("up", "c")
        await pilot.pause()
        assert any("has no linked cause or error" in message for _, message in notices(app)), notices(app)


async def test_c_with_nothing_selected_goes_from_the_newest_drop_to_the_work_it_cut() -> None:
    """`c` while following said `no frame is selected (↑ selects the newest)` with a ✖ 1006 row on
    screen and no error linked to a cause (review 54b)."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        _, committed = a_turn_the_connection_cut(app)
        await pilot.pause()
        app.event_log.focus()
        assert app.event_log.selected is None
        # Not dimmed in the footer either: it has somewhere to go.
        await wait_for(pilot, lambda: app.event_log.check_action("cause", ()) is True, 5, "c enabled")
        assert app.screen.active_bindings["c"].enabled
        await pilot.press("c")
        await wait_for(pilot, lambda: app.event_log.selected == committed, 5, "the work the drop cut")
