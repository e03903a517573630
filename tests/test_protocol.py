"""The protocol package: names, codec, session shapes and redaction, checked against hand-written facts."""

from __future__ import annotations

import base64
import json
import math

import pytest

from tui.protocol import (
    ClientSessionOptions,
    FrameError,
    audio_tag,
    beta_to_ga_session,
    ga_to_beta_session,
    ident,
    integer,
    is_known,
    parse,
    parse_frame,
    redact,
    serialize,
    session_update,
    to_beta,
    to_ga,
    transcription_config,
    turn_detection_config,
)
from tui.protocol.codec import MAX_DEPTH
from tui.protocol.summary import is_audio_tag


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


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    """A frame whose nesting is `depth` containers deep, counting the top-level object."""
    return '{"type":"x","a":' + opener * (depth - 1) + closer * (depth - 1) + "}"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 128 levels"),  # a first frame 100k deep
        (nested(100_000), "nested deeper than 128 levels"),
        (nested(MAX_DEPTH + 1), "nested deeper than 128 levels"),
        ('{"type":"x","a":' + '{"k":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH + "}", "nested deeper"),
        ('{"type":"x","n":' + "9" * 5000 + "}", "integer of over 4300 digits"),
        ('{"type":"x","t":"\ud800"}', "lone surrogate"),  # the character itself: no UTF-8 frame holds one
        (bytearray(b"{}"), "binary frame of 2 bytes"),
        (b'{"type":"x"}', "binary"),
        (b"\xff\xfe\x00", "binary"),
        ("NaN", "JSON number, expected an object"),
        ("null", "JSON null, expected an object"),
        ("[1, 2]", "JSON array, expected an object"),
        ('{"type":"x","t":"cut', r"^not JSON: Unterminated string starting at column 17$"),  # not "at at"
    ],
)
def test_parse_maps_every_failure_to_a_one_line_frame_error(frame: str | bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason) as caught:
        parse(frame)
    assert "\n" not in str(caught.value)


def test_nesting_up_to_the_limit_parses_whatever_the_brackets() -> None:
    assert parse(nested(MAX_DEPTH))["type"] == "x"
    deep_objects = '{"type":"x","a":' + '{"k":' * (MAX_DEPTH - 2) + "1" + "}" * (MAX_DEPTH - 2) + "}"
    assert parse(deep_objects)["type"] == "x"
    # Many brackets side by side are not depth.
    assert len(parse('{"type":"x","a":[' + ",".join(["[]"] * 1000) + "]}")["a"]) == 1000


def test_lone_surrogate_escapes_become_replacement_characters_and_the_rest_is_kept() -> None:
    raw = r'{"type":"\ud800x","\udfff":"a\uDC00b","list":["\ud83d",1],"pair":"\ud83d\ude00","esc":"\\ud800"}'
    data = parse(raw)
    assert data == {
        "type": "\ufffdx",
        "\ufffd": "a\ufffdb",
        "list": ["\ufffd", 1],
        "pair": "\U0001f600",  # an escaped pair is one character, untouched
        "esc": "\\ud800",  # an escaped backslash, then plain letters
    }
    serialize(data).encode("utf-8")  # writable everywhere


def test_non_finite_numbers_are_floats_that_can_be_written_back() -> None:
    data = parse('{"type":"x","a":NaN,"b":Infinity,"c":-Infinity,"d":1e999}')
    assert math.isnan(data["a"]) and data["b"] == data["d"] == math.inf and data["c"] == -math.inf
    assert serialize(data) == '{"type":"x","a":NaN,"b":Infinity,"c":-Infinity,"d":Infinity}'


@pytest.mark.parametrize(
    ("text", "strict"),
    [
        ('{"type":"x","delta":"NaNInfinity"}', True),  # the words inside a string are text
        ('{"type":"x","d":1e999,"e":-0.0}', True),  # valid JSON (an overflow is read as inf)
        ('{"type":"x","a":NaN}', False),
        ('{"type":"x","a":[1,Infinity]}', False),
        ('{"type":"x","a":{"b":-Infinity}}', False),
    ],
)
def test_parse_frame_says_whether_the_text_is_strict_json(text: str, strict: bool) -> None:
    """What lets the capture embed a frame's bytes without walking its values for NaN."""
    data, says = parse_frame(text)
    assert says is strict and data.keys() == parse(text).keys()
    assert parse_frame('{"type":"after"}')[1] is True  # the verdict is per call, not sticky


def test_field_helpers_type_check_ids_and_integers() -> None:
    assert ident("item_1") == "item_1"
    assert [ident(v) for v in ("", 7, ["item_1"], {"id": "x"}, None, True)] == [None] * 6
    assert integer(1200) == 1200
    assert [integer(v) for v in (True, 1.5, "12", None, [1])] == [None] * 5


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


@pytest.mark.parametrize("audio", ["pcm", ["x"], 5, None, {"input": "off"}, {"input": [1]}])
def test_session_settings_of_odd_shapes_read_as_off(audio: object) -> None:
    session = {"type": "realtime", "audio": audio}
    assert transcription_config(session) is None
    assert turn_detection_config(session) is None


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


@pytest.mark.parametrize(
    "etype",
    [
        "response.output_text.delta",
        "response.text.delta",
        "response.output_audio_transcript.delta",
        "conversation.item.input_audio_transcription.delta",
        "response.function_call_arguments.delta",
    ],
)
def test_a_long_text_delta_is_cut_as_words_not_called_base64(etype: str) -> None:
    """Reviewer: a text delta of 80,000 characters ("word" × 20,000) showed as `[base64 60000 B]` in
    the detail view: words whose letters happen to be base64's. A known event's delta that is not
    audio is words; an unknown event's long base64-like string is still tagged."""
    words = "word" * 20000
    shown = redact({"type": etype, "delta": words})["delta"]
    assert shown.startswith("wordword") and shown.endswith("(+79800 chars)"), shown
    assert redact({"type": "vendor.stream.delta", "delta": words})["delta"] == "[base64 60000 B]"


def test_audio_that_is_not_base64_is_shown_as_it_is_not_as_a_size_tag() -> None:
    """Tester: the detail view of an append whose audio is a data URL said `[audio 19 B · 0 ms]`,
    hiding the very value the linter's finding is about."""
    data_url = "data:audio/wav;base64," + "UklGR" * 60
    shown = redact({"type": "input_audio_buffer.append", "audio": data_url})
    assert shown["audio"].startswith("data:audio/wav;base64,UklGR") and shown["audio"].endswith("chars)")
    url_safe = "AAAA" * 30 + "-_-_"
    assert redact({"type": "input_audio_buffer.append", "audio": url_safe})["audio"] == url_safe
    silence_around = "AAAA" * 40 + "ab-_" + "AAAA" * 40  # review: URL-safe audio whose ends are silence
    assert not redact({"type": "input_audio_buffer.append", "audio": silence_around})["audio"].startswith("[audio")


def test_a_long_word_less_message_is_cut_text_not_called_base64() -> None:
    """A 1 MB error message of letters only showed in the detail view as `[base64 750000 B]`, while
    its notice said the frame has it whole: a text field is cut (its start shown), never tagged."""
    shown = redact({"type": "error", "error": {"code": "x", "message": "M" * 1_000_000}})
    assert shown["error"]["message"] == "M" * 200 + "… (+999800 chars)"
    assert redact({"type": "x", "blob": "QUJD" * 100})["blob"] == "[base64 300 B]"  # any other field: as before


def test_summaries_are_one_line() -> None:
    from tui.protocol.summary import summarize_event as summarize

    assert summarize({"type": "error", "error": {"code": "invalid_value", "message": "bad"}}) == "invalid_value: bad"
    assert summarize({"type": "conversation.item.input_audio_transcription.completed", "transcript": "hi\n"}) == "'hi'"
    b64 = base64.b64encode(bytes(960)).decode()
    assert summarize({"type": "input_audio_buffer.append", "audio": b64}) == "[audio 960 B · 20 ms]"
    # An event whose every field is its id still says something (its row was blank).
    assert summarize({"type": "input_audio_buffer.cleared", "event_id": "event_9"}) == "the input buffer is empty"


def test_printable_shows_control_characters_as_symbols_and_leaves_text_alone() -> None:
    from tui.protocol import printable

    assert printable("plain — text, ümlauts, 日本語") == "plain — text, ümlauts, 日本語"
    assert printable("a\x1b]52;c;eA==\x07b") == "a␛]52;c;eA==␇b"  # an OSC 52 clipboard write, defused
    assert printable("tab\there\nnext\r") == "tab here next "  # one line
    assert printable("tab\there\r\nnext", lines=True) == "tab\there\nnext"  # a transcript keeps its lines
    assert printable("\x9b31m\x7f") == "\ufffd31m␡"  # an 8-bit CSI and DEL


def test_a_local_fact_s_summary_leads_with_what_tells_it_apart() -> None:
    """A narrow column cuts a summary from the right: a close code goes first, a path keeps its
    session folder and file name."""
    from tui.protocol.summary import summarize_event

    closed = {
        "type": "rt.connection",
        "message": "connection closed by server (code 1001: session expired)",
        "code": 1001,
    }
    assert summarize_event(closed) == "code 1001: session expired · connection closed by server"
    assert summarize_event({"type": "rt.connection", "message": "gone", "code": 1006}) == "code 1006 · gone"
    assert summarize_event({"type": "rt.connection", "message": "client closed with 1000", "code": 1000}) == (
        "client closed with 1000"
    )
    path = "/root/.local/share/rt-tui/sessions/20261130-224512-abc123/frames.jsonl"
    assert summarize_event({"type": "rt.capture", "message": f"capturing every frame to {path}"}) == (
        "…/20261130-224512-abc123/frames.jsonl · capturing every frame"
    )
    # Two malformed frames' rows read alike at 100 columns (`malformed frame from server: n…`): the
    # type column says malformed, the summary leads with the reason (review 54b).
    for said in ("malformed frame from server: ", "malformed frame: "):
        malformed = {"type": "rt.malformed", "message": f"{said}not JSON: Expecting value"}
        assert summarize_event(malformed) == "not JSON: Expecting value"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("Authorization", "Bearer sk-one")], ["sk-one", "Bearer sk-one"]),
        ([("authorization", "bearer sk-two")], ["sk-two", "bearer sk-two"]),
        ([("AUTHORIZATION", "BEARER   sk-three ")], ["sk-three", "BEARER   sk-three"]),
        ([("Authorization", "sk-bare")], ["sk-bare"]),
        (
            [("Authorization", "Basic dXNlcjpzZWNyZXQ=")],
            ["dXNlcjpzZWNyZXQ=", "Basic dXNlcjpzZWNyZXQ=", "user:secret", "secret"],
        ),
        ([("Authorization", "Basic not*base64")], ["not*base64", "Basic not*base64"]),
        ([("api-key", "azure-key"), ("X-Api-Key", "x-key")], ["azure-key", "x-key"]),
        (
            [("Sec-WebSocket-Protocol", "realtime, openai-insecure-api-key.sk-a, openai-insecure-api-key-sk-b")],
            ["sk-a", "sk-b"],
        ),
        ([("Authorization", ""), ("User-Agent", "Bearer not-a-credential")], []),
    ],
)
def test_handshake_secrets_find_a_credential_in_any_spelling_of_its_header(
    headers: list[tuple[str, str]], expected: list[str]
) -> None:
    from tui.protocol.credentials import handshake_secrets

    assert handshake_secrets(headers) == expected


def test_a_quoted_text_in_a_summary_shows_control_characters_as_every_pane_does() -> None:
    """The log's summary of a typed turn holding an escape sequence shows the same symbols as the
    transcript (`printable`), not Python's `\\x1b`."""
    from tui.protocol import printable
    from tui.protocol.summary import summarize_event

    said = "say hello\x1b[2J in red"
    frame = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": said}]},
    }
    summary = summarize_event(frame)
    assert f"'{printable(said)}'" in summary and "\\x1b" not in summary and "\x1b" not in summary


def test_an_audio_tag_says_seconds_from_a_second_on_as_a_run_of_deltas_does() -> None:
    import base64

    second_and_a_half = base64.b64encode(bytes(48 * 1585)).decode()
    assert audio_tag(second_and_a_half) == "[audio 74.3 KB · 1.58 s]"


@pytest.mark.parametrize(
    ("label", "short"),
    [
        ("ws://127.0.0.1:8799/v1/realtime?model=m&sim_drop_after=x", "127.0.0.1:8799"),
        ("#1 127.0.0.1:52298 → ws://127.0.0.1:44763/v1/realtime?model=m", "#1 127.0.0.1:52298 → 127.0.0.1:44763"),
        ("wss://user:secret@host.example:443/v1/realtime", "host.example:443"),
        ("simulator · 127.0.0.1:41961", "simulator · 127.0.0.1:41961"),
    ],
)
def test_a_short_target_keeps_host_and_port_of_every_url_in_a_label(label: str, short: str) -> None:
    from tui.protocol import short_target

    assert short_target(label) == short


@pytest.mark.parametrize("b64", ["=", "==", "A=", ""])
def test_an_audio_tag_of_padding_alone_says_zero_bytes_and_reads_back_as_a_tag(b64: str) -> None:
    """`=` alone counted -1 bytes: the tag `[audio -1 B · -1 ms]`, which `is_audio_tag` refuses, so a
    frame exported without its audio did not read back as audio left out."""
    tag = audio_tag(b64)
    assert tag == "[audio 0 B · 0 ms]"
    assert is_audio_tag(tag)


def test_a_response_summary_leads_with_its_status_and_tokens_and_ends_with_its_id() -> None:
    """Review 23: led by the id, a `response.done` row showed `resp_… · comp…` in the summary column
    of a 160-column screen, and never its tokens."""
    from tui.protocol.summary import summarize_event

    done = {
        "type": "response.done",
        "response": {
            "id": "resp_0000000000000000001",
            "status": "completed",
            "output": [{"type": "message"}],
            "usage": {"total_tokens": 206, "input_tokens": 95, "output_tokens": 111},
        },
    }
    summary = summarize_event(done)
    # In + out, whose sum is the total: `206 tokens (in 95, out 111)` was cut at its out figure.
    assert summary == "completed · 95+111 tokens · 1 item · resp_0000000000000000001"
    done["response"]["usage"] = {"total_tokens": 210, "input_tokens": 95, "output_tokens": 111}  # type: ignore[index]
    assert summarize_event(done).startswith("completed · 210 tokens (in 95, out 111) · ")  # a total of more: all said
    failed = {"type": "response.done", "response": {"id": "resp_2", "status": "failed", "status_details": {}}}
    assert summarize_event(failed) == "failed · resp_2"


def test_an_event_with_a_lone_surrogate_serializes_as_ascii_escapes() -> None:
    from tui.protocol import serialize

    assert serialize({"type": "x", "text": "é"}) == '{"type":"x","text":"é"}'  # UTF-8 as usual
    assert serialize({"type": "x", "text": "é\ud800"}) == '{"type":"x","text":"\\u00e9\\ud800"}'
