"""The transcript export (Markdown and JSON) says where each item came from, how it ended, which
server session it belongs to, and when, with the time's UTC offset."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from tui.conversation import Conversation, Origin
from tui.conversation.export import to_json, to_markdown
from tui.protocol import Direction, Envelope, serialize

_seq = itertools.count(1)
WALL = 1_795_000_000.0
"""A fixed wall-clock time for every frame (2026-11-18), so the exported times are known."""


def received(data: dict[str, Any]) -> Envelope:
    return Envelope(next(_seq), Direction.IN, data["type"], data, serialize(data), mono=1.0, wall=WALL)


def connection(state: str, target: str = "") -> Envelope:
    data = {"type": "rt.connection", "message": state, "state": state, "target": target}
    return Envelope(next(_seq), Direction.LOCAL, "rt.connection", data, serialize(data), mono=1.0, wall=WALL)


def typed(item_id: str, text: str, prev: str | None = None) -> list[Envelope]:
    """A user message sent with `conversation.item.create`, as the GA server echoes it."""
    item = {
        "id": item_id,
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_text", "text": text}],
    }
    return [
        received({"type": "conversation.item.added", "previous_item_id": prev, "item": item}),
        received({"type": "conversation.item.done", "previous_item_id": prev, "item": item}),
    ]


def delta(event: str, response_id: str, item_id: str, text: str) -> dict[str, Any]:
    return {"type": event, "response_id": response_id, "item_id": item_id, "delta": text}


def reply(item_id: str, response_id: str, text: str, status: str = "completed") -> list[Envelope]:
    """An assistant reply as the GA server streams it, ending with `response.done` of `status`."""
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    done = {**item, "status": status if status != "cancelled" else "incomplete"}
    return [
        received({"type": "response.output_item.added", "response_id": response_id, "item": item}),
        received({"type": "conversation.item.added", "previous_item_id": None, "item": item}),
        received(delta("response.output_audio_transcript.delta", response_id, item_id, text)),
        received({"type": "response.done", "response": {"id": response_id, "status": status, "output": [done]}}),
    ]


def feed(envs: list[Envelope]) -> Conversation:
    conv = Conversation()
    for env in envs:
        conv.apply(env)
    return conv


def test_a_typed_user_message_is_exported_as_created_not_as_a_response() -> None:
    conv = feed([*typed("item_u1", "hello there"), *reply("item_a1", "resp_1", "Hi!")])
    user, assistant = conv.ordered()
    assert user.origin is Origin.CREATE
    assert assistant.origin is Origin.RESPONSE  # the reply's own `conversation.item.added` does not change it
    records = json.loads(to_json(conv.ordered()))
    assert [(r["role"], r["origin"]) for r in records] == [("user", "create"), ("assistant", "response")]


def test_a_response_item_echoed_before_its_output_item_added_is_still_a_response() -> None:
    item = {"id": "item_a1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    conv = feed(
        [
            received({"type": "conversation.item.added", "previous_item_id": None, "item": item}),
            received({"type": "response.output_item.added", "response_id": "resp_1", "item": item}),
        ]
    )
    assert conv.items["item_a1"].origin is Origin.RESPONSE


def test_a_cancelled_or_cut_off_reply_is_marked_in_the_markdown_head() -> None:
    conv = feed(
        [
            *typed("item_u1", "tell me a story"),
            *reply("item_a1", "resp_1", "Once upon a", status="cancelled"),
            *typed("item_u2", "again", prev="item_a1"),
            received({"type": "response.output_item.added", "response_id": "resp_2", "item": {"id": "item_a2"}}),
            received(delta("response.output_text.delta", "resp_2", "item_a2", "There was")),
            connection("closed"),
        ]
    )
    markdown = to_markdown(conv.ordered())
    heads = [line for line in markdown.splitlines() if line.startswith("**Assistant**")]
    assert len(heads) == 2
    assert heads[0].startswith("**Assistant** · cancelled"), heads[0]
    assert heads[1].startswith("**Assistant** · cut off: the connection ended"), heads[1]
    user_heads = [line for line in markdown.splitlines() if line.startswith("**You**")]
    assert all("·" not in head.split("*(")[0] for head in user_heads)  # a whole item carries no mark


def test_the_json_export_keeps_the_session_separators() -> None:
    conv = feed(
        [
            connection("connecting", "wss://example.test/v1/realtime"),
            *typed("item_u1", "first"),
            connection("closed"),
            connection("connecting", "wss://example.test/v1/realtime"),
            *typed("item_u2", "second"),
        ]
    )
    markdown = to_markdown(conv.ordered())
    assert "new session" in markdown
    records = json.loads(to_json(conv.ordered()))
    assert [r["role"] for r in records] == ["user", "session", "user"]
    separator = records[1]
    assert separator["text"].startswith("new session") and separator["time"] is not None
    assert "origin" not in separator  # a separator is not an item: it has no origin, state or status


def test_exported_times_carry_their_utc_offset_in_markdown_and_json() -> None:
    conv = feed(typed("item_u1", "hello"))
    (record,) = json.loads(to_json(conv.ordered()))
    stamp = datetime.fromisoformat(record["time"])
    assert stamp.utcoffset() is not None
    assert stamp.timestamp() == WALL
    assert record["time"] in to_markdown(conv.ordered())


def test_the_markdown_says_what_it_is_of_under_its_title() -> None:
    conv = feed([*typed("item_u1", "hello")])
    text = to_markdown(conv.ordered(), ["simulator · 127.0.0.1:8765", "session sess_`x`", "exported 2026-12-05"])
    assert text.splitlines()[:4] == [
        "# Conversation",
        "",
        "`simulator · 127.0.0.1:8765` · `` session sess_`x` `` · `exported 2026-12-05`",  # server text: code spans
        "",
    ]
    without = to_markdown(conv.ordered()).splitlines()
    assert without[2].startswith("**") and without[2:] == text.splitlines()[4:]  # no line when nothing is known
