"""The event log as a debugger, in the real app against the real simulator: filter, find inside
collapsed runs, error ↔ cause, details, export, follow between transcript and log."""

from __future__ import annotations

import base64
import io
import json
import wave
from functools import partial
from pathlib import Path

from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from tests.app_helpers import (
    cancel_refused,
    items,
    notices,
    press_voice,
    replay_shown,
    reply_journaled,
    screen_text,
    session_ready,
    turn_complete,
    typed_turn_done,
    views_settled,
    wait_for,
)
from tests.audio_helpers import FifoFeeder, fake_alsa
from tests.server_helpers import silence, speech_pcm24
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Query
from tui.replay import ReplayRequest, load
from tui.widgets import EventDetail, EventLog, Transcript
from tui.widgets.log_format import span_text

QUESTION = "what is the weather like in London today"


async def test_filter_and_find_after_a_push_to_talk_turn(tmp_path: Path, simulator_url: str) -> None:
    speech = speech_pcm24(QUESTION)
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await wait_for(pilot, lambda: app.voice.audio_ready is not None, 5, "the audio stack")
            await press_voice(pilot, "space")
            feeder.play(speech + silence(300))
            await wait_for(pilot, feeder.played.is_set, 15, "the question to be spoken")
            await press_voice(pilot, "space")
            await wait_for(pilot, lambda: turn_complete(app), 30, "the transcript and the reply")
            await views_settled(pilot, app)
            log = app.query_one(EventLog)

            # Filter, typed into the bar: exactly the transcription frames, out of the whole journal.
            await pilot.press("f", *"type:conversation.item.input_audio_transcription.*", "enter")
            await pilot.pause()
            shown = [app.journal[i].type for i in app.log_view.indices]
            everything = [f.type for f in app.journal if f.type.startswith("conversation.item.input_audio_trans")]
            assert shown == everything and len(shown) >= 2
            assert shown[-1] == "conversation.item.input_audio_transcription.completed"
            assert f"{len(shown)} of {len(app.journal)} frames" in str(log.border_subtitle)
            assert "filter: type:conversation.item.input_audio_transcription.*" in str(log.border_title)
            # A malformed query says why in the bar and leaves the filter in force.
            await pilot.press("f", "ctrl+u", *"dir:sideways", "enter")
            await pilot.pause()
            assert "expected in, out or local" in str(app.filter_bar.query_one(".query-bar--status").render())
            assert [app.journal[i].type for i in app.log_view.indices] == shown
            await pilot.press("escape")
            # Clear the filter (an empty query), then find a word the user said: it sits in a run of
            # deltas, collapsed, and the find opens that run at the frame.
            await pilot.press("f", "ctrl+u", "enter")
            await pilot.pause()
            assert app.log_view.query is None
            await pilot.press("slash", *"weather", "enter")
            await pilot.pause()
            selected = log.selected
            assert selected is not None
            frame = app.journal[selected]
            assert frame.type.endswith(".delta") and "weather" in app.journal.search_text(selected).lower()
            line = app.log_view.locate(selected)
            assert line is not None and line.row.expanded and line.member >= 0

            def status() -> str:
                return str(app.find_bar.query_one(".query-bar--status").render())

            assert log.finder is not None
            count = log.finder.count(app.log_view)
            assert count >= 2 and status().startswith(f"match 1 of {count} matching frames")
            assert "wrapped" not in status()
            first = selected
            await pilot.press("n")
            await pilot.pause()
            assert log.selected != first and "weather" in app.journal.search_text(log.selected or 0).lower()
            assert status().startswith(f"match 2 of {count}") and "wrapped" not in status()
            await pilot.press("N", "N")
            await pilot.pause()
            # Back past the first to the last, and the bar says so: `match 9 of 9` alone read as a
            # match before the first.
            assert status().startswith(f"match {count} of {count} matching frames · wrapped to the bottom · ")
            await pilot.press("n")
            await pilot.pause()
            assert status().startswith(f"match 1 of {count} matching frames · wrapped to the top · ")
            await pilot.press("n")
            await pilot.pause()
            assert status().startswith(f"match 2 of {count}") and "wrapped" not in status()
            # A clear leaves nothing to find in the view: the bar says so, not the old position.
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert status().startswith("'weather' is not in the 0 frames shown")
            await pilot.press("escape")  # in the log: ends the find
            await pilot.pause()
            assert log.finder is None and not app.find_bar.active and not app.find_bar.display


async def test_an_error_is_linked_to_what_we_sent_and_the_detail_shows_both(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        _, error_index = await cancel_refused(pilot, app)
        error = app.journal[error_index]
        cause = app.links.cause_of[error.index].cause
        assert app.journal[cause].type == "response.cancel"
        log = app.query_one(EventLog)
        log.focus()
        assert log.select_frame(error.index)
        await pilot.press("c")
        assert log.selected == cause
        await pilot.press("c")
        assert log.selected == error.index
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, EventDetail)
        text = screen_text(app)
        assert "response_cancel_not_active" in text and "caused by" in text and "response.cancel" in text
        assert "Go to linked frame" in text
        await pilot.press("x")  # jump to the linked frame, closing the detail
        await pilot.pause()
        assert log.selected == cause
        # A frame with no link: the detail view does not offer x.
        created = next(f for f in app.journal if f.type == "session.created")
        assert log.select_frame(created.index)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventDetail)
        text = screen_text(app)
        assert "Go to linked frame" not in text and "x linked frame" not in text


async def test_the_detail_view_wraps_a_long_string_and_end_reaches_the_last_line(simulator_url: str) -> None:
    """At 80 columns a sent message of 40 words shows whole in the detail view (Rich's JSON never
    wraps: it was cut at the edge), and End scrolls to the frame's closing brace."""
    words = " ".join(f"word{n}" for n in range(40))
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *words, "enter", "escape")
        await wait_for(pilot, lambda: any(f.type == "response.done" for f in app.journal), 30, "the reply")
        await views_settled(pilot, app)
        create = next(f for f in app.journal if f.type == "conversation.item.create")
        log = app.query_one(EventLog)
        log.focus()
        assert log.select_frame(create.index)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventDetail)
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "word39" in text  # the end of the long string, wrapped onto the lines below
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.scroll_y == scroll.max_scroll_y > 0
        assert "}" in text.split("word39", 1)[1]  # the closing brace shows below it


async def test_export_writes_the_filtered_frames_as_the_capture_has_them(tmp_path: Path, simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *"turn on the kitchen lights", "enter", "escape")
        # Its last frames: a frame after the export's (or the capture's) view would be one too many.
        await wait_for(pilot, lambda: reply_journaled(app), 30, "the reply and its last frame")
        await views_settled(pilot, app)
        query = "-type:*.delta dir:in"
        assert app.apply_filter(query)
        target = tmp_path / "export.jsonl"
        await pilot.press("e")
        await pilot.pause()
        path_input = app.screen.query_one("#path")
        path_input.value = str(target)  # type: ignore[attr-defined]
        await pilot.click("#export")
        await wait_for(pilot, target.exists, 10, "the export file")
        await wait_for(pilot, lambda: target.read_text().count("\n") == app.log_view.shown, 5, "every whole line")
        capture = app.capture.path if app.capture is not None else None
    assert capture is not None
    from tui.journal import Pipeline
    from tui.session import read_capture

    exported = read_capture(target)  # an export reads back as a capture does
    captured = read_capture(capture)
    # The same filter over the capture picks the same frames, and they are equal: raw text, size, type.
    replayed = Pipeline()
    replayed.ingest(captured)
    chosen = Query(query, replayed.journal)
    expected = [f.seq for f in replayed.journal if chosen.match(f)]
    assert [env.seq for env in exported] == expected and len(expected) > 10
    by_seq = {env.seq: env for env in captured}
    for env in exported:
        original = by_seq[env.seq]
        assert (env.raw, env.size, env.type, env.direction) == (
            original.raw,
            original.size,
            original.type,
            original.direction,
        )
    assert target.read_bytes().count(b"\n") == len(exported)
    assert target.stat().st_mode & 0o777 == 0o600


async def test_the_filter_bar_s_counts_follow_the_stream_and_a_typing_hint_is_left_alone() -> None:
    from tests.journal_helpers import received

    def status(app: RtApp) -> str:
        return str(app.filter_bar.query_one(".query-bar--status").render())

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest([received("response.created", response={"id": "resp_0"}), received("rate_limits.updated")])
        await pilot.press("f", *"type:response.created", "enter")
        await pilot.pause()
        assert "1 of 2 frames" in status(app)
        app.ingest([received("response.created", response={"id": f"resp_{n}"}) for n in range(1, 4)])
        await pilot.pause()
        assert "4 of 5 frames" in status(app) and "4 of 5 frames" in str(app.event_log.border_subtitle)
        await pilot.press("f", "ctrl+u", *"dir:", "enter")  # a malformed query: its reason stays put
        app.ingest([received("response.created", response={"id": "resp_9"})])
        await pilot.pause()
        assert "needs a value" in status(app) and "frames" not in status(app)


async def test_a_filter_over_a_long_journal_shows_its_first_screen_then_the_rest() -> None:
    """Over 60,000 frames the newest matches are shown at once; the whole view follows in slices,
    and the selected frame stays selected across the swap."""
    from tests.journal_helpers import received

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        frames = []
        for n in range(3000):
            frames.append(received("response.created", response={"id": f"resp_{n}"}))
            frames += [received("rate_limits.updated") for _ in range(19)]
        app.ingest(frames)
        await pilot.pause()
        app.apply_filter("response.id:resp_*")
        assert app._building is not None  # the tail is on screen, the rest is being built
        shown_first = app.log_view.shown
        assert 0 < shown_first < 3000
        app.event_log.focus()
        await pilot.press("up")
        selected = app.event_log.selected
        await wait_for(pilot, lambda: app._building is None, 20, "the whole filtered view")
        assert app.log_view.shown == 3000 and app.log_view.in_range == len(app.journal)
        assert app.event_log.selected == selected and app.event_log.cursor_line == 2999
        assert "3,000 of 60,000 frames" in str(app.filter_bar.query_one(".query-bar--status").render())


async def test_a_filter_the_journal_s_columns_answer_is_whole_at_once() -> None:
    """A rare type, a response, the errors over 60,000 frames: the columns name the few frames that
    may pass, so the whole view is shown at once, with matches an hour back, not a first screen."""
    from tests.journal_helpers import received, sent

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        frames = []
        for n in range(3000):
            frames.append(received("response.created", response={"id": f"resp_{n}"}))
            frames += [received("rate_limits.updated") for _ in range(19)]
            if n == 10:
                cancel = sent("response.cancel")
                frames += [cancel, received("error", error={"code": "x", "event_id": cancel.data["event_id"]})]
        app.ingest(frames)
        await pilot.pause()
        for query, shown in (("type:response.created", 3000), ("response:resp_5", 1), ("error", 1), ("is:linked", 2)):
            app.apply_filter(query)
            assert app._building is None, query
            assert app.log_view.shown == shown and app.log_view.complete, query
        assert app.journal.type_at(app.log_view.indices[0]) == "response.cancel"  # the cause, 59,000 frames back


async def test_its_frames_from_a_transcript_row_include_what_we_sent_to_make_it(simulator_url: str) -> None:
    """o on a transcript row: the item's frames, its response's, and the frames we sent that made
    them (the item.create of a typed message, the response.create of the reply); the filter shows
    in the bar as it shows in the pane's title."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        transcript = app.query_one(Transcript)
        for role, made_by in (("user", "conversation.item.create"), ("assistant", "response.create")):
            item = items(app, role)[-1]
            assert transcript.select_item(item.id)
            transcript.focus()
            await pilot.press("o")
            await pilot.pause()
            shown = {(app.journal[i].direction.value, app.journal[i].type) for i in app.log_view.indices}
            assert ("out", made_by) in shown, (role, shown)
            assert ("in", "conversation.item.added") in shown
            # A typed row also names its create by seq (2f2f048: the create names no item).
            sent = f" | seq:{item.sent_seq}" if item.sent_seq is not None else ""
            assert (
                app.filter_bar.input.value
                == f"for:{item.id}" + (f" | for:{item.response_id}" if item.response_id else "") + sent
            )


async def test_for_a_reply_s_item_includes_the_response_create_that_made_it(simulator_url: str) -> None:
    """`for:ITEM` of an assistant item: its frames, its response's and the response.create we sent
    for it, the same frames `o` on its row shows (typed in the filter bar, as a user would)."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        reply = items(app, "assistant")[-1]
        assert reply.response_id
        await pilot.press("f", *f"for:{reply.id} dir:out", "enter")
        await wait_for(pilot, lambda: app.filter_bar.active == f"for:{reply.id} dir:out", 5, "the filter")
        await views_settled(pilot, app)
        sent = [app.journal[i].type for i in app.log_view.indices]
        assert sent == ["response.create"], sent

        def frames(text: str) -> list[int]:
            query = Query(text, app.journal, app.links)
            return [i for i in range(len(app.journal)) if query.match_index(i)]

        both = frames(f"for:{reply.id} | for:{reply.response_id}")  # what o builds
        assert frames(f"for:{reply.id}") == both
        assert {app.journal[i].type for i in both} >= {"response.created", "response.done", "response.create"}
        user = items(app, "user")[-1]  # a typed item: its item.create, no response's frames
        assert {app.journal[i].type for i in frames(f"for:{user.id} dir:out")} == {"conversation.item.create"}


async def test_undo_clear_from_the_palette_shows_the_end_of_a_following_log() -> None:
    """The frames brought back fill the pane: a following log must show its end (the newest frame),
    not the first frame of the session while its title still says it is following."""
    from tests.journal_helpers import received

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        log = app.event_log
        app.ingest([received("response.created", response={"id": f"resp_{n}"}) for n in range(80)])
        await views_settled(pilot, app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.log_view.shown == 0
        await pilot.press("ctrl+p", *"log: undo clear")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.log_view.shown == 80, 5, "the frames from before the clear")
        await pilot.pause()
        assert log.tail and "paused" not in str(log.border_subtitle)
        assert log.scroll_offset.y == log.max_scroll_y > 0
        assert "resp_79" in screen_text(app)


async def test_o_leads_from_the_frames_that_made_an_item_or_its_response_to_its_row(simulator_url: str) -> None:
    """The reverse of o on a transcript row: from the frames we sent that made an item (a typed
    turn's item.create, a reply's response.create) and from the response's own frames (created,
    done: they name the response, whose output is the item), o selects the item's row."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        log, transcript = app.event_log, app.query_one(Transcript)
        user, assistant = items(app, "user")[-1], items(app, "assistant")[-1]
        expected = {
            "conversation.item.create": user.id,
            "response.create": assistant.id,
            "response.created": assistant.id,
            "response.done": assistant.id,
        }
        for etype, item_id in expected.items():
            index = max(frame.index for frame in app.journal if frame.type == etype)
            transcript.selected = None
            assert log.select_frame(index)
            log.focus()
            await pilot.press("o")
            await pilot.pause()
            assert transcript.selected == item_id, (etype, notices(app))
            assert transcript.has_focus


async def test_o_on_a_response_with_several_output_items_goes_to_the_first_and_says_how_many() -> None:
    from tests.journal_helpers import received

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(
            [
                received("response.created", response={"id": "resp_1"}),
                *(
                    received(kind, response_id="resp_1", item={"id": item, "type": "message", "role": "assistant"})
                    for item in ("item_a", "item_b")
                    for kind in ("response.output_item.added", "conversation.item.added")
                ),
                received("response.done", response={"id": "resp_1", "status": "completed"}),
            ]
        )
        await views_settled(pilot, app)
        app.event_log.focus()
        await pilot.press("up", "o")  # the last row: response.done
        await pilot.pause()
        assert app.query_one(Transcript).selected == "item_a"
        assert any("first of the 2 items" in text for _, text in notices(app)), notices(app)


async def test_a_reply_s_run_is_titled_by_what_it_holds_and_y_copies_all_of_it(
    tmp_path: Path, simulator_url: str
) -> None:
    """A reply's run mixes audio and transcript deltas: its details are titled as its row reads,
    with how many of each kind (not by its first frame's type), and y on it copies the whole run
    (the row stands for all its frames), as its details' c does."""
    import json

    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        log = app.event_log
        [run] = [row for row in app.log_view.rows if row.key is not None and row.key[0] == "response"]
        kinds = {app.journal[i].type for i in run.members}
        assert kinds == {"response.output_audio.delta", "response.output_audio_transcript.delta"}
        audio = sum(app.journal[i].type == "response.output_audio.delta" for i in run.members)
        log.focus()
        log.select_line(app.log_view.line_of(run))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the run's details")
        title = str(app.screen.query_one(VerticalScroll).border_title)
        took = app.journal[run.members[-1]].mono - app.journal[run.first].mono
        assert took > 0.001, "a reply streams over more than one read"
        assert title == (
            f"response deltas ×{run.count} · audio ×{audio} · transcript ×{run.count - audio} · {span_text(took)}"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EventDetail), 5, "the log again")
        await pilot.press("y")
        await wait_for(pilot, lambda: any("copied" in text for _, text in notices(app)), 5, "the copy")
        assert any(f"{run.count} frames" in text for _, text in notices(app)), notices(app)
    [saved] = (tmp_path / "rt-tui-data" / "saved").iterdir()
    copied = json.loads(saved.read_text())
    assert [frame["type"] for frame in copied] == [app.journal[i].type for i in run.members]


async def test_esc_leaves_the_filter_bar_showing_the_filter_in_force() -> None:
    """What was typed and not applied (a rejected query, or one left with Esc) must not stay in the
    bar under a title naming another filter: Esc puts the filter in force back, and its counts."""
    from tests.journal_helpers import received, sent
    from tui.journal import Family

    def status(app: RtApp) -> str:
        return str(app.filter_bar.query_one(".query-bar--status").render())

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest([sent("response.create"), received("response.created", response={"id": "resp_1"})])
        await views_settled(pilot, app)
        await pilot.press("f", *"dir:in", "enter")
        await pilot.pause()
        assert app.filter_bar.active == "dir:in"
        await pilot.press("f", "ctrl+u", *"dir:sideways", "enter")  # rejected: the filter stays
        await pilot.pause()
        assert "expected in, out or local" in status(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.filter_bar.input.value == "dir:in"
        assert "1 of 2 frames" in status(app)
        assert not app.filter_bar.query_one(".query-bar--status").has_class("-error")
        await pilot.press("f", "ctrl+u", *"dir:out", "escape")  # typed, never applied
        await pilot.pause()
        assert app.filter_bar.input.value == "dir:in" and "1 of 2 frames" in status(app)
        assert "filter: dir:in" in str(app.event_log.border_title)
        # With a family hidden, the bar holds the filter as typed: the toggles say the rest.
        app.toggle_family(Family.SESSION)
        await pilot.press("f")
        await pilot.pause()
        assert app.filter_bar.input.value == "dir:in"
        await pilot.press("enter")
        await pilot.pause()
        assert app.filter_bar.active == "(dir:in) -family:session"


async def test_exporting_a_cleared_log_says_why_there_is_nothing_instead_of_writing_an_empty_file(
    simulator_url: str,
) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("ctrl+l")
        await views_settled(pilot, app)
        assert app.log_view.shown == 0
        await pilot.press("e")
        await wait_for(pilot, lambda: app._notifications, 5, "a notice")
        assert not isinstance(app.screen, ModalScreen)  # no dialog offering to write 0 frames
        [notice] = [n for n in app._notifications if n.title == "Export"]
        assert "nothing to export: the log view is empty" in notice.message and "undo clear" in notice.message


def findings_recording(path: Path) -> Path:
    """A client's own log (one event a line) with three lint errors and two server errors: a WAV
    file sent as audio, a response.create while one is active, an empty commit; both refused."""
    wav = io.BytesIO()
    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(bytes(9600))
    audio = base64.b64encode(wav.getvalue()).decode()
    refused = {"type": "invalid_request_error", "code": "conversation_already_has_active_response"}
    empty = {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty"}
    events = [
        {"type": "session.created", "session": {"id": "sess_1", "type": "realtime", "model": "gpt-realtime"}},
        {
            "type": "conversation.item.create",
            "event_id": "evt_1",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": audio}]},
        },
        {"type": "response.create", "event_id": "evt_2"},
        {"type": "response.create", "event_id": "evt_3"},
        {
            "type": "error",
            "error": {**refused, "message": "Conversation already has an active response", "event_id": "evt_3"},
        },
        {"type": "input_audio_buffer.commit", "event_id": "evt_4"},
        {"type": "error", "error": {**empty, "message": "buffer too small", "event_id": "evt_4"}},
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


async def test_a_replay_s_findings_and_errors_fold_into_two_short_toasts(tmp_path: Path) -> None:
    """Five finding and error toasts at once (they stacked over the whole log at 120×32): the first
    shows whole, the rest count in one more, both gone sooner in a replay; a notice the user must
    not miss (a capture that failed) is never folded."""
    from tui.app.base import REPLAY_TOAST_SECONDS

    recording = load(findings_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 32)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        linter = app.model.linter
        assert linter is not None and sum(f.severity.value == "error" for f in linter.findings) == 3
        shown = notices(app)
        assert len(shown) == 2, shown
        (first, first_text), (more, more_text) = shown
        # The two server errors share one toast, counted; the three lint errors fold into one more.
        assert first.startswith("Server error ×2"), shown
        assert more == "More findings" and "! lists the findings" in more_text
        assert more_text.startswith("3 more (Lint: wav-header-in-audio, Lint: response-while-active, "), more_text
        # Textual keeps the toasts on a private attribute (see app_helpers.notices): their timeouts.
        assert {n.timeout for n in app._notifications} == {REPLAY_TOAST_SECONDS}
        app.say("the disk is full", title="Capture failed", severity="error", timeout=30)
        assert [title for title, _ in notices(app)][-1] == "Capture failed"  # shown, not counted
        assert len(notices(app)) == 3


def lines_in(path: Path, count: int) -> bool:
    """`path` holds `count` whole lines."""
    return path.read_text().count("\n") == count


def audio_recording(path: Path) -> Path:
    """A client's own log (one event a line): a session, two appends of audio, a commit."""
    audio = base64.b64encode(bytes(4800)).decode()
    events = [
        {"type": "session.created", "session": {"id": "sess_1", "type": "realtime", "model": "gpt-realtime"}},
        {"type": "input_audio_buffer.append", "event_id": "evt_1", "audio": audio},
        {"type": "input_audio_buffer.append", "event_id": "evt_2", "audio": audio},
        {"type": "input_audio_buffer.commit", "event_id": "evt_3"},
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


async def test_enter_on_the_export_dialog_s_audio_choice_exports_with_that_choice(tmp_path: Path) -> None:
    """Keyboard only: the dialog opens on the audio choice, and Enter there wrote nothing (it only
    ticked the option; Tab, then Enter, was the way, and nothing said so). Enter now exports with
    the highlighted choice, and the footer says so."""
    recording = load(audio_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 32)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        for name, keys, elided in (("tagged", ["down", "enter"], True), ("whole", ["enter"], False)):
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), 5, "the export dialog")
            footer = screen_text(app).splitlines()[-1]
            assert "Export" in footer and "Cancel" in footer, footer
            app.screen.query_one("#path").value = str(tmp_path / f"{name}.jsonl")  # type: ignore[attr-defined]
            await pilot.press(*keys)
            target = tmp_path / f"{name}.jsonl"
            await wait_for(pilot, target.exists, 10, f"the {name} export")
            await wait_for(pilot, partial(lines_in, target, 4), 5, "every line")
            records = [json.loads(line) for line in target.read_text().splitlines()]
            appends = [r for r in records if r["type"] == "input_audio_buffer.append"]
            assert len(appends) == 2
            assert all((r.get("elided") == "audio") is elided for r in appends), appends
            assert not isinstance(app.screen, ModalScreen)


async def test_the_palette_s_frame_actions_say_to_select_a_frame_while_none_is(tmp_path: Path) -> None:
    """With the log following (nothing selected), the palette's 'log: details', 'log: copy frame'…
    did nothing at all when chosen: they say what to do now, and act once a frame is selected."""
    recording = load(audio_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 32)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)

        def command(title: str) -> object:
            [found] = [c for c in app.get_system_commands(app.screen) if c.title == title]
            return found.callback()

        for title in ("log: details", "log: copy frame", "log: transcript row"):
            command(title)
            await pilot.pause()
            assert not isinstance(app.screen, ModalScreen), title
            assert "Select a frame first" in notices(app)[-1][1], (title, notices(app))
        # Cause ↔ error has somewhere to go with nothing selected, as `c` has: the recording's
        # silent audio is a finding that names the append with it.
        command("log: cause ↔ error")
        await wait_for(
            pilot,
            lambda: "its finding silent-audio names it with" in notices(app)[-1][1],
            5,
            "the finding's frames named",
        )
        assert app.event_log.selected is not None
        app.event_log.focus()
        await pilot.press("up")
        command("log: details")
        await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), 5, "the details")
        assert isinstance(app.screen, EventDetail)


async def test_the_palette_s_screenshot_says_where_a_replay_s_goes(tmp_path: Path) -> None:
    """A replay has no session folder: the palette said 'in the session folder' and the file went
    to the data folder's saved/. It says where it goes now."""
    recording = load(audio_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 32)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        assert command.help == "Save an SVG screenshot in the data folder's saved/"
        command.callback()
        await pilot.pause()
        [(_, said)] = [n for n in notices(app) if n[0] == "Screenshot"]
        assert f"{Path(said.split(' to ', 1)[1]).parent.name}/" == "saved/", said


async def test_its_frames_after_a_clear_brings_back_the_frames_the_clear_hid(simulator_url: str) -> None:
    """`o` on a transcript row after ctrl+l showed an empty log ('0 of 0 frames · since clear'):
    the item's frames were all before the clear. Asking for them brings the cleared frames back."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(160, 48)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        await pilot.press("ctrl+l")
        await views_settled(pilot, app)
        assert app.log_view.floor > 0
        item = items(app, "assistant")[-1]
        transcript = app.query_one(Transcript)
        assert transcript.select_item(item.id)
        transcript.focus()
        await pilot.press("o")
        await views_settled(pilot, app)
        assert app.log_view.floor == 0
        shown = {app.journal[i].type for i in app.log_view.indices}
        assert {"response.create", "response.done", "conversation.item.added"} <= shown, shown


async def test_the_export_dialog_at_80_columns_shows_the_file_name_not_only_its_folder(tmp_path: Path) -> None:
    """The path field showed its start, the session folder: the file's name, the part a user checks
    before exporting, was out of view."""
    recording = load(audio_recording(tmp_path / "own-log.jsonl"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), 5, "the export dialog")
        name = app.screen.query_one("#path").value  # type: ignore[attr-defined]
        # The name alone: the folder is said under it (the whole path, scrolled to its end, showed the
        # session folder's name twice: in the field and in the line under it).
        assert name == Path(app.screen.default_path).name and name.endswith(".jsonl")  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: name in screen_text(app), 5, f"{name} on screen")
        assert f"in {Path(app.screen.default_path).parent}/" in str(app.screen.query_one("#folder").render())  # type: ignore[attr-defined]


async def test_a_replay_does_not_raise_the_recording_s_own_facts_as_notices(tmp_path: Path) -> None:
    """A replay raised the recorded "speaker unavailable" as if this machine's speaker were missing,
    and a recorded rejected session.update as a 15 s toast no other toast folds into: with the
    server's error and a finding, four toasts covered most of the log at 100×30."""
    from tests.journal_helpers import received, sent
    from tui.protocol import local_envelope
    from tui.session import CaptureWriter, new_session_dir

    capture = CaptureWriter(new_session_dir(tmp_path))
    update = sent("session.update", session={"type": "realtime", "voice": "nobody"})
    refusal = {"type": "invalid_request_error", "code": "invalid_value", "message": "voice nobody"}
    frames = [
        received("session.created", session={"id": "sess_1", "type": "realtime", "model": "gpt-realtime"}),
        local_envelope("rt.audio", "speaker unavailable, assistant audio is not played: no output device"),
        update,
        received("error", error={**refusal, "event_id": update.data["event_id"]}),
        sent("response.cancel"),
        received("error", error={"type": "invalid_request_error", "code": "response_cancel_not_active"}),
    ]
    for env in frames:
        capture.write(env)
    capture.close()
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(capture.path)))
    async with app.run_test(size=(100, 30)) as pilot:
        await replay_shown(pilot, app)
        assert any(f.type == "rt.audio" for f in app.journal)  # in the log, as recorded
        assert app.facts.rejections, "the rejection is known (the status line says it)"
        titles = [title for title, _ in notices(app)]
        assert not any(title.startswith("Audio") for title in titles), titles
        assert len(titles) <= 2, titles  # the first whole, the rest counted in one more


async def test_the_markdown_transcript_says_which_session_it_is_of(simulator_url: str) -> None:
    """A review in tmux: the exported Markdown named neither the server nor the session, so a file
    found later said nothing of where its conversation came from."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await typed_turn_done(pilot, app, "turn on the kitchen lights")
        app.export_transcript_markdown()
        [saved] = [message for title, message in notices(app) if message.startswith("saved ")]
        path = Path(saved.split(" to ", 1)[1].split()[0]) if " to " in saved else None
        assert path is not None and path.is_file(), saved
        lines = path.read_text().splitlines()
        assert lines[0] == "# Conversation"
        assert f"`session {app.facts.session_id}`" in lines[2] and app.facts.target in lines[2], lines[2]
        assert "`exported 20" in lines[2]
        assert any("kitchen lights" in line for line in lines[4:])
