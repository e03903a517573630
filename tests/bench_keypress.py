"""Key press → screen, through a real pseudo-terminal, while events stream in.

Run alone with `python -m tests.bench_keypress`; `make bench` runs it. Figures are printed, never
asserted.

The real binary (`rt-tui --url … --no-playback`) runs on the slave side of a pty of a fixed size
(TIOCSWINSZ), connected to a server in a child process (tests/bench_wsserver.py) that sends
`session.created` and then either nothing (idle, the baseline) or the server's side of the
bench's mix at `LOAD_RATE` events/s. This process writes `f` to the pty master and reads the
app's output into a small terminal model until the filter bar's family toggles
(`families:`) are on screen; Escape closes the bar again before the next press, which comes after
a random pause so presses fall anywhere in the app's 30 Hz cycle. The time from the byte written
to the screen showing the bar is the latency: input parsing, the key's dispatch, the layout, the
paint and the terminal write, whatever the stream is doing meanwhile. Each run presses `PRESSES`
times, or for `BUDGET` seconds on a machine too slow for that; the app's CPU share over the run
(from /proc) says whether it was saturated or starved by other processes.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.bench_helpers import ChildServer, child_env, ms, p50_p99, process_cpu_seconds

COLS, ROWS = 140, 40
PRESSES = 300
"""Presses per run. At 100 the nearest-rank p99 was the slowest press itself (one stall in a run
decided it); at 300 it is the third slowest, and the slowest is printed beside it."""
BUDGET = 120.0
"""Seconds of pressing per run at most: on a slow or busy machine, fewer presses (n says how many)."""
LOAD_RATE = 2000
MARK = "families:"
"""Shown by the filter bar only (its family toggles), so on screen exactly while the bar is open."""
WAIT = 10.0
"""The longest a key's effect is waited for before the press counts as lost."""

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-9;?:<=>]*)[ -/]*(?P<final>[@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1bP.*?\x1b\\"  # DCS
    r"|\x1b[()*+][0-~]"  # charset
    r"|\x1b[^\[\]P()*+]"  # two-byte escapes
    r"|(?P<text>[^\x1b\r\n\x08]+)"
    r"|(?P<control>[\r\n\x08])",
    re.S,
)


_SGR = re.compile(r"\x1b\[[0-9;:]*m")
"""Select Graphic Rendition (colors, bold): most of what Textual writes, and nothing `Terminal` keeps."""


class Terminal:
    """Just enough of a terminal to know what text is where: cursor moves, clears, text; no styles.

    Part of the measuring instrument, so it must be quick: the app writes into the pty's 4 KB buffer
    and waits while it is full, so each millisecond this parser spends on a read delays the rest of
    a repaint. Styles are dropped in one C-level pass before the sequences that place text are
    parsed (a read of a full-screen repaint took ~1 ms in Python when every style was a token).
    """

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.lines = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        """Apply bytes the application wrote."""
        text = _SGR.sub("", self._pending + self._decoder.decode(data))
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                if len(text) - position < 64:
                    break  # an escape sequence cut in two by the read: wait for the rest
                position += 1
                continue
            position = match.end()
            if match["text"] is not None:
                self._write(match["text"])
            elif match["control"] is not None:
                self._control(match["control"])
            elif match["final"] is not None:
                self._csi(match["params"], match["final"])
        self._pending = text[position:]

    def _write(self, text: str) -> None:
        if 0 <= self.y < self.rows and self.x < self.cols:
            chunk = text[: self.cols - self.x]
            self.lines[self.y][self.x : self.x + len(chunk)] = list(chunk)
        self.x += len(text)

    def _control(self, char: str) -> None:
        if char == "\r":
            self.x = 0
        elif char == "\n":
            self.y = min(self.rows - 1, self.y + 1)
        else:
            self.x = max(0, self.x - 1)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # private modes: alternate screen, cursor, mouse, synchronized output
        numbers = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        first = numbers[0] if numbers else 0
        if final in "Hf":
            row = numbers[0] if numbers and numbers[0] else 1
            col = numbers[1] if len(numbers) > 1 and numbers[1] else 1
            self.y, self.x = min(self.rows, row) - 1, col - 1
        elif final == "G":
            self.x = max(1, first) - 1
        elif final in "ABCD":
            step = max(1, first)
            if final == "A":
                self.y = max(0, self.y - step)
            elif final == "B":
                self.y = min(self.rows - 1, self.y + step)
            elif final == "C":
                self.x += step
            else:
                self.x = max(0, self.x - step)
        elif final == "J" and first == 2:
            self.lines = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "K" and 0 <= self.y < self.rows:
            line = self.lines[self.y]
            if first == 0:
                line[self.x :] = [" "] * (self.cols - self.x)
            elif first == 1:
                line[: self.x + 1] = [" "] * (self.x + 1)
            else:
                self.lines[self.y] = [" "] * self.cols

    def text(self) -> str:
        """The screen as lines of text."""
        return "\n".join("".join(line) for line in self.lines)

    def shows(self, needle: str) -> bool:
        """Whether `needle` is on one line of the screen."""
        return any(needle in "".join(line) for line in self.lines)


class PtyApp:
    """The real binary on a pty; the bytes it writes are fed to a :class:`Terminal` as they come."""

    def __init__(self, url: str, data_dir: str) -> None:
        self.url = url
        self.data_dir = data_dir
        self.screen = Terminal(COLS, ROWS)
        self.process: subprocess.Popen[bytes] | None = None
        self.master = -1
        self._waiter: tuple[Callable[[], bool], asyncio.Future[float]] | None = None
        self._closed = asyncio.Event()

    def start(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        # ESCDELAY: how long Textual waits to tell a lone Escape from a sequence (100 ms by default);
        # only the Escape that closes the bar between presses waits on it, never the press measured.
        env = child_env(self.data_dir) | {"TERM": "xterm-256color", "COLORTERM": "truecolor", "ESCDELAY": "10"}
        binary = str(Path(sys.executable).parent / "rt-tui")
        self.process = subprocess.Popen(
            [binary, "--url", self.url, "--no-playback", "--no-reconnect"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.master = master
        asyncio.get_running_loop().add_reader(master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            self._closed.set()
            return
        self.screen.feed(data)
        if self._waiter is not None:
            condition, future = self._waiter
            if not future.done() and condition():
                future.set_result(time.monotonic())

    async def until(self, condition: Callable[[], bool], timeout: float = WAIT) -> float | None:
        """When `condition` held on screen (monotonic), or None after `timeout`."""
        if condition():
            return time.monotonic()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiter = (condition, future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self._waiter = None

    def press(self, key: bytes) -> float:
        """Write a key to the terminal; returns when (monotonic)."""
        started = time.monotonic()
        os.write(self.master, key)
        return started

    async def stop(self) -> None:
        """Quit with `q`, reading the output until the app has gone (else terminate it)."""
        assert self.process is not None
        with contextlib.suppress(OSError):
            self.press(b"\x1b")
            await asyncio.sleep(0.3)
            self.press(b"q")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), 10)
        if self.process.poll() is None:
            self.process.terminate()
        await asyncio.to_thread(self.process.wait, 10)
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


def _take_terminal() -> None:
    """In the child: make the pty its controlling terminal (a new session was started for it)."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _captured(data_dir: str) -> int:
    """Frames the app wrote to its capture files."""
    return sum(path.read_bytes().count(b"\n") for path in Path(data_dir).glob("sessions/*/frames.jsonl"))


@dataclass(frozen=True)
class Gesture:
    """A key whose effect is a string on screen, and the key that takes it away again."""

    name: str
    key: bytes
    mark: str
    undo: bytes


MOVE = Gesture("↑ from following, until the log says it is paused", b"\x1b[A", "end: follow", b"\x1b[F")
"""The most common key in a debugger: moving in the log (End follows again)."""
FILTER = Gesture("`f` until the filter bar shows", b"f", MARK, b"\x1b")
"""A heavier one: a bar opens and takes the focus (the footer's keys change)."""


async def keypress_latencies(
    url: str, presses: int, seed: int, gesture: Gesture
) -> tuple[list[float], int, float, float]:
    """(latency of each press that showed, presses lost, frames/s the app captured meanwhile, the app's
    CPU share meanwhile: 1.0 is a whole core)."""
    rng = random.Random(seed)
    latencies: list[float] = []
    lost = 0
    with tempfile.TemporaryDirectory() as data_dir:
        app = PtyApp(url, data_dir)
        app.start()
        try:
            if await app.until(lambda: app.screen.shows("● open"), 60) is None:
                raise RuntimeError(f"the app did not connect; its screen:\n{app.screen.text()}")
            await asyncio.sleep(1.0)  # the stream is flowing, the audio stack has loaded
            assert app.process is not None
            started, cpu = time.monotonic(), process_cpu_seconds(app.process.pid)
            for _ in range(presses):
                if time.monotonic() - started > BUDGET:
                    break
                await asyncio.sleep(rng.uniform(0.02, 0.08))
                pressed = app.press(gesture.key)
                shown = await app.until(lambda: app.screen.shows(gesture.mark))
                if shown is None:
                    lost += 1
                else:
                    latencies.append(shown - pressed)
                app.press(gesture.undo)
                if await app.until(lambda: not app.screen.shows(gesture.mark)) is None:
                    raise RuntimeError(f"the undo key did not take the mark away; the screen:\n{app.screen.text()}")
            elapsed = time.monotonic() - started
            share = (process_cpu_seconds(app.process.pid) - cpu) / elapsed
        finally:
            await app.stop()
        rate = _captured(data_dir) / elapsed
    return latencies, lost, rate, share


async def bench_keypress(presses: int = PRESSES) -> None:
    """Print key press → screen p50/p99, idle and under load, through a real pty, for two keys."""
    async with ChildServer() as server:
        for gesture in (MOVE, FILTER):
            idle, idle_lost, _, idle_cpu = await keypress_latencies(server.url("idle"), presses, 1, gesture)
            loaded, lost, rate, cpu = await keypress_latencies(server.url("mix", rate=LOAD_RATE), presses, 2, gesture)
            lost_note = f", {lost} presses not shown within {WAIT:.0f} s" if lost else ""
            idle_note = f", {idle_lost} lost" if idle_lost else ""
            print(
                f"key press → screen through a real pty ({COLS}×{ROWS}, {gesture.name}): while "
                f"{LOAD_RATE:,} events/s stream in (the app took {rate:,.0f} frames/s at {cpu:.0%} of a core) "
                f"{p50_p99(loaded)}, slowest {ms(max(loaded, default=0))} ms{lost_note}; idle (app at "
                f"{idle_cpu:.0%} of a core) {p50_p99(idle)}, slowest {ms(max(idle, default=0))} ms{idle_note} "
                f"(target: p99 ≤ 50 ms loaded)"
            )


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(bench_keypress())
