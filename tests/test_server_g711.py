"""G.711 μ-law / A-law: the codec against sox, the ×3 resamplers, and whole sessions in both dialects."""

from __future__ import annotations

import base64
import re
import subprocess

import numpy as np
import pytest
import soxr

from tests.server_helpers import (
    client,
    of_type,
    recv,
    recv_until,
    running_simulator,
    send,
    silence,
    speech_pcm24,
)
from tests.surface_helpers import beta_client, judge, judge_beta
from tui.protocol import Dialect
from tui.server import Simulator
from tui.server.asr import get_asr
from tui.server.audio_format import Downsampler, Upsampler, decode_clip, encode_clip
from tui.server.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

ALL_CODES = bytes(range(256))
LAWS = {"mu-law": (ulaw_encode, ulaw_decode), "a-law": (alaw_encode, alaw_decode)}


def sox(args: list[str], data: bytes) -> bytes:
    """Run the sox binary on raw audio (an independent G.711 implementation)."""
    return subprocess.run(["sox", "-D", *args], input=data, capture_output=True, check=True).stdout


def pcm8k(text: str) -> np.ndarray:
    """Speech at 8 kHz, resampled by soxr (not by the code under test)."""
    samples = np.frombuffer(speech_pcm24(text), dtype="<i2")
    return np.asarray(soxr.resample(samples, 24000, 8000), dtype=np.int16)


def words(text: str) -> set[str]:
    """Lower-case words of a transcript."""
    return set(re.findall(r"[a-z']+", text.lower()))


@pytest.mark.parametrize("law", LAWS)
def test_decoding_matches_sox_for_every_code(law: str) -> None:
    _, decode = LAWS[law]
    reference = sox(
        [
            "-t",
            "raw",
            "-r",
            "8000",
            "-e",
            law,
            "-b",
            "8",
            "-c",
            "1",
            "-",
            "-t",
            "raw",
            "-e",
            "signed",
            "-b",
            "16",
            "-L",
            "-",
        ],
        ALL_CODES,
    )
    assert np.array_equal(decode(ALL_CODES), np.frombuffer(reference, dtype="<i2"))


@pytest.mark.parametrize("law", LAWS)
def test_encoding_agrees_with_sox_within_one_step(law: str) -> None:
    encode, decode = LAWS[law]
    sweep = np.arange(-32768, 32768, 7, dtype=np.int16)
    ours = np.frombuffer(encode(sweep), dtype=np.uint8)
    reference = np.frombuffer(
        sox(
            [
                "-t",
                "raw",
                "-r",
                "8000",
                "-e",
                "signed",
                "-b",
                "16",
                "-L",
                "-c",
                "1",
                "-",
                "-t",
                "raw",
                "-e",
                law,
                "-b",
                "8",
                "-",
            ],
            sweep.tobytes(),
        ),
        dtype=np.uint8,
    )
    differ = ours != reference
    # sox rounds where the G.711 reference truncates: only samples at a step boundary may differ.
    assert differ.mean() < 0.02
    ours_level = decode(ours.tobytes()).astype(np.int32)
    ref_level = decode(reference.tobytes()).astype(np.int32)
    steps = np.abs(np.diff(np.sort(np.unique(decode(ALL_CODES).astype(np.int32)))))
    assert np.all(np.abs(ours_level - ref_level)[differ] <= steps.max())


def test_known_values_and_round_trips() -> None:
    extremes = np.array([0, 32767, -32768], dtype=np.int16)
    assert ulaw_encode(extremes) == bytes([0xFF, 0x80, 0x00])
    assert list(ulaw_decode(bytes([0xFF, 0x80, 0x00, 0x7F]))) == [0, 32124, -32124, 0]
    assert alaw_encode(np.array([0], dtype=np.int16)) == bytes([0xD5])
    assert list(alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A]))) == [8, -8, 32256, -32256]
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES
    # μ-law has two zeros (0x7F and 0xFF); every other code survives the round trip.
    round_trip = ulaw_encode(ulaw_decode(ALL_CODES))
    assert [c for c in range(256) if round_trip[c] != c] == [0x7F]


def test_resamplers_are_exact_in_length_and_stream_like_a_whole() -> None:
    rng = np.random.default_rng(7)
    signal = rng.integers(-8000, 8000, size=8000, dtype=np.int16)
    whole = Upsampler().process(signal)
    streaming = Upsampler()
    pieces = [streaming.process(signal[i : i + 333]) for i in range(0, signal.size, 333)]
    assert whole.size == 3 * signal.size
    assert np.array_equal(np.concatenate(pieces), whole)
    down_whole = Downsampler().process(whole)
    down = Downsampler()
    down_pieces = [down.process(whole[i : i + 1001]) for i in range(0, whole.size, 1001)]
    assert down_whole.size == signal.size
    assert np.array_equal(np.concatenate(down_pieces), down_whole)


@pytest.mark.parametrize("fmt", [{"type": "audio/pcmu"}, {"type": "audio/pcma"}])
def test_a_tone_survives_encoding_at_8khz_and_decoding(fmt: dict[str, str]) -> None:
    t = np.arange(24000) / 24000.0
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    wire = encode_clip(fmt, tone.tobytes())
    assert len(wire) == 8000  # 8 bytes per millisecond
    back = np.frombuffer(decode_clip(fmt, wire), dtype="<i2").astype(np.float64)
    assert back.size == tone.size
    # Both filters delay the signal a little; compare after aligning on the best lag.
    lag = int(np.argmax([np.dot(back[k : k + 20000], tone[:20000]) for k in range(0, 120)]))
    error = back[lag : lag + 20000] - tone[:20000]
    snr = 10 * np.log10(np.sum(tone[:20000].astype(np.float64) ** 2) / np.sum(error**2))
    assert snr > 25, snr


async def test_pcmu_input_runs_on_the_8_bytes_per_ms_clock_and_is_transcribed(sim: Simulator) -> None:
    speech = ulaw_encode(pcm8k("what is the weather like in London"))
    async with client(sim.url) as ws:
        session = {
            "type": "realtime",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "gpt-4o-transcribe"},
                    "turn_detection": None,
                }
            },
        }
        await send(ws, {"type": "session.update", "session": session})
        updated = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes([0xFF]) * 400).decode()})
        await send(ws, {"type": "input_audio_buffer.commit"})
        too_short = await recv(ws)
        for start in range(0, len(speech), 160):  # 20 ms chunks, as telephony bridges send
            chunk = base64.b64encode(speech[start : start + 160]).decode()
            await send(ws, {"type": "input_audio_buffer.append", "audio": chunk})
        await send(ws, {"type": "input_audio_buffer.commit"})
        events = await recv_until(ws, "conversation.item.input_audio_transcription.completed")
        await send(ws, {"type": "conversation.item.retrieve", "item_id": events[0]["item_id"]})
        retrieved = await recv_until(ws, "conversation.item.retrieved")
    assert updated["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert "50.00ms" in too_short["error"]["message"]
    assert "weather" in events[-1]["transcript"].lower()
    audio = base64.b64decode(retrieved[-1]["item"]["content"][0]["audio"])
    assert len(audio) == len(speech) + 400
    for event in [updated, *events, retrieved[-1]]:
        judge(event)


async def test_vad_timestamps_count_g711_milliseconds(sim: Simulator) -> None:
    speech = alaw_encode(
        np.concatenate([np.zeros(8 * 600, dtype=np.int16), pcm8k("hello there"), np.zeros(8 * 800, dtype=np.int16)])
    )
    async with client(sim.url) as ws:
        session = {
            "type": "realtime",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcma"},
                    "turn_detection": {"type": "server_vad", "create_response": False},
                }
            },
        }
        await send(ws, {"type": "session.update", "session": session})
        await recv(ws)
        for start in range(0, len(speech), 160):
            await send(
                ws,
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(speech[start : start + 160]).decode()},
            )
        events = await recv_until(ws, "input_audio_buffer.committed")
    started = of_type(events, "input_audio_buffer.speech_started")[0]
    stopped = of_type(events, "input_audio_buffer.speech_stopped")[0]
    # 600 ms of silence first, minus the default 300 ms prefix padding.
    assert 250 <= started["audio_start_ms"] <= 400
    assert started["audio_start_ms"] < stopped["audio_end_ms"] <= len(speech) // 8


async def test_pcma_output_is_8khz_a_law_and_speaks_the_reply(sim: Simulator) -> None:
    async with client(sim.url) as ws:
        session = {
            "type": "realtime",
            "audio": {"output": {"format": {"type": "audio/pcma"}}, "input": {"turn_detection": None}},
        }
        await send(ws, {"type": "session.update", "session": session})
        await recv(ws)
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    # Long enough that recognizing 4 kHz speech is a fair test of it: the synthesis
                    # varies a little between runs, and a ten-word reply was heard as 2 to 7 of its words.
                    "content": [
                        {"type": "input_text", "text": "tell me about the weather in London and Paris tomorrow"}
                    ],
                },
            },
        )
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
        wire = b"".join(base64.b64decode(e["delta"]) for e in of_type(events, "response.output_audio.delta"))
        item_id = events[-1]["response"]["output"][0]["id"]
        duration_ms = len(wire) // 8
        await send(
            ws,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": duration_ms + 50,
            },
        )
        too_long = await recv(ws)
        await send(
            ws,
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": duration_ms - 5,
            },
        )
        truncated = await recv(ws)
    assert events[-1]["response"]["audio"]["output"]["format"] == {"type": "audio/pcma"}
    assert too_long["type"] == "error"
    stated = re.search(r"Audio content of (\d+)ms is already shorter", too_long["error"]["message"])
    # The server measures its 24 kHz audio; 8 kHz bytes round a fraction of a millisecond up.
    assert stated and abs(int(stated.group(1)) - duration_ms) <= 1, too_long
    assert truncated["type"] == "conversation.item.truncated"
    transcript = events[-1]["response"]["output"][0]["content"][0]["transcript"]
    heard = await get_asr().transcribe(decode_clip({"type": "audio/pcma"}, wire))
    # Speech band-limited to 4 kHz is harder to recognize; half of the reply's words must come through
    # (18 to 20 of 24 over eight runs).
    assert len(words(heard) & words(transcript)) >= len(words(transcript)) // 2, (heard, transcript)


async def test_beta_g711_formats() -> None:
    speech = alaw_encode(pcm8k("tell me a joke about the moon"))
    async with running_simulator(dialect=Dialect.BETA, response_speed=0) as sim, beta_client(sim.url) as ws:
        session = {
            "input_audio_format": "g711_alaw",
            "output_audio_format": "g711_ulaw",
            "input_audio_transcription": {"model": "whisper-1"},
            "turn_detection": None,
            "modalities": ["text", "audio"],
        }
        await send(ws, {"type": "session.update", "session": session})
        updated = await recv(ws)
        await send(ws, {"type": "input_audio_buffer.append", "audio": base64.b64encode(speech).decode()})
        await send(ws, {"type": "input_audio_buffer.commit"})
        await send(ws, {"type": "response.create"})
        events = await recv_until(ws, "response.done")
        if not of_type(events, "conversation.item.input_audio_transcription.completed"):
            events += await recv_until(ws, "conversation.item.input_audio_transcription.completed")
    assert (updated["session"]["input_audio_format"], updated["session"]["output_audio_format"]) == (
        "g711_alaw",
        "g711_ulaw",
    )
    assert "moon" in words(of_type(events, "conversation.item.input_audio_transcription.completed")[0]["transcript"])
    done = of_type(events, "response.done")[0]["response"]
    assert done["output_audio_format"] == "g711_ulaw"
    wire = b"".join(base64.b64decode(e["delta"]) for e in of_type(events, "response.audio.delta"))
    heard = await get_asr().transcribe(decode_clip({"type": "audio/pcmu"}, wire))
    assert "moon" in words(heard)
    for event in [updated, *events]:
        judge_beta(event)


def test_silence_is_encoded_as_the_zero_codes() -> None:
    assert set(encode_clip({"type": "audio/pcmu"}, silence(100))) == {0xFF}
    assert set(encode_clip({"type": "audio/pcma"}, silence(100))) == {0xD5}


async def test_upsampled_g711_is_heard_like_a_reference_resampler() -> None:
    narrow = pcm8k("what is the weather like in London")
    codes = alaw_encode(narrow)
    reference = np.asarray(soxr.resample(alaw_decode(codes).astype(np.float64), 8000, 24000), dtype=np.int16)
    asr = get_asr()
    ours = await asr.transcribe(decode_clip({"type": "audio/pcma"}, codes))
    theirs = await asr.transcribe(reference.tobytes())
    assert {"weather", "london"} <= words(ours)
    assert words(ours) == words(theirs)
