"""Round 27 review of the simulator against the official `openai` client and its realtime types.

Each test drives the real simulator over a loopback WebSocket with the official client (GA
`client.realtime.connect()` or beta `client.beta.realtime.connect()`), and every server event is
parsed by the SDK and judged against its pydantic event types (`tests.surface_helpers.Judged`).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server_helpers import b64, running_simulator, silence, speech_pcm24, types
from tests.surface_helpers import Judged, official_client, unchecked
from tui.protocol import Dialect
from tui.server import Simulator


def user_text(text: str) -> Any:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


# ---- assistant audio cannot be recreated by the client --------------------------------------------


async def test_a_client_cannot_create_an_assistant_audio_item(sim: Simulator) -> None:
    """The service reads assistant parts as text: `output_audio` is `missing_required_parameter` on
    `text` (openai/openai-agents-js#963), in `conversation.item.create` and in `response.input`."""
    audio_item = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_audio", "transcript": "Hello.", "audio": b64(silence(200))}],
    }
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.conversation.item.create(item=unchecked(audio_item), event_id="evt_audio")
        refused = await stream.next()
        await conn.response.create(
            response=unchecked({"conversation": "none", "output_modalities": ["text"], "input": [audio_item]}),
            event_id="evt_input",
        )
        refused_input = await stream.next()
        text_item = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]}
        await conn.conversation.item.create(item=unchecked(text_item))
        accepted = await stream.until("conversation.item.done")
    assert refused["type"] == "error"
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "missing_required_parameter",
        "message": "Missing required parameter: 'item.content[0].text'.",
        "param": "item.content[0].text",
        "event_id": "evt_audio",
    }
    assert (refused_input["error"]["code"], refused_input["error"]["param"], refused_input["error"]["event_id"]) == (
        "missing_required_parameter",
        "response.input[0].content[0].text",
        "evt_input",
    )
    assert types(accepted) == ["conversation.item.added", "conversation.item.done"]


async def test_a_beta_client_cannot_create_an_assistant_audio_item(beta_sim: Simulator) -> None:
    async with official_client(beta_sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        await stream.next()
        await conn.conversation.item.create(
            item={"type": "message", "role": "assistant", "content": [{"type": "audio", "transcript": "Hi."}]},
            event_id="evt_beta_audio",
        )
        refused = await stream.next()
    assert (refused["error"]["code"], refused["error"]["param"], refused["error"]["event_id"]) == (
        "missing_required_parameter",
        "item.content[0].text",
        "evt_beta_audio",
    )


# ---- the voice is locked once the model has spoken -------------------------------------------------


def voice_update(voice: str) -> Any:
    return {"type": "realtime", "audio": {"output": {"voice": voice}}}


async def test_the_voice_cannot_change_once_the_model_has_answered_with_audio(sim: Simulator) -> None:
    """SDK `voice` docs: "cannot be changed during the session once the model has responded with
    audio at least once"; the service's error is `cannot_update_voice` (openai/openai-python#2607)."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.conversation.item.create(item=user_text("hello moon"))
        await stream.until("conversation.item.done")
        await conn.response.create(response={"output_modalities": ["text"]})
        # rate_limits.updated follows response.done: wait for it so the next event is the answer.
        await stream.until("rate_limits.updated")
        await conn.session.update(session=voice_update("cedar"))
        after_text = await stream.next()
        await conn.response.create()
        spoken = await stream.until("rate_limits.updated")
        await conn.session.update(session=voice_update("ash"), event_id="evt_voice")
        refused = await stream.next()
        await conn.session.update(session=unchecked({**voice_update("cedar"), "instructions": "Be brief."}))
        same_voice = await stream.next()
    assert after_text["session"]["audio"]["output"]["voice"] == "cedar"
    assert "response.output_audio.delta" in types(spoken)
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "cannot_update_voice",
        "message": "Cannot update a conversation's voice if assistant audio is present.",
        "param": None,
        "event_id": "evt_voice",
    }
    # The refused update changed nothing; sending the current voice again is no change.
    assert same_voice["type"] == "session.updated"
    assert same_voice["session"]["audio"]["output"]["voice"] == "cedar"
    assert same_voice["session"]["instructions"] == "Be brief."


async def test_the_beta_voice_is_locked_too(beta_sim: Simulator) -> None:
    async with official_client(beta_sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        await stream.next()
        await conn.conversation.item.create(item=user_text("hello moon"))
        await stream.until("conversation.item.created")
        await conn.response.create()
        await stream.until("rate_limits.updated")
        await conn.session.update(session={"voice": "echo"})
        refused = await stream.next()
    assert refused["error"]["code"] == "cannot_update_voice"


# ---- gpt-realtime-whisper takes neither VAD nor a prompt --------------------------------------------


def whisper_input(session_type: str, **audio_in: Any) -> Any:
    return {"type": session_type, "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}, **audio_in}}}


@pytest.mark.parametrize("session_type", ["realtime", "transcription"])
async def test_streaming_whisper_needs_turn_detection_off_and_no_prompt(sim: Simulator, session_type: str) -> None:
    """SDK docs: "For `gpt-realtime-whisper` ... turn detection must be set to `null`; VAD is not
    supported" and "Prompt is not supported with `gpt-realtime-whisper`". The default session has
    server VAD on, so naming the model alone is refused."""
    query = {"intent": "transcription"} if session_type == "transcription" else {"model": "gpt-realtime"}
    async with official_client(sim).realtime.connect(extra_query=query) as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(session=unchecked(whisper_input(session_type)), event_id="evt_vad")
        with_vad = await stream.next()
        await conn.session.update(
            session=unchecked(whisper_input(session_type, turn_detection=None)),
        )
        accepted = await stream.next()
        prompted = whisper_input(session_type)
        prompted["audio"]["input"]["transcription"]["prompt"] = "London weather"
        await conn.session.update(session=unchecked(prompted), event_id="evt_prompt")
        with_prompt = await stream.next()
    assert (with_vad["error"]["code"], with_vad["error"]["param"], with_vad["error"]["event_id"]) == (
        "invalid_value",
        "session.audio.input.turn_detection",
        "evt_vad",
    )
    audio_in = accepted["session"]["audio"]["input"]
    assert (audio_in["transcription"]["model"], audio_in["turn_detection"]) == ("gpt-realtime-whisper", None)
    assert (with_prompt["error"]["param"], with_prompt["error"]["event_id"]) == (
        "session.audio.input.transcription.prompt",
        "evt_prompt",
    )


# ---- request limits: metadata values are strings, tool descriptions are short ----------------------


async def test_response_metadata_is_string_pairs_within_the_documented_limits(sim: Simulator) -> None:
    """The SDK's `Metadata` is `Dict[str, str]`: at most 16 pairs, keys up to 64 characters and
    values up to 512. A number used to be echoed in `response.created`, which then failed the
    SDK's own event types."""
    refused: list[dict[str, Any]] = []
    bad = [
        ({"turn": 3}, "evt_type"),
        ({f"k{i}": "v" for i in range(17)}, "evt_pairs"),
        ({"k" * 65: "v"}, "evt_key"),
        ({"note": "x" * 513}, "evt_value"),
    ]
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        for value, event_id in bad:
            await conn.response.create(
                response=unchecked({"output_modalities": ["text"], "metadata": value}), event_id=event_id
            )
            refused.append(await stream.next())
        fine = {f"k{i}": "v" * 512 for i in range(16)}
        await conn.response.create(response={"output_modalities": ["text"], "metadata": fine})
        answered = await stream.until("response.done")
    assert [(e["error"]["code"], e["error"]["param"], e["error"]["event_id"]) for e in refused] == [
        ("invalid_type", "response.metadata.turn", "evt_type"),
        ("object_above_max_properties", "response.metadata", "evt_pairs"),
        ("string_above_max_length", "response.metadata", "evt_key"),
        ("string_above_max_length", "response.metadata.note", "evt_value"),
    ]
    assert refused[3]["error"]["message"] == (
        "Invalid 'response.metadata.note': string too long. Expected a string with maximum length 512, "
        "but got a string with length 513 instead."
    )
    assert answered[0]["response"]["metadata"] == answered[-1]["response"]["metadata"] == fine


def tool(description: str) -> Any:
    return {"type": "function", "name": "get_weather", "description": description, "parameters": {}}


async def test_a_tool_description_over_1024_characters_is_refused(sim: Simulator) -> None:
    """As the service answered in livekit/agents#1183: `string_above_max_length` on the
    description, and the whole update (its instructions too) is dropped."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        created = await stream.next()
        await conn.session.update(
            session={"type": "realtime", "instructions": "Be brief.", "tools": [tool("x" * 1025)]},
            event_id="evt_tools",
        )
        refused = await stream.next()
        await conn.response.create(response={"tools": [tool("y" * 2000)]})
        refused_response = await stream.next()
        await conn.session.update(session={"type": "realtime", "tools": [tool("z" * 1024)]})
        accepted = await stream.next()
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "string_above_max_length",
        "message": "Invalid 'session.tools[0].description': string too long. Expected a string with maximum "
        "length 1024, but got a string with length 1025 instead.",
        "param": "session.tools[0].description",
        "event_id": "evt_tools",
    }
    assert refused_response["error"]["param"] == "response.tools[0].description"
    assert accepted["session"]["instructions"] == created["session"]["instructions"]
    assert accepted["session"]["tools"] == [tool("z" * 1024)]


async def test_a_beta_tool_description_over_1024_characters_is_refused(beta_sim: Simulator) -> None:
    async with official_client(beta_sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        await stream.next()
        await conn.session.update(session={"tools": [tool("x" * 2473)]})
        refused = await stream.next()
        await conn.response.create(response=unchecked({"modalities": ["text"], "metadata": {"turn": 1}}))
        refused_metadata = await stream.next()
    assert (refused["error"]["code"], refused["error"]["param"]) == (
        "string_above_max_length",
        "session.tools[0].description",
    )
    assert (refused_metadata["error"]["code"], refused_metadata["error"]["param"]) == (
        "invalid_type",
        "response.metadata.turn",
    )


# ---- what session.updated echoes must be what the SDK's types accept --------------------------------

MCP_TOOL: dict[str, Any] = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://example.invalid/mcp",
    "allowed_tools": ["search"],
    "require_approval": "never",
    "headers": {"X-Test": "1"},
}


async def test_mcp_tools_and_prompt_variables_are_checked_like_the_sdk_types(sim: Simulator) -> None:
    """Both used to be free-form: an MCP tool without `server_label` or with a field of its own,
    or a prompt variable that is a number, was accepted and echoed in `session.updated`, which
    the SDK's `Mcp` and `ResponsePrompt` types then refused."""
    bad: list[tuple[dict[str, Any], str]] = [
        ({"tools": [{"type": "mcp", "server_url": "https://example.invalid/mcp"}]}, "session.tools[0].server_label"),
        ({"tools": [{**MCP_TOOL, "bogus": 1}]}, "session.tools[0].bogus"),
        ({"tools": [{**MCP_TOOL, "headers": {"X-Retries": 3}}]}, "session.tools[0].headers.X-Retries"),
        ({"prompt": {"id": "pmpt_1", "variables": {"count": 5}}}, "session.prompt.variables.count"),
    ]
    variables = {"city": "London", "note": {"type": "input_text", "text": "rainy"}}
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        refused = []
        for patch, _ in bad:
            await conn.session.update(session=unchecked({"type": "realtime", **patch}))
            refused.append(await stream.next())
        await conn.response.create(response=unchecked({"tools": [{"type": "mcp"}]}))
        refused_response = await stream.next()
        await conn.session.update(
            session=unchecked(
                {"type": "realtime", "tools": [MCP_TOOL], "prompt": {"id": "pmpt_1", "variables": variables}}
            )
        )
        accepted = await stream.next()
    assert [(e["type"], e["error"]["param"]) for e in refused] == [("error", param) for _, param in bad]
    assert refused_response["error"]["param"] == "response.tools[0].server_label"
    assert accepted["session"]["tools"] == [MCP_TOOL]
    assert accepted["session"]["prompt"]["variables"] == variables


async def test_mcp_allowed_callers_are_direct_or_programmatic(sim: Simulator) -> None:
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(
            session=unchecked({"type": "realtime", "tools": [{**MCP_TOOL, "allowed_callers": ["assistant"]}]})
        )
        answer = await stream.next()
    assert answer["type"] == "error"


async def test_a_response_input_error_names_the_input_path_in_its_message_too(sim: Simulator) -> None:
    """The message said `'item.role'` while `param` said `response.input[0].role`."""
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.response.create(
            response=unchecked(
                {
                    "conversation": "none",
                    "input": [{"type": "message", "content": [{"type": "input_text", "text": "x"}]}],
                }
            )
        )
        refused = await stream.next()
    assert refused["error"]["param"] == "response.input[0].role"
    assert refused["error"]["message"] == "Missing required parameter: 'response.input[0].role'."


async def test_prompt_variables_take_every_field_the_sdk_declares(sim: Simulator) -> None:
    breakpoint_ = {"mode": "explicit", "ttl": "30m"}
    variables = {
        "note": {"type": "input_text", "text": "rainy", "prompt_cache_breakpoint": breakpoint_},
        "map": {"type": "input_image", "detail": "auto", "image_url": "https://example.invalid/map.png"},
        "doc": {"type": "input_file", "file_id": "file_1", "filename": "a.pdf"},
    }
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(
            session=unchecked({"type": "realtime", "prompt": {"id": "pmpt_1", "variables": variables}})
        )
        accepted = await stream.next()
    assert accepted["session"]["prompt"]["variables"] == variables


async def test_a_beta_forced_function_is_echoed_by_its_bare_name(beta_sim: Simulator) -> None:
    """Beta's `tool_choice` is a string (the SDK's beta `Session.tool_choice: str`); the simulator
    echoed its GA object `{"type": "function", "name": ...}`, which the beta types refuse."""
    weather = {"type": "function", "name": "get_weather", "description": "Weather in a city.", "parameters": {}}
    async with official_client(beta_sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        stream = Judged(conn, beta=True)
        await stream.next()
        await conn.session.update(
            session=unchecked({"tools": [weather], "tool_choice": "get_weather", "turn_detection": None})
        )
        updated = await stream.next()
        await conn.conversation.item.create(item=user_text("hello moon"))
        await stream.until("conversation.item.created")
        await conn.response.create(response={"modalities": ["text"]})
        answer = await stream.until("response.done")
    assert updated["session"]["tool_choice"] == "get_weather"
    assert answer[-1]["response"]["output"][0]["type"] == "function_call"
    assert answer[-1]["response"]["output"][0]["name"] == "get_weather"


async def test_switching_to_streaming_whisper_is_not_refused_for_an_earlier_model_s_prompt(sim: Simulator) -> None:
    async with official_client(sim).realtime.connect(model="gpt-realtime") as conn:
        stream = Judged(conn)
        await stream.next()
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe", "prompt": "London weather"}}},
            }
        )
        await stream.next()
        await conn.session.update(session=unchecked(whisper_input("realtime", turn_detection=None)))
        switched = await stream.next()
    assert switched["type"] == "session.updated", switched
    assert switched["session"]["audio"]["input"]["transcription"]["model"] == "gpt-realtime-whisper"


# ---- verified as conforming: the order of a voice turn, in both dialects ----------------------------

TRANSCRIPT = "conversation.item.input_audio_transcription."


def position(events: list[dict[str, Any]], event_type: str, **fields: Any) -> int:
    """Index of the first event of `event_type` whose fields match."""
    return next(
        i
        for i, e in enumerate(events)
        if e["type"] == event_type
        and all(e.get(k) == v or (e.get("item") or {}).get(k) == v for k, v in fields.items())
    )


@pytest.mark.parametrize("beta", [False, True], ids=["ga", "beta"])
async def test_a_voice_turn_comes_in_the_documented_order(beta: bool) -> None:
    """Protocol reference §4.3, §5, §6.1: speech_started, speech_stopped, committed, the user item
    (GA added then done, beta created), the response; transcription after the item, deltas before
    completed; rate_limits.updated after response.done. Every event judged by the SDK's types."""
    dialect = Dialect.BETA if beta else Dialect.GA
    async with running_simulator(response_speed=0, dialect=dialect) as sim:
        client = official_client(sim)
        connect = (
            client.beta.realtime.connect(model="gpt-4o-realtime-preview")
            if beta
            else client.realtime.connect(model="gpt-realtime")
        )
        async with connect as conn:
            stream = Judged(conn, beta=beta)
            await stream.next()
            transcription = {"model": "gpt-4o-transcribe"}
            vad = {"type": "server_vad"}
            await conn.session.update(
                session=unchecked(
                    {"input_audio_transcription": transcription, "turn_detection": vad}
                    if beta
                    else {
                        "type": "realtime",
                        "audio": {"input": {"transcription": transcription, "turn_detection": vad}},
                    }
                )
            )
            await stream.next()
            pcm = silence(300) + speech_pcm24("what is the weather like in London") + silence(800)
            for start in range(0, len(pcm), 960):
                await conn.input_audio_buffer.append(audio=b64(pcm[start : start + 960]))
            events = await stream.until("rate_limits.updated", timeout=30)
            if TRANSCRIPT + "completed" not in types(events):
                events += await stream.until(TRANSCRIPT + "completed", timeout=30)
    user = events[0]["item_id"]
    item_event = "conversation.item.created" if beta else "conversation.item.added"
    order = [
        position(events, "input_audio_buffer.speech_started", item_id=user),
        position(events, "input_audio_buffer.speech_stopped", item_id=user),
        position(events, "input_audio_buffer.committed", item_id=user),
        position(events, item_event, id=user),
        *([] if beta else [position(events, "conversation.item.done", id=user)]),
        position(events, "response.created"),
        position(events, "response.done"),
        position(events, "rate_limits.updated"),
    ]
    assert order == sorted(order), types(events)
    deltas = [i for i, e in enumerate(events) if e["type"] == TRANSCRIPT + "delta"]
    completed = position(events, TRANSCRIPT + "completed", item_id=user)
    assert deltas and position(events, item_event, id=user) < deltas[0] and deltas[-1] < completed
    assert "conversation.item.done" not in types(events) if beta else "conversation.item.created" not in types(events)
