"""The journal, the pipeline and its projections (session facts, error ↔ cause links)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.journal_helpers import (
    Clock,
    audio_b64,
    cancel_refused,
    connecting,
    received,
    refusal,
    response_stream,
    sent,
)
from tui.conversation import Conversation
from tui.journal import Family, Journal, Links, PayloadPolicy, Pipeline, Query, SessionFacts, family_of, term
from tui.protocol import Dialect, Direction, Envelope, local_envelope, next_seq
from tui.protocol.summary import audio_size_tag, audio_tag_bytes


def test_indices_are_absolute_and_survive_payload_dropping() -> None:
    journal = Journal(PayloadPolicy(small_bytes=1024, large_budget_bytes=20_000, parsed_recent=4))
    clock = Clock()
    envs = [connecting(clock), *response_stream("resp_1", "item_1", [f" w{i}" for i in range(20)], clock)]
    for env in envs:
        journal.append(env)
    assert [f.index for f in journal] == list(range(len(envs)))
    assert [f.seq for f in journal] == [env.seq for env in envs]
    # Audio deltas are ~6.4 KB each: only the newest three fit the 20 KB budget.
    dropped = [f for f in journal if f.payload_dropped]
    assert journal.payloads_dropped == len(dropped) == 17
    assert all(f.type == "response.output_audio.delta" for f in dropped)
    assert journal.kept_large_bytes <= 20_000
    # Metadata stays whole for dropped frames; small frames keep their payload and re-parse on demand.
    first_audio = journal[1]
    assert first_audio.payload_dropped and first_audio.item_id == "item_1" and first_audio.response_id == "resp_1"
    assert first_audio.size == envs[1].size
    assert journal.data(2)["delta"] == " w0"  # parsed data was let go (parsed_recent=4), raw re-parsed
    assert journal.envelope(1).data == {"type": "response.output_audio.delta"}


def test_a_dropped_audio_frame_keeps_its_audio_s_length() -> None:
    """The log's tag of an audio row whose payload left memory says how long its audio was: the
    base64's length for audio, and for a size tag (an export without audio) the audio it stands for,
    its escaped `·` read as the parsed frame holds it. A frame with no audio field counts none."""
    journal = Journal(PayloadPolicy(small_bytes=1024, large_budget_bytes=1))
    tag = audio_size_tag(9_600)
    stands_for = audio_tag_bytes(tag)
    assert stands_for is not None and abs(stands_for - 9_600) < 9_600 * 0.022
    frames = [
        sent("input_audio_buffer.append", audio=audio_b64(100)),
        received("response.output_audio.delta", delta=audio_b64(40), response_id="resp_1"),
        sent("input_audio_buffer.append", audio=tag),
        Envelope(
            next_seq(),
            Direction.OUT,
            "input_audio_buffer.append",
            {"type": "input_audio_buffer.append", "audio": tag},
            json.dumps({"type": "input_audio_buffer.append", "audio": tag}),  # ASCII escapes: \u00b7
        ),
        sent("input_audio_buffer.append"),
        sent("input_audio_buffer.append", audio=audio_b64(20)),  # the newest: kept
    ]
    for env in frames:
        journal.append(env)
    assert [journal[i].payload_dropped for i in range(len(frames))] == [True] * 5 + [False]
    assert [journal.audio_chars(i) for i in range(5)] == [
        len(audio_b64(100)),
        len(audio_b64(40)),
        -(-stands_for * 4 // 3),
        -(-stands_for * 4 // 3),
        None,
    ]


def test_epochs_give_each_connection_its_own_time_base() -> None:
    journal = Journal()
    clock = Clock(step=1.0)
    journal.append(local_envelope("rt.capture", "capturing"))
    for env in (connecting(clock), received("session.created", clock), connecting(clock), received("error", clock)):
        journal.append(env)
    assert [f.epoch for f in journal] == [0, 1, 1, 2, 2]
    assert journal.since_connect(journal[2]) == 1.0
    assert journal.since_connect(journal[4]) == 1.0


def test_families() -> None:
    assert family_of("response.audio.delta") is Family.RESPONSE  # beta name
    assert family_of("conversation.item.input_audio_transcription.failed") is Family.ERROR
    assert family_of("conversation.item.input_audio_transcription.delta") is Family.TRANSCRIPTION
    assert family_of("rate_limits.updated") is Family.SESSION
    assert family_of("input_audio_buffer.append") is Family.INPUT
    assert family_of("conversation.item.added") is Family.CONVERSATION
    assert family_of("rt.connection") is Family.LOCAL
    assert family_of("rt.malformed") is Family.ERROR
    assert family_of("response.sparkles") is Family.UNKNOWN


class _Counter:
    """A projection that records what it was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def apply(self, env: Envelope, index: int) -> None:
        self.seen.append((env.seq, index))

    def take_changes(self) -> int:
        return len(self.seen)


class _Broken:
    def apply(self, env: Envelope, index: int) -> None:
        if env.type == "response.done":
            raise KeyError("boom")

    def take_changes(self) -> None:
        return None


def test_projections_see_every_frame_once_in_order() -> None:
    early, late = _Counter(), _Counter()
    pipeline = Pipeline(projections=[early])
    envs = [connecting(), received("session.created", session={"id": "sess_1"}), sent("response.create")]
    pipeline.ingest(envs[:2])
    pipeline.add(late)  # a projection added later catches up from the journal
    added = pipeline.ingest(envs[2:])
    assert added == range(2, 3)
    assert early.seen == late.seen == [(env.seq, i) for i, env in enumerate(envs)]


def test_a_failing_projection_is_reported_and_stops_nothing() -> None:
    counter = _Counter()
    pipeline = Pipeline(projections=[_Broken(), counter])
    pipeline.ingest([received("response.done", response={"id": "r"}), received("session.updated")])
    types = [f.type for f in pipeline.journal]
    assert types == ["response.done", "session.updated", "rt.client_error"]
    assert "_Broken" in pipeline.journal.data(2)["message"]
    assert [i for _, i in counter.seen] == [0, 1, 2]


def test_conversation_is_a_projection() -> None:
    conversation = Conversation()
    pipeline = Pipeline(projections=[conversation])
    pipeline.ingest(
        [
            received("session.created", session={"type": "realtime", "audio": {"input": {"transcription": {}}}}),
            received("input_audio_buffer.committed", item_id="item_u", previous_item_id=None),
        ]
    )
    assert [item.id for item in conversation.ordered()] == ["item_u"]
    assert conversation.take_changes() == {"item_u"}


def _session(**audio_input: Any) -> dict[str, Any]:
    return {"id": "sess_1", "type": "realtime", "model": "gpt-realtime", "audio": {"input": audio_input}}


def test_session_facts_follow_the_connection_and_the_applied_config() -> None:
    facts = SessionFacts()
    pipeline = Pipeline(projections=[facts])
    update = sent("session.update", session={"type": "realtime"})
    pipeline.ingest(
        [
            connecting(),
            received("session.created", session=_session(transcription=None, turn_detection={"type": "server_vad"})),
            update,
            received("session.updated", session=_session(transcription={"model": "whisper-1"}, turn_detection=None)),
        ]
    )
    assert facts.session_id == "sess_1" and facts.model == "gpt-realtime" and facts.dialect is Dialect.GA
    assert facts.requested == {"type": "realtime"}
    assert facts.transcription_model == "whisper-1" and facts.turn_detection is None
    assert facts.describe() == "manual turns · transcribe: whisper-1"
    assert (facts.frames_in, facts.frames_out) == (2, 1)
    # A rejected update is named as such, with the error that said so.
    rejected = sent("session.update", session={"type": "realtime", "bogus": 1})
    error = received("error", error={"type": "invalid_request_error", "event_id": rejected.data["event_id"]})
    pipeline.ingest([rejected, error])
    assert facts.rejections[-1].update_index == 4 and facts.rejections[-1].error_index == 5
    # What is in force comes first (it survives a narrow status line), then that the update was refused.
    expected = "manual turns · transcribe: whisper-1 · session.update rejected (the server kept its config)"
    assert facts.describe() == expected
    # Once closed, the line says why, not a configuration nobody is using any more.
    pipeline.ingest([local_envelope("rt.connection", "connection closed by server (code 1006)", state="closed")])
    assert facts.ended and facts.describe() == "connection closed by server (code 1006)"
    pipeline.ingest([connecting()])
    assert facts.state == "connecting" and facts.reason == "" and facts.applied is None
    assert (facts.frames_in, facts.frames_out) == (0, 0)  # the counters are the new connection's


def test_session_facts_recognise_a_beta_server_and_unknown_types() -> None:
    facts = SessionFacts()
    Pipeline(projections=[facts]).ingest(
        [
            received("session.created", session={"id": "s", "modalities": ["text"], "input_audio_format": "pcm16"}),
            received("response.audio.delta", delta=audio_b64(10)),
            received("response.sparkles"),
            received("response.sparkles"),
        ]
    )
    assert facts.dialect is Dialect.BETA
    assert facts.unknown_types == {"response.sparkles": 2}


def test_a_session_of_neither_shape_leaves_the_dialect_to_the_next_frame_that_has_one() -> None:
    """`{"id": ...}` alone (a scripted peer, a minimal local server) was taken for beta, and the
    linter then called a GA session.update "GA fields to a beta server" (an error) on a GA server."""
    facts = SessionFacts()
    pipeline = Pipeline(projections=[facts])
    pipeline.ingest([received("session.created", session={"id": "s"})])
    assert facts.dialect is None and facts.session_id == "s"
    # Nor does it say turns are manual and transcription off: absent is not null.
    assert facts.describe() == "turns not stated · transcription not stated"
    assert facts.describe(short=True) == "transcription not stated"
    pipeline.ingest([received("session.updated", session={"id": "s", "turn_detection": None})])
    assert facts.dialect is Dialect.BETA
    assert facts.describe() == "beta dialect · manual turns · transcription not stated"
    ga = SessionFacts()
    Pipeline(projections=[ga]).ingest(
        [received("session.created", session={"id": "s"}), received("session.updated", session={"type": "realtime"})]
    )
    assert ga.dialect is Dialect.GA


def test_a_beta_only_session_event_says_beta_by_its_name_and_is_still_applied() -> None:
    facts = SessionFacts()
    Pipeline(projections=[facts]).ingest(
        [received("transcription_session.created", session={"id": "s", "audio": {"input": {}}})]
    )
    assert facts.dialect is Dialect.BETA and facts.session_id == "s" and facts.applied is not None


def test_an_error_is_linked_to_the_frame_we_sent() -> None:
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    cancel, error = cancel_refused()
    stray = received("error", error={"type": "server_error", "event_id": "evt_not_ours"})
    pipeline.ingest([connecting(), sent("input_audio_buffer.append", audio=audio_b64()), cancel, error, stray])
    assert links.cause_of[3].cause == 2 and links.cause_of[3].kind == "error"
    assert [link.effect for link in links.effects_of[2]] == [3]
    assert 4 not in links.cause_of


def test_an_error_names_an_append_whose_audio_has_left_memory() -> None:
    """An hour's appends lose their payloads to the memory policy (their ids with them, once read
    from their text); a late error naming one is still linked to it, by the linter too."""
    from tui.lint import Linter

    pipeline = Pipeline(Journal(PayloadPolicy(small_bytes=1024, large_budget_bytes=20_000)))
    links = Links(pipeline.journal)
    linter = Linter(pipeline.journal)
    pipeline.add(links)
    pipeline.add(linter)
    appends = [sent("input_audio_buffer.append", audio=audio_b64(100)) for _ in range(40)]
    refused = appends[3]
    error = refusal(refused, "invalid_value", "no")
    pipeline.ingest([connecting(), *appends, error])
    journal = pipeline.journal
    assert journal[4].payload_dropped and journal[4].event_id is None  # its text, and the id in it, are gone
    assert links.cause_of[len(appends) + 1].cause == 4
    [finding] = [f for f in linter.findings if f.frames and len(appends) + 1 in f.frames]
    assert f"input_audio_buffer.append #{refused.seq}" in finding.message


def test_failed_responses_and_transcriptions_are_linked_to_what_began_them() -> None:
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),
        sent("input_audio_buffer.commit"),  # 1
        received("input_audio_buffer.committed", item_id="item_u"),  # 2
        sent("response.create"),  # 3
        received("response.created", response={"id": "resp_1", "status": "in_progress"}),  # 4
        received("conversation.item.input_audio_transcription.failed", item_id="item_u", error={"code": "x"}),  # 5
        received("response.done", response={"id": "resp_1", "status": "failed"}),  # 6
        sent("response.create"),  # 7
        received("response.created", response={"id": "resp_2"}),  # 8
        sent("response.cancel", response_id="resp_2"),  # 9
        received("response.done", response={"id": "resp_2", "status": "cancelled"}),  # 10
        received("response.created", response={"id": "resp_3"}),  # 11: server VAD began this one
        received("response.done", response={"id": "resp_3", "status": "incomplete"}),  # 12
        received("response.done", response={"id": "resp_4", "status": "completed"}),  # 13
    ]
    pipeline.ingest(envs)
    assert {effect: (link.cause, link.kind) for effect, link in links.cause_of.items()} == {
        5: (1, "transcription failed"),
        6: (3, "response failed"),
        10: (9, "response cancelled"),
        12: (11, "response incomplete"),
    }


def test_a_turn_server_vad_committed_while_our_commit_was_on_its_way_is_linked_to_the_server() -> None:
    """The race of a push-to-talk commit under server VAD: VAD's `committed` comes first (its item
    was announced by speech_stopped), our commit is refused as empty. The item, its appends and its
    failed transcription belong to VAD's commit, not to the refused one."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),
        sent("input_audio_buffer.append", audio=audio_b64(100)),  # 1
        sent("input_audio_buffer.append", audio=audio_b64(100)),  # 2
        received("input_audio_buffer.speech_started", item_id="item_v"),  # 3
        sent("input_audio_buffer.commit", event_id="evt_commit"),  # 4
        received("input_audio_buffer.speech_stopped", item_id="item_v"),  # 5
        received("input_audio_buffer.committed", item_id="item_v"),  # 6: VAD's
        received("error", error={"code": "input_audio_buffer_commit_empty", "event_id": "evt_commit"}),  # 7
        received("conversation.item.input_audio_transcription.failed", item_id="item_v", error={"code": "x"}),  # 8
        sent("input_audio_buffer.append", audio=audio_b64(100)),  # 9: the next turn's
        sent("input_audio_buffer.commit"),  # 10
        received("input_audio_buffer.committed", item_id="item_w"),  # 11: ours
    ]
    pipeline.ingest(envs)
    assert links.cause_of[8].cause == 6  # VAD's commit, not the refused #4
    assert links.cause_of[7].cause == 4  # the refusal still names what it refused
    assert links.made["item_v"] == [1, 2]
    assert links.made["item_w"] == [9, 10]


def test_a_refused_response_create_does_not_claim_the_next_response() -> None:
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    refused = sent("response.create")
    envs = [
        refused,
        received(
            "error", error={"code": "conversation_already_has_active_response", "event_id": refused.data["event_id"]}
        ),
        sent("response.create"),
        received("response.created", response={"id": "resp_9"}),
        received("response.done", response={"id": "resp_9", "status": "failed"}),
    ]
    pipeline.ingest(envs)
    assert links.cause_of[4].cause == 2


def test_search_text_leaves_audio_out() -> None:
    journal = Journal()
    journal.append(received("response.output_audio.delta", item_id="item_1", delta=audio_b64(100)))
    journal.append(received("response.output_audio_transcript.delta", item_id="item_1", delta="kitchen"))
    journal.append(local_envelope("rt.connection", "connection refused", state="failed"))
    assert "AAAA" not in journal.search_text(0) and "item_1" in journal.search_text(0)
    assert "kitchen" in journal.search_text(1)
    assert "refused" in journal.search_text(2)
    assert journal[2].direction is Direction.LOCAL and journal.data(2)["state"] == "failed"


def test_the_frames_we_sent_that_made_each_item_and_response_are_known() -> None:
    """A recorded turn: its appends (since the last commit or clear) and its commit; a typed item:
    its create, by id or, without one, in the order the server answers; a reply: its
    response.create. An item a response output is no answer to a create of ours."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),  # 0
        sent("input_audio_buffer.append", audio=audio_b64()),  # 1: cleared below, not the turn's
        sent("input_audio_buffer.clear"),  # 2
        sent("input_audio_buffer.append", audio=audio_b64()),  # 3
        sent("input_audio_buffer.append", audio=audio_b64()),  # 4
        received("input_audio_buffer.speech_started"),  # 5
        sent("input_audio_buffer.commit"),  # 6
        received("input_audio_buffer.committed", item_id="item_u"),  # 7
        received("conversation.item.added", item={"id": "item_u", "role": "user"}),  # 8
        sent("conversation.item.create", item={"type": "message", "role": "user"}),  # 9: no id
        sent("conversation.item.create", item={"id": "item_mine", "role": "user"}),  # 10
        sent("response.create"),  # 11
        received("response.created", response={"id": "resp_1"}),  # 12
        received("response.output_item.added", response_id="resp_1", item={"id": "item_a"}),  # 13
        received("conversation.item.added", item={"id": "item_a", "role": "assistant"}),  # 14: the reply's
        received("conversation.item.added", item={"id": "item_typed", "role": "user"}),  # 15: answers 9
        received("conversation.item.added", item={"id": "item_mine", "role": "user"}),  # 16
    ]
    pipeline.ingest(envs)
    assert links.made == {
        "item_u": [3, 4, 6],
        "item_mine": [10],
        "resp_1": [11],
        "item_typed": [9],
    }


def test_for_shows_an_items_frames_with_what_we_sent_to_make_it() -> None:
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),
        sent("input_audio_buffer.append", audio=audio_b64()),  # 1
        sent("input_audio_buffer.commit"),  # 2
        received("input_audio_buffer.committed", item_id="item_u"),  # 3
        received("conversation.item.added", item={"id": "item_u", "role": "user"}),  # 4
        sent("input_audio_buffer.append", audio=audio_b64()),  # 5: the next turn's
        sent("response.create"),  # 6
        received("response.created", response={"id": "resp_1"}),  # 7
    ]
    pipeline.ingest(envs)
    query = Query("for:item_u | for:resp_1", pipeline.journal, links)
    assert [index for index in range(len(pipeline.journal)) if query.match_index(index)] == [1, 2, 3, 4, 6, 7]
    strict = Query("item:item_u", pipeline.journal, links)
    assert [i for i in range(len(pipeline.journal)) if strict.match_index(i)] == [3, 4]  # item: stays strict


def test_an_invalid_json_error_is_linked_to_the_frame_the_server_could_not_read() -> None:
    """Such an error names no event_id (the server could not read one): the frames it answers are
    taken in order, a frame that was not JSON and one with NaN alike."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    garbage = Envelope(next_seq(), Direction.OUT, "rt.malformed", {"type": "rt.malformed", "message": "not JSON"}, "x")
    nan = sent("session.update", session={"instructions": float("nan")})
    invalid = {"type": "invalid_request_error", "code": "invalid_json", "message": "Invalid JSON"}
    pipeline.ingest([connecting(), garbage, nan, received("error", error=invalid), received("error", error=invalid)])
    assert {effect: link.cause for effect, link in links.cause_of.items()} == {3: 1, 4: 2}


def test_a_filtered_export_keeps_the_times_the_log_shows(tmp_path: Path) -> None:
    """t counts from the journal's first frame, as the capture does: the export of a filter's
    frames does not restart the clock at the first one it writes."""
    import json

    from tui.journal.export import export_jsonl

    clock = Clock()
    pipeline = Pipeline()
    envs = [connecting(clock), received("session.created", clock, session={"id": "s"}), sent("response.create", clock)]
    pipeline.ingest(envs)
    path = tmp_path / "export.jsonl"
    assert export_jsonl(pipeline.journal, [2], path) == 1
    [record] = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["type"] == "response.create" and record["t"] == round(envs[2].mono - envs[0].mono, 6) > 0


def test_an_export_without_audio_tags_only_frames_that_carry_audio(tmp_path: Path) -> None:
    """Tester: a session's `"audio": {…}` configuration was taken for audio, so session.created,
    session.updated, response.done and the like were marked `"elided": "audio"` and rewritten from
    their parsed JSON, though nothing in them was left out."""
    import json

    from tui.journal.export import export_jsonl

    session = {"id": "s", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}}
    envs = [
        received("session.created", session=session),
        sent("input_audio_buffer.append", audio=audio_b64(20)),
        received("response.done", response={"id": "r", "audio": {"output": {"voice": "marin"}}}),
    ]
    pipeline = Pipeline()
    pipeline.ingest(envs)
    path = tmp_path / "export.jsonl"
    assert export_jsonl(pipeline.journal, range(3), path, keep_audio=False) == 3
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [record.get("elided") for record in records] == [None, "audio", None]
    assert records[0]["frame"] == envs[0].data and records[2]["frame"] == envs[2].data  # whole, as they came
    assert records[1]["frame"]["audio"].startswith("[audio ")


def test_an_export_without_audio_leaves_out_a_malformed_frame_s_audio(tmp_path: Path) -> None:
    """Review: a client's batched events (a JSON list: rt.malformed) parse to no object, so tagging
    changed nothing and the frame was written whole, audio and all."""
    from tui.journal.export import export_jsonl
    from tui.proxy.relay import _envelope

    audio = audio_b64(200)
    batched = _envelope(json.dumps([{"type": "input_audio_buffer.append", "audio": audio}]), Direction.OUT, next_seq())
    assert batched.type == "rt.malformed"
    pipeline = Pipeline()
    pipeline.ingest([sent("session.update", session={}), batched])
    path = tmp_path / "export.jsonl"
    export_jsonl(pipeline.journal, range(2), path, keep_audio=False)
    text = path.read_text()
    assert audio not in text and json.loads(text.splitlines()[1])["elided"] == "audio"


def test_each_frame_about_an_item_or_that_made_one_leads_to_its_items() -> None:
    """The reverse of for:ID: a response's frames lead to the items it output (in order), the
    frames we sent to the items they made, and a frame naming an item to that item."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),  # 0
        sent("input_audio_buffer.append", audio=audio_b64()),  # 1
        sent("input_audio_buffer.commit"),  # 2
        sent("input_audio_buffer.append", audio=audio_b64()),  # 3: the next turn's, before the answer
        received("input_audio_buffer.committed", item_id="item_u"),  # 4
        sent("conversation.item.create", item={"type": "message", "role": "user"}),  # 5: no id
        received("conversation.item.added", item={"id": "item_typed", "role": "user"}),  # 6
        sent("response.create"),  # 7
        received("response.created", response={"id": "resp_1"}),  # 8
        received("response.output_item.added", response_id="resp_1", item={"id": "item_a"}),  # 9
        received("response.output_item.added", response_id="resp_1", item={"id": "item_f"}),  # 10
        received(
            "response.done",
            response={"id": "resp_1", "status": "completed", "output": [{"id": "item_a"}, {"id": "item_f"}]},
        ),  # 11
        # A response whose output_item.added the recording lacks: its done still names the item.
        received("response.done", response={"id": "resp_2", "output": [{"id": "item_b"}]}),  # 12
        received("response.created", response={"id": "resp_3"}),  # 13: nothing output yet
        received("session.updated"),  # 14
    ]
    pipeline.ingest(envs)
    expected = {
        1: ["item_u"],
        2: ["item_u"],
        3: [],
        4: ["item_u"],
        5: ["item_typed"],
        7: ["item_a", "item_f"],
        8: ["item_a", "item_f"],
        9: ["item_a"],
        11: ["item_a", "item_f"],
        12: ["item_b"],
        13: [],
        14: [],
    }
    assert {index: links.items_of(index) for index in expected} == expected


def test_a_few_dropped_payloads_are_found_by_bisection_not_by_reading_the_file_through(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A detail view reads a dropped frame back from the capture: each one read the file from its
    start (0.5 s at an hour's capture; 28 s, the UI frozen, for `d` on a 69-frame run). A few are
    found by bisection now, in a few dozen line reads; a file out of order still finds them all."""
    import tui.journal.export as export
    from tui.journal.export import recover_payloads
    from tui.protocol.records import capture_line, line_seq

    clock = Clock()
    envs = [received("response.output_audio.delta", clock, delta=audio_b64(20), n=n) for n in range(5000)]
    path = tmp_path / "frames.jsonl"
    path.write_bytes(b"".join(capture_line(env, envs[0].mono) for env in envs))
    reads: list[int] = []

    def counted(line: bytes | bytearray) -> int | None:
        reads.append(1)
        return line_seq(line)

    monkeypatch.setattr(export, "line_seq", counted)
    wanted = {envs[0].seq, envs[2500].seq, envs[4998].seq, envs[4999].seq}
    found = recover_payloads(path, wanted)
    assert found == {env.seq: env.raw for env in envs if env.seq in wanted}
    assert len(reads) < 4 * 40, len(reads)  # not ~5,000 lines per frame
    # Out of order (an edited file): bisection misses, one pass finds them.
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_bytes(b"".join(capture_line(env, envs[0].mono) for env in reversed(envs)))
    assert recover_payloads(shuffled, wanted) == found
    assert recover_payloads(path, {envs[-1].seq + 1}) == {}  # not there: nothing, after one pass


def test_a_large_frame_that_is_not_audio_stays_searchable_while_audio_streams() -> None:
    """A session.update with long instructions (over 4 KB) counted against the audio's budget: a few
    minutes of audio later it was dropped, and a free-word filter or a find, which read a dropped
    frame by its type and ids only, no longer found the words in it. Text has a budget of its own."""
    policy = PayloadPolicy(small_bytes=1024, large_budget_bytes=8_000, text_budget_bytes=12_000)
    pipeline = Pipeline(Journal(policy))
    journal = pipeline.journal
    instructions = "You are a helpful kitchen assistant. " * 150  # ~5.5 KB
    update = sent("session.update", session={"type": "realtime", "instructions": instructions})
    pipeline.ingest([update, *(sent("input_audio_buffer.append", audio=audio_b64(100)) for _ in range(40))])
    assert not journal[0].payload_dropped
    assert [f.index for f in journal if Query("kitchen", journal).match(f)] == [0]
    assert journal.kept_large_bytes <= 8_000 and journal.kept_text_bytes == journal[0].size
    # Text past its own budget goes, oldest first.
    again = {"type": "realtime", "instructions": instructions}
    pipeline.ingest([sent("session.update", session=again) for _ in range(2)])
    assert journal[0].payload_dropped and not journal[41].payload_dropped and not journal[42].payload_dropped
    assert journal.kept_text_bytes == journal[41].size + journal[42].size


def test_audio_sent_as_an_item_counts_against_the_audio_budget_not_the_text_one() -> None:
    """A file added with `conversation.item.create` (input_audio, base64) is audio: on the text
    budget (64 MiB by default) an hour of such items would sit in memory beside the audio's 16."""
    policy = PayloadPolicy(small_bytes=1024, large_budget_bytes=8_000, text_budget_bytes=1_000_000)
    pipeline = Pipeline(Journal(policy))
    journal = pipeline.journal
    item = {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": audio_b64(100)}]}
    pipeline.ingest([sent("conversation.item.create", item=item) for _ in range(10)])
    assert journal.kept_text_bytes == 0 and journal.kept_large_bytes <= 8_000
    assert journal[0].payload_dropped and not journal[9].payload_dropped


def test_the_first_frame_for_an_id_is_the_first_the_for_filter_matches() -> None:
    """`o` after a clear asks whether an item's frames lie below the clear: `Links.first_frame_for`
    answers from the id columns and `made` (it was a test of each hidden frame, half a second at an
    hour's scale) and must agree with the `for:` filter it stands for, at every place of the clear."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(
        [
            connecting(),
            sent("input_audio_buffer.append", audio=audio_b64()),
            sent("input_audio_buffer.commit"),
            received("input_audio_buffer.committed", item_id="item_u"),
            received("conversation.item.added", item={"id": "item_u", "role": "user"}),
            sent("conversation.item.create", item={"type": "message", "role": "user"}),  # no id
            sent("response.create"),
            received("response.created", response={"id": "resp_1"}),
            received("response.output_item.added", response_id="resp_1", item={"id": "item_a"}),
            received("conversation.item.added", item={"id": "item_a", "role": "assistant"}),
            received("response.output_audio_transcript.delta", response_id="resp_1", item_id="item_a", delta="hi"),
            received("conversation.item.added", item={"id": "item_typed", "role": "user"}),
            received("response.done", response={"id": "resp_1", "status": "completed"}),
            # Ids are the server's strings: ones a glob would read as patterns match as they are.
            received("conversation.item.added", item={"id": "it*", "role": "user"}),
            received("conversation.item.added", item={"id": "itX", "role": "user"}),
            received("conversation.item.added", item={"id": "i[t]", "role": "user"}),
        ]
    )
    journal = pipeline.journal
    asked = [["item_u"], ["item_a"], ["resp_1"], ["item_typed"], ["item_a", "resp_1"], ["nobody"], ["it*"], ["i[t]"]]
    for ids in asked:
        query = Query(" | ".join(term("for", name) for name in ids), journal, links)
        matching = [index for index in range(len(journal)) if query.match_index(index)]
        for stop in range(len(journal) + 1):
            expected = next((index for index in matching if index < stop), None)
            assert links.first_frame_for(ids, stop) == expected, (ids, stop)
    assert links.first_frame_for(["item_a"], len(journal)) == 6  # the response.create that made its reply
    seq = journal[7].seq
    assert journal.index_of_seq(seq, len(journal)) == 7
    assert journal.index_of_seq(seq, 7) is None


def test_a_quoted_id_is_matched_as_it_is_and_an_unquoted_one_as_a_glob() -> None:
    """`o` puts an item's id in the filter quoted (`term`): a server's item `it*` showed the frames
    of every item starting `it`, and `i[t]` matched nothing."""
    journal = Journal()
    for item_id in ("it*", "itX", "i[t]"):
        journal.append(received("conversation.item.done", item={"id": item_id, "role": "user"}))

    def matching(text: str) -> list[int]:
        query = Query(text, journal)
        return [index for index in range(len(journal)) if query.match_index(index)]

    assert matching(term("item", "it*")) == [0]
    assert matching(term("item", "i[t]")) == [2]
    assert matching("item:it*") == [0, 1]  # typed bare: a glob, as the README says


@pytest.mark.parametrize(
    "audio",
    ["data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEA", "AAAA-_AAAAAAAAAAAAAAAAAA", "not base64, words!!"],
)
def test_an_export_without_audio_keeps_audio_that_is_not_base64_so_it_lints_the_same(
    tmp_path: Path, audio: str
) -> None:
    """Reviewer: any string in an audio field became a size tag, so `invalid-base64-audio` (a data
    URL, URL-safe base64, text) was gone from an export without audio, which the README says lints
    as the session it came from. Such audio is kept whole: the server refused it, it is no payload."""
    from tests.lint_helpers import ga_created
    from tui.journal.export import export_jsonl

    pipeline = Pipeline()
    pipeline.ingest([ga_created(vad=False), sent("input_audio_buffer.append", audio=audio)])
    whole, bare = tmp_path / "whole.jsonl", tmp_path / "bare.jsonl"
    export_jsonl(pipeline.journal, range(2), whole, keep_audio=True)
    export_jsonl(pipeline.journal, range(2), bare, keep_audio=False)

    def linted(path: Path) -> list[str]:
        rt_tui = str(Path(sys.executable).parent / "rt-tui")
        done = subprocess.run([rt_tui, "lint", "--json", str(path)], capture_output=True, text=True, timeout=60)
        return sorted(json.loads(line)["rule"] for line in done.stdout.splitlines())

    assert "invalid-base64-audio" in linted(whole)
    assert linted(bare) == linted(whole)
    assert json.loads(bare.read_text().splitlines()[1])["frame"]["audio"] == audio
