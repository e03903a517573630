"""The conversation as Markdown or JSON: role, time, text and where each text stands.

Times are local wall-clock time with its UTC offset (ISO 8601, e.g. `2026-11-30T23:52:25+01:00`),
the same string in both formats, so a transcript read elsewhere or later still places each item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.protocol.records import UNIX_TIME_FLOOR

from .model import Item, TextState, session_separator

_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "tool": "Tool", "system": "System"}

ENDED_EARLY = ("cancelled", "incomplete", "failed", "truncated")
"""Item statuses that mean the text stops short of what was meant: the response was cancelled, cut
short, failed, or the item truncated to what the user heard."""
CUT_OFF = "cut off: the connection ended"
"""The mark of an item whose text was still coming when the connection ended (the pane's words)."""
CUT_BY_RECORDING = "cut off: the recording ends"
"""The mark of an item whose text was still coming where a replayed recording ends (the pane's words)."""
UNHEARD_MARK = "*(not heard: the audio was cut here, ≈ placed by its share of the audio)*"
"""The Markdown line between the words of a truncated reply the user heard and those they did not."""
OUT_OF_BAND = "out of band: not in the conversation"
"""The mark of an item an out-of-band response made (`conversation: "none"`)."""


@dataclass(frozen=True, slots=True)
class SessionNote:
    """What an export says of a session separator beyond its text: the server session the items
    below it belong to, and in a replay, the file its frames came from."""

    session_id: str = ""
    source: str = ""


def ended_early(item: Item, *, brief: bool = False, reason_limit: int | None = None) -> str | None:
    """The mark of an item whose text stops short (see `ENDED_EARLY`), with the response's reason
    when it gave one (`cancelled (turn_detected)`, `failed (server_error: …)`), or for a truncated
    item how much of its audio was heard of how much came (`truncated at 1.25 s of 4.10 s`; after
    the response's own mark when a `response.done` came after the truncate); else None. The pane
    and both exports say it in these words. `brief`: a failed response's error code alone, without
    its message (`Item.status_code`, when it has one);
    `reason_limit`: the reason cut to that many characters (a row's head: the service's quota
    message, a web address in it, took six lines of a narrow pane)."""
    if item.status not in ENDED_EARLY and item.audio_end_ms is None:
        return None
    cut = None
    if item.audio_end_ms is not None:
        # What the user heard of it: all the model now remembers of the reply (its text may say
        # more), against the audio that came for it.
        cut = f"truncated at {item.audio_end_ms / 1000:.2f} s"
        if item.audio_ms > 0:
            cut += f" of {item.audio_ms / 1000:.2f} s"
    if item.status == "truncated" or item.status not in ENDED_EARLY:
        return cut or "truncated"
    mark = item.status
    if item.status_reason:
        reason = " ".join((item.status_code if brief and item.status_code else item.status_reason).split())
        if reason_limit is not None and len(reason) > reason_limit:
            reason = reason[: reason_limit - 1] + "…"
        mark = f"{item.status} ({reason})"  # one line: a head's
    return mark if cut is None else f"{mark} · {cut}"


def heard_text(item: Item) -> str | None:
    """The words of a truncated item the user heard (an estimate: `Item.heard_split`), all of them
    when the cut came at its end; None for an item never truncated."""
    if item.audio_end_ms is None:
        return None
    heard = item.heard_split
    return (heard[0] if heard is not None else item.display_text).strip()


def iso_time(wall: float | None) -> str | None:
    """`wall` (seconds since the epoch) as local ISO 8601 time with its UTC offset, or None if unknown."""
    if not wall:
        return None
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="seconds")


def audio_length_ms(item: Item, input_audio: Mapping[str, float] | None = None) -> float | None:
    """Milliseconds of an item's audio: a reply's as received (its deltas), a user turn's as the
    input buffer committed it (`input_audio`: by item id, what the app's links measured); None
    when not known."""
    if item.audio_ms > 0:
        return item.audio_ms
    return (input_audio or {}).get(item.id)


def item_record(
    item: Item, function_names: dict[str, str] | None = None, input_audio: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """One item as a JSON-ready record (a session separator: see :func:`separator_record`).

    Function calls and their outputs carry `name` and `call_id` (an output's name is its call's,
    found by `call_id` in `function_names`); other items have them null. `out_of_band` is true for
    an item an out-of-band response made: it is not part of the conversation. `response_id`: the
    response that made it (null for the client's own items); a reply that never came (kind
    `no_output`) has the id `rt-no-output-` and its response's id. The fields older exports had keep their names
    and meanings (a function call's role stays "tool").
    """
    return {
        "id": item.id,
        "role": item.role,
        "kind": item.kind,
        "time": iso_time(item.wall),
        "text": item.text.strip(),
        "text_state": item.state.value,
        "status": item.status,
        "status_reason": item.status_reason,
        "audio_end_ms": item.audio_end_ms,
        "audio_ms": round(length) if (length := audio_length_ms(item, input_audio)) is not None else None,
        "heard_text": heard_text(item),
        "audio": item.has_audio,
        "origin": item.origin.value,
        "error": item.error,
        "transcript_latency_ms": round(item.transcription_latency * 1000)
        if item.transcription_latency is not None and item.state is TextState.DONE
        else None,
        "name": _function_name(item, function_names or {}),
        "call_id": item.call_id,
        "out_of_band": item.out_of_band,
        "response_id": item.response_id,
    }


def _function_names(items: list[Item]) -> dict[str, str]:
    """call_id → function name, from the function calls among `items`."""
    return {item.call_id: item.name for item in items if item.kind == "function_call" and item.call_id and item.name}


def _function_name(item: Item, function_names: dict[str, str]) -> str | None:
    """The function a call names, or for an output the function of the call it answers."""
    if item.kind == "function_call":
        return item.name
    if item.kind == "function_call_output" and item.call_id:
        return function_names.get(item.call_id)
    return None


def separator_record(item: Item, note: SessionNote | None = None) -> dict[str, Any]:
    """A session separator (role "session") as a JSON-ready record: id, role, kind, time, text,
    and the session it begins (`session_id`) and the file it was replayed from (`replayed_from`),
    null when not known or not a replay.

    It is not an item of the conversation, so it has no origin, text state or status.
    """
    note = note or SessionNote()
    return {
        "id": item.id,
        "role": item.role,
        "kind": item.kind,
        "time": iso_time(item.wall),
        "text": item.text,
        "session_id": note.session_id or None,
        "replayed_from": note.source or None,
    }


def to_json(
    items: list[Item], input_audio: Mapping[str, float] | None = None, sessions: Mapping[str, SessionNote] | None = None
) -> str:
    """The conversation as a JSON array of records, in conversation order.

    A reconnect's separator stays in the array as a record with role "session" (its text says
    "new session to …", its time when the new connection began): the items after it belong to a
    new server session, which does not know the ones before it. `sessions`: by separator id, what
    each separator's record says of its session (`SessionNote`).
    """
    names = _function_names(items)
    notes = sessions or {}
    records = [
        separator_record(item, notes.get(item.id)) if item.role == "session" else item_record(item, names, input_audio)
        for item in items
    ]
    return json.dumps(records, indent=2, ensure_ascii=False)


def with_first_session(
    items: list[Item], target: str = "", started: float | None = None, *, always: bool = False
) -> list[Item]:
    """`items`, led by a separator for the session the first items belong to when the conversation
    spans several (it holds a separator), or `always`: an export named every session but the first,
    whose items could not be told apart from the next session's. Its id is that connection's
    (`rt-session-N`); its text says the session's target (`target`) and when it began (`started`,
    Unix time; else when its first item came), as a reconnect's separator does."""
    if not always and not any(item.role == "session" for item in items):
        return items
    first = next((item for item in items if item.role != "session"), None)
    if first is None or items[0].role == "session":
        return items
    when = started if started is not None else first.wall
    when = when if when is not None and when >= UNIX_TIME_FLOOR else None
    return [session_separator(first.connection, "session", target, when), *items]


def separator_line(item: Item, note: SessionNote | None) -> str:
    """A separator in Markdown: its text, then the session and replayed file (code spans: server
    text, never Markdown), in italics: `*new session to … · 04:43:11 · session `sess_2`*`."""
    parts = [item.text]
    if note is not None and note.session_id:
        parts.append(f"session {_code_span(note.session_id)}")
    if note is not None and note.source:
        parts.append(f"replayed from {_code_span(note.source)}")
    return f"*{' · '.join(parts)}*"


def to_markdown(
    items: list[Item],
    about: Sequence[str] = (),
    input_audio: Mapping[str, float] | None = None,
    sessions: Mapping[str, SessionNote] | None = None,
) -> str:
    """The conversation as Markdown: one section per item, its facts in italics. `about`: what the
    file is of (the target, the session's id, when it was exported), under the title as code spans
    (server text: never Markdown), so a file found later says where its conversation came from.

    A text that stops short is marked right after the role, as the pane marks it: `**Assistant** ·
    cancelled (turn_detected)` (or incomplete, failed, truncated; the reason when the response gave
    one), `**Assistant** · cut off: the connection ended`; an
    out-of-band reply is marked `out of band: not in the conversation`. A function call is the
    assistant's (`**Assistant** called `name` (call_id)`), its output the client's (`**Client**
    returned the output of `name` (call_id)`), each followed by its JSON in a code block. A
    reconnect's separator is a rule and a line naming the new session (`separator_line`, with its
    note from `sessions`, by separator id).
    """
    names = _function_names(items)
    notes = sessions or {}
    lines = ["# Conversation", ""]
    if about:
        lines += [" · ".join(_code_span(fact) for fact in about), ""]
    for item in items:
        if item.role == "session":
            lines += ["---", "", separator_line(item, notes.get(item.id)), ""]
            continue
        early = ended_early(item)
        marks = [early] if early else []
        if item.state is TextState.INTERRUPTED:
            marks.append(CUT_OFF)
        elif item.state is TextState.UNRECORDED:
            marks.append(CUT_BY_RECORDING)
        if item.out_of_band:
            marks.append(OUT_OF_BAND)
        facts = [f for f in (iso_time(item.wall), _audio_fact(item, input_audio), _state_note(item)) if f]
        head = _markdown_head(item, names) + "".join(f" · {mark}" for mark in marks)
        lines.append(head + (f" *({' · '.join(facts)})*" if facts else ""))
        lines.append("")
        lines.append(_markdown_body(item))
        lines.append("")
    return "\n".join(lines)


def _audio_fact(item: Item, input_audio: Mapping[str, float] | None) -> str:
    """`audio 2.77 s` (its length when known), `audio`, or "" for an item without audio."""
    if not item.has_audio:
        return ""
    length = audio_length_ms(item, input_audio)
    return f"audio {length / 1000:.2f} s" if length is not None else "audio"


def _markdown_head(item: Item, function_names: dict[str, str]) -> str:
    """Who said or did what: the role, or for a function call or output, who called what.

    The server has no role for function items (rt-tui files them under "tool"): the assistant
    calls a function, and the client answers with its output.
    """
    if item.kind not in ("function_call", "function_call_output"):
        return f"**{_ROLE_NAMES.get(item.role, item.role)}**"
    name = _function_name(item, function_names)
    call = f" ({_code_span(item.call_id)})" if item.call_id else ""
    if item.kind == "function_call":
        return f"**Assistant** called {_code_span(name) if name else 'a function'}{call}"
    what = f"the output of {_code_span(name)}" if name else "a function's output"
    return f"**Client** returned {what}{call}"


def _markdown_body(item: Item) -> str:
    """The item's words; a function's arguments or output as a code block (JSON kept verbatim)."""
    if item.state is TextState.FAILED:
        return f"(transcription failed: {item.error})"
    if item.kind in ("function_call", "function_call_output") and item.text.strip():
        return _code_block(item.text.strip())
    heard = item.heard_split
    if heard is not None:
        # Two blocks, each closed on its own: the words heard, then those the audio never reached.
        return "\n\n".join([_contained(heard[0].strip() or "(nothing)"), UNHEARD_MARK, _contained(heard[1].strip())])
    return _contained(item.display_text)


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
"""A line that opens or closes a Markdown code block: the fence, then the rest of the line."""

_HTML_START = re.compile(
    r" {0,3}(?:<(?P<tag>script|pre|style|textarea)(?=[\s>]|$)|(?P<other><!--|<\?|<!\[CDATA\[|<![A-Za-z]))",
    re.IGNORECASE,
)
"""A line that opens an HTML block running until an end marker, not until a blank line (CommonMark
kinds 1 to 5): `<pre`, `<script`…, a comment, a processing instruction, a declaration, CDATA."""

_HTML_END = {"<!--": "-->", "<?": "?>", "<![CDATA[": "]]>"}
"""The end marker of each kind of HTML block but `<pre`… (their closing tag) and `<!X` (`>`)."""


def _contained(text: str) -> str:
    """`text` with every block it opens ended within it (CommonMark's rules), so that what follows
    it in the export stays the export's: a code block it leaves open is closed at its end; an HTML
    block (a comment, `<pre>`…) that would not end is shown as text (its `<` escaped).

    A reply cut off inside a code block (cancelled, cut by max_output_tokens, the connection lost),
    or a typed message that begins with ``` or `<!--`, made every section after it code or hidden
    HTML: the rest of the conversation read as one block. One pass, each end marker looked for
    once from where it was last needed: a server's text of a million such lines costs no more."""
    fence = ""
    escapes: list[int] = []
    """Where a `<` that opens a block that never ends is (it gets a backslash)."""
    ends: dict[str, int] = {}
    """Each end marker's next place as last looked for (-1: nowhere after)."""
    inside = -1
    """The offset of the end marker of the HTML block the lines are in, until that line."""
    at = 0
    for line in text.split("\n"):
        start, at = at, at + len(line) + 1
        if start <= inside:
            continue
        match = _FENCE.fullmatch(line.rstrip("\r"))
        if fence or match is not None:
            if match is None:
                continue
            run, rest = match.groups()
            if not fence:
                if not (run[0] == "`" and "`" in rest):  # a backtick fence's info string has none
                    fence = run
            elif run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
                fence = ""
            continue
        html = _HTML_START.match(line)
        if html is None:
            continue
        marker = f"</{html['tag'].lower()}>" if html["tag"] else _HTML_END.get(html["other"], ">")
        end = ends.get(marker)
        if end is None or 0 <= end < start + html.end():
            found = re.compile(re.escape(marker), re.IGNORECASE).search(text, start + html.end())
            end = ends[marker] = found.start() if found else -1
        if end < 0:
            escapes.append(start + line.index("<"))  # never ends: shown as the text it is
        else:
            inside = end  # the lines up to the marker's are the block's own
    if escapes:
        pieces, last = [], 0
        for offset in escapes:
            pieces += [text[last:offset], "\\"]
            last = offset
        text = "".join([*pieces, text[last:]])
    return f"{text}\n{fence}" if fence else text


def _code_span(value: str) -> str:
    """`value` as inline code, whatever backticks it holds (a longer fence, spaced when needed)."""
    fence = "`" * (_longest_backtick_run(value) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _code_block(value: str) -> str:
    """`value` as a fenced code block (marked json when it is JSON), which no content can close."""
    fence = "`" * max(3, _longest_backtick_run(value) + 1)
    try:
        json.loads(value)
        language = "json"
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        language = ""
    return f"{fence}{language}\n{value}\n{fence}"


def _longest_backtick_run(value: str) -> int:
    return max((len(run) for run in re.findall(r"`+", value)), default=0)


def _state_note(item: Item) -> str:
    # DONE needs no note, and INTERRUPTED and UNRECORDED are already the head's "cut off" marks.
    if item.state in (TextState.DONE, TextState.INTERRUPTED, TextState.UNRECORDED):
        return ""
    return item.state.value.replace("_", " ")
