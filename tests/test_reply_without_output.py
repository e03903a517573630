"""A response that ends early before it made any item gets a row of its own: the reply the user
waited for, with why it never came (a quota, `turn_detected`, a cancel, a server error), which was
said only in the event log before."""

from __future__ import annotations

from typing import Any

from tests.app_helpers import screen_text, session_ready, wait_for
from tests.test_conversation import env, feed, user_turn
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import NO_OUTPUT, Conversation, TextState
from tui.conversation.export import ended_early, to_markdown
from tui.protocol import Direction
from tui.widgets.event_log import EventLog
from tui.widgets.transcript import render_item

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
    assert (row.id, row.role, row.kind, row.state) == ("resp_1", "assistant", NO_OUTPUT, TextState.DONE)
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
    assert conv.order == ["item_u1", "resp_1", "item_u2"]
    assert ended_early(conv.items["resp_1"]) == "cancelled (turn_detected)"


def test_a_reply_cut_by_a_message_typed_while_it_was_made_sits_above_that_message() -> None:
    """The second message's row came at once (our create), before the response began: the server's
    conversation did not hold it yet, so the reply's row goes above it."""
    conv = Conversation()
    message = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "the weather?"}]}
    conv.apply(env({"type": "conversation.item.create", "item": {"id": "item_u1", **message}}, Direction.OUT))
    feed(conv, [{"type": "conversation.item.added", "previous_item_id": None, "item": {"id": "item_u1", **message}}])
    conv.apply(env({"type": "conversation.item.create", "item": {"id": "item_u2", **message}}, Direction.OUT))
    feed(conv, [created("resp_1"), done("resp_1", "cancelled", {"type": "cancelled", "reason": "client_cancelled"})])
    assert conv.order == ["item_u1", "resp_1", "item_u2"]


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
    assert conv.order == ["item_alpha", "resp_1", "item_beta"]


def test_two_replies_without_output_keep_their_order_above_the_message_that_came_after() -> None:
    conv = Conversation()
    sent_and_echoed(conv, "item_first", None)
    cancelled = {"type": "cancelled", "reason": "client_cancelled"}
    feed(conv, [created("resp_1"), done("resp_1", "cancelled", cancelled), created("resp_2")])
    sent_and_echoed(conv, "item_second", None, echoed=False)  # typed while resp_2 was made
    feed(conv, [done("resp_2", "cancelled", cancelled)])
    echo(conv, "item_second", "item_first")
    assert conv.order == ["item_first", "resp_1", "resp_2", "item_second"]


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
        assert row.kind == NO_OUTPUT and row.id == response["id"]
        await wait_for(pilot, lambda: "no reply: the response ended" in screen_text(app), 10, "the row")
        assert "cancelled (client_cancelled)" in screen_text(app)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]  # the edge: OSC 52
        app.transcript.focus()
        assert app.transcript.select_item(response["id"])
        await pilot.press("y")
        assert copied == ["cancelled (client_cancelled): (no reply: the response ended before it made any output)"]
        # `o` on its response.done in the log: its row in the transcript.
        log = app.query_one(EventLog)
        log.focus()
        assert log.select_frame(done_frame.index)
        await pilot.press("o")
        await wait_for(pilot, lambda: app.transcript.selected == response["id"], 5, "the row selected")
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
