"""The message input under bursts: keys that reach the app faster than it handles them (tmux
send-keys, a busy app, a paste into a terminal without bracketed paste) act in the order typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input

from tests.app_helpers import items, session_ready, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Frame
from tui.protocol import Direction, local_envelope
from tui.widgets.message_input import _LINE_BREAKS, one_line


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


@pytest.mark.parametrize(
    ("pasted", "typed"),
    [
        ("abc\x1b[", "abc"),  # a CSI cut off by the end of the paste (was `abc[`)
        ("red \x1b[31", "red "),  # (was `red [31`)
        ("\x1b[1mbold\x1b(B\x1b[m plain", "bold plain"),  # tput sgr0's ESC ( B (was `bold(B plain`)
        ("a \x1b]0;my title", "a "),  # an OSC never ended (was `a 0;my title`)
        ("a \x1b]0;title\nnext line", "a next line"),  # ended by its line: the next line stays
        ("x\x1b7y\x1b8z", "xyz"),  # save and restore the cursor (was `x7y8z`)
        ("\x9b31mred", "red"),  # the 8-bit CSI (was `31mred`)
        ("stray \x1bword", "stray word"),  # a stray ESC before a word: the word stays whole
        ("line\x1b[0m\n", "line"),
    ],
)
def test_an_escape_sequence_goes_whole_even_cut_off(pasted: str, typed: str) -> None:
    """Tester: a paste holding ESC [ without its end lost only the ESC: `[31` was typed."""
    assert one_line(pasted) == typed


async def test_a_paste_ending_inside_a_sequence_types_none_of_it() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("t", *"say")
        message = app.query_one("#message", Input)
        message.post_message(events.Paste(" \x1b[1mhello\x1b(B\x1b[m world\x1b[3"))
        await pilot.pause()
        assert message.value == "say hello world"


async def test_a_draft_left_with_escape_is_continued_not_replaced() -> None:
    """Tester: `t`, `my draft`, Esc, `t`, `zz` left `zz`: the input selected its text on focus."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", *"my draft", "escape")
        message = app.query_one("#message", Input)
        assert app.focused is not message
        await pilot.press("t", *"zz")
        assert message.value == "my draftzz"


@pytest.mark.parametrize(
    ("burst", "sent", "left"),
    [
        ("red\rblue\r", ["red", "blue"], ""),  # was `red`, then `redblue`
        ("one\rtwo", ["one"], "two"),  # `two` was lost with the input emptied after the send
    ],
)
async def test_enter_in_a_burst_sends_each_message_and_keeps_what_follows(
    simulator_url: str, burst: str, sent: list[str], left: str
) -> None:
    """Helper: the input was emptied by the app once the message was sent, after the keys behind
    Enter had been typed: they went out with it, or were lost."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        terminal_burst(app, "t" + burst)
        await wait_for(pilot, lambda: len(items(app, "user")) == len(sent), 10, "the messages to be sent")
        assert [item.text for item in items(app, "user")] == sent
        assert app.query_one("#message", Input).value == left


async def test_a_message_that_cannot_be_sent_stays_in_the_input() -> None:
    """Not connected: Enter says so and the text stays, ahead of what was typed after it."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        terminal_burst(app, "thello\r more")
        message = app.query_one("#message", Input)
        await wait_for(pilot, lambda: message.value == "hello more", 5, "the text put back")
        assert message.cursor_position == len("hello more")
        assert any("not connected" in str(n.message) for n in app._notifications)


async def test_escape_in_a_burst_leaves_the_input_before_the_next_key() -> None:
    """Helper: `t` `hi` Esc `f` reaching the app at once typed `hif` and opened no filter: Esc's
    binding ran, and moved the focus, only after `f` had been typed."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        assert app._driver is not None
        for key, character in [("t", "t"), ("h", "h"), ("i", "i"), ("escape", None), ("f", "f"), ("x", "x")]:
            app._driver.process_message(events.Key(key, character))
        message = app.query_one("#message", Input)
        await wait_for(pilot, lambda: app.filter_bar.has_focus_within, 5, "the filter bar to take the focus")
        await pilot.pause()
        assert message.value == "hi"
        assert app.query_one("#filter-bar Input", Input).value == "x"


async def test_the_filter_bar_takes_editing_keys_in_a_burst_in_order() -> None:
    """Helper: `f` `type:errx` backspace `or` in one burst gave `type:errxo`."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        terminal_burst(app, "ftype:errx\x7for")
        bar_input = app.query_one("#filter-bar Input", Input)
        await wait_for(pilot, lambda: len(bar_input.value) >= len("type:error"), 5, "the query typed")
        assert bar_input.value == "type:error"


_QUADRATIC_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
"""The line-break pattern before its lookbehind: the same matches, quadratic in a run of blanks."""


@given(st.text(alphabet=st.sampled_from(list(" \t\r\n\x0b\x0c\x85\u2028ab")), max_size=60))
def test_line_breaks_match_as_the_quadratic_pattern_did(text: str) -> None:
    assert _LINE_BREAKS.sub(" ", text) == _QUADRATIC_LINE_BREAKS.sub(" ", text)


def test_a_paste_of_a_long_run_of_blanks_is_taken_in_one_pass() -> None:
    """Reviewer: 40,000 pasted blanks with no line break after them took 19 s on the loop (every
    blank started a match that scanned the rest of the run). Checked by where a match may start,
    not by a time."""
    assert one_line(" \t" * 50_000 + "x") == " " * 100_000 + "x"
    # A match may start only at a run's first blank (the lookbehind): one scan of the run.
    assert all(_LINE_BREAKS.match(" \t \n", at) is None for at in (1, 2))


async def test_messages_sent_in_a_burst_are_all_answered_without_a_refused_create(simulator_url: str) -> None:
    """Tester: `red` Enter `blue` Enter in one burst sent two response.create before the first one's
    response began: the second was refused (conversation_already_has_active_response, the app's own
    `response-while-active`) and `blue` was never answered. The second ask now waits for the first
    response to begin, cancels it, and asks again: one answer after both messages."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        terminal_burst(app, "tred\rblue\r")

        def sent(kind: str) -> list[Frame]:
            return [f for f in app.journal if f.direction is Direction.OUT and f.type == kind]

        await wait_for(pilot, lambda: len(sent("response.create")) == 2, 10, "the second ask")
        last_create = sent("response.create")[-1].index

        def done_after() -> bool:
            return any(
                f.type == "response.done"
                and f.index > last_create
                and (f.data or {}).get("response", {}).get("status") == "completed"
                for f in app.journal
            )

        await wait_for(pilot, done_after, 20, "the answer to both messages")
        assert [item.text for item in items(app, "user")] == ["red", "blue"]
        assert not [f for f in app.journal if f.type == "error"], "a create was refused"
        assert len(sent("response.cancel")) == 1  # the response that began before blue was asked for


async def test_an_export_that_fails_in_an_unexpected_way_says_so(tmp_path: Path) -> None:
    """Tester: the export dialog closed and nothing was written, without a word: the export's
    worker caught OSError and ExportError only, and swallowed anything else (a path with NUL)."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        app.publish_fact(local_envelope("rt.audio", "a fact to export"))
        await wait_for(pilot, lambda: app.log_view.shown > 0, 5, "a frame")
        app.export_frames(tmp_path / "bad\0name.jsonl", keep_audio=True)
        said = lambda: any("export failed" in str(n.message) for n in app._notifications)  # noqa: E731
        await wait_for(pilot, said, 5, "the failure said")


async def test_a_multi_line_paste_into_the_find_bar_keeps_every_line() -> None:
    """Tester: a paste of two lines into the find bar kept the first only (Textual's Input), where
    the message input joins them."""
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("slash")
        bar_input = app.query_one("#find-bar Input", Input)
        bar_input.post_message(events.Paste("first line\nsecond \x1b[1mline\x1b[0m"))
        await wait_for(pilot, lambda: bar_input.value != "", 5, "the paste")
        assert bar_input.value == "first line second line"


async def test_a_long_paste_without_bracketed_paste_is_typed_in_a_few_steps_in_order(simulator_url: str) -> None:
    """Reviewer: 30,000 characters pasted as keys (no bracketed paste) held the screen for minutes,
    each typed alone (the value rebuilt, its watchers run, the app's bindings walked twice a key),
    and the session's keepalive timed out: the server dropped the connection. The characters of a
    burst now go in together: the value changes a few times, not once per character, and the
    editing keys among them still act where they were typed."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        message = app.query_one("#message", Input)
        changes: list[str] = []
        message.watch(message, "value", lambda value: changes.append(value), init=False)
        words = "the quick brown fox jumps over the lazy dog " * 100  # 4,400 characters
        terminal_burst(app, "t" + words + "cat\x7f\x7frow\r")
        await wait_for(pilot, lambda: items(app, "user"), 20, "the message to be sent")
        assert [item.text for item in items(app, "user")] == [(words + "crow").strip()]
        assert message.value == "" and app.focused is message
        # The burst's text in a few steps (Textual's queues hand the keys over in batches), then
        # the two backspaces one each, `row`, and the input emptied by Enter.
        assert len(changes) < 20, len(changes)
