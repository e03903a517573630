"""The app facing bad input: malformed and unknown frames, a missing speaker. Each gets a clear
message, the conversation goes on, and nothing received is lost."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from websockets.asyncio.server import ServerConnection

from tests.app_helpers import (
    items,
    notices,
    open_frame_details,
    painted_text,
    reply_done,
    screen_text,
    session_ready,
    views_settled,
    wait_for,
)
from tests.audio_helpers import no_sound_card
from tests.server_helpers import scripted_peer
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.widgets import EventLog, Transcript


async def test_malformed_frames_are_reported_and_the_session_goes_on() -> None:
    from tui.server.testing import realtime_simulator

    async with realtime_simulator() as sim:
        url = sim.url_for(malformed="not_json,no_type", malformed_after="session.created:1")
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            both = lambda: any(t.startswith("Malformed frame ×2") for t, _ in notices(app))  # noqa: E731
            await wait_for(pilot, both, 5, "the malformed-frame notice, counting both")
            assert [title.startswith("Malformed frame") for title, _ in notices(app)].count(True) == 1  # not a stack
            await views_settled(pilot, app)
            rows = app.query_one(EventLog).row_texts()
            assert sum("rt.malformed" in row for row in rows) == 2
            await pilot.press("t", *"what is the weather in Oslo", "enter", "escape")
            await wait_for(pilot, lambda: reply_done(app), 20, "a reply after the bad frames")
            assert "oslo" in items(app, "assistant")[-1].text.lower()
            assert app.facts.state == "open"
            # Saved from its details, a frame that did not parse keeps the text that came (under
            # `raw`, as the capture keeps it), not only rt-tui's note of why it did not parse.
            bad = next(f for f in app.journal if f.type == "rt.malformed" and f.raw and "not JSON" in str(f.data))
            await open_frame_details(pilot, app, bad.index)
            await pilot.press("s")
            await wait_for(pilot, lambda: any(m.startswith("saved to ") for _, m in notices(app)), 5, "the save")
            saved = Path(next(m for _, m in notices(app) if m.startswith("saved to ")).removeprefix("saved to "))
            kept = json.loads(saved.read_text())
            assert kept["type"] == "rt.malformed" and "not JSON" in kept["message"]
            assert kept["raw"] == bad.raw


async def unknown_events_peer(ws: ServerConnection) -> None:
    """A server of a newer protocol: sends an event type rt-tui has never heard of."""
    await ws.send(json.dumps({"type": "session.created", "event_id": "event_1", "session": {"id": "sess_new"}}))
    async for message in ws:
        event = json.loads(message)
        if event.get("type") == "session.update":
            await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_new"}}))
            await ws.send(json.dumps({"type": "conversation.item.sparkles", "event_id": "event_2", "level": 3}))
            item = {
                "id": "item_asst1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "still here"}],
            }
            await ws.send(json.dumps({"type": "conversation.item.added", "previous_item_id": None, "item": item}))


async def test_an_unknown_event_type_is_shown_and_counted_not_fatal() -> None:
    async with scripted_peer(unknown_events_peer) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: items(app, "assistant"), 10, "the item after the unknown event")
            await views_settled(pilot, app)
            rows = app.query_one(EventLog).row_texts()
            assert any("conversation.item.sparkles unknown type ·" in row for row in rows), rows
            # On screen the type column keeps the name (in the log's short spelling of its known
            # prefix, c.item.), not cut to make room for a label: the summary says it is unknown.
            lines = app.query_one(EventLog).line_texts()
            assert any(" c.item.sparkles " in line and "unknown type ·" in line for line in lines), lines
            assert app.conversation.unhandled == {"conversation.item.sparkles": 1}
            assert "still here" in app.query_one(Transcript).text()


async def typed_reply_done(pilot: Pilot[None], app: RtApp) -> None:
    """Once the session is open, a typed message and its whole reply (its audio unplayable here)."""
    await wait_for(pilot, lambda: session_ready(app), 10, "the session")
    await pilot.press("t", *"tell me a joke", "enter", "escape")
    await wait_for(pilot, lambda: reply_done(app), 30, "the reply (its audio cannot be played)")


async def test_without_a_speaker_text_replies_still_arrive_and_the_user_is_told(
    tmp_path: Path, simulator_url: str
) -> None:
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=True))
        async with app.run_test(size=(120, 40)) as pilot:
            await typed_reply_done(pilot, app)
            await wait_for(pilot, lambda: any(t == "Audio" for t, _ in notices(app)), 5, "the speaker notice")
            message = next(m for t, m in notices(app) if t == "Audio")
            assert "speaker unavailable" in message and "no output device" in message
            await views_settled(pilot, app)
            rows = app.query_one(EventLog).row_texts()
            # Said once, not once per audio delta.
            assert sum("speaker unavailable" in row for row in rows) == 1
            assert items(app, "assistant")[-1].text
            # And for as long as it lasts, where the microphone's state is.
            assert app.recorder.render().plain.startswith("× no microphone, no speaker  push-to-talk")


async def test_at_80x24_no_speaker_is_said_on_the_recorder_line_not_over_the_reply(
    tmp_path: Path, simulator_url: str
) -> None:
    """At 80x24 the speaker's notice covered four of the transcript's six rows while the reply it
    could not play arrived: on a short screen the recorder line and the log say it, no notice."""
    with no_sound_card(tmp_path):
        app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=True))
        async with app.run_test(size=(80, 24)) as pilot:
            await typed_reply_done(pilot, app)
            await wait_for(pilot, lambda: "no speaker" in screen_text(app), 5, "the recorder's word on screen")
            await views_settled(pilot, app)
            assert not any(t == "Audio" for t, _ in notices(app)), notices(app)
            rows = app.query_one(EventLog).row_texts()
            assert sum("speaker unavailable" in row and "no output device" in row for row in rows) == 1, rows


async def test_with_no_playback_the_recorder_line_says_replies_are_not_played(simulator_url: str) -> None:
    """--no-playback: a reply made no sound and nothing on screen said why."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(160, 48)) as pilot:  # room for it beside a missing microphone's words
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await views_settled(pilot, app)
        assert "replies not played (--no-playback)" in app.recorder.render().plain


EVIL = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[31mred\x9b1m"
"""Control sequences a server string might carry: an OSC 52 clipboard write, a screen clear, a
colour, an 8-bit CSI. Shown, they must be symbols; obeyed, they would act on the user's terminal."""


async def control_sequences_peer(ws: ServerConnection) -> None:
    """A server whose strings carry terminal control sequences: in an error, an unknown type, a
    transcript, a session id."""
    await ws.send(json.dumps({"type": "session.created", "session": {"id": f"sess_{EVIL}"}}))
    async for message in ws:
        if json.loads(message).get("type") != "session.update":
            continue
        await ws.send(json.dumps({"type": "session.updated", "session": {"id": f"sess_{EVIL}"}}))
        await ws.send(json.dumps({"type": "error", "error": {"type": "server_error", "message": f"boom {EVIL}"}}))
        await ws.send(json.dumps({"type": f"vendor.{EVIL}", "note": EVIL}))
        item = {
            "id": "item_evil",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": f"hello {EVIL} world"}],
        }
        await ws.send(json.dumps({"type": "conversation.item.added", "previous_item_id": None, "item": item}))


def _controls(text: str) -> set[str]:
    return {c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0}


async def test_control_sequences_in_server_text_are_shown_never_sent_to_the_terminal() -> None:
    async with scripted_peer(control_sequences_peer) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: items(app, "assistant"), 10, "the item with control sequences")
            await wait_for(pilot, lambda: notices(app), 5, "the server error's notice")
            await views_settled(pilot, app)
            await pilot.pause()
            shown = painted_text(app)
            assert _controls(shown) - {"\n"} == set(), sorted(_controls(shown))
            assert "␛]52;c;cHduZWQ=␇" in shown  # the clipboard write, as symbols
            assert "hello ␛]52" in shown and "boom ␛]52" in shown and "note=␛]52" in shown
            # The detail view of the unknown event: its type in the title and the header.
            log = app.query_one(EventLog)
            unknown = next(i for i in range(len(app.journal)) if app.journal[i].type.startswith("vendor."))
            assert log.select_frame(unknown)
            log.focus()
            await pilot.press("d")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "EventDetail", 5, "the detail view")
            await pilot.pause()
            from textual.widgets import Static

            shown_detail = [
                "".join(segment.text for segment in line)
                for widget in app.screen.query(Static)
                for line in widget.render_lines(widget.region.reset_offset)
            ]
            detail = "\n".join([str(app.screen.query_one("VerticalScroll").border_title), *shown_detail])
            assert "vendor.␛]52" in detail and not (_controls(detail) - {"\n"}), sorted(_controls(detail))
