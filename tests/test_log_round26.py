"""Round 26, the event log as a new user found it: `+N new` counted frames already on screen,
`error` listed the responses a barge-in cancelled, and `c` on a collapsed run asked only its first
frame for a link. The real app under `run_test()`, on the real simulator (through the proxy for a
client of the user's own), except where a test says why it feeds frames itself."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from websockets.asyncio.client import ClientConnection, connect

from tests.app_helpers import notices, typed_turn_done, views_settled, wait_for
from tests.journal_helpers import audio_b64, connecting, received, sent
from tests.server_helpers import append_audio, b64, recv_until, send, session_patch, silence, speech_pcm24
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.proxy_cmd import ProxyRequest
from tui.server import Simulator
from tui.widgets import EventLog


def live_app(url: str, *, proxy: bool = False) -> RtApp:
    settings = Settings(target=TargetChoice.URL, url=url, playback=False, capture=False)
    return RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0) if proxy else None)


def journaled_count(app: RtApp, event_type: str) -> int:
    return sum(app.journal[index].type == event_type for index in range(len(app.journal)))


def frames_below_screen(log: EventLog, since: int) -> int:
    """Counted line by line, as a user reads the log: frames from journal index `since` on, on the
    lines after the last one on screen (a collapsed run's line stands for all of its frames)."""
    view = log.view
    last = log.scroll_offset.y + log.size.height - 1
    count = 0
    for number in range(last + 1, view.line_count):
        line = view.line(number)
        assert line is not None
        if line.member >= 0:
            count += line.frame_index >= since
        elif not line.row.expanded:
            count += sum(1 for index in line.row.members if index >= since)
    return count


async def turn_after(pilot: Pilot[None], app: RtApp, words: str, replies: int) -> None:
    """A typed turn answered and idle after it (its rate_limits.updated shown)."""
    await typed_turn_done(pilot, app, words)
    await wait_for(pilot, lambda: journaled_count(app, "rate_limits.updated") >= replies, 10, "the rate limits")
    await views_settled(pilot, app)


# -- 1. `+N new` -----------------------------------------------------------------------------------


async def test_new_frames_on_screen_are_not_counted_as_new(simulator_url: str) -> None:
    """Paused a row above the end of a log shorter than its pane, a reply's rows come in view under
    it: the title said "+24 new · end: follow", every one of them on screen."""
    app = live_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await turn_after(pilot, app, "hello", 1)
        log = app.event_log
        await pilot.press("up", "up")
        assert not log.tail and log.view.line_count < log.size.height
        before = len(app.journal)
        await turn_after(pilot, app, "again", 2)
        assert len(app.journal) > before + 10 and log.view.line_count <= log.size.height
        assert log.unseen == 0, log.border_subtitle
        assert str(log.border_subtitle).endswith("paused · end: follow"), log.border_subtitle


async def test_new_counts_only_what_is_below_the_screen_and_drops_as_the_user_scrolls_to_it(
    simulator_url: str,
) -> None:
    """In a short pane the reply's rows go below the screen: `+N` is those frames, and it went on
    saying the same N while the user moved down to them and read them."""
    app = live_app(simulator_url)
    async with app.run_test(size=(160, 24)) as pilot:
        await turn_after(pilot, app, "hello", 1)
        log = app.event_log
        await pilot.press("up")  # the last row, at the foot of the pane
        since = len(app.journal)
        await turn_after(pilot, app, "again", 2)
        below = frames_below_screen(log, since)
        assert below == len(app.journal) - since, "the whole reply is below the screen"
        assert log.unseen == below and f"+{below:,} new below" in str(log.border_subtitle)
        seen = [below]
        while log.cursor_line is not None and log.cursor_line < log.view.line_count - 1:
            await pilot.press("down")
            await pilot.pause()
            expected = frames_below_screen(log, since)
            assert log.unseen == expected, (log.unseen, expected)
            said = f"+{expected:,} new below · end: follow" if expected else "paused · end: follow"
            assert str(log.border_subtitle).endswith(said), (log.border_subtitle, said)
            seen.append(expected)
        assert not log.tail and seen[-1] == 0 and 0 < seen[len(seen) // 2] < below, seen
        assert str(log.border_subtitle).endswith("paused · end: follow"), log.border_subtitle


# -- 2. `is:error` and barge-ins -------------------------------------------------------------------


async def reply(ws: ClientConnection, words: str, response: dict[str, Any] | None = None) -> None:
    await send(
        ws,
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]},
        },
    )
    await send(ws, {"type": "response.create", **({"response": response} if response else {})})


async def test_error_leaves_out_responses_a_barge_in_cancelled(slow_sim: Simulator) -> None:
    """A client's response.cancel (`client_cancelled`) and its user speaking over the reply under
    server VAD (`turn_detected`): `error` listed both cancelled response.done frames, as it lists a
    response cut short by max_output_tokens (`incomplete`), which it still does."""
    app = live_app(slow_sim.url + "?model=gpt-realtime", proxy=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            await reply(client, "tell me about the sea", {"max_output_tokens": 1})
            await recv_until(client, "response.done")
            await reply(client, "tell me about ships")
            await recv_until(client, "response.created")
            await send(client, {"type": "response.cancel"})
            await recv_until(client, "response.done")
            await send(client, session_patch(vad=True))
            await recv_until(client, "session.updated")
            await append_audio(client, speech_pcm24("what is the weather") + silence(600), chunk_ms=20)
            await recv_until(client, "response.output_audio.delta", timeout=20)
            await append_audio(client, speech_pcm24("stop please") + silence(600), chunk_ms=20)
            await recv_until(client, "response.done", timeout=20)
            await wait_for(pilot, lambda: journaled_count(app, "response.done") == 3, 10, "the three responses")
        await views_settled(pilot, app)
        done = [i for i in range(len(app.journal)) if app.journal[i].type == "response.done"]
        statuses = [app.journal.data(i)["response"]["status_details"]["reason"] for i in done]
        assert statuses == ["max_output_tokens", "client_cancelled", "turn_detected"], statuses
        links = app.links
        assert all(i in links.cause_of for i in done)  # each is linked to its cause (`c` goes there)
        for query in ("error", "is:error"):
            assert app.apply_filter(query)
            await views_settled(pilot, app)
            shown = [i for i in app.log_view.indices if app.journal[i].type == "response.done"]
            assert shown == done[:1], (query, shown)
        assert app.apply_filter("is:linked")
        await views_settled(pilot, app)
        assert set(done) <= set(app.log_view.indices)


# -- 3. `c` on a collapsed run ---------------------------------------------------------------------


async def select_row_of(pilot: Pilot[None], log: EventLog, index: int) -> None:
    """Select the collapsed run's line that holds frame `index` (as ↑ would, from its line)."""
    found = log.view.locate(index)
    assert found is not None and found.row.count > 1 and not found.row.expanded
    log.focus()
    log.select_line(log.view.line_of(found.row))
    await pilot.pause()
    assert log.cursor_line == log.view.line_of(found.row)


async def test_c_on_a_run_of_appends_jumps_from_the_append_an_error_names(simulator_url: str) -> None:
    """A client streams audio with one chunk that is not base64; the server's error names it by
    event_id. `c` on the appends' row said "this frame has no linked cause or error" (its first
    append was asked); it goes to the error now. A later run with no link says so of the run."""
    app = live_app(simulator_url, proxy=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        chunk = b64(silence(20))
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await recv_until(client, "session.created")
            for _ in range(5):
                await send(client, {"type": "input_audio_buffer.append", "audio": chunk})
            await send(client, {"type": "input_audio_buffer.append", "event_id": "evt_bad", "audio": "data:,AAAA"})
            for _ in range(3):
                await send(client, {"type": "input_audio_buffer.append", "audio": chunk})
            await recv_until(client, "error")
            for _ in range(4):
                await send(client, {"type": "input_audio_buffer.append", "audio": chunk})
            await wait_for(pilot, lambda: journaled_count(app, "input_audio_buffer.append") == 13, 10, "the appends")
            await views_settled(pilot, app)
        journal, log = app.journal, app.event_log
        [bad] = [i for i in range(len(journal)) if journal[i].event_id == "evt_bad"]
        [error] = [i for i in range(len(journal)) if journal[i].type == "error"]
        assert app.links.cause_of[error].cause == bad
        await select_row_of(pilot, log, bad)
        await pilot.press("c")
        await pilot.pause()
        assert log.selected == error, notices(app)
        await pilot.press("c")  # and back: to the append, its run opened
        await pilot.pause()
        assert log.selected == bad and log.on_member
        last_append = max(i for i in range(len(journal)) if journal[i].type == "input_audio_buffer.append")
        await select_row_of(pilot, log, last_append)
        await pilot.press("c")
        await pilot.pause()
        found = log.view.locate(last_append)
        assert found is not None and log.selected == found.row.first  # the selection stays on the run
        assert any("no frame in this run has a linked cause or error" in message for _, message in notices(app))


async def test_c_on_a_run_with_several_linked_appends_goes_to_the_first_and_says_how_many() -> None:
    """Two refused appends in one run (frames fed by hand: live, the server's first error can land
    between them and split the run). `c` goes to the first one's error and says there are two."""
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(160, 48)) as pilot:
        good = [sent("input_audio_buffer.append", audio=audio_b64(20)) for _ in range(6)]
        first = sent("input_audio_buffer.append", audio="data:,AAAA")
        second = sent("input_audio_buffer.append", audio="data:,BBBB")
        refusals = [
            received(
                "error",
                error={"type": "invalid_request_error", "code": "invalid_value", "event_id": bad.data["event_id"]},
            )
            for bad in (first, second)
        ]
        app.ingest([connecting(), *good[:3], first, *good[3:], second, *refusals])
        await views_settled(pilot, app)
        journal, log = app.journal, app.event_log
        [first_error, _] = [i for i in range(len(journal)) if journal[i].type == "error"]
        [first_bad] = [i for i in range(len(journal)) if journal[i].seq == first.seq]
        await select_row_of(pilot, log, first_bad)
        await pilot.press("c")
        await pilot.pause()
        assert log.selected == first_error
        assert any("2 frames in this run are linked" in message for _, message in notices(app)), notices(app)
