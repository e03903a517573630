"""Round 24 review (links): a server-VAD turn's appends split at `audio_end_ms` on the session's
audio clock, when the client changes the input format and streams at once (as a Twilio bridge does:
`session.update` to G.711, then its media, without waiting for `session.updated`). A real session
against the real simulator, read by the real `Links`."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.journal_helpers import connecting, frame
from tests.server_helpers import client, silence, speech_pcm24
from tests.test_links_round24 import linked, two_vad_turns
from tests.test_voice_turns import QUESTION
from tui.protocol import Direction, Envelope
from tui.replay import load
from tui.server import Simulator, g711

CHUNK = 160
"""20 ms of 8 kHz G.711, as a Twilio media stream sends it."""

BYTES_PER_MS = 8


def ulaw(pcm24: bytes) -> bytes:
    """24 kHz PCM16 as 8 kHz μ-law (every third sample: enough for VAD)."""
    samples = np.frombuffer(pcm24, dtype="<i2")[::3]
    return g711.ulaw_encode(samples.astype(np.int16))


def ulaw_silence(ms: int) -> bytes:
    return g711.ulaw_encode(np.zeros(ms * BYTES_PER_MS, dtype=np.int16))


async def test_g711_appends_sent_right_after_the_update_split_at_audio_end_ms(sim: Simulator) -> None:
    pcm = ulaw(speech_pcm24(QUESTION)) + ulaw_silence(300) + ulaw(speech_pcm24("and tomorrow")) + ulaw_silence(1500)
    chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    envs: list[Envelope] = [connecting()]
    turn_detection = {"type": "server_vad", "silence_duration_ms": 500, "prefix_padding_ms": 300}
    audio_in = {"format": {"type": "audio/pcmu"}, "turn_detection": {**turn_detection, "create_response": False}}
    update = {"type": "session.update", "session": {"type": "realtime", "audio": {"input": audio_in}}}
    async with client(sim.url) as ws:
        # `client` has read session.created (its default input format: 24 kHz PCM16).
        pcm16 = {"type": "audio/pcm", "rate": 24000}
        created = {"type": "session.created", "session": {"type": "realtime", "audio": {"input": {"format": pcm16}}}}
        envs.append(frame(Direction.IN, created))

        envs.append(frame(Direction.OUT, update))
        await ws.send(json.dumps(update))
        await two_vad_turns(ws, envs, chunks)  # the media at once: not waiting for session.updated
    types = [e.type for e in envs]
    updated = types.index("session.updated")
    assert types.index("input_audio_buffer.append") < updated, "the appends did not go out before the answer"
    index = {id(env): i for i, env in enumerate(envs)}
    appends = [index[id(env)] for env in envs if env.type == "input_audio_buffer.append"]
    ends = [sum(len(c) for c in chunks[: n + 1]) for n in range(len(chunks))]  # bytes, 8 a millisecond
    stops = [e.data for e in envs if e.type == "input_audio_buffer.speech_stopped"]
    assert len(stops) == 2, types

    def holding(ms: int) -> int:
        return next(n for n, end in enumerate(ends) if end >= ms * BYTES_PER_MS)

    links = linked(envs)
    first, second = (stop["item_id"] for stop in stops)
    end_1 = holding(stops[0]["audio_end_ms"])
    assert links.made[first][-1] == appends[end_1]  # the first turn ends at the append holding its end
    assert links.made[second][-1] == appends[holding(stops[1]["audio_end_ms"])]


async def _session_log(sim: Simulator, pcm: bytes, turns: int) -> list[dict[str, Any]]:
    """One real session's events, as a client's own log writes them: `pcm` appended at once under
    server VAD, read until `turns` turns are committed (none: until the appends are all sent)."""
    events: list[dict[str, Any]] = [{"type": "session.created", "session": {"type": "realtime"}}]
    turn_detection = {"type": "server_vad", "silence_duration_ms": 500, "create_response": False}
    update = {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": turn_detection}}},
    }
    async with client(sim.url) as ws:

        async def receive() -> None:
            committed = 0
            while True:
                event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
                events.append(event)
                assert event["type"] != "error", event
                committed += event["type"] == "input_audio_buffer.committed"
                if committed == turns and (turns or event["type"] == "session.updated"):
                    return

        receiving = asyncio.create_task(receive())
        events.append(update)
        await ws.send(json.dumps(update))
        for i in range(0, len(pcm), 960):
            append = {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm[i : i + 960]).decode()}
            events.append(append)
            await ws.send(json.dumps(append))
        await receiving
    return events


async def test_a_plain_log_of_two_sessions_splits_the_second_ones_turn_on_its_own_clock(
    sim: Simulator, tmp_path: Path
) -> None:
    first = await _session_log(sim, bytes(960 * 50), turns=0)  # 1 s of silence: no turn
    pcm = speech_pcm24(QUESTION) + silence(1500)
    second = await _session_log(sim, pcm, turns=1)
    log = tmp_path / "client.jsonl"
    log.write_text("".join(json.dumps(event) + "\n" for event in [*first, *second]))
    envs = list(load(log).envelopes)
    links = linked(envs)
    appends = [i for i, env in enumerate(envs) if env.type == "input_audio_buffer.append"][50:]
    [stop] = [env.data for env in envs if env.type == "input_audio_buffer.speech_stopped"]
    holding = -(-stop["audio_end_ms"] * 48 // 960) - 1  # the append (20 ms each) holding its end
    assert links.made[stop["item_id"]][-1] == appends[holding]
