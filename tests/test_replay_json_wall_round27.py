"""`replay --json` prints each frame's `wall` (its Unix time) where the recording has one, as the
capture and `proxy --json` do; a log without times has none to print (its clock is its lines'
order), and says nothing rather than a made-up time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import Direction, Envelope
from tui.replay import ReplayRequest, load
from tui.session import CaptureWriter


@asynccontextmanager
async def replayed(tmp_path: Path, lines: list[Any]) -> AsyncIterator[tuple[RtApp, Pilot[None]]]:
    """The app once it has played a log of `lines` (one JSON event record a line) to its end."""
    log = tmp_path / "mine.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(log)))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 30, "the replay")
        await views_settled(pilot, app)
        yield app, pilot


def replay_json(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "replay", "--json", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_captures_wall_times_are_printed_as_the_capture_has_them(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    writer = CaptureWriter(folder)
    for n, wall in enumerate((1_764_000_000.25, 1_764_000_001.5), start=1):
        raw = json.dumps({"type": "response.done", "n": n})
        writer.write(Envelope(n, Direction.IN, "response.done", json.loads(raw), raw, mono=10.0 + n, wall=wall))
    writer.close()
    captured = [json.loads(line) for line in writer.path.read_text().splitlines()]
    printed = replay_json(writer.path)
    assert [r["wall"] for r in printed] == [r["wall"] for r in captured] == [1_764_000_000.25, 1_764_000_001.5]
    assert list(printed[0])[:7] == ["conn", "seq", "dir", "t", "wall", "type", "size"]  # proxy --json's order


def test_a_log_without_times_prints_no_wall_and_no_t(tmp_path: Path) -> None:
    """It printed `"t": 0.0`, `0.001`, `0.002`: the views' line-order clock, which reads exactly as a
    real time, and a latency worked out from it with jq was fiction. Only its order is known."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"type":"session.created","session":{}}\n{"type":"session.updated","session":{}}\n')
    printed = replay_json(path)
    assert len(printed) == 2 and all("wall" not in record and "t" not in record for record in printed)
    assert [record["seq"] for record in printed] == [1, 2]  # their order, as their lines


async def test_a_log_without_times_exports_an_unknown_wall_not_1970(tmp_path: Path) -> None:
    """The app's frame export writes every record's `wall` (the capture's shape): for a log without
    times it was the lines' made-up clock, 0.001 s apart, which reads as January 1970; the
    transcript's JSON export dated its items 1970-01-01 too. Unknown is 0, and no time."""
    from tui.conversation.export import to_json

    lines = [
        {"type": "conversation.item.added", "item": {"id": "u1", "type": "message", "role": "user", "content": []}},
        {"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "hello"},
    ]
    async with replayed(tmp_path, lines) as (app, pilot):
        out = tmp_path / "export.jsonl"
        app.export_frames(out, keep_audio=True)
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") >= 2, 30, "the export")
        records = [json.loads(line) for line in out.read_text().splitlines()]
        played = [r for r in records if r["dir"] == "in"]
        assert len(played) == 2 and all(r["wall"] == 0 for r in played), played
        assert [r["t"] for r in played] == sorted(r["t"] for r in played)  # their order is still their clock
        [item] = json.loads(to_json(app.conversation.ordered()))
        assert item["text"] == "hello" and item["time"] is None


async def test_a_log_without_times_shows_no_times_in_the_app(tmp_path: Path) -> None:
    """`replay --json` prints no `t` for a log without times, but the app showed its lines' order as
    times: `00:00.005 since connect · Δt +1ms` in a frame's details, `+1ms` on each row, `over 2ms`
    on a run. Its rows say `–`, its details `no times in the recording`, a run no span."""
    from tui.widgets import EventDetail
    from tui.widgets.log_format import row_text

    deltas = [{"type": "response.output_text.delta", "response_id": "r1", "delta": f"w{n} "} for n in range(3)]
    lines = [{"type": "response.created", "response": {"id": "r1"}}, *deltas, {"type": "response.done"}]
    async with replayed(tmp_path, lines) as (app, pilot):
        drawn = app.event_log.line_texts()
        played = [line for line in drawn if "response." in line]
        assert played and all(line.split()[1] == "–" and "ms" not in line for line in played), played
        run = next(row for row in app.log_view.rows if row.count > 1)
        assert "over" not in row_text(app.log_view, run) and "at once" not in row_text(app.log_view, run)
        app.event_log.focus()
        app.event_log.select_frame(run.first, expand=False)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the details")
        detail = app.screen
        assert isinstance(detail, EventDetail)
        header = detail.header(app.journal[run.first])
        assert "no times in the recording" in header and "since connect" not in header and "Δt" not in header
        # Its position is in lines, not a clock that reads 00:00 / 00:00.
        assert app.status_line.state_override.startswith("replay 5 / 5 frames"), app.status_line.state_override
        assert app.status_line.state_short.startswith("replay 5/5 frames"), app.status_line.state_short


def test_a_log_with_times_from_its_start_keeps_them_and_its_untimed_lines_have_none(tmp_path: Path) -> None:
    """`time_ms` from the log's start (performance.now()) is a time, though no time of day: `t`
    printed, no `wall` (the app shows its times). A line without a time in a log that times others
    was printed `"t": 0.001, "wall": …` as if measured: it has neither."""
    path = tmp_path / "relative.jsonl"
    lines = [
        {"time_ms": 0, "event": {"type": "session.created", "session": {}}},
        {"event": {"type": "session.updated", "session": {}}},
        {"time_ms": 2041, "event": {"type": "response.done", "response": {}}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    printed = replay_json(path)
    assert [record.get("t") for record in printed] == [0.0, None, 2.041]
    assert all("wall" not in record for record in printed)


async def test_a_time_after_a_line_without_one_has_no_delta(tmp_path: Path) -> None:
    """In a log that times only some lines, a timed line after an untimed one read `+0`: a Δt from a
    time nobody measured. Its row shows none, its details say why."""
    from tui.widgets.event_detail import EventDetail

    lines = [
        {"time": 1_764_000_000.0, "event": {"type": "session.created", "session": {}}},
        {"event": {"type": "session.updated", "session": {}}},
        {"time": 1_764_000_002.5, "event": {"type": "response.done", "response": {}}},
    ]
    async with replayed(tmp_path, lines) as (app, pilot):
        done = next(line for line in app.event_log.line_texts() if "response.done" in line)
        updated = next(line for line in app.event_log.line_texts() if "session.updated" in line)
        assert updated.split()[1] == "–" and "+" not in updated.split("session.updated")[0], updated
        assert done.split()[1] != "–" and "+" not in done.split("response.done")[0], done
        last = next(frame for frame in app.journal if frame.type == "response.done")
        header = EventDetail(app.journal, app.links, [last.index], None).header(last)
        assert "Δt unknown (#2 has no time)" in header, header
