"""What the simulated assistant says: an echo of what it heard, so tests can assert keywords.

Two instructions-free rules make it useful beyond echoing:
- after a `function_call_output` it reports that output ("According to get_weather: ...");
- when the response's instructions ask to transcribe (the out-of-band transcription recipe of
  protocol reference §4.4 D), it answers with the heard text verbatim.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .tools import summarize_output

_FOLLOW_UPS = (
    "That is an interesting question.",
    "Thanks for telling me.",
    "I am only a local simulator, so that is all I can say.",
    "Let me know if there is anything else.",
)

_NOTHING_HEARD = "Sorry, I could not make out what you said. Could you say it again?"
_EMPTY_CONVERSATION = "Hello! I am the local Realtime simulator. Say something and I will repeat it."
_TRANSCRIBE = re.compile(r"\b(transcribe|transcription|transcript|verbatim)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A `function_call_output` the model has not answered yet, with the name of its call."""

    name: str
    output: str


def asks_for_transcription(instructions: str) -> bool:
    """True when the instructions ask for the user's words back verbatim."""
    return bool(_TRANSCRIBE.search(instructions))


def compose_reply(heard: str | None, *, instructions: str = "", tool_result: ToolResult | None = None) -> str:
    """The assistant's answer to the context it read.

    `heard` is the recognized or typed text of the last user message: None when the context
    has no user message, "" when its audio held nothing intelligible.
    """
    if tool_result is not None:
        summary = summarize_output(tool_result.output).rstrip(".!?")
        return f"According to {tool_result.name}: {summary}."
    if heard is None:
        return _EMPTY_CONVERSATION
    words = " ".join(heard.split()).strip()
    if not words:
        return _NOTHING_HEARD
    if asks_for_transcription(instructions):
        return words
    quoted = words.rstrip(".!?,;:")
    # Deterministic per input so repeated test runs hear the same answer.
    follow_up = _FOLLOW_UPS[zlib.crc32(quoted.lower().encode("utf-8")) % len(_FOLLOW_UPS)]
    return f'You said: "{_shortened(quoted)}". {follow_up}'


MAX_QUOTE = 800
"""The most of the user's words the echo quotes. The whole reply is capped (the responder's
`MAX_REPLY_CHARS`, 1,000): a longer quote was cut there, mid-word, in a response reported
`completed`, which read as deltas lost. Shortened here, it ends with an ellipsis and the reply
keeps its last sentence."""


def _shortened(quoted: str) -> str:
    """`quoted`, or its first `MAX_QUOTE` characters cut at a word's end, with `…`."""
    if len(quoted) <= MAX_QUOTE:
        return quoted
    cut = quoted[:MAX_QUOTE]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_QUOTE // 2 else cut).rstrip(" .,;:") + "…"
