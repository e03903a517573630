"""The protocol package: names, codec, session shapes and redaction, checked against hand-written facts."""

from __future__ import annotations

import base64
import json

import pytest

from tui.protocol import (
    ClientSessionOptions,
    FrameError,
    audio_tag,
    beta_to_ga_session,
    ga_to_beta_session,
    is_known,
    parse,
    redact,
    serialize,
    session_update,
    summarize,
    to_beta,
    to_ga,
    transcription_config,
)


@pytest.mark.parametrize(
    ("beta", "ga"),
    [
        ("response.audio.delta", "response.output_audio.delta"),
        ("response.audio_transcript.done", "response.output_audio_transcript.done"),
        ("response.text.delta", "response.output_text.delta"),
        (
            "conversation.item.input_audio_transcription.completed",
            "conversation.item.input_audio_transcription.completed",
        ),
    ],
)
def test_beta_ga_mapping(beta: str, ga: str) -> None:
    assert to_ga(beta) == ga
    assert to_beta(ga) == beta
    assert is_known(beta) and is_known(ga)


def test_unknown_names_pass_through() -> None:
    assert to_ga("vendor.custom") == "vendor.custom"
    assert not is_known("vendor.custom")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [(b"\x00\x01", "binary"), ("{not json", "not JSON"), ("[1,2]", "expected an object"), ('{"a":1}', "type")],
)
def test_parse_rejects_with_a_reason(frame: str | bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        parse(frame)


def test_serialize_is_compact_and_round_trips() -> None:
    event = {"type": "response.create", "response": {"instructions": "héllo"}}
    text = serialize(event)
    assert " " not in text.replace("héllo", "")
    assert parse(text) == event


def test_session_update_is_ga_shaped_with_transcription_on_and_push_to_talk() -> None:
    # Written by hand from the protocol reference §4.4 recipe A, not produced by our encoder.
    expected = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                    "turn_detection": None,
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
            },
        },
    }
    assert session_update(ClientSessionOptions(language="en", voice="marin")) == expected


def test_ga_beta_session_translation_both_ways() -> None:
    ga = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": "be brief",
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad"},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
        },
    }
    beta = ga_to_beta_session(ga)
    assert beta == {
        "modalities": ["text", "audio"],
        "instructions": "be brief",
        "input_audio_format": "g711_ulaw",
        "input_audio_transcription": {"model": "whisper-1"},
        "turn_detection": {"type": "server_vad"},
        "output_audio_format": "pcm16",
        "voice": "alloy",
    }
    assert beta_to_ga_session(beta) == ga
    assert transcription_config(beta) == {"model": "whisper-1"}
    assert transcription_config(ga) == {"model": "whisper-1"}
    assert transcription_config({"type": "realtime", "audio": {"input": {"transcription": None}}}) is None


def test_redaction_replaces_audio_with_a_size_tag_and_keeps_the_rest() -> None:
    pcm = bytes(4800)  # 100 ms of 24 kHz PCM16
    b64 = base64.b64encode(pcm).decode()
    event = {"type": "input_audio_buffer.append", "audio": b64, "event_id": "evt_1"}
    shown = redact(event)
    assert shown == {"type": "input_audio_buffer.append", "audio": "[audio 4.7 KB · 100 ms]", "event_id": "evt_1"}
    assert audio_tag(b64) == "[audio 4.7 KB · 100 ms]"
    assert event["audio"] == b64  # the original is untouched
    delta = {"type": "response.output_audio.delta", "delta": b64, "item_id": "item_1"}
    assert redact(delta)["delta"].startswith("[audio")
    assert len(json.dumps(redact({"type": "x", "text": "a" * 5000}))) < 400


def test_summaries_are_one_line() -> None:
    assert summarize({"type": "error", "error": {"code": "invalid_value", "message": "bad"}}) == "invalid_value: bad"
    assert summarize({"type": "conversation.item.input_audio_transcription.completed", "transcript": "hi\n"}) == "'hi'"
    b64 = base64.b64encode(bytes(960)).decode()
    assert summarize({"type": "input_audio_buffer.append", "audio": b64}) == "[audio 960 B · 20 ms]"
