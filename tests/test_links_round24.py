"""Round 24 (links): a server-VAD turn is made of the appends whose audio it committed, up to its
`audio_end_ms` on the session's audio clock; the appends sent meanwhile are the next turn's."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from pathlib import Path
from typing import Any

from tests.app_helpers import items, press_voice, wait_for
from tests.journal_helpers import connecting, frame, received, sent
from tests.server_helpers import client, session_patch, silence, speech_pcm24
from tests.test_voice_turns import QUESTION, voice_app
from tui.journal import Links, Pipeline
from tui.protocol import Direction, Envelope
from tui.server import Simulator

CHUNK = 960
"""20 ms of 24 kHz PCM16, as the app sends it."""


def linked(envs: list[Envelope]) -> Links:
    """`Links` after taking `envs` in order."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    faults = [pipeline.journal.data(i) for i, f in enumerate(pipeline.journal) if f.type == "rt.client_error"]
    assert not faults, faults  # Links failed on a frame (the pipeline keeps going without it)
    return links


async def two_vad_turns(ws: Any, envs: list[Envelope], chunks: list[bytes]) -> None:
    """Send `chunks` as appends at once (not waiting for any answer) while the server's events are
    read, until it has committed two turns; every frame both ways goes into `envs`, in order."""

    async def receive() -> None:
        committed = 0
        while committed < 2:
            event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
            envs.append(frame(Direction.IN, event))
            assert event["type"] != "error", event
            committed += event["type"] == "input_audio_buffer.committed"

    receiving = asyncio.create_task(receive())
    for chunk in chunks:
        append = {"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}
        envs.append(frame(Direction.OUT, append))
        await ws.send(json.dumps(append))
    await receiving


async def test_a_vad_turn_leaves_the_appends_sent_after_its_end_to_the_next_turn(sim: Simulator) -> None:
    """Speech, a pause, more speech, then silence, sent without waiting (as a slow link has them in
    flight): each turn is made of the appends from the one holding its `audio_start_ms` to the one
    holding its `audio_end_ms`; the next turn's begin with the next append."""
    pcm = speech_pcm24(QUESTION) + silence(300) + speech_pcm24("and tomorrow") + silence(1500)
    chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    envs: list[Envelope] = [connecting()]
    turn_detection = {"type": "server_vad", "silence_duration_ms": 500, "prefix_padding_ms": 300}
    patch = session_patch(vad=True)
    patch["session"]["audio"]["input"]["turn_detection"] = {**turn_detection, "create_response": False}
    async with client(sim.url) as ws:
        envs.append(frame(Direction.IN, {"type": "session.created", "session": {"type": "realtime"}}))
        envs.append(frame(Direction.OUT, patch))
        await ws.send(json.dumps(patch))

        await two_vad_turns(ws, envs, chunks)
    index = {id(env): i for i, env in enumerate(envs)}
    appends = [index[id(env)] for env in envs if env.type == "input_audio_buffer.append"]
    ends = [sum(len(c) for c in chunks[: n + 1]) for n in range(len(chunks))]  # bytes, 48 a millisecond
    starts = [e.data for e in envs if e.type == "input_audio_buffer.speech_started"]
    stops = [e.data for e in envs if e.type == "input_audio_buffer.speech_stopped"]
    assert len(starts) == len(stops) == 2, [e.type for e in envs if e.direction is Direction.IN]

    def holding(ms: int) -> int:
        """The append whose audio holds clock position `ms` (its start before it, its end at or after)."""
        return next(n for n, end in enumerate(ends) if end >= ms * 48)

    def after(ms: int) -> int:
        """The first append whose audio ends after clock position `ms`."""
        return next(n for n, end in enumerate(ends) if end > ms * 48)

    links = linked(envs)
    first, second = (stop["item_id"] for stop in stops)
    end_1 = holding(stops[0]["audio_end_ms"])
    committed_1 = next(i for i, e in enumerate(envs) if e.type == "input_audio_buffer.committed")
    assert appends[end_1 + 1] < committed_1, "no append was on its way when the first turn was committed"
    assert links.made[first] == appends[after(starts[0]["audio_start_ms"]) : end_1 + 1]
    assert links.made[second][0] == appends[end_1 + 1]  # the next append begins the next turn
    assert links.made[second] == appends[end_1 + 1 : holding(stops[1]["audio_end_ms"]) + 1]


def pcm_appends(count: int, ms: int = 20, nbytes_per_ms: int = 48) -> list[Envelope]:
    """`count` appends of `ms` each, of audio of `nbytes_per_ms` (24 kHz PCM16 unless said)."""
    audio = base64.b64encode(bytes(ms * nbytes_per_ms)).decode()
    return [sent("input_audio_buffer.append", audio=audio) for _ in range(count)]


def vad_turn(item_id: str, start_ms: int | None, end_ms: int) -> list[Envelope]:
    """The server's events of a turn VAD committed (an unknown start without `audio_start_ms`)."""
    started: dict[str, Any] = {} if start_ms is None else {"audio_start_ms": start_ms}
    return [
        received("input_audio_buffer.speech_started", item_id=item_id, **started),
        received("input_audio_buffer.speech_stopped", item_id=item_id, audio_end_ms=end_ms),
        received("input_audio_buffer.committed", item_id=item_id),
    ]


GA_PCM = received(
    "session.created",
    session={"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}},
)


def test_the_turn_ends_at_the_append_holding_audio_end_ms_and_starts_at_audio_start_ms() -> None:
    """Appends 1..10 hold 0-20 ms … 180-200 ms: a turn over 40..130 ms is appends 3..7 (the 3rd
    ends at 60 > 40, the 2nd at 40; the 7th holds 130); the next turn begins with the 8th."""
    envs = [connecting(), GA_PCM, *pcm_appends(10), *vad_turn("item_1", 40, 130), *vad_turn("item_2", 130, 200)]
    links = linked(envs)
    assert links.made["item_1"] == [4, 5, 6, 7, 8]
    assert links.made["item_2"] == [9, 10, 11]


def test_g711_appends_count_eight_bytes_a_millisecond() -> None:
    """A beta session in G.711 μ-law: 160 bytes are 20 ms (a PCM16 count would make them 3.3 ms)."""
    beta = received("session.updated", session={"input_audio_format": "g711_ulaw"})
    envs = [connecting(), beta, *pcm_appends(10, nbytes_per_ms=8), *vad_turn("item_1", None, 100)]
    assert linked(envs).made["item_1"] == [2, 3, 4, 5, 6]
    ga = received("session.updated", session={"audio": {"input": {"format": {"type": "audio/pcma"}}}})
    envs = [connecting(), ga, *pcm_appends(10, nbytes_per_ms=8), *vad_turn("item_1", None, 101)]
    assert linked(envs).made["item_1"] == [2, 3, 4, 5, 6, 7]  # the 6th append holds 100-120 ms


def test_a_clear_empties_the_buffer_but_the_clock_runs_on() -> None:
    """`audio_end_ms` counts all the audio appended in the session: what a clear dropped too."""
    clear = sent("input_audio_buffer.clear")
    envs = [connecting(), GA_PCM, *pcm_appends(5), clear, received("input_audio_buffer.cleared")]
    envs += [*pcm_appends(5), *vad_turn("item_1", None, 150)]
    assert linked(envs).made["item_1"] == [9, 10, 11]  # 100-120, 120-140, 140-160 ms


def test_an_idle_timeout_commits_its_span() -> None:
    timeout = received("input_audio_buffer.timeout_triggered", item_id="item_t", audio_start_ms=60, audio_end_ms=120)
    envs = [connecting(), GA_PCM, *pcm_appends(10), timeout, received("input_audio_buffer.committed", item_id="item_t")]
    assert linked(envs).made["item_t"] == [5, 6, 7]


def test_a_clock_that_cannot_tell_gives_the_turn_every_append() -> None:
    """An unknown format, or an append whose audio is not text: the turn takes every append so
    far, as before (and an unreadable append spoils only its turn: the server refused it)."""
    opus = received("session.updated", session={"audio": {"input": {"format": {"type": "audio/opus"}}}})
    envs = [connecting(), opus, *pcm_appends(10), *vad_turn("item_1", 0, 100)]
    assert linked(envs).made["item_1"] == list(range(2, 12))
    odd_rate = received(
        "session.updated", session={"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    )
    envs = [connecting(), odd_rate, *pcm_appends(10), *vad_turn("item_1", 0, 100)]
    assert linked(envs).made["item_1"] == list(range(2, 12))
    unreadable = sent("input_audio_buffer.append", audio=None)
    envs = [connecting(), GA_PCM, *pcm_appends(3), unreadable, *pcm_appends(3), *vad_turn("item_1", 0, 60)]
    envs += [*pcm_appends(4), *vad_turn("item_2", 120, 180)]  # the bad one added nothing: these are 120-200 ms
    links = linked(envs)
    assert links.made["item_1"] == list(range(2, 9))
    assert links.made["item_2"] == [12, 13, 14]


def test_speech_stopped_without_audio_end_ms_gives_the_turn_every_append() -> None:
    stopped = received("input_audio_buffer.speech_stopped", item_id="item_1")
    envs = [connecting(), GA_PCM, *pcm_appends(4), stopped, received("input_audio_buffer.committed", item_id="item_1")]
    assert linked(envs).made["item_1"] == [2, 3, 4, 5]


def test_a_new_connection_starts_the_clock_again() -> None:
    envs = [connecting(), GA_PCM, *pcm_appends(10), connecting(), GA_PCM, *pcm_appends(5)]
    envs += vad_turn("item_1", None, 40)
    assert linked(envs).made["item_1"] == [14, 15]


def test_vad_that_commits_before_our_commit_leaves_it_the_rest() -> None:
    """Push-to-talk under server VAD: VAD commits at 100 ms while our commit is on its way; our
    commit then commits the appends after (not nothing)."""
    commit = sent("input_audio_buffer.commit")
    envs = [connecting(), GA_PCM, *pcm_appends(8), commit, *vad_turn("item_v", None, 100)]
    envs += [received("input_audio_buffer.committed", item_id="item_w")]
    links = linked(envs)
    assert links.made["item_v"] == [2, 3, 4, 5, 6]
    assert links.made["item_w"] == [7, 8, 9, 10]


def test_a_refused_append_adds_no_audio_to_the_clock() -> None:
    """The server refused the 3rd append (an error naming it): the 4th holds 40-60 ms, not 60-80."""
    appends = pcm_appends(5)
    refusal = received(
        "error", error={"type": "invalid_request_error", "code": "x", "event_id": appends[2].data["event_id"]}
    )
    envs = [connecting(), GA_PCM, *appends, refusal, *vad_turn("item_1", None, 60)]
    links = linked(envs)
    assert links.cause_of[7].cause == 4
    assert links.made["item_1"] == [2, 3, 4, 5]


def test_a_recording_begun_mid_session_gives_the_turn_every_append() -> None:
    """Without the session's start (no `connecting`, no `session.created`) the clock is unknown."""
    envs = [*pcm_appends(10), *vad_turn("item_1", 0, 100)]
    assert linked(envs).made["item_1"] == list(range(10))
    envs = [GA_PCM, *pcm_appends(10), *vad_turn("item_1", 0, 100)]  # a log of the wire alone
    assert linked(envs).made["item_1"] == [1, 2, 3, 4, 5]


async def test_the_apps_hands_free_turn_ends_at_its_audio_end_ms(tmp_path: Path, simulator_url: str) -> None:
    """The app hands-free on a server 300 ms away: the microphone's appends sent while VAD's
    `committed` was on its way (about 15 of 20 ms) are not among the turn's frames."""
    async with voice_app(tmp_path, simulator_url + "&sim_latency_ms=300") as (app, pilot, _, feeder):
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: app.session_updates >= 2, 10, "server VAD to be configured")
        feeder.play(speech_pcm24(QUESTION) + silence(1500))
        journal = app.journal

        def types() -> list[str]:
            return [frame.type for frame in journal]

        await wait_for(pilot, lambda: "input_audio_buffer.committed" in types(), 30, "VAD to commit the turn")
        await wait_for(pilot, lambda: bool(items(app, "user")), 10, "the user's item")
        stopped = next(i for i, f in enumerate(journal) if f.type == "input_audio_buffer.speech_stopped")
        committed = next(i for i, f in enumerate(journal) if f.type == "input_audio_buffer.committed")
        appends = [i for i, f in enumerate(journal) if f.type == "input_audio_buffer.append"]
        ends = list(itertools.accumulate(len(base64.b64decode(journal.data(i)["audio"])) for i in appends))
        end = journal.data(stopped)["audio_end_ms"] * 48
        last = appends[next(n for n, e in enumerate(ends) if e >= end)]
        in_flight = [i for i in appends if last < i < committed]
        # Some were (300 ms of a real-time microphone is 15); how many depends on the machine's load.
        assert in_flight, "no append was sent while the turn's end was on its way: nothing was tested"
        (user,) = items(app, "user")
        made = app.model.links.made[user.id]
        assert made[-1] == last
        assert not set(in_flight) & set(made)


def test_an_export_without_audio_counts_the_audio_its_tags_stand_for() -> None:
    tagged = [sent("input_audio_buffer.append", audio="[audio 960 B · 20 ms]") for _ in range(10)]
    envs = [connecting(), GA_PCM, *tagged, *vad_turn("item_1", None, 50)]
    assert linked(envs).made["item_1"] == [2, 3, 4]


def test_odd_values_fall_back_without_failing() -> None:
    """Fields of the wrong type anywhere: the turn takes every append, Links never fails."""
    for end in ("100", -5, True, None, 10**12):
        stopped = received("input_audio_buffer.speech_stopped", item_id="item_1", audio_end_ms=end)
        committed = received("input_audio_buffer.committed", item_id="item_1")
        assert linked([connecting(), GA_PCM, *pcm_appends(5), stopped, committed]).made["item_1"] == [2, 3, 4, 5, 6]
    odd_sessions = [
        {"audio": {"input": {"format": "audio/pcm"}}},
        {"input_audio_format": ["pcm16"]},
        {"audio": {"input": {"format": {"type": "audio/pcm", "rate": "24000"}}}},
        {"audio": {"input": {"format": {"type": None}}}},
        None,
    ]
    for session in odd_sessions:
        updated = received("session.updated", session=session)
        appends = [*pcm_appends(3), sent("input_audio_buffer.append", audio=[1]), *pcm_appends(2)]
        envs = [connecting(), updated, *appends, *vad_turn("item_1", 0, 40)]
        assert linked(envs).made["item_1"] == list(range(2, 8))  # the unreadable append: its turn falls back


def test_a_format_asked_for_counts_from_the_update_and_a_refused_one_loses_the_clock() -> None:
    """Our `session.update` to G.711 counts the appends sent after it in G.711 at once (the server
    applies it first; its `session.updated` may come after them, review round 24b); refused, the
    appends were in the old format after all, which the clock no longer knows: every append so far."""
    update = sent(
        "session.update", session={"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}}}}
    )
    envs = [connecting(), GA_PCM, update, *pcm_appends(10, nbytes_per_ms=8), *vad_turn("item_1", None, 100)]
    assert linked(envs).made["item_1"] == [3, 4, 5, 6, 7]
    refusal = received(
        "error", error={"type": "invalid_request_error", "code": "invalid_value", "event_id": update.data["event_id"]}
    )
    envs = [connecting(), GA_PCM, update, *pcm_appends(10, nbytes_per_ms=8), refusal, *vad_turn("item_1", None, 100)]
    assert linked(envs).made["item_1"] == list(range(3, 13))
