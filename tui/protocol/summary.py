"""One-line summaries of every event type, for the event log's summary column.

Each summary says what a developer scans for: ids and statuses, the words of a delta, a config in
a few words, token counts, the error's code and message. Audio is a size tag, never decoded.
Nothing here raises on odd shapes: every field is read through the defensive helpers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from .events import AUDIO_FIELDS, to_ga
from .fields import error_summary, field, obj, objects, text
from .printable import printable
from .session_config import transcription_config, turn_detection_config

MAX_QUOTE = 80
"""Characters of quoted text (deltas, transcripts) shown before an ellipsis."""

PCM16_BYTES_PER_MS = 48
"""24 kHz mono PCM16, the API's default format."""
G711_BYTES_PER_MS = 8
"""G.711 (`audio/pcmu`, `audio/pcma`; beta `g711_ulaw`, `g711_alaw`): 8 kHz, a byte per sample."""

_G711_FORMATS = frozenset({"audio/pcmu", "audio/pcma", "g711_ulaw", "g711_alaw"})
_FORMAT_NAMES = {G711_BYTES_PER_MS: "g711"}
"""The name a tag gives its format when it is not 24 kHz PCM16 (so an export reads back right)."""
_NAMED_RATES = {name: rate for rate, name in _FORMAT_NAMES.items()}


class AudioRates(NamedTuple):
    """Bytes per millisecond of a session's input and output audio (its applied formats)."""

    input: int = PCM16_BYTES_PER_MS
    output: int = PCM16_BYTES_PER_MS


PCM16_RATES = AudioRates()
"""A session that said no format (or none is known yet): 24 kHz PCM16 both ways."""

_OUTPUT_AUDIO = frozenset({"response.output_audio.delta", "response.audio.delta", "output_audio", "audio"})
"""Types of the objects whose audio is the session's output (a server delta, an assistant's part)."""


def session_rates(session: dict[str, Any] | None) -> AudioRates:
    """The `AudioRates` of a GA or beta session object (24 kHz PCM16 for a format not said)."""
    if not session:
        return PCM16_RATES
    audio = obj(session.get("audio"))
    rates = []
    for way in ("input", "output"):
        fmt = obj(obj(audio.get(way)).get("format"))
        kind = text(fmt.get("type")) if fmt else text(session.get(f"{way}_audio_format"))
        rates.append(G711_BYTES_PER_MS if kind in _G711_FORMATS else PCM16_BYTES_PER_MS)
    return AudioRates(rates[0], rates[1])


def response_output_rate(response: dict[str, Any]) -> int | None:
    """Bytes per ms of the audio a response object (`response.created`'s) plays when it names a
    format of its own, shaped as a session's output (GA `audio.output.format`, beta
    `output_audio_format`); None when it names none: it plays the session's."""
    said = obj(obj(obj(response.get("audio")).get("output")).get("format"))
    if said or "output_audio_format" in response:
        return session_rates(response).output
    return None


def rate_of(kind: object, rates: AudioRates) -> int:
    """Bytes per ms of the audio held by an object of type `kind` (an event's or a content part's):
    a server delta's and an assistant's part are the output format, the rest (appends, a user's
    `input_audio`) the input format."""
    return rates.output if kind in _OUTPUT_AUDIO else rates.input


def summarize_event(data: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    """A one-line summary of an event's payload (without its type); its audio lengths in `rates`,
    the formats the session had applied when the frame passed."""
    etype = text(data.get("type"))
    audio_field = AUDIO_FIELDS.get(etype)
    if audio_field and isinstance(data.get(audio_field), str):
        return audio_summary(data[audio_field], rate_of(etype, rates))
    ga = to_ga(etype)
    rated = _RATED_HANDLERS.get(ga)
    handler = _HANDLERS.get(ga)
    if rated is not None:
        summary = rated(data, rates)
    elif handler is None:
        if etype.startswith("rt."):
            return _local_fact(data)
        if etype.endswith(".delta") and isinstance(data.get("delta"), str):
            return quote(data["delta"])
        summary = _scalars(data)
    else:
        summary = handler(data)
    event_id = data.get("event_id")
    if not summary and isinstance(event_id, str) and event_id and not event_id.startswith("event_"):
        # A bare client event (a misspelt one too): its id is what an error will name (a server
        # event's own id, `event_…`, names nothing a user looks for).
        return printable(event_id)
    return summary


_CODE_AT_END = re.compile(r"(.*?) \((code \d+[^()]*)\)")


def _local_fact(data: dict[str, Any]) -> str:
    """An rt-tui fact's message, what tells it apart first: a close code leads (a narrow column
    cut `connection closed by server (code 1006)` before its code), and a file path keeps its
    last two parts (the session folder and the file name), not its root, and leads when the
    message is where something goes (`… to PATH`)."""
    message = text(data.get("message"))
    if text(data.get("type")) == "rt.malformed":
        # The type column says it is malformed: the reason is what tells two such rows apart (at
        # 100 columns both read `malformed frame from server: n…`).
        message = message.removeprefix("malformed frame from server: ").removeprefix("malformed frame: ")
    ending = _CODE_AT_END.fullmatch(message)
    code = data.get("code")
    if ending is not None:
        message = f"{ending[2]} · {ending[1]}"
    elif isinstance(code, int) and not isinstance(code, bool) and str(code) not in message:
        message = f"code {code} · {message}"
    head, sep, path = message.partition(" /")
    if sep and "/" in path and " " not in path:
        parts = path.split("/")
        if len(parts) > 3:
            where = f"…/{'/'.join(parts[-2:])}"
            # A destination leads (`…/20261130-224512-abc123/frames.jsonl · capturing every frame`):
            # after `capturing every frame to ` a two-pane log at 160 columns showed `…/2026120…`.
            message = f"{where} · {head.removesuffix(' to')}" if head.endswith(" to") else f"{head} {where}"
    return message


_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=]*")


def looks_base64(value: str) -> bool:
    """Whether `value` begins and ends as base64 does, with no URL-safe character anywhere: audio
    that is not (a data URL, text) is kept as it is where audio is tagged (cut in the detail view,
    whole in an export), so what the linter's finding about it quotes is still there to see and to
    lint again."""
    return (
        _BASE64_TEXT.fullmatch(value, 0, min(len(value), 64)) is not None
        and _BASE64_TEXT.fullmatch(value, max(0, len(value) - 64)) is not None
        and "-" not in value  # URL-safe base64 between standard-looking ends (silence encodes as AAAA)
        and "_" not in value
    )


def audio_summary(value: str, bytes_per_ms: int = PCM16_BYTES_PER_MS) -> str:
    """An audio field's summary: its `audio_tag`, or for text that is no base64 (a data URL, a
    URL-safe alphabet: the server refuses it), what it is, quoted with its length, not its
    characters counted as audio (`[audio 19 B · 0 ms]` for `data:audio/wav;base64,AAAA`)."""
    if is_audio_tag(value) or looks_base64(value):
        return audio_tag(value, bytes_per_ms)
    return f"not base64 audio: {quote(value, 40)} ({len(value):,} chars)"


def audio_tag(b64: str, bytes_per_ms: int = PCM16_BYTES_PER_MS) -> str:
    """A short tag for a base64 audio payload of `bytes_per_ms` (24 kHz PCM16 unless said):
    `[audio 4.7 KB · 100 ms]`, and from a second on `[audio 74.3 KB · 1.59 s]`, as a run of deltas
    says its length; G.711 names itself (`[audio 6.2 KB · 800 ms · g711]`). A payload that is a
    tag already (an export without audio, replayed) is shown as the file says it, not measured."""
    return b64 if is_audio_tag(b64) else audio_size_tag(audio_bytes(b64), bytes_per_ms)


def audio_bytes(value: str) -> int:
    """The bytes of audio an audio field's text carries: base64's decoded length, or, for an
    `audio_tag` (an export without audio), the bytes it stands for (its own 22 characters read as
    base64 made 3.74 s of speech `16 B · 0 ms`)."""
    if value[:1] == "[":  # one character looked at: the linter calls this for every audio delta
        said = audio_tag_bytes(value)
        if said is not None:
            return said
    return max(0, len(value) * 3 // 4 - value[-2:].count("="))  # "=" alone: 0, not -1


_LONGEST_TAG = 64
"""More characters than any `audio_tag` has, its `·`s escaped as `\\u00b7` included."""


def audio_span_bytes(raw: str, start: int, end: int) -> int:
    """`audio_bytes` of the JSON string at `raw[start:end]` (where `string_span` found an audio
    field), without copying megabytes of base64: only a short text that opens as a tag is read
    (and unescaped: a file written with ASCII escapes holds `\\u00b7` for its `·`). Base64 counts
    3 bytes for 4 characters, its padding too, as a run's total always did."""
    if end - start <= _LONGEST_TAG and raw.startswith("[audio ", start):
        try:
            said = audio_tag_bytes(json.loads(f'"{raw[start:end]}"'))
        except ValueError:
            said = None
        if said is not None:
            return said
    return (end - start) * 3 // 4


def audio_length(nbytes: int, bytes_per_ms: int = PCM16_BYTES_PER_MS) -> str:
    """`40 ms`, `1.79 s`: how long `nbytes` of audio plays (whole milliseconds, the part dropped; two
    decimals from a second on), as a tag and a linter's finding both say it."""
    ms = nbytes // bytes_per_ms
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms} ms"


def audio_size_tag(nbytes: int, bytes_per_ms: int = PCM16_BYTES_PER_MS) -> str:
    """`audio_tag` for `nbytes` of audio whose payload is not at hand (a frame that left memory)."""
    size = f"{nbytes / 1024:.1f} KB" if nbytes >= 1024 else f"{nbytes} B"
    length = audio_length(nbytes, bytes_per_ms)
    name = _FORMAT_NAMES.get(bytes_per_ms)
    return f"[audio {size} · {length} · {name}]" if name else f"[audio {size} · {length}]"


_AUDIO_TAG = re.compile(r"\[audio \d+(?:\.\d)? K?B · \d+(?:\.\d+)? m?s(?: · g711)?\]")


def is_audio_tag(value: object) -> bool:
    """Whether `value` is an `audio_tag` standing in for audio left out (an export without audio):
    there is no audio to judge, only its length."""
    return isinstance(value, str) and value.startswith("[audio ") and _AUDIO_TAG.fullmatch(value) is not None


def audio_tag_bytes(tag: object) -> int | None:
    """The audio bytes an `audio_tag` stands for, or None for text that is no such tag: exact under
    1 KB; above, the middle of the bytes both its size (to 0.1 KB) and its length (to the ms, or
    to 10 ms from a second on) allow, within 2.2% (the size alone was 4.7% off: 1,280 bytes, `1.2 KB`,
    read as 1,229, which put a 16 kHz stream of 40 ms appends outside the pace meter's 3%)."""
    if not isinstance(tag, str) or not is_audio_tag(tag):
        return None
    size, unit, _, length, length_unit, *named = tag[len("[audio ") : -1].split(" ")
    per_ms = _NAMED_RATES[named[-1]] if named else PCM16_BYTES_PER_MS  # a tag without a name: 24 kHz PCM16
    if unit == "B":
        return int(size)
    kilobytes = float(size)
    low, high = (kilobytes - 0.05) * 1024, (kilobytes + 0.05) * 1024
    # `26 ms` is 26 ms and a part (the bytes // 48, or // 8); `1.59 s` is 1,585 to 1,594 ms (rounded).
    if length_unit == "s":
        first_ms, past_ms = float(length) * 1000 - 5, float(length) * 1000 + 5
    else:
        first_ms, past_ms = float(length), float(length) + 1
    low, high = max(low, first_ms * per_ms), min(high, past_ms * per_ms - 1)
    middle = (low + high) / 2 if low <= high else kilobytes * 1024  # else: a tag edited by hand
    # Whole samples (PCM16's are 2 bytes): `2,403 bytes of 24 kHz mono PCM16` can be no one's audio.
    sample = 2 if per_ms == PCM16_BYTES_PER_MS else 1
    return round(middle / sample) * sample


def quote(value: str, limit: int = MAX_QUOTE) -> str:
    """`value` in quotes on one line, cut to `limit` characters."""
    flat = " ".join(value.split()) if ("\n" in value or "\r" in value or "\t" in value) else value
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    # Control characters as the symbols every pane shows (not repr's `\x1b`), in repr's quotes.
    shown = printable(flat)
    return f'"{shown}"' if "'" in shown and '"' not in shown else f"'{shown}'"


def describe_config(session: dict[str, Any]) -> str:
    """A session object (GA or beta, full or partial) in a few words."""
    parts: list[str] = []
    kind = text(session.get("type"))
    if kind and kind != "realtime":
        parts.append(kind)
    audio_in = obj(obj(session.get("audio")).get("input"))
    has_transcription = "transcription" in audio_in or "input_audio_transcription" in session
    if has_transcription:
        config = transcription_config(session)
        parts.append(f"transcribe {text(config.get('model')) or 'on'}" if config is not None else "transcription off")
    has_turns = "turn_detection" in audio_in or "turn_detection" in session
    if has_turns:
        turns = turn_detection_config(session)
        parts.append(text(turns.get("type")) or "vad" if turns is not None else "manual turns")
    modalities = session.get("output_modalities", session.get("modalities"))
    if isinstance(modalities, list):
        parts.append("+".join(text(m) for m in modalities) or "no output")
    fmt = obj(audio_in.get("format"))
    rate = fmt.get("rate")
    if fmt and (text(fmt.get("type")) != "audio/pcm" or rate not in (None, 24000)):
        parts.append(f"in {text(fmt.get('type'))}{f' {rate} Hz' if rate else ''}")
    elif text(session.get("input_audio_format")) not in ("", "pcm16"):
        parts.append(f"in {text(session.get('input_audio_format'))}")
    voice = text(obj(obj(session.get("audio")).get("output")).get("voice")) or text(session.get("voice"))
    if voice:
        parts.append(f"voice {voice}")
    if "instructions" in session:
        parts.append(f"instructions {len(text(session.get('instructions')))} chars")
    tools = objects(session.get("tools"))
    if tools:
        parts.append(f"{len(tools)} tool{'s' if len(tools) != 1 else ''}")
    return " · ".join(parts)


def _session(data: dict[str, Any]) -> str:
    session = field(data, "session")
    head = " ".join(x for x in (text(session.get("id")), text(session.get("model"))) if x)
    config = describe_config(session)
    return " · ".join(x for x in (head, config) if x)


def _rate_limits(data: dict[str, Any]) -> str:
    parts = []
    for limit in objects(data.get("rate_limits")):
        name, remaining, total = text(limit.get("name")), limit.get("remaining"), limit.get("limit")
        reset = limit.get("reset_seconds")
        entry = f"{name} {_count(remaining)}/{_count(total)}"
        if isinstance(reset, int | float) and not isinstance(reset, bool):
            entry += f" (resets {reset:g} s)"
        parts.append(entry)
    return " · ".join(parts)


def _is_int(value: Any) -> bool:
    """An int that is not a bool (JSON's true is no count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else text(value) or "?"


def _item(raw: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    kind = text(raw.get("type"))
    parts = [text(raw.get("id"))]
    if kind == "function_call":
        parts.append(f"call {text(raw.get('name'))}({_cut(text(raw.get('arguments')), 40)})")
    elif kind == "function_call_output":
        parts.append(f"output {quote(text(raw.get('output')), 40)}")
    else:
        parts.append(text(raw.get("role")) or kind)
        for part in objects(raw.get("content")):
            ptype = text(part.get("type"))
            if ptype in ("input_audio", "output_audio", "audio"):
                audio = part.get("audio")
                kind = ptype if text(raw.get("role")) != "user" else "input_audio"
                tag = audio_summary(audio, rate_of(kind, rates)) if isinstance(audio, str) and audio else ptype
                transcript = part.get("transcript")
                said = quote(transcript, 40) if isinstance(transcript, str) else "transcript null"
                parts.append(f"{tag} {said}" if ptype != tag else f"{ptype} · {said}")
            elif ptype in ("input_text", "output_text", "text"):
                parts.append(quote(text(part.get("text")), 50))
            elif ptype:
                parts.append(ptype)
    status = text(raw.get("status"))
    if status and status != "completed":
        parts.append(status)
    return " ".join(p for p in parts if p)


def _item_event(data: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    summary = _item(field(data, "item"), rates)
    previous = data.get("previous_item_id")
    if isinstance(previous, str) and previous:
        summary += f" (after {previous})"
    return summary


def _response(data: dict[str, Any]) -> str:
    """`completed · 95+111 tokens · 1 item · resp_…` (tokens in + out): what a reader scans for first,
    the id last (the summary column is about 36 cells on a 160-column screen: led by the id, it
    showed `resp_… · comp…` and never the tokens; the id is in the details and filters find it)."""
    response = field(data, "response")
    parts = [text(response.get("status"))]
    details = field(response, "status_details")
    reason = text(details.get("reason"))
    error = field(details, "error")
    # Attached to the status it explains; alone when a server sent none (else it leads with `: `/` (`).
    said = error_summary({"error": error}) if error else reason
    if said and parts[0]:
        parts[0] += f": {said}" if error else f" ({said})"
    elif said:
        parts.append(said)
    usage = field(response, "usage")
    total, tokens_in, tokens_out = (usage.get(key) for key in ("total_tokens", "input_tokens", "output_tokens"))
    if (
        isinstance(tokens_in, int)
        and isinstance(tokens_out, int)
        and _is_int(total)
        and tokens_in + tokens_out == total
    ):
        # `260+106 tokens`: in and out, whose sum is the total; `366 tokens (in 260, out 106)` was cut
        # at its out figure in the column of a 160-column screen.
        parts.append(f"{tokens_in:,}+{tokens_out:,} tokens")
    elif _is_int(total):
        parts.append(f"{total:,} tokens (in {_count(tokens_in)}, out {_count(tokens_out)})")
    outputs = objects(response.get("output"))
    if outputs:
        parts.append(f"{len(outputs)} item{'s' if len(outputs) != 1 else ''}")
    parts.append(text(response.get("id")))
    return " · ".join(p for p in parts if p)


def _response_create(data: dict[str, Any]) -> str:
    response = field(data, "response")
    parts = []
    if text(response.get("conversation")) == "none":
        parts.append("out-of-band")
    modalities = response.get("output_modalities", response.get("modalities"))
    if isinstance(modalities, list):
        parts.append("+".join(text(m) for m in modalities))
    if "instructions" in response:
        parts.append(f"instructions {quote(text(response.get('instructions')), 40)}")
    return " · ".join(parts)


def _item_create(data: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    return _item_event(data, rates)


def _ids(*keys: str) -> Callable[[dict[str, Any]], str]:
    def summary(data: dict[str, Any]) -> str:
        return " ".join(text(data.get(k)) for k in keys if text(data.get(k)))

    return summary


def _speech(data: dict[str, Any]) -> str:
    item_id = text(data.get("item_id"))
    for key in ("audio_start_ms", "audio_end_ms"):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{item_id} at {value / 1000:.2f} s"
    return item_id


def _committed(data: dict[str, Any]) -> str:
    summary = text(data.get("item_id"))
    previous = text(data.get("previous_item_id"))
    return f"{summary} (after {previous})" if previous else summary


def _truncate(data: dict[str, Any]) -> str:
    end = data.get("audio_end_ms")
    at = f" at {end} ms" if isinstance(end, int | float) and not isinstance(end, bool) else ""
    return f"{text(data.get('item_id'))}{at}"


def _delta(data: dict[str, Any]) -> str:
    delta = data.get("delta")
    return quote(delta) if isinstance(delta, str) else ""


def _final_text(key: str) -> Callable[[dict[str, Any]], str]:
    def summary(data: dict[str, Any]) -> str:
        value = data.get(key)
        return quote(value.strip()) if isinstance(value, str) else ""

    return summary


def _arguments_done(data: dict[str, Any]) -> str:
    return f"{text(data.get('name'))}({_cut(text(data.get('arguments')), 60)})"


def _content_part(data: dict[str, Any]) -> str:
    part = field(data, "part")
    return " ".join(x for x in (text(data.get("item_id")), text(part.get("type"))) if x)


def _output_item(data: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    return _item(field(data, "item"), rates)


def _append(data: dict[str, Any], rates: AudioRates = PCM16_RATES) -> str:
    audio = data.get("audio")
    return audio_summary(audio, rates.input) if isinstance(audio, str) else ""


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _scalars(data: dict[str, Any]) -> str:
    """For a type nobody described: its scalar fields, `key=value`."""
    parts = []
    for key, value in data.items():
        if key in ("type", "event_id"):
            continue
        if isinstance(value, str):
            parts.append(f"{key}={_cut(value, 40)}")
        elif isinstance(value, int | float | bool) or value is None:
            parts.append(f"{key}={value}")
        if len(parts) == 4:
            break
    return " ".join(parts)


_HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "error": error_summary,
    "session.created": _session,
    "session.updated": _session,
    "session.update": _session,
    "rate_limits.updated": _rate_limits,
    "conversation.created": lambda data: text(field(data, "conversation").get("id")),
    "conversation.item.retrieve": _ids("item_id"),
    "conversation.item.delete": _ids("item_id"),
    "conversation.item.deleted": _ids("item_id"),
    "conversation.item.truncate": _truncate,
    "conversation.item.truncated": _truncate,
    "conversation.item.input_audio_transcription.delta": _delta,
    "conversation.item.input_audio_transcription.completed": _final_text("transcript"),
    "conversation.item.input_audio_transcription.failed": error_summary,
    "conversation.item.input_audio_transcription.segment": _final_text("text"),
    "input_audio_buffer.commit": lambda data: "",
    "input_audio_buffer.clear": lambda data: "",
    "input_audio_buffer.committed": _committed,
    "input_audio_buffer.cleared": lambda data: "the input buffer is empty",  # all it says; not blank
    "input_audio_buffer.speech_started": _speech,
    "input_audio_buffer.speech_stopped": _speech,
    "input_audio_buffer.timeout_triggered": _speech,
    "response.create": _response_create,
    "response.cancel": _ids("response_id"),
    "response.created": _response,
    "response.done": _response,
    "response.content_part.added": _content_part,
    "response.content_part.done": _content_part,
    "response.output_text.delta": _delta,
    "response.output_text.done": _final_text("text"),
    "response.output_audio_transcript.delta": _delta,
    "response.output_audio_transcript.done": _final_text("transcript"),
    "response.output_audio.done": _ids("item_id"),
    "response.function_call_arguments.delta": _delta,
    "response.function_call_arguments.done": _arguments_done,
    "output_audio_buffer.clear": lambda data: "",
    "output_audio_buffer.started": _ids("response_id"),
    "output_audio_buffer.stopped": _ids("response_id"),
    "output_audio_buffer.cleared": _ids("response_id"),
}

_RATED_HANDLERS: dict[str, Callable[[dict[str, Any], AudioRates], str]] = {
    # Frames that can carry audio: their tags in the session's formats.
    "conversation.item.create": _item_create,
    "conversation.item.added": _item_event,
    "conversation.item.created": _item_event,
    "conversation.item.done": _item_event,
    "conversation.item.retrieved": _item_event,
    "input_audio_buffer.append": _append,
    "response.output_item.added": _output_item,
    "response.output_item.done": _output_item,
}
