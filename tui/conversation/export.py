"""The conversation as Markdown or JSON: role, time, text and where each text stands.

Times are local wall-clock time with its UTC offset (ISO 8601, e.g. `2026-11-30T23:52:25+01:00`),
the same string in both formats, so a transcript read elsewhere or later still places each item.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .model import Item, TextState

_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "tool": "Tool", "system": "System"}

_ENDED_EARLY = ("cancelled", "incomplete", "truncated")
"""Item statuses that mean the text stops short of what was meant (as the transcript pane marks them)."""
CUT_OFF = "cut off: the connection ended"
"""The mark of an item whose text was still coming when the connection ended (the pane's words)."""


def iso_time(wall: float | None) -> str | None:
    """`wall` (seconds since the epoch) as local ISO 8601 time with its UTC offset, or None if unknown."""
    if not wall:
        return None
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="seconds")


def item_record(item: Item) -> dict[str, Any]:
    """One item as a JSON-ready record (a session separator: see :func:`separator_record`)."""
    return {
        "id": item.id,
        "role": item.role,
        "kind": item.kind,
        "time": iso_time(item.wall),
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


def separator_record(item: Item) -> dict[str, Any]:
    """A session separator (role "session") as a JSON-ready record: id, role, kind, time and text.

    It is not an item of the conversation, so it has no origin, text state or status.
    """
    return {"id": item.id, "role": item.role, "kind": item.kind, "time": iso_time(item.wall), "text": item.text}


def to_json(items: list[Item]) -> str:
    """The conversation as a JSON array of records, in conversation order.

    A reconnect's separator stays in the array as a record with role "session" (its text says
    "new session to …", its time when the new connection began): the items after it belong to a
    new server session, which does not know the ones before it.
    """
    records = [separator_record(item) if item.role == "session" else item_record(item) for item in items]
    return json.dumps(records, indent=2, ensure_ascii=False)


def to_markdown(items: list[Item]) -> str:
    """The conversation as Markdown: one section per item, its facts in italics.

    A text that stops short is marked right after the role, as the pane marks it: `**Assistant** ·
    cancelled` (or incomplete, truncated), `**Assistant** · cut off: the connection ended`.
    """
    lines = ["# Conversation", ""]
    for item in items:
        if item.role == "session":
            lines += ["---", "", f"*{item.text}*", ""]
            continue
        record = item_record(item)
        name = _ROLE_NAMES.get(item.role, item.role)
        marks = [item.status] if item.status in _ENDED_EARLY else []
        if item.state is TextState.INTERRUPTED:
            marks.append(CUT_OFF)
        facts = [f for f in (record["time"], "audio" if item.has_audio else "", _state_note(item)) if f]
        head = f"**{name}**" + "".join(f" · {mark}" for mark in marks)
        lines.append(head + (f" *({' · '.join(facts)})*" if facts else ""))
        lines.append("")
        failed = item.state is TextState.FAILED
        lines.append(f"(transcription failed: {item.error})" if failed else item.display_text)
        lines.append("")
    return "\n".join(lines)


def _state_note(item: Item) -> str:
    # DONE needs no note, and INTERRUPTED is already the head's "cut off" mark.
    if item.state in (TextState.DONE, TextState.INTERRUPTED):
        return ""
    return item.state.value.replace("_", " ")
