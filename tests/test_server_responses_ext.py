"""Simulator: per-response options, out-of-band responses, `input`, cancel targets and usage (§6)."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.server_helpers import (
    append_audio,
    b64,
    client,
    of_type,
    recv,
    recv_until,
    send,
    session_patch,
    speech_pcm24,
    types,
)
from tui.server import Simulator

CONVERSATION_EVENTS = {"conversation.item.added", "conversation.item.done"}


def user_text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}], **extra}


async def create_item(ws: ClientConnection, item: dict[str, Any]) -> str:
    await send(ws, {"type": "conversation.item.create", "item": item})
    events = await recv_until(ws, "conversation.item.done")
    return str(events[-1]["item"]["id"])


def of_response(events: list[dict[str, Any]], response_id: str) -> list[dict[str, Any]]:
    """The events of one response, by its id."""
    return [
        e for e in events if e.get("response_id") == response_id or (e.get("response") or {}).get("id") == response_id
    ]


async def test_response_options_override_the_session(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await create_item(ws, user_text("Is it sunny in Paris?"))
        await send(
            ws,
            {
                "type": "response.create",
                "response": {
                    "output_modalities": ["text"],
                    "instructions": "Transcribe the user's words verbatim.",
                    "metadata": {"purpose": "check"},
                    "max_output_tokens": 200,
                },
            },
        )
        events = await recv_until(ws, "response.done")
    created, done = events[0]["response"], events[-1]["response"]
    assert created["output_modalities"] == done["output_modalities"] == ["text"]
    assert created["metadata"] == done["metadata"] == {"purpose": "check"}
    assert created["max_output_tokens"] == 200
    assert "response.output_audio.delta" not in types(events)
    assert of_type(events, "response.output_text.done")[0]["text"] == "Is it sunny in Paris?"


async def test_out_of_band_runs_beside_the_default_response_outside_the_conversation(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await create_item(ws, user_text("What is the capital of France?"))
        await send(ws, {"type": "response.create"})
        first = await recv_until(ws, "response.output_audio.delta")
        default_id = first[0]["response"]["id"]
        await send(
            ws,
            {
                "type": "response.create",
                "response": {
                    "conversation": "none",
                    "output_modalities": ["text"],
                    "metadata": {"topic": "classification"},
                },
            },
        )
        events = first + await recv_until(ws, "response.done")
        oob_id = next(e["response"]["id"] for e in events if e["type"] == "response.created" and e is not first[0])
        if (events[-1]["response"]["id"]) != oob_id:
            events += await recv_until(ws, "response.done")
        await send(ws, {"type": "response.cancel", "response_id": default_id})
        events += await recv_until(ws, "response.done")
        oob_item = of_type(of_response(events, oob_id), "response.done")[0]["response"]["output"][0]
        await send(ws, {"type": "conversation.item.retrieve", "item_id": oob_item["id"], "event_id": "evt_r"})
        missing = await recv_until(ws, "error")
    assert "error" not in types(events)
    oob = of_response(events, oob_id)
    assert oob[0]["response"]["conversation_id"] is None
    assert oob[0]["response"]["metadata"] == oob[-1]["response"]["metadata"] == {"topic": "classification"}
    assert oob[-1]["response"]["status"] == "completed"
    assert oob_item["type"] == "message" and oob_item["content"][0]["type"] == "output_text"
    # Its item never entered the conversation.
    announced = {e["item"]["id"] for e in events if e["type"] in CONVERSATION_EVENTS}
    assert oob_item["id"] not in announced
    default_done = of_type(of_response(events, default_id), "response.done")[0]["response"]
    assert default_done["status"] == "cancelled" and default_done["conversation_id"].startswith("conv_")
    assert missing[-1]["error"]["event_id"] == "evt_r"


async def test_out_of_band_transcription_of_an_item_reference(sim: Simulator) -> None:
    """Recipe D: the model reads an item.create audio item that input transcription never sees."""
    audio_item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": b64(speech_pcm24("what is the weather like in London today"))}],
    }
    async with client(sim.url) as ws:
        audio_id = await create_item(ws, audio_item)
        await create_item(ws, user_text("something later"))
        await send(
            ws,
            {
                "type": "response.create",
                "response": {
                    "conversation": "none",
                    "output_modalities": ["text"],
                    "instructions": "Transcribe the last user turn verbatim.",
                    "input": [{"type": "item_reference", "id": audio_id}],
                    "metadata": {"kind": "transcript"},
                },
            },
        )
        events = await recv_until(ws, "response.done")
    assert not CONVERSATION_EVENTS & set(types(events))
    text = of_type(events, "response.output_text.done")[0]["text"].lower()
    assert "weather" in text and "later" not in text


async def test_input_items_replace_the_conversation(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await create_item(ws, user_text("Tell me about bananas"))
        request = {"output_modalities": ["text"], "input": [user_text("Is it raining in Rome?")]}
        await send(ws, {"type": "response.create", "response": request})
        inline = await recv_until(ws, "response.done")
        await send(ws, {"type": "response.create", "response": {"output_modalities": ["text"], "input": []}})
        empty = await recv_until(ws, "response.done")
        await send(
            ws,
            {
                "type": "response.create",
                "event_id": "evt_ref",
                "response": {"input": [{"type": "item_reference", "id": "item_nope"}]},
            },
        )
        bad_ref = await recv(ws)
        await send(ws, {"type": "response.create", "response": {"conversation": "elsewhere"}})
        bad_conversation = await recv(ws)
    inline_text = of_type(inline, "response.output_text.done")[0]["text"]
    assert "Rome" in inline_text and "bananas" not in inline_text
    # A default-conversation response with `input` still adds its answer to the conversation.
    assert CONVERSATION_EVENTS <= set(types(inline))
    assert "Hello" in of_type(empty, "response.output_text.done")[0]["text"]
    assert bad_ref["error"]["param"] == "response.input[0].id" and bad_ref["error"]["event_id"] == "evt_ref"
    assert bad_conversation["error"]["param"] == "response.conversation"


async def test_cancel_picks_the_default_response_then_out_of_band_ones(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await create_item(ws, user_text("Tell me a long story about the sea"))
        await send(ws, {"type": "response.create", "response": {"conversation": "none"}})
        await send(ws, {"type": "response.create"})
        created = [e for e in await recv_until(ws, "response.output_audio.delta") if e["type"] == "response.created"]
        if len(created) < 2:
            created += of_type(await recv_until(ws, "response.created"), "response.created")
        oob_id, default_id = (e["response"]["id"] for e in created)
        await send(ws, {"type": "response.cancel"})
        first = await recv_until(ws, "response.done")
        await send(ws, {"type": "response.cancel"})
        second = await recv_until(ws, "response.done")
        await send(ws, {"type": "response.cancel", "response_id": oob_id})
        error = await recv_until(ws, "error")
    assert first[-1]["response"]["id"] == default_id
    assert second[-1]["response"]["id"] == oob_id
    assert second[-1]["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert error[-1]["error"]["code"] == "response_cancel_not_active"


async def test_usage_counts_context_and_caches_long_prefixes(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"]))
        await recv(ws)
        await create_item(ws, user_text("lorem ipsum " * 400))
        await send(ws, {"type": "response.create"})
        first = await recv_until(ws, "response.done")
        after_first = await recv(ws)
        await append_audio(ws, speech_pcm24("and one more thing"))
        await send(ws, {"type": "input_audio_buffer.commit"})
        await recv_until(ws, "conversation.item.done")
        await send(ws, {"type": "response.create"})
        second = await recv_until(ws, "response.done")
    assert after_first["type"] == "rate_limits.updated"
    usage1, usage2 = first[-1]["response"]["usage"], second[-1]["response"]["usage"]
    for usage in (usage1, usage2):
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        details = usage["input_token_details"]
        assert usage["input_tokens"] == details["text_tokens"] + details["audio_tokens"] + details["image_tokens"]
        assert usage["output_tokens"] == sum(usage["output_token_details"].values())
        assert details["cached_tokens"] == sum(details["cached_tokens_details"].values())
    assert usage1["input_tokens"] >= 1200 and usage1["input_token_details"]["cached_tokens"] == 0
    cached = usage2["input_token_details"]["cached_tokens"]
    assert cached > 0 and cached % 64 == 0 and cached <= usage1["input_tokens"]
    assert usage2["input_token_details"]["audio_tokens"] > 0
