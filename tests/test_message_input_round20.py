"""The message input under bursts: keys that reach the app faster than it handles them (tmux
send-keys, a busy app, a paste into a terminal without bracketed paste) act in the order typed."""

from __future__ import annotations

import pytest
from textual._xterm_parser import XTermParser
from textual.widgets import Input

from tests.app_helpers import items, session_ready, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice


def terminal_burst(app: RtApp, data: str) -> None:
    """Hand the app `data` as its terminal driver does with one read of the terminal: through
    Textual's own parser, every event at once, none waited for."""
    assert app._driver is not None
    for message in XTermParser().feed(data):
        app._driver.process_message(message)


@pytest.mark.parametrize(
    ("burst", "sent"),
    [
        ("leftover\x15hello there\r", "hello there"),  # ctrl+u, then the text (it was lost)
        ("abc\x7fd\r", "abd"),  # backspace (`abc` was sent)
        ("abc\x1b[DX\r", "abXc"),  # left arrow (`abcX` was sent)
        ("abc\x1b[HX\x1b[FY\r", "XabcY"),  # home, end
        ("one two\x17three\r", "one three"),  # ctrl+w (`one ` was sent)
    ],
)
async def test_editing_keys_in_a_burst_act_where_they_were_typed(simulator_url: str, burst: str, sent: str) -> None:
    """Tester: `tmux send-keys C-u 'hello there' Enter` sent nothing. Textual runs an input's
    binding once the key has bubbled up to the app, after the keys behind it were typed."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        terminal_burst(app, "t" + burst)
        await wait_for(pilot, lambda: items(app, "user"), 10, "the message to be sent")
        assert [item.text for item in items(app, "user")] == [sent]
        message = app.query_one("#message", Input)
        assert app.focused is message and message.value == ""


async def test_ctrl_v_pastes_the_apps_clipboard_on_one_line() -> None:
    """Tester: `y` on a frame, then `t` and `ctrl+v`, put the frame's pretty JSON, line breaks and
    all, in the one-line input (drawn over the status line) and sent it so."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard('{\n  "type": "session.updated",\n\t"event_id": "evt_1"\n}\n')
        await pilot.press("t", *"see ", "ctrl+v", *" ok")
        message = app.query_one("#message", Input)
        assert message.value == 'see { "type": "session.updated", "event_id": "evt_1" } ok'
