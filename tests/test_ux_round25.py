"""Round 25, rt-tui used as a new user would in tmux (160×48, 100×30, 80×24): what a demanding user
hit. The real app under `run_test()` against the real simulator (live, or behind the proxy for a
client of the user's own that sets no `event_id`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from websockets.asyncio.client import connect

from tests.app_helpers import notices, painted_text, reply_done, typed_turn_done, views_settled, wait_for
from tests.server_helpers import recv_until, send
from tui.app import RtApp
from tui.app.commands import PALETTE
from tui.config import Settings, TargetChoice
from tui.proxy_cmd import ProxyRequest
from tui.widgets.event_detail import EventDetail


def live_app(simulator_url: str) -> RtApp:
    return RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))


def bar_status(app: RtApp) -> str:
    """The filter bar's status line, as shown."""
    return str(app.filter_bar.query_one(".query-bar--status").render())


def palette_titles(app: RtApp) -> list[str]:
    """The command palette's commands on the screen shown now, as ctrl+p lists them."""
    return [command.title for command in app.get_system_commands(app.screen)]


def journaled(app: RtApp, event_type: str) -> bool:
    """A frame of that type is in the journal."""
    return any(app.journal[index].type == event_type for index in range(len(app.journal)))


def journaled_count(app: RtApp, event_type: str) -> int:
    """How many frames of that type the journal holds."""
    return sum(app.journal[index].type == event_type for index in range(len(app.journal)))


async def settled_turn(pilot: Pilot[None], app: RtApp) -> None:
    """A typed turn answered, and the session idle after it (its rate_limits.updated came), so no
    frame arrives after this to repaint what a test looks at."""
    await typed_turn_done(pilot, app, "turn on the kitchen lights")
    await wait_for(pilot, lambda: journaled(app, "rate_limits.updated"), 10, "the reply's rate_limits.updated")
    await views_settled(pilot, app)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_undo_clear_under_a_filter_says_the_filter_s_counts_again(
    simulator_url: str, size: tuple[int, int]
) -> None:
    """f dir:out, ctrl+l, then the palette's 'log: undo clear': the log showed the sent frames again,
    and the bar under the filter kept saying '0 of 0 frames' (the clear's), in an idle session or a
    replay that is done, where no frame comes to make it count again."""
    app = live_app(simulator_url)
    async with app.run_test(size=size) as pilot:
        await settled_turn(pilot, app)
        await pilot.press("f", *"dir:out", "enter")
        await views_settled(pilot, app)
        sent = app.log_view.shown
        assert sent >= 3 and bar_status(app).startswith(f"{sent} of "), bar_status(app)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: bar_status(app).startswith("0 of 0 frames"), 5, "the clear's counts")
        [undo] = [c for c in app.get_system_commands(app.screen) if c.title == "log: undo clear"]
        app.call_later(undo.callback)
        await wait_for(pilot, lambda: app.log_view.shown == sent, 5, "the sent frames back")
        await views_settled(pilot, app)
        await pilot.pause()
        assert bar_status(app).startswith(f"{sent} of {len(app.journal):,} frames"), bar_status(app)


async def test_a_sent_frame_with_no_summary_reads_arrow_error_without_a_gap(simulator_url: str) -> None:
    """A client's `input_audio_buffer.commit` with nothing in the buffer (no event_id: the official
    SDK's way) is refused; its row read '✖  → error', the arrow one column off, as if a word were
    missing before it. And a misspelt event with no event_id read '✖ unknown type ·', a separator
    before nothing."""
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            await send(client, {"type": "input_audio_buffer.commit"})
            await recv_until(client, "error")
            await wait_for(pilot, lambda: journaled(app, "error"), 10, "the error in the journal")
            await views_settled(pilot, app)
            await wait_for(pilot, lambda: "→ error" in painted_text(app), 5, "the commit's link to its error")
            [row] = [line for line in painted_text(app).splitlines() if "input_audio_buffer.commit" in line]
            assert "✖ → error" in row and "  → error" not in row, row
            await send(client, {"type": "input_audio_buffer.comit"})

            def misspelt_rows() -> list[str]:
                return [line for line in painted_text(app).splitlines() if "▲" in line and ".comit" in line]

            await wait_for(pilot, misspelt_rows, 10, "the misspelt event's row")
            [row] = misspelt_rows()
            # Its refusal (an error on `type`, naming no frame) is linked to it: the separator now
            # stands before something.
            assert row.split(" │")[0].rstrip().endswith("✖ unknown type · → error"), row


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_palette_in_a_frame_s_details_offers_its_actions_not_the_log_s_under_it(
    simulator_url: str, size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+p in a frame's details listed the log's commands: 'log: filter' opened the filter bar
    unseen under the details (its focus taken for later), 'log: find next' moved the selection under
    it, 'recorder: talk / send' started a turn; the keys under a dialog are blocked, its commands
    were not. And the details' own copy, save and linked frame were not in the palette at all."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))  # where the details' save goes (no capture)
    app = live_app(simulator_url)
    async with app.run_test(size=size) as pilot:
        await settled_turn(pilot, app)
        app.event_log.focus()
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the details")
        titles = palette_titles(app)
        log_commands = {title for title, _, _ in PALETTE}
        assert not log_commands & set(titles), sorted(log_commands & set(titles))
        assert {"details: copy", "details: save"} <= set(titles), titles
        assert {"Quit", "Theme", "Screenshot"} <= set(titles), titles
        [save] = [c for c in app.get_system_commands(app.screen) if c.title == "details: save"]
        app.call_later(save.callback)
        await wait_for(pilot, lambda: any("saved" in m for _, m in notices(app)), 5, "the save")
        assert isinstance(app.screen, ModalScreen) and not app.filter_bar.display
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModalScreen), 5, "the details to close")
        # Talk is named for what it does with no microphone ('recorder: talk (no microphone)').
        missing = log_commands - set(palette_titles(app))
        assert missing <= {"log: undo clear", "transcript: its frames", "recorder: talk / send"}, missing


def find_status(app: RtApp) -> str:
    """The find bar's status line, as shown."""
    return str(app.find_bar.query_one(".query-bar--status").render())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_find_s_count_follows_the_frames_that_come(simulator_url: str, size: tuple[int, int]) -> None:
    """/kitchen, then another turn about the kitchen: the bar kept 'match 1 of 9 matching frames'
    while the log showed more, until n (after ctrl+r, 'match 9 of 11' became 'match 10 of 14' on n).
    The filter bar's counts follow the stream; the find's now do too."""
    app = live_app(simulator_url)
    async with app.run_test(size=size) as pilot:
        await settled_turn(pilot, app)
        await pilot.press("slash", *"kitchen", "enter")
        await wait_for(pilot, lambda: " of " in find_status(app), 5, "the find's count")
        before = app.event_log.finder.count(app.log_view) if app.event_log.finder else 0
        assert find_status(app).startswith(f"match 1 of {before} matching frames"), find_status(app)
        replies = len([item for item in app.conversation.ordered() if item.role == "assistant"])
        await pilot.press("t", *"the kitchen again", "enter", "escape")
        await wait_for(
            pilot,
            lambda: len([i for i in app.conversation.ordered() if i.role == "assistant"]) > replies and reply_done(app),
            30,
            "the second reply",
        )
        await wait_for(pilot, lambda: journaled_count(app, "rate_limits.updated") >= 2, 10, "its rate_limits")
        await views_settled(pilot, app)
        now = app.event_log.finder.count(app.log_view) if app.event_log.finder else 0
        assert now > before
        await wait_for(pilot, lambda: f"of {now} matching frames" in find_status(app), 5, "the count to follow")
        assert find_status(app).startswith("match 1 of "), find_status(app)  # the selection stays
