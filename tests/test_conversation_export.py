"""The transcript export with the frames of a real simulator: a function call keeps its name and
call_id (the assistant made the call, the client sent its output), and an out-of-band reply is
kept but marked as outside the conversation."""

from __future__ import annotations

import json
from typing import Any

from tests.server_helpers import client, recv_until, send, session_patch
from tui.conversation import Conversation, Origin
from tui.conversation.export import to_json, to_markdown
from tui.protocol import Direction, Envelope, next_seq, serialize
from tui.server import Simulator

SET_LIGHTS = {
    "type": "function",
    "name": "set_lights",
    "description": "Switch the lights of a room on or off.",
    "parameters": {
        "type": "object",
        "properties": {"room": {"type": "string"}, "on": {"type": "boolean"}},
        "required": ["room", "on"],
    },
}


def typed(text: str) -> dict[str, Any]:
    """A user's typed message, as `conversation.item.create`."""
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


def conversation_of(events: list[dict[str, Any]]) -> Conversation:
    """The conversation the reducer builds from these server events, in the order they came."""
    conv = Conversation()
    for data in events:
        conv.apply(Envelope(next_seq(), Direction.IN, data["type"], data, serialize(data)))
    return conv


async def function_call_turn(sim: Simulator) -> tuple[list[dict[str, Any]], str]:
    """A typed turn the simulator answers with a `set_lights` call, then the client's output for
    it: every server event, and the call's call_id."""
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"], tools=[SET_LIGHTS], tool_choice="auto"))
        events = await recv_until(ws, "session.updated")
        await send(ws, typed("turn the lights on in the kitchen"))
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
        (call,) = [e["item"] for e in events if e["type"] == "response.output_item.done"]
        assert call["type"] == "function_call" and call["name"] == "set_lights", call
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"ok": true}'}
        await send(ws, {"type": "conversation.item.create", "item": output})
        events += await recv_until(ws, "conversation.item.done")
    return events, call["call_id"]


async def test_the_json_export_names_the_function_and_its_call_id(sim: Simulator) -> None:
    events, call_id = await function_call_turn(sim)
    records = json.loads(to_json(conversation_of(events).ordered()))
    user, call, output = records
    assert (call["kind"], call["name"], call["call_id"]) == ("function_call", "set_lights", call_id)
    assert json.loads(call["text"])["room"]  # the arguments stay the text, as before
    # The output names its call, and the function that call named (found by call_id).
    assert (output["kind"], output["name"], output["call_id"]) == ("function_call_output", "set_lights", call_id)
    assert output["text"] == '{"ok": true}'
    # Older fields keep their names and values; a message has no function name or call id.
    assert call["role"] == output["role"] == "tool" and call["origin"] == "response"
    assert (user["name"], user["call_id"]) == (None, None)


async def test_the_markdown_export_says_the_assistant_called_the_function_and_the_client_answered(
    sim: Simulator,
) -> None:
    events, call_id = await function_call_turn(sim)
    conv = conversation_of(events)
    markdown = to_markdown(conv.ordered())
    lines = markdown.splitlines()
    (call_head,) = [line for line in lines if line.startswith("**Assistant** called")]
    assert call_head.startswith(f"**Assistant** called `set_lights` (`{call_id}`)"), call_head
    arguments = lines[lines.index(call_head) + 2 : lines.index(call_head) + 5]
    (call,) = [item for item in conv.ordered() if item.kind == "function_call"]
    assert arguments == ["```json", call.text.strip(), "```"]  # the arguments as a code block
    (output_head,) = [line for line in lines if line.startswith("**Client**")]
    assert output_head.startswith(f"**Client** returned the output of `set_lights` (`{call_id}`)"), output_head
    assert lines[lines.index(output_head) + 2 : lines.index(output_head) + 5] == ["```json", '{"ok": true}', "```"]
    assert "**Tool**" not in markdown


async def test_an_out_of_band_reply_is_kept_and_marked_outside_the_conversation(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"]))
        events = await recv_until(ws, "session.updated")
        await send(ws, typed("hello there"))
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
        out_of_band = {"conversation": "none", "output_modalities": ["text"], "instructions": "Classify the topic."}
        await send(ws, {"type": "response.create", "response": out_of_band})
        events += await recv_until(ws, "response.done")
    conv = conversation_of(events)
    user, reply, side = conv.ordered()
    assert reply.origin is Origin.RESPONSE and not reply.out_of_band
    assert side.role == "assistant" and side.text and side.origin is Origin.OUT_OF_BAND and side.out_of_band
    records = json.loads(to_json(conv.ordered()))
    assert [(r["origin"], r["out_of_band"]) for r in records] == [
        ("create", False),
        ("response", False),
        ("out_of_band", True),
    ]
    heads = [line for line in to_markdown(conv.ordered()).splitlines() if line.startswith("**Assistant**")]
    assert "out of band: not in the conversation" not in heads[0]
    assert heads[1].startswith("**Assistant** · out of band: not in the conversation"), heads[1]


def test_only_conversation_id_null_marks_a_reply_out_of_band_even_when_only_response_done_says_so() -> None:
    """`response.done` says `conversation_id: null` too: an item seen only through deltas (no
    `response.created`, no `output_item` naming the response) is marked when it lands. A response
    object without the field (an older or other server) says nothing: its reply is an ordinary one."""
    side = {"id": "item_side", "type": "message", "role": "assistant", "status": "completed", "content": []}
    reply = {"id": "item_a", "type": "message", "role": "assistant", "status": "completed", "content": []}
    conv = conversation_of(
        [
            {"type": "response.created", "response": {"id": "resp_1"}},
            {"type": "response.output_item.added", "response_id": "resp_1", "item": reply},
            {"type": "response.done", "response": {"id": "resp_1", "output": [reply]}},
            {"type": "response.output_text.delta", "item_id": "item_side", "delta": "sports"},
        ]
    )
    conv.take_changes()
    done: dict[str, Any] = {
        "type": "response.done",
        "response": {"id": "resp_x", "conversation_id": None, "output": [side]},
    }
    conv.apply(Envelope(next_seq(), Direction.IN, "response.done", done, serialize(done)))
    assert conv.items["item_side"].origin is Origin.OUT_OF_BAND
    assert "item_side" in conv.take_changes()  # the pane is told to draw it again
    assert conv.items["item_a"].origin is Origin.RESPONSE
