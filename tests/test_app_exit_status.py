"""`run_app`'s exit status says whether the app ended in a crash: a script or a CI job that runs
rt-tui must not read a traceback as success."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tui.app import app as app_module
from tui.config import Settings


def test_a_crash_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = app_module.RtApp.run

    def headless_run(self: app_module.RtApp, **kwargs: Any) -> Any:
        return real_run(self, headless=True, **kwargs)  # no terminal under pytest

    def crash(self: app_module.RtApp) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module.RtApp, "run", headless_run)
    monkeypatch.setattr(app_module.RtApp, "on_mount", crash)
    result: list[int] = []
    # Its own thread: the app runs its own event loop, which pytest's loop would refuse.
    thread = threading.Thread(
        target=lambda: result.append(app_module.run_app(Settings(playback=False, capture=False))), daemon=True
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "run_app did not return"
    assert result == [1]
