"""The footer while typing: in the message input, the filter bar and the find bar, the footer names
what Enter does there, Esc and ctrl+q (the app's letter keys, q Quit among them, are typed there, so
the footer showed the palette's key alone), and each key it names does what it says."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tui.app import RtApp
from tui.config import Settings
from tui.widgets.key_footer import KeyFooter
from tui.widgets.query_bar import FilterBar, FindBar


def footer(app: RtApp) -> str:
    """The footer's line as drawn."""
    return app.query_one(KeyFooter).render().plain


@pytest.mark.parametrize(("key", "enter"), [("t", "⏎ Send"), ("f", "⏎ Apply"), ("slash", "⏎ Find")])
@pytest.mark.parametrize("width", [80, 160])
async def test_a_text_input_s_footer_names_enter_esc_and_quit(key: str, enter: str, width: int) -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.focused, Input)
        shown = footer(app)
        assert shown.startswith(f"{enter} esc Leave ^q Quit "), shown
        assert shown.endswith("▏^p palette") and len(shown) == width
        assert " q Quit" not in shown and "Find " not in shown.replace(enter, "")  # typed here, not keys
        # The footer's Esc is a key like the others: a click on it leaves the input.
        [escape] = [drawn for drawn in app.query_one(KeyFooter).keys if drawn.key == "escape"]
        await pilot.click(KeyFooter, offset=(escape.start, 0))
        await pilot.pause()
        assert app.screen.focused is app.event_log and "q Quit" in footer(app) and "Leave" not in footer(app)


async def test_the_footer_s_enter_in_a_bar_applies_and_its_ctrl_q_quits() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f", *"dir:in")
        [enter] = [drawn for drawn in app.query_one(KeyFooter).keys if drawn.key == "enter"]
        await pilot.click(KeyFooter, offset=(enter.start, 0))
        await pilot.pause()
        assert app.query_one(FilterBar).active == "dir:in"
        await pilot.press("slash", *"quit", "ctrl+q")  # typed q's, then the key the footer names
        await pilot.pause()
        assert app.query_one(FindBar).input.value == "quit"
    assert app.return_code == 0 and not app.is_running


async def test_the_message_input_s_esc_stays_the_app_s_own_turn() -> None:
    """The footer names the app's Esc (by its binding's id) rather than the input binding one of its
    own: a key typed right after Esc in one burst still reaches the log, `f` opening the filter."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"hi", "escape", "f", *"x")
        await pilot.pause()
        assert app.query_one("#message", Input).value == "hi"
        assert app.focused is app.query_one(FilterBar).input and app.focused.value == "x"


async def test_a_keymap_moving_the_app_s_leave_key_moves_it_in_the_footer_too() -> None:
    """Keymaps as data: the footer shows the key the `leave-input` binding has now, not a fixed `esc`."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_keymap({"leave-input": "ctrl+g", "message.send": "ctrl+s"})
        await pilot.press("t")
        await pilot.pause()
        assert footer(app).startswith("^s Send ^g Leave ^q Quit "), footer(app)
        await pilot.press(*"hello", "ctrl+g")
        await pilot.pause()
        assert app.focused is app.event_log
