"""The Textual app: composition root of rt-tui."""

from .app import RtApp, run_app

__all__ = ["RtApp", "run_app"]
