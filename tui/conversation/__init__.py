"""The conversation model: a pure reducer from envelopes to ordered items."""

from .model import Item, Origin, TextState
from .reducer import Conversation

__all__ = ["Conversation", "Item", "Origin", "TextState"]
