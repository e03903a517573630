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

import os
import socket
import sys
import threading
from pathlib import Path

import pytest
import soundfile

from tests.audio_helpers import espeak_wav
from tests.test_replay_inputs import rt_tui
from tui.audio.decode import AudioDecodeError, decode_file

pytestmark = pytest.mark.skipif("MP3" not in soundfile.available_formats(), reason="libsndfile without MP3")


# -- a damaged MP3 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mp3_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Speech (espeak-ng) as an MP3, written by libsndfile itself."""
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


def test_send_refuses_a_damaged_mp3_in_one_line_of_its_own(tmp_path: Path, mp3_bytes: bytes) -> None:
    path = tmp_path / "damaged.mp3"
    path.write_bytes(_truncated(mp3_bytes))
    done = rt_tui("send", str(path), "--url", _closed_port_url())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # the decoder's `Note: …` lines came first
    assert lines[0].startswith("rt-tui send: cannot decode damaged.mp3 (the decoder said: "), lines[0]
    assert "damaged, or not a supported audio file" in lines[0]


def test_send_of_a_damaged_mp3_that_decodes_prints_none_of_the_decoders_lines(tmp_path: Path, mp3_bytes: bytes) -> None:
    """The decode succeeds (past the damage): what follows on stderr is rt-tui's only."""
    path = tmp_path / "flipped.mp3"
    path.write_bytes(_flipped(mp3_bytes))
    url = _closed_port_url()
    done = rt_tui("send", str(path), "--url", url)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"rt-tui send: connection refused by {url}: is the server running?\n"


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
