"""rt-tui."""

__version__ = "0.1.0"
