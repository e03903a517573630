"""The event-log pane on its own: times per connection, collapsed runs, tail mode, the ring."""

from __future__ import annotations

import itertools
import json
from typing import Any

from textual.app import App, ComposeResult

from tui.protocol import Direction, Envelope
from tui.widgets import EventLog
from tui.widgets.event_log import MAX_ROWS

_seq = itertools.count(1)


def env(event_type: str, mono: float, direction: Direction = Direction.IN, **data: Any) -> Envelope:
    payload = {"type": event_type, **data}
    return Envelope(next(_seq), direction, event_type, payload, json.dumps(payload), mono=mono)


def connecting(mono: float) -> Envelope:
    return env("rt.connection", mono, Direction.LOCAL, state="connecting", message="connecting")


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog()


def shown(log: EventLog) -> list[str]:
    """The rows as drawn on screen (the Line API's own rendering), trailing blanks dropped."""
    return [log.render_line(y).text.rstrip() for y in range(min(len(log.rows), log.size.height))]


async def test_times_count_from_each_connect() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(EventLog)
        log.extend(
            [
                env("rt.capture", 99.0, Direction.LOCAL, message="capturing"),
                connecting(100.0),
                env("session.created", 100.25, session={"id": "sess_1"}),
                env("rt.reconnect", 150.0, Direction.LOCAL, message="reconnecting"),
                env("rt.capture", 150.5, Direction.LOCAL, message="capturing"),
                connecting(160.0),
                env("session.created", 161.5, session={"id": "sess_2"}),
            ]
        )
        await pilot.pause()
        rows = shown(log)
    times = [row.split()[1] for row in rows]
    # The second session counts from its own connect, not from the first one's.
    assert times == ["00:00.000", "00:00.000", "00:00.250", "00:00.000", "00:00.500", "00:00.000", "00:01.500"], rows


async def test_runs_of_one_delta_type_collapse_and_a_new_type_or_direction_breaks_them() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(EventLog)
        audio = "AAAA" * 1200
        log.extend([connecting(0.0)])
        log.extend([env("input_audio_buffer.append", 1 + i / 50, Direction.OUT, audio=audio) for i in range(30)])
        log.extend([env("input_audio_buffer.commit", 2.0, Direction.OUT)])
        log.extend([env("response.output_audio.delta", 3 + i / 50, delta=audio, item_id="item_1") for i in range(4)])
        log.extend([env("conversation.item.sparkles", 4.0, level=3)])
        await pilot.pause()
        texts = log.row_texts()
        drawn = shown(log)
    assert [row.split(" ")[1:3] for row in texts[1:]] == [
        ["input_audio_buffer.append", "×30"],
        ["input_audio_buffer.commit", ""],
        ["response.output_audio.delta", "×4"],
        ["conversation.item.sparkles", "(unknown"],
    ]
    assert log.total == 37
    # Payloads are tags, never base64: the row says how much audio, not what it is.
    assert "[audio 3.5 KB · 75 ms]" in drawn[1] and audio[:16] not in drawn[1]
    assert "(unknown type)" in drawn[4]


async def test_scrolling_up_stops_following_and_counts_what_arrives_meanwhile() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 12)) as pilot:
        log = app.query_one(EventLog)
        log.extend([env("response.output_text.delta", i, delta=f"w{i}") for i in range(3)])
        log.extend([env("rt.note", 10 + i, Direction.LOCAL, message=f"n{i}") for i in range(30)])
        await pilot.pause()
        log.focus()
        await pilot.press("up")
        assert log.tail is False
        log.extend([env("rt.note", 50 + i, Direction.LOCAL, message=f"late{i}") for i in range(5)])
        await pilot.pause()
        assert log.unseen == 5 and "+5 new" in str(log.border_subtitle)
        await pilot.press("end")
        await pilot.pause()
        assert log.tail is True and log.unseen == 0 and "new" not in str(log.border_subtitle)
        assert "late4" in shown(log)[-1]


async def test_the_ring_forgets_the_oldest_rows_and_says_how_many() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 12)) as pilot:
        log = app.query_one(EventLog)
        log.extend([env("rt.note", float(i), Direction.LOCAL, message=f"n{i}") for i in range(MAX_ROWS + 10)])
        await pilot.pause()
        assert len(log.rows) == MAX_ROWS and log.forgotten == 10 and log.total == MAX_ROWS + 10
        assert "10 rows forgotten (in capture file)" in str(log.border_subtitle)
        assert log.rows[0].first.data["message"] == "n10"
