"""Replay, round 20: a capture is read with each frame parsed once (not the record, then the frame
again), into the same envelopes the capture's own reader gives; and a HAR's overlapping connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audio_helpers import espeak_wav
from tui.protocol import Envelope
from tui.replay import load
from tui.replay.lean import hydrated
from tui.session.capture import CaptureError, _envelope, iter_capture

RT_TUI = [sys.executable, "-m", "tui"]

# Lines the capture writes rarely or never, each read the same way by both readers.
_ODD_LINES = [
    # A time written as an integer, a frame whose type is not the record's, nested values.
    b'{"seq":9001,"dir":"in","t":5,"wall":1,"type":"x.y","size":30,"frame":{"type":"other","n":[1,{"a":2}]}}\n',
    # A lone surrogate escaped in the frame: the codec puts U+FFFD for it.
    b'{"seq":9002,"dir":"in","t":5.5,"wall":1,"type":"a.b","size":22,"frame":{"type":"a.b","s":"\\ud800"}}\n',
    # Deeper than the codec allows: the frame is kept, with no data.
    b'{"seq":9003,"dir":"in","t":6,"wall":1,"type":"deep","size":1,"frame":{"type":"deep","d":'
    + b"[" * 130
    + b"]" * 130
    + b"}}\n",
    # A key of an export beside the frame, a spaced record (json.dumps' default), a fact's direction.
    b'{"seq":9004,"dir":"out","t":7,"wall":1,"type":"a.b","size":5,"elided":"audio","frame":{"type":"a.b"}}\n',
    b'{"seq": 9005, "dir": "in", "t": 8, "wall": 1, "type": "a.b", "size": 5, "frame": {"type": "a.b"}}\n',
    b'{"seq":9006,"dir":"local","t":9,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
    # Blanks after the record, Infinity kept under `raw`, and a last line without its newline.
    b'{"seq":9007,"dir":"in","t":10,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}  \n',
    b'{"seq":9008,"dir":"in","t":11,"wall":1,"type":"a.b","size":20,"raw":"{\\"type\\":\\"a.b\\",\\"v\\":Infinity}"}\n',
    # Numbers as JSON writes them in every form, a type in UTF-8 or escaped, a wall past a float's range.
    b'{"seq":-3,"dir":"out","t":1e-06,"wall":1E+2,"type":"\xc3\xa9t\xc3\xa9","size":0,"frame":{"type":"x"}}\n',
    b'{"seq":0,"dir":"in","t":-0.5,"wall":2.5e1,"type":"a\\u0062","size":5,"frame":{"type":"ab"}}\n',
    b'{"seq":9010,"dir":"in","t":13,"wall":1e999,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
    # Blanks after the frame's text, inside the record: they are the frame's (its raw keeps them).
    b'{"seq":9011,"dir":"in","t":14,"wall":1,"type":"a.b","size":7,"frame":{"type":"a.b"}  }\n',
    b'{"seq":9009,"dir":"in","t":12,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b","z":"\xc3\xa9"}}',
]


@pytest.fixture(scope="module")
def real_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture written by a real session (`rt-tui send --local`: audio both ways, transcripts,
    facts), with the odd lines above after it."""
    tmp = tmp_path_factory.mktemp("capture")
    wav = espeak_wav("what is the weather like in Oslo", tmp / "q.wav")
    env = {**os.environ, "RT_TUI_DATA_DIR": str(tmp / "data")}
    env.pop("OPENAI_API_KEY", None)
    done = subprocess.run([*RT_TUI, "send", str(wav), "--local"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (capture,) = (tmp / "data").glob("sessions/*/frames.jsonl")
    path = tmp / "frames.jsonl"
    path.write_bytes(capture.read_bytes() + b"".join(_ODD_LINES))
    return path


def _fields(env: Envelope) -> tuple[Any, ...]:
    return (env.seq, env.direction, env.type, env.data, env.raw, env.mono, env.wall, env.binary, env.wire_size)


def _long_way(path: Path) -> list[tuple[Any, ...]]:
    """Each line read the long way (the whole record parsed, then its frame): the oracle for the
    fast path that reads the usual line's header and frame apart."""
    lines = path.read_bytes().splitlines(keepends=True)
    return [_fields(_envelope(line, number, path, first=number == 1)) for number, line in enumerate(lines, start=1)]


def test_a_capture_loads_into_the_envelopes_the_capture_reader_gives(real_capture: Path) -> None:
    expected = _long_way(real_capture)
    assert [_fields(env) for env in iter_capture(real_capture)] == expected
    assert {"input_audio_buffer.append", "response.output_audio.delta", "rt.connection"} <= {e[2] for e in expected}
    assert [_fields(env) for env in load(real_capture).envelopes] == expected
    lean = load(real_capture, lean=True).envelopes
    assert [_fields(env) for env in hydrated(lean)] == expected  # what a replay plays
    assert [env.seq for env in lean] == [e[0] for e in expected]


@pytest.fixture
def decoded_chars(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Characters of JSON text decoded while the test runs (json.loads and the frame codec alike)."""
    counted = [0]
    raw_decode = json.JSONDecoder.raw_decode

    def counting(self: json.JSONDecoder, s: str, idx: int = 0) -> tuple[Any, int]:
        counted[0] += len(s) - idx
        return raw_decode(self, s, idx)

    monkeypatch.setattr(json.JSONDecoder, "raw_decode", counting)
    yield counted


def test_loading_a_capture_parses_each_frame_once(real_capture: Path, decoded_chars: list[int]) -> None:
    """The capture's reader parsed the whole record, then the frame's text again for its data: a
    recording's every byte parsed twice before it played."""
    size = real_capture.stat().st_size
    lines = real_capture.read_bytes().splitlines()
    frames = sum(len(line) - line.index(b',"frame":') for line in lines if b',"frame":' in line)
    load(real_capture, lean=True)
    # Each frame once; the few odd lines the capture's reader judges (and the sniffed first line) twice.
    assert frames <= decoded_chars[0] < 1.1 * size
    decoded_chars[0] = 0
    list(iter_capture(real_capture))  # `rt-tui lint`'s reader: the same
    assert frames <= decoded_chars[0] < 1.1 * size


@pytest.mark.parametrize(
    "line",
    [
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}\n',  # a brace short
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a.b","size":5,"frame":[1]}\n',  # not an object
        b'{"seq":2,"dir":"up","t":1,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
        b'{"seq":"2","dir":"in","t":1,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
        b'{"seq":2,"dir":"in","t":true,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}}\n',
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b\xff"}}\n',
        b'{"seq":2,"dir":"in","t":01,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',  # not JSON
        b'{"seq":2,"dir":"in","t":1.,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n',
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a.b","size":5.0,"frame":{"type":"a.b"}}\n',
        b'{"seq":2,"dir":"in","t":1,"wall":1,"type":"a\tb","size":5,"frame":{"type":"a.b"}}\n',
    ],
)
def test_a_damaged_line_is_judged_as_the_capture_reader_judges_it(tmp_path: Path, line: bytes) -> None:
    """The capture reader refuses the line (`rt-tui`'s own `read_capture`); a replay and `lint` leave
    it out with the same words in a note, and read the line after it."""
    first = b'{"seq":1,"dir":"in","t":0,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n'
    path = tmp_path / "frames.jsonl"
    path.write_bytes(first + line + first.replace(b'"seq":1', b'"seq":3'))
    with pytest.raises(CaptureError) as expected:
        _envelope(line, 2, path, first=False)  # the long way's verdict on the line
    with pytest.raises(CaptureError) as read:
        list(iter_capture(path))
    assert str(read.value) == str(expected.value)
    for lean in (False, True):
        recording = load(path, lean=lean)
        assert recording.notes == [f"{expected.value}: left out, the lines after it read"]
        assert [env.seq for env in hydrated(recording.envelopes)] == [1, 3] and recording.damaged_lines == 1


def test_a_last_line_cut_inside_its_frame_is_left_out_with_the_capture_reader_note(tmp_path: Path) -> None:
    first = b'{"seq":1,"dir":"in","t":0,"wall":1,"type":"a.b","size":5,"frame":{"type":"a.b"}}\n'
    path = tmp_path / "frames.jsonl"
    path.write_bytes(first + first.replace(b'"seq":1', b'"seq":2')[:-4])
    notes: list[str] = []
    expected = [_fields(env) for env in iter_capture(path, on_cut_line=notes.append)]
    recording = load(path, lean=True)
    assert [_fields(env) for env in hydrated(recording.envelopes)] == expected
    assert recording.notes == notes and "line 2 is cut short" in notes[0]


# -- a HAR's overlapping connections ------------------------------------------------------------

GOLDEN_HAR = Path(__file__).parent / "golden" / "replay" / "devtools.har"


def _overlapping_har(tmp_path: Path) -> Path:
    """The golden DevTools HAR with a second Realtime connection opened 1 s after the first, while
    the first is still open (it closes at 2 s): a page that opened two sockets."""
    document = json.loads(GOLDEN_HAR.read_text())
    first = next(e for e in document["log"]["entries"] if "_webSocketMessages" in e)
    second = json.loads(json.dumps(first))
    second["request"]["url"] = first["request"]["url"].replace("gpt-realtime", "gpt-realtime-mini")
    for message in second["_webSocketMessages"]:
        message["time"] = round(message["time"] + 1.0, 3)
        if message["opcode"] == 1:
            message["data"] = message["data"].replace("HAR0", "HBR0")
    document["log"]["entries"].append(second)
    path = tmp_path / "overlap.har"
    path.write_text(json.dumps(document))
    return path


async def test_a_connection_played_late_says_so_first_and_as_a_notice_where_it_starts(tmp_path: Path) -> None:
    """Its connecting row said it last, after the URL (cut at the pane's edge even at 200 columns),
    and no notice said it at all: the replay looked like two sessions one after the other."""
    from tests.app_helpers import notices, replay_shown
    from tui.app import RtApp
    from tui.config import Settings
    from tui.replay import ReplayRequest
    from tui.replay.sources import with_notes_as_facts

    read = load(_overlapping_har(tmp_path), lean=True)
    (note,) = read.notes
    assert "connection 2 " in note and "0.988 s later than recorded" in note
    shown = with_notes_as_facts(read)
    envelopes = list(shown.envelopes)
    at = [i for i, env in enumerate(envelopes) if env.data.get("state") == "connecting"][1]
    assert (
        envelopes[at]
        .data["message"]
        .startswith("opened while connection 1 was open, so played after it, 0.988 s late: connecting to wss://")
    )
    # The notice is in that connection, before its first frame; the recorded frames keep their seqs.
    assert [env.type for env in envelopes[at : at + 4]] == [
        "rt.connection",
        "rt.connection",
        "rt.replay",
        "session.created",
    ]
    assert envelopes[at + 2].data["message"] == note and envelopes[at + 2].mono == envelopes[at].mono
    assert [env.seq for env in envelopes if env.type != "rt.replay"] == [env.seq for env in read.envelopes]
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(shown))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay_shown(pilot, app)
        assert ("Replay", note) in notices(app)
        order = [frame.type for frame in app.journal]
        assert order.index("rt.replay") == at + 2
