"""Cutting text into the word-ish pieces that streaming deltas carry."""

from __future__ import annotations

import math
import re

_PIECE = re.compile(r"\s*\S+")


def word_pieces(text: str) -> list[str]:
    """Split text into pieces that concatenate back to it exactly.

    Each piece is one word with its leading whitespace, like the service's token deltas
    (" weather", " like"); trailing whitespace rides on the last piece.
    """
    pieces = _PIECE.findall(text)
    if not pieces:
        return [text] if text else []
    tail = text[sum(len(p) for p in pieces) :]
    pieces[-1] += tail
    return pieces


def estimate_text_tokens(text: str) -> int:
    """A plausible token count for English text (about four characters per token)."""
    return math.ceil(len(text) / 4) if text else 0
