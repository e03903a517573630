"""Heard and unheard after a barge-in: a truncated reply's words past the cut are marked as never
heard, in the pane and in both exports, against the real simulator's audio and words."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.server_helpers import client, recv_until, send, session_patch
from tests.test_conversation_export import conversation_of, typed
from tui.conversation.export import UNHEARD_MARK, to_json, to_markdown
from tui.conversation.model import Item, word_break
from tui.server import Simulator
from tui.widgets import render_item
from tui.widgets.transcript import UNHEARD_STYLE

QUESTION = "tell me about the weather in the mountains this week and what I should wear for a long walk"


async def reply_then_truncate(
    sim: Simulator, heard: int | Callable[[float], int] | None, *, output: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """A typed question, the simulator's whole spoken reply, then (unless `heard` is None) a
    truncate of it at `heard` ms (or at `heard(ms the reply's audio lasts)`): every server event,
    in order."""
    update = session_patch()
    if output is not None:
        update["session"]["audio"]["output"] = output
    async with client(sim.url) as ws:
        await send(ws, update)
        events = await recv_until(ws, "session.updated")
        await send(ws, typed(QUESTION))
        await send(ws, {"type": "response.create"})
        events += await recv_until(ws, "response.done")
        if heard is not None:
            heard_ms = heard if isinstance(heard, int) else heard(reply_of(events).audio_ms)
            [reply_id] = [e["item"]["id"] for e in events if e["type"] == "response.output_item.done"]
            cut = {"type": "conversation.item.truncate", "item_id": reply_id, "content_index": 0}
            cut["audio_end_ms"] = heard_ms
            await send(ws, cut)
            events += await recv_until(ws, "conversation.item.truncated")
    return events


def reply_of(events: list[dict[str, Any]]) -> Item:
    return conversation_of(events).ordered()[-1]


async def test_the_audio_received_for_a_reply_is_counted_at_its_format(sim: Simulator) -> None:
    """The reply's audio length is what its deltas carry, read at the session's output format: the
    same words spoken in 24 kHz PCM16 (48 bytes a ms) and in G.711 (8 bytes a ms) last as long."""
    pcm = reply_of(await reply_then_truncate(sim, None))
    law = reply_of(await reply_then_truncate(sim, None, output={"format": {"type": "audio/pcmu"}}))
    assert pcm.text == law.text and pcm.audio_ms > 1000
    assert abs(pcm.audio_ms - law.audio_ms) < 0.02 * pcm.audio_ms, (pcm.audio_ms, law.audio_ms)
    assert pcm.heard_split is None  # never truncated: all of it counts as heard


async def test_a_reply_truncated_halfway_is_split_near_half_its_words(sim: Simulator) -> None:
    """The cut falls at the share of the text that the heard audio is of the audio, on a break
    between words; the pane strikes out the words after it, and the head says how much was heard
    of how much came."""
    reply = reply_of(await reply_then_truncate(sim, lambda ms: round(ms / 2)))
    half = round(reply.audio_ms / 2)
    assert reply.audio_end_ms == half and reply.status == "truncated"
    split = reply.heard_split
    assert split is not None
    heard, unheard = split
    assert heard + unheard == reply.display_text
    assert abs(len(heard) - len(reply.display_text) / 2) <= max(len(w) for w in reply.display_text.split()) + 1
    assert heard[-1:].isspace() or unheard[:1].isspace()  # no word is cut in two
    rendered = render_item(reply)
    head = rendered.plain.splitlines()[0]
    assert head == f"assistant  truncated at {half / 1000:.2f} s of {reply.audio_ms / 1000:.2f} s"
    struck = [rendered.plain[span.start : span.end] for span in rendered.spans if span.style == UNHEARD_STYLE]
    assert struck == [unheard]


async def test_both_exports_say_which_words_were_heard(sim: Simulator) -> None:
    events = await reply_then_truncate(sim, 700)
    conv = conversation_of(events)
    reply = conv.ordered()[-1]
    assert reply.heard_split is not None
    heard, unheard = reply.heard_split
    record = json.loads(to_json(conv.ordered()))[-1]
    assert record["heard_text"] == heard.strip() and record["text"] == reply.display_text
    assert record["audio_end_ms"] == 700 and record["audio_ms"] == round(reply.audio_ms)
    question = json.loads(to_json(conv.ordered()))[0]
    assert (question["role"], question["audio_ms"], question["heard_text"]) == ("user", None, None)
    markdown = to_markdown(conv.ordered())
    assert f"{heard.strip()}\n\n{UNHEARD_MARK}\n\n{unheard.strip()}\n" in markdown


async def test_a_truncate_past_the_audio_marks_no_words_unheard(sim: Simulator) -> None:
    """A client that truncates at the very end heard it all: nothing is struck out."""
    events = await reply_then_truncate(sim, int)
    reply = reply_of(events)
    assert reply.audio_end_ms == int(reply.audio_ms)
    assert reply.heard_split is None
    assert UNHEARD_MARK not in to_markdown([reply])
    record = json.loads(to_json([reply]))[0]
    assert record["heard_text"] == reply.display_text  # all of it, where null said "never truncated"
    assert record["audio_ms"] == round(reply.audio_ms)


@pytest.mark.parametrize("truncate_first", [False, True])
async def test_a_cancelled_reply_truncated_says_both(sim: Simulator, truncate_first: bool) -> None:
    """A barge-in cancels the response and truncates its item; the two ends can arrive in either
    order: the head says both, whichever came last (a truncate no longer hid the cancel)."""
    events = await reply_then_truncate(sim, 900)
    done = next(e for e in events if e["type"] == "response.done")
    truncated = events[-1]
    assert truncated["type"] == "conversation.item.truncated"
    done["response"]["status"] = "cancelled"
    done["response"]["status_details"] = {"type": "cancelled", "reason": "turn_detected"}
    for entry in done["response"]["output"]:
        entry["status"] = "incomplete"
    if truncate_first:
        events.remove(truncated)
        events.insert(events.index(done), truncated)
    reply = reply_of(events)
    cut = f"truncated at 0.90 s of {reply.audio_ms / 1000:.2f} s"
    assert render_item(reply).plain.splitlines()[0] == f"assistant  cancelled (turn_detected) · {cut}"
    assert reply.heard_split is not None


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        ("one two three", 0, 0),
        ("one two three", 13, 13),
        ("one two three", 99, 13),
        ("one two three", 3, 3),  # on a space
        ("one two three", 4, 4),  # just after one
        ("one two three", 5, 4),  # inside "two", nearer its start
        ("one two three", 6, 7),  # inside "two", nearer its end
        ("one\ntwo", 2, 3),
        ("onetwothree", 4, 0),  # no break at all: the nearer end
        ("onetwothree", 8, 11),
    ],
)
def test_word_break_is_the_nearest_break_between_words(text: str, at: int, expected: int) -> None:
    assert word_break(text, at) == expected


@pytest.mark.parametrize("width", [30, 44, 52, 60, 80])
async def test_the_head_breaks_between_facts_never_inside_one(sim: Simulator, width: int) -> None:
    """At 160 columns the pane's head read `… · truncated at 1.23` and, on the next row, `s of
    1.30 s`; `transcript in 447` / `ms`. A fact that does not fit begins the next row whole."""
    from rich.console import Console

    from tui.widgets.transcript import render_parts

    events = await reply_then_truncate(sim, 1230)
    done = next(e for e in events if e["type"] == "response.done")
    done["response"]["status"] = "cancelled"
    done["response"]["status_details"] = {"type": "cancelled", "reason": "turn_detected"}
    reply = reply_of(events)
    head, _ = render_parts(reply, width=width)
    console = Console(width=width, record=True)
    rows = [
        "".join(segment.text for segment in line).rstrip()
        for line in console.render_lines(head, console.options.update_width(width), pad=False)
    ]
    facts = ["cancelled (turn_detected)", f"truncated at 1.23 s of {reply.audio_ms / 1000:.2f} s"]
    for fact in facts:
        assert any(fact in row for row in rows), (fact, rows)
    assert all(len(row) <= width for row in rows)
