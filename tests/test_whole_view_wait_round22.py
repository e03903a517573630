"""Keys that need a filter's whole view wait for it while it is built in slices, the screen live, and
the keys after them act in order once it is shown; the log's own keys act in the order they were
typed (review round 22: Home on a slow regex's first screen held the screen 3 s, and `↑ d` in one
burst refused `d` with "no frame is selected")."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import received, sent
from tests.test_log_selection_round20 import long_journal
from tests.test_message_input_round20 import terminal_burst
from tui.app import RtApp, log_controls
from tui.config import Settings
from tui.widgets import EventDetail, EventLog
from tui.widgets.export_dialog import ExportDialog

HOME, UP, DOWN = "\x1b[H", "\x1b[A", "\x1b[B"


def slices_of(monkeypatch: pytest.MonkeyPatch, frames: int) -> None:
    """A filter's whole view built `frames` at a time, one slice per loop turn (a slow regex over an
    hour, in small)."""
    monkeypatch.setattr(log_controls, "FILTER_SLICE_FRAMES", frames)
    monkeypatch.setattr(log_controls, "FILTER_SLICE_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def slow_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices_of(monkeypatch, 100)


def filtered_app() -> RtApp:
    """An app without a session, for a journal fed by hand."""
    return RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)


async def on_a_first_screen(pilot: Pilot[None], app: RtApp, query: str = "response.id:resp_*") -> EventLog:
    """60,000 frames, the log focused, and a JSON-path filter's first screen shown (the rest of its
    view built in slices); the log."""
    app.ingest(long_journal())
    await pilot.pause()
    app.event_log.focus()
    app.apply_filter(query)
    return app.event_log


def held_count_is(log: EventLog, count: int) -> bool:
    """The log holds `count` keys (each typed key held before the next is typed)."""
    return len(log._held_keys or ()) == count


async def test_home_then_down_wait_for_the_whole_view_and_act_in_order() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        log = await on_a_first_screen(pilot, app)  # a JSON path: its first screen, the rest in slices
        progress = app._building.progress if app._building is not None else 1.0
        terminal_burst(app, HOME + DOWN)
        await wait_for(pilot, lambda: log.holding_keys, 5, "Home to wait for the whole view")
        assert app._building is not None  # not built in one go: the slices go on
        assert "keys wait" in str(log.border_title)
        await wait_for(pilot, lambda: app._building is None or app._building.progress > progress, 5, "a slice")
        await wait_for(pilot, lambda: not log.keys_pending, 60, "the keys to act")
        await pilot.pause()
        whole = app.log_view
        assert whole.complete and whole.shown == 3000
        assert log.selected == whole.indices[1]  # Home, then ↓: the whole view's second match
        assert "keys wait" not in str(log.border_title)


async def test_a_frame_key_on_a_first_screen_frame_acts_at_once() -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await on_a_first_screen(pilot, app)
        terminal_burst(app, UP + "d")  # the newest match's details: the same frame in the whole view
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the details")
        assert app._building is not None  # it did not wait for the rest of the view
        journal = app.journal
        newest = next(
            i
            for i in range(len(journal) - 1, -1, -1)
            if str((journal.data(i).get("response") or {}).get("id", "")).startswith("resp_")
        )
        detail = app.screen
        assert isinstance(detail, EventDetail) and detail.indices == [newest], (detail, newest)


async def test_export_on_a_first_screen_waits_for_the_whole_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = filtered_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await on_a_first_screen(pilot, app)
        terminal_burst(app, "e")
        await wait_for(pilot, lambda: app.event_log.holding_keys, 5, "the export to wait")
        assert not isinstance(app.screen, ExportDialog) and app._building is not None
        dialog_ready = lambda: isinstance(app.screen, ExportDialog) and bool(app.screen.query("#path"))  # noqa: E731
        await wait_for(pilot, dialog_ready, 60, "the export dialog")
        assert app._building is None and app.log_view.shown == 3000
        # A large export says it is under way (it writes off the UI thread), then what it wrote.
        monkeypatch.setattr(log_controls, "EXPORT_SAYS_STARTED", 1000)
        target = tmp_path / "export.jsonl"
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("3,000 frames written" in text for _, text in notices(app)), 60, "the export")
        said = [text for _, text in notices(app)]
        assert any(text.startswith("exporting 3,000 frames to") for text in said), said


@pytest.mark.parametrize("keys", ["d", "\r", "y"])
async def test_up_then_a_frame_key_in_one_burst_acts_on_the_frame_up_selected(keys: str) -> None:
    app = filtered_app()
    async with app.run_test(size=(160, 48)) as pilot:
        app.ingest([sent("session.update"), received("session.updated"), sent("response.create")])
        await pilot.pause()
        app.event_log.focus()
        terminal_burst(app, UP + keys)
        last = next(i for i, frame in enumerate(app.journal) if frame.type == "response.create")  # the last row
        if keys == "y":
            await wait_for(pilot, lambda: notices(app), 5, "a notice")
            assert not any("no frame is selected" in text for _, text in notices(app)), notices(app)
            # The copy's file is named for the frame copied.
            assert any(f"frame-{app.journal[last].seq}-response.create" in text for _, text in notices(app))
            return
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail) or notices(app), 5, "details or a notice")
        detail = app.screen
        assert isinstance(detail, EventDetail), notices(app)
        assert detail.indices == [last], (detail.indices, last)


async def test_a_frame_key_with_nothing_selected_still_says_how_to_select() -> None:
    app = filtered_app()
    async with app.run_test(size=(160, 48)) as pilot:
        app.ingest([sent("session.update"), received("session.updated")])
        await pilot.pause()
        app.event_log.focus()
        terminal_burst(app, "d")
        await wait_for(pilot, lambda: notices(app), 5, "a notice")
        assert any("no frame is selected" in text for _, text in notices(app)), notices(app)
