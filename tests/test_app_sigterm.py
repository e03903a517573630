"""SIGTERM (`kill`, `timeout`, a service manager) and SIGHUP (the terminal closed) end the real
binary as ctrl+q does.

Killed by the signal's default action, the app left the terminal in its alternate screen, mouse
tracking on and the cursor hidden, `Terminated` written over the old screen, and said nothing of
where the session's frames were. The real binary in a pseudo-terminal, on its embedded simulator.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"


def read_until(fd: int, seen: bytearray, wanted: bytes, timeout: float) -> bool:
    """Read `fd` into `seen` until it holds `wanted` (True) or the output ends or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return False
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            return wanted in seen
        if not chunk:
            return wanted in seen
        seen += chunk
    return True


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty on its stdin, as a
    shell in a terminal window has (closing the window hangs it up: SIGHUP)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def spawn_app(data_dir: Path, *, controlling_terminal: bool = False) -> tuple[int, subprocess.Popen[bytes]]:
    """The real binary on its embedded simulator, on a new pty (returned: its leader side) in a
    session of its own; with `controlling_terminal`, the pty is that session's terminal, as a
    shell's in a terminal window is (closing the leader hangs it up)."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "OPENAI_API_KEY", "RT_TUI_API_KEY")}
    env.update(TERM="xterm-256color", RT_TUI_DATA_DIR=str(data_dir))
    app = subprocess.Popen(
        [str(Path(sys.executable).parent / "rt-tui"), "--no-playback"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=not controlling_terminal,
        preexec_fn=_own_terminal if controlling_terminal else None,  # noqa: PLW1509 - setsid and an ioctl
    )
    os.close(follower)
    return leader, app


def wait_for_session(leader: int, seen: bytearray) -> None:
    """Until the screen is up and the session open (the simulator's answer to the app's update)."""
    assert read_until(leader, seen, ALT_SCREEN_ON, 60), bytes(seen[-300:])
    assert read_until(leader, seen, b"session.updated", 60), bytes(seen[-300:])


def test_sigterm_restores_the_terminal_and_says_where_the_frames_are(tmp_path: Path) -> None:
    leader, app = spawn_app(tmp_path)
    seen = bytearray()
    try:
        wait_for_session(leader, seen)
        at_signal = len(seen)
        app.send_signal(signal.SIGTERM)
        said = b"every frame of the session is in "
        assert read_until(leader, seen, said, 30), bytes(seen[at_signal:][-500:])
        assert app.wait(30) == 128 + signal.SIGTERM
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(leader)
    after = bytes(seen[at_signal:])
    assert ALT_SCREEN_OFF in after, after[-500:]  # the screen the shell had is back
    assert after.index(ALT_SCREEN_OFF) < after.index(said)  # said on the shell's screen, not under the app's
    assert b"Terminated" not in after
    captures = list(tmp_path.rglob("frames.jsonl"))
    assert len(captures) == 1 and str(captures[0]).encode() in after


def test_a_terminal_that_hangs_up_ends_the_app_with_every_frame_captured(tmp_path: Path) -> None:
    """The terminal window closed (or the ssh link, the tmux pane): SIGHUP's default action killed
    the app where it stood, and the capture lost the frames not yet flushed (all of them in the
    session's first quarter second: an empty file). Now it quits as ctrl+q does, exit 129, and the
    capture ends with the session's own close, though nothing can be written to the terminal."""
    leader, app = spawn_app(tmp_path, controlling_terminal=True)
    seen = bytearray()
    try:
        wait_for_session(leader, seen)
        os.close(leader)  # the window closes: the kernel hangs up the terminal and signals the app
        leader = -1
        assert app.wait(30) == 128 + signal.SIGHUP
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        if leader >= 0:
            os.close(leader)
    [capture] = tmp_path.rglob("frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    types = [record["type"] for record in records]
    assert "session.updated" in types, types  # what the screen showed is on disk
    assert records[-1]["type"] == "rt.connection" and records[-1]["info"]["state"] == "closed", records[-1]
