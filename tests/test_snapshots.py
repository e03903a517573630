"""SVG snapshots of the screen (pytest-textual-snapshot), from a scripted, deterministic session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from tests.scripted import scripted_cut_off_envelopes, scripted_envelopes
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import Envelope


def scripted_app() -> RtApp:
    return RtApp(Settings(playback=False), connect=False)


def showing(envelopes: Callable[[], list[Envelope]]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A `run_before` that feeds the app these scripted frames, as a connected session would."""

    async def show(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, RtApp)
        app.ingest_for_display(envelopes())
        await pilot.pause()

    return show


_show_turn = showing(scripted_envelopes)


def test_empty_screen(snap_compare: Any) -> None:
    """You should see the status line, an empty transcript with a hint, the event log, the recorder
    and the footer with the talk, hands-free, type and quit keys."""
    assert snap_compare(scripted_app(), terminal_size=(140, 36))


def test_a_turn_with_a_late_transcript(snap_compare: Any) -> None:
    """You should see the user's row first (filled in by the late transcript) above the assistant's
    reply, and the log with collapsed `input_audio_buffer.append ×150` and audio tags, ending in a
    red error row."""
    assert snap_compare(scripted_app(), terminal_size=(140, 40), run_before=_show_turn)


def test_event_detail_modal(snap_compare: Any) -> None:
    """You should see the JSON of the last frame (an error) with its code and message."""

    async def open_detail(pilot: Pilot[Any]) -> None:
        await _show_turn(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(scripted_app(), terminal_size=(140, 36), run_before=open_detail)


def test_a_reply_cut_off_by_a_lost_connection(snap_compare: Any) -> None:
    """You should see the user's row saying the connection ended before any text arrived, the
    assistant's first four words kept, both marked 'cut off: the connection ended', a yellow
    'closed' state and the close (code 1006) as the last log row."""
    assert snap_compare(scripted_app(), terminal_size=(140, 30), run_before=showing(scripted_cut_off_envelopes))
