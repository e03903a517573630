"""Round 25: at 80 columns, with a frame selected in the log, the footer shows the keys that act
on it (Enter, c, o) before the app's own (which the palette has): the app's filled the line, and
the keys that matter most at 80×24 never showed. With nothing selected, those keys are dimmed and
give way first, as before."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.journal_helpers import connecting, received, sent
from tests.test_status_line import footer_text
from tui.app import RtApp
from tui.config import Settings
from tui.protocol import Envelope


def _frames() -> list[Envelope]:
    """A session whose last frame is an error linked to the response.cancel that caused it."""
    cancel = sent("response.cancel")
    refusal = received(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "response_cancel_not_active",
            "event_id": cancel.data["event_id"],
        },
    )
    return [connecting(), received("session.created", session={"type": "realtime"}), cancel, refusal]


async def _in_the_log(app: RtApp, pilot: Pilot[None]) -> None:
    """The session's frames in the log, the log focused, following (nothing selected)."""
    app.ingest(_frames())
    await pilot.pause()
    app.event_log.focus()
    await pilot.pause()


async def test_at_80_columns_a_selected_frame_s_keys_outrank_the_app_s() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _in_the_log(app, pilot)
        idle = footer_text(app)
        assert "f Filter" in idle and "/ Find" in idle and "q Quit" in idle, idle
        await pilot.press("up")  # the error
        await pilot.pause()
        drawn = footer_text(app)
        for key in ("space Talk", "q Quit", "⏎ Open", "c Cause"):
            assert key in drawn, drawn
        # The error names no item: `o` is dimmed there, and a narrow footer leaves a dimmed key out
        # first; `t Type` takes the room (it went for `v Hands-free`, which went after it).
        assert "o Row" not in drawn and "t Type" in drawn, drawn
        # The app's keys that search the log stay beside them (session 53: Filter, Find and
        # Findings went, the frame keys' long words taking their room): the frame keys are shortened.
        for key in ("f Filter", "/ Find", "! Findings"):
            assert key in drawn, drawn
        assert "v Hands-free" not in drawn and "o Its transcript row" not in drawn, drawn
        assert drawn.endswith("▏^p palette") and len(drawn) == 80
        await pilot.resize_terminal(200, 30)
        await pilot.pause()
        assert "c Cause ↔ error" in footer_text(app) and "o Its transcript row" in footer_text(app)  # room: whole


async def test_a_wide_footer_shows_every_key_in_its_order() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(200, 30)) as pilot:
        await _in_the_log(app, pilot)
        await pilot.press("up")
        await pilot.pause()
        drawn = footer_text(app)
        order = ["space Talk", "v Hands-free", "t Type", "f Filter", "/ Find", "q Quit", "⏎ Open", "c Cause", "o Its"]
        at = [drawn.index(key) for key in order]
        assert at == sorted(at), drawn
