"""The simulator's limits: valid Unicode in and out, the frame size limit, and bounded memory.

Memory is bounded per connection (input buffer, conversation, outbound queue, recognition
backlog) and in total (the budget across connections), and released when a connection ends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from tests.server_helpers import (
    b64,
    client,
    of_type,
    recv,
    recv_until,
    running_simulator,
    send,
    session_patch,
    silence,
    speech_pcm24,
)
from tui.server import Simulator
from tui.server.audio_format import InputDecoder, Upsampler
from tui.server.budget import OVERLOADED_CLOSE_CODE, MemoryBudget
from tui.server.g711 import ulaw_decode
from tui.server.hearing import MAX_RECOGNITIONS_IN_FLIGHT, MAX_RECOGNITIONS_WAITING
from tui.server.item_store import ItemStore, StoredItem
from tui.server.writer import SLOW_CLIENT_CLOSE_CODE

MiB = 1024 * 1024
FAILED = "conversation.item.input_audio_transcription.failed"
COMPLETED = "conversation.item.input_audio_transcription.completed"


async def eventually(condition: Callable[[], bool], *, timeout: float = 15.0) -> None:
    """Wait until `condition()` holds (polled), or fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def still_answers(ws: ClientConnection) -> None:
    """The connection still works: a valid event gets its answer."""
    await send(ws, {"type": "input_audio_buffer.clear"})
    await recv_until(ws, "input_audio_buffer.cleared")


def user_text(text: str) -> str:
    """A conversation.item.create frame whose text is written as given (escapes included)."""
    return (
        '{"type":"conversation.item.create","event_id":"evt_text","item":{"type":"message","role":"user",'
        '"content":[{"type":"input_text","text":"' + text + '"}]}}'
    )


# ---- Unicode -------------------------------------------------------------------------------

SURROGATE_FRAMES = {
    "item text": (user_text("a\\ud800b"), "item.content[0].text", "\\ud800", "evt_text"),
    "instructions": (
        '{"type":"session.update","event_id":"evt_i","session":{"type":"realtime","instructions":"\\udfff"}}',
        "session.instructions",
        "\\udfff",
        "evt_i",
    ),
    "tool name": (
        '{"type":"session.update","session":{"type":"realtime","tools":[{"type":"function","name":"x\\ud83d"}]}}',
        "session.tools[0].name",
        "\\ud83d",
        None,
    ),
    "event type": ('{"type":"response.\\ud800"}', "type", "\\ud800", None),
    "object key": (
        '{"type":"session.update","session":{"type":"realtime","\\udc00":1}}',
        "session.\\udc00",
        "\\udc00",
        None,
    ),
    "event id": ('{"type":"response.cancel","event_id":"\\ud800"}', "event_id", "\\ud800", None),
    "response instructions": (
        '{"type":"response.create","event_id":"evt_r","response":{"instructions":"ok \\ud801"}}',
        "response.instructions",
        "\\ud801",
        "evt_r",
    ),
}


@pytest.mark.parametrize("case", SURROGATE_FRAMES)
async def test_a_lone_surrogate_is_invalid_json_and_the_socket_stays(sim: Simulator, case: str) -> None:
    frame, path, escape, event_id = SURROGATE_FRAMES[case]
    async with client(sim.url) as ws:
        await ws.send(frame)
        error = await recv(ws)
        await still_answers(ws)
    assert error["type"] == "error", error
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_json", path)
    assert error["error"]["event_id"] == event_id
    # The message names the escape as the client wrote it, never the unencodable character.
    assert escape in error["error"]["message"]


async def test_a_surrogate_pair_is_one_character_and_accepted(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await ws.send(user_text("smile \\ud83d\\ude00"))
        added = (await recv_until(ws, "conversation.item.added"))[-1]
    assert added["item"]["content"][0]["text"] == "smile \U0001f600"


async def test_the_writer_never_fails_on_a_surrogate(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the input check, the string reaches the writer: it goes out as U+FFFD, the
    # connection stays (before: UnicodeEncodeError in websockets, dropped without a close frame).
    monkeypatch.setattr("tui.server.connection.may_hold_surrogates", lambda raw: False)
    async with client(sim.url) as ws:
        await ws.send(user_text("a\\ud800b"))
        added = (await recv_until(ws, "conversation.item.added"))[-1]
        await still_answers(ws)
    assert added["item"]["content"][0]["text"] == "a\ufffdb"


# ---- frame size ----------------------------------------------------------------------------


def append_frame(total_size: int) -> str:
    """An `input_audio_buffer.append` frame of exactly `total_size` characters (silence)."""
    head, tail = '{"type":"input_audio_buffer.append","audio":"', '"}'
    body = total_size - len(head) - len(tail)
    # Base64 comes in groups of four; JSON allows the remainder as trailing whitespace.
    return head + "A" * (body - body % 4) + tail + " " * (body % 4)


@contextlib.asynccontextmanager
async def refusing_client(url: str) -> AsyncIterator[ClientConnection]:
    """A raw client for frames the server refuses; not closed again once the server closed it.

    (CPython 3.11's selector transport, after flushing its last bytes to a peer that has gone,
    loses its loop without marking the connection lost, and a second close crashes in asyncio.)
    """
    ws = await connect(f"{url}?model=gpt-realtime", compression=None, max_size=64 * MiB)
    try:
        assert (await recv(ws))["type"] == "session.created"
        yield ws
    finally:
        if ws.state is not State.CLOSED:
            await ws.close()


async def refused_with(ws: ClientConnection, frame: str) -> tuple[int | None, str]:
    """Send a frame the server must refuse; the close frame's code and reason."""
    await ws.send(frame)
    with pytest.raises(ConnectionClosed):
        await recv(ws)
    assert ws.protocol.close_rcvd is not None, "the simulator must send a close frame"
    return ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason


async def test_the_default_frame_limit_is_16_mib(sim: Simulator) -> None:
    async with refusing_client(sim.url) as ws:
        await ws.send(append_frame(16 * MiB))
        await still_answers(ws)
        code, reason = await refused_with(ws, append_frame(16 * MiB + 1))
    assert code == 1009
    assert str(16 * MiB + 1) in reason and str(16 * MiB) in reason


async def test_the_frame_limit_is_configurable() -> None:
    async with running_simulator(max_frame_bytes=64 * 1024) as small, refusing_client(small.url) as ws:
        await ws.send(append_frame(64 * 1024))
        await still_answers(ws)
        code, reason = await refused_with(ws, append_frame(100_000))
    assert code == 1009
    assert "100000" in reason and "65536" in reason


# ---- the input audio buffer ----------------------------------------------------------------


async def test_a_g711_append_over_the_buffer_is_refused_before_decoding(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[int] = []
    original = InputDecoder.decode

    def spy(self: InputDecoder, data: bytes) -> bytes:
        decoded.append(len(data))
        return original(self, data)

    monkeypatch.setattr(InputDecoder, "decode", spy)
    pcmu = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}, "turn_detection": None}}}
    async with client(sim.url) as ws:
        await send(ws, {"type": "session.update", "session": pcmu})
        await recv_until(ws, "session.updated")
        # 11 minutes of μ-law (5.3 MB) would decode to 32 MB of PCM16: refused on its wire size.
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(b"\xff" * (11 * 60 * 8000))})
        error = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.commit"})
        empty = await recv(ws)
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_value", "audio")
    assert empty["error"]["code"] == "input_audio_buffer_commit_empty"
    assert decoded == []


def test_g711_is_decoded_in_steps_with_the_same_samples() -> None:
    wire = bytes(range(256)) * 100  # every code, in more than three one-second steps
    whole = Upsampler().process(ulaw_decode(wire)).astype("<i2").tobytes()
    assert InputDecoder({"type": "audio/pcmu"}).decode(wire) == whole


# ---- the recognition backlog ---------------------------------------------------------------


async def test_turns_committed_faster_than_recognized_are_failed_not_queued(sim: Simulator) -> None:
    turn = speech_pcm24("hello there") + silence(100)
    turns = 24
    async with client(sim.url) as ws:
        await send(ws, session_patch(transcription="gpt-4o-transcribe"))
        await recv_until(ws, "session.updated")
        for _ in range(turns):
            await send(ws, {"type": "input_audio_buffer.append", "audio": b64(turn)})
            await send(ws, {"type": "input_audio_buffer.commit"})
        committed: list[str] = []
        outcome: dict[str, dict[str, Any]] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while len(committed) < turns or len(outcome) < turns:
            event = await recv(ws, timeout=max(deadline - loop.time(), 0.1))
            if event["type"] == "input_audio_buffer.committed":
                committed.append(event["item_id"])
            elif event["type"] in (COMPLETED, FAILED):
                outcome[event["item_id"]] = event
        await still_answers(ws)
    refused = [item for item in committed if outcome[item].get("error", {}).get("code") == "rate_limit_exceeded"]
    # Every turn has exactly one outcome; the first ones waited their turn, later ones were refused.
    assert set(outcome) == set(committed)
    assert refused, "a burst of commits must overflow the recognition backlog"
    accepted = MAX_RECOGNITIONS_IN_FLIGHT + MAX_RECOGNITIONS_WAITING
    assert not set(refused) & set(committed[:accepted])
    assert all(outcome[item]["type"] == COMPLETED for item in committed[:accepted])


# ---- the conversation ----------------------------------------------------------------------


def audio_item(pcm: bytes) -> dict[str, Any]:
    """A user message carrying audio."""
    return {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": b64(pcm)}]}


async def retrieved_audio(ws: ClientConnection, item_id: str) -> int:
    """Bytes of audio `conversation.item.retrieved` carries for an item."""
    await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})
    item = (await recv_until(ws, "conversation.item.retrieved"))[-1]["item"]
    return sum(len(base64.b64decode(part.get("audio") or "")) for part in item["content"])


async def test_the_conversation_releases_the_oldest_audio_past_its_cap() -> None:
    clip = bytes(400 * 1024)
    async with running_simulator(max_conversation_bytes=MiB) as small, client(small.url) as ws:
        ids = []
        for _ in range(3):
            await send(ws, {"type": "conversation.item.create", "item": audio_item(clip)})
            ids.append((await recv_until(ws, "conversation.item.added"))[-1]["item"]["id"])
        sizes = [await retrieved_audio(ws, item_id) for item_id in ids]
        over = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x" * MiB}]}
        await send(ws, {"type": "conversation.item.create", "event_id": "evt_big", "item": over})
        error = await recv(ws)
        held = small.budget.total
    assert sizes == [0, len(clip), len(clip)]
    assert (error["error"]["code"], error["error"]["param"], error["error"]["event_id"]) == (
        "invalid_value",
        "item",
        "evt_big",
    )
    assert held <= MiB


async def test_audio_faster_than_real_time_keeps_the_conversation_bounded() -> None:
    # Server VAD on (the default): every turn is committed and answered while the next one
    # already streams in, far faster than real time.
    turn = speech_pcm24("turn on the kitchen lights") + silence(800)
    cap = 512 * 1024
    async with running_simulator(response_speed=0, max_conversation_bytes=cap) as small:
        async with connect(f"{small.url}?model=gpt-realtime", max_size=None) as ws:
            await recv(ws)
            events: list[dict[str, Any]] = []

            async def read() -> None:
                async for raw in ws:
                    events.append(json.loads(raw))

            reader = asyncio.create_task(read())
            step = 100 * 48
            for _ in range(20):
                for start in range(0, len(turn), step):
                    await send(ws, {"type": "input_audio_buffer.append", "audio": b64(turn[start : start + step])})
            await eventually(lambda: len(of_type(events, "input_audio_buffer.committed")) >= 20, timeout=60)
            reader.cancel()
            committed = [event["item_id"] for event in of_type(events, "input_audio_buffer.committed")]
            held = [await retrieved_audio(ws, item_id) for item_id in committed]
    assert sum(held) <= cap
    assert held[-1] > 0 and held[0] == 0


# ---- the outbound queue and the total --------------------------------------------------------


async def flood_without_reading(ws: ClientConnection, retrieves: int) -> None:
    """Create an audio item, then ask for it `retrieves` times without reading the answers."""
    await send(ws, {"type": "conversation.item.create", "item": audio_item(bytes(2 * 48_000))})
    item_id = (await recv_until(ws, "conversation.item.added"))[-1]["item"]["id"]
    for _ in range(retrieves):
        await send(ws, {"type": "conversation.item.retrieve", "item_id": item_id})


async def closed_with(ws: ClientConnection) -> tuple[int | None, str]:
    """Read to the end; the close frame's code and reason (None when no close frame came)."""
    try:
        while True:
            await recv(ws, timeout=30)
    except ConnectionClosed:
        pass
    return (ws.protocol.close_rcvd.code if ws.protocol.close_rcvd is not None else None), ws.close_reason or ""


async def test_connections_together_are_capped_and_the_greediest_is_closed_1013() -> None:
    options = {"max_total_buffered_bytes": 4 * MiB, "max_queued_bytes": 64 * MiB}
    async with running_simulator(**options) as small:
        async with (
            client(small.url) as reading,
            connect(f"{small.url}?model=gpt-realtime", max_size=None, max_queue=1) as greedy,
        ):
            await recv(greedy)
            # About 25 MB asked for: past the 4 MiB total once the socket buffers are full.
            await flood_without_reading(greedy, 100)
            code, reason = await closed_with(greedy)
            await still_answers(reading)
            after_eviction = small.budget.total
        await eventually(lambda: small.budget.connections == 0)
        released = small.budget.total
    assert code == OVERLOADED_CLOSE_CODE
    assert "memory limit" in reason and "4.0 MiB" in reason
    assert after_eviction <= 4 * MiB
    assert released == 0


async def test_one_connection_over_its_own_limit_is_closed_1008_and_released() -> None:
    async with running_simulator(max_queued_bytes=MiB) as small:
        async with connect(f"{small.url}?model=gpt-realtime", max_size=None, max_queue=1) as greedy:
            await recv(greedy)
            await flood_without_reading(greedy, 100)
            code, reason = await closed_with(greedy)
            # Released at once, before the connection has even finished closing.
            await eventually(lambda: small.budget.total == 0)
    assert (code, reason) == (SLOW_CLIENT_CLOSE_CODE, "client is not reading")


async def test_everything_is_released_when_a_connection_ends() -> None:
    async with running_simulator(response_speed=1.0) as slow:
        await eventually(lambda: slow.budget.connections == 0)
        baseline_tasks = len(asyncio.all_tasks())
        async with client(slow.url) as ws:
            await send(ws, session_patch(transcription="gpt-4o-transcribe"))
            await recv_until(ws, "session.updated")
            await send(ws, {"type": "conversation.item.create", "item": audio_item(speech_pcm24("hello"))})
            await send(ws, {"type": "input_audio_buffer.append", "audio": b64(speech_pcm24("what time is it"))})
            await send(ws, {"type": "input_audio_buffer.commit"})
            await send(ws, {"type": "input_audio_buffer.append", "audio": b64(silence(2000))})
            await send(ws, {"type": "response.create"})
            await recv_until(ws, "response.created")
            holding = slow.budget.total
        await eventually(lambda: slow.budget.connections == 0)
        await eventually(lambda: len(asyncio.all_tasks()) <= baseline_tasks)
        assert holding > 0
        assert slow.budget.total == 0


# ---- units ---------------------------------------------------------------------------------


async def test_the_budget_ends_the_connection_holding_the_most() -> None:
    budget = MemoryBudget(100)
    ended: list[tuple[str, str]] = []
    big = budget.open(lambda reason: ended.append(("big", reason)))
    small = budget.open(lambda reason: ended.append(("small", reason)))
    big.add(60)
    small.add(30)
    await asyncio.sleep(0)
    assert ended == []
    small.add(20)  # 110: over; the victim is the one holding 60, not the one that charged
    small.add(5)  # still over, but a victim is already being released
    assert ended == []  # never inside the charge
    await asyncio.sleep(0)
    assert [who for who, _ in ended] == ["big"]
    assert "server memory limit" in ended[0][1]
    big.add(-60)
    big.close()
    small.close()
    assert (budget.total, budget.connections, budget.evictions) == (0, 0, 1)


def test_the_item_store_counts_what_it_holds() -> None:
    counted = [0]

    def meter(delta: int) -> None:
        counted[0] += delta

    store = ItemStore(max_bytes=10_000, meter=meter)
    for index in range(5):
        item = {"id": f"item_{index}", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
        store.insert(StoredItem(item, {0: bytes(3000)}), None)
        assert counted[0] == store.held <= 10_000
    call = {"id": "item_call", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
    store.insert(StoredItem(call), "root")
    assert store.has_call("call_1") and counted[0] == store.held
    assert [len(store.get(f"item_{i}").audio) for i in range(5)] == [0, 0, 0, 1, 1]  # type: ignore[union-attr]
    store.delete("item_call")
    assert not store.has_call("call_1") and counted[0] == store.held
    store.clear()
    assert counted[0] == store.held == 0
