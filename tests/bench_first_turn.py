"""Key press to capture running, for the first push-to-talk turn of a fresh process.

Run by `tests/bench.py` (`python -m tests.bench_first_turn [--no-warm-up]` prints one JSON figure):
each measurement is a new interpreter, so PyAudio and PortAudio start cold, as they do for a user.
The app loads them in a worker thread after the first paint; `--no-warm-up` turns that off to show
what it saves. The microphone is the fake ALSA device fed by a FIFO (tests/alsa/fake.conf).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path


async def measure(warm_up: bool) -> float:
    from tests.app_helpers import session_ready, wait_for
    from tests.audio_helpers import FifoFeeder, fake_alsa
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice

    with tempfile.TemporaryDirectory() as tmp:
        mic = Path(tmp) / "mic.fifo"
        with FifoFeeder(mic), fake_alsa(mic, None):
            app = RtApp(Settings(target=TargetChoice.LOCAL, playback=False, capture=False))
            if not warm_up:

                async def skip(*, check_microphone: bool = False) -> None:
                    return None

                app.voice.setup_begins = lambda: None  # type: ignore[method-assign]
                app.voice.prepare = skip  # type: ignore[method-assign]
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_for(pilot, lambda: session_ready(app), 30, "the session")
                await pilot.pause(0.5)  # a user reads the screen before talking
                started = time.perf_counter()
                await app.voice.start_turn()
                elapsed = time.perf_counter() - started
                await app.voice.stop_turns()
    return elapsed


def main() -> None:
    warm_up = "--no-warm-up" not in sys.argv[1:]
    print(json.dumps({"seconds": asyncio.run(measure(warm_up))}))


if __name__ == "__main__":
    main()
