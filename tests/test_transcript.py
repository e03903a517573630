"""The transcript pane at an hour's scale: streaming repaints one block, history costs nothing."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from tests.app_helpers import wait_for
from tests.journal_helpers import received
from tui.conversation import Conversation, Item, Origin, TextState
from tui.widgets import Transcript, render_item
from tui.widgets.transcript import FLUSH_SLACK, MAX_REFRESH_HZ


class TranscriptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.conversation = Conversation()

    def compose(self) -> ComposeResult:
        yield Transcript()

    def feed(self, envs: list[object]) -> None:
        for env in envs:
            self.conversation.apply(env)  # type: ignore[arg-type]
        changed = self.conversation.take_changes()
        self.query_one(Transcript).sync(self.conversation.items, self.conversation.order, changed)


def history(turns: int) -> list[object]:
    envs: list[object] = []
    for n in range(turns):
        envs.append(
            received(
                "conversation.item.added",
                item={
                    "id": f"u{n}",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": f"question {n}"}],
                },
            )
        )
        envs.append(
            received(
                "response.output_audio_transcript.done",
                item_id=f"a{n}",
                response_id=f"r{n}",
                transcript=f"answer number {n} " * 6,
            )
        )
    return envs


def screen(transcript: Transcript) -> str:
    """The pane's lines as it draws them."""
    return "\n".join(transcript.render_line(y).text for y in range(transcript.size.height))


async def test_rows_arriving_in_bulk_are_counted_and_drawn_only_when_shown() -> None:
    """A replay or a busy stream brings rows by the hundred between two paints, most of them scrolled
    past before any: each was wrapped with Rich as it came (a repaint held 100 ms, in front of the
    user's key). They are counted, and drawn when shown: the screen is the one a whole render draws,
    at the end and at the top."""
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(200))
        await pilot.pause()
        assert transcript.renders < 30, transcript.renders  # the rows on screen, not the 400 that came
        assert "answer number 199" in screen(transcript)
        at_end = app.export_screenshot()
        transcript.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        assert "question 0" in screen(transcript) and transcript.renders < 60
        at_top = app.export_screenshot()
        transcript._blocks.clear()  # every row drawn again, whole
        transcript.refresh()
        await pilot.pause()
        assert app.export_screenshot() == at_top
        transcript.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert app.export_screenshot() == at_end


async def test_a_streaming_reply_renders_only_its_own_block_whatever_the_history() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(900))
        await pilot.pause(0.2)
        assert transcript.virtual_size.height > 1800
        before = transcript.renders
        for _ in range(40):
            app.feed(
                [received("response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=" word")]
            )
            await pilot.pause(0.01)
        await pilot.pause(0.2)
        rendered = transcript.renders - before
        # One block (the live reply) per repaint, repaints capped at 15 a second: never the history.
        assert 1 <= rendered <= 40
        assert "word word" in transcript.text()


async def test_a_reply_wrapping_onto_new_lines_lays_out_only_its_own_row() -> None:
    """A streaming reply that grows a line moves no row above it: the history is not laid out again
    (the whole layout runs once, when the reply's row appears), and the result is the layout a
    full pass gives."""
    from tests.test_event_log import record_calls

    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(900))
        await pilot.pause(0.2)
        full = record_calls(transcript, "_relayout")
        height = transcript.virtual_size.height
        for _ in range(60):
            app.feed(
                [received("response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=" word")]
            )
            await pilot.pause(0.02)
        await wait_for(pilot, lambda: transcript.text().count("word") == 60, 5, "the whole reply")
        assert transcript.virtual_size.height >= height + 3  # it wrapped onto new lines as it grew
        assert len(full) == 1  # the reply's row appearing; its growth never laid out the history
        heights, offsets, virtual = list(transcript._heights), list(transcript._offsets), transcript.virtual_size
        transcript._relayout()
        assert (transcript._heights, transcript._offsets, transcript.virtual_size) == (heights, offsets, virtual)
        transcript.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        bottom = "\n".join(transcript.render_line(y).text for y in range(transcript.size.height))
        assert "word word" in bottom and "answer number 899" in bottom


class TranscriptBesideAnInput(TranscriptApp):
    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        yield Transcript()
        yield Input()


async def test_new_turns_come_into_view_unless_the_user_is_moving_through_the_rows() -> None:
    """A selected row holds the view while the pane has the focus, and the corner says new rows came
    in below (End follows again); once the focus is elsewhere (`o` goes to the log), new turns show."""
    from textual.widgets import Input

    app = TranscriptBesideAnInput()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(20))
        await pilot.pause(0.2)
        transcript.focus()
        await pilot.press("up", "up", "up")
        held = transcript.scroll_offset.y
        app.feed(history(25)[40:])  # five more exchanges
        await pilot.pause(0.2)
        assert transcript.scroll_offset.y == held and transcript.scroll_offset.y < transcript.max_scroll_y
        assert "new rows below" in str(transcript.border_subtitle)
        await pilot.press("end")
        assert transcript.scroll_offset.y == transcript.max_scroll_y and "new rows" not in str(
            transcript.border_subtitle
        )
        await pilot.press("up")  # a row selected, at the end of the view; then the focus leaves the pane
        app.query_one(Input).focus()
        await pilot.pause()
        app.feed(history(30)[50:])
        await pilot.pause(0.2)
        assert transcript.selected is not None and transcript.scroll_offset.y == transcript.max_scroll_y
        assert "answer number 29" in "\n".join(transcript.render_line(y).text for y in range(transcript.size.height))


def shown(transcript: Transcript) -> str:
    """The text the pane shows now."""
    return "\n".join(transcript.render_line(y).text for y in range(transcript.size.height))


async def test_a_pane_following_the_end_still_shows_it_after_the_window_shrinks_and_rows_come() -> None:
    """Shrinking the window moves the end below the view without any scroll: a view that read "am I
    at the end?" off its scroll position stopped following there, and new turns stayed out of sight."""
    app = TranscriptApp()
    async with app.run_test(size=(120, 40)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(20))
        await wait_for(pilot, lambda: "answer number 19" in shown(transcript), 5, "the last exchange")
        await pilot.resize_terminal(80, 20)
        await wait_for(pilot, lambda: "answer number 19" in shown(transcript), 5, "the end after the resize")
        app.feed(history(22)[40:])  # two more exchanges
        await wait_for(pilot, lambda: "answer number 21" in shown(transcript), 5, "the new exchanges")
        assert "new rows below" not in str(transcript.border_subtitle)


async def test_only_recent_blocks_keep_their_lines_and_old_rows_still_show_and_change() -> None:
    from tui.widgets.transcript import CACHED_BLOCKS

    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(900))
        await pilot.pause()
        assert len(transcript._blocks) <= CACHED_BLOCKS  # 1,800 items, their heights all known
        height = transcript.virtual_size.height
        transcript.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        assert "question 0" in screen(transcript) and "answer number 0" in screen(transcript)
        # A late change to an old row whose lines were dropped: re-rendered, taller, and laid out again.
        longer = "a much longer answer that wraps onto several lines of the pane " * 4
        app.feed([received("response.output_audio_transcript.done", item_id="a0", response_id="r0", transcript=longer)])
        await wait_for(pilot, lambda: transcript.virtual_size.height > height, 5, "the old row to grow")
        assert "a much longer answer" in screen(transcript) and "question 1" in screen(transcript)
        transcript.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "answer number 899" in screen(transcript)
        assert len(transcript._blocks) <= CACHED_BLOCKS


async def test_a_deferred_repaint_waits_while_the_app_holds_streaming_repaints_back() -> None:
    """After a key, the app holds streaming repaints back (`paint_after`) so the key's own screen
    update goes first: the transcript's deferred repaint waits for it, then runs."""
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(3))
        await pilot.pause()
        hold = [time.monotonic() + 60]
        transcript.paint_after = lambda: hold[0]
        app.feed([received("response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=" one")])
        app.feed([received("response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=" two")])
        renders = transcript.renders
        transcript._flush_later()  # the deferred repaint's timer firing while held back
        assert transcript.renders == renders and "live" in transcript._dirty
        hold[0] = 0.0
        transcript._flush_later()
        assert not transcript._dirty  # the live reply's row taken in at once (drawn as it is painted)
        await pilot.pause()
        assert "one two" in "\n".join(transcript.render_line(y).text for y in range(transcript.size.height))


async def test_a_repaint_due_within_a_screen_frame_is_done_with_the_app_s_refresh() -> None:
    """The app refreshes its views 15 times a second, timed from its pump's tick, a little before the
    transcript flushes in that refresh: the next refresh found the flush due a few milliseconds
    later, deferred it, and the transcript came as a screen update of its own. Due within
    `FLUSH_SLACK`, it is done at once; due later, it still waits (deltas coalesce)."""
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(3))
        await pilot.pause()
        interval = 1 / MAX_REFRESH_HZ
        for due_in, at_once in ((0.004, True), (FLUSH_SLACK * 2, False)):
            await wait_for(pilot, lambda: not transcript._flush_pending, 5, "the last repaint")
            transcript._last_flush = time.monotonic() - interval + due_in
            delta = received("response.output_audio_transcript.delta", item_id="live", response_id="rl", delta=" w")
            app.feed([delta])
            taken = not transcript._dirty and not transcript._flush_pending
            assert taken is at_once, (due_in, transcript._dirty, transcript._flush_pending)


def test_a_failed_transcription_does_not_claim_a_latency() -> None:
    item = Item(
        id="u",
        role="user",
        origin=Origin.BUFFER,
        has_audio=True,
        state=TextState.FAILED,
        error="audio_unintelligible: no speech",
        committed_at=1.0,
        text_done_at=1.001,
    )
    text = render_item(item).plain
    assert "transcript in" not in text and "transcription failed: audio_unintelligible" in text
    item.state, item.text = TextState.DONE, "hello"
    assert "transcript in 1 ms" in render_item(item).plain
    item.text_done_at = 4.004  # past a second, in seconds: "3004 ms" wrapped its unit in a narrow pane
    assert "transcript in 3.0 s" in render_item(item).plain


def test_a_user_row_whose_transcription_streams_says_transcribing() -> None:
    user = Item(id="u", role="user", origin=Origin.BUFFER, has_audio=True, state=TextState.STREAMING, text="what is")
    assert "transcribing…" in render_item(user).plain and "streaming…" not in render_item(user).plain
    reply = Item(id="a", role="assistant", state=TextState.STREAMING, text="It is")
    assert "streaming…" in render_item(reply).plain


def test_server_text_is_plain_text_never_markup() -> None:
    item = Item(id="a", role="assistant", text="[bold]not bold[/bold] [/x]", state=TextState.DONE)
    assert "[bold]not bold[/bold] [/x]" in render_item(item).plain


def test_the_conversation_exports_as_markdown_and_json() -> None:
    from tui.conversation.export import to_json, to_markdown

    conversation = Conversation()
    for env in history(2):
        conversation.apply(env)  # type: ignore[arg-type]
    failed = Item(id="u9", role="user", origin=Origin.BUFFER, has_audio=True, state=TextState.FAILED, error="bad audio")
    items = [*conversation.ordered(), failed]
    markdown = to_markdown(items)
    assert "**You**" in markdown and "question 0" in markdown and "**Assistant**" in markdown
    assert "(transcription failed: bad audio)" in markdown
    records = __import__("json").loads(to_json(items))
    assert [r["role"] for r in records] == ["user", "assistant", "user", "assistant", "user"]
    assert records[0]["text"] == "question 0" and records[0]["time"] is not None
    assert records[-1]["text_state"] == "failed" and records[-1]["error"] == "bad audio"


async def test_home_selects_the_first_row_and_o_without_a_row_says_how_to_select_one() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 30)) as pilot:
        transcript = app.query_one(Transcript)
        app.feed(history(20))
        await wait_for(pilot, lambda: "answer number 19" in shown(transcript), 5, "the last exchange")
        transcript.focus()
        await pilot.press("o")
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        [notice] = list(app._notifications)
        assert "Select a row first" in notice.message
        await pilot.press("home")
        assert transcript.selected == "u0" and transcript.scroll_offset.y == 0
        assert "question 0" in shown(transcript)


def test_an_out_of_band_reply_is_marked_as_not_in_the_conversation() -> None:
    """A reply to `response.create` with `conversation: "none"` looks like a turn unless it says it
    is not one: its head says so (the exports' words) and its words are dimmed."""
    kept_out = Item(id="a1", role="assistant", origin=Origin.OUT_OF_BAND, text="a summary", state=TextState.DONE)
    text = render_item(kept_out)
    assert text.plain.splitlines()[0] == "assistant  out of band: not in the conversation"
    ordinary = render_item(Item(id="a2", role="assistant", text="a turn", state=TextState.DONE))
    assert "out of band" not in ordinary.plain
