"""Bad input, round 26: a damaged MP3 and a capture's deep frame, through the real commands.

- `rt-tui send` of a damaged MP3: libmpg123 (inside libsndfile) printed its own lines on stderr
  (`Note: Illegal Audio-MPEG-Header …`, `Trying to resync…`) before rt-tui's one-line message, or
  around a send that went on; now fd 2 is moved aside while a file decodes, and a failed decode's
  message names the damage in the decoder's first words;
- a capture line whose frame is nested past the parser's MAX_DEPTH (or holds an integer past
  Python's digits): from about 1,000 levels json.loads of the line gave up and the whole file was
  refused; under that the frame came through under its type with no data. Now it comes through as a
  live session made it, `rt.malformed` with its text kept, and the rest of the file is read. A
  record that is itself too deep (its `info`, a key of its own) is still refused naming its line.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import soundfile

from tests.app_helpers import open_frame_details, replay_shown
from tests.audio_helpers import espeak_wav
from tests.test_replay_inputs import RT_TUI, clean_env, rt_tui
from tui.app import RtApp
from tui.audio.decode import AudioDecodeError, decode_file
from tui.config import Settings
from tui.protocol import Direction
from tui.replay import ReplayRequest, load
from tui.replay.sources import with_notes_as_facts

# -- a damaged MP3 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mp3_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Speech (espeak-ng) as an MP3, written by libsndfile itself."""
    if "MP3" not in soundfile.available_formats():
        pytest.skip("this libsndfile has no MP3")
    folder = tmp_path_factory.mktemp("mp3")
    data, rate = soundfile.read(espeak_wav("what is the weather like today", folder / "q.wav"))
    soundfile.write(folder / "q.mp3", data, rate, format="MP3")
    return (folder / "q.mp3").read_bytes()


def _flipped(mp3: bytes) -> bytes:
    """Bytes inverted in the middle: the decoder resyncs past them (and says so) and decodes the rest."""
    middle = bytearray(mp3)
    start = len(middle) // 3
    middle[start : start + 400] = bytes(b ^ 0xFF for b in middle[start : start + 400])
    return bytes(middle)


def _truncated(mp3: bytes) -> bytes:
    """The file's first 100 bytes (a download cut off): a header, and no whole frame to decode."""
    return mp3[:100]


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: `send` decodes, then is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}/v1/realtime"


TRIED = "?model=gpt-realtime"
"""What `--url` adds to a Realtime URL that names no model (as the SDK does): the URL tried, and named."""


def test_send_refuses_a_damaged_mp3_in_one_line_of_its_own(tmp_path: Path, mp3_bytes: bytes) -> None:
    path = tmp_path / "damaged.mp3"
    path.write_bytes(_truncated(mp3_bytes))
    done = rt_tui("send", str(path), "--url", _closed_port_url())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # the decoder's `Note: …` lines came first
    assert lines[0].startswith("rt-tui send: cannot decode damaged.mp3: damaged or cut short (the decoder said: ")


def test_send_of_a_damaged_mp3_that_decodes_prints_none_of_the_decoders_lines(tmp_path: Path, mp3_bytes: bytes) -> None:
    """The decode succeeds (past the damage): what follows on stderr is rt-tui's only."""
    path = tmp_path / "flipped.mp3"
    path.write_bytes(_flipped(mp3_bytes))
    url = _closed_port_url()
    done = rt_tui("send", str(path), "--url", url)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"rt-tui send: connection refused by {url}{TRIED}: is the server running?\n"


def test_a_decode_leaves_stderr_as_it_found_it(
    tmp_path: Path, mp3_bytes: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """Python's line written before the decode (still buffered) and a line after it reach fd 2."""
    path = tmp_path / "flipped.mp3"
    path.write_bytes(_flipped(mp3_bytes))
    capfd.readouterr()
    sys.stderr.write("before\n")
    audio = decode_file(path)
    os.write(2, b"after\n")
    assert audio.duration_ms > 1000
    assert capfd.readouterr().err == "before\nafter\n"


def test_decodes_in_threads_at_once_leave_stderr_whole(
    tmp_path: Path, mp3_bytes: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """fd 2 is the process's: two decodes moving it at once put back each other's stand-in (the
    decoder's lines leaked, and later writes to stderr went into a deleted temporary file)."""
    good, bad = tmp_path / "flipped.mp3", tmp_path / "damaged.mp3"
    good.write_bytes(_flipped(mp3_bytes))
    bad.write_bytes(_truncated(mp3_bytes))
    errors: list[BaseException] = []

    def decode_some() -> None:
        try:
            for _ in range(10):
                decode_file(good)
                with pytest.raises(AudioDecodeError, match="the decoder said"):
                    decode_file(bad)
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            errors.append(exc)

    capfd.readouterr()
    threads = [threading.Thread(target=decode_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.write(2, b"after\n")
    assert not errors, errors
    assert capfd.readouterr().err == "after\n"


# -- a capture's frame nested past MAX_DEPTH ----------------------------------------------------

CREATED = '{"type":"session.created","session":{}}'
UPDATED = '{"type":"session.updated","session":{}}'


def _line(seq: int, frame: str, *, way: str = "in", etype: str = "x") -> str:
    """A capture line as rt-tui's writer lays it out, the frame embedded last."""
    return (
        f'{{"seq":{seq},"dir":"{way}","t":{seq / 10},"wall":{1000 + seq},"type":"{etype}",'
        f'"size":{len(frame)},"frame":{frame}}}\n'
    )


def _deep(levels: int) -> str:
    return '{"type":"response.done","x":' + "[" * levels + "]" * levels + "}"


def _capture(tmp_path: Path, odd: str, *, first: bool, way: str = "in") -> Path:
    """A three-line capture (two lines when `first`) with `odd` as a frame in it."""
    lines = [] if first else [_line(1, CREATED, etype="session.created")]
    lines += [_line(2, odd, way=way, etype="response.done"), _line(3, UPDATED, etype="session.updated")]
    path = tmp_path / "frames.jsonl"
    path.write_text("".join(lines))
    return path


ODD_FRAMES = {
    "200 levels": (_deep(200), "JSON nested deeper than 128 levels"),
    "5000 levels": (_deep(5000), "JSON nested deeper than 128 levels"),
    "5000 digits": (
        '{"type":"response.done","n":' + "7" * 5000 + "}",
        "not JSON rt-tui can read: an integer of over 4300 digits",
    ),
}


@pytest.mark.parametrize("first", [False, True], ids=["middle", "first line"])
@pytest.mark.parametrize("odd", list(ODD_FRAMES))
def test_a_captured_frame_the_parser_refuses_comes_through_as_rt_malformed(
    tmp_path: Path, odd: str, first: bool
) -> None:
    frame, reason = ODD_FRAMES[odd]
    path = _capture(tmp_path, frame, first=first)
    expected = (
        ["response.done", "session.updated"] if first else ["session.created", "response.done", "session.updated"]
    )
    shown = ["rt.malformed" if etype == "response.done" else etype for etype in expected]
    linted = rt_tui("lint", str(path))
    assert linted.returncode == 0, linted.stderr
    # Without its first line the capture's frames are numbered from #2, as the summary says.
    assert f"{len(expected)} frames (capture{', numbered #2–#3' if first else ''})" in linted.stdout
    dumped = rt_tui("replay", "--json", str(path))
    assert dumped.returncode == 0, dumped.stderr
    records = [json.loads(line) for line in dumped.stdout.splitlines()]
    assert [record["type"] for record in records] == shown
    odd_record = next(record for record in records if record["type"] == "rt.malformed")
    assert odd_record["frame"] == {"type": "rt.malformed", "message": f"malformed frame from server: {reason}"}
    assert odd_record["size"] == len(frame)
    # What a live session kept: the frame's very text, for its details and a save.
    envelope = next(env for env in load(path).envelopes if env.type == "rt.malformed")
    assert envelope.raw == frame and envelope.direction is Direction.IN


def test_a_sent_frame_too_deep_is_malformed_in_the_proxys_words(tmp_path: Path) -> None:
    path = _capture(tmp_path, _deep(3000), first=False, way="out")
    envelope = load(path).envelopes[1]
    assert (envelope.type, envelope.direction) == ("rt.malformed", Direction.OUT)
    assert envelope.data == {"type": "rt.malformed", "message": "malformed frame: JSON nested deeper than 128 levels"}


RECORDS_TOO_DEEP = {
    "info": '{"seq":2,"dir":"in","t":1,"wall":2,"type":"rt.malformed","size":3,"info":{"x":'
    + "[" * 3000
    + "]" * 3000
    + '},"raw":"abc"}\n',
    "a key of its own": '{"seq":2,"dir":"in","t":1,"wall":2,"type":"x","size":3,"extra":'
    + "[" * 3000
    + "]" * 3000
    + ',"frame":{"type":"x"}}\n',
}


@pytest.mark.parametrize("where", list(RECORDS_TOO_DEEP))
def test_a_record_itself_too_deep_is_still_damage_naming_its_line(tmp_path: Path, where: str) -> None:
    """Guard: only a frame is the server's; rt-tui never writes a record deep of its own (damage):
    left out with a note naming its line, the rest read, and the status says lines are missing."""
    path = tmp_path / "frames.jsonl"
    path.write_text(_line(1, CREATED, etype="session.created") + RECORDS_TOO_DEEP[where])
    for command in (["lint"], ["replay", "--json"]):
        done = rt_tui(*command, str(path))
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().endswith(
            "frames.jsonl: line 2 is JSON nested too deeply to read: a damaged capture: "
            "left out, the lines after it read"
        )
        assert len(done.stderr.splitlines()) == 1, done.stderr
    frames = [json.loads(line) for line in rt_tui("replay", "--json", str(path)).stdout.splitlines()]
    assert [frame["type"] for frame in frames] == ["session.created"]  # the whole line before it


async def test_the_replay_app_plays_a_capture_past_its_too_deep_frame_and_shows_its_text(tmp_path: Path) -> None:
    path = _capture(tmp_path, _deep(5000), first=False)
    recording = with_notes_as_facts(load(path, lean=True))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 40)) as pilot:
        await replay_shown(pilot, app)
        assert [frame.type for frame in app.journal] == ["session.created", "rt.malformed", "session.updated"]
        await open_frame_details(pilot, app, 1)
        assert app.is_running


# -- a capture's seq or size past 64 bits -----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [("seq", 10**30, 2), ("size", 2**64, 1), ("seq", -(2**70), 2)],
    ids=["seq 10**30", "size 2**64 on line 1", "seq -2**70"],
)
def test_a_capture_number_past_64_bits_is_damage_naming_its_line(
    tmp_path: Path, key: str, value: int, line: int
) -> None:
    """The replay's and the journal's columns are 64-bit: `Frames.append` raised OverflowError (a
    traceback from `lint` and `replay`). rt-tui never writes one: refused as damage, in one line."""
    records = [
        {"seq": 1, "dir": "in", "t": 0, "wall": 1, "type": "session.created", "size": len(CREATED)},
        {"seq": 2, "dir": "in", "t": 1, "wall": 2, "type": "session.updated", "size": len(UPDATED)},
    ]
    records[line - 1][key] = value
    path = tmp_path / "frames.jsonl"
    path.write_text(
        "".join(
            json.dumps(record, separators=(",", ":"))[:-1] + f',"frame":{frame}}}\n'
            for record, frame in zip(records, (CREATED, UPDATED), strict=True)
        )
    )
    for command in (["lint"], ["replay", "--json"]):
        done = rt_tui(*command, str(path))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert f"frames.jsonl: line {line} has no valid {key!r} (past a 64-bit integer)" in done.stderr
        # A first line that is not a record: not a capture, refused; a later one: damage, left out.
        assert ("left out, the lines after it read" in done.stderr) == (line > 1), done.stderr


# -- a recording saved as UTF-16 ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_recording_in_utf16_is_refused_as_such_not_as_a_power_cut(tmp_path: Path, encoding: str) -> None:
    """Windows PowerShell 5's `>` writes UTF-16: json.loads read its first line by itself, so the
    capture reader took the file and then said its NUL bytes were data a power cut lost."""
    path = tmp_path / "frames.jsonl"
    text = _line(1, CREATED, etype="session.created") + _line(2, UPDATED, etype="session.updated")
    path.write_bytes(text.encode(encoding))
    wide = "UTF-32" if "32" in encoding else "UTF-16"
    for command in (["lint"], ["replay", "--json"]):
        done = rt_tui(*command, str(path))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert f"frames.jsonl: {wide} text (as Windows PowerShell's `>` and Out-File write it)" in done.stderr
        assert "power cut" not in done.stderr


# -- an audio header's rate past any recorder ---------------------------------------------------

_AIFF_RATES = {"NaN": "7fffc000000000000000", "infinity": "7fff8000000000000000", "1e4000": "7ffe8000000000000000"}
"""An AIFF's sample rate is an 80-bit float: what a damaged one holds."""


@pytest.mark.parametrize("rate", list(_AIFF_RATES))
def test_send_refuses_an_aiff_whose_rate_is_past_any_recorder(tmp_path: Path, rate: str) -> None:
    """libsndfile reads such a rate as 67 MHz: a second of speech became 0.4 ms, sent, and the
    server refused the commit as too short, as if the recording were. Refused before connecting."""
    path = tmp_path / "speech.aiff"
    data, source_rate = soundfile.read(espeak_wav("hello there", tmp_path / "speech.wav"))
    soundfile.write(path, data, source_rate, format="AIFF", subtype="PCM_16")
    header = bytearray(path.read_bytes())
    at = header.find(b"COMM") + 16  # the chunk's id and size, channels, frames, sample size
    header[at : at + 10] = bytes.fromhex(_AIFF_RATES[rate])
    path.write_bytes(bytes(header))
    done = rt_tui("send", str(path), "--url", _closed_port_url())
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("rt-tui send: cannot decode speech.aiff: its header says 67,108,864 Hz"), done.stderr
    assert done.stderr.rstrip().endswith("a damaged header?") and len(done.stderr.splitlines()) == 1


# -- a damaged FLAC, Opus or WAV: "not a supported audio file" --------------------------------


@pytest.mark.parametrize(
    ("name", "damage", "said"),
    [
        ("cut.flac", "cut", "flac decoder lost sync"),
        ("cut.opus", "cut", "Supported file format but file is malformed"),
        ("no-channels.wav", "channels", "Channel count is zero"),
    ],
)
def test_send_says_a_supported_file_is_damaged_not_unsupported(
    tmp_path: Path, name: str, damage: str, said: str
) -> None:
    """libsndfile's reason was dropped for "not a supported audio file (WAV, FLAC, …)": a FLAC cut
    short by a download was called unsupported, which sends a user looking for a codec."""
    path = tmp_path / name
    data, rate = soundfile.read(espeak_wav("what is the weather like today", tmp_path / "q.wav"))
    if name.endswith(".opus"):
        soundfile.write(path, data, 48000, format="OGG", subtype="OPUS")
    else:
        soundfile.write(path, data, rate, format=path.suffix[1:].upper(), subtype="PCM_16")
    whole = path.read_bytes()
    if damage == "cut":
        path.write_bytes(whole[: len(whole) // 2])
    else:
        at = whole.find(b"fmt ") + 10  # the chunk's id and size, then the format tag: the channels
        path.write_bytes(whole[:at] + b"\0\0" + whole[at + 2 :])
    done = rt_tui("send", str(path), "--url", _closed_port_url())
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"rt-tui send: cannot decode {name}: damaged or cut short (the decoder said: {said})\n"


def test_send_says_a_cut_vorbis_file_is_cut_not_empty(tmp_path: Path) -> None:
    """libsndfile finds an Ogg Vorbis file's length on its last page: cut in half, it reads as 0
    samples, and `send` called a file of seconds of speech one that "contains no audio"."""
    path = tmp_path / "cut.ogg"
    data, rate = soundfile.read(espeak_wav("what is the weather like today", tmp_path / "q.wav"))
    soundfile.write(path, data, rate, format="OGG", subtype="VORBIS")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    done = rt_tui("send", str(path), "--url", _closed_port_url())
    assert done.returncode == 2, done.stderr
    size = len(whole) // 2
    assert done.stderr == (
        f"rt-tui send: cannot decode cut.ogg: its decoder found no samples in its {size:,} bytes: "
        "cut short or damaged?\n"
    )


# -- a file name that is not UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_send_decodes_a_file_whose_name_is_not_utf8(tmp_path: Path, suffix: str) -> None:
    """A name from a Latin-1 system (`caf\\xe9.wav`): Python keeps its byte as a surrogate, which
    soundfile encoded strictly: UnicodeEncodeError, a traceback from `send` for a sound file."""
    path = tmp_path / os.fsdecode(b"caf\xe9" + suffix.encode())
    data, rate = soundfile.read(espeak_wav("hello there", tmp_path / "speech.wav"))
    soundfile.write(os.fsencode(path), data, rate, format=suffix[1:].upper())  # soundfile: bytes, as rt-tui
    url = _closed_port_url()
    done = rt_tui("send", str(path), "--url", url)
    assert done.returncode == 1, done.stderr  # decoded, then refused by the closed port
    assert done.stderr == f"rt-tui send: connection refused by {url}{TRIED}: is the server running?\n"


def test_lint_names_a_file_whose_name_is_not_utf8_or_holds_an_escape(tmp_path: Path) -> None:
    """lint's summary wrote the name as it was: its escape sequence was obeyed by the terminal, and
    its Latin-1 byte, kept by Python as a surrogate, raised UnicodeEncodeError on a strict standard
    output (every UTF-8 locale but C's; PYTHONIOENCODING makes it so here): a traceback."""
    path = tmp_path / os.fsdecode(b"caf\xe9\x1b[31m.jsonl")
    path.write_text(_line(1, CREATED, etype="session.created"))
    done = rt_tui("lint", str(path), env={**clean_env(), "PYTHONIOENCODING": "utf-8:strict"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path}/caf\ufffd\u241b[31m.jsonl: 1 frame (capture), 0 findings, 0 errors\n"


# -- standard output on a full disk -----------------------------------------------------------

FULL = Path("/dev/full")
"""A device every write to fails with ENOSPC: `> file` on a full disk."""


def _to_full_disk(*args: str, data_dir: Path) -> tuple[int, str]:
    """The real command with its standard output on a full disk: (exit status, stderr)."""
    with FULL.open("w") as full:
        done = subprocess.run(
            [RT_TUI, *args],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=120,
            env=clean_env(RT_TUI_DATA_DIR=str(data_dir)),
        )
    return done.returncode, done.stderr.decode()


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("command", [["lint"], ["lint", "--json"], ["replay", "--json"]], ids=" ".join)
def test_lint_and_replay_say_a_full_disk_under_their_output_in_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "frames.jsonl"
    path.write_text(_line(1, CREATED, etype="session.created") + _line(2, '{"type":"nonsense.event"}', way="out"))
    status, err = _to_full_disk(*command, str(path), data_dir=tmp_path)
    assert status == 1, err
    assert err == "rt-tui: cannot write standard output: No space left on device; what came before it was written\n"


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("json_out", [False, True], ids=["text", "--json"])
def test_send_says_a_full_disk_under_its_output_and_closes_its_capture_whole(tmp_path: Path, json_out: bool) -> None:
    """A traceback; the capture still ends with the session's end."""
    wav = espeak_wav("what is the weather like today", tmp_path / "q.wav")
    data_dir = tmp_path / "data"
    status, err = _to_full_disk("send", str(wav), "--local", *(["--json"] if json_out else []), data_dir=data_dir)
    assert status == 1, err
    assert err == "rt-tui: cannot write standard output: No space left on device; what came before it was written\n"
    [capture] = data_dir.glob("sessions/*/frames.jsonl")
    last = json.loads(capture.read_text().splitlines()[-1])
    assert (last["type"], last["info"]["state"]) == ("rt.connection", "closed")  # the session's end, on disk


# -- an integer past Python's digits outside a capture ----------------------------------------

LONG = '{"type":"response.done","n":' + "9" * 5000 + "}"
"""A frame holding a 5,000-digit integer: Python's int() refuses over 4,300."""

LONG_RECORDINGS = {
    "jsonl line 2": (f"{CREATED}\n{LONG}\n", "line 2 holds an integer of over 4,300 digits"),
    "jsonl line 1": (f"{LONG}\n{CREATED}\n", "line 1 holds an integer of over 4,300 digits"),
    "har, indented": (
        json.dumps(
            {"log": {"entries": [{"request": {"url": "wss://x/realtime"}, "_webSocketMessages": []}]}}, indent=1
        ).replace('"entries"', '"n": ' + "9" * 5000 + ', "entries"'),
        "(JSON holding an integer of over 4,300 digits, which rt-tui does not read)",
    ),
}


@pytest.mark.parametrize("form", list(LONG_RECORDINGS))
def test_a_recording_holding_a_huge_integer_is_refused_in_rt_tuis_words(tmp_path: Path, form: str) -> None:
    """json.loads hands the literal to int(), whose ValueError read "line 2 is not JSON (Exceeds the
    limit (4300 digits) for integer string conversion…; use sys.set_int_max_str_digits() to increase
    the limit)" (a Python function to call), or, for a HAR, plain "not JSON": it is JSON."""
    text, said = LONG_RECORDINGS[form]
    path = tmp_path / "recording.jsonl"
    path.write_text(text)
    for command in (["lint"], ["replay", "--json"]):
        done = rt_tui(*command, str(path))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert said in done.stderr
        assert "sys.set_int_max_str_digits" not in done.stderr and "not JSON)" not in done.stderr
