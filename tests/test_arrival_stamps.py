"""A received frame's time is when its bytes came off the socket, not when the reader got to it.

The frames of one read from the socket share one time (`tui.session.wire.Stamp`): the reader's
own work on the frames before them, or the screen's update while it yields, is not counted in
the server's timings. Real sessions over loopback, with and without the capture file, whose
socket holds a burst of frames while reading is paused.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from tests.server_helpers import BURST, burst_gathered
from tui.protocol import Envelope, local_envelope
from tui.replay.sources import load
from tui.session import CaptureWriter, new_session_dir, read_capture
from tui.session import client as client_module


async def received_times(capture: CaptureWriter | None) -> tuple[list[Envelope], Envelope, float]:
    """The burst's envelopes, then one frame's alone, and the monotonic time just before the burst
    could be read."""
    before = time.monotonic()
    async with burst_gathered(capture) as (session, feed):
        burst: list[Envelope] = []
        while len(burst) < len(BURST):
            env = await asyncio.wait_for(feed.get(), 10)
            if env.type == "response.output_text.delta":
                burst.append(env)
        session.send({"type": "alone"})
        while (alone := await asyncio.wait_for(feed.get(), 10)).type != "response.output_text.done":
            pass
    return burst, alone, before


async def test_the_frames_of_one_read_share_the_time_they_arrived() -> None:
    burst, alone, before = await received_times(None)
    assert [env.raw for env in burst] == BURST
    assert len({(env.mono, env.wall) for env in burst}) == 1  # one read, one time
    assert before <= burst[0].mono < alone.mono  # read once reading resumed; a later read, a later time
    assert burst[0].wall < alone.wall


async def test_the_capture_writes_the_times_the_frames_arrived(tmp_path: Path) -> None:
    """The capture's lines carry the envelopes' times: the burst's lines share one `t`."""
    capture = CaptureWriter(new_session_dir(tmp_path))
    burst, alone, _ = await received_times(capture)
    capture.close()
    back = {env.raw: env for env in read_capture(capture.path)}
    lines = [back[env.raw] for env in burst]
    assert len({(env.mono, round(env.wall, 6)) for env in lines}) == 1
    assert back[alone.raw].mono > lines[0].mono
    assert round(back[alone.raw].wall, 6) == round(alone.wall, 6)


async def test_frames_that_waited_behind_a_fact_replay_as_one_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames read from the socket in one read, then published one by one while the app notes a
    fact of its own between them (as `LiveSession.publish_fact` does: to the capture, then the
    bus): the journal keeps their arrival, earlier than the fact; the capture's lines never go
    back (they take the fact's time), and replay reads the file as one capture, not as two joined
    (a `t` that goes back)."""
    monkeypatch.setattr(client_module, "READ_SLICE", 0.0)  # the reader yields after each frame
    capture = CaptureWriter(new_session_dir(tmp_path))
    seen: list[Envelope] = []
    async with burst_gathered(capture) as (_, feed), asyncio.timeout(10):  # not wait_for: see below
        while sum(env.type == "response.output_text.delta" for env in seen) < len(BURST):
            env = await feed.get()  # in this task: wait_for's own task would let the reader run ahead
            seen.append(env)
            if env.type != "response.output_text.delta":
                continue
            fact = local_envelope("rt.note", f"noted after {env.seq}")
            capture.write(fact)
            seen.append(fact)  # the journal's order: published before the next frame
    capture.close()
    inverted = [b for a, b in itertools.pairwise(seen) if b.mono < a.mono]
    assert inverted  # frames that arrived before a fact were published after it
    back = read_capture(capture.path)
    times = [(env.mono, env.wall) for env in back]
    assert times == sorted(times)
    recording = load(capture.path)
    assert recording.parts == [] and recording.notes == []
