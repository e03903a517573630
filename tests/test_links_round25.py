"""Round 25 (links): an append refused by an error that names no frame (a client that sends no
`event_id`, as the official SDK does) adds no audio to the server's clock, so it must not stay on
ours: every later server-VAD turn would end a chunk late."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

from tests.journal_helpers import connecting, frame, received
from tests.server_helpers import client, session_patch, silence, speech_pcm24
from tests.test_links_round24 import CHUNK, GA_PCM, linked, vad_turn
from tests.test_voice_turns import QUESTION
from tui.protocol import Direction, Envelope
from tui.server import Simulator

REFUSAL = {"type": "invalid_request_error", "code": "invalid_value", "param": "audio", "event_id": None}
"""What a server answers an append whose audio is not base64, to a client that sent no event_id."""


def unnamed_append(audio: str) -> Envelope:
    """An append as the official SDK sends it: no event_id."""
    return frame(Direction.OUT, {"type": "input_audio_buffer.append", "audio": audio})


def test_an_append_refused_without_event_id_is_the_one_that_is_not_base64() -> None:
    """Ten appends of 20 ms, the 3rd not base64 (refused, answered after the 5th): the error is
    linked to it, and the server's clock holds 9 × 20 ms. A turn ending at 160 ms ends with the 9th
    append (appends 1-2 and 4-9 hold 0-160 ms), where the refused one's 8 bytes left on our clock
    made it end at the 10th."""
    good = base64.b64encode(bytes(CHUNK)).decode()
    appends = [unnamed_append("not base64!" if n == 2 else good) for n in range(10)]
    refusal = received("error", error=REFUSAL)
    envs = [connecting(), GA_PCM, *appends[:5], refusal, *appends[5:]]
    envs += vad_turn("item_1", 0, 160)
    links = linked(envs)
    at = {id(env): i for i, env in enumerate(envs)}
    assert links.made["item_1"][-1] == at[id(appends[8])]
    assert links.cause_of[7].cause == at[id(appends[2])]


def test_an_append_refused_for_no_reason_it_shows_takes_the_latest_off_the_clock() -> None:
    """Every append reads as base64 (the refusal is of something else in one: its size, say), so
    which one was refused is not known: no link, and the latest one's 20 ms come off the clock,
    which keeps the next turn's split exact (9 × 20 ms on the server's clock, as ours)."""
    good = base64.b64encode(bytes(CHUNK)).decode()
    appends = [unnamed_append(good) for _ in range(10)]
    envs = [connecting(), GA_PCM, *appends[:5], received("error", error=REFUSAL), *appends[5:]]
    envs += vad_turn("item_1", 0, 100) + vad_turn("item_2", 100, 180)
    links = linked(envs)
    at = {id(env): i for i, env in enumerate(envs)}
    assert 7 not in links.cause_of  # a wrong link is worse than none
    assert links.made["item_2"] == [at[id(env)] for env in appends[6:]]


def test_two_unreadable_appends_link_neither() -> None:
    """Two appends that are not base64, one refusal without event_id: which it answers is not known."""
    good = base64.b64encode(bytes(CHUNK)).decode()
    appends = [unnamed_append("%%" if n in (1, 3) else good) for n in range(5)]
    envs = [connecting(), GA_PCM, *appends, received("error", error=REFUSAL)]
    assert 7 not in linked(envs).cause_of


def test_a_second_refusal_names_the_second_unreadable_append() -> None:
    """Each refusal answers one append: after the first is linked (the only unreadable one then),
    the next refusal names the next unreadable one, not the first again."""
    good = base64.b64encode(bytes(CHUNK)).decode()
    appends = [unnamed_append("%%" if n in (1, 4) else good) for n in range(6)]
    first, second = received("error", error=REFUSAL), received("error", error=REFUSAL)
    envs = [connecting(), GA_PCM, *appends[:3], first, *appends[3:], second]
    links = linked(envs)
    at = {id(env): i for i, env in enumerate(envs)}
    assert links.cause_of[at[id(first)]].cause == at[id(appends[1])]
    assert links.cause_of[at[id(second)]].cause == at[id(appends[4])]


def test_a_refusal_without_event_id_about_another_field_leaves_the_clock_alone() -> None:
    """An error without event_id on `session.…` is no append's: the clock keeps every append."""
    good = base64.b64encode(bytes(CHUNK)).decode()
    appends = [unnamed_append(good) for _ in range(10)]
    refusal = received("error", error={**REFUSAL, "param": "session.voice"})
    envs = [connecting(), GA_PCM, *appends[:5], refusal, *appends[5:], *vad_turn("item_1", 0, 160)]
    links = linked(envs)
    at = {id(env): i for i, env in enumerate(envs)}
    assert links.made["item_1"][-1] == at[id(appends[7])]


async def test_the_simulators_refusal_of_an_sdk_clients_append_keeps_its_second_turn_exact(sim: Simulator) -> None:
    """Against the real simulator, a client sending no event_id: one append of its first turn is not
    base64 (the simulator refuses it, naming no event_id). The second turn is made of the appends
    from the one after the first turn's end to the one holding its `audio_end_ms`, counted on
    the audio the server took (the refused append's left out)."""
    pcm = speech_pcm24(QUESTION) + silence(300) + speech_pcm24("and tomorrow") + silence(1500)
    chunks: list[bytes | None] = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    chunks[10] = None  # sent as text as long as a chunk's base64, but not base64
    envs: list[Envelope] = [connecting()]
    patch = session_patch(vad=True)
    patch["session"]["audio"]["input"]["turn_detection"] = {
        "type": "server_vad",
        "silence_duration_ms": 500,
        "prefix_padding_ms": 300,
        "create_response": False,
    }
    async with client(sim.url) as ws:
        envs.append(frame(Direction.IN, {"type": "session.created", "session": {"type": "realtime"}}))
        envs.append(frame(Direction.OUT, patch))
        await ws.send(json.dumps(patch))

        async def receive() -> None:
            committed = 0
            while committed < 2:
                event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
                envs.append(frame(Direction.IN, event))
                committed += event["type"] == "input_audio_buffer.committed"

        receiving = asyncio.create_task(receive())
        for chunk in chunks:
            audio = "!" * 1280 if chunk is None else base64.b64encode(chunk).decode()
            append = {"type": "input_audio_buffer.append", "audio": audio}
            envs.append(frame(Direction.OUT, append))
            await ws.send(json.dumps(append))
        await receiving
    errors = [env.data["error"] for env in envs if env.type == "error"]
    assert len(errors) == 1 and errors[0].get("param") == "audio" and not errors[0].get("event_id"), errors
    index = {id(env): i for i, env in enumerate(envs)}
    appends = [index[id(env)] for env in envs if env.type == "input_audio_buffer.append"]
    taken = [0 if chunk is None else len(chunk) for chunk in chunks]
    ends = [sum(taken[: n + 1]) for n in range(len(taken))]  # the server's clock, 48 bytes a millisecond
    stops = [env.data for env in envs if env.type == "input_audio_buffer.speech_stopped"]
    assert len(stops) == 2

    def holding(ms: int) -> int:
        return next(n for n, end in enumerate(ends) if end >= ms * 48)

    links = linked(envs)
    end_1, end_2 = holding(stops[0]["audio_end_ms"]), holding(stops[1]["audio_end_ms"])
    assert end_1 > 10, "the refused append was not in the first turn"
    assert links.made[stops[1]["item_id"]] == appends[end_1 + 1 : end_2 + 1]
    refusal = next(i for i, env in enumerate(envs) if env.type == "error")
    assert links.cause_of[refusal].cause == appends[10]


def test_an_error_on_type_without_event_id_answers_the_oldest_frame_of_no_such_type() -> None:
    """An SDK client (no event_ids) sends a typo'd type between known ones: the server's error on
    `type` names no frame, and only that frame can have earned it (the server knows every other)."""
    typo = frame(Direction.OUT, {"type": "response.creat"})
    known = frame(Direction.OUT, {"type": "input_audio_buffer.clear"})
    refusal = received("error", error={"type": "invalid_request_error", "code": "invalid_value", "param": "type"})
    envs = [connecting(), GA_PCM, known, typo, known, refusal]
    assert linked(envs).cause_of[5].cause == 3


async def exchanged(
    sim: Simulator, sent: list[dict[str, Any]], done: Callable[[list[Envelope]], bool]
) -> list[Envelope]:
    """`sent` sent to the real simulator by a client that sends no event_id, and what it answered
    until `done` holds: every envelope, as a live session journals them."""
    envs: list[Envelope] = [connecting()]
    async with client(sim.url) as ws:
        envs.append(frame(Direction.IN, {"type": "session.created", "session": {"type": "realtime"}}))
        for event in sent:
            envs.append(frame(Direction.OUT, event))
            await ws.send(json.dumps(event))
        while not done(envs):
            envs.append(frame(Direction.IN, json.loads(await asyncio.wait_for(ws.recv(), 10))))
    return envs


def answers(envs: list[Envelope], *types: str) -> int:
    """How many received envelopes are of `types`."""
    return sum(env.direction is Direction.IN and env.type in types for env in envs)


async def test_the_simulators_refusal_of_an_unknown_type_is_linked_to_it(sim: Simulator) -> None:
    """Against the real simulator, a client sending no event_id: two typos, two refusals, each
    linked to its own frame (the server answers in order)."""
    sent = [{"type": "session.updat"}, {"type": "input_audio_buffer.clear"}, {"type": "respons.create"}]
    envs = await exchanged(sim, sent, lambda envs: answers(envs, "error", "input_audio_buffer.cleared") == 3)
    errors = [i for i, env in enumerate(envs) if env.type == "error"]
    assert [envs[i].data["error"].get("param") for i in errors] == ["type", "type"]
    links = linked(envs)
    assert [links.cause_of[i].cause for i in errors] == [2, 4]


async def test_an_unknown_type_before_a_refused_session_update_leaves_the_update_linked(sim: Simulator) -> None:
    """An SDK client (no event_ids) sends a typo'd type, then a session.update the server refuses:
    the refusal of the typo, tied to no kind of frame by its code, made every waiting frame's
    answer uncertain, so the session.update's own refusal was linked to nothing (while the
    findings, reading the frames themselves, named it). An error on `type` answers the typo."""
    sent: list[dict[str, Any]] = [
        {"type": "totally.unknown"},
        {"type": "session.update", "session": {"modalities": ["text"]}},
    ]
    envs = await exchanged(sim, sent, lambda envs: answers(envs, "error") == 2)
    errors = [i for i, env in enumerate(envs) if env.type == "error"]
    assert envs[errors[0]].data["error"].get("param") == "type"
    assert envs[errors[1]].data["error"].get("param", "").startswith("session")
    links = linked(envs)
    assert [links.cause_of[i].cause for i in errors] == [2, 3]
