"""Review 31 of barge-in: a reply that plays on across a reconnect, and what the recorder line says
while a reply plays. The real app, real PyAudio through the fake ALSA speaker, the real simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from tests.app_helpers import items, press_voice, session_ready, views_settled, wait_for
from tests.audio_helpers import FifoFeeder, FifoSink, fake_alsa
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.protocol import Direction
from tui.server.testing import realtime_simulator

ASK = "please describe the weather in Paris and in London this week"
LONG_ASK = " ".join([ASK] * 4)
"""Echoed, a reply of about 20 s: it still plays after a reconnect and a pilot's presses on a loaded
machine (ASK's 5 s reply could end first, leaving nothing to talk over)."""


@asynccontextmanager
async def speaker_app(
    tmp_path: Path, url: str, size: tuple[int, int]
) -> AsyncIterator[tuple[RtApp, Pilot[None], FifoSink]]:
    """The app on `url` with the fake ALSA microphone and speaker (its sink drains the speaker in
    real time), its session ready: the app, its pilot and the speaker's sink."""
    with (
        FifoFeeder(tmp_path / "mic.fifo"),
        FifoSink(tmp_path / "spk.fifo") as sink,
        fake_alsa(tmp_path / "mic.fifo", tmp_path / "spk.fifo"),
    ):
        app = RtApp(Settings(target=TargetChoice.URL, url=url))
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            yield app, pilot, sink


async def test_space_after_a_reconnect_stops_the_old_reply_without_truncating_it_on_the_new_session(
    tmp_path: Path,
) -> None:
    """The socket drops right after a reply's `response.done`; rt-tui reconnects while the reply
    still plays. Space then truncated the old session's item on the new session, which knows no
    such item: `item_truncate_invalid_item_id`, a server-error toast and a lint finding."""
    async with realtime_simulator() as sim:
        url = sim.url_for(drop_after="response.done:1", drop_mode="reset")
        async with speaker_app(tmp_path, url, (120, 40)) as (app, pilot, sink):
            await pilot.press("t")
            app.query_one("#message", Input).post_message(events.Paste(LONG_ASK))
            await wait_for(pilot, lambda: app.query_one("#message", Input).value == LONG_ASK, 5, "the paste")
            await pilot.press("enter", "escape")
            await wait_for(pilot, lambda: app.journal.epoch == 2 and session_ready(app), 60, "the reconnect")
            await wait_for(pilot, lambda: len(sink.data) > 24_000, 10, "the old reply to be heard")
            assert app.voice.playing, "the reply ended before the test could talk over it"
            await press_voice(pilot, "space")  # barge in: a push-to-talk turn on the new session
            await wait_for(pilot, lambda: not app.voice.playing, 5, "the old reply to stop")
            await press_voice(pilot, "space")
            await views_settled(pilot, app)
            new_session = [f for f in app.journal if f.epoch == 2]
            assert not [f for f in new_session if f.type == "conversation.item.truncate"]
            assert not [f for f in new_session if f.direction is Direction.IN and f.type == "error"]
            [reply] = items(app, "assistant")
            assert reply.audio_end_ms is None and reply.status == "completed"


async def test_ctrl_r_while_a_reply_plays_stops_it_and_says_how_much_was_played(tmp_path: Path) -> None:
    """ctrl+r while a reply played opened the new session and left the old reply playing to its end,
    over the new session, with nothing to say how much of it had been heard."""
    async with realtime_simulator() as sim, speaker_app(tmp_path, sim.url_for(), (120, 40)) as (app, pilot, sink):
        await pilot.press("t")
        app.query_one("#message", Input).post_message(events.Paste(LONG_ASK))
        await wait_for(pilot, lambda: app.query_one("#message", Input).value == LONG_ASK, 5, "the paste")
        await pilot.press("enter", "escape")
        await wait_for(pilot, lambda: len(sink.data) > 24_000, 30, "the reply to be heard")
        assert app.voice.playing, "the reply ended before the test could reconnect over it"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not app.voice.playing, 10, "the reply to stop")
        await wait_for(pilot, lambda: app.journal.epoch == 2 and session_ready(app), 30, "the new session")
        stopped = [
            str(app.journal.data(f.index).get("message")) for f in app.journal if f.type == "rt.audio"
            and "its audio stopped after" in str(app.journal.data(f.index).get("message"))
        ]  # fmt: skip
        [reply] = items(app, "assistant")
        assert len(stopped) == 1 and stopped[0].startswith(f"reply {reply.id}: its audio stopped after "), stopped
        assert stopped[0].endswith(" s (ctrl+r closed its session)"), stopped


async def test_while_a_reply_plays_in_the_message_input_the_line_says_esc_first(
    tmp_path: Path, simulator_url: str
) -> None:
    """In the message input space types a space: the line said `space: interrupt` there."""
    async with speaker_app(tmp_path, simulator_url, (80, 24)) as (app, pilot, sink):
        await pilot.press("t", *ASK, "enter")  # the input keeps the focus
        await wait_for(pilot, lambda: len(sink.data) > 4_800, 10, "the reply to play")

        def line() -> str:
            return app.recorder.render().plain

        await wait_for(pilot, lambda: "▶ assistant" in line(), 5, "the line to say the reply plays")
        assert "· Esc, then space: talk over it" in line(), line()
        await pilot.press("escape")
        await pilot.pause()
        if app.voice.playing:
            assert "· space: talk over it" in line() and "Esc" not in line(), line()
        await press_voice(pilot, "space")  # out of the input: space interrupts
        await wait_for(pilot, lambda: not app.voice.playing, 5, "the reply to stop")
        await press_voice(pilot, "space")
