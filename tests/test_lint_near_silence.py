"""A transcription that fails on near silence says so: sox's "silence" is dither (±1), not zeros,
so `silent-audio` did not fire and the generic fix ("check it is speech…") read as if the audio
could be speech (review 54b)."""

from __future__ import annotations

import base64

import numpy as np

from tests.journal_helpers import received, sent
from tests.lint_helpers import ga_created, lint
from tests.test_lint import one
from tui.protocol import Envelope


def turn(samples: np.ndarray) -> list[Envelope]:
    pcm = samples.astype("<i2").tobytes()
    chunk = 9600  # 200 ms
    appends = [
        sent("input_audio_buffer.append", audio=base64.b64encode(pcm[i : i + chunk]).decode())
        for i in range(0, len(pcm), chunk)
    ]
    failure = {"type": "invalid_request_error", "code": "audio_unintelligible", "message": "Audio unintelligible"}
    return [
        *appends,
        sent("input_audio_buffer.commit"),
        received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None),
        received("conversation.item.input_audio_transcription.failed", item_id="item_1", error=failure),
    ]


def test_a_failed_transcription_of_dithered_silence_says_it_is_near_silence() -> None:
    rng = np.random.default_rng(7)
    dither = rng.integers(-1, 2, 48_000)  # 2 s of ±1: what `sox -n … trim 0 2` writes
    findings, _ = lint(ga_created(transcription="gpt-4o-transcribe", vad=False), *turn(dither))
    found = one(findings, "transcription-failed")
    assert "Its audio is near silence: none of the" in found.message and "-44 dBFS" in found.message
    assert "muted or distant microphone" in found.fix


def test_a_failed_transcription_of_audible_sound_keeps_the_general_fix() -> None:
    tone = (np.sin(np.arange(48_000) / 7) * 3000).astype(int)
    findings, _ = lint(ga_created(transcription="gpt-4o-transcribe", vad=False), *turn(tone))
    found = one(findings, "transcription-failed")
    assert "near silence" not in found.message
    assert "held no speech the model could make out" in found.fix
