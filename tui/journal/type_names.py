"""The short spellings of event types the event log shows, for the log and the filter alike.

A narrow type column shows `conversation.item.added` as `c.item.added` and
`response.output_audio_transcript.delta` as `r.o_a_transcript.delta`: what a user reads there
is what they type into a filter (`type:c.item.*`), so the filter matches these spellings too.

A leading segment shortens to an initial only when it is a family that initial stands for: `r.`
is `response.` and nothing else, so `type:r.*` never takes `rate_limits.updated` (nor a server's
unknown `realtime.…`) for a response event. Other leading segments stay whole.
"""

from __future__ import annotations

_FAMILY_INITIALS = {
    "response": "r",
    "conversation": "c",
    "session": "s",
    "input_audio_buffer": "i",
    "output_audio_buffer": "o",
    "transcription_session": "t",
}
"""The leading segments that shorten to an initial, each to one no other family shares."""


def _head(parts: list[str]) -> list[str]:
    """The segments before the last two, as initials: the first by `_FAMILY_INITIALS` (else
    whole), the rest by their first letter (they are read within the first)."""
    if not parts:
        return []
    first = _FAMILY_INITIALS.get(parts[0], parts[0])
    return [first, *(part[:1] for part in parts[1:])]


def initials(name: str) -> str:
    """Every segment but the last as its initial: `r.created`, `c.i.added`. Not a spelling the log
    shows, but what `type:r.*` (every response event) takes for granted."""
    parts = name.split(".")
    return ".".join([*_head(parts[:-1]), parts[-1]])


def short_forms(name: str) -> tuple[str, str]:
    """`name` shortened twice: its leading segments to initials (`conversation.item.added` →
    `c.item.added`), then also the words of its second-to-last segment but the last
    (`r.output_audio_transcript.delta` → `r.o_a_transcript.delta`). A name of fewer than two
    segments comes back as it is, twice."""
    parts = name.split(".")
    if len(parts) < 2:
        return name, name
    head, (middle, last) = _head(parts[:-2]), parts[-2:]
    initials = ".".join([*head, middle, last])
    if "_" in middle:
        words = middle.split("_")
        middle = "_".join(word[:1] for word in words[:-1]) + "_" + words[-1]
    return initials, ".".join([*head, middle, last])


def compact(name: str) -> str:
    """`name` with every word of its second-to-last segment as an initial too, when that segment
    has several (`response.output_audio_transcript.delta` → `r.o_a_t.delta`, apart from
    `r.o_a.delta`; `rate_limits.updated` → `r_l.updated`); else its `initials`. What a type column
    of a dozen cells still tells apart."""
    parts = name.split(".")
    # Two segments: only a first one that is no family (which has its initial): `r_l.updated`, where
    # a narrow column read `…updated`, as much `session.updated` (review 57a).
    if len(parts) < 2 or "_" not in parts[-2] or (len(parts) == 2 and parts[0] in _FAMILY_INITIALS):
        return initials(name)
    middle = "_".join(word[:1] for word in parts[-2].split("_"))
    return ".".join([*_head(parts[:-2]), middle, parts[-1]])


def spellings(name: str) -> tuple[str, ...]:
    """Every spelling of `name` the log may show, longest first, each once: the name, its
    `short_forms`, `compact` and `initials`."""
    return tuple(dict.fromkeys((name, *short_forms(name), compact(name), initials(name))))
