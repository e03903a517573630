"""The panes' lines as the terminal gets them: every cell on the pane's own background (the
theme's), never on the terminal's default one."""

from __future__ import annotations

from textual.strip import Strip

from tests.journal_helpers import received, response_stream
from tests.test_event_log import LogApp, scrolled_log
from tests.test_transcript import TranscriptApp, history
from tui.journal import Finder
from tui.widgets import EventLog, Transcript


def unpainted(strip: Strip) -> list[str]:
    """The text of the segments a terminal would draw on its own default background."""
    return [seg.text for seg in strip if seg.text and (seg.style is None or seg.style.bgcolor is None)]


async def test_every_cell_of_the_log_is_on_the_pane_s_background() -> None:
    """A piece names only its foreground: painted as it was, the text of every row lay on the
    terminal's default background (stripes behind the text in the README's own screenshots, a dark
    band across each row of a light theme)."""
    app = LogApp()
    async with app.run_test(size=(120, 16)) as pilot:
        log = app.query_one(EventLog)
        app.feed(
            [
                received("session.created", session={"id": "sess_1"}),
                received("response.created", response={"id": "resp_1"}),
                *response_stream("resp_1", "item_a", [" Sure,", " turning", " on"]),
            ]
        )
        await pilot.pause()
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            base = log.rich_style.bgcolor
            lines = [log.render_line(y) for y in range(log.view.line_count)]
            assert all(unpainted(line) == [] for line in lines), theme
            assert any(seg.style is not None and seg.style.bgcolor == base for seg in lines[0] if seg.text.strip())
        log.action_move(-1)  # a selected line: the cursor's background over the pane's
        log.set_finder(Finder("resp_1"))  # and a find, whose matches Rich's text paints
        await pilot.pause()
        assert all(unpainted(log.render_line(y)) == [] for y in range(log.view.line_count))


async def test_every_cell_of_the_transcript_is_on_the_pane_s_background_a_selected_row_all_across() -> None:
    app = TranscriptApp()
    async with app.run_test(size=(100, 20)) as pilot:
        transcript = app.query_one(Transcript)
        lines = [transcript.render_line(y) for y in range(transcript.size.height)]
        assert any(line.text.strip() for line in lines)  # the hint of an empty transcript
        assert all(unpainted(line) == [] for line in lines)
        app.feed(history(3))
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
        lines = [transcript.render_line(y) for y in range(transcript.size.height)]
        assert "question 0" in "".join(line.text for line in lines)
        assert all(unpainted(line) == [] for line in lines)
        assert transcript.select_item("u1")
        await pilot.pause()
        cursor = transcript.get_component_rich_style("transcript--cursor").bgcolor
        selected = [
            line
            for line in (transcript.render_line(y) for y in range(transcript.size.height))
            if "question 1" in line.text
        ]
        assert selected and all(seg.style is not None and seg.style.bgcolor == cursor for seg in selected[0])


async def test_the_log_s_scrollbar_clicked_or_dragged_away_from_the_end_stops_following() -> None:
    """As the wheel does: scrolled by its bar, the log said it was following and the next frames
    took the view back to the end, away from what the user went up to read."""
    from tests.journal_helpers import received

    app = LogApp()
    async with app.run_test(size=(120, 20)) as pilot:
        log, bar = await scrolled_log(app, pilot, 200)
        track = bar.region
        assert log.tail and log.scroll_y == log.max_scroll_y
        await pilot.click(offset=(track.x, track.y + 1))  # the track above the thumb: a page up
        await pilot.wait_for_scheduled_animations()  # Textual's page up is animated
        assert not log.tail and "paused" in str(log.border_subtitle)
        read = log.scroll_y
        assert read < log.max_scroll_y
        app.feed([received("rate_limits.updated") for _ in range(3)])
        await pilot.pause()
        assert log.scroll_y == read and "+3 new" in str(log.border_subtitle)

        log.action_tail()
        await pilot.pause()
        assert log.tail and log.scroll_y == log.max_scroll_y
        bottom = track.y + track.height - 1  # the thumb, at the foot of a following log
        await pilot.mouse_down(offset=(track.x, bottom))
        await pilot.hover(offset=(track.x, track.y + 3))
        await pilot.mouse_up(offset=(track.x, track.y + 3))
        await pilot.wait_for_scheduled_animations()
        assert not log.tail and log.scroll_y < log.max_scroll_y / 2
        read = log.scroll_y
        app.feed([received("rate_limits.updated") for _ in range(3)])
        await pilot.pause()
        assert log.scroll_y == read


async def test_a_selected_line_on_screen_stays_on_screen_when_the_pane_gets_shorter() -> None:
    """The last line selected (↑), then the filter bar opening above the log (or the window made
    shorter): the scroll offset outlived the resize and the selected line went below the pane's edge."""
    from textual.widgets import Static

    from tests.journal_helpers import received
    from tests.test_event_log import LogWithBannerApp

    app = LogWithBannerApp()
    async with app.run_test(size=(120, 30)) as pilot:
        log = app.query_one(EventLog)
        app.feed([received("response.created", response={"id": f"resp_{n}"}) for n in range(100)])
        await pilot.pause()
        log.focus()
        await pilot.press("up")  # the last line, selected
        await pilot.pause()

        def on_screen() -> bool:
            top, height = log.scroll_offset.y, log.container_size.height
            return log.cursor_line is not None and top <= log.cursor_line < top + height

        assert log.cursor_line == 99 and on_screen() and not log.tail
        banner = app.query_one("#banner", Static)
        banner.styles.height = 4
        await pilot.pause()
        assert on_screen() and log.scroll_offset.y == log.max_scroll_y
        await pilot.resize_terminal(120, 16)
        await pilot.pause()
        assert on_screen()
        banner.styles.height = 1  # taller again: the selection stays where it is
        await pilot.pause()
        assert on_screen() and log.cursor_line == 99

        log.scroll_home(animate=False)  # the selection scrolled away by the user: left where it is
        await pilot.pause()
        banner.styles.height = 3
        await pilot.pause()
        assert log.scroll_offset.y == 0 and not on_screen()


async def test_o_from_a_transcript_row_shows_the_filter_s_counts_not_a_typing_hint() -> None:
    """The filter `o` applies was put in the bar's input as if typed: the bar said "Enter applies,
    Esc leaves the bar" under a filter in force, with the focus in the log, and kept saying it."""
    from tests.app_helpers import views_settled
    from tests.journal_helpers import received, response_stream
    from tui.app import RtApp
    from tui.config import Settings
    from tui.widgets.query_bar import BarStatus

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        for n in range(3):
            item = {"id": f"u{n}", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
            app.ingest(
                [
                    received("conversation.item.added", item=item),
                    received("response.created", response={"id": f"r{n}"}),
                    *response_stream(f"r{n}", f"a{n}", [" Sure,", " turning", " on"]),
                    received("response.done", response={"id": f"r{n}", "status": "completed"}),
                ]
            )
        await views_settled(pilot, app)
        app.transcript.focus()
        await pilot.press("up", "o")  # the last row (a2): its frames
        await pilot.pause()
        await pilot.pause()
        status = app.filter_bar.query_one(BarStatus).text.plain
        assert app.focused is app.event_log and app.filter_bar.input.value == "for:a2 | for:r2"
        assert status.startswith(f"{app.log_view.shown} of ") and "Enter applies" not in status


def test_a_line_s_pieces_over_the_pane_s_style_are_the_pieces_with_that_style_applied_under() -> None:
    """`line_segments(pieces, base)` combines each piece's style with the pane's once (cached),
    not in a second pass over every line's segments: the same segments either way."""
    from rich.segment import Segment
    from rich.style import Style

    from tui.widgets.log_format import line_segments

    pieces: list[tuple[str, str | None]] = [
        ("▼ ", "bold #9ece6a"),
        ("00:06.972 ", "#737aa2"),
        (" +0 ", None),
        ("x\x1b[31m", ""),
    ]
    for base in (Style(color="#e0e0e0", bgcolor="#1e1e1e"), Style(bgcolor="#fafafa")):
        combined = line_segments(pieces, base)
        assert combined == list(Segment.apply_style(line_segments(pieces), style=base))
        assert all(segment.style is not None and segment.style.bgcolor == base.bgcolor for segment in combined)


async def test_esc_in_a_zoomed_log_s_filter_bar_leaves_the_bar_and_keeps_the_zoom() -> None:
    from tui.app import RtApp
    from tui.config import Settings

    app = RtApp(Settings(playback=False, capture=False), connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()

        def focused() -> object:  # read anew at each check (no narrowing from the one before)
            return app.focused

        await pilot.press("z", "f", "x")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#log-pane") and focused() is app.filter_bar.input
        await pilot.press("escape")  # leaves the bar (nothing applied: it closes), not the zoom
        await pilot.pause()
        assert focused() is app.event_log and not app.filter_bar.shown
        assert app.screen.maximized is app.query_one("#log-pane")
        await pilot.press("escape")  # then the zoom
        await pilot.pause()
        assert app.screen.maximized is None and focused() is app.event_log
        app.transcript.focus()
        await pilot.press("z", "escape")  # a zoomed transcript: Esc leaves the zoom
        await pilot.pause()
        assert app.screen.maximized is None
