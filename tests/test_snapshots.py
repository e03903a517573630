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


def test_event_detail_of_an_error_and_its_cause(snap_compare: Any) -> None:
    """You should see the error's header (seq, direction, time, Δt, size), its JSON with code and
    message, then 'caused by (error)' and the response.cancel we sent, with its own header."""

    async def open_detail(pilot: Pilot[Any]) -> None:
        await _show_turn(pilot)
        await pilot.press("up", "enter")
        await pilot.pause()

    assert snap_compare(scripted_app(), terminal_size=(140, 40), run_before=open_detail)


def test_the_log_with_a_filter_active(snap_compare: Any) -> None:
    """You should see the filter bar holding the query, '12 of 181 frames'-style counts in the bar
    and the log's subtitle, the query in the log's title, and only received non-delta frames."""

    async def filtered(pilot: Pilot[Any]) -> None:
        await _show_turn(pilot)
        app = pilot.app
        assert isinstance(app, RtApp)
        await pilot.press("f", *"-type:*.delta dir:in", "enter")
        await pilot.pause()

    assert snap_compare(scripted_app(), terminal_size=(140, 40), run_before=filtered)


def test_a_run_expanded_in_place(snap_compare: Any) -> None:
    """You should see the reply's collapsed deltas open (▾) with one indented line per frame under
    it (│ and └), each with its own time, Δt, size and words; the selection on the run's line."""

    async def expanded(pilot: Pilot[Any]) -> None:
        await _show_turn(pilot)
        app = pilot.app
        assert isinstance(app, RtApp)
        first_delta = next(f.index for f in app.journal if f.type == "response.output_audio_transcript.delta")
        app.event_log.select_frame(first_delta, expand=False)
        await pilot.press("right")
        await pilot.pause()

    assert snap_compare(scripted_app(), terminal_size=(140, 40), run_before=expanded)


def test_the_app_at_80_by_24(snap_compare: Any) -> None:
    """You should see the panes stacked (transcript above the log), the status line keeping the
    state and the transcription facts, the log's type column shortened before its summary, and a
    footer with Talk, Type, Filter, Find and Quit."""
    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=_show_turn)


def test_the_app_at_100_by_30(snap_compare: Any) -> None:
    """You should see both panes side by side, readable, at 100 columns."""
    assert snap_compare(scripted_app(), terminal_size=(100, 30), run_before=_show_turn)


def test_a_reply_cut_off_by_a_lost_connection(snap_compare: Any) -> None:
    """You should see the user's row saying the connection ended before any text arrived, the
    assistant's first four words kept, both marked 'cut off: the connection ended', a yellow
    'closed' state and the close (code 1006) as the last log row."""
    assert snap_compare(scripted_app(), terminal_size=(140, 30), run_before=showing(scripted_cut_off_envelopes))
