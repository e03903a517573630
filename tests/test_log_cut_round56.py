"""The log's summary is cut where a reader can trust what is left (review 56a, a 50,799-frame replay):
a number the pane's edge cut in two read as another (`over 38…` for 380ms, `500.…`); a failed
response's code was cut beside blank cells (`failed: rate_li…`) and at 100 columns its link to the
`response.create` that began it went; a transcription run's label was cut mid-word."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.app_helpers import replay_shown
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load
from tui.widgets import EventLog
from tui.widgets.log_format import abbreviate_type
from tui.widgets.text_cut import end_cut


@pytest.mark.parametrize(
    ("text", "cells", "cut"),
    [
        ("[audio 46.9 KB · 1.00 s] · over 380ms", 35, "[audio 46.9 KB · 1.00 s] · over…"),
        ("[audio 23437.5 KB · 500.00 s] · over 2s", 25, "[audio 23437.5 KB ·…"),
        ("failed ← #7174 · message", 12, "failed ←…"),
        ("append ×2000 more", 10, "append…"),
        ("response_cancel_not_active", 12, "response_ca…"),  # a word of letters may be cut
        ("380ms over", 4, "380…"),  # the first word: cut all the same, or nothing would show
        ("whole", 5, "whole"),
        # Between two digits of a longer word (an address, a quoted number): the word goes (review 56e).
        ("connection refused by ws://127.0.0.1:9: is it running", 29, "connection refused by…"),
        ('You said: "hello 1234567890123456789 there', 32, 'You said: "hello…'),
        # A count after ` · ` whose unit was cut: `· 1…` read as a number cut short.
        ("completed · 1 item · resp_0000", 14, "completed ·…"),
        ("completed · 1 item · resp_0000", 15, "completed ·…"),
        ("completed · 1 item · resp_0000", 18, "completed · 1 ite…"),
        # A number the words before it name stays (review 57d): the close code, the HTTP status.
        ("connection closed by server (code 1011 internal error)", 40, "connection closed by server (code 1011 …"),
        ("client closed with 1006 abnormal closure", 24, "client closed with 1006…"),
        ("status 429 Too Many Requests", 12, "status 429 …"),
    ],
)
def test_a_cut_never_falls_inside_a_number(text: str, cells: int, cut: str) -> None:
    assert end_cut(text, cells) == cut


def test_a_transcription_run_label_shortens_its_name_before_cutting_it() -> None:
    assert abbreviate_type("transcription deltas ×11", 21) == "transcr. deltas ×11"
    assert abbreviate_type("transcription deltas ×11", 14) == "transcr. ×11"
    assert abbreviate_type("response deltas ×160", 16) == "resp. ×160"
    assert abbreviate_type("response deltas ×160", 30) == "response deltas ×160"


def _events(tmp_path: Path) -> Path:
    audio = base64.b64encode(bytes(9600)).decode()  # 200 ms of 24 kHz PCM16
    events: list[dict[str, object]] = [{"type": "session.created", "session": {"type": "realtime", "id": "sess_1"}}]
    events += [{"type": "input_audio_buffer.append", "audio": audio, "time_ms": 40 * i} for i in range(10)]
    events += [
        {"type": "response.create", "event_id": "evt_create_1"},
        {"type": "response.created", "response": {"id": "resp_f", "status": "in_progress", "output": []}},
        {
            "type": "response.done",
            "response": {
                "id": "resp_f",
                "object": "realtime.response",
                "status": "failed",
                "status_details": {
                    "type": "failed",
                    "error": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": "Slow down"},
                },
                "output": [],
            },
        },
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


@pytest.mark.parametrize("size", [(100, 30), (160, 48)])
async def test_a_failed_reply_keeps_its_code_and_cause_and_numbers_stay_whole(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(_events(tmp_path))))
    async with app.run_test(size=size) as pilot:
        await replay_shown(pilot, app)
        log = app.query_one(EventLog)
        lines = ["".join(s.text for s in line) for line in log.render_lines(log.region.reset_offset)]
        [failed] = [line for line in lines if "response.done ✖" in line]
        create = next(frame for frame in app.journal if frame.type == "response.create")
        assert f"← #{create.seq}" in failed or f"← r.create #{create.seq}" in failed, failed
        # The code before the link: whole where the type's and size's blank cells are lent to it.
        assert ("rate_limit_exceeded" if size[0] >= 160 else "failed: rate_limit_exc") in failed, failed
        assert not [line for line in lines if re.search(r"\d…", line)], lines  # no number cut in two


async def test_the_empty_pane_s_count_follows_frames_that_do_not_match() -> None:
    """While a replay played on, the bar and the title said `0 of 2,753 frames` and the empty pane
    still said `No frame matches the filter, of 619 frames` (review 56a): only the title was redrawn."""
    from tests.journal_helpers import received
    from tests.test_event_log import BorderedLogApp, six_frames_none_of_them_errors

    app = BorderedLogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log = await six_frames_none_of_them_errors(app, pilot)
        assert "of 6 frames: f changes it" in _painted(log)
        app.feed([received("response.created", response={"id": f"r{n}"}) for n in range(60)])
        await pilot.pause()
        assert "of 66 frames: f changes it" in _painted(log), _painted(log)


def _painted(log: EventLog) -> str:
    """The pane's lines as Textual paints them: from its cache of lines, redrawn only where refreshed."""
    return "\n".join("".join(s.text for s in line) for line in log.render_lines(log.region.reset_offset))


async def test_a_family_toggled_twice_leaves_the_filter_bar_open_and_typed_in() -> None:
    """`f`, a click on `input`, a second click on it, then typing: the second toggle left no filter,
    which closed the bar, so `-` and `f` went to the log and the bar read `amily:input` (review 56a)."""
    from tests.journal_helpers import received
    from tui.widgets.query_bar import FamilyToggles

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.ingest_for_display([received("session.created", session={"id": "s"}) for _ in range(5)])
        await pilot.pause()
        await pilot.press("f")
        at = len(FamilyToggles.PREFIX) + 1 + len("session ")  # the `input` label, past the line's padding
        for _ in range(2):
            await pilot.click(FamilyToggles, offset=(at, 0))
            await pilot.pause()
        assert app.filter_bar.display and not app.filter_bar.hidden_families
        await pilot.press("ctrl+u", *"-family:input")
        assert app.filter_bar.input.value == "-family:input"


async def test_the_recorder_line_never_ends_inside_a_number() -> None:
    """The recorder's note was cut at the line's end whatever it held (`PortAudio sees 0 d…`)."""
    from textual.geometry import Region

    from tests.test_mic_check import recorder_saying
    from tui.widgets import RecorderState

    said = "not sent: recording cut off at 12.75 s, 306,000 bytes (the connection ended)"
    async with recorder_saying(RecorderState.IDLE, said, 120) as (pilot, recorder):
        ends = set()
        for width in range(60, 120):
            await pilot.resize_terminal(width, 3)
            await pilot.pause()
            line = recorder.render_lines(Region(0, 0, width, 1))[0].text.rstrip()
            cut = re.search(r"(\d[\d.,]*)…$", line)
            assert cut is None or cut.group(1).rstrip(",.") in ("12.75", "306,000"), line  # whole, or left out
            ends.add(line[-1])
        assert "…" in ends and ")" in ends  # cut at some widths, whole at others
