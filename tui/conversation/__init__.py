"""The conversation model: a pure reducer from envelopes to ordered items."""

from .model import NO_OUTPUT, NO_OUTPUT_PREFIX, SENT_ROW_PREFIX, Item, Origin, TextState
from .reducer import Conversation

__all__ = ["NO_OUTPUT", "NO_OUTPUT_PREFIX", "SENT_ROW_PREFIX", "Conversation", "Item", "Origin", "TextState"]
