"""The Realtime linter: each rule on a hand-written frame sequence that triggers it and a close one that must not.

Frames are built by hand (tests/journal_helpers.py, tests/lint_helpers.py) and run through the
real pipeline with `lint_envelopes`; audio is real PCM16 and real WAV files from the stdlib
`wave` module. The end-to-end test at the bottom lints a real session with the simulator.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from tests.journal_helpers import audio_b64, connecting, received, sent
from tests.lint_helpers import (
    audio_item,
    b64,
    beta_created,
    beta_session,
    commit_empty,
    ga_created,
    ga_updated,
    lint,
    of_rule,
    rules,
    sent_bare,
    speech,
    swapped,
    type_refused,
    vad_commit,
    wav_file,
)
from tests.server_helpers import speech_pcm24
from tui.journal import Journal
from tui.lint import RULES, Finding, Linter, Severity, finding_record, format_finding, lint_envelopes
from tui.protocol import Direction, Envelope, next_seq

TRANSCRIBE = "gpt-4o-transcribe"


def one(findings: list[Finding], rule: str) -> Finding:
    """The single finding of `rule` (fails when there are none or several)."""
    found = of_rule(findings, rule)
    assert len(found) == 1, [(f.rule, f.message) for f in findings]
    return found[0]


def append(pcm: bytes) -> Envelope:
    return sent("input_audio_buffer.append", audio=b64(pcm))


def commit() -> Envelope:
    return sent("input_audio_buffer.commit")


# -- 1. audio added with conversation.item.create ---------------------------------------------------


def test_item_create_audio_with_transcription_on_is_an_error_naming_the_frame() -> None:
    create = sent("conversation.item.create", item=audio_item(b64(speech(300))))
    findings, journal = lint(connecting(), ga_created(), ga_updated(transcription=TRANSCRIBE), create)
    found = one(findings, "item-create-audio-not-transcribed")
    assert found.severity is Severity.ERROR
    assert f"conversation.item.create #{create.seq} carries audio" in found.message
    assert "never transcribes" in found.message and TRANSCRIBE in found.message
    assert "input_audio_buffer.append" in found.fix and "input_audio_buffer.commit" in found.fix
    assert journal[found.frames[0]].seq == create.seq


def test_item_create_audio_with_transcription_off_is_a_warning() -> None:
    create = sent("conversation.item.create", item=audio_item(b64(speech(300))))
    findings, _ = lint(ga_created(), create)
    found = one(findings, "item-create-audio-not-transcribed")
    assert found.severity is Severity.WARNING
    assert "transcription is off" in found.message


def _transcription_update() -> Envelope:
    return sent(
        "session.update", session={"type": "realtime", "audio": {"input": {"transcription": {"model": TRANSCRIBE}}}}
    )


def test_item_create_sent_right_after_an_update_turning_transcription_on_is_judged_by_that_update() -> None:
    """A client that sends the update and the item back to back (not waiting for session.updated):
    the server applies the update first, so transcription is on for the item: the error, not
    "transcription is off anyway"."""
    update, create = _transcription_update(), sent("conversation.item.create", item=audio_item(b64(speech(300))))
    findings, journal = lint(ga_created(), update, create, ga_updated(transcription=TRANSCRIBE))
    found = one(findings, "item-create-audio-not-transcribed")
    assert found.severity is Severity.ERROR
    assert f"even though transcription is on ({TRANSCRIBE})" in found.message
    assert journal[found.frames[0]].seq == create.seq
    # Judged at the answer: refused, the update left transcription off, and the warning says so.
    refusal = received("error", error={"code": "invalid_value", "message": "no", "param": "session.audio"})
    refused, _ = lint(ga_created(), update, create, refusal)
    assert one(refused, "item-create-audio-not-transcribed").severity is Severity.WARNING
    assert "transcription is off in this session anyway" in one(refused, "item-create-audio-not-transcribed").message
    # Never answered (the recording ends first): still said, as the session stood.
    unanswered, _ = lint(ga_created(), update, create)
    assert one(unanswered, "item-create-audio-not-transcribed").severity is Severity.WARNING


def test_item_create_with_its_own_transcript_or_text_is_not_reported() -> None:
    with_transcript = sent("conversation.item.create", item=audio_item(b64(speech(300)), transcript="hello"))
    text_only = sent(
        "conversation.item.create",
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]},
    )
    findings, _ = lint(ga_created(transcription=TRANSCRIBE), with_transcript, text_only)
    assert findings == []


def test_the_seed_question_in_the_beta_dialect() -> None:
    """whisper-1 on, a 44.1 kHz WAV in conversation.item.create, server VAD: both mistakes, nothing else."""
    update = sent(
        "session.update",
        session={
            "input_audio_transcription": {"model": "whisper-1", "language": "en", "prompt": "Use a British accent."}
        },
    )
    create = sent("conversation.item.create", item=audio_item(b64(wav_file(speech(500), rate=44100))))
    findings, _ = lint(
        connecting(),
        beta_created(),
        update,
        received("session.updated", session=beta_session(transcription="whisper-1")),
        create,
        received(
            "conversation.item.created", item={"id": "item_1", "content": [{"type": "input_audio", "transcript": None}]}
        ),
    )
    assert rules(findings) == ["item-create-audio-not-transcribed", "wav-header-in-audio"]
    assert findings[0].severity is Severity.ERROR and "whisper-1" in findings[0].message
    assert "Server VAD does not answer it either" in findings[0].message
    assert "44.1 kHz mono 16-bit PCM" in findings[1].message


# -- 2. transcription off when audio is committed ---------------------------------------------------


def test_commit_with_transcription_off_names_the_commit() -> None:
    done = commit()
    findings, _ = lint(ga_created(vad=False), append(speech(200)), done)
    found = one(findings, "transcription-off-at-commit")
    assert found.severity is Severity.WARNING
    assert f"input_audio_buffer.commit #{done.seq} commits 200 ms of user audio" in found.message
    assert "audio.input.transcription: null" in found.message
    assert "session.audio.input.transcription" in found.fix


def test_server_vad_commit_with_transcription_off_names_the_committed_event() -> None:
    created = ga_created(vad=True)
    committed = received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None)
    findings, _ = lint(created, append(speech(300)), committed)
    found = one(findings, "transcription-off-at-commit")
    assert f"input_audio_buffer.committed #{committed.seq}" in found.message


def test_beta_session_with_transcription_off_says_the_beta_setting() -> None:
    findings, _ = lint(beta_created(vad=False), append(speech(200)), commit())
    found = one(findings, "transcription-off-at-commit")
    assert "input_audio_transcription: null" in found.message
    assert "session.input_audio_transcription" in found.fix


def test_commit_with_transcription_on_or_unknown_session_is_not_reported() -> None:
    on, _ = lint(ga_created(vad=False), ga_updated(transcription=TRANSCRIBE, vad=False), append(speech(200)), commit())
    # No session.created seen, nor any update sent: a Realtime session starts with transcription off.
    unknown, _ = lint(append(speech(200)), commit())
    assert on == [] and [(f.rule, f.severity) for f in unknown] == [("transcription-not-requested", Severity.WARNING)]
    assert "unless the log left out the client's setup" in unknown[0].message


# -- 3. what the audio is -------------------------------------------------------------------------


def test_wav_in_item_create_says_the_header_rate_channels_and_bits() -> None:
    wav = wav_file(speech(500), rate=44100, channels=2)
    create = sent("conversation.item.create", item=audio_item(b64(wav)))
    findings, _ = lint(ga_created(transcription=TRANSCRIBE), create)
    assert rules(findings) == ["item-create-audio-not-transcribed", "wav-header-in-audio"]
    found = one(findings, "wav-header-in-audio")
    assert found.severity is Severity.ERROR
    assert f"conversation.item.create #{create.seq}" in found.message
    assert "RIFF/WAVE header" in found.message
    assert "44.1 kHz stereo 16-bit PCM" in found.message
    assert "3.7× too slow" in found.message  # 176,400 bytes/s heard as 48,000
    assert "-ar 24000 -ac 1" in found.fix


def test_wav_header_in_appends_is_reported_once_per_turn() -> None:
    wav = wav_file(speech(300), rate=16000)
    first = append(wav)
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        first,
        append(wav),
        append(wav),
        commit(),
        append(wav),
        commit(),
    )
    found = of_rule(findings, "wav-header-in-audio")
    assert len(found) == 2
    assert f"input_audio_buffer.append #{first.seq}" in found[0].message
    assert "16 kHz mono 16-bit PCM" in found[0].message and "too fast" in found[0].message


def test_wav_header_of_the_right_format_is_a_warning_that_says_only_the_header_is_wrong() -> None:
    """The tester's c02b capture: a 24 kHz mono 16-bit WAV appended whole. Protocol §3.2: its header is
    a click, harmless once, so a warning (lint exits 0); a header of another format stays an error."""
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(wav_file(speech(300))), commit())
    found = one(findings, "wav-header-in-audio")
    assert found.severity is Severity.WARNING
    assert "24 kHz mono 16-bit PCM" in found.message and "happen to be in the session's format" in found.message
    assert "(harmless once)" in found.message
    assert "Strip the header (the first 44 bytes" in found.fix
    item, _ = lint(ga_created(), sent("conversation.item.create", item=audio_item(b64(wav_file(speech(300))))))
    assert one(item, "wav-header-in-audio").severity is Severity.WARNING
    other, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(wav_file(speech(300), rate=16000)))
    assert one(other, "wav-header-in-audio").severity is Severity.ERROR
    stereo, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(wav_file(speech(300), channels=2)))
    assert one(stereo, "wav-header-in-audio").severity is Severity.ERROR
    wav = wav_file(speech(300))  # the same, with 4 KB of LIST metadata before its samples: not one click
    listed = wav[:36] + b"LIST" + (4000).to_bytes(4, "little") + bytes(4000) + wav[36:]
    long_header, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(listed))
    assert one(long_header, "wav-header-in-audio").severity is Severity.ERROR
    assert "burst of noise" in long_header[0].message and "garbled" not in long_header[0].message
    g711, _ = lint(  # a PCM16 WAV to a G.711 session: not the session's format
        ga_created(transcription=TRANSCRIBE, vad=False, fmt={"type": "audio/pcmu"}), append(wav_file(speech(300)))
    )
    assert one(g711, "wav-header-in-audio").severity is Severity.ERROR


def test_a_header_on_every_chunk_of_the_right_format_is_an_error_once() -> None:
    """Some TTS streams put a RIFF header on every chunk: a click per chunk is not harmless."""
    chunks = [append(wav_file(speech(100))) for _ in range(4)]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *chunks, commit())
    found = of_rule(findings, "wav-header-in-audio")
    # One finding for the turn: the first chunk's warning (one click) becomes an error that says every
    # chunk carries a header, where a warning and an error said it twice.
    assert [f.severity for f in found] == [Severity.ERROR]
    assert found[0].message.startswith(
        f"input_audio_buffer.append #{chunks[0].seq}: its audio starts with a RIFF/WAVE header, and so does "
        f"input_audio_buffer.append #{chunks[1].seq}"
    )
    assert found[0].frames == (1, 2)
    assert "from every chunk" in found[0].fix


def test_raw_pcm_of_the_same_samples_is_clean() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(300)),
        append(speech(300)),
        commit(),
        sent("conversation.item.create", item=audio_item(b64(speech(300)), transcript="hi")),
    )
    assert findings == []


def test_a_committed_turn_of_zeros_is_silent_audio() -> None:
    done = commit()
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(bytes(4800)), append(bytes(4800)), done)
    found = one(findings, "silent-audio")
    assert found.severity is Severity.WARNING
    assert f"input_audio_buffer.commit #{done.seq} commits 200 ms of audio that is all zeros" in found.message


def test_zeros_then_speech_in_one_turn_is_not_silent() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False), append(bytes(4800)), append(speech(100)), commit()
    )
    assert findings == []


def test_zeros_under_server_vad_are_reported_once_after_five_seconds() -> None:
    frames = [append(bytes(48 * 1000)) for _ in range(8)]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=True), *frames)
    found = one(findings, "silent-audio")
    assert "server VAD is on" in found.message and "5.00 s" in found.message
    assert found.frames == (1, 5)  # in the order they came: the stretch's first, the fifth (5 s reached)
    without_vad, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *frames)
    assert without_vad == []  # push-to-talk: judged at the commit, which has not come


def test_zeros_under_server_vad_in_one_append_name_that_append_once() -> None:
    big = append(bytes(48 * 6000))
    findings, journal = lint(ga_created(transcription=TRANSCRIBE, vad=True), big)
    found = one(findings, "silent-audio")
    assert found.message.startswith(f"6.00 s of audio appended in input_audio_buffer.append #{big.seq} is all zeros")
    assert found.frames == (1,)
    assert format_finding(found, journal).endswith(f"[frames: #{big.seq} input_audio_buffer.append]")


def test_g711_zeros_and_byte_order_are_not_judged() -> None:
    pcmu = {"type": "audio/pcmu"}
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False, fmt=pcmu),
        append(bytes(800)),
        commit(),
        append(swapped(speech(300))[:2400]),
        commit(),
    )
    assert findings == []


def test_byte_swapped_pcm_is_reported_at_the_commit() -> None:
    be = swapped(speech(600))
    done = commit()
    chunks = [append(be[i : i + 960]) for i in range(0, len(be), 960)]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *chunks, done)
    found = one(findings, "byte-swapped-audio")
    assert f"input_audio_buffer.commit #{done.seq}" in found.message and "big-endian" in found.message
    assert "'<i2'" in found.fix
    assert found.frames == (len(chunks) + 1, 1)  # the commit, then the turn's first append


def test_byte_swapped_speech_in_one_big_append_and_in_item_create() -> None:
    be = b64(swapped(speech(1500)))
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        sent("input_audio_buffer.append", audio=be),
        commit(),
        sent("conversation.item.create", item=audio_item(be, transcript="hi")),
    )
    assert rules(findings) == ["byte-swapped-audio", "byte-swapped-audio"]


def test_chunks_of_odd_length_do_not_look_byte_swapped() -> None:
    pcm = speech(600)
    cuts = list(range(0, len(pcm), 961))  # odd chunk sizes: the server's buffer stays aligned, so must we
    chunks = [append(pcm[a : a + 961]) for a in cuts]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *chunks, commit())
    assert findings == []


def test_clipped_pcm_is_reported_and_normal_level_is_not() -> None:
    loud = np.clip(np.frombuffer(speech(600, amplitude=30000), dtype="<i2").astype(np.int32) * 4, -32768, 32767)
    clipped = loud.astype("<i2").tobytes()
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(clipped), commit())
    found = one(findings, "clipped-audio")
    assert "full scale" in found.message and "32767" in found.fix
    quiet, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(speech(600, amplitude=30000)), commit())
    assert quiet == []


def test_real_speech_is_clean_and_its_byte_swapped_copy_is_not() -> None:
    pcm = speech_pcm24("what is the weather like in London today")
    setup = ga_created(transcription=TRANSCRIBE, vad=False)
    clean, _ = lint(setup, *[append(pcm[i : i + 960]) for i in range(0, len(pcm), 960)], commit())
    assert clean == []
    be = swapped(pcm)
    bad, _ = lint(setup, *[append(be[i : i + 960]) for i in range(0, len(be), 960)], commit())
    assert rules(bad) == ["byte-swapped-audio"]


# -- 4. commits, responses, truncation ------------------------------------------------------------


def test_commit_under_100_ms_is_refused() -> None:
    first, done = append(speech(40)), commit()
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), first, done, commit_empty(40))
    found = one(findings, "commit-too-short")
    assert found.severity is Severity.ERROR
    assert f"input_audio_buffer.commit #{done.seq} commits only 40 ms of audio (1,920 bytes" in found.message
    assert found.frames == (2, 3, 1)  # the commit, the error that refused it, the turn's first append
    assert "4,800 bytes" in found.fix
    empty, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), commit(), commit_empty(0))
    assert "an empty input audio buffer" in one(empty, "commit-too-short").message


def test_a_commit_that_looks_short_is_judged_by_the_server_s_answer_when_a_server_is_recorded() -> None:
    """A log that shortened its audio payloads (most people's own logging) makes every commit look
    short: with the server in the recording, its answer says which were. Taken (committed): no
    finding. Refused: the finding, with the refusal part of it. A log of the client's side alone
    has no answer to wait for: the finding comes at the commit, as it always did."""
    taken, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(1)),
        commit(),
        received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None),
    )
    assert taken == []
    refused, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(speech(1)), commit(), commit_empty(1))
    assert rules(refused) == ["commit-too-short"]  # the server's error is part of it, not a second finding
    unanswered, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(speech(1)), commit())
    # The recording ends before the answer: no answer will come, so the frames' count is said, and why.
    assert rules(unanswered) == ["commit-too-short"]
    assert "the server never answered this one: the recording ends" in unanswered[0].message
    client_only, _ = lint(append(speech(1)), commit())
    assert rules(client_only) == ["commit-too-short"]


def test_commit_of_100_ms_passes_and_g711_counts_8_bytes_a_millisecond() -> None:
    ok, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), append(speech(100)), commit())
    assert ok == []
    pcmu = {"type": "audio/pcmu"}
    g711, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False, fmt=pcmu), append(b"\x7f" * 800), commit())
    assert g711 == []
    short, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False, fmt=pcmu), append(b"\x7f" * 792), commit(), commit_empty(99)
    )
    assert "99 ms" in one(short, "commit-too-short").message


def test_the_count_restarts_at_each_commit_and_clear() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(80)),
        sent("input_audio_buffer.clear"),
        append(speech(60)),
        append(speech(60)),
        commit(),
        received("input_audio_buffer.committed", item_id="item_1", previous_item_id=None),
        append(speech(50)),
        commit(),
        commit_empty(50),
    )
    found = one(findings, "commit-too-short")
    assert "50 ms" in found.message and "since the last commit" in found.message


def test_commit_refused_by_the_server_is_reported_even_when_the_count_looked_enough() -> None:
    # Server VAD committed the turn while the client was still appending: its own commit finds too little.
    done = sent("input_audio_buffer.commit", event_id="evt_commit")
    error = received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "input_audio_buffer_commit_empty",
            "message": "buffer too small",
            "event_id": "evt_commit",
        },
    )
    findings, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(300)), done, error)
    found = one(findings, "commit-too-short")
    assert f"input_audio_buffer.commit #{done.seq} was refused by error #{error.seq}" in found.message
    assert rules(findings) == ["commit-too-short"]  # not also a generic server-error


def test_a_short_commit_under_vad_blames_vad_only_when_vad_committed_the_turn() -> None:
    """Server VAD being on is not a VAD commit: with no input_audio_buffer.committed in the
    session, saying "a commit after its committed finds the buffer empty" is not true. Under VAD
    a commit is judged at the server's answer (here its refusal)."""
    done = sent_bare("input_audio_buffer.commit")
    refused = commit_empty(40)
    never, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(40)), done, refused)
    found = one(never, "commit-too-short")
    assert f"input_audio_buffer.commit #{done.seq} was refused by error #{refused.seq}" in found.message
    assert "Only 40 ms of audio (1,920 bytes of 24 kHz mono PCM16) was appended since the session began" in (
        found.message
    )
    assert "Server VAD" not in found.message and "committed" not in found.message, found.message
    assert "With server VAD on" in found.fix  # the advice holds while VAD is on; the claim did not
    assert found.frames == (2, 3, 1)  # the commit, the error, the append
    vad = vad_commit("item_vad", 0, 600)
    late, late_refused = sent_bare("input_audio_buffer.commit"), commit_empty(20)
    after, _ = lint(
        ga_created(transcription=TRANSCRIBE), append(speech(600)), *vad, append(speech(20)), late, late_refused
    )
    found = one(after, "commit-too-short")
    assert f"input_audio_buffer.commit #{late.seq} was refused by error #{late_refused.seq}" in found.message
    assert "Only 20 ms of audio" in found.message and "appended since the server VAD's commit" in found.message
    assert f"Server VAD had already committed the turn (input_audio_buffer.committed #{vad[2].seq})" in found.message
    # The turn VAD committed is not lost: only this commit made nothing (review 55g).
    assert "so this commit created no item (the turn server VAD committed is transcribed as usual)" in found.message
    assert "nothing is transcribed" not in found.message
    assert found.frames == (6, 7, 5, 4)  # the commit, the error, the append, VAD's committed
    cleared, _ = lint(  # a clear after the VAD commit begins a turn of the client's own
        ga_created(transcription=TRANSCRIBE),
        append(speech(600)),
        *vad,
        sent("input_audio_buffer.clear"),
        received("input_audio_buffer.cleared"),
        sent_bare("input_audio_buffer.commit"),
        commit_empty(0),
    )
    assert "Server VAD" not in one(cleared, "commit-too-short").message
    push_to_talk, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False), append(speech(40)), commit(), commit_empty(40)
    )
    assert "VAD" not in one(push_to_talk, "commit-too-short").fix


def test_a_commit_refused_after_server_vad_committed_its_audio_is_not_credited_with_it() -> None:
    """The tester's session: default server VAD, 1.6 s appended, then the client's own commit and two
    response.create. The server's VAD committed the audio before it took the commit (its events come
    after the commit was sent), so the commit found 93 ms and was refused: the 1.6 s were committed by
    VAD's input_audio_buffer.committed, and nothing credits the refused commit with them."""
    pcm = speech(1600)
    appends = [append(pcm[i : i + 19200]) for i in range(0, len(pcm), 19200)]
    done = sent_bare("input_audio_buffer.commit")
    vad = vad_commit("item_vad", 0, 1507)
    refused = commit_empty(93)
    active = {"type": "invalid_request_error", "code": "conversation_already_has_active_response", "param": None}
    frames = [
        ga_created(),  # transcription off, server VAD on: the service's defaults
        *appends,
        done,
        sent_bare("response.create"),
        sent_bare("response.create"),
        *vad,
        received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"}),
        refused,
        received("error", error={**active, "message": "Conversation already has an active response: resp_1."}),
        received("error", error={**active, "message": "Conversation already has an active response: resp_1."}),
    ]
    findings, _ = lint(*frames)
    at = frames.index
    off = one(findings, "transcription-off-at-commit")
    assert off.message.startswith(f"Server VAD's input_audio_buffer.committed #{vad[2].seq} commits 1.60 s of user")
    assert off.frames == (at(vad[2]), at(appends[0]))
    short = one(findings, "commit-too-short")
    assert f"input_audio_buffer.commit #{done.seq} was refused by error #{refused.seq}" in short.message
    assert f"Server VAD had committed the audio appended before it (input_audio_buffer.committed #{vad[2].seq})" in (
        short.message
    )
    assert short.frames == (at(done), at(refused), at(vad[2]))
    assert not [f for f in findings if f"input_audio_buffer.commit #{done.seq} commits" in f.message]
    assert rules(findings) == [
        "transcription-off-at-commit",
        "commit-too-short",
        "response-while-active",
        "response-while-active",
    ]
    # The other rules on committed audio credit it to VAD's commit too: clipped speech, transcription on.
    loud = np.clip(np.frombuffer(speech(1600, amplitude=30000), dtype="<i2").astype(np.int32) * 4, -32768, 32767)
    clipped = [append(chunk.tobytes()) for chunk in np.array_split(loud.astype("<i2"), 4)]
    vad = vad_commit("item_vad", 0, 1507)
    frames = [ga_created(transcription=TRANSCRIBE), *clipped, done, *vad, refused]
    findings, _ = lint(*frames)
    assert rules(findings) == ["clipped-audio", "commit-too-short"]
    assert findings[0].message.startswith(f"Server VAD's input_audio_buffer.committed #{vad[2].seq} commits clipped")


def test_a_commit_the_server_took_after_server_vad_commits_what_was_left() -> None:
    """Same race, but enough audio was left after VAD's commit: the server took the client's commit as
    an item of its own. Each commit is credited with its own item, and a failed transcription names
    the commit that made its item."""
    done = sent_bare("input_audio_buffer.commit")
    vad = vad_commit("item_vad", 0, 920)
    ours = received("input_audio_buffer.committed", previous_item_id="item_vad", item_id="item_ours")
    failed = received(
        "conversation.item.input_audio_transcription.failed",
        item_id="item_vad",
        content_index=0,
        error={"type": "transcription_error", "code": "audio_unintelligible", "message": "Audio unintelligible."},
    )
    findings, _ = lint(ga_created(), append(speech(1600)), done, *vad, ours)
    off = of_rule(findings, "transcription-off-at-commit")
    assert [f.message.split(" while")[0] for f in off] == [
        f"Server VAD's input_audio_buffer.committed #{vad[2].seq} commits 1.60 s of user audio",
        f"input_audio_buffer.commit #{done.seq} commits user audio (what input_audio_buffer.committed "
        f"#{vad[2].seq}, server VAD's commit, left in the buffer)",
    ]
    assert off[1].frames == (2, 6)  # our commit, and the server's committed that took it
    on, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(1600)), done, *vad, ours, failed)
    assert f"(committed by input_audio_buffer.committed #{vad[2].seq})" in one(on, "transcription-failed").message


def test_under_server_vad_a_commit_is_judged_when_the_server_answers_it() -> None:
    done = sent_bare("input_audio_buffer.commit")
    answer = received("input_audio_buffer.committed", previous_item_id=None, item_id="item_1")
    waiting, _ = lint(ga_created(), append(speech(300)), done)
    # Whether the commit or server VAD commits the audio is not known, but transcription is off for
    # either (a log with the session and the client's frames alone linted clean, review 56c).
    [unanswered] = of_rule(waiting, "transcription-off-at-commit")
    assert unanswered.message.startswith(f"input_audio_buffer.commit #{done.seq}, which the server never answered,")
    findings, _ = lint(ga_created(), append(speech(300)), done, answer)
    found = one(findings, "transcription-off-at-commit")
    assert found.message.startswith(f"input_audio_buffer.commit #{done.seq} commits 300 ms of user audio")
    assert found.frames == (2, 1, 3)  # the commit, the append, the server's committed


def test_a_commit_after_server_vad_left_audio_in_the_buffer_is_not_called_empty() -> None:
    """VAD commits up to the end of speech (speech_stopped.audio_end_ms) and the audio after it stays
    buffered: a client commit right after VAD's committed may find plenty, and the server takes it.
    Not too short, but a double commit (see the next test)."""
    vad = vad_commit("item_vad", 0, 1200)
    done = sent_bare("input_audio_buffer.commit")
    ours = received("input_audio_buffer.committed", previous_item_id="item_vad", item_id="item_ours")
    findings, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(2200)), *vad, done, ours)
    assert rules(findings) == ["double-commit"]


def _unintelligible(item_id: str) -> Envelope:
    return received(
        "conversation.item.input_audio_transcription.failed",
        item_id=item_id,
        content_index=0,
        error={
            "type": "transcription_error",
            "code": "audio_unintelligible",
            "message": "The audio could not be transcribed.",
        },
    )


def test_a_commit_the_server_takes_after_server_vad_committed_the_turn_is_a_double_commit() -> None:
    """The tester's c05 capture: server VAD commits the turn and answers it; the client then appends
    the rest of its file (silence) and commits too. The server takes the commit: a second item,
    whose transcription fails, and a second response. The commit is the mistake, and the failed
    transcription says so instead of sending the developer to check the audio format."""
    pcm = speech(1600) + speech(1000, amplitude=20)  # the file's trailing second: a quiet room, not zeros
    appends = [append(pcm[i : i + 4800]) for i in range(0, len(pcm), 4800)]
    vad = vad_commit("item_vad", 0, 1600)
    done, create = sent_bare("input_audio_buffer.commit"), sent_bare("response.create")
    ours = received("input_audio_buffer.committed", previous_item_id="item_vad", item_id="item_ours")
    frames = [
        ga_created(transcription=TRANSCRIBE),
        *appends[:20],
        *vad,
        received(  # VAD's turn is transcribed (this test is about the commit after it)
            "conversation.item.input_audio_transcription.completed",
            item_id="item_vad",
            content_index=0,
            transcript="hi",
        ),
        received("response.created", response={"id": "resp_1", "conversation_id": "c"}),
        received("response.done", response={"id": "resp_1", "status": "completed"}),
        *appends[20:],
        done,
        create,
        ours,
        _unintelligible("item_ours"),
        received("response.created", response={"id": "resp_2", "conversation_id": "c"}),
    ]
    findings, _ = lint(*frames)
    at = frames.index
    assert rules(findings) == ["double-commit", "transcription-failed"], [f.message for f in findings]
    double, failed = findings
    assert double.severity is Severity.ERROR
    assert double.message.startswith(
        f"input_audio_buffer.commit #{done.seq} commits the input buffer under server VAD, but server VAD had "
        f"already committed the turn (input_audio_buffer.committed #{vad[2].seq}) and detected no speech since. "
        f"The server took it (input_audio_buffer.committed #{ours.seq})"
    )
    assert double.frames == (at(done), at(ours), at(vad[2]))
    assert "don't also send input_audio_buffer.commit" in double.fix and "turn_detection null" in double.fix
    assert f"The linter already found why: double-commit on input_audio_buffer.commit #{done.seq}." in (failed.message)
    assert failed.fix.startswith("Fix what double-commit says: With server VAD on") and "format" not in failed.fix
    # Racing: VAD's commit came while ours was on its way, and the server still took ours.
    raced, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(2200)), done, *vad, ours)
    assert "while it was on its way server VAD committed the turn" in one(raced, "double-commit").message
    # The refused variant (c05b) stays one commit-too-short, which already says it.
    refused, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(1600)), *vad, done, commit_empty(0))
    assert rules(refused) == ["commit-too-short"]


def test_a_commit_under_vad_while_speech_goes_on_is_not_a_double_commit() -> None:
    """Ending a turn early under VAD: speech began again after VAD's last commit, and the client commits
    before VAD would. The server's own committed for it is the client's, not a second one."""
    vad = vad_commit("item_vad", 0, 1200)
    ours = received("input_audio_buffer.committed", previous_item_id="item_vad", item_id="item_ours")
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE),
        append(speech(1400)),
        *vad,
        received("input_audio_buffer.speech_started", audio_start_ms=1600, item_id="item_2"),
        append(speech(800)),
        sent_bare("input_audio_buffer.commit"),
        ours,
    )
    assert findings == []
    no_vad, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(800)), commit(), ours)
    assert no_vad == []


def test_response_create_while_a_response_is_active() -> None:
    created = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    again = sent("response.create")
    findings, _ = lint(ga_created(), sent("response.create"), created, again)
    found = one(findings, "response-while-active")
    assert found.severity is Severity.ERROR
    assert f"response.create #{again.seq} was sent while response resp_1 (response.created #{created.seq})" in (
        found.message
    )


def test_a_create_the_server_accepted_is_not_said_to_be_refused() -> None:
    """A reply stalled on its way (its response.done late): the client's second create went out
    while it looked active, and the server answered it with a response.created, no error. The
    finding said "the server refuses this one", which the recording contradicts: it says the server
    accepted it and why (the race), naming the answer."""
    first = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    again = sent("response.create")
    done = received("response.done", response={"id": "resp_1", "status": "completed"})
    second = received("response.created", response={"id": "resp_2", "status": "in_progress", "conversation_id": "c"})
    findings, _ = lint(ga_created(), sent("response.create"), first, again, done, second)
    found = one(findings, "response-while-active")
    assert "refuses this one" not in found.message
    assert f"This time the server accepted it (response.created #{second.seq})" in found.message, found.message
    assert found.frames[-1] == 5  # the answer is among its frames (journal index of `second`)


def test_response_create_after_done_or_out_of_band_is_fine() -> None:
    created = received("response.created", response={"id": "resp_1", "conversation_id": "c"})
    done = received("response.done", response={"id": "resp_1", "status": "completed"})
    out_of_band = received("response.created", response={"id": "resp_2", "conversation_id": None})
    findings, _ = lint(
        ga_created(),
        created,
        sent("response.create", response={"conversation": "none"}),
        done,
        sent("response.create"),
        received("response.done", response={"id": "resp_3"}),
        out_of_band,
        sent("response.create"),
    )
    assert findings == []


def test_response_create_right_after_cancelling_the_active_response_is_fine() -> None:
    """Barge-in: cancel, then create at once, before the cancelled response's response.done. The
    server takes them in order, so the create is not refused (the app itself does this)."""
    created = received("response.created", response={"id": "resp_1", "conversation_id": "c"})
    findings, _ = lint(ga_created(), created, sent("response.cancel"), sent("response.create"))
    assert findings == []
    other = received("response.created", response={"id": "resp_2", "conversation_id": "c"})
    findings, _ = lint(ga_created(), other, sent("response.cancel", response_id="resp_9"), sent("response.create"))
    assert rules(findings) == ["response-while-active"]  # a cancel of another response changes nothing


def test_active_response_error_from_the_server_is_reported_once() -> None:
    create = sent("response.create", event_id="evt_rc")
    error = received(
        "error", error={"code": "conversation_already_has_active_response", "message": "busy", "event_id": "evt_rc"}
    )
    findings, _ = lint(ga_created(), create, error)
    found = one(findings, "response-while-active")
    assert f"response.create #{create.seq} was refused by error #{error.seq}" in found.message
    assert rules(findings) == ["response-while-active"]


def _already_active(event_id: str | None = None) -> Envelope:
    return received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "conversation_already_has_active_response",
            "message": "Conversation already has an active response in progress: resp_1.",
            "param": None,
            "event_id": event_id,
        },
    )


def test_the_servers_error_for_a_create_already_found_folds_into_its_finding_without_event_id() -> None:
    """The tester's c09a (push-to-talk) and c05b (server VAD) captures, from the official SDK (no
    event_id): the rule flags the second response.create when it is sent, and the server's error for
    it, matched by order, adds nothing."""
    first, second = sent_bare("response.create"), sent_bare("response.create")
    created = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    error = _already_active()
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), first, created, second, error)
    assert rules(findings) == ["response-while-active"], [f.message for f in findings]
    assert findings[0].message.startswith(f"response.create #{second.seq} was sent while response resp_1")
    vad = vad_commit("item_1", 0, 1200)
    findings, _ = lint(ga_created(transcription=TRANSCRIBE), append(speech(1400)), *vad, created, second, error)
    assert rules(findings) == ["response-while-active"]


def test_an_error_for_a_create_not_found_at_sending_names_it_by_order_and_says_vad_only_under_vad() -> None:
    """Two creates sent back to back before the first response.created (the tester's c15): the
    server's error is about the second; the remark about server VAD starting responses is made only
    when the session has VAD on."""
    first, second = sent_bare("response.create"), sent_bare("response.create")
    created = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    error = _already_active()
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), first, second, created, error)
    found = one(findings, "response-while-active")
    assert found.message.startswith(f"response.create #{second.seq} was refused by error #{error.seq}")
    assert "VAD" not in found.message, found.message
    assert found.frames == (2, 4)  # the second create, the error
    # Under VAD too, the first create started the active response: the server did not start it itself.
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=True), first, second, created, error)
    assert "VAD" not in one(findings, "response-while-active").message
    # A turn VAD committed first: the active response may be the server's own answer to it.
    vad = vad_commit("item_1", 0, 1200)
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=True), append(speech(1400)), *vad, second, created, error
    )
    assert (
        "(with server VAD on, the server starts one itself when a turn ends)"
        in one(findings, "response-while-active").message
    )


def test_truncate_without_its_fields() -> None:
    truncate = sent("conversation.item.truncate", item_id="item_a", content_index="0")
    findings, _ = lint(ga_created(), truncate)
    found = one(findings, "truncate-missing-fields")
    assert f"conversation.item.truncate #{truncate.seq} has content_index '0'" in found.message
    assert "lacks audio_end_ms" in found.message
    complete, _ = lint(ga_created(), sent("conversation.item.truncate", item_id="x", content_index=0, audio_end_ms=0))
    assert complete == []


def test_truncate_past_the_audio_the_server_sent() -> None:
    deltas = [
        received("response.output_audio.delta", response_id="r", item_id="item_a", delta=audio_b64(100))
        for _ in range(3)
    ]
    past = sent("conversation.item.truncate", item_id="item_a", content_index=0, audio_end_ms=450)
    inside = sent("conversation.item.truncate", item_id="item_a", content_index=0, audio_end_ms=300)
    findings, _ = lint(ga_created(), *deltas, inside, past)
    found = one(findings, "truncate-past-audio")
    assert f"conversation.item.truncate #{past.seq} cuts item item_a at audio_end_ms 450" in found.message
    assert "300 ms of audio" in found.message and "3 audio deltas" in found.message
    assert found.frames == (5, 1)


def test_truncate_past_the_one_audio_delta_names_it_once() -> None:
    delta = received("response.output_audio.delta", response_id="r", item_id="item_a", delta=audio_b64(100))
    findings, _ = lint(
        ga_created(), delta, sent("conversation.item.truncate", item_id="item_a", content_index=0, audio_end_ms=150)
    )
    message = one(findings, "truncate-past-audio").message
    assert f"(4,800 bytes in one audio delta, response.output_audio.delta #{delta.seq})" in message


def test_truncate_counts_beta_audio_deltas_too() -> None:
    deltas = [received("response.audio.delta", item_id="item_b", delta=audio_b64(100)) for _ in range(2)]
    findings, _ = lint(
        beta_created(), *deltas, sent("conversation.item.truncate", item_id="item_b", content_index=0, audio_end_ms=201)
    )
    assert rules(findings) == ["truncate-past-audio"]


# -- 5. dialect ---------------------------------------------------------------------------------


def test_beta_session_fields_sent_to_a_ga_server() -> None:
    update = sent(
        "session.update",
        session={"input_audio_transcription": {"model": "whisper-1"}, "turn_detection": None, "modalities": ["text"]},
    )
    findings, _ = lint(ga_created(), update)
    found = one(findings, "dialect-mismatch")
    assert f"session.update #{update.seq} sends beta session fields to a GA server" in found.message
    assert "input_audio_transcription (→ audio.input.transcription)" in found.message
    assert "modalities (→ output_modalities)" in found.message
    assert "transcription stays off" in found.message
    assert one(findings, "session-type-missing")  # and no session.type either


def test_dialect_mismatch_names_no_error_code_the_server_may_not_send() -> None:
    """A beta-shaped update without session.type: the server answers missing_required_parameter,
    not unknown_parameter; the dialect finding is made before any answer, so it names no code."""
    update = sent("session.update", event_id="evt_beta", session={"input_audio_format": "pcm16", "voice": "alloy"})
    error = received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "missing_required_parameter",
            "message": "Missing required parameter: 'session.type'.",
            "param": "session.type",
            "event_id": "evt_beta",
        },
    )
    findings, _ = lint(ga_created(), update, error)
    found = one(findings, "dialect-mismatch")
    assert "refuses the whole update with an error, so nothing in it takes effect" in found.message
    assert "unknown_parameter" not in found.message
    assert "missing_required_parameter" in one(findings, "session-update-rejected").message  # the server's own word
    on_beta, _ = lint(beta_created(), sent("session.update", session={"type": "realtime"}))
    assert "unknown_parameter" not in one(on_beta, "dialect-mismatch").message
    response, _ = lint(ga_created(), sent("response.create", response={"voice": "alloy"}))
    assert "refuses the response.create with an error" in one(response, "dialect-mismatch").message


def test_ga_session_fields_sent_to_a_beta_server_and_beta_fields_are_fine_there() -> None:
    findings, _ = lint(beta_created(), sent("session.update", session={"type": "realtime", "audio": {}}))
    assert (
        "GA session fields to a beta server: type (no equivalent), audio" in one(findings, "dialect-mismatch").message
    )
    fine, _ = lint(
        beta_created(), sent("session.update", session={"input_audio_transcription": {"model": "whisper-1"}})
    )
    assert fine == []


def test_dialect_is_judged_once_the_server_says_it() -> None:
    early = sent("session.update", session={"input_audio_format": "pcm16"})
    findings, _ = lint(connecting(), early, ga_created())
    assert f"session.update #{early.seq}" in one(findings, "dialect-mismatch").message


def test_beta_event_name_sent_to_a_ga_server() -> None:
    update = sent("transcription_session.update", session={"input_audio_transcription": {"model": "whisper-1"}})
    findings, _ = lint(ga_created(), update)
    found = one(findings, "dialect-mismatch")
    assert f"transcription_session.update #{update.seq} is a beta event" in found.message
    assert 'session.type "transcription"' in found.fix


def test_beta_response_fields_sent_to_a_ga_server() -> None:
    findings, _ = lint(ga_created(), sent("response.create", response={"modalities": ["text"], "voice": "alloy"}))
    assert "modalities (→ output_modalities), voice" in one(findings, "dialect-mismatch").message
    fine, _ = lint(ga_created(), sent("response.create", response={"output_modalities": ["text"]}))
    assert fine == []


def test_ga_session_update_without_type() -> None:
    update = sent("session.update", session={"instructions": "Be brief."})
    findings, _ = lint(ga_created(), update)
    found = one(findings, "session-type-missing")
    assert f"session.update #{update.seq} has no session.type" in found.message
    assert '"type": "realtime"' in found.fix
    typed, _ = lint(ga_created(), sent("session.update", session={"type": "realtime", "instructions": "Be brief."}))
    on_beta, _ = lint(beta_created(), sent("session.update", session={"instructions": "Be brief."}))
    assert typed == [] and on_beta == []


def test_transcription_type_on_a_realtime_session() -> None:
    findings, _ = lint(ga_created(), sent("session.update", session={"type": "transcription"}))
    assert "sets session.type 'transcription' on a 'realtime' session" in one(findings, "session-type-mismatch").message


def test_rejected_session_update_quotes_the_error_and_says_what_the_server_kept() -> None:
    update = sent(
        "session.update",
        event_id="evt_up",
        session={"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-2"}}}},
    )
    error = received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "Invalid value: 'whisper-2'.",
            "param": "session.audio.input.transcription.model",
            "event_id": "evt_up",
        },
    )
    created = ga_created(vad=True)
    findings, _ = lint(created, update, error)
    found = one(findings, "session-update-rejected")
    assert found.frames == (1, 2)
    assert f"session.update #{update.seq} was rejected by error #{error.seq}: invalid_value: Invalid value" in (
        found.message
    )
    assert f"it kept the session of session.created #{created.seq}: transcription off · server_vad" in found.message
    assert "session.audio.input.transcription.model" in found.fix
    assert "server-error" not in rules(findings)


def _update_refused(session: dict[str, Any], code: str, message: str, param: str) -> list[Finding]:
    """The findings of a `session.update` of `session` that the server refuses (no event_id)."""
    update = sent_bare("session.update", session=session)
    error = {"type": "invalid_request_error", "code": code, "message": message, "param": param, "event_id": None}
    return lint(ga_created(), update, received("error", error=error))[0]


def test_a_rejected_update_already_found_wrong_points_at_that_finding() -> None:
    """The tester's c03c capture: a 16 kHz rate declared, refused as pcm-rate-not-24000 said it would
    be. The rejection (which says what the server kept) names that finding and gives its fix."""
    session = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    findings = _update_refused(
        session,
        "integer_below_min_value",
        "Invalid 'session.audio.input.format.rate': integer below minimum value. Expected a value >= 24000, but "
        "got 16000 instead.",
        "session.audio.input.format.rate",
    )
    assert rules(findings) == ["pcm-rate-not-24000", "session-update-rejected"]
    rejected = findings[1]
    assert "(param session.audio.input.format.rate), as pcm-rate-not-24000 on it said it would be." in (
        rejected.message
    )
    assert "it kept the session of session.created" in rejected.message
    assert rejected.fix.startswith('Fix what pcm-rate-not-24000 says: Declare {"type": "audio/pcm", "rate": 24000}')


def test_a_rejection_for_another_field_is_not_put_down_to_an_earlier_finding() -> None:
    """An update with a bad rate and an unknown field, refused for the field (`session.foo`): the
    rejection said "as pcm-rate-not-24000 on it said it would be" and gave the rate's fix, which
    leaves the update refused. It names the field the server named, says to remove it, and then
    to fix the rate too."""
    session = {"type": "realtime", "foo": 1, "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    findings = _update_refused(session, "unknown_parameter", "Unknown parameter: 'session.foo'.", "session.foo")
    assert rules(findings) == ["pcm-rate-not-24000", "session-update-rejected"]
    rejected = findings[1]
    assert "(param session.foo). The server discards the whole update" in rejected.message
    assert "said it would be" not in rejected.message
    assert rejected.fix.startswith("Remove session.foo (the service does not know it) and send the session.update")
    assert "Then fix what pcm-rate-not-24000 on it says" in rejected.fix


def test_rejection_without_event_id_is_tied_to_the_unanswered_update() -> None:
    update = sent("session.update", session={"type": "realtime", "bogus": 1})
    error = received("error", error={"code": "unknown_parameter", "message": "Unknown", "param": "session.bogus"})
    findings, _ = lint(ga_created(), update, error)
    assert one(findings, "session-update-rejected").frames == (1, 2)
    answered, _ = lint(ga_created(), update, ga_updated(), received("error", error={"code": "x", "param": "session.y"}))
    assert "session-update-rejected" not in rules(
        answered
    )  # the update was answered: the error is about something else


def test_error_about_another_frame_is_not_a_rejected_update() -> None:
    create = sent("conversation.item.create", event_id="evt_ic", item={"type": "message", "role": "user"})
    error = received("error", error={"code": "invalid_value", "message": "bad item", "event_id": "evt_ic"})
    findings, _ = lint(ga_created(), sent("session.update", session={"type": "realtime"}), create, error)
    found = one(findings, "server-error")
    assert f"error #{error.seq} refuses conversation.item.create #{create.seq}: invalid_value: bad item" in (
        found.message
    )


# -- 6. output modalities, audio formats ----------------------------------------------------------


def test_ga_output_modalities_text_and_audio_together_is_refused() -> None:
    update = sent("session.update", session={"type": "realtime", "output_modalities": ["text", "audio"]})
    findings, _ = lint(ga_created(), update)
    found = one(findings, "output-modalities-refused")
    assert f"session.update #{update.seq}: session.output_modalities asks for text and audio at once" in found.message
    create = sent("response.create", response={"output_modalities": ["audio", "text"]})
    in_response, _ = lint(ga_created(), create)
    assert "no response starts" in one(in_response, "output-modalities-refused").message
    fine, _ = lint(ga_created(), sent("session.update", session={"type": "realtime", "output_modalities": ["text"]}))
    assert fine == []


def test_beta_modalities_without_text_is_refused() -> None:
    findings, _ = lint(beta_created(), sent("session.update", session={"modalities": ["audio"]}))
    assert 'lacks "text"' in one(findings, "output-modalities-refused").message
    fine, _ = lint(beta_created(), sent("session.update", session={"modalities": ["audio", "text"]}))
    assert fine == []


def test_pcm_rate_other_than_24000() -> None:
    update = sent(
        "session.update",
        session={
            "type": "realtime",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}, "transcription": {"model": "x"}}},
        },
    )
    findings, _ = lint(ga_created(), update)
    found = one(findings, "pcm-rate-not-24000")
    assert f"session.update #{update.seq}: session.audio.input.format declares audio/pcm at rate 16 kHz" in (
        found.message
    )
    assert "transcription settings in the same update" in found.message
    response = sent("response.create", response={"audio": {"output": {"format": {"type": "audio/pcm", "rate": 44100}}}})
    in_response, _ = lint(ga_created(), response)
    assert (
        "response.audio.output.format declares audio/pcm at rate 44.1 kHz"
        in one(in_response, "pcm-rate-not-24000").message
    )
    fine, _ = lint(
        ga_created(),
        sent(
            "session.update",
            session={"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}},
        ),
    )
    assert fine == []


def test_unknown_audio_format() -> None:
    ga, _ = lint(
        ga_created(),
        sent("session.update", session={"type": "realtime", "audio": {"input": {"format": {"type": "audio/wav"}}}}),
    )
    assert "type 'audio/wav' is not a format the service knows" in one(ga, "audio-format-unknown").message
    beta, _ = lint(beta_created(), sent("session.update", session={"input_audio_format": "wav"}))
    assert one(beta, "audio-format-unknown")
    fine, _ = lint(beta_created(), sent("session.update", session={"input_audio_format": "g711_ulaw"}))
    assert fine == []


# -- 7. transcription failures --------------------------------------------------------------------


def test_transcription_failed_is_a_finding_with_code_message_and_commit() -> None:
    done = commit()
    failed = received(
        "conversation.item.input_audio_transcription.failed",
        item_id="item_f",
        content_index=0,
        error={
            "type": "transcription_error",
            "code": "audio_unintelligible",
            "message": "The audio could not be transcribed.",
        },
    )
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(300)),
        done,
        received("input_audio_buffer.committed", item_id="item_f"),
        failed,
    )
    found = one(findings, "transcription-failed")
    assert found.severity is Severity.ERROR
    assert f"{failed.type} #{failed.seq}: the server could not transcribe item item_f" in found.message
    assert f"(committed by input_audio_buffer.commit #{done.seq})" in found.message
    assert "audio_unintelligible: The audio could not be transcribed." in found.message
    assert found.frames == (4, 2)


def test_a_failed_transcription_points_at_what_the_linter_found_in_its_audio() -> None:
    """The tester's c08a (byte-swapped) and c02_hello44st (a 44.1 kHz stereo WAV) captures: the
    transcription fails, and its finding names the finding that says why, not a generic fix."""
    cases = [
        ([append(swapped(speech(300)))], "byte-swapped-audio", "commit", "Send 16-bit samples little-endian"),
        ([append(wav_file(speech(300), rate=44100, channels=2))], "wav-header-in-audio", "append", "Send raw samples"),
        ([append(bytes(48 * 300))], "silent-audio", "commit", "Check what fills the buffer"),
    ]
    for appends, rule, blamed, fix in cases:
        done = commit()
        frames = [
            ga_created(transcription=TRANSCRIBE, vad=False),
            *appends,
            done,
            received("input_audio_buffer.committed", item_id="item_f"),
            _unintelligible("item_f"),
        ]
        findings, _ = lint(*frames)
        failed = one(findings, "transcription-failed")
        where = (
            f"input_audio_buffer.commit #{done.seq}"
            if blamed == "commit"
            else f"input_audio_buffer.append #{appends[0].seq}"
        )
        assert f"The linter already found why: {rule} on {where}." in failed.message, failed.message
        assert failed.fix.startswith(f"Fix what {rule} says: {fix}"), failed.fix
        assert failed.frames[:2] == (len(frames) - 1, frames.index(done))
    # A header of the session's own format is no reason for a failure: the generic advice stays.
    done = commit()
    frames = [
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(wav_file(speech(300))),
        done,
        received("input_audio_buffer.committed", item_id="item_f"),
        _unintelligible("item_f"),
    ]
    failed = one(lint(*frames)[0], "transcription-failed")
    assert "already found" not in failed.message and "no speech the model could make out" in failed.fix


def test_transcription_completed_is_not_a_finding() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(300)),
        commit(),
        received("input_audio_buffer.committed", item_id="item_f"),
        received("conversation.item.input_audio_transcription.completed", item_id="item_f", transcript="hi"),
    )
    assert findings == []


# -- 8. unknown server events ---------------------------------------------------------------------


def test_unknown_server_event_type_is_reported_once_per_type() -> None:
    odd = received("response.output_hologram.delta", delta="x")
    findings, _ = lint(ga_created(), odd, received("response.output_hologram.delta", delta="y"))
    found = one(findings, "unknown-server-event")
    assert found.severity is Severity.INFO and "'response.output_hologram.delta'" in found.message


def test_known_server_events_of_both_dialects_are_not_unknown() -> None:
    findings, _ = lint(
        ga_created(),
        received("response.audio_transcript.delta", delta="x"),
        received("transcription_session.updated", session={}),
        received("mcp_list_tools.completed", item_id="i"),
        received("rate_limits.updated", rate_limits=[]),
        received("conversation.item.input_audio_transcription.segment", item_id="i"),
    )
    assert findings == []


# -- extras --------------------------------------------------------------------------------------


def test_unknown_client_event() -> None:
    bad = sent("response.cancelled")
    findings, _ = lint(ga_created(), bad, sent("conversation.item.retrieve", item_id="i"))
    assert f"response.cancelled #{bad.seq}: 'response.cancelled' is not a client event" in (
        one(findings, "unknown-client-event").message
    )


def test_the_error_answering_an_unknown_client_event_is_not_a_second_finding() -> None:
    """The server refuses an unknown type with invalid_value on 'type', quoting it: that error is the
    answer unknown-client-event already announces (with or without an event_id naming the frame)."""
    bare, named = sent_bare("bogus.event"), sent("bogus.event")
    findings, _ = lint(
        ga_created(),
        bare,
        type_refused("bogus.event"),
        named,
        type_refused("bogus.event", event_id=named.data["event_id"]),
    )
    assert rules(findings) == ["unknown-client-event", "unknown-client-event"]
    # Each names its answer once it came (it went on saying "The server answers it with an error",
    # as if none had, while the log linked error #13 to it).
    for finding in findings:
        assert "The server answers it" not in finding.message, finding.message
        assert "The server answered it with error #" in finding.message and "(invalid_value) and did nothing." in (
            finding.message
        )
        assert len(finding.frames) == 2  # the frame and its error
    unanswered, _ = lint(ga_created(), sent("bogus.event"))
    assert (
        "The server answers it with an error (invalid_value on 'type')"
        in one(unanswered, "unknown-client-event").message
    )
    # Another error after it is still its own finding.
    other = received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "Invalid value: 'x'.",
            "param": "y",
        },
    )
    more, _ = lint(ga_created(), sent_bare("bogus.event"), type_refused("bogus.event"), other)
    assert rules(more) == ["unknown-client-event", "server-error"]


def test_the_error_answering_an_event_of_the_other_dialect_is_not_a_second_finding() -> None:
    beta_event = sent_bare("transcription_session.update", session={})
    findings, _ = lint(ga_created(), beta_event, type_refused("transcription_session.update"))
    assert rules(findings) == ["dialect-mismatch"]
    named = sent("transcription_session.update", session={})
    with_id, _ = lint(ga_created(), named, type_refused("transcription_session.update", named.data["event_id"]))
    assert rules(with_id) == ["dialect-mismatch"]  # not also session-update-rejected


def test_malformed_client_frame() -> None:
    bad = Envelope(next_seq(), Direction.OUT, "rt.malformed", {"type": "rt.malformed", "message": "not JSON"}, "{oops")
    findings, _ = lint(ga_created(), bad)
    found = one(findings, "malformed-client-frame")
    assert f"rt.malformed #{bad.seq}: the client sent a frame that is not a JSON event (not JSON)" in found.message
    received_bad = Envelope(next_seq(), Direction.IN, "rt.malformed", {"type": "rt.malformed"}, "{oops")
    from_server, _ = lint(ga_created(), received_bad)
    # Not the client's mistake, so not malformed-client-frame; but said: whatever it carried (a
    # transcript's event) is lost, and a client that parses every frame may have failed on it.
    garbage = one(from_server, "malformed-server-frame")
    assert garbage.severity is Severity.WARNING and garbage.frames == (1,)


def test_nan_in_a_client_frame_is_malformed_and_each_unreadable_frame_has_one_finding() -> None:
    """A client frame with NaN (Python's json.dumps writes it) is not JSON: found as malformed, not
    judged as the session.update it names; the server's invalid_json answers (no event_id: errors come
    in order) add no second finding each."""
    nan_update = Envelope(
        next_seq(),
        Direction.OUT,
        "session.update",
        {"type": "session.update", "session": {"type": "realtime", "instructions": float("nan")}},
        '{"type":"session.update","session":{"type":"realtime","instructions":NaN}}',
    )
    garbage = Envelope(next_seq(), Direction.OUT, "rt.malformed", {"type": "rt.malformed", "message": "not JSON"}, "x")
    invalid_json = {"type": "invalid_request_error", "code": "invalid_json", "message": "Invalid JSON"}
    findings, _ = lint(
        ga_created(),
        nan_update,
        garbage,
        received("error", error=invalid_json),
        received("error", error=invalid_json),
        received("error", error={**invalid_json, "code": "invalid_value", "message": "something else"}),
    )
    assert rules(findings) == ["malformed-client-frame", "malformed-client-frame", "server-error"]
    assert "NaN or Infinity" in findings[0].message and "allow_nan=False" in findings[0].fix
    assert findings[0].frames == (1, 3)  # the frame, then the server's error answering it
    assert findings[1].frames == (2, 4)


def test_audio_that_is_not_base64() -> None:
    pcm = b64(speech(200))
    cases = {
        "data:audio/wav;base64," + pcm: "is a data URL",
        pcm.replace("+", "-").replace("/", "_"): "URL-safe",
        pcm.rstrip("=") + "A": "not padded",
        "\n".join(pcm[i : i + 76] for i in range(0, len(pcm), 76)): "contains '\\n'",
    }
    for audio, words in cases.items():
        findings, _ = lint(
            ga_created(transcription=TRANSCRIBE, vad=False), sent("input_audio_buffer.append", audio=audio)
        )
        assert words in one(findings, "invalid-base64-audio").message, audio[:40]
    number, _ = lint(ga_created(), sent("input_audio_buffer.append", audio=12))
    assert "is a JSON number" in one(number, "invalid-base64-audio").message
    item, _ = lint(ga_created(), sent("conversation.item.create", item=audio_item("data:audio/wav;base64," + pcm)))
    assert rules(item) == ["invalid-base64-audio"]
    fine, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), sent("input_audio_buffer.append", audio=pcm))
    assert fine == []


def test_invalid_audio_is_reported_once_per_turn() -> None:
    bad = [sent("input_audio_buffer.append", audio="data:,") for _ in range(5)]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *bad)
    assert rules(findings) == ["invalid-base64-audio"]


def _audio_refused(event_id: str | None = None) -> Envelope:
    """The server's answer to an append (or item) whose audio is not base64, as the simulator words it."""
    return received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "Invalid 'audio': expected base64-encoded audio.",
            "param": "audio",
            "event_id": event_id,
        },
    )


def test_errors_answering_refused_appends_fold_into_the_base64_finding_and_the_commit_says_why_it_was_empty() -> None:
    """The tester's c11a capture (the official SDK, URL-safe base64, push-to-talk): 36 appends, each
    refused with an error the SDK's missing event_id leaves unnamed, then a commit of nothing. One
    invalid-base64-audio finding explains every error, and the commit's finding says the buffer was
    empty because every append was refused, not that nothing was appended."""
    bad = b64(speech(100)).replace("+", "-").replace("/", "_").rstrip("=")
    appends = [sent_bare("input_audio_buffer.append", audio=bad) for _ in range(36)]
    done = sent_bare("input_audio_buffer.commit")
    frames = [
        ga_created(transcription=TRANSCRIBE, vad=False),
        appends[0],
        _audio_refused(),
        *appends[1:8],
        *[_audio_refused() for _ in range(7)],
        *appends[8:],
        done,
        sent_bare("response.create"),
        *[_audio_refused() for _ in range(28)],
        commit_empty(0),
    ]
    findings, _ = lint(*frames)
    assert rules(findings) == ["invalid-base64-audio", "commit-too-short"], [f.message for f in findings]
    short = findings[1]
    assert "nothing was appended" not in short.message
    assert (
        f"commits an empty input audio buffer: all 36 appends since the session began carried audio that is not "
        f"base64, and the server refused each one (invalid-base64-audio, on input_audio_buffer.append "
        f"#{appends[0].seq})"
    ) in short.message
    assert short.fix.startswith("Send the audio as standard base64")
    assert short.frames == (frames.index(done), len(frames) - 1, 1)  # the commit, its refusal, the first append
    # The same with event ids (the tester's raw client c15): each error names its append.
    named = [sent("input_audio_buffer.append", audio=bad) for _ in range(3)]
    errors = [_audio_refused(env.data["event_id"]) for env in named]
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *named, *errors, commit(), commit_empty(0))
    assert rules(findings) == ["invalid-base64-audio", "commit-too-short"]
    # An error about something else still is one.
    other = received("error", error={"code": "invalid_value", "message": "Invalid 'item.role'.", "param": "item.role"})
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False), sent_bare("input_audio_buffer.append", audio=bad), other
    )
    assert rules(findings) == ["invalid-base64-audio", "server-error"]


def test_a_short_commit_says_how_many_appends_were_refused_beside_those_buffered() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(40)),
        sent_bare("input_audio_buffer.append", audio="data:audio/pcm;base64," + b64(speech(200))),
        _audio_refused(),
        commit(),
        commit_empty(40),
    )
    short = one(findings, "commit-too-short")
    assert "only 40 ms of audio (1,920 bytes of 24 kHz mono PCM16 appended since the session began; 1 append" in (
        short.message
    )


def test_append_over_15_mib() -> None:
    big = sent("input_audio_buffer.append", audio="A" * (21 * 1024 * 1024))  # 15.75 MiB of audio
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), big)
    assert "16,515,072 bytes of audio" in one(findings, "append-too-large").message
    fine, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False), sent("input_audio_buffer.append", audio=b64(speech(100)))
    )
    assert fine == []


def test_cancel_with_nothing_active_is_a_warning_when_the_server_says_so() -> None:
    cancel = sent("response.cancel", event_id="evt_cancel")
    error = received(
        "error", error={"code": "response_cancel_not_active", "message": "no active response", "event_id": "evt_cancel"}
    )
    findings, _ = lint(ga_created(), cancel, error)
    found = one(findings, "cancel-not-active")
    assert found.severity is Severity.WARNING and f"response.cancel #{cancel.seq}" in found.message
    answered, _ = lint(
        ga_created(),
        received("response.created", response={"id": "r"}),
        sent("response.cancel"),
        received("response.done", response={"id": "r", "status": "cancelled"}),
    )
    assert answered == []


def test_cancel_not_active_without_event_id_names_the_cancel_it_answers() -> None:
    """The tester's c09b capture (the official SDK sets no event_id): the finding names the
    response.cancel sent just before the error, as the commit rule names its commit."""
    cancel = sent_bare("response.cancel")
    error = received(
        "error",
        error={"code": "response_cancel_not_active", "message": "Cancellation failed: no active response found"},
    )
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), cancel, error)
    found = one(findings, "cancel-not-active")
    assert found.message.startswith(f"response.cancel #{cancel.seq} was answered by error #{error.seq}")
    assert found.frames == (1, 2)
    # A cancel answered by its cancelled response.done is not the one a later error is about.
    late = sent_bare("response.cancel")
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        received("response.created", response={"id": "r", "conversation_id": "c"}),
        cancel,
        received(
            "response.done",
            response={"id": "r", "status": "cancelled", "status_details": {"reason": "client_cancelled"}},
        ),
        late,
        error,
    )
    assert one(findings, "cancel-not-active").message.startswith(f"response.cancel #{late.seq} was answered")


def test_server_error_names_the_frame_and_a_known_fix() -> None:
    error = received("error", error={"code": "beta_api_shape_disabled", "message": "The Realtime Beta API is gone."})
    findings, _ = lint(connecting(), error)
    found = one(findings, "server-error")
    assert f"error #{error.seq}: beta_api_shape_disabled: The Realtime Beta API is gone." in found.message
    assert "OpenAI-Beta" in found.fix


def test_an_error_about_a_frame_already_found_wrong_adds_nothing() -> None:
    append_bad = sent("input_audio_buffer.append", event_id="evt_bad", audio="data:,x")
    error = received("error", error={"code": "invalid_value", "param": "audio", "event_id": "evt_bad"})
    findings, _ = lint(ga_created(), append_bad, error)
    assert rules(findings) == ["invalid-base64-audio"]


# -- the linter as a projection, and its output --------------------------------------------------


def test_take_changes_by_frame_and_summary() -> None:
    journal = Journal()
    linter = Linter(journal)
    frames = [
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(40)),
        commit(),
        commit_empty(40),  # the server's refusal: what the finding waits for with a server in the recording
        sent("bogus.event"),
    ]
    for env in frames[:4]:
        linter.apply(env, journal.append(env).index)
    first = linter.take_changes()
    assert [f.rule for f in first] == ["commit-too-short"]
    assert linter.take_changes() == []
    linter.apply(frames[4], journal.append(frames[4]).index)
    assert [f.rule for f in linter.take_changes()] == ["unknown-client-event"]
    assert [f.rule for f in linter.by_frame[2]] == ["commit-too-short"]
    assert [f.rule for f in linter.by_frame[1]] == ["commit-too-short"]
    assert 0 not in linter.by_frame
    assert linter.summary() == {Severity.ERROR: 2, Severity.WARNING: 0, Severity.INFO: 0}


def test_log_badges_mark_the_frame_a_finding_blames_not_its_context() -> None:
    """The tester saw ✖ on the server's response.created only because the response-while-active
    finding names it as the response the create collided with. A finding blames its first frame."""
    from tui.model import new_model

    model = new_model("badges")
    created = received("response.created", response={"id": "resp_1", "status": "in_progress", "conversation_id": "c"})
    again = sent_bare("response.create")
    indices = model.ingest(
        [ga_created(transcription=TRANSCRIBE, vad=False), sent_bare("response.create"), created, again]
    )
    assert model.linter is not None
    assert [(f.rule, f.frames) for f in model.linter.findings] == [("response-while-active", (3, 2))]
    marks = model.log_view.marks
    assert marks is not None
    assert [marks(i) for i in indices] == [None, None, None, "error"]
    # A frame blamed by one finding and context of another keeps its own badge.
    model = new_model("badges")
    indices = model.ingest(
        [
            ga_created(transcription=TRANSCRIBE, vad=False),
            append(bytes(48 * 300)),
            commit(),
            received("input_audio_buffer.committed", item_id="item_f"),
            _unintelligible("item_f"),
        ]
    )
    marks = model.log_view.marks
    assert marks is not None
    assert [marks(i) for i in indices] == [None, None, "warning", None, "error"]  # the commit: its silent-audio


def test_format_finding_and_record() -> None:
    create = sent("conversation.item.create", item=audio_item(b64(speech(200))))
    findings, journal = lint(ga_created(transcription=TRANSCRIBE), create)
    found = one(findings, "item-create-audio-not-transcribed")
    text = format_finding(found, journal)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error: item-create-audio-not-transcribed: conversation.item.create #")
    assert lines[1].startswith("  fix: ") and lines[1].endswith(f"[frames: #{create.seq} conversation.item.create]")
    record = finding_record(found, journal)
    assert json.loads(json.dumps(record)) == record
    assert record["frames"] == [{"index": 1, "seq": create.seq, "type": "conversation.item.create", "direction": "out"}]
    assert record["severity"] == "error" and record["rule"] == "item-create-audio-not-transcribed"


def test_every_rule_in_the_catalogue_has_a_test_that_triggers_it() -> None:
    source = "".join(path.read_text(encoding="utf-8") for path in Path(__file__).parent.glob("test_lint*.py"))
    untested = [rule for rule in RULES if f'"{rule}")' not in source]
    assert untested == []


def test_every_rule_in_the_catalogue_is_kebab_case_and_every_finding_names_one() -> None:
    assert all(rule == rule.lower() and " " not in rule and "_" not in rule for rule in RULES)
    findings, _ = lint(ga_created(), sent("session.update", session={"modalities": ["audio"]}))
    assert findings and all(f.rule in RULES for f in findings)


def test_a_new_connection_forgets_the_old_turn_and_response() -> None:
    findings, _ = lint(
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(80)),
        received("response.created", response={"id": "r"}),
        connecting(),
        ga_created(transcription=TRANSCRIBE, vad=False),
        append(speech(60)),
        commit(),
        commit_empty(60),
        sent("response.create"),
    )
    assert rules(findings) == ["commit-too-short"]
    assert "60 ms" in findings[0].message


# -- the linter never raises ---------------------------------------------------------------------

_TYPES = sorted(
    {
        "session.created",
        "session.updated",
        "session.update",
        "transcription_session.update",
        "transcription_session.created",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "input_audio_buffer.committed",
        "conversation.item.create",
        "conversation.item.truncate",
        "conversation.item.input_audio_transcription.failed",
        "response.create",
        "response.cancel",
        "response.created",
        "response.done",
        "response.output_audio.delta",
        "response.audio.delta",
        "error",
        "rt.connection",
    }
)
_KEYS = [
    "audio",
    "session",
    "response",
    "item",
    "item_id",
    "content_index",
    "audio_end_ms",
    "delta",
    "error",
    "event_id",
    "state",
    "conversation_id",
    "type",
    "content",
    "format",
    "rate",
    "output_modalities",
    "modalities",
    "transcription",
    "code",
    "param",
    "id",
]
_RIFF = st.binary(max_size=80).map(lambda tail: b"RIFF\x00\x00\x00\x00WAVEfmt " + tail)
_AUDIOISH = (
    st.sampled_from(["", "A", "AAAA", "UklGR", "UklGRiQAAABXQVZFZm10IBAAAAABAAEA", "data:,", "////", "=="])
    | st.binary(max_size=600).map(b64)
    | _RIFF.map(b64)
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40) | _AUDIOISH,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def _frames(draw: st.DrawFn) -> Envelope:
    direction = draw(st.sampled_from(list(Direction)))
    etype = draw(st.sampled_from(_TYPES) | st.text(max_size=20))
    data: dict[str, Any] = draw(st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=6))
    data["type"] = etype
    raw = json.dumps(data)
    return Envelope(next_seq(), direction, etype, data, raw)


@given(st.lists(_frames(), max_size=30))
def test_the_linter_never_raises_over_random_frames(frames: list[Envelope]) -> None:
    journal = Journal()
    linter = Linter(journal)
    for env in frames:
        linter.apply(env, journal.append(env).index)  # raises straight into the test, not into a pipeline fault
    linter.finish()  # the end of the input judges what is left waiting: it must not raise either
    for finding in linter.take_changes():
        assert finding.rule in RULES and finding.message and finding.fix
        assert all(0 <= i < len(journal) for i in finding.frames)
        assert format_finding(finding, journal).count("\n") == 1
        json.dumps(finding_record(finding, journal))


# -- end to end: a real client session against the real simulator --------------------------------


class Recorder:
    """A raw websockets client that keeps every frame both ways as envelopes (OUT sent, IN received)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Envelope] = []

    async def send(self, event: dict[str, Any], *, event_id: bool = True) -> Envelope:
        """Send `event`, with an event_id unless told not to (the official SDK sets none)."""
        if event_id:
            event = {"event_id": f"evt_{next_seq()}", **event}
        raw = json.dumps(event)
        await self.ws.send(raw)
        env = Envelope(next_seq(), Direction.OUT, event["type"], event, raw)
        self.frames.append(env)
        return env

    async def until(self, event_type: str, timeout: float = 30.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.recv()
                assert isinstance(raw, str)
                data = json.loads(raw)
                self.frames.append(Envelope(next_seq(), Direction.IN, data["type"], data, raw))
                if data["type"] == event_type:
                    return dict(data)


def _ga_update(transcription: bool) -> dict[str, Any]:
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": {"model": TRANSCRIBE} if transcription else None,
                    "turn_detection": None,
                }
            },
        },
    }


async def test_a_real_session_sending_a_wav_in_item_create_is_explained(simulator_url: str) -> None:
    pcm = speech_pcm24("what is the weather like in London today")
    mono44 = np.asarray(soxr.resample(np.frombuffer(pcm, dtype="<i2"), 24000, 44100), dtype="<i2").tobytes()
    wav = wav_file(mono44, rate=44100, channels=2)
    async with connect(simulator_url, max_size=64 * 2**20) as ws:
        client = Recorder(ws)
        await client.until("session.created")
        await client.send(_ga_update(transcription=True))
        await client.until("session.updated")
        create = await client.send(
            {"type": "conversation.item.create", "item": audio_item(base64.b64encode(wav).decode("ascii"))}
        )
        done = await client.until("conversation.item.done")
        assert done["item"]["content"][0]["transcript"] is None
    findings = lint_envelopes(client.frames)
    by_rule = {f.rule: f for f in findings}
    assert by_rule["item-create-audio-not-transcribed"].severity is Severity.ERROR
    assert by_rule["wav-header-in-audio"].severity is Severity.ERROR
    assert "44.1 kHz stereo 16-bit PCM" in by_rule["wav-header-in-audio"].message
    for rule in ("item-create-audio-not-transcribed", "wav-header-in-audio"):
        assert f"conversation.item.create #{create.seq}" in by_rule[rule].message
    assert set(by_rule) == {"item-create-audio-not-transcribed", "wav-header-in-audio"}


async def test_a_real_session_pipelining_the_update_and_the_item_is_judged_by_what_the_server_applied(
    simulator_url: str,
) -> None:
    """The update, the item and response.create sent back to back: the simulator applies the update
    first (its session.updated shows transcription on), and the finding says transcription is on."""
    pcm = speech_pcm24("what is the weather like in London today")
    async with connect(simulator_url, max_size=64 * 2**20) as ws:
        client = Recorder(ws)
        await client.until("session.created")
        await client.send(_ga_update(transcription=True))
        await client.send({"type": "conversation.item.create", "item": audio_item(b64(pcm))})
        await client.send({"type": "response.create"})
        updated = await client.until("session.updated")
        await client.until("response.done")
    assert updated["session"]["audio"]["input"]["transcription"]["model"] == TRANSCRIBE
    found = one(lint_envelopes(client.frames), "item-create-audio-not-transcribed")
    assert found.severity is Severity.ERROR
    assert f"even though transcription is on ({TRANSCRIBE})" in found.message


async def test_a_real_clean_turn_through_the_buffer_has_no_findings(simulator_url: str) -> None:
    pcm = speech_pcm24("what is the weather like in London today")
    async with connect(simulator_url, max_size=64 * 2**20) as ws:
        client = Recorder(ws)
        await client.until("session.created")
        await client.send(_ga_update(transcription=True))
        await client.until("session.updated")
        for start in range(0, len(pcm), 960):
            await client.send({"type": "input_audio_buffer.append", "audio": b64(pcm[start : start + 960])})
        await client.send({"type": "input_audio_buffer.commit"})
        completed = await client.until("conversation.item.input_audio_transcription.completed")
        await client.send({"type": "response.create"})
        await client.until("response.done")
    assert "weather" in completed["transcript"].lower()
    assert lint_envelopes(client.frames) == []


async def test_a_real_session_of_url_safe_base64_has_one_finding_per_mistake(simulator_url: str) -> None:
    """Appends the simulator refuses, one error each, without event ids as the official SDK sends them:
    the base64 finding and the commit's, nothing for the errors, and no claim that nothing was appended."""
    pcm = speech(600)
    async with connect(simulator_url, max_size=64 * 2**20) as ws:
        client = Recorder(ws)
        await client.until("session.created")
        await client.send(_ga_update(transcription=True), event_id=False)
        await client.until("session.updated")
        for start in range(0, len(pcm), 4800):
            audio = base64.urlsafe_b64encode(pcm[start : start + 4800]).decode("ascii").rstrip("=")
            await client.send({"type": "input_audio_buffer.append", "audio": audio}, event_id=False)
        await client.send({"type": "input_audio_buffer.commit"}, event_id=False)
        error = await client.until("error")
        while error["error"]["code"] != "input_audio_buffer_commit_empty":
            error = await client.until("error")
    findings = lint_envelopes(client.frames)
    assert rules(findings) == ["invalid-base64-audio", "commit-too-short"], [f.message for f in findings]
    assert "all 6 appends since the session began" in findings[1].message


def test_a_session_s_time_running_out_is_a_server_error_warning_not_an_error() -> None:
    """session_expired is no fault of the client: `lint --rules` and the README say so."""
    expired = received(
        "error",
        error={"type": "invalid_request_error", "code": "session_expired", "message": "Your session hit the limit."},
    )
    found = one(lint(ga_created(), expired)[0], "server-error")
    assert found.severity is Severity.WARNING and "session_expired" in RULES["server-error"].trigger
