"""Round 23 (journal, links, transcript, log): findings of review 23c, each against the real
simulator or real journal frames."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app_helpers import (
    items,
    notices,
    painted_text,
    press_voice,
    replay_shown,
    session_ready,
    typed_turn_done,
    views_settled,
    wait_for,
)
from tests.journal_helpers import Clock, audio_b64, connecting, received, sent
from tests.server_helpers import speech_pcm24
from tests.test_event_log import LogApp, drawn
from tests.test_voice_turns import QUESTION, appends, speech_streamed, voice_app
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Links, Pipeline
from tui.protocol import Direction, Envelope, local_envelope
from tui.replay import ReplayRequest, load
from tui.widgets import EventLog, Transcript
from tui.widgets.transcript import session_rule


# A second's latency: the turn's first appends must go out before the server's `cleared` comes back,
# and 300 ms was a window a loaded machine's microphone thread could miss.
@pytest.mark.parametrize("latency", ["", "&sim_latency_ms=1000"])
async def test_a_turns_frames_hold_every_append_sent_after_its_clear(
    tmp_path: Path, simulator_url: str, latency: str
) -> None:
    """The appends sent between our `clear` and the server's `cleared` are the turn's start: the
    server cleared before they reached it (it answers in order), so `o` on the row shows them."""
    async with voice_app(tmp_path, simulator_url + latency) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: speech_streamed(app, 100), 15, "two seconds of the turn sent")
        await press_voice(pilot, "space")
        await wait_for(
            pilot,
            lambda: any(item.text or item.error for item in items(app, "user")),
            30,
            f"the transcript: {items(app, 'user')}",
        )
        journal = app.journal
        sent = [i for i, frame in enumerate(journal) if frame.direction is Direction.OUT]
        clear = max(i for i in sent if journal[i].type == "input_audio_buffer.clear")
        commit = max(i for i in sent if journal[i].type == "input_audio_buffer.commit")
        turn = [i for i in sent if clear < i < commit and journal[i].type == "input_audio_buffer.append"]
        cleared = next(i for i, frame in enumerate(journal) if frame.type == "input_audio_buffer.cleared")
        if latency:  # a slow server's `cleared` comes after a part of the turn was sent
            assert any(i < cleared for i in turn), "no append was sent before the server's cleared"
        (user,) = items(app, "user")
        made = app.model.links.made[user.id]
        missing = [i for i in turn if i not in made]
        assert not missing, f"{len(missing)} of the turn's {len(turn)} appends are not among its frames"


def made_of(envs: list[Envelope], item_id: str) -> list[str]:
    """The types of the frames `Links` says made `item_id`, after taking `envs` in order."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    return [pipeline.journal[i].raw or "" for i in links.made.get(item_id, [])]


def append(n: int) -> Envelope:
    return sent("input_audio_buffer.append", audio=audio_b64(20), event_id=f"append_{n}")


def test_a_cleared_the_client_did_not_ask_for_drops_the_buffer() -> None:
    """A server that clears on its own (no clear of ours waits for its answer) emptied the buffer:
    the appends before it made no item; those after it did."""
    envs = [connecting(), append(1), received("input_audio_buffer.cleared"), append(2)]
    envs += [sent("input_audio_buffer.commit"), received("input_audio_buffer.committed", item_id="item_1")]
    made = made_of(envs, "item_1")
    assert len(made) == 2 and "append_2" in made[0] and "commit" in made[1]


def test_a_refused_clear_leaves_the_next_cleared_to_the_server() -> None:
    """A clear the server refused gets no `cleared`: a later one is the server's own, and drops."""
    clear = sent("input_audio_buffer.clear", event_id="clear_1")
    refusal = received("error", error={"type": "invalid_request_error", "code": "x", "event_id": "clear_1"})
    envs = [connecting(), clear, refusal, append(1), received("input_audio_buffer.cleared"), append(2)]
    envs += [sent("input_audio_buffer.commit"), received("input_audio_buffer.committed", item_id="item_1")]
    made = made_of(envs, "item_1")
    assert len(made) == 2 and "append_2" in made[0]


async def test_the_new_captures_first_record_is_on_the_new_clock(tmp_path: Path, simulator_url: str) -> None:
    """After ctrl+r the new capture's fact ("capturing every frame to …", t=0.0 in the file it
    names) is on the new connection's clock, in the journal and on the log's row."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await typed_turn_done(pilot, app, "hello there")  # the first connection lives a while
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch >= 2, 15, "the new session")
        await views_settled(pilot, app)
        journal = app.journal
        captures = [frame for frame in journal if frame.type == "rt.capture"]
        assert len(captures) == 2
        shown = journal.since_connect(captures[1])
        assert shown == 0.0, f"the new capture's first record is shown at {shown:.3f} s (old clock)"
        start = journal.epoch_start(2)  # the connection's own fact, the capture's the frame before it
        assert start is not None and start.type == "rt.connection" and start.index == captures[1].index + 1
        assert captures[1].epoch == 2
        rows = [line for line in painted_text(app).splitlines() if "rt.capture" in line]
        assert rows and "00:00.0" in rows[-1] and "━━ connection 2 ━━" in rows[-1], rows  # its first row


async def test_ctrl_r_from_a_paused_log_shows_the_new_session(simulator_url: str) -> None:
    """A log paused on a frame (a user reading) stayed paused through ctrl+r: none of the new
    session's frames showed, `+8 new below` in the corner all the key seemed to do."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await typed_turn_done(pilot, app, "hello there")
        log = app.event_log
        log.focus()
        await pilot.press("up", "up")
        assert not log.tail and log.selected is not None
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch >= 2, 15, "the new session")
        await views_settled(pilot, app)
        assert log.tail and log.selected is None
        rows = log_rows(log)
        assert any("session.created" in row for row in rows[-8:]), rows


def log_rows(log: EventLog) -> list[str]:
    """The log's rows on screen, as text."""
    return ["".join(segment.text for segment in line) for line in log.render_lines(log.region.reset_offset)]


def fact_at(clock: Clock, etype: str, message: str, **fields: Any) -> Envelope:
    """A local fact of rt-tui's at the clock's next tick."""
    env = local_envelope(etype, message, **fields)
    mono = clock.tick()
    return Envelope(env.seq, env.direction, env.type, env.data, env.raw, mono, 1.7e9 + mono)


async def test_a_capture_row_drawn_before_its_connection_is_drawn_again_on_the_new_clock() -> None:
    """The log drew the capture's row on the old clock before the connection it belongs to began:
    once it begins, the row is drawn again, at 00:00.000; a capture's trouble mid-session stays."""
    app = LogApp()
    clock = Clock(step=0.25)
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        app.feed([connecting(clock), received("session.created", clock, session={"id": "sess_1"})])
        app.feed([fact_at(clock, "rt.capture", "disk full", state="failed", notify=True)])
        app.feed([fact_at(clock, "rt.capture", "capturing every frame to /tmp/x/frames.jsonl")])
        await pilot.pause()
        assert drawn(log)[-1].split()[1] == "00:00.750"  # drawn on the first connection's clock
        app.feed([connecting(clock), received("session.created", clock, session={"id": "sess_2"})])
        await pilot.pause()
        lines = drawn(log)
    times = [line.split()[1] for line in lines]
    assert times == ["00:00.000", "00:00.250", "00:00.500", "00:00.000", "00:00.000", "00:00.250"], lines
    # The new session's first row is its capture fact: the connection's marker is there (round 27),
    # not one row below it on the connecting fact.
    assert "━━ connection 2 ━━" in lines[3] and "capturing every frame" in lines[3], lines
    assert "━━" not in lines[4], lines


@pytest.mark.parametrize("size", [(120, 32), (160, 48)])
async def test_the_session_separator_is_one_row(size: tuple[int, int]) -> None:
    """The separator after ctrl+r ("── new session to simulator · 127.0.0.1:PORT · HH:MM:SS ──")
    wrapped at 120×32 and 160×48, its closing dashes on a row of their own: it is one row, its
    start and its time kept."""
    app = RtApp(Settings(target=TargetChoice.LOCAL, playback=False))
    async with app.run_test(size=size) as pilot:
        await typed_turn_done(pilot, app, "hello there")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app) and app.journal.epoch >= 2, 30, "the new session")
        await views_settled(pilot, app)
        transcript = app.query_one(Transcript)

        def rows() -> list[str]:
            return ["".join(s.text for s in line) for line in transcript.render_lines(transcript.region.reset_offset)]

        await wait_for(pilot, lambda: any("── new session" in row for row in rows()), 10, "the separator drawn")
        drawn_rows = rows()
        at = next(n for n, row in enumerate(drawn_rows) if "── new session" in row)
        rule = drawn_rows[at].strip(" │")
        assert rule.endswith("──") and re.search(r" · \d\d:\d\d:\d\d ─", rule), drawn_rows
        assert not drawn_rows[at + 1].strip(" │"), f"the separator wraps: {drawn_rows}"


@pytest.mark.parametrize(
    ("width", "rule"),
    [
        (None, "── new session to simulator · 127.0.0.1:4 · 04:53:30 ──"),
        (60, "── new session to simulator · 127.0.0.1:4 · 04:53:30 ───────"),
        (44, "── new session to simulator · 04:53:30 ─────"),  # the address goes first
        (40, "── new session · 04:53:30 ──────────────"),  # then the target: `new session to… ·` said less
        (30, "── new session · 04:53:30 ────"),
        (16, "── new sessi… ──"),
        (12, "new session…"),
    ],
)
def test_a_session_rule_fits_its_width(width: int | None, rule: str) -> None:
    """Across the row when it fits; else whole parts left out, then cut in its middle (its time
    stays); else cut at its end."""
    assert session_rule("new session to simulator · 127.0.0.1:4 · 04:53:30", width) == rule
    assert width is None or len(rule) == width


@pytest.mark.parametrize(
    ("width", "rule"),
    [
        (48, "── new session · 20261206-020029-e2208d ────────"),
        (40, "── new session · …61206-020029-e2208d ──"),
        (30, "── new session · …29-e2208d ──"),
    ],
)
def test_a_replayed_file_s_rule_keeps_the_end_of_its_name(width: int, rule: str) -> None:
    """A replayed file's name ends a separator: cut in the middle, the rule read `new sessi… ·
    20261206-020029-e2208d` at 120 columns; the name's end, its random part, tells files apart."""
    assert session_rule("new session · 02:00:29 · 20261206-020029-e2208d", width) == rule
    assert len(rule) == width


def refused_commit_recording(path: Path) -> Path:
    """A client's own log: a session, a commit, and the server's error naming it."""
    empty = {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty", "message": "buffer too small"}
    events = [
        {"type": "session.created", "session": {"id": "sess_1", "type": "realtime", "model": "gpt-realtime"}},
        {"type": "input_audio_buffer.commit", "event_id": "evt_1"},
        {"type": "error", "event_id": "event_2", "error": {**empty, "event_id": "evt_1"}},
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def refused_commit_app(tmp_path: Path) -> RtApp:
    """The app replaying `refused_commit_recording` (an error whose cause is a commit)."""
    recording = load(refused_commit_recording(tmp_path / "own-log.jsonl"))
    return RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))


async def shown_error_and_cause(pilot: Pilot[None], app: RtApp) -> tuple[EventLog, int, int]:
    """`refused_commit_app` played out: its log, the error's index and its cause's (the commit's)."""
    await replay_shown(pilot, app)
    journal = app.journal
    error = next(f.index for f in journal if f.type == "error")
    commit = next(f.index for f in journal if f.type == "input_audio_buffer.commit")
    return app.query_one(EventLog), error, commit


async def test_c_to_a_cause_the_filter_hides_lifts_the_filter_and_esc_puts_it_back(tmp_path: Path) -> None:
    """`c` under an `error` filter said "frame #2 is hidden by the filter", a dead end; then it named
    the keys that clear the filter (six more keys to answer "what did I send before this error?").
    It now lifts the filter and selects the cause; Esc in the log puts the filter back, on the error."""
    app = refused_commit_app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        log, error, commit = await shown_error_and_cause(pilot, app)
        journal = app.journal
        await pilot.press("f", *"error", "enter")
        await wait_for(pilot, lambda: log.view.shown == 1, 10, "the filter")
        await pilot.press("up")
        assert log.selected == error
        await pilot.press("c")
        await wait_for(pilot, lambda: log.selected == commit, 10, "the cause")
        assert log.view.shown == len(journal) and app.filter_bar.active == ""
        said = [text for _, text in notices(app)]
        want = f"the filter 'error' is lifted to show #{journal[commit].seq} (input_audio_buffer.commit): "
        assert said[-1] == want + "Esc in the log puts it back", said
        await pilot.press("c")
        assert log.selected == error  # and back: the error is shown too
        await pilot.press("escape")
        await wait_for(pilot, lambda: log.view.shown == 1, 10, "the filter back")
        assert app.filter_bar.active == "error" and log.selected == error
        assert not any("is lifted" in text for _, text in notices(app)), notices(app)  # untrue now: gone


async def test_the_export_writes_the_frames_its_dialog_counted(tmp_path: Path, simulator_url: str) -> None:
    """In a live session the dialog said "Export 7,477 frames" and wrote the 8,357 shown when Enter
    was pressed: it writes the frames it counted, the log growing meanwhile."""
    from tui.widgets.export_dialog import ExportDialog

    async with voice_app(tmp_path, simulator_url) as (app, pilot, recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: appends(app) >= 10, 15, "the turn streaming")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 10, "the export dialog")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        counted_then = dialog.count
        await wait_for(pilot, lambda: len(app.journal) > counted_then + 20, 15, "more frames while it is open")
        await pilot.press("enter")
        written = f"{counted_then:,} frames written to "
        await wait_for(
            pilot, lambda: any(written in text for _, text in notices(app)), 30, f"{written}: {notices(app)}"
        )
        (said,) = [text for _, text in notices(app) if written in text]
        path = Path(said.split(written, 1)[1])
        assert len(path.read_text().splitlines()) == counted_then
        await press_voice(pilot, "space")


async def test_a_finding_or_a_detail_s_link_the_filter_hides_lifts_it_too(tmp_path: Path) -> None:
    """`!` Enter and a detail view's `x` were refused the same way as `c`: each now lifts the filter
    that hides its frame, and Esc in the log puts it back."""
    from tui.widgets.findings import FindingsView

    app = refused_commit_app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        await replay_shown(pilot, app)
        log = app.query_one(EventLog)
        journal = app.journal
        assert app.model.linter is not None and app.model.linter.findings
        worst = FindingsView(app.model.linter.findings, journal).findings[0]
        blamed = worst.frames[0]
        query = f"-seq:{journal[blamed].seq}"
        await pilot.press("f", *query, "enter")
        await wait_for(pilot, lambda: log.view.shown == len(journal) - 1, 10, "the filter")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 10, "the findings")
        await pilot.press("enter")
        await wait_for(pilot, lambda: log.selected == blamed, 10, "the finding's frame")
        assert app.filter_bar.active == ""
        assert any(f"the filter {query!r} is lifted" in text for _, text in notices(app)), notices(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.filter_bar.active == query, 10, "the filter back")
        # A detail view's x: from the error to the commit the `error` filter hides.
        error = next(f.index for f in journal if f.type == "error")
        commit = next(f.index for f in journal if f.type == "input_audio_buffer.commit")
        await pilot.press("f", "ctrl+u", *"error", "enter")
        await wait_for(pilot, lambda: log.view.shown == 1, 10, "the error filter")
        await pilot.press("up", "d")
        await wait_for(pilot, lambda: app.screen is not app.screen_stack[0], 10, "the details")
        await pilot.press("x")
        await wait_for(pilot, lambda: log.selected == commit, 10, "the cause")
        assert app.filter_bar.active == ""
        assert log.view.locate(error) is not None


async def test_c_to_a_cause_a_family_toggle_hides_lifts_the_toggle_too_and_esc_hides_it_again(tmp_path: Path) -> None:
    """With the input family hidden, `c` on the error said "hidden by the filter '-family:input': f,
    ctrl+u, Enter clears it (and its families turned back on)", which left the toggle as it was
    (review 55c): the jump lifts the toggles as it lifts a typed filter, and Esc puts them back."""
    from tui.journal import Family

    app = refused_commit_app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        log, error, commit = await shown_error_and_cause(pilot, app)
        journal = app.journal
        app.filter_bar.hidden_families.add(Family.INPUT)
        app.apply_filter("")
        await wait_for(pilot, lambda: log.view.shown == len(journal) - 1, 10, "the commit hidden")
        log.focus()
        assert log.select_frame(error)
        await pilot.press("c")
        await wait_for(pilot, lambda: log.selected == commit, 10, "the cause")
        assert app.filter_bar.active == "" and not app.filter_bar.hidden_families
        want = f"the filter '-family:input' is lifted to show #{journal[commit].seq} (input_audio_buffer.commit): "
        assert [text for _, text in notices(app)][-1] == want + "Esc in the log puts it back", notices(app)
        # For as long as Esc brings them back, not only while the notice lasts (review 55e).
        assert str(log.border_title) == "Events · filter '-family:input' lifted · Esc puts it back"
        await pilot.press("escape")
        await wait_for(pilot, lambda: log.view.shown == len(journal) - 1, 10, "the toggle back")
        assert app.filter_bar.hidden_families == {Family.INPUT} and app.filter_bar.active == "-family:input"


async def test_a_narrow_footer_names_where_c_goes_from_the_cause_and_from_the_error(tmp_path: Path) -> None:
    """At 80 columns the footer said `c Cause` on the frame we sent too, where `c` goes to the error
    it caused (review 55c)."""
    from tests.test_footer_round22c import footer

    app = refused_commit_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        log, error, commit = await shown_error_and_cause(pilot, app)
        log.focus()
        assert log.select_frame(error)
        await wait_for(pilot, lambda: " c Cause " in footer(app), 5, "c Cause on the error")
        assert log.select_frame(commit)
        await wait_for(pilot, lambda: " c Error " in footer(app), 5, "c Error on the cause")
        await pilot.press("c")
        await wait_for(pilot, lambda: log.selected == error, 5, "the error")
