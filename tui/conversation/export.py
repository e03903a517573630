"""The conversation as Markdown or JSON: role, time, text and where each text stands."""

from __future__ import annotations

import json
import time
from typing import Any

from .model import Item, TextState

_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "tool": "Tool", "system": "System"}


def item_record(item: Item) -> dict[str, Any]:
    """One item as a JSON-ready record."""
    wall = item.wall
    return {
        "id": item.id,
        "role": item.role,
        "kind": item.kind,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(wall)) if wall else None,
        "text": item.text.strip(),
        "text_state": item.state.value,
        "status": item.status,
        "audio": item.has_audio,
        "origin": item.origin.value,
        "error": item.error,
        "transcript_latency_ms": round(item.transcription_latency * 1000)
        if item.transcription_latency is not None and item.state is TextState.DONE
        else None,
    }


def to_json(items: list[Item]) -> str:
    """The conversation as a JSON array of item records."""
    return json.dumps([item_record(item) for item in items if item.role != "session"], indent=2, ensure_ascii=False)


def to_markdown(items: list[Item]) -> str:
    """The conversation as Markdown: one section per item, its facts in italics."""
    lines = ["# Conversation", ""]
    for item in items:
        if item.role == "session":
            lines += ["---", "", f"*{item.text}*", ""]
            continue
        record = item_record(item)
        name = _ROLE_NAMES.get(item.role, item.role)
        facts = [f for f in (record["time"], "audio" if item.has_audio else "", _state_note(item)) if f]
        lines.append(f"**{name}**" + (f" *({' · '.join(facts)})*" if facts else ""))
        lines.append("")
        failed = item.state is TextState.FAILED
        lines.append(f"(transcription failed: {item.error})" if failed else item.display_text)
        lines.append("")
    return "\n".join(lines)


def _state_note(item: Item) -> str:
    if item.state is TextState.DONE:
        return ""
    return item.state.value.replace("_", " ")
