"""Review 31 of replays: what a developer replaying a browser's HAR of a failed turn reads."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app_helpers import items, views_settled, wait_for
from tests.test_replay_inputs import T0, har_file
from tui.app import RtApp
from tui.config import Settings
from tui.replay import ReplayRequest, load
from tui.widgets import render_item

SERVER_ERROR = "The server had an error while processing your request."


def failed_turn_har(path: Path) -> Path:
    """A DevTools HAR of one turn whose response streamed words and then failed, its `output` empty."""
    received = [
        {"type": "session.created", "session": {"id": "sess_1"}},
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}},
        {
            "type": "response.output_item.added",
            "response_id": "resp_1",
            "output_index": 0,
            "item": {"id": "item_a", "type": "message", "role": "assistant", "status": "in_progress", "content": []},
        },
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "resp_1",
            "item_id": "item_a",
            "delta": "Sure, the",
        },
        {
            "type": "response.output_audio_transcript.delta",
            "response_id": "resp_1",
            "item_id": "item_a",
            "delta": " weather",
        },
        {
            "type": "response.done",
            "response": {
                "id": "resp_1",
                "status": "failed",
                "status_details": {
                    "type": "failed",
                    "error": {
                        "type": "server_error",
                        "message": "The server had an error while processing your request.",
                    },
                },
                "output": [],
            },
        },
    ]
    messages = [
        {"type": "receive", "time": T0 + n / 10, "opcode": 1, "data": json.dumps(frame)}
        for n, frame in enumerate(received)
    ]
    entry: dict[str, object] = {
        "startedDateTime": "2023-11-14T22:13:20Z",
        "request": {"url": "wss://api.openai.com/v1/realtime?model=gpt-realtime", "headers": []},
        "_webSocketMessages": messages,
    }
    return har_file(path, entry)


async def test_a_failed_response_with_an_empty_output_reads_failed_not_cut_off(tmp_path: Path) -> None:
    """Its item was never listed in the failed `response.done`, so the row kept streaming until the
    recording's end and then read "cut off: the connection ended": the failure, and its reason,
    were nowhere in the transcript."""
    app = RtApp(
        Settings(playback=False, capture=False), replay=ReplayRequest(load(failed_turn_har(tmp_path / "t.har")))
    )
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await views_settled(pilot, app)
        [reply] = items(app, "assistant")
        head = render_item(reply).plain.splitlines()[0]
        assert head.startswith("assistant  failed (server_error: The server had an error"), head
        assert "cut off" not in head and "streaming" not in head
        assert reply.text == "Sure, the weather"


def test_replay_json_keeps_a_lone_surrogate_as_its_escape(tmp_path: Path) -> None:
    """Half an emoji in a delta (`\\ud83d`): `replay --json` printed U+FFFD in its place, so the line
    no longer held the frame's value, and the server's error about it named a character not there."""
    import subprocess
    import sys

    log = tmp_path / "half.jsonl"
    log.write_text(
        '{"type":"session.created","session":{"type":"realtime"}}\n'
        '{"type":"response.output_text.delta","response_id":"r","item_id":"i","delta":"emoji half \\ud83d"}\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "tui", "replay", "--json", str(log)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert '"delta":"emoji half \\ud83d"' in last and "\ufffd" not in last
    assert json.loads(last)["frame"]["delta"] == "emoji half \ud83d"


async def test_a_long_filter_problem_wraps_in_the_bar_and_a_count_goes_back_to_one_row(tmp_path: Path) -> None:
    """`fam:bogus` lists the families, more than the bar's row holds at 80 columns: it was cut
    after the fourth, the others lost. A problem wraps onto up to three rows; the bar's status
    goes back to one row when the query is fixed."""
    from tui.widgets.query_bar import BarStatus

    recording = load(failed_turn_har(tmp_path / "t.har"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")
        await pilot.press("f", *"fam:bogus", "enter")
        await pilot.pause()
        status = app.filter_bar.query_one(BarStatus)
        shown = " ".join(status.render_line(y).text.strip() for y in range(status.size.height))
        assert status.size.height > 1
        assert "local, unknown" in shown and shown.startswith("family:bogus: expected one of session"), shown
        await pilot.press("ctrl+u", *"fam:response", "enter")
        await pilot.pause()
        assert not app.filter_bar.display  # applied at 80x24: the bar closes, the title says the filter
        await pilot.press("f")
        await pilot.pause()
        assert status.size.height == 1


async def test_a_misspelled_shortcut_that_matches_nothing_says_which_it_may_mean(tmp_path: Path) -> None:
    """`typ:response.*` is a JSON path (a frame may have a field `typ`), so it is no error, but it
    matched nothing without a word, as if no frame were a response."""
    recording = load(failed_turn_har(tmp_path / "t.har"))
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 10, "the replay")

        def status() -> str:
            return str(app.filter_bar.query_one(".query-bar--status").render())

        await pilot.press("f", *"typ:response.*", "enter")
        await wait_for(pilot, lambda: status().startswith("0 of "), 5, "the count")
        assert "typ: is read as a field of the frames; did you mean type:?" in status(), status()
        await pilot.press("f", "ctrl+u", *"type:response.*", "enter")
        await wait_for(pilot, lambda: not status().startswith("0 of "), 5, "the responses")
        assert "did you mean" not in status()


def test_lint_of_a_log_of_sends_alone_says_what_it_cannot_tell(tmp_path: Path) -> None:
    """A log of one's own sends (a common way to log) linted "0 findings" without a caveat, though
    it cannot show whether transcription was on, nor what the server refused."""
    import subprocess
    import sys

    note = "rt-tui lint: note: the recording holds only frames sent, none from the server"
    sends = tmp_path / "sends.jsonl"
    audio = "A" * 6400  # 4,800 bytes: 100 ms of 24 kHz PCM16, a commit the server takes
    sends.write_text(
        json.dumps({"type": "input_audio_buffer.append", "audio": audio})
        + '\n{"type":"input_audio_buffer.commit"}\n{"type":"response.create"}\n'
    )
    alone = subprocess.run(
        [sys.executable, "-m", "tui", "lint", str(sends)], capture_output=True, text=True, timeout=60
    )
    assert alone.returncode == 0, alone.stdout
    assert alone.stderr.startswith(note) and alone.stderr.count("\n") == 1, alone.stderr
    both = tmp_path / "both.jsonl"
    both.write_text('{"type":"session.created","session":{"type":"realtime"}}\n' + sends.read_text())
    answered = subprocess.run(
        [sys.executable, "-m", "tui", "lint", str(both)], capture_output=True, text=True, timeout=60
    )
    assert note not in answered.stderr
