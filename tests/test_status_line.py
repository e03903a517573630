"""The status line keeps the session facts visible on a 120-column terminal."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets import StatusLine

SESSION = "sess_UN06T7Qy3Bg8f5g5MvgRc"
DETAIL = "manual turns · transcribe: gpt-4o-transcribe"


class StatusApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusLine()


async def shown(width: int) -> str:
    app = StatusApp()
    async with app.run_test(size=(width, 3)) as pilot:
        status = app.query_one(StatusLine)
        status.target, status.state, status.session_id = "simulator · 127.0.0.1:41305", "open", SESSION
        status.frames_in, status.frames_out, status.detail = 85, 180, DETAIL
        await pilot.pause()
        return str(status.render())


async def test_a_narrow_line_shortens_the_session_id_not_the_session_facts() -> None:
    narrow = await shown(110)  # the whole line needs ~119 cells; shortened, ~107
    assert DETAIL in narrow and SESSION not in narrow and "sess_UN06T7Qy…" in narrow
    wide = await shown(200)
    assert DETAIL in wide and SESSION in wide
