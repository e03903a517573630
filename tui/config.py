"""Launch settings: the flags the user typed, then environment variables, then defaults.

Frozen, so every component sees one consistent picture. Stdlib only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from tui.protocol.session_config import DEFAULT_TRANSCRIPTION_MODEL

DEFAULT_MAX_FRAME_MIB = 16
"""The largest frame rt-tui accepts from a server by default, in MiB (`--max-frame-mib`)."""

DEFAULT_MAX_FRAME_BYTES = DEFAULT_MAX_FRAME_MIB * 1024 * 1024

INPUT_DEVICE_ENV = "RT_TUI_INPUT_DEVICE"
"""The microphone when `--input-device` is not given."""
OUTPUT_DEVICE_ENV = "RT_TUI_OUTPUT_DEVICE"
"""The speaker when `--output-device` is not given."""

URL_ENV = "RT_TUI_URL"
"""The server URL when no target flag is given: credentials in it stay out of `ps` (argv is public)."""


class TargetChoice(StrEnum):
    """Which server to talk to."""

    AUTO = "auto"
    """OpenAI when OPENAI_API_KEY is set, otherwise the embedded simulator."""
    OPENAI = "openai"
    URL = "url"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run of rt-tui needs to know before it starts."""

    target: TargetChoice = TargetChoice.AUTO
    url: str | None = None
    model: str = "gpt-realtime"
    transcription_model: str | None = DEFAULT_TRANSCRIPTION_MODEL
    language: str | None = None
    voice: str | None = None
    capture: bool = True
    """Write every frame to a JSONL file in the per-session folder."""
    playback: bool = True
    """Play the assistant's audio on the default output device (when there is one)."""
    input_device: str | None = None
    """The microphone to record from (`--input-device`, $RT_TUI_INPUT_DEVICE): a device's index or
    a part of its name (`rt-tui devices` lists them); None: PortAudio's default."""
    output_device: str | None = None
    """The speaker to play on (`--output-device`, $RT_TUI_OUTPUT_DEVICE), as `input_device`."""
    local_dialect: str = "ga"
    """The embedded simulator's dialect ("ga" or "beta"), for `--local`."""
    reconnect: bool = True
    """After a dropped connection, look for the server and open a new session when it answers."""
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    """A frame from the server larger than this closes the connection (1009), reported as such."""
    startup_warnings: tuple[str, ...] = ()
    """What the command line warned of on stderr (credentials in `--url`): the app says it again on
    screen, where its full-screen view would otherwise hide the line until it exits."""

    def resolved_target(self) -> TargetChoice:
        """AUTO made concrete: OpenAI when a key is in the environment, else the simulator."""
        if self.target is not TargetChoice.AUTO:
            return self.target
        return TargetChoice.OPENAI if os.environ.get("OPENAI_API_KEY", "").strip() else TargetChoice.LOCAL
