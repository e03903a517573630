"""Simulator: conversation.item.create / retrieve / delete / truncate."""

from __future__ import annotations

import base64

from tests.server_helpers import b64, client, recv, recv_until, send, speech_pcm24
from tui.server import Simulator


def user_text(text: str, item_id: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }
    if item_id:
        item["id"] = item_id
    return {"type": "conversation.item.create", "item": item}


async def test_created_items_are_added_then_done_in_order(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, user_text("first", "item_client_first"))
        added, done = await recv(ws), await recv(ws)
        await send(ws, user_text("second"))
        second_added, _ = await recv(ws), await recv(ws)
        await send(ws, {**user_text("zeroth"), "previous_item_id": "root"})
        root_added, _ = await recv(ws), await recv(ws)
    assert (added["type"], done["type"]) == ("conversation.item.added", "conversation.item.done")
    assert added["previous_item_id"] is None
    assert added["item"]["id"] == "item_client_first"
    assert added["item"]["object"] == "realtime.item"
    assert added["item"]["status"] == "completed"
    assert added["item"]["content"] == [{"type": "input_text", "text": "first"}]
    assert second_added["previous_item_id"] == "item_client_first"
    assert second_added["item"]["id"].startswith("item_")
    assert root_added["previous_item_id"] is None


async def test_audio_items_echo_without_bytes_and_retrieve_with_them(sim: Simulator) -> None:
    pcm = speech_pcm24("hello there")
    async with client(sim.url) as ws:
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "id": "item_with_audio",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_audio", "audio": b64(pcm), "transcript": "client text"}],
                },
            },
        )
        added = await recv(ws)
        await recv(ws)
        await send(ws, {"type": "conversation.item.retrieve", "item_id": "item_with_audio"})
        retrieved = await recv(ws)
    assert added["item"]["content"] == [{"type": "input_audio", "transcript": "client text"}]
    assert retrieved["type"] == "conversation.item.retrieved"
    part = retrieved["item"]["content"][0]
    assert base64.b64decode(part["audio"]) == pcm
    assert part["transcript"] == "client text"


async def test_unknown_items_and_bad_previous_ids_are_errors(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, {"type": "conversation.item.retrieve", "item_id": "item_nope", "event_id": "evt_r"})
        retrieve = await recv(ws)
        await send(ws, {"type": "conversation.item.delete", "item_id": "item_nope"})
        delete = await recv(ws)
        await send(ws, {**user_text("x"), "previous_item_id": "item_nope"})
        previous = await recv(ws)
        await send(ws, {"type": "conversation.item.create", "item": {"type": "message", "role": "robot"}})
        role = await recv(ws)
    assert retrieve["type"] == "error" and retrieve["error"]["event_id"] == "evt_r"
    assert "item_nope" in retrieve["error"]["message"]
    assert delete["type"] == "error" and delete["error"]["param"] == "item_id"
    assert previous["type"] == "error" and previous["error"]["param"] == "previous_item_id"
    assert role["type"] == "error" and role["error"]["param"] == "item.role"


async def test_delete_removes_the_item(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, user_text("gone soon", "item_doomed"))
        await recv(ws), await recv(ws)
        await send(ws, {"type": "conversation.item.delete", "item_id": "item_doomed"})
        deleted = await recv(ws)
        await send(ws, {"type": "conversation.item.retrieve", "item_id": "item_doomed"})
        after = await recv(ws)
    assert deleted == {
        "type": "conversation.item.deleted",
        "event_id": deleted["event_id"],
        "item_id": "item_doomed",
    }
    assert after["type"] == "error"


async def test_truncate_cuts_assistant_audio(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, user_text("tell me about the weather"))
        await recv(ws), await recv(ws)
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
        item_id = events[-1]["response"]["output"][0]["id"]
        await send(
            ws,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": 500,
            },
        )
        truncated = await recv_until(ws, "conversation.item.truncated")
        await send(
            ws,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": 90_000,
            },
        )
        too_long = await recv_until(ws, "error")
        await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
        retrieved = await recv_until(ws, "conversation.item.retrieved")
    assert truncated[-1]["audio_end_ms"] == 500
    assert "already shorter than 90000ms" in too_long[-1]["error"]["message"]
    assert len(base64.b64decode(retrieved[-1]["item"]["content"][0]["audio"])) == 500 * 48
