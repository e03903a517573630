"""Round 26, rt-tui walked as a new user in tmux at 160×48 and 80×24: what was wrong on screen.
The real app under `run_test()`, on the real simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.containers import Vertical
from textual.widgets import Input, Static
from websockets.asyncio.client import connect

from tests.app_helpers import notices, press_voice, session_ready, typed_turn_done, views_settled, wait_for
from tests.server_helpers import recv_until, send
from tests.test_footer_round24 import palette_command, voice_keys
from tests.test_voice_turns import voice_app
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.proxy_cmd import ProxyRequest
from tui.widgets import RecorderState
from tui.widgets.key_footer import KeyFooter

URL_WARNING = "--url carries credentials (api-key=), visible to every user of this machine in the process list"


async def test_the_capture_fact_after_a_startup_warning_reads_00_000_not_a_time_that_goes_back(
    simulator_url: str,
) -> None:
    """`rt-tui --url 'ws://…?api-key=…'`: the warning is the log's first row, and the capture fact
    after it read 00:00.001 on epoch 0's clock, then the connecting fact 00:00.000: the time column
    went back. The capture fact belongs to its connection, at its 0, as it does without a warning."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, startup_warnings=(URL_WARNING,))
    app = RtApp(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await views_settled(pilot, app)
        journal = app.journal
        head = [journal[index] for index in range(3)]
        assert [frame.type for frame in head] == ["rt.warning", "rt.capture", "rt.connection"]
        times = [journal.since_connect(frame) for frame in head]
        assert times == [0.0, 0.0, 0.0], times


async def test_under_hands_free_space_is_dimmed_and_a_press_says_to_just_speak(
    tmp_path: Path, simulator_url: str
) -> None:
    """Hands-free on, the footer still said "space Talk", lit, and a press talked of nothing: it only
    said to just speak. Space is dimmed there as it is while nothing can open a session, the press
    still says why, and push-to-talk lights it again."""
    async with voice_app(tmp_path, simulator_url, size=(80, 24)) as (app, pilot, recorder, feeder):
        assert voice_keys(app) == {"space": True, "v": True}
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.state is RecorderState.LISTENING, 5, "hands-free")
        await pilot.pause()
        assert voice_keys(app) == {"space": False, "v": True}
        # v's name says what it does now: it said "Hands-free" while hands-free was on.
        footer = app.query_one(KeyFooter).render().plain
        assert "v Push-to-talk" in footer and "Hands-free" not in footer, footer
        await press_voice(pilot, "space")
        said = [message for title, message in notices(app)]
        assert any(message.startswith("hands-free is on: just speak") for message in said), said
        # In the message input space still types a space (the dimmed key's press is the log's and
        # the panes', not the input's).
        await pilot.press("t", "a", "space", "b")
        assert app.query_one("#message", Input).value == "a b"
        await pilot.press("escape")
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "push-to-talk")
        await pilot.pause()
        assert voice_keys(app) == {"space": True, "v": True}
        assert "v Hands-free" in app.query_one(KeyFooter).render().plain
        # Its notice goes with hands-free: it stayed up saying "hands-free is on" under push-to-talk.
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.state is RecorderState.LISTENING, 5, "hands-free again")
        # Notices outlast the test from here: only the app can take this one down (a loaded machine's
        # microphone took seconds to stop, and the notice's own 6 s went with it).
        say = app.say

        def lasting(message: str, **how: Any) -> Any:
            how["timeout"] = 600
            return say(message, **how)

        app.say = lasting  # type: ignore[method-assign]
        await press_voice(pilot, "space")
        assert any(message.startswith("hands-free is on") for _, message in notices(app))
        await press_voice(pilot, "v")
        await wait_for(pilot, lambda: recorder.state is RecorderState.IDLE, 5, "push-to-talk again")
        assert not any(message.startswith("hands-free is on") for _, message in notices(app)), notices(app)


async def test_the_palette_opens_and_closes_a_run_as_the_arrows_do(simulator_url: str) -> None:
    """The palette is to hold every action, and `→` `←` (a collapsed run opened in place, closed
    again) had no command: a user who reads the palette for the log's actions never met them. On a
    single frame the command says it is not a run (the arrows do nothing there)."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "hello")
        log = app.event_log
        log.focus()
        await pilot.press("up")
        while (line := log._line_at_cursor()) is not None and line.row.count == 1:
            await pilot.press("up")
        assert line is not None and not line.row.expanded
        lines = log.view.line_count
        palette_command(app, "log: open / close run")
        await wait_for(pilot, lambda: line.row.expanded, 5, "the run opened")
        assert log.view.line_count == lines + line.row.count  # its line, then one per frame
        palette_command(app, "log: open / close run")
        await wait_for(pilot, lambda: not line.row.expanded, 5, "the run closed")
        assert log.view.line_count == lines
        await pilot.press("down")
        palette_command(app, "log: open / close run")
        await wait_for(pilot, lambda: bool(notices(app)), 5, "the notice")
        assert ("", "this row is one frame, not a run: a run of deltas or appends opens in place") in notices(app)


async def test_the_findings_view_with_nothing_found_offers_no_enter(simulator_url: str) -> None:
    """`!` on a clean session: "Nothing found", and its border still said "enter: go to its frame",
    a key with no finding and no frame to act on."""
    from tui.widgets.findings import FindingsView

    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await typed_turn_done(pilot, app, "hello")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 5, "the findings")
        box = app.screen.query_one(Vertical)
        empty = app.screen.query_one(".findings--empty", Static)
        assert "Nothing found" in str(empty.render())
        assert str(box.border_subtitle) == "esc close"


async def test_the_proxy_s_first_client_capture_holds_the_url_warning_its_log_shows(simulator_url: str) -> None:
    """`rt-tui proxy --url 'ws://…?api-key=…'`: the warning is published while the proxy waits, into
    the model the first client's session takes over, so its log shows it first; its capture file
    began at the next frame (seq 2), the warning nowhere on disk, where a live session's has it."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, startup_warnings=(URL_WARNING,))
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            await wait_for(pilot, lambda: app.journal.capture_path is not None, 10, "the client's capture")
            await views_settled(pilot, app)
        assert app.journal[0].type == "rt.warning"
        capture = app.journal.capture_path
        assert capture is not None
    records = [json.loads(line) for line in Path(capture).read_text().splitlines()]
    assert [record["type"] for record in records[:3]] == ["rt.warning", "rt.capture", "rt.connection"]
    assert records[0]["info"]["message"] == URL_WARNING
    assert [record["seq"] for record in records] == sorted(record["seq"] for record in records)


async def test_opening_the_findings_takes_down_a_rejected_update_s_notice_too(simulator_url: str) -> None:
    """A review in tmux: `!` took the findings' toasts down but left "session.update rejected" (never
    folded) drawn over the list, hiding the first finding's text, though the list holds its finding."""
    from tests.test_kept_vad import kept_vad_app
    from tui.widgets.findings import FindingsView

    app = kept_vad_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        # Its title may count the finding folded into it (`session.update rejected · +1 finding: …`, at
        # 80x24 when both come in one tick): the test took the exact title, and failed when they did.
        rejected = "session.update rejected"

        def shown() -> bool:
            return any(t.startswith(rejected) for t, _ in notices(app))

        await wait_for(pilot, shown, 10, "the rejection's notice")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 5, "the findings")
        assert not shown(), notices(app)
        assert any(finding.rule == "session-update-rejected" for finding in app.model.linter.findings)  # type: ignore[union-attr]


async def test_opening_the_findings_takes_down_the_toasts_it_lists(simulator_url: str) -> None:
    """A client's errors raise toasts ("Server error (3 in a row)", "More findings: 2 more …: !
    lists the findings"); `!` opened the list under them, and at 80×24 they hid the fixes it lists.
    The list has every one of them: their toasts go as it opens."""
    from tui.widgets.findings import FindingsView

    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            for frame in ({"type": "response.cancel"}, {"type": "bogus.event"}, {"type": "conversation.item.bogus"}):
                await send(client, frame)
                await recv_until(client, "error")
            # At 80x24 the toasts folded away are counted in the title of the one shown whole.
            await wait_for(pilot, lambda: any(": ! lists them" in t for t, _ in notices(app)), 10, "the toasts")
        await views_settled(pilot, app)
        assert any(title.startswith(("Server error", "Lint:")) for title, _ in notices(app)), notices(app)
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 5, "the findings")
        left = [title for title, _ in notices(app) if title.startswith(("Server error", "Lint:", "More findings"))]
        assert left == [], left
