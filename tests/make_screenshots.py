"""`make screenshots`: the real app on the embedded simulator, a spoken turn through the fake ALSA
microphone and a typed one, saved as SVG and (with rsvg-convert) PNG for the README.

Run as `python -m tests.make_screenshots OUTDIR`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.app_helpers import items, press_voice, session_ready, turn_complete, wait_for
from tests.audio_helpers import FifoFeeder, fake_alsa
from tests.server_helpers import silence, speech_pcm24
from tui.app import RtApp
from tui.config import Settings
from tui.conversation import TextState

SIZE = (150, 42)


async def shoot(outdir: Path) -> list[Path]:
    """Drive the app and save the screenshots; returns the SVG paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RT_TUI_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ.pop("OPENAI_API_KEY", None)
        mic = Path(tmp) / "mic.fifo"
        with FifoFeeder(mic) as feeder, fake_alsa(mic, None):
            app = RtApp(Settings(playback=False))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: session_ready(app), 20, "the session")
                await press_voice(pilot, "space")
                feeder.play(speech_pcm24("hello, what is the weather like in London today") + silence(300))
                await wait_for(pilot, feeder.played.is_set, 20, "the question to be spoken")
                await pilot.pause(0.2)
                await press_voice(pilot, "space")
                await wait_for(pilot, lambda: turn_complete(app), 30, "the first turn")
                await pilot.press("t", *"and what about tomorrow in Paris?", "enter", "escape")
                await wait_for(
                    pilot,
                    lambda: len(items(app, "assistant")) == 2 and items(app, "assistant")[-1].state is TextState.DONE,
                    30,
                    "the second turn",
                )
                await pilot.pause(0.5)
                app.clear_notifications()
                await pilot.pause(0.1)
                shots.append(Path(app.save_screenshot("conversation.svg", str(outdir))))
                # Mid-utterance, so the level meter shows speech rather than the silence before it.
                await press_voice(pilot, "space")
                feeder.play(speech_pcm24("please set a timer for ten minutes and remind me to call home"))
                await pilot.pause(1.3)
                shots.append(Path(app.save_screenshot("recording.svg", str(outdir))))
                await wait_for(pilot, feeder.played.is_set, 20, "the second question to be spoken")
                await press_voice(pilot, "space")
                await wait_for(pilot, lambda: turn_complete(app), 30, "the third turn")
                await pilot.pause(0.5)
                # The debugger: the log filtered, a reply's collapsed deltas opened in place.
                await pilot.press("f", *"-type:input_audio_buffer.append", "enter")
                reply = next(f.index for f in app.journal if f.type == "response.output_audio_transcript.delta")
                app.event_log.select_frame(reply, expand=False)
                await pilot.press("right")
                app.clear_notifications()
                await pilot.pause(0.3)
                shots.append(Path(app.save_screenshot("debugger.svg", str(outdir))))
        shots.append(await shoot_seed_replay(outdir))
    return shots


async def shoot_seed_replay(outdir: Path) -> Path:
    """The seed question's traffic (a hand-written DevTools HAR) replayed, with the findings open."""
    from tui.replay import ReplayRequest, load

    har = Path(__file__).parent / "golden" / "replay" / "devtools.har"
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(har)))
    async with app.run_test(size=SIZE) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 20, "the replay")
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.press("exclamation_mark")
        await pilot.pause(0.3)
        return Path(app.save_screenshot("seed-findings.svg", str(outdir)))


def to_png(svg: Path) -> Path | None:
    """Render an SVG to PNG with rsvg-convert (monospace fonts render correctly there)."""
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found (apt-get install librsvg2-bin): SVG only", file=sys.stderr)
        return None
    png = svg.with_suffix(".png")
    # librsvg drops leading spaces of a text run (even &#160;), so "you  recorded audio" would render
    # as "yourecorded audio"; xml:space="preserve" keeps them, as a browser shows the SVG.
    source = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    subprocess.run(["rsvg-convert", "-o", str(png)], input=source.encode("utf-8"), check=True)
    return png


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    for svg in asyncio.run(shoot(outdir)):
        png = to_png(svg)
        print(svg, png or "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
