"""Notices a review of the running app found in the way: over the bars and the log, or saying what
was no longer so. Through the real app (no session: the log is fed as a session would feed it)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets._toast import Toast

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import connecting, received
from tui.app import RtApp
from tui.config import Settings
from tui.widgets import EventDetail


def offline_app() -> RtApp:
    return RtApp(Settings(playback=False), connect=False)


async def one_frame_in_the_focused_log(pilot: Pilot[None], app: RtApp) -> None:
    """A connection and one `session.updated` in the log, the log focused."""
    app.ingest_for_display([connecting(), received("session.updated", session={"id": "s"})])
    await pilot.pause()
    app.event_log.focus()


def toasts(app: RtApp) -> list[Toast]:
    return list(app.screen.query(Toast))


@pytest.mark.parametrize("size", [(100, 30), (160, 48)])
async def test_a_notice_keeps_off_the_log_and_its_bars(size: tuple[int, int]) -> None:
    """At the top right, a notice covered the find bar's `match 1 of 9 matching frames · n next`,
    the filter's counts and the match the find had just selected. Beside the log it sits over the
    transcript's oldest rows, no wider than the transcript."""
    app = offline_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        app.ingest_for_display([connecting(), *(received("session.updated", session={"id": "s"}) for _ in range(5))])
        await pilot.press("f", *"type:session.*", "enter")  # a filter in force keeps its bar open
        await pilot.press("slash", *"sess", "enter")
        await wait_for(pilot, lambda: app.find_bar.display and app.filter_bar.display, 5, "both bars")
        app.say("saved to /tmp/x", title="Save")
        app.say("response_cancel_not_active: Cancellation failed: no active response found", severity="error")
        await wait_for(pilot, lambda: len(toasts(app)) == 2, 5, "the notices")
        await pilot.pause()
        log_side = [app.filter_bar.region, app.find_bar.region, app.query_one("#log-pane").region]
        for toast in toasts(app):
            assert toast.region.y >= 1  # under the status line
            assert not any(toast.region.overlaps(region) for region in log_side), (toast.region, log_side)


async def test_no_frame_is_selected_goes_once_a_frame_is() -> None:
    """Enter with nothing selected said "Open: no frame is selected"; ↑ then Enter opened a frame,
    and the notice stayed over it for its seconds, saying what was no longer so."""
    app = offline_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await one_frame_in_the_focused_log(pilot, app)
        await pilot.press("enter", "c")
        await wait_for(pilot, lambda: any("Cause" in text for _, text in notices(app)), 5, "the second notice")
        # One notice, the latest: pressed twice, two alike stacked up.
        assert [text for _, text in notices(app) if "no frame is selected" in text] == [
            "Cause ↔ error: no frame is selected (↑ selects the newest)"
        ]
        await pilot.press("up")
        await wait_for(pilot, lambda: not any("no frame is selected" in t for _, t in notices(app)), 5, "gone")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")


async def test_f1_and_question_mark_show_the_keys_and_hide_them_again() -> None:
    """`?` and F1, the keys a new user tries first for help, did nothing: the Keys panel was only in
    the palette. A `?` typed into the message is the message's."""
    from textual.widgets import HelpPanel

    app = offline_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.event_log.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 5, "the Keys panel")
        await pilot.press("f1")
        await wait_for(pilot, lambda: not app.screen.query(HelpPanel), 5, "the Keys panel gone")
        await pilot.press("f1")
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 5, "the Keys panel again")
        await pilot.press("f1", "t", *"why?")
        await pilot.pause()
        assert app.query_one("#message", Input).value == "why?"
        assert not app.screen.query(HelpPanel)


async def test_over_the_palette_and_a_frame_s_detail_notices_keep_to_the_bottom() -> None:
    """At 80×24 notices sit at the top (the log is at the bottom there): over the palette they hid
    its search field, over a frame's detail its header and first lines, a copy's notice over what was
    just copied. Over any dialog they go to the bottom, above its footer."""
    from textual.command import CommandInput, CommandPalette

    app = offline_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await one_frame_in_the_focused_log(pilot, app)
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")
        app.say("copied 284 characters (OSC 52: your terminal must allow it)", title="Copy")
        await wait_for(pilot, lambda: len(toasts(app)) == 1, 5, "the notice over the detail")
        await pilot.pause()
        [toast] = toasts(app)
        assert toast.region.y >= 24 // 2, toast.region  # the detail's header and JSON start at the top
        assert toast.region.bottom <= 24 - 1, toast.region  # its footer stays in sight
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EventDetail), 5, "the detail closed")
        app.action_command_palette()
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), 5, "the palette")
        app.say("saved to /tmp/x", title="Save")
        await wait_for(pilot, lambda: len(toasts(app)) >= 1, 5, "the notice over the palette")
        await pilot.pause()
        field = app.screen.query_one(CommandInput).region
        for toast in toasts(app):
            assert not toast.region.overlaps(field), (toast.region, field)


@pytest.mark.parametrize("width", [100, 120, 160])
async def test_beside_the_keys_panel_the_log_keeps_most_of_the_room(width: int) -> None:
    """At 120 columns the Keys panel (a third of the screen) left the log ~50 cells at the panes'
    2:3: no time column, its types and summaries cut mid-word. From 140 columns the log keeps three
    quarters of the rest beside the panel; under that the panes stack, each as wide as the panel
    leaves (at 100 columns side by side left the transcript 14 cells, review 56b); hidden again,
    the panes share the screen as before."""
    from textual.widgets import HelpPanel

    app = offline_app()
    async with app.run_test(size=(width, 32)) as pilot:
        app.event_log.focus()
        await pilot.pause()
        log, transcript = app.query_one("#log-pane"), app.transcript
        before = (transcript.region.width, log.region.width)
        await pilot.press("f1")
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 5, "the Keys panel")
        await pilot.pause()
        if width >= 140:
            assert log.region.width >= 3 * transcript.region.width - 3, (transcript.region, log.region)
        else:
            assert transcript.region.width == log.region.width >= width // 2, (transcript.region, log.region)
            assert transcript.region.y < log.region.y  # stacked
        assert log.region.width >= 58, log.region
        await pilot.press("f1")
        await wait_for(pilot, lambda: not app.screen.query(HelpPanel), 5, "the Keys panel gone")
        await pilot.pause()
        assert (transcript.region.width, log.region.width) == before


async def test_a_notice_raised_before_a_dialog_opens_shows_once_and_comes_back_after() -> None:
    """At 80×24 a notice up when the export dialog opened showed twice: at the top through the
    dialog's backdrop (the screen under it) and at the bottom (the dialog's own). The covered
    screen's notices wait; they show there again when the dialog closes."""
    from textual.widgets._toast import ToastRack

    from tui.widgets.export_dialog import ExportDialog

    app = offline_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await one_frame_in_the_focused_log(pilot, app)
        main = app.screen
        app.say("copied 284 characters", title="Copy", timeout=30)
        await wait_for(pilot, lambda: len(toasts(app)) == 1, 5, "the notice")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
        await wait_for(pilot, lambda: len(toasts(app)) == 1, 5, "the notice over the dialog")
        assert not any(rack.display for rack in main.query(ToastRack))  # not also through the backdrop
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, 5, "the dialog closed")
        await wait_for(pilot, lambda: any(rack.display for rack in main.query(ToastRack)), 5, "the notices back")
        assert len(toasts(app)) == 1


def test_a_long_path_in_a_notice_breaks_after_a_slash_not_inside_a_name() -> None:
    from tui.app.base import fold_long_paths

    path = "/root/.local/share/rt-tui/sessions/20261206-081013-b67bff/frame-97-error.json"
    said = fold_long_paths(f"error #97 saved to {path}", 50)
    assert said == (
        "error #97 saved to /root/.local/share/rt-tui/sessions/\n20261206-081013-b67bff/frame-97-error.json"
    )
    assert said.replace("\n", "") == f"error #97 saved to {path}"  # nothing else changed
    assert fold_long_paths(f"saved to {path}", 120) == f"saved to {path}"  # it fits: as it is
    prose = "a sentence of short words\nover two lines"
    assert fold_long_paths(prose, 10) == prose  # no path: as it is


async def test_on_a_short_screen_one_information_notice_shows_at_a_time_and_errors_stay() -> None:
    """At 80x24 a server error's, a save's and a copy's notices stacked over the transcript and the
    top of the log, for seconds. An information notice now takes the last one's place there; a
    warning or an error stays. On a taller screen each keeps its own."""
    app = offline_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.say("response_cancel_not_active: no active response", severity="error", title="Server error")
        app.say("error #97 saved to /tmp/somewhere/frame-97-error.json", title="Save")
        app.say("copied 284 characters", title="Copy")
        await wait_for(pilot, lambda: len(toasts(app)) == 2, 5, "the notices")
        assert [toast._notification.title for toast in toasts(app)] == ["Server error", "Copy"]
        # The path is broken after a slash, to the toast's width, never inside a name.
        app.say("saved to " + "/tmp/" + "/".join(f"folder-number-{n}" for n in range(6)) + "/frame-97-error.json")
        await wait_for(pilot, lambda: "frame-97-error.json" in notices(app)[-1][1], 5, "the save")
        lines = notices(app)[-1][1].splitlines()
        assert lines[-1].endswith("frame-97-error.json") and all(line.endswith("/") for line in lines[1:-1]), lines
    app = offline_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.say("saved", title="Save")
        app.say("copied", title="Copy")
        await wait_for(pilot, lambda: len(toasts(app)) == 2, 5, "both notices")


async def test_a_notice_said_while_the_app_closes_is_dropped_not_raised() -> None:
    """A pump tick while the app closed (quitting the proxy) said a notice with no screen left, and
    Textual's ScreenStackError ended the app's exit in a traceback."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.say("still open") is not None
    assert not app._screen_stacks.get(app._current_mode)  # closed: no screen left
    assert app.say("after the close") is None
