"""Server text reaches the screen as plain text, never as Rich markup: a scan of the UI's source.

Textual reads a plain `str` given to `notify`, `Static`, `Label`, `.update()` or a border title as
markup, so a server message holding `[/x]` would raise MarkupError and end the app. Every such call
in `tui/app` and `tui/widgets` must pass `markup=False` (notify) or a `rich.text.Text` (the rest);
strings built at run time (f-strings, concatenation, variables) are what this scan refuses.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = ("tui/app", "tui/widgets")
TEXT_TAKERS = {"Static", "Label", "update"}
TITLES = {"border_title", "border_subtitle"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _built_at_run_time(node: ast.expr) -> bool:
    """A str that is not a literal: what could carry text from a server or a user."""
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Call) and _name(node.func) in ("Text", "assemble", "Group", "JSON"):
        return False
    return isinstance(node, ast.JoinedStr | ast.BinOp | ast.Name | ast.Attribute | ast.Call | ast.Subscript)


def violations(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for folder in UI:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                where = f"{path}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Call):
                    name = _name(node.func)
                    if name == "notify":
                        plain = any(
                            k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in node.keywords
                        )
                        if not plain:
                            found.append(f"{where}: notify() without markup=False")
                    elif name in TEXT_TAKERS and node.args and _built_at_run_time(node.args[0]):
                        if isinstance(node.args[0], ast.Name | ast.Attribute | ast.Call):
                            continue  # a Text or a renderable passed along; str values are caught at their source
                        found.append(f"{where}: {name}() given a string built at run time")
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute) and target.attr in TITLES:
                            if isinstance(node.value, ast.JoinedStr | ast.BinOp) or (
                                isinstance(node.value, ast.Name) and node.value.id != "None"
                            ):
                                found.append(f"{where}: {target.attr} set from a string built at run time")
    return found


def test_no_ui_call_reads_run_time_text_as_markup() -> None:
    assert violations() == []


def test_the_scan_catches_what_it_is_for(tmp_path: Path) -> None:
    bad = tmp_path / "tui" / "app"
    bad.mkdir(parents=True)
    (bad / "bad.py").write_text(
        "def f(app, w, msg):\n"
        "    app.notify(msg)\n"
        "    w.update(f'error: {msg}')\n"
        "    w.border_title = 'x: ' + msg\n"
        "    app.notify(msg, markup=False)\n"
    )
    (tmp_path / "tui" / "widgets").mkdir()
    found = violations(tmp_path)
    assert len(found) == 3, found


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
"""Every bidi control: a terminal that lays out bidi text would reorder what follows them."""
TROJAN = "access\u202e \u2066// admin\u2069 \u2066"
"""A Trojan Source line: an override and isolates that make the text read other than it is."""


def test_printable_names_every_bidi_control() -> None:
    from tui.protocol import printable

    shown = printable(BIDI)
    assert not set(shown) & set(BIDI), shown
    assert shown.startswith("⟨U+202A⟩⟨U+202B⟩") and shown.endswith("⟨U+200F⟩⟨U+061C⟩")
    assert printable(f"a{TROJAN}\nb", lines=True) == "aaccess⟨U+202E⟩ ⟨U+2066⟩// admin⟨U+2069⟩ ⟨U+2066⟩\nb"
    assert printable("שלום עולם مرحبا") == "שלום עולם مرحبا"  # right-to-left text itself is text
    assert printable("👩\u200d💻") == "👩\u200d💻"  # a joiner is no bidi control


def test_printable_breaks_a_line_at_a_line_or_paragraph_separator_as_at_a_newline() -> None:
    """U+2028 and U+2029 fail `isprintable` but had no entry in the table: they went out as they
    came, a line break to an editor or a pager reading `rt-tui lint`'s report in one line."""
    from tui.protocol import printable

    assert printable("one\u2028two\u2029three") == "one two three"
    assert printable("one\u2028two\u2029three", lines=True) == "one\ntwo\nthree"


JOINED = "\u200d\u200d漢漢漢"
"""Zero width joiners opening a word, then wide characters: Rich 15 raises cutting or wrapping it."""


@pytest.mark.parametrize("text", [JOINED, f"ab {JOINED}", f"ab\n{JOINED}", JOINED * 5])
def test_a_joiner_that_opens_a_word_is_shown_by_name_and_the_text_wraps_at_every_width(text: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from tui.protocol import printable

    console = Console(width=80)
    for lines in (False, True):
        shown = printable(text, lines=lines)
        assert "⟨U+200D⟩" in shown
        for width in range(1, 20):
            console.render_lines(Text(shown), console.options.update_width(width))  # raised before
    assert printable("👩\u200d💻 x\u200dy") == "👩\u200d💻 x\u200dy"  # a joiner inside a word joins


async def test_the_log_draws_server_text_opening_with_joiners_at_every_width() -> None:
    """A server's error message or event type opening with zero width joiners: at some pane widths
    the log's cut of the line raised inside Rich, and the app ended with a traceback."""
    from tests.journal_helpers import received
    from tests.test_event_log import LogApp
    from tui.widgets import EventLog

    app = LogApp()
    async with app.run_test(size=(120, 10)) as pilot:
        app.feed([received("error", error={"type": "x", "message": JOINED * 30})])
        app.feed([received("session.updated", session={"id": JOINED * 30})])
        app.feed([received(JOINED * 20)])
        await pilot.pause()
        log = app.query_one(EventLog)
        for width in range(10, 121, 3):
            await pilot.resize_terminal(width, 10)
            await pilot.pause()
            assert all(log.render_line(y).cell_length == log.paint_width() for y in range(3))


async def bidi_peer(ws: Any) -> None:
    """A server whose error, unknown type, summary and transcript carry bidi controls."""
    await ws.send(json.dumps({"type": "session.created", "session": {"id": f"sess_{BIDI}"}}))
    async for message in ws:
        if json.loads(message).get("type") != "session.update":
            continue
        await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_b"}}))
        await ws.send(json.dumps({"type": "error", "error": {"type": "server_error", "message": f"boom {TROJAN}"}}))
        await ws.send(json.dumps({"type": f"vendor.{BIDI}", "note": BIDI}))
        content = [{"type": "output_text", "text": f"hello {TROJAN} world"}]
        item = {"id": "item_b", "type": "message", "role": "assistant", "status": "completed", "content": content}
        await ws.send(json.dumps({"type": "conversation.item.added", "previous_item_id": None, "item": item}))


async def test_bidi_controls_from_a_server_are_shown_by_name_in_every_view() -> None:
    from tests.app_helpers import items, notices, painted_text, views_settled, wait_for
    from tests.server_helpers import scripted_peer
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice

    async with scripted_peer(bidi_peer) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: items(app, "assistant"), 10, "the item with bidi controls")
            await wait_for(pilot, lambda: notices(app), 5, "the server error's notice")
            await views_settled(pilot, app)
            await pilot.pause()
            shown = painted_text(app)
            assert not set(shown) & set(BIDI), sorted(f"U+{ord(c):04X}" for c in set(shown) & set(BIDI))
            assert "hello access⟨U+202E⟩ ⟨U+2066⟩// admin⟨U+2069⟩" in shown  # the transcript
            assert "boom access⟨U+202E⟩" in shown, shown  # the toast and log row (once missed under load: see all)
            assert "⟨U+200F⟩⟨U+061C⟩" in shown and "note=⟨U+202A⟩" in shown  # an unknown type in the log


def test_send_prints_bidi_controls_by_name(tmp_path: Path) -> None:
    """`rt-tui send` prints the transcript and the reply through the same helper."""
    from tests.audio_helpers import espeak_wav
    from tests.test_send import scripted_turn, send_to

    wav = espeak_wav("what is the weather like in London today", tmp_path / "q.wav")
    result = send_to(scripted_turn(f"heard {TROJAN} this", f"said {TROJAN} that"), wav)
    assert result.returncode == 0, result.stderr
    assert not set(result.stdout) & set(BIDI), result.stdout
    assert "user: heard access⟨U+202E⟩ ⟨U+2066⟩// admin⟨U+2069⟩ ⟨U+2066⟩ this" in result.stdout
    assert "assistant: said access⟨U+202E⟩" in result.stdout
