"""Round 23 (journal, links, transcript, log): findings of review 23c, each against the real
simulator or real journal frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_helpers import items, wait_for
from tests.journal_helpers import audio_b64, connecting, received, sent
from tests.server_helpers import speech_pcm24
from tests.test_voice_turns import QUESTION, appends, voice_app
from tui.journal import Links, Pipeline
from tui.protocol import Direction, Envelope


@pytest.mark.parametrize("latency", ["", "&sim_latency_ms=300"])
async def test_a_turns_frames_hold_every_append_sent_after_its_clear(
    tmp_path: Path, simulator_url: str, latency: str
) -> None:
    """The appends sent between our `clear` and the server's `cleared` are the turn's start: the
    server cleared before they reached it (it answers in order), so `o` on the row shows them."""
    async with voice_app(tmp_path, simulator_url + latency) as (app, pilot, recorder, feeder):
        await pilot.press("space")
        feeder.play(speech_pcm24(QUESTION))
        await wait_for(pilot, lambda: appends(app) >= 100, 15, "two seconds of the turn sent")
        await pilot.press("space")
        await wait_for(
            pilot,
            lambda: any(item.text or item.error for item in items(app, "user")),
            30,
            f"the transcript: {items(app, 'user')}",
        )
        journal = app.journal
        sent = [i for i, frame in enumerate(journal) if frame.direction is Direction.OUT]
        clear = max(i for i in sent if journal[i].type == "input_audio_buffer.clear")
        commit = max(i for i in sent if journal[i].type == "input_audio_buffer.commit")
        turn = [i for i in sent if clear < i < commit and journal[i].type == "input_audio_buffer.append"]
        cleared = next(i for i, frame in enumerate(journal) if frame.type == "input_audio_buffer.cleared")
        if latency:  # a slow server's `cleared` comes after a part of the turn was sent
            assert any(i < cleared for i in turn), "no append was sent before the server's cleared"
        (user,) = items(app, "user")
        made = app.model.links.made[user.id]
        missing = [i for i in turn if i not in made]
        assert not missing, f"{len(missing)} of the turn's {len(turn)} appends are not among its frames"


def made_of(envs: list[Envelope], item_id: str) -> list[str]:
    """The types of the frames `Links` says made `item_id`, after taking `envs` in order."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    return [pipeline.journal[i].raw or "" for i in links.made.get(item_id, [])]


def append(n: int) -> Envelope:
    return sent("input_audio_buffer.append", audio=audio_b64(20), event_id=f"append_{n}")


def test_a_cleared_the_client_did_not_ask_for_drops_the_buffer() -> None:
    """A server that clears on its own (no clear of ours waits for its answer) emptied the buffer:
    the appends before it made no item; those after it did."""
    envs = [connecting(), append(1), received("input_audio_buffer.cleared"), append(2)]
    envs += [sent("input_audio_buffer.commit"), received("input_audio_buffer.committed", item_id="item_1")]
    made = made_of(envs, "item_1")
    assert len(made) == 2 and "append_2" in made[0] and "commit" in made[1]


def test_a_refused_clear_leaves_the_next_cleared_to_the_server() -> None:
    """A clear the server refused gets no `cleared`: a later one is the server's own, and drops."""
    clear = sent("input_audio_buffer.clear", event_id="clear_1")
    refusal = received("error", error={"type": "invalid_request_error", "code": "x", "event_id": "clear_1"})
    envs = [connecting(), clear, refusal, append(1), received("input_audio_buffer.cleared"), append(2)]
    envs += [sent("input_audio_buffer.commit"), received("input_audio_buffer.committed", item_id="item_1")]
    made = made_of(envs, "item_1")
    assert len(made) == 2 and "append_2" in made[0]
