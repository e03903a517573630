"""The replay's status clock, its skipped silences, and its keys once it is over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load
from tui.replay import player as player_module
from tui.widgets.key_footer import KeyFooter

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"


class FakeTime:
    """The player's `time` module: a monotonic clock the test moves by hand (no sleeping through
    the recording's silence)."""

    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now


def frames_with_a_silence(path: Path, seconds: float) -> Path:
    """A capture of three frames: 4 s apart (waited in full), then `seconds` apart."""
    times = [0.0, 4.0, 4.0 + seconds]
    rows = [
        {
            "seq": n,
            "dir": "in",
            "t": t,
            "wall": 1_764_000_000 + t,  # a time of day: a capture whose lines have none shows lines, not a clock
            "type": "vendor.x",
            "size": 20,
            "raw": f'{{"type":"vendor.x","n":{n}}}',
        }
        for n, t in enumerate(times, 1)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def real_time_replay(path: Path) -> RtApp:
    """The app replaying the capture at `path` at the recorded pace."""
    return RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(path), speed=1.0))


async def test_the_status_clock_moves_during_a_silence_and_says_what_was_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTime()
    monkeypatch.setattr(player_module, "time", fake)
    app = real_time_replay(frames_with_a_silence(tmp_path / "frames.jsonl", 24.0))
    async with app.run_test(size=(140, 40)) as pilot:
        player = app.player
        assert player is not None
        await wait_for(pilot, lambda: player.position == 1, 5, "the first frame")
        fake.now += 3
        app._show_replay_position()
        assert app.status_line.state_override == "replay 00:03 / 00:28 ×1 · playing"  # not stuck at 00:00
        fake.now += 1
        player.speed = 1.0  # the same speed: only wakes the player's (real) timer, to see the frame is due
        await wait_for(pilot, lambda: player.position == 2, 5, "the second frame")
        # Waiting for the third: 24 s of silence, played as 5.
        app._show_replay_position()
        assert app.status_line.state_override == "replay 00:23 / 00:28 ×1 · playing · skipped 19 s of silence"
        assert app.status_line.state_short == "replay 00:23/00:28 ×1 · 19 s skipped"  # narrow lines say it too
        fake.now += 2
        app._show_replay_position()
        assert app.status_line.state_override.startswith("replay 00:25 / 00:28")


async def test_a_finished_replay_offers_no_pause_and_its_speed_is_the_next_play_s() -> None:
    """Over, a replay has nothing to pause; ] and [ stay: they set the pace `r` plays it again at
    (they went with p, and a replay played at once could not be watched again at real time)."""
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR), speed=64.0))
    async with app.run_test(size=(140, 40)) as pilot:
        player = app.player
        assert player is not None
        await wait_for(pilot, player.done.is_set, 10, "the replay")
        await pilot.pause()

        def footer() -> str:
            return str(app.query_one(KeyFooter).render())

        assert "Pause" not in footer() and "Resume" not in footer() and "[ ] Speed" in footer()
        await pilot.press("p")
        await pilot.pause()
        assert not player.paused and "⏸" not in app.status_line.state_override
        assert app.status_line.state_override.endswith("· done · r plays it again ×64")
        assert app.status_line.state_short.endswith(" · done · r: again ×64")  # a narrow line says it too
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert [title for title in titles if title.startswith("replay:")] == [
            "replay: faster",
            "replay: slower",
            "replay: restart",
        ]
        assert "Restart" in footer()
        for _ in range(6):
            await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.status_line.state_override.endswith("· done · r plays it again ×1"), app.status_line.state_override
        await pilot.press("r")
        await wait_for(pilot, lambda: app.player is not player, 5, "the new play")
        again = app.player
        assert again is not None and again.speed == 1.0
        assert "×1 · playing" in app.status_line.state_override or again.done.is_set()


async def test_r_plays_the_recording_again_into_fresh_views_and_a_publishes_the_rest_at_once(tmp_path: Path) -> None:
    """A replay at real time: `a` ends the wait on a long silence by publishing the rest; `r` then
    starts over from the first frame, with a journal, log and conversation as empty as at the start."""
    app = real_time_replay(frames_with_a_silence(tmp_path / "frames.jsonl", 600.0))
    async with app.run_test(size=(140, 40)) as pilot:
        first = app.player
        assert first is not None
        await wait_for(pilot, lambda: first.position == 1, 5, "the first frame")
        await pilot.press("a")  # the second frame is 4 s away, the third ten minutes
        await wait_for(pilot, first.done.is_set, 5, "the rest of the replay, at once")
        await views_settled(pilot, app)
        assert len(app.journal) == 3 and app.event_log.view.shown == 3
        # The pace `r` plays at: `a` was for this play only (it read `at once`, and `r` played at ×1).
        assert app.status_line.state_override.endswith("· done · r plays it again ×1")
        assert app.status_line.state_short.endswith("· done · r: again ×1")
        old_journal = app.journal

        await pilot.press("r")
        second = app.player
        # At the pace asked for: `a` played the rest at once that time only.
        assert second is not None and second is not first and second.speed == 1.0
        await wait_for(pilot, lambda: second.position == 1, 5, "the first frame again")
        await pilot.press("a")
        await wait_for(pilot, second.done.is_set, 5, "the second play")
        await views_settled(pilot, app)
        assert app.journal is not old_journal and len(old_journal) == 3
        assert [frame.seq for frame in app.journal] == [1, 2, 3]  # each frame once: none of the first play's
        assert app.models == [app.model] and "Restart" in str(app.query_one(KeyFooter).render())


async def test_r_plays_the_findings_notices_again_as_the_first_play_had_them(tmp_path: Path) -> None:
    """A session's first error findings each get a notice (`!` lists them all): the count went on
    across plays, and after `r` the second play toasted none of what the first had."""
    from tests.app_helpers import notices

    path = tmp_path / "errors.jsonl"
    events = [{"type": "session.created", "session": {"id": "sess_1", "type": "realtime"}}] + [
        {"type": "error", "event_id": f"event_{n}", "error": {"type": "invalid_request_error", "code": f"oops_{n}"}}
        for n in range(3)
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(path)))
    async with app.run_test(size=(140, 40)) as pilot:
        plays: list[list[tuple[str, str]]] = []
        for _ in range(2):
            player = app.player
            assert player is not None
            await wait_for(pilot, player.done.is_set, 10, "the play")
            await views_settled(pilot, app)
            plays.append(sorted(notice for notice in notices(app) if notice[0] != "Replay"))
            await pilot.press("r")
        first, second = plays
        assert any(title.startswith("Lint: server-error") or "Lint: server-error" in text for title, text in first)
        assert second == first, (first, second)


async def test_r_at_once_says_it_played_again_where_the_screen_ends_as_it_was() -> None:
    """At once (the default), a replay played again ends on the screen it ended on before: nothing
    showed that `r` did anything. A notice says it, and how to set a pace."""
    from tests.app_helpers import notices

    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(HAR)))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        first = app.player
        assert first is not None
        await wait_for(pilot, first.done.is_set, 10, "the play")
        assert not [text for title, text in notices(app) if title == "Replay"]
        await pilot.press("r")
        second = app.player
        assert second is not None and second is not first
        await wait_for(pilot, second.done.is_set, 10, "the second play")
        frames = len(load(HAR).envelopes)
        assert [text for title, text in notices(app) if title == "Replay"] == [
            f"played again from its first frame: {frames:,} frames at once (] and [ set a pace)"
        ]
