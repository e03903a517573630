"""A full disk under the capture file, mid-session: a visible notice in the app and a non-zero
exit from `send`, the session goes on, and the file keeps whole lines only, each one a frame the
server sent, in order.

The data directory is a real 64 KiB tmpfs (a real ENOSPC from the kernel), mounted for the test.
Mounting needs root; without it the same data directory gets a real write error of another kind
from the kernel instead: the file-size limit (RLIMIT_FSIZE, EFBIG), set only around the run.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.app_helpers import notices, session_ready, wait_for
from tests.faults.evidence import assert_holds_every_frame, captures, received, strict_lines
from tests.faults.hostile import Plan, hostile_server
from tests.faults.test_faults import ask, run_send
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.server.testing import RunningSimulator

DISK_BYTES = 64 * 1024


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[tuple[str, Callable[[], None] | None]]:
    """A data directory that fills up after about 64 KiB; yields the kernel's error text and, when
    the limit is a process limit rather than a filesystem, the function that sets it."""
    folder.mkdir(parents=True)
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    try:
        if mounted:
            yield "No space left on device", None
        else:
            yield "File too large", _limit_file_size
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_BYTES, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def check_whole_lines_of_what_was_sent(sent: list[str | bytes], data_dir: Path, message: str) -> None:
    """The capture stopped at the failure: whole lines only, each one the next frame sent, and as
    many on disk as the failure message says."""
    strict_lines(data_dir)
    [capture] = captures(data_dir)
    kept = received(capture)
    assert kept, "nothing was captured before the disk filled up"
    assert_holds_every_frame(sent[: len(kept)], capture)
    said = re.search(r"it keeps (\d+) whole frames", message)
    assert said is not None and int(said.group(1)) == len(capture), message


async def test_the_app_says_the_capture_failed_and_the_session_goes_on(
    upstream: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "small-disk"
    with small_disk(data_dir) as (error_text, limit):
        monkeypatch.setenv("RT_TUI_DATA_DIR", str(data_dir))
        old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        async with hostile_server([Plan()], upstream.url) as server:
            app = RtApp(Settings(target=TargetChoice.URL, url=server.url, playback=False))
            try:
                if limit is not None:
                    limit()
                async with app.run_test(size=(140, 40), notifications=True) as pilot:
                    await wait_for(pilot, lambda: session_ready(app), 20, "the session")
                    await ask(pilot, app, "please describe the weather in Paris and in London this week")
                    await wait_for(pilot, lambda: any(t == "Capture failed" for t, _ in notices(app)), 15, "the notice")
                    [message] = [m for t, m in notices(app) if t == "Capture failed"]
                    assert message.startswith(f"capture failed: {error_text} writing ") and "\n" not in message
                    assert app.is_running and app.facts.state == "open"
                    await ask(pilot, app, "what is the weather in Oslo")  # the session goes on
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        check_whole_lines_of_what_was_sent(server.connection(0).sent, data_dir, message)
    # Quitting says the file holds part of the session, and why: it used to call it every frame.
    from tui.app.app import farewell

    assert farewell(app) == f"rt-tui: {message}"


async def test_send_exits_non_zero_and_still_prints_the_turn(
    upstream: RunningSimulator, tone_wav: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "small-disk"
    with small_disk(data_dir) as (error_text, limit):
        async with hostile_server([Plan()], upstream.url) as server:
            status, out, err = await run_send(server.url, tone_wav, data_dir, preexec=limit)
        assert status == 1, err
        user, assistant = out.splitlines()[:2]
        assert user.startswith("user: ") and assistant.startswith("assistant: ")  # the session went on
        [line] = err.splitlines()
        assert line.startswith(f"rt-tui send: capture failed: {error_text} writing "), line
        check_whole_lines_of_what_was_sent(server.connection(0).sent, data_dir, line)
