"""Command-line parsing: flags mean the same before and after the subcommand."""

from __future__ import annotations

import pytest

from tui.cli import _settings, build_parser
from tui.config import TargetChoice


@pytest.mark.parametrize(
    ("argv", "target", "url", "model", "transcription"),
    [
        (["--local", "send", "f.wav"], TargetChoice.LOCAL, None, "gpt-realtime", "gpt-4o-transcribe"),
        (["send", "f.wav", "--local"], TargetChoice.LOCAL, None, "gpt-realtime", "gpt-4o-transcribe"),
        (["send", "f.wav"], TargetChoice.AUTO, None, "gpt-realtime", "gpt-4o-transcribe"),
        (
            ["--url", "ws://h:1/v1/realtime", "send", "f.wav", "--no-transcription"],
            TargetChoice.URL,
            "ws://h:1/v1/realtime",
            "gpt-realtime",
            None,
        ),
        (["--model", "m1", "send", "f.wav"], TargetChoice.AUTO, None, "m1", "gpt-4o-transcribe"),
        (
            ["send", "f.wav", "--model", "m2", "--transcription-model", "whisper-1"],
            TargetChoice.AUTO,
            None,
            "m2",
            "whisper-1",
        ),
        (["--openai"], TargetChoice.OPENAI, None, "gpt-realtime", "gpt-4o-transcribe"),
    ],
)
def test_flags_before_or_after_send(
    argv: list[str], target: TargetChoice, url: str | None, model: str, transcription: str | None
) -> None:
    settings = _settings(build_parser().parse_args(argv))
    assert (settings.target, settings.url, settings.model, settings.transcription_model) == (
        target,
        url,
        model,
        transcription,
    )


def test_target_flags_are_exclusive() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--local", "--openai"])
