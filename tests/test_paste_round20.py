"""A bracketed paste holding escape sequences arrives as one Paste of text, never as key presses.

Helpers: Textual 8.2.8's parser re-issued an escape sequence inside a paste, and up to ~32
characters after it, as keys (ESC as `^`, a line break as Enter): colored output pasted into the
message input sent a message mid-paste, and `x ESC q` pasted into the log quit the app.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator

import pytest
from textual import constants, events
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.drivers import linux_driver
from textual.message import Message
from textual.widgets import Input

from tests.app_helpers import items, session_ready, wait_for
from tui.app import RtApp
from tui.app.terminal_input import PasteSafeParser, install_paste_safe_parser, without_escape_sequences
from tui.config import Settings, TargetChoice

START, END = "\x1b[200~", "\x1b[201~"

Event = tuple[str, str | None]
"""An event as the tests compare it: ("paste", its text) or ("key", key name) or its class name."""


def described(message: Message) -> Event:
    if isinstance(message, events.Paste):
        return ("paste", message.text)
    if isinstance(message, events.Key):
        return ("key", f"{message.key} {message.character!r}")
    return (type(message).__name__, None)


def parsed(parser: XTermParser, reads: list[str]) -> list[Event]:
    """The events `parser` makes of the terminal's `reads`, in order."""
    return [described(message) for data in reads for message in parser.feed(data)]


def stock(data: str) -> list[Event]:
    """What Textual's own parser makes of `data` outside a paste (the keys must stay so)."""
    return parsed(XTermParser(), [data]) if data else []


# (the paste as the terminal sends it, the Paste's text)
PASTES = [
    ("error: \x1b[31mdisk full\x1b[0m\nsecond line", "error: disk full\nsecond line"),  # CSI, newline
    ("a \x1b]0;my title\x07b \x1b]52;c;aGk=\x1b\\c", "a b c"),  # OSC ended by BEL and by ST
    ("x\x1bq", "xq"),  # a stray ESC: `q` must not quit
    ("abc\x1b[xyz", "abcyz"),  # an unknown CSI (its final byte is `x`)
    ("abc\x1b[31", "abc"),  # a sequence cut off by the paste's end
    ("abc\x1b", "abc"),  # an ESC alone at the paste's end
    ("plain text, no escapes\nline two\r\n", "plain text, no escapes\nline two\r\n"),
    ("", ""),
    ("[200~ not a marker", "[200~ not a marker"),
    ("a\x1b[200~b", "ab"),  # a start marker inside the paste is no new paste
    ("a\x00b", "ab"),  # NUL goes, as Textual's parser has it
]
AROUND = [
    ("", ""),
    ("t", "\r"),  # keys before and after the paste, in the same read
    ("ab\x1b[A", "\x1b[Bcd"),  # arrow keys next to the markers
]


def cases() -> Iterator[tuple[str, list[Event]]]:
    for before, after in AROUND:
        for pasted, text in PASTES:
            stream = before + START + pasted + END + after
            yield stream, stock(before) + [("paste", text)] + stock(after)


@pytest.mark.parametrize(("stream", "expected"), list(cases()))
def test_a_paste_is_one_paste_of_text_at_every_split_point(stream: str, expected: list[Event]) -> None:
    """Two reads split at every point, then one read per character: the same events each time."""
    assert parsed(PasteSafeParser(), [stream]) == expected
    for split in range(1, len(stream)):
        assert parsed(PasteSafeParser(), [stream[:split], stream[split:]]) == expected, split
    assert parsed(PasteSafeParser(), list(stream)) == expected


def test_two_pastes_and_keys_in_one_read_at_every_split_point() -> None:
    stream = f"a{START}one\x1b[1m\x1b[0m{END}\x1b[A{START}two\x1bq\n{END}z"
    expected = stock("a") + [("paste", "one")] + stock("\x1b[A") + [("paste", "twoq\n")] + stock("z")
    for split in range(len(stream) + 1):
        reads = [part for part in (stream[:split], stream[split:]) if part]
        assert parsed(PasteSafeParser(), reads) == expected, split
    for first in range(1, len(stream)):  # three reads
        for second in range(first + 1, len(stream)):
            reads = [stream[:first], stream[first:second], stream[second:]]
            assert parsed(PasteSafeParser(), reads) == expected, (first, second)


def test_textuals_own_parser_still_turns_a_paste_into_keys() -> None:
    """What the subclass is for: if Textual stops doing this, the subclass may go."""
    events_ = parsed(XTermParser(), [f"{START}x\x1bq{END}"])
    assert ("key", "q 'q'") in events_


def test_keys_outside_a_paste_are_textuals() -> None:
    """Keys, mouse, focus and a lone ESC key: exactly as Textual's parser makes them."""
    stream = "hello\x1b[A\x1b[1;5C\x1b[<0;10;5M\x1b[<0;10;5m\x1b[I\x1b[O\x01\x7f\x1bx\x1b[2"
    for split in range(len(stream) + 1):
        reads = [part for part in (stream[:split], stream[split:]) if part]
        assert parsed(PasteSafeParser(), reads) == parsed(XTermParser(), reads), split


def test_an_escape_key_then_the_start_marker_later_is_keys_not_a_paste(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ESC alone becomes the Escape key after the escape delay (tick); `[200~` typed after it
    is then keys, to Textual's parser as to this one (which must not hold what follows)."""
    monkeypatch.setattr(constants, "ESCAPE_DELAY", 0.0)  # the delay is over at the first tick
    results = []
    for parser in (PasteSafeParser(), XTermParser()):
        got = parsed(parser, ["a\x1b"])
        got += [described(message) for message in parser.tick()]
        got += parsed(parser, ["[200~bc"])
        results.append(got)
    assert results[0] == results[1]
    assert ("key", "escape '\\x1b'") in results[0] and ("key", "b 'b'") in results[0]


def test_the_end_of_input_in_a_paste_ends_the_parser() -> None:
    parser = PasteSafeParser()
    assert parsed(parser, [START + "held"]) == []
    assert parsed(parser, [""]) == []
    assert parser.is_eof


def test_without_escape_sequences() -> None:
    assert without_escape_sequences("\x1b[1mbold\x1b(B\x1b[m x\x1bq \x9b31mred\x1b") == "bold xq red"


async def test_the_linux_driver_reads_the_terminal_with_the_paste_safe_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The install hook takes effect: Textual's real Linux driver, its input thread reading a pipe,
    makes one Paste of a paste holding ESC q. A Textual upgrade that stops looking `XTermParser`
    up in its module at run time fails this test (the paste's `q` would come as a key)."""
    assert "XTermParser" in linux_driver.LinuxDriver.run_input_thread.__code__.co_names
    monkeypatch.setattr(linux_driver, "XTermParser", XTermParser)  # Textual's again after the test
    install_paste_safe_parser()
    got: list[Message] = []
    pasted = threading.Event()

    class Recording(linux_driver.LinuxDriver):
        def process_message(self, message: Message) -> None:
            got.append(message)
            if isinstance(message, events.Paste):
                pasted.set()

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    read_end, write_end = os.pipe()
    try:
        driver = Recording(App())  # the driver's loop is this test's: the thread never uses it
        driver.fileno = read_end
        thread = threading.Thread(target=driver.run_input_thread)
        thread.start()
        os.write(write_end, f"a{START}x\x1bq\x1b[31mred{END}b".encode())
        assert await asyncio.to_thread(pasted.wait, 10)
        driver.exit_event.set()
        thread.join(10)
    finally:
        os.close(write_end)
        os.close(read_end)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert [described(message) for message in got][:2] == [("key", "a 'a'"), ("paste", "xqred")]


async def test_colored_two_lines_pasted_in_the_message_input_send_nothing(simulator_url: str) -> None:
    """Through the app: `t`, then the paste as one read of the terminal. Nothing was sent (Textual's
    parser made Enter of the paste's line break and sent `^[31mdisk full^[0m`)."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        assert app._driver is not None
        for message in PasteSafeParser().feed(f"t{START}error: \x1b[31mdisk full\x1b[0m\nsecond line{END}"):
            app._driver.process_message(message)
        message_input = app.query_one("#message", Input)
        await wait_for(pilot, lambda: message_input.value, 10, "the paste in the input")
        assert message_input.value == "error: disk full second line"
        assert items(app, "user") == []
