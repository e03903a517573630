"""A finding: one mistake in a session's traffic, the frames it concerns, and what to do instead.

Findings are what `rt-tui lint` prints in CI and what the UI shows as badges on log rows, so they
are plain text (never markup) and name frames by type and seq, the way the event log shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui.journal import Journal
from tui.protocol import json_type_name, printable


class Severity(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    """The mistake that explains a null transcript or a request the server refuses."""
    WARNING = "warning"
    """Probably a mistake: the session works, but not as the developer most likely meant."""
    INFO = "info"
    """Worth knowing; nothing is wrong with the client."""


SEVERITY_ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True, slots=True)
class Finding:
    """One occurrence of a rule: what is wrong, why, how to fix it, and the frames concerned."""

    rule: str
    """A stable kebab-case id (see :data:`tui.lint.rules.RULES`)."""
    severity: Severity
    message: str
    """What is wrong, naming the frame(s) by type and seq, and what it causes."""
    fix: str
    """What to do instead."""
    frames: tuple[int, ...]
    """Journal indices of the frames concerned. The first is the frame the finding blames (the event
    log's badge marks it, and the findings list goes to it); the others are context."""


def connection_of(finding: Finding, journal: Journal) -> int:
    """The connection (the journal's epoch: 1 for the first) of the frame `finding` blames; the
    newest for a finding that names no frame. After ctrl+r, or in a replay of several captures,
    findings of earlier connections stay listed: this tells them from the current one's."""
    if finding.frames and 0 <= finding.frames[0] < len(journal):
        return journal[finding.frames[0]].epoch
    return journal.epoch


def plain(value: str, limit: int = 300) -> str:
    """`value` as one line of plain text: control characters shown as symbols, cut to `limit` characters.

    Event types, ids and error messages come from the wire; a newline in one must not break the
    one-finding-two-lines layout of `rt-tui lint`, and a megabyte of it must not flood a terminal.
    Controls show as everywhere else server text is shown (`printable`: ESC as ␛, U+202E by name),
    not as Python escapes a reader could take for the server's own text.
    """
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return printable(value)


def shown(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters: a value quoted from a frame, whatever its type or size."""
    text = repr(value) if not isinstance(value, dict | list) or len(value) < 20 else f"<a JSON {json_type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def frame_label(journal: Journal, index: int) -> str:
    """`#seq type` of the frame at journal `index` (metadata the journal keeps for ever)."""
    if 0 <= index < len(journal):
        frame = journal[index]
        return f"#{frame.seq} {plain(frame.type, 80)}"
    return f"#? (journal index {index})"


def format_finding(finding: Finding, journal: Journal) -> str:
    """Two lines of plain text for a terminal: severity, rule and message; then the fix and the frames."""
    frames = ", ".join(frame_label(journal, index) for index in finding.frames)
    head = f"{finding.severity.value}: {finding.rule}: {printable(finding.message)}"
    tail = f"  fix: {printable(finding.fix)}"
    if frames:
        tail += f" [frames: {frames}]"
    return f"{head}\n{tail}"


def finding_record(finding: Finding, journal: Journal) -> dict[str, Any]:
    """The finding as a JSON-ready object (for `rt-tui lint --json`)."""
    frames: list[dict[str, Any]] = []
    for index in finding.frames:
        if 0 <= index < len(journal):
            frame = journal[index]
            frames.append({"index": index, "seq": frame.seq, "type": frame.type, "direction": frame.direction.value})
        else:
            frames.append({"index": index})
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
        "fix": finding.fix,
        "frames": frames,
    }
