"""The words heard in an item depend on its audio alone, never on what the process heard before.

moonshine's voice activity detector keeps state from one call to the next: one Silero instance
(recurrent state) for the whole process, and a smoothing window per transcriber that `start()`
does not clear. While it cut the items into segments, audio that ended mid-speech made the
silence leading the next item (the 300 ms of prefix padding a VAD commit carries, or a pause
before speaking) look like speech: it became a segment of its own, the model filled it with
invented words, and a later turn, from any connection, came back as "You What is the weather…".
Real engine, real speech (the simulator's own espeak voice), no mocks.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

import numpy as np

from tests.server_helpers import append_audio, client, recv, send, session_patch
from tui.server import Simulator
from tui.server.asr import AsrEngine, get_asr, piece_bounds

TARGET = "What is the weather like in Paris today?"
OTHERS = (
    ("Or maybe we should go to the beach instead", "marin"),
    ("Please tell me a joke about cats", "alloy"),
    ("Hello there, how are you doing", "ash"),
)
COMPLETED = "conversation.item.input_audio_transcription.completed"
FAILED = "conversation.item.input_audio_transcription.failed"


def silence(ms: int) -> bytes:
    """Digital silence of `ms` milliseconds of 24 kHz PCM16."""
    return bytes(ms * 48)


def trimmed(pcm: bytes) -> bytes:
    """`pcm` without its leading and trailing quiet: it starts and ends in speech."""
    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 300)[0]
    return samples[loud[0] : loud[-1] + 1].tobytes()


_SPEAK = (
    "import asyncio, sys; from tui.server.tts import get_tts; "
    "sys.stdout.buffer.write(asyncio.run(get_tts().synthesize(sys.argv[1], voice=sys.argv[2])))"
)


async def speech(text: str, voice: str) -> bytes:
    """`text` in the simulator's own espeak voice, as 24 kHz PCM16, its edges trimmed.

    Spoken by a fresh interpreter: espeak-ng carries state from one utterance to the next (the same
    text comes out a few samples longer or shorter, its waveform different from 85 ms in, after
    other speech in the process, even with its random seeds reset), so in the whole suite these
    words depended on what earlier tests had spoken, and twice came back "Turn on vacation lives"
    (for every silence alike). A fresh process speaks them the same way every run.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SPEAK, text, voice, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")
    return trimmed(out)


async def target_turn() -> bytes:
    # Shaped like a server_vad commit: prefix padding before the words, the silence that ended the turn after.
    return silence(300) + await speech(TARGET, "cedar") + silence(200)


async def other_turns() -> list[bytes]:
    """Audio heard before the target: cut mid-word, ending right on speech, padded, and loud noise."""
    out: list[bytes] = []
    for text, voice in OTHERS:
        pcm = await speech(text, voice)
        half = len(pcm) // 2
        out += [pcm[: half - half % 2], pcm, silence(400) + pcm + silence(600)]
    noise = np.random.default_rng(5).normal(0, 3000, 24000)
    out.append(np.asarray(np.clip(noise, -32768, 32767), dtype="<i2").tobytes())
    return out


async def test_the_same_audio_is_heard_the_same_after_any_other_audio() -> None:
    asr = get_asr()
    target = await target_turn()
    heard: list[str] = []
    for other in await other_turns():
        await asr.transcribe(other)
        heard.append(await asr.transcribe(target))
    assert "weather" in heard[0].lower() and heard[0].startswith("What")
    assert heard == [heard[0]] * len(heard)
    # A recognizer that never heard anything else hears the same words.
    assert await AsrEngine(pool_size=1).transcribe(target) == heard[0]


async def test_noise_after_speech_cut_off_is_still_unintelligible() -> None:
    asr = get_asr()
    others = await other_turns()
    noise = others[-1]
    heard: list[str] = []
    for cut_off in others[0:-1:3]:
        await asr.transcribe(cut_off)
        heard.append(await asr.transcribe(noise))
    assert heard == [""] * len(heard)


async def test_recognitions_running_side_by_side_do_not_hear_each_other() -> None:
    asr = get_asr()
    target = await target_turn()
    others = await other_turns()
    alone = await asr.transcribe(target)
    for round_ in range(2):
        # Every other run is the target, so both recognizers of the pool hear it next to other audio.
        batch = [pcm for other in others[round_::2] for pcm in (target, other)]
        results = await asyncio.gather(*(asr.transcribe(pcm) for pcm in batch))
        assert results[::2] == [alone] * len(results[::2])


async def test_a_long_lived_simulator_hears_the_same_turn_the_same_across_sessions(sim: Simulator) -> None:
    target = await target_turn()
    others = await other_turns()
    ends_in_speech, ends_in_silence = others[0::3] + others[1::3], others[2::3]

    async def session(before: list[bytes]) -> list[str]:
        """One connection: each of `before` committed as a turn, then the target; the target transcripts."""
        heard: list[str] = []
        async with client(sim.url) as ws:
            await send(ws, session_patch(transcription="gpt-4o-transcribe"))
            assert (await recv(ws))["type"] == "session.updated"
            for pcm in before:
                for turn in (pcm, target):
                    await append_audio(ws, turn)
                    await send(ws, {"type": "input_audio_buffer.commit"})
                    event = await recv(ws, timeout=30)
                    while event["type"] not in (COMPLETED, FAILED):
                        event = await recv(ws, timeout=30)
                    heard.append(str(event.get("transcript")))
        return heard[1::2]

    heard: list[str] = []
    for index, other in enumerate(ends_in_speech):
        heard += await session([other, ends_in_silence[index % len(ends_in_silence)]])
    # Then sessions side by side, their turns interleaving in the shared engine.
    for texts in await asyncio.gather(*(session([other, others[-1]]) for other in ends_in_speech[:3])):
        heard += texts
    assert "weather" in heard[0].lower() and heard[0].startswith("What")
    assert heard == [heard[0]] * len(heard)
    assert heard[0] == await get_asr().transcribe(target)


def test_long_items_are_cut_in_their_quietest_stretch_from_the_audio_alone() -> None:
    rate = 16000
    loud = np.random.default_rng(3).normal(0, 0.1, 40 * rate).astype(np.float32)
    loud[9 * rate : 9 * rate + 4000] = 0.0  # a quarter-second pause, 9 s in
    loud[21 * rate : 21 * rate + 4000] = 0.0  # and another, 21 s in
    bounds = piece_bounds(loud)
    assert all(before[1] == after[0] for before, after in itertools.pairwise(bounds))
    assert bounds[0][0] == 0 and bounds[-1][1] == len(loud)
    assert all(5 * rate <= end - start <= 15 * rate for start, end in bounds)
    # The first two cuts fall in the pauses; the same samples always give the same cuts.
    assert all(loud[cut] == 0.0 for _, cut in bounds[:2])
    assert piece_bounds(loud.copy()) == bounds
    assert piece_bounds(loud[: 15 * rate]) == [(0, 15 * rate)]


async def test_the_words_do_not_depend_on_the_silence_before_or_after_them() -> None:
    """ "turn on the kitchen lights" came back "Turn on vacation lights" with 0.2, 0.3, 0.8 or 1.5 s
    of silence ahead of it, right with 0.4-0.7 s: a user who pressed space a little earlier took
    it for their microphone's fault. The model now hears the same lead-in and tail whatever the
    turn began and ended with."""
    engine = get_asr()
    words = await speech("turn on the kitchen lights", "cedar")
    heard = {
        await engine.transcribe(silence(lead) + words + silence(tail))
        for lead, tail in itertools.product((0, 100, 200, 300, 800, 1500), (0, 200, 900))
    }
    assert len(heard) == 1 and heard.pop().rstrip(".,") == "Turn on the kitchen lights", heard
