"""Review 27 of the transcript pane and the conversation export: what a voice-agent developer
meets reading, scrolling and exporting a conversation."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app_helpers import notices, typed_turn_done, wait_for
from tests.journal_helpers import received
from tests.server_helpers import client, recv_until, send, session_patch
from tests.test_conversation_export import conversation_of, typed
from tests.test_transcript import TranscriptApp, TranscriptBesideAnInput, history, shown
from tests.test_transcript_round22b import files_under, run_command
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation.export import to_json, to_markdown
from tui.server import Simulator
from tui.widgets import Transcript, render_item


async def scrolled_up_over_a_pending_turn(pilot: Pilot[None], app: TranscriptApp) -> str:
    """Eight exchanges, a recorded turn still transcribing after the third; the view scrolled up so
    that it begins a few rows below that turn. Returns what the view shows."""
    transcript = app.query_one(Transcript)
    app.feed(history(3))
    app.feed([received("input_audio_buffer.committed", item_id="late", previous_item_id="a2")])
    app.feed(history(8)[6:])
    await wait_for(pilot, lambda: "answer number 7" in shown(transcript), 5, "the last exchange")
    transcript.scroll_to(y=transcript.max_scroll_y - 12, animate=False, immediate=True)
    await pilot.pause()
    assert "(transcribing…)" not in shown(transcript) and "question 4" in shown(transcript)
    return shown(transcript)


async def test_a_late_transcript_above_the_view_does_not_move_the_rows_the_user_scrolled_up_to() -> None:
    """The user scrolled up to read an earlier reply; the transcript of a turn above it lands (three
    rows where "(transcribing…)" was one): the rows on screen stay where they are. The rows below
    the grown one moved down with it, and the view jumped back by as many rows."""
    app = TranscriptApp()
    async with app.run_test(size=(80, 20)) as pilot:
        transcript = app.query_one(Transcript)
        before = await scrolled_up_over_a_pending_turn(pilot, app)
        words = "late words " * 30
        app.feed([received("conversation.item.input_audio_transcription.completed", item_id="late", transcript=words)])
        await wait_for(pilot, lambda: "late words" in transcript.text(), 5, "the transcript")
        await pilot.pause(0.2)
        assert shown(transcript) == before
        assert not transcript._following


async def test_a_row_coming_or_going_above_the_view_does_not_move_the_rows_the_user_scrolled_up_to() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(80, 20)) as pilot:
        transcript = app.query_one(Transcript)
        before = await scrolled_up_over_a_pending_turn(pilot, app)
        app.feed([received("conversation.item.deleted", item_id="late")])
        await wait_for(pilot, lambda: "late" not in transcript._order, 5, "the row to go")
        await pilot.pause(0.2)
        assert shown(transcript) == before
        item = {"id": "early", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        app.feed([received("conversation.item.added", item=item, previous_item_id="u1")])
        await wait_for(pilot, lambda: "early" in transcript._order, 5, "the new row")
        await pilot.pause(0.2)
        assert shown(transcript) == before


def wheel(widget: Transcript, *, up: bool, turns: int) -> None:
    """Turn the mouse wheel over `widget`, as the terminal reports it."""
    from textual import events

    kind = events.MouseScrollUp if up else events.MouseScrollDown
    for _ in range(turns):
        widget.post_message(kind(widget, 5, 5, 0, 0, 0, False, False, False, screen_x=5, screen_y=5))


async def test_scrolling_back_down_to_the_new_rows_takes_down_the_note_that_they_are_below() -> None:
    """The corner says "new rows below · End follows" while the user reads above them; once the
    wheel has brought the view down to them, the view follows again and nothing is below: the note
    stayed until the next turn came."""
    app = TranscriptApp()
    async with app.run_test(size=(80, 20)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(6))
        await wait_for(pilot, lambda: "answer number 5" in shown(transcript), 5, "the last exchange")
        wheel(transcript, up=True, turns=5)
        await wait_for(pilot, lambda: not transcript._following, 5, "the view to stop following")
        app.feed(history(8)[12:])
        await wait_for(pilot, lambda: "new rows below" in str(transcript.border_subtitle), 5, "the note")
        assert "answer number 7" not in shown(transcript)
        wheel(transcript, up=False, turns=40)
        await wait_for(pilot, lambda: "answer number 7" in shown(transcript), 5, "the view at the end")
        await pilot.pause()
        assert transcript._following and str(transcript.border_subtitle) == ""


async def reply_ended_early(url: str, *, cancel: bool) -> list[dict[str, Any]]:
    """A typed turn whose text reply the simulator cuts short: cancelled by the client once its
    first words came, else cut by `max_output_tokens`. Every server event, in order."""
    async with client(url) as ws:
        await send(ws, session_patch(output_modalities=["text"]))
        events = await recv_until(ws, "session.updated")
        await send(ws, typed("tell me everything about the weather in the mountains this week"))
        if cancel:
            await send(ws, {"type": "response.create"})
            events += await recv_until(ws, "response.output_text.delta")
            await send(ws, {"type": "response.cancel"})
        else:
            await send(ws, {"type": "response.create", "response": {"max_output_tokens": 4}})
        events += await recv_until(ws, "response.done")
    return events


async def test_a_cancelled_reply_says_why_in_the_pane_and_both_exports(slow_sim: Simulator) -> None:
    conv = conversation_of(await reply_ended_early(slow_sim.url, cancel=True))
    _, reply = conv.ordered()
    assert render_item(reply).plain.splitlines()[0] == "assistant  cancelled (client_cancelled)"
    assert "**Assistant** · cancelled (client_cancelled) *(" in to_markdown(conv.ordered())
    record = json.loads(to_json(conv.ordered()))[1]
    assert (record["status"], record["status_reason"]) == ("cancelled", "client_cancelled")


async def test_a_reply_cut_by_max_output_tokens_says_so(sim: Simulator) -> None:
    conv = conversation_of(await reply_ended_early(sim.url, cancel=False))
    _, reply = conv.ordered()
    assert reply.text and render_item(reply).plain.splitlines()[0] == "assistant  incomplete (max_output_tokens)"
    assert "**Assistant** · incomplete (max_output_tokens) *(" in to_markdown(conv.ordered())


def test_a_failed_reply_is_marked_failed_with_the_server_s_error_not_shown_as_whole() -> None:
    """A response that fails half-way (`status: "failed"`): its words stop mid-sentence, and the
    pane and the exports showed them as a whole reply, unmarked."""
    error = {"type": "server_error", "code": "server_error", "message": "The server had an error.\nTry again."}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "r1", "status": "in_progress", "output": []}},
        {
            "type": "response.output_item.added",
            "response_id": "r1",
            "item": {"id": "a1", "type": "message", "role": "assistant", "status": "in_progress", "content": []},
        },
        {"type": "response.output_text.delta", "response_id": "r1", "item_id": "a1", "delta": "The weather is"},
        {
            "type": "response.done",
            "response": {
                "id": "r1",
                "status": "failed",
                "status_details": {"type": "failed", "error": error},
                "output": [{"id": "a1", "type": "message", "role": "assistant", "status": "incomplete"}],
            },
        },
    ]
    conv = conversation_of(events)
    [reply] = conv.ordered()
    mark = "failed (server_error: The server had an error. Try again.)"  # on the head's one line
    assert render_item(reply).plain.splitlines()[0] == f"assistant  {mark}"
    assert f"**Assistant** · {mark} *(" in to_markdown(conv.ordered())
    record = json.loads(to_json(conv.ordered()))[0]
    assert (record["status"], record["status_reason"]) == (
        "failed",
        "server_error: The server had an error.\nTry again.",
    )


def markdown_heads(markdown: str) -> list[str]:
    """The sections' heads a Markdown renderer finds (bold text opening a paragraph): a body that
    left a code block open turns the heads after it into code, and they are not found."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    heads = []
    for token in tokens:
        children = [child for child in token.children or [] if child.type != "text" or child.content]
        if token.type == "inline" and len(children) > 2 and children[0].type == "strong_open":
            heads.append(children[1].content)
    return heads


async def test_a_typed_message_that_opens_a_code_block_leaves_the_rest_of_the_markdown_export_readable(
    simulator_url: str,
) -> None:
    """A message beginning with ``` (here the user's, typed; as often a reply cut off inside a code
    block): the exported Markdown was one code block from there to its end."""
    data = Path(os.environ["RT_TUI_DATA_DIR"])
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await typed_turn_done(pilot, app, "```js console.log(1)")
        await typed_turn_done(pilot, app, "second turn")
        run_command(app, "transcript: export Markdown")
        await wait_for(pilot, lambda: files_under(data), 5, "the Markdown file")
        [saved] = files_under(data)
        markdown = saved.read_text()
    assert markdown_heads(markdown) == ["You", "Assistant", "You", "Assistant"]
    assert "```js console.log(1)\n```\n" in markdown  # what was said, kept as said


def test_a_reply_cut_off_inside_a_code_block_closes_it_in_the_markdown_export() -> None:
    reply = "Here it is:\n\n~~~~python\nprint('hello')\n~~~\nstill code"
    events: list[dict[str, Any]] = [
        {"type": "response.output_text.delta", "response_id": "r1", "item_id": "a1", "delta": reply},
        {
            "type": "response.done",
            "response": {"id": "r1", "status": "cancelled", "output": [{"id": "a1", "type": "message"}]},
        },
        *(typed_echo("u2", "and now?", "a1")),
    ]
    markdown = to_markdown(conversation_of(events).ordered())
    assert markdown_heads(markdown) == ["Assistant", "You"]
    assert f"{reply}\n~~~~\n" in markdown


def typed_echo(item_id: str, words: str, previous: str) -> list[dict[str, Any]]:
    """The server's echo of a typed message."""
    item = {"id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
    return [{"type": "conversation.item.added", "item": item, "previous_item_id": previous}]


async def test_an_export_the_disk_cannot_hold_leaves_no_partial_file_and_says_so_once(simulator_url: str) -> None:
    """The disk fills while the transcript is written (here: the process's file size limit, which
    fails the write as a full disk does): one error notice, and no truncated transcript left that
    looks like a saved one."""
    data = Path(os.environ["RT_TUI_DATA_DIR"])
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await typed_turn_done(pilot, app, "hello there")
        app.clear_notifications()
        await pilot.pause()
        with file_size_limit(100):  # the file is opened, then its first write fails part-way
            run_command(app, "transcript: export Markdown")
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        said = [(n.severity, n.message) for n in app._notifications]
        assert len(said) == 1 and said[0][0] == "error" and "could not save" in said[0][1], said
        assert files_under(data) == []


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes past `size` bytes of a file fail with EFBIG (the signal that would kill us ignored)."""
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, limits[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, old)


async def test_a_truncated_reply_says_how_much_of_it_was_heard(sim: Simulator) -> None:
    """After a barge-in the client truncates the reply's audio to what was played: the model keeps
    only that much of it. The row said "truncated", not how much; the JSON had no audio_end_ms."""
    async with client(sim.url) as ws:
        await send(ws, session_patch())
        events = await recv_until(ws, "session.updated")
        await send(ws, typed("tell me about the weather in the mountains this week"))
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
        [reply_id] = [e["item"]["id"] for e in events if e["type"] == "response.output_item.done"]
        truncate = {"type": "conversation.item.truncate", "item_id": reply_id, "content_index": 0, "audio_end_ms": 1250}
        await send(ws, truncate)
        events += await recv_until(ws, "conversation.item.truncated")
    conv = conversation_of(events)
    _, reply = conv.ordered()
    heard = f"truncated at 1.25 s of {reply.audio_ms / 1000:.2f} s"
    assert reply.audio_ms > 1250 and render_item(reply).plain.splitlines()[0] == f"assistant  {heard}"
    assert f"**Assistant** · {heard} *(" in to_markdown(conv.ordered())
    record = json.loads(to_json(conv.ordered()))[1]
    assert (record["status"], record["audio_end_ms"]) == ("truncated", 1250)


async def test_y_copies_the_selected_row_s_words(simulator_url: str) -> None:
    """One reply or one transcript could only be copied with the whole conversation (the palette's
    copy as Markdown); `y` on a row copies its words as the server sent them, and says so."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await typed_turn_done(pilot, app, "copy [bold]this[/] 你好")
        transcript = app.query_one(Transcript)
        transcript.focus()
        await pilot.press("y")  # nothing selected yet: it says how to select
        await wait_for(pilot, lambda: notices(app), 5, "a notice")
        assert notices(app)[-1][1] == "Select a row first: ↑ selects the last one, Home the first."
        assert app.clipboard == ""
        app.clear_notifications()
        await pilot.press("up", "y")  # the last row: the reply
        [reply] = [item for item in app.conversation.ordered() if item.role == "assistant"]
        await wait_for(pilot, lambda: app.clipboard, 5, "the copy")
        assert app.clipboard == reply.text.strip() and "copy [bold]this[/] 你好" in app.clipboard
        assert notices(app)[-1] == (
            "Copy",
            f"copied the row's {len(reply.text.strip()):,} characters (OSC 52: your terminal must allow it)",
        )
        await pilot.press("up", "y")
        await wait_for(pilot, lambda: app.clipboard == "copy [bold]this[/] 你好", 5, "the user's words")


async def test_new_turns_come_into_view_once_the_user_has_left_rows_they_moved_to_far_up() -> None:
    """Home (or ↑ far enough to scroll) in the pane, then the user goes to type: their next turn
    came in below the view, out of sight, the corner saying "End follows" to a pane without the
    focus. As for a selection at the end, new turns come into view once the focus is elsewhere;
    a view the user then scrolled away from the selected row (to read) still stays."""
    from textual.widgets import Input

    app = TranscriptBesideAnInput()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(20))
        await wait_for(pilot, lambda: "answer number 19" in shown(transcript), 5, "the last exchange")
        transcript.focus()
        await pilot.press("home")
        assert transcript.scroll_offset.y == 0 and not transcript._following
        app.query_one(Input).focus()
        await pilot.pause()
        app.feed(history(21)[40:])
        await wait_for(pilot, lambda: "answer number 20" in shown(transcript), 5, "the new turn in view")
        assert "new rows below" not in str(transcript.border_subtitle)

        transcript.focus()
        await pilot.press("home")
        app.query_one(Input).focus()
        wheel(transcript, up=False, turns=8)  # the user reads on, away from the selected row
        await wait_for(pilot, lambda: not transcript._in_view("u0"), 5, "the first row out of view")
        held = shown(transcript)
        app.feed(history(22)[42:])
        await wait_for(pilot, lambda: "new rows below" in str(transcript.border_subtitle), 5, "the note")
        assert shown(transcript) == held


@pytest.mark.parametrize(
    "words",
    [
        "<!-- a note to self",
        "look:\n<pre>\nx = 1",
        "<Script>alert(1)",
        "<?php echo 1;",
        "<!DOCTYPE html",
        "<![CDATA[ x",
    ],
)
def test_a_message_opening_an_html_block_it_never_ends_leaves_the_rest_of_the_markdown_export_readable(
    words: str,
) -> None:
    """A comment, `<pre>`, `<script>`… opened at a line's start and never ended: a Markdown renderer
    took the rest of the export as that HTML (hidden, for a comment): it is shown as text instead."""
    from markdown_it import MarkdownIt

    markdown = to_markdown(
        conversation_of([*typed_echo("u1", words, "x"), *typed_echo("u2", "and now?", "u1")]).ordered()
    )
    assert markdown_heads(markdown) == ["You", "You"]
    rendered = MarkdownIt("commonmark").render(markdown)
    assert "and now?" in rendered and "<p>\\<" not in rendered
    assert words.splitlines()[-1].split("<")[-1] in rendered.replace("&lt;", "<").replace("&gt;", ">")
    # Blocks that end within the message are left as they are.
    ending = "<pre>x</pre> fine\n```\n<!-- in code\n```\n<!-- done -->"
    assert f"\n{ending}\n" in to_markdown(conversation_of(typed_echo("u1", ending, "x")).ordered())
