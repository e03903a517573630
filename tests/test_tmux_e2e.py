"""End to end: the real `rt-tui` binary in tmux, keys sent with send-keys, the screen read back.

The microphone is the fake ALSA device fed in real time from a FIFO; everything else is real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audio_helpers import FAKE_ALSA_CONF, FifoFeeder
from tests.server_helpers import silence, speech_pcm24

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make installs it)")

RT_TUI = str(Path(sys.executable).parent / "rt-tui")


class Tmux:
    """One detached tmux session running a command."""

    def __init__(self, name: str) -> None:
        self.name = name

    def start(self, command: str, width: int = 150, height: int = 42) -> None:
        # pytest imports readline, and GNU readline exports COLUMNS=80 and LINES=24 into the C
        # environment (not os.environ): a tmux server started from here passes them on, and the
        # app would size itself from them instead of the window.
        command = f"unset COLUMNS LINES; {command}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), command], check=True
        )

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return out.stdout

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0

    def wait_for(self, predicate: object, timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if callable(predicate) and predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen was:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def log_keys_shown(screen: str) -> bool:
    """The footer names the log's `q Quit` (an input's footer names `^q Quit`: the input has the focus)."""
    return "q Quit" in screen.replace("^q Quit", "")


@pytest.fixture
def tmux(request: pytest.FixtureRequest) -> Iterator[Tmux]:
    session = Tmux(f"rt-e2e-{request.node.name[:20]}-{time.monotonic_ns()}")
    yield session
    session.kill()


EXITED = "rt-tui-exited"
"""Printed by the shell once the app's process has ended (the command that started it goes on)."""


def app_command(mic: Path, tmp_path: Path) -> str:
    """The real binary on the embedded simulator, the fake microphone fed from `mic`, its data under
    `tmp_path`; the shell says when it has exited, and keeps the pane for a last look."""
    env = (
        f"env -u OPENAI_API_KEY ALSA_CONFIG_PATH={FAKE_ALSA_CONF} RT_MIC_FILE={mic} "
        f"RT_SPK_FILE=/dev/null RT_TUI_DATA_DIR={tmp_path / 'data'} TERM=xterm-256color"
    )
    return f"{env} {RT_TUI} --no-playback; echo {EXITED}; sleep 30"


def transcript_pane(screen: str) -> str:
    """The left pane's text (the transcript), from a captured screen."""
    lines = []
    for line in screen.splitlines():
        if line.startswith("│") and "││" in line:
            lines.append(line[1 : line.index("││")])
    return "\n".join(lines)


def test_a_spoken_turn_in_the_real_binary(tmp_path: Path, tmux: Tmux) -> None:
    mic = tmp_path / "mic.fifo"
    with FifoFeeder(mic) as feeder:
        tmux.start(app_command(mic, tmp_path))
        tmux.wait_for(lambda s: "● open" in s and "session.updated" in s, 30, "the embedded simulator session")
        screen = tmux.screen()
        assert "simulator · 127.0.0.1:" in screen
        assert "ALSA lib" not in screen and "jack" not in screen.lower()
        tmux.keys("space")
        tmux.wait_for(lambda s: "REC" in s, 10, "the recorder to start")
        feeder.play(speech_pcm24("what is the weather like in London today") + silence(300))
        assert feeder.played.wait(15)
        time.sleep(0.2)
        tmux.keys("space")
        screen = tmux.wait_for(
            lambda s: transcript_pane(s).lower().count("weather") >= 2,
            40,
            "the user's transcript and the reply in the transcript pane",
        )
        pane = transcript_pane(screen)
        assert pane.index("you") < pane.index("assistant")
        assert "ALSA lib" not in screen
        assert "input_audio_buffer.append" in screen or "response." in screen
        tmux.keys("q")
        # The process has ended, not only its screen: the session and the capture close after the
        # terminal is restored, and a capture read at the screen's end could miss its last records.
        tmux.wait_for(lambda s: EXITED in s, 10, "the app to quit")
        captures = list((tmp_path / "data").glob("sessions/*/frames.jsonl"))
        assert captures and "input_audio_transcription.completed" in captures[0].read_text()


def test_at_80_by_24_the_recorder_shows_its_hint_and_quitting_closes_the_session_first(
    tmp_path: Path, tmux: Tmux
) -> None:
    """The recorder's key hint outranks its level bar on a narrow line; and `q` with the embedded
    simulator closes the client session before the simulator stops, so the capture says rt-tui
    closed it (the simulator used to go first, and the capture blamed the server with 1001)."""
    mic = tmp_path / "mic.fifo"
    with FifoFeeder(mic):
        tmux.start(app_command(mic, tmp_path), width=80, height=24)
        tmux.wait_for(lambda s: "● open" in s and "space: talk" in s, 30, "the session and the recorder's hint")
        tmux.keys("space")
        screen = tmux.wait_for(lambda s: "REC" in s and "space: send" in s, 10, "the recording's hint")
        assert "push-to-talk" in screen
        tmux.keys("space")
        tmux.wait_for(lambda s: "not sent" in s, 10, "the tap said to be too short")
        tmux.keys("q")
        # The process has ended, not only its screen: the session and the capture close after the
        # terminal is restored, and a capture read at the screen's end could miss its last records.
        tmux.wait_for(lambda s: EXITED in s, 10, "the app to quit")
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    closed = [r for r in records if r["type"] == "rt.connection" and r["info"].get("state") == "closed"]
    assert closed and closed[-1]["info"]["message"] == "closed by rt-tui", closed
    assert "closed_by" not in closed[-1]["info"]  # set only for a close the server (or the network) made
    sent = [r["type"] for r in records if r["dir"] == "out"]
    assert "input_audio_buffer.commit" not in sent and "response.create" not in sent


def paste(tmux: Tmux, text: str, tmp_path: Path) -> None:
    """Paste `text` into the app as a terminal does, inside bracketed-paste markers (`-p`)."""
    source = tmp_path / "paste.txt"
    source.write_bytes(text.encode())
    subprocess.run(["tmux", "load-buffer", "-b", tmux.name, str(source)], check=True)
    subprocess.run(["tmux", "paste-buffer", "-p", "-d", "-b", tmux.name, "-t", tmux.name], check=True)


def test_a_colored_two_line_paste_is_one_line_of_text_in_the_message_input(tmp_path: Path, tmux: Tmux) -> None:
    """Helpers: Textual's parser made keys of what followed an ESC inside a paste, Enter included:
    this paste sent `^[31mdisk full^[0m` before the rest arrived. Now the input holds the one line,
    and only Enter sends it: the capture's one message is that line."""
    mic = tmp_path / "mic.fifo"
    with FifoFeeder(mic):
        tmux.start(app_command(mic, tmp_path), width=120, height=32)
        tmux.wait_for(lambda s: "● open" in s and "session.updated" in s, 30, "the embedded simulator session")
        tmux.keys("t")
        tmux.wait_for(lambda s: "Esc, then space: talk" in s, 10, "the message input to take the focus")
        paste(tmux, "error: \x1b[31mdisk full\x1b[0m\nsecond line", tmp_path)
        screen = tmux.wait_for(lambda s: "error: disk full second line" in s, 10, "the paste in the input")
        assert "^[" not in screen and "┃ you" not in transcript_pane(screen)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "You said" in transcript_pane(s), 20, "the reply to the pasted line")
        tmux.keys("Escape")
        # A q in the same read as the ESC would be alt+q: the log takes the focus back first.
        tmux.wait_for(log_keys_shown, 10, "the input to give the focus back")
        tmux.keys("q")
        tmux.wait_for(lambda s: EXITED in s, 10, "the app to quit")
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    sent = [r["frame"] for r in records if r["dir"] == "out" and r["type"] == "conversation.item.create"]
    assert [item["item"]["content"][0]["text"] for item in sent] == ["error: disk full second line"]


def test_a_paste_of_x_esc_q_into_the_focused_log_does_not_quit(tmp_path: Path, tmux: Tmux) -> None:
    """Helpers: with the event log focused, pasting `x ESC q` quit the app (the paste's `q` was a
    key). Keys typed after the paste are handled, so the app is still there to handle them."""
    mic = tmp_path / "mic.fifo"
    with FifoFeeder(mic):
        tmux.start(app_command(mic, tmp_path), width=120, height=32)
        tmux.wait_for(lambda s: "● open" in s and "⏎ Open" in s, 30, "the session, with the event log focused")
        paste(tmux, "x\x1bq", tmp_path)
        tmux.keys("t")
        tmux.keys("still here")
        screen = tmux.wait_for(lambda s: "still here" in s or EXITED in s, 10, "the keys typed after the paste")
        assert EXITED not in screen and tmux.alive()
        tmux.keys("Escape")
        # A q in the same read as the ESC would be alt+q: the log takes the focus back first.
        tmux.wait_for(log_keys_shown, 10, "the input to give the focus back")
        tmux.keys("q")
        tmux.wait_for(lambda s: EXITED in s, 10, "the app to quit")
