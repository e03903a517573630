"""Round 30: `transcript-never-came`, the README's question asked of a recording ("I got the reply,
and the transcript of my own words is null"): a committed item that no transcription event named
though a response ended after it. Hand-written frames through the real linter, and a real session
against the simulator holding the transcript back until after the response."""

from __future__ import annotations

import base64
import dataclasses
import re

from websockets.asyncio.client import connect

from tests.journal_helpers import received, sent
from tests.lint_helpers import ga_created, lint, rules, speech
from tests.server_helpers import speech_pcm24
from tests.test_lint import Recorder, one
from tui.lint import Severity, lint_envelopes
from tui.protocol import Envelope

TRANSCRIBE = "gpt-4o-transcribe"


def _turn(item_id: str = "item_1") -> list[Envelope]:
    """A push-to-talk turn the server took, and its reply: no transcription event among them."""
    return [
        sent("input_audio_buffer.append", audio=base64.b64encode(speech(600)).decode("ascii")),
        sent("input_audio_buffer.commit"),
        received("input_audio_buffer.committed", item_id=item_id, previous_item_id=None),
        sent("response.create"),
        received("response.created", response={"id": "resp_1"}),
        received("response.done", response={"id": "resp_1", "status": "completed", "output": []}),
    ]


def test_a_reply_without_the_transcription_event_is_a_warning_naming_the_item_and_its_commit() -> None:
    turn = _turn()
    findings, journal = lint(ga_created(transcription=TRANSCRIBE, vad=False), *turn)
    found = one(findings, "transcript-never-came")
    assert found.severity is Severity.WARNING
    assert found.message.startswith(
        f"input_audio_buffer.commit #{turn[1].seq} committed item item_1 "
        f"(input_audio_buffer.committed #{turn[2].seq}), but no conversation.item.input_audio_transcription event"
    )
    assert "though a response ended after it" in found.message
    assert "came before the recording ended: " in found.message  # a hand-written log's times say nothing
    assert "names item_id item_1, and match it by item_id" in found.fix
    assert [journal[i].seq for i in found.frames] == [turn[2].seq, turn[1].seq, turn[-1].seq]


def test_without_the_session_in_the_recording_it_is_a_question_not_a_verdict() -> None:
    findings, _ = lint(*_turn())
    found = one(findings, "transcript-never-came")
    assert found.severity is Severity.INFO
    assert "does not show whether input transcription was on: if it was off (null), that is why" in found.message


def test_nothing_is_said_when_the_transcript_came_or_failed_or_transcription_was_off_or_no_reply_ended() -> None:
    on = ga_created(transcription=TRANSCRIBE, vad=False)
    for event in ("completed", "delta"):
        came = received(f"conversation.item.input_audio_transcription.{event}", item_id="item_1", content_index=0)
        assert "transcript-never-came" not in rules(lint(on, *_turn(), came)[0])
    failed = received(
        "conversation.item.input_audio_transcription.failed",
        item_id="item_1",
        content_index=0,
        error={"code": "audio_unintelligible", "message": "no"},
    )
    assert rules(lint(on, *_turn(), failed)[0]) == ["transcription-failed"]
    off = rules(lint(ga_created(vad=False), *_turn())[0])
    assert off == ["transcription-off-at-commit"]  # which says why, alone
    cut = rules(lint(on, *_turn()[:3])[0])  # the log ends at the commit's answer: too soon to tell
    assert "transcript-never-came" not in cut


async def test_a_real_client_that_stops_reading_at_response_done_is_told(simulator_url: str) -> None:
    """The simulator holds the transcript until 3 s after the response (as the service may): a
    client that stops at response.done has a null transcript, and the finding says why; one that
    reads on gets it, and nothing is said."""
    pcm = speech_pcm24("what is the weather like in London today")
    url = simulator_url + "&sim_transcription=after_response&sim_transcription_delay_ms=3000"
    for reads_on in (False, True):
        async with connect(url, max_size=64 * 2**20) as ws:
            client = Recorder(ws)
            await client.until("session.created")
            await client.send(
                {
                    "type": "session.update",
                    "session": {
                        "type": "realtime",
                        "audio": {"input": {"transcription": {"model": TRANSCRIBE}, "turn_detection": None}},
                    },
                }
            )
            await client.until("session.updated")
            for start in range(0, len(pcm), 4800):
                chunk = base64.b64encode(pcm[start : start + 4800]).decode("ascii")
                await client.send({"type": "input_audio_buffer.append", "audio": chunk})
            await client.send({"type": "input_audio_buffer.commit"})
            await client.send({"type": "response.create"})
            await client.until("response.done")
            if reads_on:
                await client.until("conversation.item.input_audio_transcription.completed")
        found = [f for f in lint_envelopes(client.frames) if f.rule == "transcript-never-came"]
        if reads_on:
            assert found == []
        else:
            assert len(found) == 1 and found[0].severity is Severity.WARNING, found
            assert re.search(r"came before the recording ended, \d+\.\d s after it: ", found[0].message), found


def test_a_drop_soon_after_the_reply_is_connection_dropped_alone() -> None:
    """The server dropped the socket (1006) 1.2 s after the reply: `transcript-never-came` also told
    the client to keep reading after response.done, which it was doing (review 55g); the drop's
    finding names the transcription it cut."""
    from tui.protocol import local_envelope

    turn = _turn()
    drop = local_envelope("rt.connection", "connection dropped (code 1006)", state="closed", code=1006)
    soon = dataclasses.replace(drop, mono=turn[-1].mono + 1.2, wall=turn[-1].wall + 1.2)
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *turn, soon)
    assert rules(findings) == ["connection-dropped"], rules(findings)
    assert "the transcription of item item_1 was awaited" in findings[0].message
    # Long after the reply, the transcript that never came is a finding of its own beside the drop.
    late = dataclasses.replace(drop, mono=turn[-1].mono + 60, wall=turn[-1].wall + 60)
    findings, _ = lint(ga_created(transcription=TRANSCRIBE, vad=False), *turn, late)
    assert sorted(rules(findings)) == ["connection-dropped", "transcript-never-came"], rules(findings)
