"""What session 32's reviews found a user hit, each fixed with a test that failed before: the real
app under `run_test()` against the real simulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import HelpPanel, Input, Static

from tests.app_helpers import (
    cancel_refused,
    notices,
    press_voice,
    session_ready,
    typed_turn_done,
    views_settled,
    wait_for,
)
from tests.audio_helpers import FifoFeeder, fake_alsa
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.widgets import EventLog


def live_app(simulator_url: str) -> RtApp:
    return RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))


async def test_esc_in_the_log_closes_the_keys_panel_once_nothing_else_is_left_to_leave(simulator_url: str) -> None:
    """The palette's Keys panel takes no focus: with the log focused, Esc ended a find or an `o`
    and otherwise did nothing, so the panel stayed until the palette closed it again."""
    app = live_app(simulator_url)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.session_id is not None, 10, "session")
        app.action_show_help_panel()
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 5, "the Keys panel")
        await pilot.press("/", *"session", "enter")
        await wait_for(pilot, lambda: app.find_bar.active and app.focused is app.event_log, 5, "a find")
        await pilot.press("escape")  # the find ends first: the panel stays
        await wait_for(pilot, lambda: not app.find_bar.active, 5, "the find ended")
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query(HelpPanel), 5, "the Keys panel closed by Esc")


async def test_its_frames_open_at_the_item_s_first_frame_on_a_small_screen(simulator_url: str) -> None:
    """`o` on a reply's row at 80x24: the view followed the end, so the pane showed the reply's
    last deltas and response.done, and its first frames were scrolled away."""
    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        reply = [item for item in app.conversation.items.values() if item.role == "assistant"][-1]
        assert app.transcript.select_item(reply.id)
        app.transcript.focus()
        await pilot.press("o")
        await views_settled(pilot, app)
        log = app.event_log
        assert log.view.line_count > log.size.height, "the reply's frames fit the pane: nothing to prove"
        first = app.log_view.indices[0]
        assert log.selected == first and not log.tail, (log.selected, first, log.tail)
        assert log.scroll_offset.y == 0


async def test_a_message_typed_while_a_push_to_talk_turn_records_is_kept_not_sent(
    tmp_path: Path, simulator_url: str
) -> None:
    """`t hi Enter` during REC sent the message between the turn's appends: answered while the
    microphone still recorded, and the spoken turn committed after it, the conversation out of order."""
    with FifoFeeder(tmp_path / "mic.fifo"), fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await press_voice(pilot, "space")
            await wait_for(pilot, lambda: app.voice.recording, 5, "the recording")
            await pilot.press("t", "h", "i", "enter")
            await pilot.pause()
            assert not [f for f in app.journal if f.type == "conversation.item.create"]
            assert app.query_one("#message", Input).value == "hi"
            kept = "a spoken turn is recording: send it first (Esc, then space); the message waits in the input"
            assert ("Message kept", kept) in notices(app)
            assert app.voice.recording


async def test_the_proxy_s_first_notice_gives_an_address_a_client_can_use(simulator_url: str) -> None:
    """`point your client at ws://127.0.0.1:PORT/v1/realtime`: a client that did so was refused
    with missing_model (close 4000); the URL needs its `?model=`, as the transcript's hint says."""
    from tests.test_proxy_app_round23 import proxy_app, proxy_notices

    app = proxy_app(simulator_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url is not None and bool(proxy_notices(app)), 10, "the proxy")
        assert f"point your client at {app.proxy_url}?model=… (relayed to " in proxy_notices(app)[0]


async def test_at_80x24_the_proxy_s_address_is_in_the_pane_with_no_notice_over_it(simulator_url: str) -> None:
    """At 80x24 the notice saying where to point the client covered the pane that says it too."""
    from tests.test_proxy_app_round23 import proxy_app, proxy_notices

    app = proxy_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(app.proxy_url), 10, "the proxy")
        await views_settled(pilot, app)
        assert f"{app.proxy_url}?model=…" in " ".join(app.transcript.hint)
        assert not proxy_notices(app)


async def test_a_host_that_does_not_resolve_is_named_when_the_label_does_not_name_it() -> None:
    """`cannot reach OpenAI · gpt-realtime: Name or service not known` named no host: which name
    did not resolve, and what to check, were left to guess."""
    from tui.bus import Bus
    from tui.session import ConnectionFailed, RealtimeSession, url_target

    target = url_target("wss://realtime.name-that-does-not-resolve.invalid/v1/realtime", label="OpenAI · gpt-realtime")
    session = RealtimeSession(target, Bus(), open_timeout=10)
    with pytest.raises(ConnectionFailed) as failed:
        await session.connect()
    said = str(failed.value)
    assert said.startswith(
        "cannot reach OpenAI · gpt-realtime (realtime.name-that-does-not-resolve.invalid): the name did not resolve ("
    ), said
    assert said.endswith("): check the network or the URL"), said


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_an_error_row_keeps_its_cause_in_view_when_the_column_is_narrow(
    simulator_url: str, size: tuple[int, int]
) -> None:
    """`error 230B response_cancel_not_active ← respo…` at 160x48 in the proxy and 80x24 alone: the
    link, which answers "what did I send?", was the part cut at the column's edge."""
    from tui.widgets import EventLog

    app = live_app(simulator_url)
    async with app.run_test(size=size) as pilot:
        cancel = app.journal[(await cancel_refused(pilot, app))[0]]
        log = app.query_one(EventLog)
        rows = ["".join(s.text for s in line) for line in log.render_lines(log.region.reset_offset)]
        [row] = [r for r in rows if "▼" in r and " error " in r]
        # The link in the longest form that leaves the code readable: whole, a shorter name, or
        # (a seq of 7 digits, as in a long run) the number alone.
        assert re.search(rf"← (response\.cancel |r\.cancel )?#{cancel.seq} ", row), row
        assert " response_cancel" in row, row  # what went wrong (response_cancel_not_active), readable


@pytest.mark.parametrize("key", ["c", "y"])
async def test_copying_an_error_s_details_says_it_is_the_error_alone_and_save_reuses_the_file(
    simulator_url: str, tmp_path: Path, key: str
) -> None:
    """The details show the error and, under it, its cause; `c` said `copied 352 characters` (the
    error alone, unsaid), then `s` wrote a second identical file, neither ending its line. `y`
    copies as it does in the log (in the details it did nothing, silently)."""
    from tui.widgets import EventDetail, EventLog

    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    app.save_folder = lambda: tmp_path  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        cancel, error = (app.journal[index] for index in await cancel_refused(pilot, app))
        log = app.query_one(EventLog)
        log.focus()
        assert log.select_frame(error.index)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the details")
        await pilot.press(key)
        await wait_for(pilot, lambda: any(t == "Copy" for t, _ in notices(app)), 5, "the copy's notice")
        [copied] = [m for t, m in notices(app) if t == "Copy"]
        alone = f"error #{error.seq} alone (not response.cancel #{cancel.seq}: x goes there)"
        assert copied.startswith(f"copied {alone}: "), copied
        await pilot.press("s")
        await wait_for(pilot, lambda: any(t == "Save" for t, _ in notices(app)), 5, "the save's notice")
        [saved] = [m for t, m in notices(app) if t == "Save"]
        [file] = list(tmp_path.iterdir())  # one file: the copy's, named again
        assert saved == f"{alone} saved to {file} (already there: kept by an earlier copy or save)", saved
        text = file.read_text()
        assert text.endswith("}\n") and json.loads(text)["type"] == "error"
    # The saved frame is a recording of one frame to lint and replay (they refused it: "JSON, but not
    # an rt-tui capture, a HAR file or a JSONL of frames").
    rt_tui = str(Path(sys.executable).with_name("rt-tui"))
    linted = subprocess.run([rt_tui, "lint", str(file)], capture_output=True, text=True, timeout=60)
    assert linted.returncode == 0 and f"{file}: 1 frame (json)" in linted.stdout, linted
    replayed = subprocess.run([rt_tui, "replay", "--json", str(file)], capture_output=True, text=True, timeout=60)
    assert replayed.returncode == 0 and json.loads(replayed.stdout)["frame"] == json.loads(text), replayed


async def test_a_message_sent_over_a_reply_in_progress_says_it_cut_the_reply_short(simulator_url: str) -> None:
    """Typing a second message while the first's reply streamed cancelled it without a word: the
    transcript read `cancelled (client_cancelled)` and the user took it for a bug."""
    app = live_app(simulator_url + "&sim_latency_ms=40")  # a slow server: the reply still streams when typed over
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *"please describe the weather in Paris and in London this week", "enter")
        await wait_for(pilot, lambda: any(f.type == "response.created" for f in app.journal), 10, "the reply")
        await pilot.press(*"second", "enter")
        await wait_for(pilot, lambda: any(f.type == "response.cancel" for f in app.journal), 5, "the cancel")
        assert ("Message", "your message cut the reply in progress short (response.cancel sent)") in notices(app)


async def test_an_event_typed_in_the_palette_s_dialog_goes_out_and_its_error_is_linked(simulator_url: str) -> None:
    """A debugger's probe: no key or palette command sent a client event of the user's own, so an
    error could not be provoked from inside the app (a reviewer used the proxy and a client)."""
    from tui.widgets.send_event import SendEventDialog

    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "session: send an event"]
        app.call_later(command.callback)
        await wait_for(pilot, lambda: isinstance(app.screen, SendEventDialog), 5, "the dialog")
        field = app.screen.query_one(Input)
        # The example, an error when nothing is active, is a placeholder: Enter sent it at once, and
        # the keys typed next went to the app (review 56b).
        assert field.value == "" and field.placeholder == '{"type": "response.cancel"}'
        sent_before = sum(f.direction is Direction.OUT for f in app.journal)
        await pilot.press("enter")
        problem = str(app.screen.query_one("#send-event-problem", Static).render())
        assert problem == 'type one client event as JSON, e.g. {"type": "response.cancel"}', problem
        assert isinstance(app.screen, SendEventDialog)
        assert sum(f.direction is Direction.OUT for f in app.journal) == sent_before
        field.value = "[1, 2]"
        await pilot.press("enter")
        problem = str(app.screen.query_one("#send-event-problem", Static).render())
        assert problem == "a client event is a JSON object, not an array", problem
        field.value = '{"type": ""}'
        await pilot.press("enter")
        problem = str(app.screen.query_one("#send-event-problem", Static).render())
        assert problem == 'the "type" is empty: name the event, {"type": "response.create"}', problem
        field.value = '{"type": "response.cancel", "response_id": "resp_none"}'
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SendEventDialog), 5, "the dialog closed")
        await wait_for(pilot, lambda: any(f.type == "error" for f in app.journal), 10, "the server's error")
        error = next(f for f in app.journal if f.type == "error")
        cause = app.journal[app.links.cause_of[error.index].cause]
        assert (cause.direction, cause.type) == (Direction.OUT, "response.cancel")
        assert app.journal.data(cause.index)["response_id"] == "resp_none"
        assert app._event_text == '{"type": "response.cancel", "response_id": "resp_none"}'  # offered again
        # A draft left with Esc (to look at the log) is offered again as it was, unsent.
        app.call_later(command.callback)
        await wait_for(pilot, lambda: isinstance(app.screen, SendEventDialog), 5, "the dialog again")
        field = app.screen.query_one(Input)
        assert field.value == '{"type": "response.cancel", "response_id": "resp_none"}'
        field.value = '{"type": "input_audio_buffer.cle'
        sent = sum(f.direction is Direction.OUT for f in app.journal)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SendEventDialog), 5, "the dialog closed")
        await pilot.pause()
        assert sum(f.direction is Direction.OUT for f in app.journal) == sent  # nothing sent
        app.call_later(command.callback)
        await wait_for(pilot, lambda: isinstance(app.screen, SendEventDialog), 5, "the dialog a third time")
        assert app.screen.query_one(Input).value == '{"type": "input_audio_buffer.cle'
        app.screen.query_one(Input).value = "  "  # emptied, then left: not a draft to offer
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SendEventDialog), 5, "the dialog closed")
        assert app._event_text == '{"type": "input_audio_buffer.cle'


async def test_send_an_event_is_offered_only_while_a_session_is_open(simulator_url: str) -> None:
    """A review in tmux: after the session expired the palette still offered it; chosen, it said
    "not connected" and opened nothing, so the event the user typed next went to the app's keys."""

    def offered(app: RtApp) -> bool:
        return any(c.title == "session: send an event" for c in app.get_system_commands(app.screen))

    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        assert offered(app)
        assert app.session is not None
        await app.session.close()
        await wait_for(pilot, lambda: app.facts.state in ("closed", "failed"), 10, "the session to close")
        assert not offered(app) and app.check_action("send_event", ()) is False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: session_ready(app), 10, "a new session")
        assert offered(app)


async def test_quitting_the_proxy_says_where_each_connection_s_frames_are(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy's screen quit in silence (a review in tmux): each connection's capture is a session's
    and is named as a live session's is; a connection whose capture could not be made is said too."""
    from websockets.asyncio.client import connect

    from tests.test_proxy_app_round23 import say
    from tui.app.app import farewell
    from tui.proxy_cmd import ProxyRequest

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False)
    app = RtApp(settings, proxy=ProxyRequest("127.0.0.1", 0))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.proxy_url != "", 10, "the proxy to listen")
        for words in ("the kitchen lights", "the garden gate"):
            async with connect(app.proxy_url + "?model=gpt-realtime") as client:
                await say(client, words)
        await wait_for(pilot, lambda: len(app.models) == 2, 10, "two sessions")
        # The data directory turns into a file: the third connection's capture cannot be made.
        monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "frames.jsonl-not-a-folder"))
        (tmp_path / "frames.jsonl-not-a-folder").write_text("")
        async with connect(app.proxy_url + "?model=gpt-realtime") as client:
            await say(client, "the front door")
        await wait_for(pilot, lambda: len(app.models) == 3, 10, "three sessions")
    said = farewell(app)
    assert said is not None
    lines = said.splitlines()
    assert lines[0] == "rt-tui: every frame of 2 of the 3 sessions is in (rt-tui replay them together, or lint each):"
    paths = [Path(line.strip()) for line in lines[1:3]]
    for path, words in zip(paths, ("kitchen", "garden"), strict=True):
        assert path.is_relative_to(tmp_path) and path.name == "frames.jsonl"
        assert words in path.read_text()  # the connection's own frames
    assert lines[3].startswith("rt-tui: a session's frames were not saved: no capture file: "), lines[3]


def test_a_replay_offers_no_event_to_send() -> None:
    from tui.replay import ReplayRequest, load

    app = RtApp(
        Settings(capture=False, playback=False),
        replay=ReplayRequest(load(Path(__file__).parent / "golden" / "replay" / "devtools.har"), None),
    )
    assert app.check_action("send_event", ()) is False


async def test_quitting_says_where_the_session_s_frames_are(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quitting printed nothing: a user had to find the newest folder under the data directory to
    lint or replay what they had just done. A reconnect's second capture is named too."""
    from tui.app.app import farewell

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        [first] = [capture.path for capture in app.captures]
        assert farewell(app) == f"rt-tui: every frame of the session is in {first} (rt-tui replay or rt-tui lint it)"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(app.captures) == 2 and session_ready(app), 10, "the new session")
    said = farewell(app)
    assert said is not None and said.splitlines() == [
        "rt-tui: every frame of the 2 sessions is in (rt-tui replay them together, or lint each):",
        *(f"  {capture.path}" for capture in app.captures),
    ]
    app.capture_refusals.append("[Errno 28] No space left on device")  # a third session, not saved
    assert farewell(app).splitlines()[0] == (  # type: ignore[union-attr]
        "rt-tui: every frame of 2 of the 3 sessions is in (rt-tui replay them together, or lint each):"
    )
    del app.capture_refusals[:]
    assert all(c.path.is_relative_to(tmp_path) and c.path.name == "frames.jsonl" for c in app.captures)
    assert farewell(live_app(simulator_url)) is None  # no capture (--no-capture): nothing to say


async def test_quitting_says_a_session_s_frames_were_not_saved_when_its_capture_could_not_open(
    simulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data directory that cannot hold a folder (here a file stands where it should be): the
    app said so in a toast that went away, and quitting said nothing at all."""
    from tui.app.app import farewell

    blocked = tmp_path / "data"
    blocked.write_text("a file where the data directory should be\n")
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(blocked))
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
    assert not app.captures and len(app.capture_refusals) == 1
    said = farewell(app)
    assert said is not None and said.startswith("rt-tui: a session's frames were not saved: "), said
    assert str(blocked) in said and "\n" not in said
    # Each reconnect is refused alike: one line, counted, not one per session.
    app.capture_refusals *= 3
    assert farewell(app) == said.replace("a session's frames", "3 sessions' frames")


async def test_after_ctrl_r_the_findings_count_says_which_are_earlier(simulator_url: str) -> None:
    """The count stood beside the new connection's counters as if it had the old one's findings."""
    from textual.widgets import OptionList

    from tests.app_helpers import cancel_refused
    from tui.widgets.findings import FindingsView

    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await cancel_refused(pilot, app)
        await wait_for(pilot, lambda: app.status_line.findings_note == "⚠1 (!)", 10, "the warning counted")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.journal.epoch == 2 and session_ready(app), 10, "the new session")
        await wait_for(pilot, lambda: app.status_line.findings_note == "earlier ⚠1 (!)", 10, "a recount")
        assert app.session is not None
        app.session.send({"type": "response.cancel"})
        await wait_for(pilot, lambda: app.status_line.findings_note == "⚠1 · earlier ⚠1 (!)", 10, "both")
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 10, "the findings")
        prompts = [str(option.prompt).splitlines()[0] for option in app.screen.query_one(OptionList).options]
        heads = [line for line in prompts if line.startswith("━━")]
        assert heads == ["━━ connection 2 (the latest) · 1 warning ━━", "━━ connection 1 · 1 warning ━━"]


async def test_c_while_following_goes_from_the_newest_error_to_its_cause(simulator_url: str) -> None:
    """With the error on screen and nothing selected, `c` said "no frame is selected": it now takes
    the newest error with a cause, and goes to what was sent."""
    from tests.app_helpers import cancel_refused, notices
    from tui.widgets import EventLog

    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        cancel, _ = await cancel_refused(pilot, app)
        log = app.query_one(EventLog)
        log.focus()
        await pilot.pause()
        assert log.selected is None
        await pilot.press("c")
        await wait_for(pilot, lambda: log.selected == cancel, 10, "the cause")
        assert not any("no frame is selected" in text for _, text in notices(app)), notices(app)


async def test_esc_in_the_log_with_nothing_to_leave_takes_the_notices_down(simulator_url: str) -> None:
    """At 80x24 notices covered rows of both panes for seconds; the palette was the only way to take
    them down. Esc in the log does, once it has nothing else to leave."""
    from tests.app_helpers import cancel_refused
    from tui.widgets import EventLog

    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await cancel_refused(pilot, app)
        await wait_for(pilot, lambda: len(app._notifications) > 0, 10, "the server error's notice")
        app.query_one(EventLog).focus()
        await pilot.press("slash", *"cancel", "enter")
        await pilot.press("escape")  # the find ends first
        await pilot.pause()
        assert not app.find_bar.active and len(app._notifications) > 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app._notifications) == 0, 10, "the notices gone")


async def test_f1_in_the_filter_bar_shows_the_query_syntax(simulator_url: str) -> None:
    """F1 in the filter bar listed the input's editing keys alone: `error`, `for:`, plain words and `|`
    could not be found in the app. The Keys panel now heads them with the bar's syntax."""
    from textual.widgets import HelpPanel, Markdown

    app = live_app(simulator_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("f")
        await wait_for(pilot, lambda: app.filter_bar.input.has_focus, 10, "the filter bar")
        assert "F1: syntax" in str(app.filter_bar.input.placeholder)
        await pilot.press("f1")
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), 10, "the Keys panel")
        panel = app.screen.query_one(HelpPanel)
        await wait_for(pilot, lambda: panel.has_class("-show-help"), 10, "the bar's help")
        text = panel.query_one(Markdown).source
        for form in ("Filter", "for:ID", "error", "a | b", "/kit.h/i", "response.status!=completed"):
            assert form in text, form


async def filtered_to_kitchen(pilot: Pilot[None], app: RtApp) -> EventLog:
    """A typed turn about the kitchen, then the log filtered to `kitchen` (its rows marked)."""
    from tests.app_helpers import typed_turn_done

    await typed_turn_done(pilot, app, "What color should I paint my kitchen?")
    log = app.query_one(EventLog)
    log.focus()
    await pilot.press("f", *"kitchen", "enter")
    await wait_for(pilot, lambda: app.filter_bar.active == "kitchen" and log.view.shown > 2, 10, "the filter")
    return log


async def test_a_filter_of_words_shows_where_each_row_matched(simulator_url: str) -> None:
    """A filter of `kitchen` listed rows such as `conversation.item.added  item_9p1c… us…`: nothing
    showed why they passed. Each row now shows its match, as a find's rows do."""
    app = live_app(simulator_url)
    async with app.run_test(size=(100, 30)) as pilot:
        log = await filtered_to_kitchen(pilot, app)
        await pilot.pause()
        rows = ["".join(s.text for s in line) for line in log.render_lines(log.region.reset_offset)]
        shown = [row for row in rows if "▲" in row or "▼" in row]
        assert len(shown) == log.view.shown
        assert all("kitchen" in row.lower() for row in shown), shown


def test_a_query_s_free_text_is_its_highlight() -> None:
    """What the log highlights for a filter: its words, phrases and regexes, nothing else."""
    from tui.journal import Journal, Query

    journal = Journal()
    assert Query("kitchen", journal).highlight == "kitchen"
    assert Query("type:response.* dir:in", journal).highlight is None
    assert Query("error", journal).highlight is None
    assert Query('kitchen "two words" /gar.en/', journal).highlight == r"/(?:kitchen)|(?:two\ words)|(?:gar.en)/i"


async def test_a_lifted_filter_is_named_and_esc_walks_back_through_o_s(simulator_url: str) -> None:
    """After `o` (an item's frames) a jump lifted that filter and Esc went straight back to the one
    before `o`: the item's filter was lost. And once the notice was gone nothing named the lifted
    filter a later Esc brought back. The log's title says it; Esc puts back `o`'s filter, then the
    one before it. `c` following, with every error hidden by the filter, lifts it too."""
    from tests.app_helpers import cancel_refused, typed_turn_done
    from tui.widgets import EventLog

    app = live_app(simulator_url)
    async with app.run_test(size=(120, 36)) as pilot:
        await typed_turn_done(pilot, app, "paint my kitchen")
        cancel, error = await cancel_refused(pilot, app)
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("f", *"dir:in", "enter")
        await wait_for(pilot, lambda: app.filter_bar.active == "dir:in", 10, "the filter")
        app.transcript.focus()
        await pilot.press("up", "o")  # the reply's frames
        await wait_for(pilot, lambda: app.filter_bar.active.startswith("for:"), 10, "the item's frames")
        item_filter = app.filter_bar.active
        await pilot.press("end", "c")  # following: the newest error, which the item's filter hides
        await wait_for(pilot, lambda: log.selected == cancel, 10, "the cancel, the filter lifted")
        assert app.filter_bar.active == ""
        assert str(log.border_title) == f"Events · filter {item_filter!r} lifted · Esc puts it back"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.filter_bar.active == item_filter, 10, "the item's filter back")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.filter_bar.active == "dir:in", 10, "the filter before o")
        assert str(log.border_title) == "Events · filter: dir:in"
        assert error != cancel


async def test_c_on_a_frame_without_a_link_says_so_once_naming_it(simulator_url: str) -> None:
    """Three presses stacked three "this frame has no linked cause or error" over the rows."""
    from tests.app_helpers import notices
    from tui.widgets import EventLog

    app = live_app(simulator_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        log = app.query_one(EventLog)
        log.focus()
        await pilot.press("up", "c", "c", "c")
        await pilot.pause()
        frame = app.journal[log.selected or 0]
        said = [text for _, text in notices(app) if "no linked cause" in text]
        assert said == [f"#{frame.seq} ({frame.type}) has no linked cause or error"], said


async def test_the_selected_row_still_shows_where_it_matched(simulator_url: str) -> None:
    """The cursor's background was drawn over the match's: the row a find stopped on, the very row
    it found, showed its match no more than a row without one."""
    app = live_app(simulator_url)
    async with app.run_test(size=(100, 30)) as pilot:
        log = await filtered_to_kitchen(pilot, app)
        log.focus()
        await pilot.press("up")  # the last row selected
        await wait_for(pilot, lambda: log.cursor_line is not None, 5, "a row selected")
        await pilot.pause()
        match_bg = log.get_component_rich_style("event-log--match").bgcolor
        cursor_bg = log.get_component_rich_style("event-log--cursor").bgcolor
        assert log.cursor_line is not None
        row = log.render_line(log.cursor_line - log.scroll_offset.y)
        backgrounds = {(segment.style.bgcolor if segment.style else None) for segment in row}
        word = "".join(s.text for s in row if s.style is not None and s.style.bgcolor == match_bg)
        assert cursor_bg in backgrounds, backgrounds
        assert word.lower() == "kitchen", word


def connected_as(app: RtApp, epoch: int) -> bool:
    """The app's session is connection `epoch`, and ready."""
    return app.journal.epoch == epoch and session_ready(app)


async def findings_heads(pilot: Pilot[None], app: RtApp) -> list[str]:
    """`!`, then the findings list's headings, as shown (their first lines)."""
    from textual.widgets import OptionList

    from tui.widgets.findings import FindingsView

    await pilot.press("exclamation_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, FindingsView), 10, "the findings")
    prompts = [str(option.prompt).splitlines()[0] for option in app.screen.query_one(OptionList).options]
    return [line for line in prompts if line.startswith("━━")]


@pytest.mark.parametrize("warned_first", [True, False])
async def test_every_connection_is_headed_in_the_findings_a_clean_one_too(
    simulator_url: str, warned_first: bool
) -> None:
    """Of three connections with findings in the first alone, or in the first and the third, the
    second was left out of the list unsaid: only the latest was said clean. With findings in the
    third alone, no connection was headed: nothing said which one (or, replayed, which file) it was."""
    from tests.app_helpers import cancel_refused
    from tui.widgets.findings import FindingsView

    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(100, 30)) as pilot:
        if warned_first:
            await cancel_refused(pilot, app)
            await wait_for(pilot, lambda: app.status_line.findings_note == "⚠1 (!)", 10, "the warning counted")
        else:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        for epoch in (2, 3):
            await pilot.press("ctrl+r")
            await wait_for(pilot, partial(connected_as, app, epoch), 10, "a new session")
        first = "━━ connection 1 · 1 warning ━━" if warned_first else "━━ connection 1 · no findings ━━"
        if warned_first:
            assert await findings_heads(pilot, app) == [
                "━━ connection 3 (the latest) · no findings ━━",
                "━━ connection 2 · no findings ━━",
                first,
            ]
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, FindingsView), 10, "the log")
        assert app.session is not None
        app.session.send({"type": "response.cancel"})
        counted = "⚠1 · earlier ⚠1 (!)" if warned_first else "⚠1 (!)"
        await wait_for(pilot, lambda: app.status_line.findings_note == counted, 10, "the count")
        assert await findings_heads(pilot, app) == [
            "━━ connection 3 (the latest) · 1 warning ━━",
            "━━ connection 2 · no findings ━━",
            first,
        ]


def test_an_event_that_is_not_json_says_where_in_plain_words() -> None:
    """`{"type": "bogus` read "not JSON: Unterminated string starting at (column 10)"."""
    from tui.widgets.send_event import parse_event

    assert parse_event('{"type": "bogus') == "not JSON: Unterminated string starting at column 10"
    assert parse_event('{"type": "x",}') == "not JSON: Expecting property name enclosed in double quotes (column 14)"
