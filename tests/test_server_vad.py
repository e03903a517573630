"""Simulator: turn detection (protocol reference §5) on the session-cumulative audio clock."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection

from tests.server_helpers import (
    append_audio,
    client,
    of_type,
    pcm_of,
    recv,
    recv_for,
    recv_until,
    send,
    silence,
    speech_pcm24,
    types,
)
from tui.server import Simulator
from tui.server.turns import sounds_unfinished
from tui.server.vad import EnergyVad, SpeechPaused, SpeechStarted, SpeechStopped, VadSettings

WEATHER = "what is the weather like in London today"
COMMIT_EVENTS = [
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
]


def turn_detection(**fields: Any) -> dict[str, Any]:
    """A GA session.update that sets only `audio.input.turn_detection`."""
    return {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": fields}}},
    }


async def configure(ws: ClientConnection, **fields: Any) -> None:
    await send(ws, turn_detection(**fields))
    assert (await recv(ws))["type"] == "session.updated"


def scaled(pcm: bytes, gain: float) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    return np.asarray(np.clip(samples, -32768, 32767), dtype="<i2").tobytes()


# ---- the detector on its own ------------------------------------------------------------------


def test_digital_silence_never_starts_speech_even_at_threshold_zero() -> None:
    vad = EnergyVad(VadSettings(threshold=0.0))
    assert vad.feed(silence(5000)) == []


def test_semantic_pause_waits_for_a_ruling_then_stops_at_the_maximum_wait() -> None:
    settings = VadSettings.from_turn_detection({"type": "semantic_vad", "eagerness": "high"})
    assert (settings.silence_duration_ms, settings.max_silence_ms) == (400, 2000)
    vad = EnergyVad(settings)
    first = vad.feed(speech_pcm24(WEATHER) + silence(3000))
    assert [type(e) for e in first] == [SpeechStarted, SpeechPaused]
    assert vad.awaiting_ruling and vad.feed(silence(1000)) == []  # later audio waits
    vad.resume()
    rest = vad.feed(b"")
    paused, stopped = first[1], rest[0]
    assert isinstance(paused, SpeechPaused) and isinstance(stopped, SpeechStopped) and len(rest) == 1
    assert stopped.audio_end_ms - paused.audio_end_ms == 2000 - 400


def test_semantic_pause_ruled_finished_stops_there_and_keeps_later_audio() -> None:
    vad = EnergyVad(VadSettings.from_turn_detection({"type": "semantic_vad", "eagerness": "low"}))
    paused = vad.feed(speech_pcm24(WEATHER) + silence(2000))[-1]
    stopped = vad.stop_at_pause()
    assert isinstance(paused, SpeechPaused) and stopped == SpeechStopped(paused.audio_end_ms)
    assert [type(e) for e in vad.feed(speech_pcm24("again"))] == [SpeechStarted]


def test_unfinished_endings() -> None:
    assert sounds_unfinished("Tell me about the weather in Paris and.")
    assert sounds_unfinished("So I went to the shop because")
    assert not sounds_unfinished("What time is it?")
    assert not sounds_unfinished("")


# ---- server_vad over the wire -------------------------------------------------------------------


async def test_threshold_decides_whether_quiet_speech_is_speech(sim: Simulator) -> None:
    quiet = scaled(speech_pcm24(WEATHER), 0.01)  # peaks near -53 dBFS
    async with client(sim.url) as ws:
        await configure(ws, type="server_vad", threshold=0.5, create_response=False)
        await append_audio(ws, quiet + silence(600), chunk_ms=20)
        assert await recv_for(ws, 0.5) == []
        await configure(ws, type="server_vad", threshold=0.1, create_response=False)
        await append_audio(ws, quiet + silence(600), chunk_ms=20)
        events = await recv_until(ws, "conversation.item.done")
    assert types(events) == ["input_audio_buffer.speech_started", *COMMIT_EVENTS]


async def test_prefix_padding_and_silence_duration_move_start_and_end(sim: Simulator) -> None:
    lead_ms = 1000
    audio = silence(lead_ms) + speech_pcm24(WEATHER) + silence(1500)
    marks: dict[tuple[int, int], tuple[int, int]] = {}
    async with client(sim.url) as ws:
        for padding, quiet in ((0, 200), (500, 800)):
            await configure(ws, type="server_vad", prefix_padding_ms=padding, silence_duration_ms=quiet)
            clock_base = sum(len(a) for a in [audio] * len(marks)) // 48
            await append_audio(ws, audio, chunk_ms=20)
            events = await recv_until(ws, "conversation.item.done")
            assert types(events) == ["input_audio_buffer.speech_started", *COMMIT_EVENTS]
            started, stopped = events[0], events[1]
            # Session-cumulative: the second pass is measured from the start of the session.
            marks[(padding, quiet)] = (
                started["audio_start_ms"] - clock_base,
                stopped["audio_end_ms"] - clock_base,
            )
            assert started["item_id"] == stopped["item_id"] == events[2]["item_id"]
            # The turn ends with rate_limits.updated, ~40 ms after response.done: waiting only for the
            # latter let it land among the next pass's events (a flake seen once in a full run).
            await recv_until(ws, "rate_limits.updated")
    (start_a, end_a), (start_b, end_b) = marks[(0, 200)], marks[(500, 800)]
    assert lead_ms <= start_a <= lead_ms + 40  # the onset itself, to a frame
    assert start_a - start_b == 500
    assert end_b - end_a == 600  # the end includes the silence window


async def test_the_clock_runs_across_turns_and_clears(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await configure(ws, type="server_vad", create_response=False)
        await append_audio(ws, silence(2000), chunk_ms=20)
        await send(ws, {"type": "input_audio_buffer.clear"})
        assert (await recv(ws))["type"] == "input_audio_buffer.cleared"
        await append_audio(ws, speech_pcm24("first turn") + silence(700), chunk_ms=20)
        first = await recv_until(ws, "conversation.item.done")
        await append_audio(ws, speech_pcm24("second turn") + silence(700), chunk_ms=20)
        second = await recv_until(ws, "conversation.item.done")
    assert first[0]["audio_start_ms"] >= 2000 - 300  # cleared audio still counts on the clock
    assert second[0]["audio_start_ms"] >= first[1]["audio_end_ms"] - 300
    assert second[2]["previous_item_id"] == first[2]["item_id"]


async def test_create_response_false_keeps_events_but_no_response(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await configure(ws, type="server_vad", create_response=False)
        await append_audio(ws, speech_pcm24(WEATHER) + silence(600), chunk_ms=20)
        events = await recv_until(ws, "conversation.item.done")
        later = await recv_for(ws, 0.6)
    assert types(events) == ["input_audio_buffer.speech_started", *COMMIT_EVENTS]
    assert later == []


async def test_barge_in_closes_open_parts_then_cancels_with_turn_detected(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await configure(ws, type="server_vad")
        await append_audio(ws, speech_pcm24(WEATHER) + silence(600), chunk_ms=20)
        first = await recv_until(ws, "response.output_audio.delta")
        response_id = of_type(first, "response.created")[0]["response"]["id"]
        await append_audio(ws, speech_pcm24("stop please") + silence(600), chunk_ms=20)
        events = await recv_until(ws, "response.done")
    names = types(events)
    barge = names.index("input_audio_buffer.speech_started")
    closing = [n for n in names[barge + 1 :] if n != "response.output_audio.delta"]
    assert closing == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
    ]
    done = events[-1]["response"]
    assert done["id"] == response_id and done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}


async def test_interrupt_response_false_lets_the_response_finish(slow_sim: Simulator) -> None:
    async with client(slow_sim.url) as ws:
        await configure(ws, type="server_vad", interrupt_response=False)
        await append_audio(ws, speech_pcm24("hi") + silence(600), chunk_ms=20)
        await recv_until(ws, "response.output_audio.delta")
        await append_audio(ws, speech_pcm24("stop please") + silence(600), chunk_ms=20)
        events = await recv_until(ws, "response.done")
    assert "input_audio_buffer.speech_started" in types(events)
    assert events[-1]["response"]["status"] == "completed"
    # The turn that came during the response is committed but not answered automatically.
    assert types(events).count("response.created") == 0


# ---- idle timeout ---------------------------------------------------------------------------------


async def test_idle_timeout_commits_the_silence_and_responds(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await configure(ws, type="server_vad", idle_timeout_ms=5000)
        await append_audio(ws, silence(4900), chunk_ms=100)
        assert await recv_for(ws, 0.3) == []
        await append_audio(ws, silence(300), chunk_ms=100)
        events = await recv_until(ws, "response.done")
    names = types(events)
    assert names[:4] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert "input_audio_buffer.speech_started" not in names
    timeout = events[0]
    assert set(timeout) == {"type", "event_id", "item_id", "audio_start_ms", "audio_end_ms"}
    assert (timeout["audio_start_ms"], timeout["audio_end_ms"]) == (0, 5000)
    assert events[1]["item_id"] == timeout["item_id"] == events[2]["item"]["id"]
    assert names[4] == "response.created"


async def test_idle_time_counts_from_the_end_of_the_last_reply(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await configure(ws, type="server_vad", idle_timeout_ms=5000)
        await append_audio(ws, speech_pcm24("hello there") + silence(600), chunk_ms=20)
        turn = await recv_until(ws, "response.done")
        reply_ms = len(pcm_of(turn)) // 48
        await append_audio(ws, silence(reply_ms + 5200), chunk_ms=100)
        events = await recv_until(ws, "input_audio_buffer.timeout_triggered")
        await recv_until(ws, "response.done")
    timeout = events[-1]
    assert timeout["audio_end_ms"] - timeout["audio_start_ms"] == 5000
    # The automatic reply started at the stop, so its playback ended reply_ms later on the clock.
    stopped_ms = of_type(turn, "input_audio_buffer.speech_stopped")[0]["audio_end_ms"]
    assert abs(timeout["audio_start_ms"] - (stopped_ms + reply_ms)) <= 40


async def test_semantic_vad_waits_longer_after_an_unfinished_sentence(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        await configure(ws, type="semantic_vad", eagerness="high", create_response=False)
        finished = speech_pcm24("what time is it")
        await append_audio(ws, finished + silence(2500), chunk_ms=20)
        done = await recv_until(ws, "conversation.item.done")
        base = len(finished + silence(2500)) // 48
        unfinished = speech_pcm24("tell me about the weather in Paris and")
        await append_audio(ws, unfinished + silence(2500), chunk_ms=20)
        waited = await recv_until(ws, "conversation.item.done")
    speech_end = len(finished) // 48
    assert speech_end <= done[1]["audio_end_ms"] <= speech_end + 400 + 40
    speech_end = base + len(unfinished) // 48
    assert speech_end + 1500 <= waited[1]["audio_end_ms"] <= speech_end + 2000 + 40


async def test_a_manual_commit_in_server_vad_mode_starts_no_response(sim: Simulator) -> None:
    """Protocol §9.13: a commit the client sends never creates a response, whatever the VAD mode;
    only a turn VAD itself ends does (with create_response)."""
    async with client(sim.url) as ws:
        # espeak ends its clip with a little silence: a long silence window keeps the turn open.
        await configure(ws, type="server_vad", create_response=True, silence_duration_ms=2000)
        await append_audio(ws, speech_pcm24(WEATHER))
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, "conversation.item.done")
        events += await recv_for(ws, 1.5)
    assert "input_audio_buffer.committed" in types(events)
    assert not [kind for kind in types(events) if kind.startswith("response.")], types(events)


async def test_the_server_pings_idle_clients(caplog: pytest.LogCaptureFixture) -> None:
    """§9.5: WebSocket pings keep a quiet session alive through proxies (every 20 s by default)."""
    from websockets.asyncio.client import connect

    from tests.server_helpers import running_simulator

    async with running_simulator(ping_interval=0.2) as fast:
        with caplog.at_level(logging.DEBUG, logger="websockets.client"):
            # The client sends no pings of its own, so any ping frame it receives is the server's.
            async with connect(f"{fast.url}?model=gpt-realtime", ping_interval=None) as ws:
                await recv(ws)
                await recv_for(ws, 0.7)
                assert ws.state.name == "OPEN"
    received_pings = [r for r in caplog.records if r.getMessage().startswith("< PING")]
    assert len(received_pings) >= 2, [r.getMessage() for r in caplog.records][:20]
