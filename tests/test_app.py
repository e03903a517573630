"""The real app under `run_test()`: a spoken push-to-talk turn through real PyAudio (fake ALSA mic),
real websockets, the real simulator with real speech recognition and synthesis."""

from __future__ import annotations

import json
import os
import re
from array import array
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from tests.app_helpers import (
    items,
    notices,
    press_voice,
    reply_done,
    session_ready,
    turn_complete,
    views_settled,
    wait_for,
)
from tests.audio_helpers import FifoFeeder, FifoSink, fake_alsa, no_sound_card
from tests.server_helpers import silence, speech_pcm24
from tests.test_barge_in_round31 import speaker_app
from tests.test_voice_turns import appends
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import TextState
from tui.widgets import EventLog, Recorder, RecorderState, Transcript

QUESTION = "what is the weather like in London today"


async def test_push_to_talk_turn_fills_both_rows_and_logs_every_frame(tmp_path: Path, simulator_url: str) -> None:
    speech = speech_pcm24(QUESTION)
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session to open and take our config")
            # The audio stack loaded after the first paint, before any key: the turn starts at once.
            await wait_for(pilot, lambda: app.voice.audio_ready is not None, 5, "the audio stack to load")
            assert app.voice.audio_ready is True
            written_at_start = feeder.written  # before the press: the stream opens during it
            await press_voice(pilot, "space")
            assert app.query_one(Recorder).state is RecorderState.RECORDING
            feeder.play(speech + silence(300))
            await wait_for(pilot, feeder.played.is_set, 15, "the fake microphone to play the question")
            # `played` is set as the last chunk is taken, before it is written: ten more appends
            # (200 ms) and the microphone has read it all.
            played_at = appends(app)
            await wait_for(pilot, lambda: appends(app) >= played_at + 10, 10, "the question's end sent")
            await press_voice(pilot, "space")
            sent = app.voice.last_turn_ms * 48
            # Nothing lost: the feeder waits for a reader, so every played byte must have been sent
            # (less at most one 20 ms capture period still in flight at the stop).
            played = len(speech) + len(silence(300))
            # Nothing invented: never more than the microphone delivered while the key was down, plus
            # what its FIFO held when the stream opened (a duplicated chunk would break this).
            delivered = feeder.written - written_at_start + feeder.capacity
            assert played - 960 <= sent <= delivered + 960, (sent, played, delivered, feeder.capacity)
            # The user's row exists as soon as the commit is acknowledged, before any transcript.
            await wait_for(pilot, lambda: items(app, "user"), 5, "the user row")
            await wait_for(pilot, lambda: turn_complete(app), 30, "the transcript and the reply")
            user, assistant = items(app, "user")[-1], items(app, "assistant")[-1]
            assert user.state is TextState.DONE
            assert "weather" in user.text.lower()
            assert user.transcription_latency is not None
            assert "weather" in assistant.text.lower()
            order = [i.role for i in app.conversation.ordered()]
            assert order == ["user", "assistant"]
            await views_settled(pilot, app)
            shown = app.query_one(Transcript).text()
            assert "weather" in shown.lower() and "assistant" in shown
            log = app.query_one(EventLog).row_texts()
            append_rows = [row for row in log if "input_audio_buffer.append" in row]
            assert append_rows and all("[audio" in row for row in append_rows)
            assert not any(len(row) > 400 for row in log)  # payloads elided, never dumped
            assert any("conversation.item.input_audio_transcription.completed" in row for row in log)
            # The transcription's deltas: one frame, or a run of them (`transcription deltas ×N`).
            assert any(
                "conversation.item.input_audio_transcription.delta" in row or "transcription deltas ×" in row
                for row in log
            )
            assert any(row.startswith("▲ input_audio_buffer.commit") for row in log)
            assert any(row.startswith("▲ response.create") for row in log)
            assert app.facts.session_id.startswith("sess_")
            # Frames still come after the reply (rate_limits.updated, ~40 ms later): close first, so
            # nothing arrives between the count and the file.
            assert app.session is not None
            await app.session.close()
            await views_settled(pilot, app)
            counted = (app.facts.frames_in, app.facts.frames_out)
    # Every frame, both ways, is in the capture file: as many as the app counted on the bus.
    [capture] = Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/frames.jsonl")
    records = [json.loads(line) for line in capture.read_text().splitlines()]
    on_disk = (sum(r["dir"] == "in" for r in records), sum(r["dir"] == "out" for r in records))
    assert on_disk == counted and counted[1] > 50, (on_disk, counted)
    assert any(r["type"] == "conversation.item.input_audio_transcription.completed" for r in records)


async def test_assistant_audio_is_played_through_the_speaker(tmp_path: Path, simulator_url: str) -> None:
    with FifoSink(tmp_path / "spk.fifo") as sink, fake_alsa(None, tmp_path / "spk.fifo"):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t")
            await pilot.press(*"tell me about the weather in Paris")
            await pilot.press("enter")
            await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
            await wait_for(pilot, lambda: len(sink.data) > 48_000, 10, "a second of audio on the speaker")
            user = items(app, "user")[-1]
            assert user.text == "tell me about the weather in Paris"
    import numpy as np

    samples = np.frombuffer(sink.data[: len(sink.data) // 2 * 2], dtype="<i2")
    assert np.abs(samples).max() > 1000  # real speech, not silence


async def test_without_a_microphone_the_recorder_says_so_and_text_still_works(
    tmp_path: Path, simulator_url: str
) -> None:
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            sent_before = app.facts.frames_out
            await press_voice(pilot, "space")
            await wait_for(
                pilot,
                lambda: app.query_one(Recorder).state is RecorderState.UNAVAILABLE,
                5,
                "the recorder to report the missing device",
            )
            assert "no input device" in app.query_one(Recorder).message
            await pilot.pause(0.1)
            assert app.facts.frames_out == sent_before  # reported before anything was sent
            await pilot.press("t", *"hello there", "enter")
            await wait_for(pilot, lambda: reply_done(app), 30, "a reply to the typed message")
            await views_settled(pilot, app)
            assert any("rt.audio" in row for row in app.query_one(EventLog).row_texts())


async def test_no_flag_and_no_key_uses_the_embedded_simulator() -> None:
    app = RtApp(Settings(playback=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 15, "the embedded simulator's session")
        assert app.facts.target.startswith("simulator · 127.0.0.1:")


async def test_a_wrong_url_is_reported_and_the_app_keeps_running() -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url="ws://127.0.0.1:9/v1/realtime", playback=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.facts.state == "failed", 10, "the failure")
        await press_voice(pilot, "space")  # no crash: the recorder explains
        assert "not connected" in app.query_one(Recorder).message
        assert app.is_running


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_key(key: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url="ws://127.0.0.1:9/v1/realtime"), connect=False)
    async with app.run_test() as pilot:
        await pilot.press(key)
        await pilot.pause()
    assert not app.is_running


async def test_hands_free_turn_is_ended_by_server_vad(tmp_path: Path, simulator_url: str) -> None:
    speech = speech_pcm24(QUESTION)
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await press_voice(pilot, "v")
            await wait_for(pilot, lambda: app.session_updates >= 2, 5, "server VAD to be configured")
            assert app.query_one(Recorder).state is RecorderState.LISTENING
            feeder.play(silence(500) + speech + silence(1200))
            await wait_for(pilot, lambda: turn_complete(app), 30, "VAD to end the turn and the reply")
            user = items(app, "user")[-1]
            assert "weather" in user.text.lower()
            await views_settled(pilot, app)
            log = app.query_one(EventLog).row_texts()
            assert any("input_audio_buffer.speech_started" in row for row in log)
            assert any("input_audio_buffer.speech_stopped" in row for row in log)
            assert not any(row.startswith("▲ input_audio_buffer.commit") for row in log)  # the server committed
            await press_voice(pilot, "v")
            await wait_for(pilot, lambda: app.query_one(Recorder).state is RecorderState.IDLE, 5, "push-to-talk")


async def test_talking_over_the_assistant_truncates_at_what_was_played(tmp_path: Path, simulator_url: str) -> None:
    # The simulator echoes the message: pasted long, the reply speaks for about 20 s. Under load a
    # pilot press waits for the app to go idle (up to seconds); a 5 s reply once ended before the
    # press that talked over it arrived, and there was nothing left to truncate.
    ask = " ".join(["please describe the weather in Paris and in London this week"] * 4)
    async with speaker_app(tmp_path, simulator_url, (120, 40)) as (app, pilot, sink):
        await pilot.press("t")
        app.query_one("#message", Input).post_message(events.Paste(ask))
        await wait_for(pilot, lambda: app.query_one("#message", Input).value == ask, 5, "the paste")
        await pilot.press("enter", "escape")

        def voiced() -> int:
            """Milliseconds of non-silent samples the speaker has played (it plays silence while
            the reply's audio runs late on a loaded machine)."""
            return sum(1 for sample in array("h", bytes(sink.data)[: len(sink.data) & ~1]) if sample) // 24

        # A second played, of which more than 100 ms was the reply: a second alone held only 99 ms
        # of it once, with the reply's audio late.
        await wait_for(pilot, lambda: len(sink.data) > 48_000 and voiced() > 150, 15, "the reply to be heard")
        voiced_ms = voiced()
        assert app.voice.playing, "the reply ended before the test could talk over it"
        await press_voice(pilot, "space")  # barge in
        assistant = items(app, "assistant")[-1]
        await wait_for(pilot, lambda: assistant.audio_end_ms is not None, 5, "conversation.item.truncated")
        played_ms = len(sink.data) // 48
        assert assistant.audio_end_ms is not None and voiced_ms > 100
        # What was heard, not what was generated (the whole reply is several seconds).
        assert voiced_ms - 50 <= assistant.audio_end_ms <= played_ms + 50
        # Waited on what is asserted, not on the views being current: the turn being recorded streams
        # appends, and under CI's load the views were never caught with nothing pending for 5 s.
        truncate_shown = lambda: any(  # noqa: E731
            row.startswith("▲ conversation.item.truncate") for row in app.query_one(EventLog).row_texts()
        )
        await wait_for(pilot, truncate_shown, 10, "the truncate in the log")
        # The pane strikes out the words the speaker never reached, and says how much was heard.
        split = assistant.heard_split
        assert split is not None and split[1].split()
        transcript = app.query_one(Transcript)
        said = f"truncated at {assistant.audio_end_ms / 1000:.2f} s of"
        shown = lambda: any(said in transcript.render_line(y).text for y in range(transcript.size.height))  # noqa: E731
        await wait_for(pilot, shown, 10, "the transcript saying what was heard")
        rows = [transcript.render_line(y) for y in range(transcript.size.height)]
        struck = " ".join(
            "".join(seg.text for seg in row if seg.style is not None and seg.style.strike) for row in rows
        )
        assert struck.split() == split[1].split()[: len(struck.split())] and struck.strip()
        assert any(f"truncated at {assistant.audio_end_ms / 1000:.2f} s of" in row.text for row in rows)
        await press_voice(pilot, "space")


async def test_a_wrong_api_key_is_reported_and_the_app_keeps_running(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.server.testing import realtime_simulator
    from tui.widgets import EventLog

    wrong = "test-key-wrong-9876543210zyxw"
    monkeypatch.setenv("RT_TUI_API_KEY", wrong)
    async with realtime_simulator(api_key="test-key-right-0123456789abcd") as sim:
        app = RtApp(Settings(target=TargetChoice.URL, url=sim.url_for(), playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.facts.state == "failed", 10, "the refusal")
            await views_settled(pilot, app)
            rows = app.query_one(EventLog).row_texts()
            assert any(row.startswith("▼ error") and "invalid_api_key" in row for row in rows)  # the frame is kept
            assert any("server refused the session" in row for row in rows)
            assert all(wrong not in row for row in rows)
            assert app.is_running
    captures = list(Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/frames.jsonl"))
    assert captures and all(wrong not in c.read_text() for c in captures)


@pytest.mark.usefixtures("microphone")
async def test_an_expired_session_is_reported_and_reconnect_opens_a_new_one() -> None:
    from tui.server.testing import realtime_simulator

    async with realtime_simulator() as sim:
        url = sim.url_for(session_seconds=4)
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            first = app.facts.session_id
            await pilot.press("t", *"hello there", "enter", "escape")
            await wait_for(pilot, lambda: items(app, "user"), 5, "the typed message, before the expiry")
            await wait_for(pilot, lambda: app.facts.state == "closed", 10, "the expiry")
            await views_settled(pilot, app)  # the recorder is a view: it follows at the views' next repaint
            # The recorder and the status line say the session is gone, not what it was configured to do.
            assert items(app, "user") and app.query_one(Recorder).state is RecorderState.DISCONNECTED
            assert "1001" in app.facts.describe() and "transcribe" not in app.facts.describe()
            rows = app.query_one(EventLog).row_texts()
            assert any("session_expired" in row for row in rows)
            assert any("1001" in row for row in rows if "rt.connection" in row)
            assert "Disconnected" in [title for title, _ in notices(app)]
            await pilot.press("ctrl+r")
            await wait_for(
                pilot,
                lambda: app.facts.state == "open" and app.facts.session_id != first,
                10,
                "a new session",
            )
            # The notice of the expiry is taken down once the new session is open: it is over.
            await wait_for(pilot, lambda: "Disconnected" not in [t for t, _ in notices(app)], 5, "the old notice gone")
            assert items(app, "user")[0].text == "hello there"  # the transcript survives the reconnect
            await views_settled(pilot, app)
            # A separator row marks the new session, and the log's time starts again at its connect.
            shown = app.query_one(Transcript).text()
            assert "── new session to 127.0.0.1:" in shown and shown.index("hello there") < shown.index("new session")
            reconnected = [f for f in app.journal if f.type == "rt.connection" and f.epoch == 2]
            assert reconnected and app.journal.since_connect(reconnected[0]) == 0.0
            assert any("━━ connection 2 ━━" in line for line in app.query_one(EventLog).line_texts())
            await wait_for(pilot, lambda: app.query_one(Recorder).state is RecorderState.IDLE, 5, "the recorder")


async def test_ctrl_r_while_connected_closes_this_session_and_opens_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The palette promises "Open a new session, keeping the transcript": while connected too. The
    old session is closed first (its capture complete), then a new one opens."""
    from tui.server.testing import realtime_simulator

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path))
    async with realtime_simulator() as sim:
        app = RtApp(Settings(target=TargetChoice.URL, url=sim.url_for(), playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            first, first_capture = app.facts.session_id, app.capture
            await pilot.press("t", *"hello there", "enter", "escape")
            await wait_for(pilot, lambda: items(app, "assistant"), 10, "the reply")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: session_ready(app) and app.facts.session_id != first, 10, "a new session")
            assert app.capture is not first_capture and first_capture is not None
            closed = [json.loads(line) for line in first_capture.path.read_text().splitlines()]
            assert closed[-1]["type"] == "rt.connection" and closed[-1]["info"]["state"] == "closed"
            assert items(app, "user")[0].text == "hello there"  # the transcript is kept
            await views_settled(pilot, app)
            assert "── new session to 127.0.0.1:" in app.query_one(Transcript).text()


@pytest.mark.usefixtures("microphone")
async def test_a_connection_dropped_mid_reply_keeps_the_partial_reply_and_says_it_was_cut_off() -> None:
    from tui.server.testing import realtime_simulator

    async with realtime_simulator() as sim:
        # The server's socket dies (no close frame) right after the reply's third transcript delta.
        url = sim.url_for(drop_after="response.output_audio_transcript.delta:3")
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, reconnect=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t", *"what is the weather in Rome", "enter", "escape")
            await wait_for(pilot, lambda: app.facts.state == "closed", 15, "the drop")
            await pilot.pause(0.1)
            user, assistant = items(app, "user")[-1], items(app, "assistant")[-1]
            assert user.text == "what is the weather in Rome" and user.state is TextState.DONE
            # The three deltas that arrived are kept; the row no longer claims more is coming.
            assert assistant.state is TextState.INTERRUPTED
            assert len(assistant.text.split()) == 3, assistant.text
            shown = app.query_one(Transcript).text()
            assert "cut off: the connection ended" in shown and assistant.text in shown
            assert "streaming…" not in shown
            assert app.query_one(Recorder).state is RecorderState.DISCONNECTED


async def test_credentials_in_the_url_are_masked_everywhere(simulator_url: str) -> None:
    secret = "azure-like-secret-value-42"
    url = f"{simulator_url}&api-key={secret}"
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        label = app.facts.target
        assert "api-key=***" in label and secret not in label
        await views_settled(pilot, app)
        assert all(secret not in row for row in app.query_one(EventLog).row_texts())
        screen = app.export_screenshot()
        assert secret not in screen
    captures = list(Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/frames.jsonl"))
    assert captures and all(secret not in c.read_text() for c in captures)


async def test_a_reply_heard_to_the_end_is_not_truncated(tmp_path: Path, simulator_url: str) -> None:
    with (
        FifoFeeder(tmp_path / "mic.fifo"),
        FifoSink(tmp_path / "spk.fifo") as sink,
        fake_alsa(tmp_path / "mic.fifo", tmp_path / "spk.fifo"),
    ):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t", *"hi", "enter", "escape")
            await wait_for(
                pilot,
                lambda: (
                    items(app, "assistant")
                    and items(app, "assistant")[-1].status == "completed"
                    and app.facts.active_response is None
                ),
                15,
                "the reply",
            )
            await wait_for(pilot, lambda: len(sink.data) > 24_000, 10, "the reply to start playing")

            # While it plays, the recorder's line says so and how to interrupt it; then it goes.
            def line() -> str:
                return app.recorder.render().plain

            await wait_for(pilot, lambda: "▶ assistant " in line(), 5, "the line to say the reply plays")
            assert re.search(r"▶ assistant \d+\.\d s · space: talk over it", line()), line()
            first = app.voice.speaking_ms()
            await wait_for(pilot, lambda: (app.voice.speaking_ms() or 0) > (first or 0) + 300, 5, "the count to go up")
            await wait_for(pilot, lambda: not app.voice.playing, 20, "the speaker to play the whole reply")
            await wait_for(pilot, lambda: "▶ assistant" not in line(), 5, "the line to clear")
            await pilot.pause(0.2)
            await press_voice(pilot, "space")
            await pilot.pause(0.5)
            await views_settled(pilot, app)
            log = app.query_one(EventLog).row_texts()
            assert not any(row.startswith("▲ conversation.item.truncate") for row in log)
            assert not any(row.startswith("▲ response.cancel") for row in log)
            assert items(app, "assistant")[-1].status == "completed"
            await press_voice(pilot, "space")


@pytest.mark.parametrize(
    ("burst", "bar", "expected"),
    [
        ("tquick question", "message", "quick question"),
        ("ftype:error", "filter", "type:error"),
        ("/kitchen", "find", "kitchen"),
    ],
)
async def test_keys_typed_in_a_burst_after_t_f_or_slash_land_in_the_input_they_opened(
    burst: str, bar: str, expected: str
) -> None:
    """`t` then a fast `quick question` used to reach the log's bindings before the focus moved:
    `q` quit the app. The focus now moves before the next key is dispatched."""
    from tests.app_helpers import type_burst

    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        type_burst(app, burst)
        inputs = {
            "message": app.query_one("#message", Input),
            "filter": app.filter_bar.input,
            "find": app.find_bar.input,
        }
        await wait_for(pilot, lambda: inputs[bar].value == expected, 5, f"{expected!r} in the {bar} input")
        assert app.is_running and app.focused is inputs[bar]
        assert all(field.value == "" for name, field in inputs.items() if name != bar)
        type_burst(app, "t")  # inside an input, `t` is a letter
        await wait_for(pilot, lambda: inputs[bar].value == expected + "t", 5, "the letter t typed")
