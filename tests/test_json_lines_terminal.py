"""`--json` lines reach terminals: server text in them must not drive the terminal or reorder the
line (C1 controls such as U+009B, a CSI on many terminals; bidirectional controls such as U+202E;
DEL; line separators), yet a JSON parser must read exactly the frame the server sent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.test_replay_inputs import rt_tui, write_capture
from tui.protocol import Direction, Envelope, strict_json
from tui.protocol.codec import serialize

ACTIVE = "\x7f\x9b\x85\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Every character a terminal acts on that `json.dumps` leaves as it is (C0 controls it escapes itself)."""


def raw_active(text: str) -> set[str]:
    """The terminal-active characters `text` holds as they are."""
    return {char for char in text if char in ACTIVE}


@given(
    st.recursive(
        st.text() | st.integers() | st.none(), lambda inner: st.dictionaries(st.text(), inner) | st.lists(inner)
    )
)
def test_a_json_line_holds_no_terminal_active_character_and_parses_to_the_same_value(value: object) -> None:
    line = strict_json.dumps_line(value)
    assert raw_active(line) == set()
    assert "\n" not in line
    assert json.loads(line) == json.loads(strict_json.dumps(value))


def test_every_terminal_active_character_is_escaped_and_read_back() -> None:
    value = {"delta": f"before{ACTIVE}after", "ok": "héllo ☃ 日本"}
    line = strict_json.dumps_line(value)
    assert raw_active(line) == set()
    assert "héllo ☃ 日本" in line  # other non-ASCII text stays readable, unescaped
    assert "\\u202e" in line and "\\u009b" in line
    assert json.loads(line) == value


def hostile_capture(path: Path) -> tuple[Path, str]:
    """A capture whose server frames carry terminal-active characters (a transcript delta and an
    error message, the text a linter finding quotes too); returns it and the hostile text."""
    hostile = f"kitchen \u202eevil\u202c \x9b31m red \x7f{ACTIVE}"
    frames: list[dict[str, Any]] = [
        {"type": "session.created", "event_id": "ev_1", "session": {"id": "sess_1", "type": "realtime"}},
        {
            "type": "response.output_audio_transcript.delta",
            "event_id": "ev_2",
            "response_id": "resp_1",
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": hostile,
        },
        {
            "type": "error",
            "event_id": "ev_3",
            "error": {"type": "invalid_request_error", "code": "bad\u202ecode", "message": hostile, "event_id": None},
        },
    ]
    envelopes = [
        Envelope(seq, Direction.IN, frame["type"], frame, serialize(frame), mono=float(seq), wall=1.7e9 + seq)
        for seq, frame in enumerate(frames, start=1)
    ]
    return write_capture(envelopes, path), hostile


def test_replay_json_and_lint_json_escape_what_a_terminal_acts_on(tmp_path: Path) -> None:
    capture, hostile = hostile_capture(tmp_path / "frames.jsonl")
    replayed = rt_tui("replay", "--json", str(capture))
    assert replayed.returncode == 0, replayed.stderr
    assert raw_active(replayed.stdout) == set()
    records = [json.loads(line) for line in replayed.stdout.splitlines()]
    deltas = [r["frame"]["delta"] for r in records if r["type"] == "response.output_audio_transcript.delta"]
    assert deltas == [hostile]  # the very text the server sent, once parsed
    linted = rt_tui("lint", "--json", str(capture))
    assert linted.stdout, linted.stderr
    assert raw_active(linted.stdout) == set()
    assert any("⟨U+202E⟩" in line for line in linted.stdout.splitlines())  # quoted as every view shows it
    for line in linted.stdout.splitlines():
        json.loads(line)


async def test_proxy_json_escapes_what_a_terminal_acts_on_in_a_clients_frame(
    proxy_process: tuple[subprocess.Popen[str], str],
) -> None:
    """The proxy prints the frames of the user's own client: their text is as untrusted as a server's."""
    process, url = proxy_process
    hostile = f"turn on the \u202ekitchen\u202c light \x9b2J{ACTIVE}"
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": hostile}]}
    async with connect(url + "?model=gpt-realtime") as client:
        await client.recv()  # session.created
        await client.send(json.dumps({"type": "conversation.item.create", "item": item}))
        while json.loads(await client.recv())["type"] != "conversation.item.added":
            pass
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert raw_active(out) == set()
    sent = [json.loads(line) for line in out.splitlines() if '"conversation.item.create"' in line]
    assert [line["frame"]["item"]["content"][0]["text"] for line in sent] == [hostile]


def test_send_json_escapes_what_a_terminal_acts_on(tmp_path: Path) -> None:
    """`rt-tui send --json` prints every frame of its turn: a server's transcript and reply included."""
    import asyncio

    from tests.audio_helpers import espeak_wav
    from tests.server_helpers import scripted_peer
    from tests.test_send import run_cli, scripted_turn

    wav = espeak_wav("what is the weather like in London today", tmp_path / "q.wav")
    heard, said = f"heard \u202eevil\u202c \x9b2J{ACTIVE}", "said \u2066this\u2069\x7f"

    async def run() -> subprocess.CompletedProcess[str]:
        async with scripted_peer(scripted_turn(heard, said)) as url:
            return await asyncio.to_thread(run_cli, "send", str(wav), "--url", url, "--json")

    result = asyncio.run(run())
    assert result.returncode == 0, result.stderr
    assert raw_active(result.stdout) == set()
    frames = [json.loads(line).get("frame") or {} for line in result.stdout.splitlines()]
    completed = [f for f in frames if f.get("type") == "conversation.item.input_audio_transcription.completed"]
    assert [f["transcript"] for f in completed] == [heard]
