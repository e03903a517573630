"""The local Realtime simulator: a faithful stand-in for the OpenAI Realtime API (GA, or the retired beta).

Real speech both ways: moonshine-voice recognizes what the client says, libespeak-ng speaks the
answers. Imports only `tui.protocol` from rt-tui; the speech engines load lazily, off the loop.
"""

from __future__ import annotations

from tui.protocol import Dialect

from .app import REALTIME_PATH, Simulator, run_server
from .asr import get_asr
from .config import SimulatorConfig
from .scenario import Scenario, ScenarioError
from .tts import get_tts


def warm_up(*, wait: bool = False) -> None:
    """Load the speech engines in their worker threads now, so the first turn does not wait.

    Returns at once unless `wait` is true; safe to call any number of times.
    """
    futures = [get_asr().warm_up(), get_tts().warm_up()]
    if wait:
        for future in futures:
            future.result()


__all__ = [
    "REALTIME_PATH",
    "Dialect",
    "Scenario",
    "ScenarioError",
    "Simulator",
    "SimulatorConfig",
    "run_server",
    "warm_up",
]
