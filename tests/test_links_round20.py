"""Error ↔ cause links for a client that sends no event_id (the official openai SDK sends `null`).

An error whose code or param ties it to one kind of client event is linked to the oldest frame of
that kind sent without an event_id and not answered yet; never to a frame that was answered, and
not at all when the error could be about any kind of frame.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.journal_helpers import connecting, frame, received, sent
from tests.lint_helpers import speech
from tests.server_helpers import b64, silence
from tui.journal import Links, Pipeline
from tui.protocol import Direction, Envelope
from tui.protocol.error_causes import cause_types
from tui.replay import load


def bare(etype: str, **fields: Any) -> Envelope:
    """A frame we sent as the official SDK sends it: `event_id: null`."""
    return frame(Direction.OUT, {"type": etype, "event_id": None, **fields})


def error(code: str | None, param: str | None = None, event_id: str | None = None) -> Envelope:
    """The server's `error` about a client event (its event_id echoes the client's, null here)."""
    body = {"type": "invalid_request_error", "code": code, "message": "no", "param": param, "event_id": event_id}
    return received("error", error=body)


def links_of(envs: list[Envelope]) -> dict[int, tuple[int, str]]:
    """effect → (cause, kind) for `envs` taken in order by a fresh Links."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    for effect, link in links.cause_of.items():
        assert link in links.effects_of[link.cause]  # `c` on the cause leads back to the error
        assert link.effect == effect
    return {effect: (link.cause, link.kind) for effect, link in links.cause_of.items()}


@pytest.mark.parametrize(
    ("frames", "code", "param"),
    [
        ([bare("input_audio_buffer.commit")], "input_audio_buffer_commit_empty", None),
        ([bare("response.create")], "conversation_already_has_active_response", None),
        ([bare("response.cancel")], "response_cancel_not_active", None),
        ([bare("conversation.item.retrieve", item_id="x")], "item_retrieve_invalid_item_id", "item_id"),
        ([bare("conversation.item.delete", item_id="x")], "item_delete_invalid_item_id", "item_id"),
        ([bare("conversation.item.truncate", item_id="x")], "item_truncate_invalid_item_id", "item_id"),
        ([bare("conversation.item.truncate", item_id="x")], "invalid_value", "audio_end_ms"),
        ([bare("session.update", session={})], "unknown_parameter", "session.audio.input.bogus"),
        ([bare("session.update", session={})], "missing_required_parameter", "session.type"),
        ([bare("transcription_session.update", session={})], "missing_required_parameter", "session"),
        ([bare("response.create", response={})], "invalid_value", "response.output_modalities"),
        ([bare("conversation.item.create", item={})], "invalid_value", "item.content[0].type"),
        ([bare("conversation.item.create", item={})], "invalid_value", "previous_item_id"),
    ],
)
def test_each_error_a_kind_of_frame_causes_is_linked_to_it_without_event_id(
    frames: list[Envelope], code: str, param: str | None
) -> None:
    # Other frames without event_id around it: only the tied kind is a candidate.
    envs = [connecting(), bare("session.update", session={}), bare("response.cancel"), *frames]
    envs.append(received("session.updated", session={}))  # answers the first session.update
    envs.append(error(code, param))
    # The first session.update was answered: a session error is about the frame under test. Of two
    # unanswered cancels, the oldest: the server answers in order.
    tied = 2 if frames[0].type == "response.cancel" else 3
    assert links_of(envs) == {len(envs) - 1: (tied, "error")}


def test_errors_about_the_same_kind_are_paired_in_the_order_the_server_answers() -> None:
    envs = [
        connecting(),
        received("response.created", response={"id": "resp_vad"}),  # 1: server VAD began one
        bare("response.create"),  # 2
        bare("response.create"),  # 3
        error("conversation_already_has_active_response"),  # 4: about #2
        error("conversation_already_has_active_response"),  # 5: about #3
        error("conversation_already_has_active_response"),  # 6: none left unanswered
    ]
    assert links_of(envs) == {4: (2, "error"), 5: (3, "error")}


def test_an_answered_frame_is_never_the_cause() -> None:
    envs = [
        connecting(),
        bare("response.create"),  # 1
        received("response.created", response={"id": "resp_1"}),  # 2: answers #1
        bare("input_audio_buffer.commit"),  # 3
        received("input_audio_buffer.committed", item_id="item_1"),  # 4: answers #3
        bare("conversation.item.create", item={"type": "message"}),  # 5
        received("conversation.item.added", item={"id": "item_2"}),  # 6: answers #5
        bare("conversation.item.create", item={"id": "item_3"}),  # 7
        received("conversation.item.added", item={"id": "item_3"}),  # 8: answers #7
        bare("conversation.item.delete", item_id="item_3"),  # 9
        received("conversation.item.deleted", item_id="item_3"),  # 10: answers #9
        bare("response.cancel"),  # 11
        received("response.done", response={"id": "resp_1", "status": "cancelled"}),  # 12: answers #11
        error("conversation_already_has_active_response"),
        error("input_audio_buffer_commit_empty"),
        error("invalid_value", "item.content"),
        error("item_delete_invalid_item_id", "item_id"),
        error("response_cancel_not_active"),
    ]
    assert links_of(envs) == {12: (11, "response cancelled")}


def test_an_error_tied_to_no_kind_links_nothing_and_makes_the_waiting_frames_uncertain() -> None:
    """`invalid_value` on `type` (or an error the server sends on its own) could answer any frame:
    the create it may have answered is no longer a candidate for a later refusal."""
    envs = [
        connecting(),
        bare("response.create", bogus=1),  # 1: refused, its error naming a param of no one kind
        error("unknown_parameter", "bogus"),  # 2
        bare("response.create"),  # 3
        error("conversation_already_has_active_response"),  # 4: about #3, not #1
        bare("input_audio_buffer.commit"),  # 5
        received("error", error={"type": "server_error", "code": None, "message": "boom", "event_id": None}),  # 6
        error("input_audio_buffer_commit_empty"),  # 7: #5 may have been answered by #6
    ]
    assert links_of(envs) == {4: (3, "error")}


def test_with_an_event_id_the_exact_link_wins_and_frames_with_one_are_never_guessed() -> None:
    named = sent("response.create")  # has an event_id: its error names it
    envs = [
        connecting(),
        bare("response.create"),  # 1
        named,  # 2
        error("conversation_already_has_active_response", event_id=named.data["event_id"]),  # 3
        error("conversation_already_has_active_response"),  # 4: about #1, never #2
        sent("input_audio_buffer.commit"),  # 5: has an event_id
        error("input_audio_buffer_commit_empty"),  # 6: the server would have named #5
    ]
    assert links_of(envs) == {3: (2, "error"), 4: (1, "error")}


def test_a_new_connection_forgets_the_frames_of_the_last() -> None:
    envs = [connecting(), bare("response.cancel"), connecting(), error("response_cancel_not_active")]
    assert links_of(envs) == {}


def test_a_refused_commit_without_event_id_keeps_its_appends_in_the_buffer() -> None:
    """The commit the server refused committed nothing: the next commit's item is made of the
    appends before it too, as with an event_id."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),
        bare("input_audio_buffer.append", audio="AAAA"),  # 1
        bare("input_audio_buffer.commit"),  # 2
        error("input_audio_buffer_commit_empty"),  # 3
        bare("input_audio_buffer.append", audio="AAAA"),  # 4
        bare("input_audio_buffer.commit"),  # 5
        received("input_audio_buffer.committed", item_id="item_1"),  # 6
    ]
    pipeline.ingest(envs)
    assert links.cause_of[3].cause == 2
    assert links.made["item_1"] == [1, 4, 5]


def test_the_table_names_no_kind_for_ambiguous_errors() -> None:
    assert cause_types("invalid_value", "item_id") == ()  # truncate, delete and retrieve all have it
    assert cause_types("invalid_value", "audio") == ()  # appends: nothing answers them
    assert cause_types("invalid_value", "type") == ()
    assert cause_types("invalid_json", "session.temperature") == ()  # a frame the server could not read
    assert cause_types("", "") == ()


async def test_the_official_client_through_the_real_proxy(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """The official SDK (event_id null on every frame) through `rt-tui proxy --local`: each refusal
    in its capture is linked to the frame it refused, both ways."""
    process, url = proxy_process
    client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=url.rstrip("/") + "/v1")
    errors: list[str] = []
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        await conn.input_audio_buffer.commit()
        await conn.response.cancel()
        await conn.conversation.item.delete(item_id="item_missing")
        await conn.response.create()
        await conn.response.create()  # refused: the first is still running at real-time speed
        async for event in conn:
            if event.type == "error":
                errors.append(str(event.error.code))
                if len(errors) == 4:
                    break
    assert errors == [
        "input_audio_buffer_commit_empty",
        "response_cancel_not_active",
        "item_delete_invalid_item_id",
        "conversation_already_has_active_response",
    ]
    process.terminate()  # the capture is whole once the proxy has ended
    process.communicate(timeout=10)
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    envs = load(capture).envelopes
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    journal = pipeline.journal
    sent_frames = [f for f in journal if f.direction is Direction.OUT]
    assert sent_frames and all(f.event_id is None for f in sent_frames)  # the SDK named none
    creates = [f.index for f in sent_frames if f.type == "response.create"]
    expected = {
        "input_audio_buffer_commit_empty": next(f.index for f in sent_frames if f.type == "input_audio_buffer.commit"),
        "response_cancel_not_active": next(f.index for f in sent_frames if f.type == "response.cancel"),
        "item_delete_invalid_item_id": next(f.index for f in sent_frames if f.type == "conversation.item.delete"),
        "conversation_already_has_active_response": creates[1],
    }
    for f in journal:
        if f.type == "error":
            code = journal.data(f.index)["error"]["code"]
            link = links.cause_of[f.index]
            assert link.cause == expected[code], code
            assert [e.effect for e in links.effects_of[link.cause]] == [f.index]


def test_a_create_taken_for_the_cause_of_vads_response_is_linked_to_its_refusal() -> None:
    """Server VAD began a response while our create was on its way: its response.created was taken
    to answer the create, and the refusal that follows shows it was not."""
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    envs = [
        connecting(),
        received("input_audio_buffer.speech_stopped", item_id="item_1"),  # 1
        bare("response.create"),  # 2
        received("input_audio_buffer.committed", item_id="item_1"),  # 3
        received("response.created", response={"id": "resp_vad"}),  # 4: VAD's
        error("conversation_already_has_active_response"),  # 5: about #2
        received("response.done", response={"id": "resp_vad", "status": "failed"}),  # 6
    ]
    pipeline.ingest(envs)
    assert {effect: (link.cause, link.kind) for effect, link in links.cause_of.items()} == {
        5: (2, "error"),
        6: (4, "response failed"),  # the server began it, not our refused create
    }
    assert "resp_vad" not in links.made


def test_with_two_responses_in_progress_a_refusal_is_not_guessed() -> None:
    envs = [
        connecting(),
        bare("response.create"),  # 1
        received("response.created", response={"id": "resp_1"}),  # 2
        bare("response.create", response={"conversation": "none"}),  # 3
        received("response.created", response={"id": "resp_2", "conversation_id": None}),  # 4
        error("conversation_already_has_active_response"),  # 5: one was VAD's: which, is not known
        received("response.done", response={"id": "resp_2", "status": "completed"}),  # 6
        error("conversation_already_has_active_response"),  # 7: the first was not done: still unknown
    ]
    assert links_of(envs) == {}


def test_a_create_whose_response_is_done_is_never_taken_for_a_refused_one() -> None:
    envs = [
        connecting(),
        bare("response.create"),  # 1
        received("response.created", response={"id": "resp_1"}),  # 2
        received("response.done", response={"id": "resp_1", "status": "completed"}),  # 3
        error("conversation_already_has_active_response"),  # 4
    ]
    assert links_of(envs) == {}


async def test_the_official_client_under_server_vad_through_the_real_proxy(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """A turn and a response.create sent right after it: server VAD's response begins first and the
    create is refused; the refusal is linked to the create, and the response to no create of ours."""
    process, url = proxy_process
    client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=url.rstrip("/") + "/v1")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.input_audio_buffer.append(audio=b64(speech(600) + silence(1000)))
        await conn.response.create()
        async for event in conn:
            if event.type == "error":
                assert event.error.code == "conversation_already_has_active_response"
                break
    process.terminate()
    process.communicate(timeout=10)
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    pipeline = Pipeline()
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(load(capture).envelopes)
    journal = pipeline.journal
    [create] = [f.index for f in journal if f.type == "response.create"]
    [refusal] = [f.index for f in journal if f.type == "error"]
    [created] = [f for f in journal if f.type == "response.created"]
    assert links.cause_of[refusal].cause == create
    assert [e.effect for e in links.effects_of[create]] == [refusal]
    assert created.response_id not in links.made  # VAD began it, not our refused create


def test_a_named_frames_reply_answers_it_not_the_oldest_unnamed_one() -> None:
    """Reviewer: the `session.updated` answering a named update (the app names its own) was taken to
    answer the oldest update sent without event_id, so that one's error was linked to the next."""
    envs = [
        connecting(),  # 0
        sent("session.update", session={}),  # 1: named
        bare("session.update", session={"x": 1}),  # 2: unnamed, refused at 5
        bare("session.update", session={}),  # 3: unnamed, fine
        received("session.updated", session={}),  # 4: answers #1 (the server answers in order)
        error("unknown_parameter", "session.x"),  # 5: answers #2
        received("session.updated", session={}),  # 6: answers #3
    ]
    assert links_of(envs).get(5) == (2, "error")


def test_a_frame_the_server_could_not_read_is_answered_by_its_invalid_json() -> None:
    """Reviewer: a create holding NaN, answered by invalid_json, still waited for an error of its
    own, so the next create's refusal was linked to it: one frame, two errors."""
    envs = [
        connecting(),  # 0
        bare("response.create", response={"temperature": float("nan")}),  # 1: no JSON to the server
        error("invalid_json"),  # 2: answers #1
        bare("response.create"),  # 3
        error("conversation_already_has_active_response"),  # 4: answers #3
    ]
    assert links_of(envs) == {2: (1, "error"), 4: (3, "error")}
