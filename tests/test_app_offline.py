"""The app without a server: screenshots, the recorder's notes, the palette's commands."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Input

from tests.app_helpers import notices, unfolded, wait_for
from tui.app import RtApp
from tui.app.commands import PALETTE
from tui.config import Settings
from tui.protocol import local_envelope
from tui.session import FRAMES
from tui.widgets import Recorder


async def test_the_screenshot_goes_to_the_data_folder_without_a_downloads_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_save_screenshot()
        await pilot.pause()
        saved = list(Path(os.environ["RT_TUI_DATA_DIR"]).glob("saved/*.svg"))
        assert len(saved) == 1 and saved[0].read_text().startswith("<svg")
        assert any(str(saved[0]) in message for _, message in notices(app))
        assert stat.S_IMODE(saved[0].stat().st_mode) == 0o600  # private, as every file rt-tui writes


async def test_a_data_folder_that_cannot_be_made_fails_a_screenshot_and_an_export_not_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RT_TUI_DATA_DIR naming a file (as a full disk or a read-only home would): the screenshot says
    why it was not saved, the export asks for a path elsewhere, and the app keeps running."""
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(not_a_folder))
    monkeypatch.chdir(tmp_path)
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.action_save_screenshot()
        await pilot.pause()
        assert any("screenshot not saved" in message for _, message in notices(app)), notices(app)
        app.bus.publish(FRAMES, local_envelope("rt.note", "a frame to export"))
        await wait_for(pilot, lambda: bool(app.log_view.shown), 5, "the frame in the log")
        await app.action_export()
        await pilot.pause()
        assert any("choose where the export goes" in message for _, message in notices(app)), notices(app)
        assert app.is_running


async def test_switching_modes_clears_the_last_turns_note() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder = app.query_one(Recorder)
        recorder.message = "sent 4.2 s"
        recorder.mode = "hands-free"
        await pilot.pause()
        assert recorder.message == "" and "sent 4.2 s" not in str(recorder.render())


async def test_every_palette_command_names_a_real_action() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        # A frame in the log: the log's frame actions leave the palette while it shows none.
        app.bus.publish(FRAMES, local_envelope("rt.note", "a frame to act on"))
        await wait_for(pilot, lambda: bool(app.log_view.shown), 5, "the frame in the log")
        app.event_log.focus()
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title, _, target in PALETTE:
            assert callable(app._resolve(target)), target
            # Sending an event needs a session (none here: connect=False); offered once one is open,
            # as tests/test_ux_round32.py holds.
            assert (title in titles) is (title != "session: send an event"), title
        # One way to enlarge a pane: the zoom, which keeps the status line and the footer (Textual's
        # Maximize, beside it, hid them with no word of how to get them back).
        assert "view: zoom pane" in titles and "Maximize" not in titles
        bound = {binding.action.split("(")[0] for binding in RtApp.BINDINGS if isinstance(binding, Binding)}
        palette_actions = {target.rsplit(".", 1)[-1].removeprefix("action_") for _, _, target in PALETTE}
        # Every app key is in the palette too (quit and leave-input are Textual's own or trivial; the
        # replay and proxy keys join the palette in those modes).
        assert bound - palette_actions <= {
            "quit",
            "leave_input",
            "replay_pause",
            "replay_resume",
            "replay_speed",
            "replay_at_once",
            "replay_restart",
            "switch_session",
            "talk_send",  # space's other names for `talk`, which the palette has
            "talk_listen",
            "talk_stop_listening",
            "hands_free_off",  # v's name while hands-free is on (the palette's toggle)
            "unzoom",  # z's name while zoomed (the palette's zoom toggles)
            "toggle_keys",  # F1 and ?: the palette's "Keys" (Textual's own, shows or hides the panel)
        }
        assert "Keys" in titles
        # Textual's own commands name the app's keys for them, as the app's commands do.
        helps = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert helps["Keys"].endswith("(F1, ?)") and helps["Quit"].endswith("(q)"), helps


async def test_the_footer_follows_the_focus_by_repainting_one_line_and_a_click_presses_its_key() -> None:
    """The footer is one widget: opening the filter bar changes its keys without mounting anything,
    and clicking a key does what pressing it does."""
    from textual.widgets import Input

    from tui.widgets.key_footer import KeyFooter
    from tui.widgets.query_bar import FilterBar

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        footer = app.query_one(KeyFooter)
        widgets_before = len(list(app.screen.walk_children()))
        log_keys = str(footer.render())
        assert "Filter" in log_keys and "Quit" in log_keys and "palette" in log_keys
        assert "Hands-free" in app.export_screenshot()  # on screen, not only in a render
        [filter_key] = [key for key in footer.keys if key.key == "f"]
        await pilot.click(KeyFooter, offset=(filter_key.start, 0))
        await pilot.pause()
        assert app.query_one(FilterBar).display and isinstance(app.focused, Input)
        assert str(footer.render()) != log_keys  # the bar's keys now
        assert "Hands-free" not in app.export_screenshot()  # repainted on the focus change
        assert not footer.children and len(list(app.screen.walk_children())) == widgets_before
        await pilot.press("escape")
        await pilot.pause()
        assert str(footer.render()) == log_keys and "Hands-free" in app.export_screenshot()


async def test_a_narrow_footer_cuts_the_keys_and_keeps_the_palette_key_at_the_right() -> None:
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(50, 24)) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        drawn = str(footer.render())
        assert len(drawn) == 50 and drawn.endswith("▏^p palette")
        assert all(key.end <= 50 - len("▏^p palette") for key in footer.keys[:-1])
        palette = footer.keys[-1]
        assert palette.key == "ctrl+p" and drawn[palette.start : palette.end] == "^p palette"


async def test_a_key_press_holds_the_streaming_repaint_back() -> None:
    """Keys first: with nothing waiting to be shown, a key holds the views' next repaint back by
    KEY_FIRST, so the key's own screen update comes alone."""
    import time

    from tui.app.app import KEY_FIRST

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app._views_stale, app._views_due = False, 0.0
        before = time.monotonic()
        await pilot.press("down")
        assert before + KEY_FIRST <= app._views_due <= time.monotonic() + KEY_FIRST


def test_fast_keys_never_hold_the_views_past_the_floor() -> None:
    """However fast keys come, views that have been behind for VIEWS_MAX_INTERVAL repaint at once."""
    from tui.app.app import KEY_FIRST, VIEWS_MAX_INTERVAL, views_due_after_key

    now = 100.0
    idle = views_due_after_key(now, 0.0, stale=False, views_at=10.0, stale_since=10.0)
    assert idle == now + KEY_FIRST  # nothing waiting: the full hold
    long_behind = views_due_after_key(now, 0.0, stale=True, views_at=10.0, stale_since=10.0)
    assert long_behind == 10.0 + VIEWS_MAX_INTERVAL < now  # due already: the next pump repaints
    just_behind = views_due_after_key(now, 0.0, stale=True, views_at=10.0, stale_since=now - 0.15)
    assert just_behind == now - 0.15 + VIEWS_MAX_INTERVAL  # held, up to the floor
    repainted = views_due_after_key(now, 0.0, stale=True, views_at=now - 0.01, stale_since=now - 5)
    assert repainted == now + KEY_FIRST  # the last repaint was just now: the full hold
    assert views_due_after_key(now, now + 1, stale=False, views_at=0.0, stale_since=0.0) == now + 1


async def test_a_filter_still_being_built_for_another_sessions_journal_is_dropped() -> None:
    """Switching the session shown (the proxy's `<` `>`) while a filter's full view is still built
    slice by slice must not install that view, of the old journal, in the new session's log."""
    from tui.journal import Journal, LogView

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(100, 30)):
        shown = app.model.log_view
        stale = LogView(Journal())
        app._building = stale
        app._build_slice(stale)
        assert app.model.log_view is shown and app._building is None


async def test_the_panes_stack_below_100_columns_and_go_back_side_by_side_on_every_resize() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(160, 40)) as pilot:

        def side_by_side() -> bool:
            transcript, log = app.transcript.region, app.event_log.region
            return transcript.y == log.y and transcript.right <= log.x

        await pilot.pause()
        assert side_by_side()
        for width, height, expected in ((80, 24, False), (140, 40, True), (99, 30, False), (100, 30, True)):
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            await pilot.pause()
            assert side_by_side() is expected, f"at {width}×{height}"


async def test_a_view_over_the_screen_shows_its_own_keys_in_the_footer() -> None:
    """The detail view, the findings and the export dialog each name their keys at the foot of the
    screen; the keys of the screen under them (Talk, Filter) are not offered there."""
    from tui.protocol import local_envelope
    from tui.session import FRAMES
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        app.bus.publish(FRAMES, local_envelope("rt.connection", "a fact to look at", state="idle"))
        app._pump()
        await pilot.pause()
        for key, expected in (("enter", "Copy"), ("exclamation_mark", "Close"), ("e", "Cancel")):
            if key == "enter":
                await pilot.press("up")
            await pilot.press(key)
            await pilot.pause()
            shown = str(app.screen.query_one(KeyFooter).render())
            assert expected in shown and "Talk" not in shown and "Filter" not in shown, (key, shown)
            await pilot.press("escape")
            await pilot.pause()
        assert "Talk" in str(app.screen.query_one(KeyFooter).render())


async def test_a_burst_of_like_notices_is_one_notice_that_counts_them() -> None:
    """Twenty malformed frames in a tick are one toast (the newest words, and how many), not twenty
    stacked over the event log; a notice of another title or severity keeps its own toast, and so
    does every information notice on a screen of 30 rows or more (on a shorter one the newest takes
    the last one's place: tests/test_review45_notices.py)."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for number in range(20):
            app.say(f"malformed frame {number}", title="Malformed frame", severity="warning")
        app.say("capture failed", title="Capture", severity="error")
        await pilot.pause()
        app.say("saved to /tmp/a.md", title="Save")
        app.say("saved to /tmp/a.json", title="Save")
        await pilot.pause()
        assert notices(app) == [
            # Twenty different words: the title says the toast shows the latest of them.
            ("Malformed frame ×20 (the latest)", "malformed frame 19"),
            ("Capture", "capture failed"),
            ("Save", "saved to /tmp/a.md"),  # information: each keeps its own (two files, two paths)
            ("Save", "saved to /tmp/a.json"),
        ]
        app.clear_notifications()
        app.say("malformed frame again", title="Malformed frame", severity="warning")
        assert notices(app) == [("Malformed frame", "malformed frame again")]  # a fresh count
        app.say("malformed frame again", title="Malformed frame", severity="warning")
        await pilot.pause()
        # The same words each time: one error, counted.
        assert notices(app) == [("Malformed frame ×2", "malformed frame again")]
        # Said without a title (a failed save on a full disk, twice): counted under its severity.
        app.clear_notifications()
        for _ in range(2):
            app.say("could not save conversation.md: No space left on device", severity="error")
        await pilot.pause()
        assert notices(app) == [("Error ×2", "could not save conversation.md: No space left on device")]


async def test_a_cleared_log_can_be_brought_back_from_the_palette() -> None:
    from tui.protocol import local_envelope
    from tui.session import FRAMES

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        for number in range(3):
            app.bus.publish(FRAMES, local_envelope("rt.connection", f"fact {number}", state="idle"))
        app._pump()
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.log_view.shown == 0 and "since clear" in str(app.event_log.border_subtitle)
        app.unclear_log()
        await pilot.pause()
        assert app.log_view.shown == 3 and "since clear" not in str(app.event_log.border_subtitle)
        assert ("Log", "3 frames from before the clear shown again") in notices(app)
        app.unclear_log()
        assert any("nothing was cleared" in text for _, text in notices(app))


async def test_a_focused_input_s_footer_offers_no_key_it_would_type() -> None:
    """In the message box / types a slash: the footer must not offer it as Find (nor q as Quit)."""
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        footer = app.query_one(KeyFooter)
        assert "Find" in str(footer.render())
        await pilot.press("t")
        await pilot.pause()
        typing = str(footer.render())
        assert "Find" not in typing and "q Quit" not in typing.replace("^q Quit", "")
        await pilot.press("slash")
        assert app.query_one("#message", Input).value == "/"


async def test_z_zooms_the_focused_pane_and_back() -> None:
    """z gives the focused pane the whole screen: the log with its bars, or the transcript."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.focused is app.event_log
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#log-pane")
        # The whole screen, its right border on it: not wider (its side-by-side 3fr once made it so).
        assert app.event_log.region.width == app.screen.region.width and app.transcript.region.width == 0
        # The status line, the recorder and the footer stay (the zoom hid them, and with the footer
        # the key back), and the footer names z's way back.
        for kept in ("#status", "#recorder", "KeyFooter"):
            assert app.query_one(kept).region.height >= 1, kept
        assert app.query_one("#status").region.y == 0  # at the top, where it always is (not under the pane)
        assert "z Both panes" in str(app.query_one("KeyFooter").render())
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None and app.transcript.region.width > 0
        assert "Both panes" not in str(app.query_one("KeyFooter").render())
        app.transcript.focus()
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.transcript and app.transcript.region.width == app.screen.region.width
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.maximized is None  # Esc leaves the zoom too


@pytest.mark.parametrize(("width", "pane_keys_shown"), [(160, True), (80, False)])
async def test_the_pane_s_keys_give_way_before_the_global_ones(width: int, pane_keys_shown: bool) -> None:
    from tests.journal_helpers import received
    from tui.widgets.key_footer import KeyFooter

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(width, 30)) as pilot:
        app.ingest_for_display([received("session.created", session={"id": "sess_1"})])  # a frame for c to act on
        await pilot.pause()
        shown = str(app.query_one(KeyFooter).render())
        assert "q Quit" in shown and "palette" in shown
        assert ("Cause ↔ error" in shown) is pane_keys_shown
        assert "⏎ Op" not in shown.replace("⏎ Open", "")  # a key is shown whole or not at all


async def test_with_transcription_off_the_empty_transcript_does_not_promise_transcripts() -> None:
    app = RtApp(Settings(playback=False, capture=False, transcription_model=None), connect=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        hint = " ".join(app.transcript.hint)
        assert "transcription is off" in hint and "fill in when the transcription lands" not in hint


def test_a_findings_toast_shows_its_first_sentence_and_says_where_the_rest_is() -> None:
    from tui.app.base import TOAST_CHARS, toast_text

    message = (
        "session.update #5 was rejected by error #6: invalid_value: Invalid value: 'nonsense-model'. "
        "Supported values are: 'whisper-1', 'gpt-4o-transcribe'. The server discards the whole update."
    )
    assert toast_text(message) == (
        "session.update #5 was rejected by error #6: invalid_value: Invalid value: 'nonsense-model'. "
        "(! shows it whole, with its fix)"
    )
    assert toast_text("one short sentence.") == "one short sentence."
    long = "x" * 500
    assert len(toast_text(long)) < TOAST_CHARS + 40 and toast_text(long).endswith("(! shows it whole, with its fix)")


SCREENSHOT_ON_A_FULL_DISK = """
import asyncio, json, resource, sys
from tui.app import RtApp
from tui.config import Settings

async def main() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))  # the screen's SVG is ~100 KB
        app.action_save_screenshot()
        for _ in range(50):
            await pilot.pause(0.05)
            said = [n.message for n in app._notifications]
            if any("screenshot" in message for message in said):
                break
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    print(json.dumps(said))

asyncio.run(main())
"""


def test_a_screenshot_on_a_full_disk_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    """A real EFBIG from the kernel (RLIMIT_FSIZE) in the middle of the screenshot: it said "not
    saved", and an empty file (0644) stayed by the name a saved one would have."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "RT_TUI_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", SCREENSHOT_ON_A_FULL_DISK], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.strip().splitlines()[-1])
    # Worded as an export's failure: the file it could not write, and why in words (review 57b).
    said = [unfolded(message) for message in said]  # a long path is folded after its slashes to fit
    assert any(
        message.startswith(f"screenshot not saved: could not write {tmp_path}")
        and message.endswith(".svg: File too large; nothing was written")
        for message in said
    ), said
    assert not list(tmp_path.rglob("*.svg")), list(tmp_path.rglob("*"))
