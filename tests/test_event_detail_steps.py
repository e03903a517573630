"""A run's detail view opens with its first frames and lays out the rest a step at a time.

The JSON of a 200-frame run (the most the view shows) took a quarter of a second to lay out in one
widget, the screen held meanwhile; now the first screen waits for `FRAMES_PER_STEP` frames only.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from tests.app_helpers import wait_for
from tests.journal_helpers import audio_b64, sent
from tui.app import RtApp
from tui.config import Settings
from tui.widgets import EventDetail
from tui.widgets.event_detail import FRAMES_PER_STEP, MAX_FRAMES


def detail_text(screen: Any) -> str:
    """The frames' parts as laid out, in order (each step's widget holds a Group of them)."""
    return "\n".join(
        str(part) for widget in screen.query(Static) for part in getattr(widget.content, "renderables", [])
    )


async def test_a_long_run_opens_with_its_first_frames_and_lays_out_the_rest_in_steps() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest([sent("input_audio_buffer.append", audio=audio_b64(20)) for _ in range(450)])
        await pilot.pause()
        log = app.event_log
        assert len(app.log_view.rows) == 1  # one collapsed run
        log.focus()
        log.select_frame(app.log_view.rows[0].first, expand=False)
        first_screen: list[int] = []
        display = app._display

        def spy(screen: Any, renderable: Any) -> None:
            if renderable is not None and isinstance(screen, EventDetail) and not first_screen:
                first_screen.append(screen.laid_out)
            display(screen, renderable)

        app._display = spy  # type: ignore[method-assign]
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the detail view")
        detail = app.screen
        assert isinstance(detail, EventDetail)
        await wait_for(pilot, lambda: detail.laid_out == MAX_FRAMES, 10, "every step")
        assert first_screen == [FRAMES_PER_STEP]  # the first screen came before the other steps
        text = detail_text(detail)
        assert text.count("▲ out ·") == MAX_FRAMES  # each frame's header, once
        assert text.rstrip().endswith(f"… {450 - MAX_FRAMES} more frames (export the run to see them all)")
        assert len(detail.query(".detail-step")) == MAX_FRAMES // FRAMES_PER_STEP
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EventDetail)


async def test_a_detail_closed_before_its_last_step_stops_laying_out() -> None:
    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest([sent("input_audio_buffer.append", audio=audio_b64(20)) for _ in range(300)])
        await pilot.pause()
        detail = EventDetail(app.journal, app.links, list(app.log_view.indices), None)
        app.push_screen(detail)
        app.pop_screen()  # at once: the steps scheduled find no screen to lay out on
        await pilot.pause()
        assert detail.laid_out < MAX_FRAMES


async def test_the_details_open_on_the_frame_s_header_not_on_a_separator() -> None:
    """A rule separates the frames of a run: above the first it was an empty line under the title."""
    from rich.rule import Rule

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.ingest([sent("input_audio_buffer.append", audio=audio_b64(20)) for _ in range(3)])
        await pilot.pause()
        app.event_log.focus()
        app.event_log.select_frame(app.log_view.rows[0].first, expand=False)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the detail view")
        steps = [getattr(getattr(w, "content", None), "renderables", []) for w in app.screen.query(".detail-step")]
        parts = [part for step in steps for part in step]
        assert not isinstance(parts[0], Rule) and "▲ out ·" in str(parts[0])
        assert sum(isinstance(part, Rule) for part in parts) == 2  # between the three frames


def test_a_header_too_wide_for_its_view_breaks_between_its_parts() -> None:
    """At 80×24 a frame's header wrapped as words: `#192 ▼ in · 00:12.759 since connect · Δt +17ms
    after #191 · 195B ·`, its type alone on the next line; a linked frame's `caused by (error): …
    · 60B ·`. It breaks between two parts, with no separator left at a line's end."""
    from rich.console import Console

    from tui.widgets.event_detail import PartsLine

    parts = ["#192 ▼ in", "00:12.759 since connect", "Δt +17ms after #191", "195B", "response.done"]
    console = Console(width=76, record=True, color_system=None)
    console.print(PartsLine(parts, lead="caused by (error): ", style="bold"))
    lines = console.export_text().splitlines()
    assert lines == [
        "caused by (error): #192 ▼ in · 00:12.759 since connect · Δt +17ms after #191",
        "195B · response.done",
    ]
    assert not any(line.rstrip().endswith("·") for line in lines)
    wide = Console(width=200, record=True, color_system=None)
    wide.print(PartsLine(parts))
    assert wide.export_text().rstrip("\n") == " · ".join(parts)  # one line when it fits, as before
    narrow = Console(width=12, record=True, color_system=None)
    narrow.print(PartsLine(parts))
    narrowed = narrow.export_text().splitlines()
    # A part wider than the view wraps.
    assert [line.rstrip() for line in narrowed[:3]] == ["#192 ▼ in", "00:12.759", "since"]
    assert all(len(line.rstrip()) <= 12 and not line.rstrip().endswith("·") for line in narrowed)
