"""Simulator: function calling (protocol reference §6.3): the matching rule, arguments, the wire."""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.server_helpers import (
    append_audio,
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
from tui.server.tools import argument_pieces, build_arguments, choose_tool, place_in, summarize_output

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["location"],
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "lookupTime",
    "description": "Tell the local clock time in a timezone.",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
}
TOOLS = [TIME_TOOL, WEATHER_TOOL]


# ---- the rule ----------------------------------------------------------------------------------


def test_name_words_match_and_generic_verbs_do_not() -> None:
    assert choose_tool(TOOLS, "auto", "What is the weather like in London?", after_tool_output=False) is WEATHER_TOOL
    assert choose_tool(TOOLS, "auto", "What time is it in Tokyo?", after_tool_output=False) is TIME_TOOL
    assert choose_tool(TOOLS, "auto", "Get me a sandwich.", after_tool_output=False) is None


def test_two_description_words_match_one_does_not() -> None:
    tool = {"type": "function", "name": "f1", "description": "Books a table at a restaurant for dinner."}
    assert choose_tool([tool], "auto", "Find a restaurant for dinner", after_tool_output=False) is tool
    assert choose_tool([tool], "auto", "I had dinner", after_tool_output=False) is None


def test_tool_choice_modes() -> None:
    heard = "Tell me a joke"
    assert choose_tool(TOOLS, "none", "weather in Paris", after_tool_output=False) is None
    assert choose_tool(TOOLS, "required", heard, after_tool_output=False) is TIME_TOOL
    assert choose_tool(TOOLS, "required", "weather please", after_tool_output=False) is WEATHER_TOOL
    named = {"type": "function", "name": "get_weather"}
    assert choose_tool(TOOLS, named, heard, after_tool_output=True) is WEATHER_TOOL
    assert choose_tool(TOOLS, {"type": "function", "name": "missing"}, heard, after_tool_output=False) is None
    # auto answers a tool output in words instead of calling again.
    assert choose_tool(TOOLS, "auto", "weather in Paris", after_tool_output=True) is None
    assert choose_tool([{"type": "mcp", "server_label": "x"}], "required", heard, after_tool_output=False) is None


def test_arguments_follow_the_schema_and_what_was_heard() -> None:
    assert json.loads(build_arguments(WEATHER_TOOL, "What's the weather in New York today?")) == {
        "location": "New York"
    }
    assert json.loads(build_arguments(WEATHER_TOOL, "weather in paris in fahrenheit for three days")) == {
        "location": "Paris",
        "unit": "fahrenheit",
        "days": 3,
    }
    # Required properties are always there, with a plausible value when nothing was said.
    assert json.loads(build_arguments(WEATHER_TOOL, "weather please")) == {"location": "San Francisco"}
    assert json.loads(build_arguments(TIME_TOOL, "time")) == {"timezone": "example"}
    search = {
        "type": "function",
        "name": "search",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "safe": {"type": "boolean"}, "tags": {"type": "array"}},
            "required": ["query", "safe", "tags"],
        },
    }
    assert json.loads(build_arguments(search, "search for cheap flights")) == {
        "query": "search for cheap flights",
        "safe": False,
        "tags": ["example"],
    }
    assert build_arguments({"type": "function", "name": "ping"}, "ping") == "{}"


def test_places_and_pieces() -> None:
    assert place_in("is it raining in the city of Rome tomorrow") == "Rome"
    assert place_in("flights from London to Buenos Aires") == "London"
    assert place_in("how are you today") is None
    arguments = '{"location":"London"}'
    pieces = argument_pieces(arguments)
    assert "".join(pieces) == arguments and len(pieces) == 5


def test_output_summaries() -> None:
    assert summarize_output('{"temperature_c": 18, "conditions": "sunny"}') == "temperature c 18, conditions sunny"
    assert summarize_output("plain text") == "plain text"
    assert summarize_output("[1, 2.0, true, null]") == "1, 2, yes, nothing"
    assert summarize_output("") == "no result"
    assert summarize_output("x" * 500).endswith("...")


# ---- over the wire -----------------------------------------------------------------------------


async def say(ws: ClientConnection, text: str) -> None:
    """A typed user message (the matching rule reads typed and spoken words alike)."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    await send(ws, {"type": "conversation.item.create", "item": item})
    await recv_until(ws, "conversation.item.done")


async def test_a_matching_turn_calls_the_function_then_answers_its_output(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"], tools=TOOLS, tool_choice="auto"))
        await recv(ws)
        await say(ws, "What is the weather like in London today?")
        await send(ws, {"type": "response.create"})
        call_events = await recv_until(ws, "response.done")
        call = call_events[-1]["response"]["output"][0]
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": call["call_id"], "output": '{"temp_c": 18}'},
            },
        )
        await recv_until(ws, "conversation.item.done")
        await send(ws, {"type": "response.create"})
        answer = await recv_until(ws, "response.done")
    names = types(call_events)
    deltas = names.count("response.function_call_arguments.delta")
    assert deltas >= 3
    assert names == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        *["response.function_call_arguments.delta"] * deltas,
        "response.function_call_arguments.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
    ]
    added = call_events[1]["item"]
    assert added["type"] == "function_call" and added["arguments"] == "" and added["status"] == "in_progress"
    assert added["name"] == "get_weather"
    assert added["call_id"].startswith("call_") and len(added["call_id"]) == 5 + 16
    streamed = "".join(e["delta"] for e in of_type(call_events, "response.function_call_arguments.delta"))
    done = of_type(call_events, "response.function_call_arguments.done")[0]
    assert done["arguments"] == streamed and json.loads(streamed) == {"location": "London"}
    assert done["name"] == "get_weather" and done["call_id"] == added["call_id"]
    for event in call_events[1:-1]:
        if "item_id" in event:
            assert event["item_id"] == added["id"]
    assert call == {**added, "status": "completed", "arguments": streamed}
    assert call_events[-1]["response"]["status"] == "completed"

    text = of_type(answer, "response.output_text.done")[0]["text"]
    assert text.startswith("According to get_weather:") and "18" in text
    assert "response.function_call_arguments.delta" not in types(answer)


async def test_no_tools_none_choice_and_spoken_turns(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await send(ws, session_patch(output_modalities=["text"], tools=TOOLS, tool_choice="none"))
        await recv(ws)
        await say(ws, "What is the weather like in London today?")
        await send(ws, {"type": "response.create"})
        words = await recv_until(ws, "response.done")
        # A response-level choice overrides the session's; spoken words match like typed ones.
        await append_audio(ws, speech_pcm24("what time is it in Paris"))
        await send(ws, {"type": "input_audio_buffer.commit"})
        await recv_until(ws, "conversation.item.done")
        await send(ws, {"type": "response.create", "response": {"tool_choice": "required", "tools": [TIME_TOOL]}})
        spoken = await recv_until(ws, "response.done")
        await send(ws, {"type": "response.create", "response": {"tool_choice": "sometimes"}})
        error = await recv(ws)
    assert "response.function_call_arguments.delta" not in types(words)
    assert of_type(spoken, "response.function_call_arguments.done")[0]["name"] == "lookupTime"
    assert error["type"] == "error" and error["error"]["param"] == "response.tool_choice"
