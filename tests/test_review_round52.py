"""Round 52's review, in the real app against the real simulator: a find ended with Esc left every
run it opened expanded (54 lines of audio deltas a reply, each closed with ← by hand)."""

from __future__ import annotations

from tests.app_helpers import reply_done, typed_turn_done, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.widgets.event_log import EventLog


async def test_ending_a_find_closes_the_runs_it_opened_but_the_one_selected(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "kumquat one")
        await pilot.press("t", *"kumquat two", "enter", "escape")
        await wait_for(pilot, lambda: reply_done(app) and len(app.conversation.order) == 4, 30, "the second reply")
        await views_settled(pilot, app)
        log = app.query_one(EventLog)
        await pilot.press("slash", *"kumquat", "enter")
        await pilot.pause()
        opened = []
        for _ in range(40):  # through the matches until two runs are open (the replies' deltas)
            line = app.log_view.locate(log.selected or 0)
            assert line is not None
            if line.member >= 0 and line.row not in opened:
                opened.append(line.row)
            if len(opened) == 2:
                break
            await pilot.press("n")
            await pilot.pause()
        assert len(opened) == 2 and all(row.expanded for row in opened)
        selected = log.selected
        await pilot.press("escape")  # the bar's: back to the log
        await pilot.press("escape")  # the log's: ends the find
        await pilot.pause()
        assert log.finder is None
        first, last = opened
        assert not first.expanded, "the run the find left stays open"
        assert last.expanded and log.selected == selected  # the one the selection is on: still in view
        line = app.log_view.locate(selected or 0)
        assert line is not None and line.member >= 0
