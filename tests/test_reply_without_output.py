"""A response that ends early before it made any item gets a row of its own: the reply the user
waited for, with why it never came (a quota, `turn_detected`, a cancel, a server error), which was
said only in the event log before."""

from __future__ import annotations

from typing import Any

from tests.app_helpers import screen_text, session_ready, wait_for
from tests.test_conversation import env, feed, user_turn
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import NO_OUTPUT, NO_OUTPUT_PREFIX, Conversation, TextState
from tui.conversation.export import ended_early, to_markdown
from tui.protocol import Direction
from tui.widgets.event_log import EventLog
from tui.widgets.transcript import render_item

ROW_1 = NO_OUTPUT_PREFIX + "resp_1"

QUOTA = {
    "type": "failed",
    "error": {
        "type": "insufficient_quota",
        "code": "insufficient_quota",
        "message": "You exceeded your current quota.",
    },
}


def created(resp_id: str) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": resp_id, "status": "in_progress", "output": []}}


def done(resp_id: str, status: str, details: dict[str, Any] | None, output: list[Any] | None = None) -> dict[str, Any]:
    response = {"id": resp_id, "status": status, "status_details": details, "output": output or []}
    return {"type": "response.done", "response": response}


def test_a_failed_response_without_output_is_a_row_that_says_why() -> None:
    conv = Conversation()
    feed(conv, [*user_turn("item_u1", None), created("resp_1"), done("resp_1", "failed", QUOTA)])
    row = conv.ordered()[-1]
    assert (row.id, row.role, row.kind, row.state) == (ROW_1, "assistant", NO_OUTPUT, TextState.DONE)
    assert row.response_id == "resp_1"
    assert ended_early(row) == "failed (insufficient_quota: You exceeded your current quota.)"
    # The pane: the code in the head, the service's message below it (whole in the head, with its
    # web address, it took six lines of a narrow pane).
    head, _, body = render_item(row).plain.partition("\n")
    assert head.endswith("failed (insufficient_quota)") and body == "(no reply: You exceeded your current quota.)"
    assert "**Assistant** · failed (insufficient_quota" in to_markdown(conv.ordered())


def test_a_reply_cut_by_the_next_turn_sits_above_that_turn() -> None:
    """`turn_detected`: the next turn's row came before the response's end; the row goes where the
    reply would have been, after the turn it answered."""
    conv = Conversation()
    feed(conv, [*user_turn("item_u1", None), created("resp_1")])
    conv.apply(env({"type": "input_audio_buffer.speech_started", "item_id": "item_u2", "audio_start_ms": 900}))
    feed(conv, [done("resp_1", "cancelled", {"type": "cancelled", "reason": "turn_detected"})])
    assert conv.order == ["item_u1", ROW_1, "item_u2"]
    assert ended_early(conv.items[ROW_1]) == "cancelled (turn_detected)"


def test_a_reply_cut_by_a_message_typed_while_it_was_made_sits_above_that_message() -> None:
    """The second message's row came at once (our create), before the response began: the server's
    conversation did not hold it yet, so the reply's row goes above it."""
    conv = Conversation()
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "the weather?"}]}
    conv.apply(env({"type": "conversation.item.create", "item": {"id": "item_u1", **message}}, Direction.OUT))
    feed(conv, [{"type": "conversation.item.added", "previous_item_id": None, "item": {"id": "item_u1", **message}}])
    conv.apply(env({"type": "conversation.item.create", "item": {"id": "item_u2", **message}}, Direction.OUT))
    feed(conv, [created("resp_1"), done("resp_1", "cancelled", {"type": "cancelled", "reason": "client_cancelled"})])
    assert conv.order == ["item_u1", ROW_1, "item_u2"]


def sent_and_echoed(conv: Conversation, item_id: str, previous: str | None, *, echoed: bool = True) -> None:
    message = {"id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": item_id}]}
    conv.apply(env({"type": "conversation.item.create", "item": message}, Direction.OUT))
    if echoed:
        echo(conv, item_id, previous)


def echo(conv: Conversation, item_id: str, previous: str | None) -> None:
    message = {"id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": item_id}]}
    feed(conv, [{"type": "conversation.item.added", "previous_item_id": previous, "item": message}])


def test_a_retry_after_a_failed_reply_stays_below_the_failure() -> None:
    """The server chains the retry's item after the message before the failure (its chain has no
    failed reply): the retry still goes below the failure's row, which came first."""
    conv = Conversation()
    sent_and_echoed(conv, "item_alpha", None)
    feed(conv, [created("resp_1"), done("resp_1", "failed", QUOTA)])
    sent_and_echoed(conv, "item_beta", "item_alpha")
    assert conv.order == ["item_alpha", ROW_1, "item_beta"]


def test_two_replies_without_output_keep_their_order_above_the_message_that_came_after() -> None:
    conv = Conversation()
    sent_and_echoed(conv, "item_first", None)
    cancelled = {"type": "cancelled", "reason": "client_cancelled"}
    feed(conv, [created("resp_1"), done("resp_1", "cancelled", cancelled), created("resp_2")])
    sent_and_echoed(conv, "item_second", None, echoed=False)  # typed while resp_2 was made
    feed(conv, [done("resp_2", "cancelled", cancelled)])
    echo(conv, "item_second", "item_first")
    assert conv.order == ["item_first", ROW_1, NO_OUTPUT_PREFIX + "resp_2", "item_second"]


def test_no_row_when_a_reply_appeared_without_naming_its_response() -> None:
    """A server that adds the reply with `conversation.item.added` alone (no response id, no output
    list in its failed `response.done`): the reply is there, so no row says none came."""
    conv = Conversation()
    item = {"id": "item_a", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "hi"}]}
    feed(conv, [created("resp_1"), {"type": "conversation.item.added", "previous_item_id": None, "item": item}])
    feed(conv, [done("resp_1", "failed", QUOTA)])
    assert conv.order == ["item_a"]


def test_no_row_for_a_response_that_made_an_item_or_completed() -> None:
    conv = Conversation()
    feed(conv, [created("resp_1"), done("resp_1", "completed", None)])  # nothing to say: it said nothing
    item = {"id": "item_a", "type": "message", "role": "assistant", "status": "incomplete", "content": []}
    feed(
        conv,
        [
            created("resp_2"),
            {"type": "response.output_item.added", "response_id": "resp_2", "output_index": 0, "item": item},
            done("resp_2", "cancelled", {"type": "cancelled", "reason": "client_cancelled"}, [item]),
        ],
    )
    assert conv.order == ["item_a"] and conv.items["item_a"].status == "cancelled"


async def test_a_reply_cancelled_before_any_output_shows_in_the_transcript(simulator_url: str) -> None:
    """Against the real simulator: `response.create` then at once `response.cancel` (the reply is
    still being composed): the server ends it cancelled with no output, and the pane says so."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        assert app.session is not None
        app.session.send({"type": "response.create"})
        app.session.send({"type": "response.cancel"})
        await wait_for(pilot, lambda: any(f.type == "response.done" for f in app.journal), 15, "the response's end")
        done_frame = next(f for f in app.journal if f.type == "response.done")
        assert done_frame.data is not None
        response = done_frame.data["response"]
        assert response["status"] == "cancelled" and response["output"] == [], response
        row = app.conversation.ordered()[-1]
        assert row.kind == NO_OUTPUT and row.response_id == response["id"]
        await wait_for(pilot, lambda: "no reply: the response ended" in screen_text(app), 10, "the row")
        assert "cancelled (client_cancelled)" in screen_text(app)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]  # the edge: OSC 52
        app.transcript.focus()
        assert app.transcript.select_item(row.id)
        await pilot.press("y")
        assert copied == ["cancelled (client_cancelled): (no reply: the response ended before it made any output)"]
        # `o` on its response.done in the log: its row in the transcript.
        log = app.query_one(EventLog)
        log.focus()
        assert log.select_frame(done_frame.index)
        await pilot.press("o")
        await wait_for(pilot, lambda: app.transcript.selected == row.id, 5, "the row selected")
        assert app.transcript.has_focus


def test_a_long_reason_is_cut_in_a_row_s_head_and_kept_whole_in_the_exports() -> None:
    """The service's quota message with its web address took six lines of an 80-column pane's head."""
    message = "You exceeded your current quota, please check your plan and billing details: https://example.test/x"
    details = {"type": "failed", "error": {"code": "insufficient_quota", "message": message}}
    item = {"id": "item_a", "type": "message", "role": "assistant", "status": "incomplete", "content": []}
    conv = Conversation()
    feed(
        conv,
        [
            created("resp_1"),
            {"type": "response.output_item.added", "response_id": "resp_1", "output_index": 0, "item": item},
            {"type": "response.output_text.delta", "response_id": "resp_1", "item_id": "item_a", "delta": "The"},
            done("resp_1", "failed", details, [item]),
        ],
    )
    [reply] = conv.ordered()
    head = render_item(reply).plain.splitlines()[0]
    assert head.startswith("assistant  failed (insufficient_quota: You exceeded") and head.endswith("…)"), head
    assert len(head) < len("assistant  failed ()") + 64 + 1
    assert message in to_markdown(conv.ordered())


def test_output_listed_only_in_the_response_s_end_is_not_a_reply_that_never_came() -> None:
    """A log without the streaming events (a client's own JSONL): the output is in response.done."""
    conv = Conversation()
    reply = {"id": "item_a", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}
    feed(conv, [created("resp_1"), done("resp_1", "incomplete", {"reason": "max_output_tokens"}, [reply])])
    assert not any(item.kind == NO_OUTPUT for item in conv.items.values())


def test_an_item_the_client_adds_while_a_response_runs_does_not_hide_its_failure() -> None:
    conv = Conversation()
    feed(conv, [*user_turn("item_u1", None), created("resp_1")])
    system = {"id": "item_sys", "type": "message", "role": "system", "content": [{"type": "input_text", "text": "x"}]}
    conv.apply(env({"type": "conversation.item.create", "item": system}, Direction.OUT))
    feed(conv, [done("resp_1", "failed", QUOTA)])
    assert ROW_1 in conv.order


def test_a_reply_cut_before_anything_else_was_said_goes_first() -> None:
    """The assistant speaks first (a greeting), cut by the user's first turn: above that turn."""
    conv = Conversation()
    feed(conv, [created("resp_1")])
    conv.apply(env({"type": "input_audio_buffer.speech_started", "item_id": "item_u1", "audio_start_ms": 100}))
    feed(conv, [done("resp_1", "cancelled", {"type": "cancelled", "reason": "turn_detected"})])
    assert conv.order == [ROW_1, "item_u1"]


def test_only_a_response_that_ended_early_has_the_row() -> None:
    """`in_progress` in a response.done (a server's bug): not a reply cut short, no row."""
    conv = Conversation()
    feed(conv, [created("resp_1"), done("resp_1", "in_progress", None)])
    assert conv.order == []


def test_a_response_id_that_is_also_an_item_s_keeps_both_rows() -> None:
    conv = Conversation()
    feed(conv, [*user_turn("x1", None), created("x1"), done("x1", "failed", QUOTA)])
    assert conv.order == ["x1", NO_OUTPUT_PREFIX + "x1"] and conv.items["x1"].role == "user"


def test_an_error_given_as_a_string_is_shown_whole_not_split_as_a_code() -> None:
    details = {"type": "failed", "error": "Internal error: upstream timed out"}
    conv = Conversation()
    feed(conv, [created("resp_1"), done("resp_1", "failed", details)])
    head, _, body = render_item(conv.items[ROW_1]).plain.partition("\n")
    assert head.endswith("failed (Internal error: upstream timed out)"), head
    assert body == "(no reply: the response ended before it made any output)"
