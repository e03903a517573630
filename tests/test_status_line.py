"""The status line renders the session facts; narrow lines shorten parts, then drop the least-read
facts first (never the counters before the target). And the footer's keys that go with it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from websockets.asyncio.client import connect

from tests.app_helpers import notices, views_settled, wait_for
from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Pipeline, SessionFacts
from tui.protocol import local_envelope
from tui.proxy_cmd import ProxyRequest
from tui.replay import ReplayRequest, load
from tui.widgets import StatusLine
from tui.widgets.key_footer import KeyFooter

SESSION = "sess_UN06T7Qy3Bg8f5g5MvgRc"
TARGET = "simulator · 127.0.0.1:41305"
DETAIL = "manual turns · transcribe: gpt-4o-transcribe"


def open_session() -> SessionFacts:
    facts = SessionFacts()
    session = {
        "id": SESSION,
        "type": "realtime",
        "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
    }
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "connecting", state="connecting", target=TARGET),
            local_envelope("rt.connection", "connected", state="open", target=TARGET),
            received("session.created", session=session),
            sent("session.update", session={"type": "realtime"}),
            received("session.updated", session=session),
        ]
    )
    return facts


class StatusApp(App[None]):
    def __init__(self, facts: SessionFacts) -> None:
        super().__init__()
        self.facts = facts

    def compose(self) -> ComposeResult:
        yield StatusLine(self.facts)


async def shown(facts: SessionFacts, width: int) -> str:
    app = StatusApp(facts)
    async with app.run_test(size=(width, 3)) as pilot:
        await pilot.pause()
        return str(app.query_one(StatusLine).render())


async def test_a_narrow_line_keeps_the_state_and_the_transcription_facts() -> None:
    facts = open_session()
    wide = await shown(facts, 200)
    assert TARGET in wide and SESSION in wide and DETAIL in wide and "● open" in wide and "▼2 ▲1" in wide
    narrow = await shown(facts, 110)  # the session id is shortened first
    assert DETAIL in narrow and SESSION not in narrow and "sess_UN06T7Qy…" in narrow
    tiny = await shown(facts, 78)  # 80 columns: the id gives way, and the target is cut to the room left
    assert DETAIL in tiny and "● open" in tiny and "▼2 ▲1" in tiny and SESSION[:5] not in tiny


async def test_a_narrow_line_still_says_whether_input_is_transcribed_and_that_an_update_was_refused() -> None:
    """With findings and a long state (a replay's position), at 80 columns: the state's short form,
    the findings, whether input is transcribed and the rejected update stay, and the counters
    (the model's name is cut shorter for them)."""
    facts = open_session()
    Pipeline(projections=[facts]).ingest(
        [
            sent("session.update", event_id="evt_9", session={"type": "realtime", "model": "nonsense"}),
            received("error", error={"type": "invalid_request_error", "message": "bad", "event_id": "evt_9"}),
        ]
    )
    app = StatusApp(facts)
    async with app.run_test(size=(80, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.findings_note = "✖1 ⚠2 (!)"
        line.state_override = "replay 00:03 / 00:28 ×1 · playing · skipped 19 s of silence"
        line.state_short = "replay 00:03/00:28 ×1"
        await pilot.pause()
        text = str(line.render())
    assert "● replay 00:03/00:28 ×1" in text and "✖1 ⚠2 (!)" in text and "manual turns" not in text, text
    assert "transcribe: gpt-… · update rejected" in text and "▼3 ▲2" in text, text


async def test_a_closed_session_says_why_and_no_longer_claims_its_configuration() -> None:
    facts = open_session()
    Pipeline(projections=[facts]).ingest(
        [local_envelope("rt.connection", "connection closed by server (code 1001: session expired)", state="closed")]
    )
    line = await shown(facts, 160)
    assert "● closed" in line and "code 1001: session expired" in line and "transcribe" not in line


async def test_a_failed_connection_keeps_its_reason() -> None:
    facts = SessionFacts()
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "connecting", state="connecting", target=TARGET),
            local_envelope("rt.connection", "server refused the session: invalid_api_key (close 3000)", state="failed"),
            local_envelope("rt.capture", "capture written"),
        ]
    )
    line = await shown(facts, 160)
    assert "● failed" in line and "invalid_api_key (close 3000)" in line


async def test_a_url_target_gives_way_to_its_host_and_port_before_the_session_id_goes() -> None:
    """A --url target's label is the whole URL (its query too): when the line is short of room,
    the host and port stand for it, and the session id and counters stay."""
    url = "ws://127.0.0.1:8799/v1/realtime?model=gpt-realtime&sim_drop_after=response.output_audio.delta%3A3"
    facts = open_session()
    facts.target = url
    line = await shown(facts, 160)
    assert url not in line and "127.0.0.1:8799  ● open" in line and "sess_UN06T7Qy" in line and "▼2 ▲1" in line
    wide = await shown(facts, 260)
    assert url in wide  # the whole URL when there is room for it


# -- in the app: the proxy's sessions, a timed replay, the footer's keys -----------------------

RECORDED_TARGET = "#1 127.0.0.1:41778 → simulator · 127.0.0.1:32951"
CAPTURE_FOLDER = "20261201-052058-94c5a0"


POSITION = re.compile(r"● replay 00:(00|5\d) ?/ ?01:00")
"""The timed replay's position in the status line, before its last frame (a minute in)."""


def timed_capture(tmp_path: Path) -> Path:
    """A capture of a proxied session (its target a connection's long label) that stays playing:
    its last frame comes a minute after the session is configured."""
    session = {
        "id": SESSION,
        "type": "realtime",
        "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
    }
    rows: list[dict[str, Any]] = [
        {"dir": "local", "t": 0.0, "info": {"type": "rt.connection", "state": "connecting", "target": RECORDED_TARGET}},
        {"dir": "local", "t": 0.01, "info": {"type": "rt.connection", "state": "open", "target": RECORDED_TARGET}},
        {"dir": "in", "t": 0.02, "frame": {"type": "session.created", "session": session}},
        {"dir": "out", "t": 0.03, "frame": {"type": "session.update", "session": {"type": "realtime"}}},
        {"dir": "in", "t": 0.04, "frame": {"type": "session.updated", "session": session}},
        {"dir": "in", "t": 60.0, "frame": {"type": "vendor.later"}},
    ]
    for seq, row in enumerate(rows, 1):
        payload = row.get("frame") or row["info"]
        row.update(seq=seq, wall=1_796_102_458 + row["t"], type=payload["type"], size=len(json.dumps(payload)))
    folder = tmp_path / CAPTURE_FOLDER
    folder.mkdir()
    path = folder / "frames.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def status_text(app: RtApp) -> str:
    return str(app.status_line.render())


def footer_text(app: RtApp) -> str:
    return str(app.query_one(KeyFooter).render())


async def test_a_timed_replay_names_its_file_and_counts_its_frames(tmp_path: Path) -> None:
    """Not the target the recording names (where it was recorded) but the file replayed, and the
    counters, as a live session's line has them; at 80 columns the counters and whether input is
    transcribed stay."""
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(timed_capture(tmp_path)), speed=1.0))
    async with app.run_test(size=(120, 32)) as pilot:
        player = app.player
        assert player is not None
        await wait_for(pilot, lambda: player.position == 5, 10, "the frames before the minute's wait")
        await views_settled(pilot, app)
        line = status_text(app)
        # The position moves on while the minute's wait (shortened to MAX_GAP) plays: 00:00, or 00:55
        # with the skipped silence said, once the line's half-second tick has run since the skip.
        assert line.startswith(CAPTURE_FOLDER) and POSITION.search(line) and "▼2 ▲1" in line, line
        assert "transcribe: gpt-4o-transcribe" in line and "127.0.0.1:41778" not in line, line
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.status_line.content_size.width == 78, 5, "the narrow line")
        narrow = status_text(app)
        assert POSITION.search(narrow) and "▼2 ▲1" in narrow and "transcribe: gpt-4o-transcribe" in narrow, narrow
        await pilot.press("p")
        await wait_for(pilot, lambda: player.paused, 5, "the pause")
        # Resume is a letter longer than Pause: a key to its right gives way, never Quit.
        assert "p Resume" in footer_text(app) and "q Quit" in footer_text(app), footer_text(app)


async def test_two_proxied_sessions_keep_their_counters_and_offer_both_session_keys(simulator_url: str) -> None:
    """With two sessions the proxy's state names which one is shown: the line shortens it and the
    connection's label before the counters go, and at 80 columns whether input is transcribed
    stays. The footer offers `<` beside `>` (as one `< > Session` entry) and still Quit."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        assert "Session" not in footer_text(app)  # one session (none yet): nothing to switch to
        url = app.proxy_url + "?model=gpt-realtime"
        update = {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
            },
        }
        async with connect(url) as first, connect(url) as second:
            for client in (first, second):
                await client.recv()
                await client.send(json.dumps(update))
            await wait_for(pilot, lambda: len(app.models) == 2, 10, "two sessions")
            configured = lambda: all(model.facts.transcription_model for model in app.models)  # noqa: E731
            await wait_for(pilot, configured, 10, "both sessions' transcription")
            await views_settled(pilot, app)
            facts = app.facts
            counters = f"▼{facts.frames_in:,} ▲{facts.frames_out:,}"
            line = status_text(app)
            assert "session 1/2" in line and counters in line and "transcribe: gpt-4o-transcribe" in line, line
            assert "< > Session" in footer_text(app) and "q Quit" in footer_text(app), footer_text(app)
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: app.status_line.content_size.width == 78, 5, "the narrow line")
            narrow = status_text(app)
            assert "session 1/2" in narrow and counters in narrow and "transcribe: gpt-4o-transcribe" in narrow, narrow
            assert "< > Session" in footer_text(app) and "q Quit" in footer_text(app), footer_text(app)
            await pilot.press("less_than_sign")
            await views_settled(pilot, app)
            assert "session 2/2" in status_text(app)


async def test_after_a_clear_the_footer_offers_no_key_that_needs_a_frame() -> None:
    """ctrl+l leaves the log empty: Open, Cause and Its transcript row have no frame to act on, so
    the footer leaves them out (and they do nothing) until a frame is shown again."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(160, 30)) as pilot:
        app.ingest_for_display([received("session.created", session={"id": SESSION})])
        await pilot.pause()
        assert "⏎ Open" in footer_text(app) and "c Cause ↔ error" in footer_text(app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        shown = footer_text(app)
        assert "Open" not in shown and "Cause" not in shown and "transcript row" not in shown, shown
        assert "q Quit" in shown
        await pilot.press("enter", "c")  # nothing to open, no notice to raise
        await pilot.pause()
        assert len(app.screen_stack) == 1 and not notices(app)
        app.ingest_for_display([received("session.updated", session={"id": SESSION})])
        await pilot.pause()
        assert "⏎ Open" in footer_text(app) and "c Cause ↔ error" in footer_text(app)


async def test_while_following_the_frame_keys_are_dimmed_until_a_line_is_selected() -> None:
    """Following the stream, nothing is selected: Open, Cause and Its transcript row would do nothing,
    and said nothing about why. They show dimmed (disabled) until ↑ selects a line, and again at End."""
    from tui.widgets import EventLog

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(160, 30)) as pilot:
        app.ingest_for_display([received("session.created", session={"id": SESSION})])
        await pilot.pause()
        log = app.query_one(EventLog)

        def enabled(action: str) -> bool:
            return any(
                active.enabled
                for active in app.screen.active_bindings.values()
                if active.node is log and active.binding.action == action
            )

        assert log.tail and not any(enabled(action) for action in ("enter", "cause", "transcript"))
        await pilot.press("up")
        await pilot.pause()
        assert log.selected is not None and enabled("enter")
        # session.created has no cause and names no item: c and o stay dimmed on it (pressed, they say so).
        assert not enabled("cause") and not enabled("transcript")
        await pilot.press("end")
        await pilot.pause()
        assert log.tail and not enabled("enter")


async def test_the_panes_offer_no_sideways_scrolling_keys_that_would_do_nothing() -> None:
    """Their lines are cut to their width: the keys panel listed ctrl+pgup "Page Left" and ctrl+pgdn
    "Page Right" for the log (and ←/→ "Scroll Left/Right" for the transcript), which did nothing.
    Paging up and down stays."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest_for_display([received("session.created", session={"id": SESSION})])
        for pane in (app.event_log, app.transcript):
            pane.focus()
            await pilot.pause()
            actions = {active.binding.action for active in app.screen.active_bindings.values() if active.node is pane}
            assert not actions & {"page_left", "page_right", "scroll_left", "scroll_right"}, (pane, actions)
            assert {"ctrl+pageup", "ctrl+pagedown"}.isdisjoint(
                key for key, active in app.screen.active_bindings.items() if active.node is pane
            )
            assert "pageup" in app.screen.active_bindings and "pagedown" in app.screen.active_bindings


@pytest.mark.parametrize(
    ("width", "shown"),
    [(126, "20261205-173202-ed8492"), (113, "…173202-ed8492"), (88, None)],
)
async def test_a_replayed_session_folder_keeps_its_time_before_its_date(width: int, shown: str | None) -> None:
    """A replay's line cut the folder's name in its middle, `20261205-…809-256d81`: the date kept,
    the time that tells one day's sessions apart cut. The date goes first."""
    app = StatusApp(open_session())
    async with app.run_test(size=(width, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.source = "20261205-173202-ed8492"
        line.state_override = line.state_short = "replay 00:46/00:46 · done · r: again ×2"
        line.refresh()
        await pilot.pause()
        text = str(line.render())
    if shown is None:  # too narrow for a name: the line's other facts keep the room
        assert "20261205" not in text and text.startswith("● replay"), text
    else:
        assert text.startswith(shown), text


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (140, "20261205-173202-ed8492 (2 of 3)"),
        (112, "…173202-ed8492 (2 of 3)"),
        (102, "file 2 of 3"),
        (80, "file 2 of 3"),
        (60, None),
    ],
)
async def test_one_of_several_replayed_files_is_told_by_its_number_when_its_name_has_no_room(
    width: int, shown: str | None
) -> None:
    """Of several files replayed, a narrow line left the playing file out: nothing said which of
    them played. Its number stays where its name has no room."""
    app = StatusApp(open_session())
    async with app.run_test(size=(width, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.source, line.source_short = "20261205-173202-ed8492 (2 of 3)", "file 2 of 3"
        line.state_override = line.state_short = "replay 00:46/01:16 at once"
        line.refresh()
        await pilot.pause()
        text = str(line.render())
    if shown is None:
        assert text.startswith("● replay"), text
    else:
        assert text.startswith(f"{shown}  ● replay"), text


async def finished_replay_line(facts: SessionFacts, width: int, findings: str) -> str:
    """The line of a finished replay at once, showing the second of three files, third connection."""
    app = StatusApp(facts)
    async with app.run_test(size=(width, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.source, line.source_short = "20261205-173202-ed8492 (2 of 3)", "file 2 of 3"
        line.state_override = "replay 01:51 / 01:51 · done · r plays it again at once"
        line.state_short = "replay 01:51/01:51 · done · r: again at once"
        line.connection, line.findings_note = 3, findings
        line.refresh()
        await pilot.pause()
        return str(line.render())


async def test_a_finished_replay_of_several_names_its_file_before_the_counters() -> None:
    """At 100 columns a finished replay of three files named none of them: the counters (of the
    latest connection alone) outlived the file. The file's number now outlives them."""
    text = await finished_replay_line(open_session(), 100, "⚠1 (!)")
    assert text.startswith("file 2 of 3  ● replay 01:51/01:51 · done") and "conn 3" not in text, text
    assert "transcribe: gpt-4o-transcribe" in text, text


async def test_one_of_several_replayed_files_outlives_the_counters_beside_a_long_reason() -> None:
    """At 160 columns, beside a dropped connection's long reason, a finished replay of three files
    left the file out and kept the counters: the shape without counters came after those without
    a target."""
    facts = open_session()
    facts.state, facts.reason = "closed", "connection dropped: no close frame from the server (code 1006)"
    facts.frames_in, facts.frames_out = 1200, 300
    text = await finished_replay_line(facts, 160, "⚠1 · earlier ✖1 (!)")
    assert text.startswith(("…173202-ed8492 (2 of 3)  ● replay", "file 2 of 3  ● replay")), text
    assert "▼1,200" not in text and "connection dropped" in text, text


async def test_after_ctrl_r_at_80_columns_the_turn_mode_stays_and_the_target_keeps_its_first_word() -> None:
    """After a reconnect the counters name their connection (`conn 2 ▼2 ▲1`), which left 10 cells for
    the target: fewer than a cut target keeps, so the next shape dropped `manual turns` instead,
    as if the turn mode had changed. `simulator`, a whole word, fits in them."""
    app = StatusApp(open_session())
    async with app.run_test(size=(80, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.connection = 2
        line.refresh()
        await pilot.pause()
        text = str(line.render())
    assert text == f"simulator  ● open  conn 2 ▼2 ▲1  {DETAIL}", text


async def test_a_long_close_reason_is_cut_before_the_counters_go() -> None:
    """A proxied connection that dropped showed `● proxy · session 2/2 ✖1 (!) dropped the client
    without a close frame (1006): the upstream vani…` with no ▼/▲ counts (review 54b): the reason is
    cut to the room the counters leave."""
    facts = open_session()
    reason = (
        "dropped the client without a close frame (1006): the upstream vanished mid-reply and the relay could not "
        "tell the client why"
    )
    Pipeline(projections=[facts]).ingest([local_envelope("rt.connection", reason, state="closed", code=1006)])
    line = await shown(facts, 80)
    assert "● closed" in line and "▼2 ▲1" in line, line
    assert "dropped the client" in line and len(line) <= 78


async def lines_at(facts: SessionFacts, width: int, **settings: str) -> str:
    """The line drawn at `width` columns, with the app's own `settings` of it (state_override, source)."""
    app = StatusApp(facts)
    async with app.run_test(size=(width, 3)) as pilot:
        line = app.query_one(StatusLine)
        for name, value in settings.items():
            setattr(line, name, value)
        line.refresh()
        await pilot.pause()
        return line.render_line(0).text.strip()


async def test_a_proxied_connection_closed_with_a_long_reason_still_says_which_connection_it_was() -> None:
    """`● proxy · session 3/3  ▼26 ▲3  client closed with 4000: the client is shuttin…` named no
    connection: with three in the proxy, which one closed was left to guess (review 55b)."""
    facts = SessionFacts()
    label = "#3 127.0.0.1:53328 → simulator · gpt-realtime"
    reason = "client closed with 4000: the client is shutting down because its user asked it to stop now"
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "relaying", state="open", target=label),
            received("session.created", session={"id": SESSION, "type": "realtime"}),
            local_envelope("rt.connection", reason, state="closed", code=4000, target=label),
        ]
    )
    state = {"state_override": "proxy on 127.0.0.1:18766 · session 3/3 (< >)", "state_short": "proxy · session 3/3"}
    for width in (80, 100):
        text = await lines_at(facts, width, **state)
        assert text.startswith("#3 127.0.0.1:53328  ● proxy · session 3/3  ▼1 ▲0  client closed with 4000: "), text
        assert text.endswith("…"), text


async def test_a_finished_replay_keeps_its_file_beside_a_long_close_reason() -> None:
    """A replay, once done, lost its file's name to the close reason (review 55b). At 80 columns
    the state's short form leaves room for one of them: the reason, a fact, goes before the name."""
    facts = SessionFacts()
    reason = "connection closed by server (code 1000): the session ended because the client asked it to"
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "connected", state="open", target=TARGET),
            received("session.created", session={"id": SESSION, "type": "realtime"}),
            local_envelope("rt.connection", reason, state="closed", code=1000, target=TARGET),
        ]
    )
    settings = {
        "state_override": "replay 00:04/00:04 · done · r: again ×1",
        "state_short": "replay 00:04/00:04 · done · r: again ×1",
        "source": "20261207-000418-bf0e7f",
    }
    text = await lines_at(facts, 100, **settings)
    assert text.startswith("20261207-000418-bf0e7f  ● replay 00:04/00:04 · done · r: again ×1  ▼1 ▲0  connection c"), (
        text
    )
    assert text.endswith("…"), text


async def test_a_live_session_s_close_reason_keeps_its_room_over_the_target() -> None:
    """A live session's target is the one the user chose: its close reason is what is read."""
    facts = SessionFacts()
    reason = "cannot reach simulator · 127.0.0.1:41305: connection refused: is the server running?"
    Pipeline(projections=[facts]).ingest([local_envelope("rt.connection", reason, state="failed", target=TARGET)])
    retrying = {"state_override": "reconnecting in 10 s (attempt 3)", "state_short": "reconnecting"}
    text = await lines_at(facts, 120, **retrying)
    assert "● reconnecting" in text and text.endswith(reason), text
    text = await lines_at(facts, 100, **retrying)  # one sentence, cut at its end: not `cannot reach simulator`
    assert (
        text.startswith("● reconnecting  ▼0 ▲0  cannot reach simulator · 127.0.0.1:41305: connection") and "…" in text
    )


def test_a_reason_is_never_cut_inside_a_number() -> None:
    """`client closed with 40…` read as another close code than 4000 (review 55e), as
    `127.0.0.1:345…` read as another port: a number goes whole, a word of letters may be cut."""
    from tui.widgets.text_cut import end_cut as _end_cut

    reason = "client closed with 4000: the client is shutting down"
    assert _end_cut(reason, 22) == "client closed with…"
    assert _end_cut(reason, 24) == "client closed with 4000…"
    assert _end_cut("cannot reach 127.0.0.1:41305: refused", 22) == "cannot reach…"
    assert _end_cut("transcribe: gpt-4o-mini-transcribe", 20) == "transcribe: gpt-4o-…"
