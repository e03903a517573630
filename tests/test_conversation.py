"""The reducer: user transcripts land in the right row whatever order the events arrive in."""

from __future__ import annotations

import itertools
from typing import Any

from tui.conversation import Conversation, Origin, TextState
from tui.conversation.export import ended_early
from tui.protocol import Direction, Envelope, serialize

_seq = itertools.count(1)


def env(data: dict[str, Any], direction: Direction = Direction.IN) -> Envelope:
    return Envelope(next(_seq), direction, data["type"], data, serialize(data))


def session(transcription: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "type": "session.updated",
        "session": {"type": "realtime", "id": "sess_1", "audio": {"input": {"transcription": transcription}}},
    }


def committed(item_id: str, prev: str | None) -> dict[str, Any]:
    return {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": prev}


def user_item(event: str, item_id: str, prev: str | None, transcript: str | None = None) -> dict[str, Any]:
    return {
        "type": event,
        "previous_item_id": prev,
        "item": {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": transcript}],
        },
    }


def t_delta(item_id: str, delta: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.input_audio_transcription.delta",
        "item_id": item_id,
        "content_index": 0,
        "delta": delta,
    }


def t_done(item_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.input_audio_transcription.completed",
        "item_id": item_id,
        "content_index": 0,
        "transcript": text,
        "usage": {"type": "tokens", "total_tokens": 3},
    }


def response(resp_id: str, item_id: str, prev: str, text: str) -> list[dict[str, Any]]:
    item = {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    done_item = dict(item, status="completed", content=[{"type": "output_audio", "transcript": text}])
    return [
        {"type": "response.created", "response": {"id": resp_id, "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "response_id": resp_id, "output_index": 0, "item": item},
        {"type": "conversation.item.added", "previous_item_id": prev, "item": item},
        *[
            {
                "type": "response.output_audio_transcript.delta",
                "response_id": resp_id,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": w,
            }
            for w in text.split(" ")
        ],
        {
            "type": "response.output_audio_transcript.done",
            "response_id": resp_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "transcript": text,
        },
        {"type": "conversation.item.done", "previous_item_id": prev, "item": done_item},
        {"type": "response.output_item.done", "response_id": resp_id, "output_index": 0, "item": done_item},
        {"type": "response.done", "response": {"id": resp_id, "status": "completed", "output": [done_item]}},
    ]


def user_turn(item_id: str, prev: str | None) -> list[dict[str, Any]]:
    return [
        committed(item_id, prev),
        user_item("conversation.item.added", item_id, prev),
        user_item("conversation.item.done", item_id, prev),
    ]


def feed(conv: Conversation, events: list[dict[str, Any]]) -> None:
    for data in events:
        conv.apply(env(data))


def state_of(conv: Conversation, item_id: str) -> TextState:
    return conv.items[item_id].state


def rows(conv: Conversation) -> list[tuple[str, str]]:
    return [(i.role, i.text) for i in conv.ordered()]


def test_user_row_appears_at_commit_as_transcribing_and_fills_in_after_response_done() -> None:
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *user_turn("item_u1", None)])
    user = conv.items["item_u1"]
    assert user.state is TextState.TRANSCRIBING
    assert user.display_text == "(transcribing…)"
    feed(conv, response("resp_1", "item_a1", "item_u1", "You said hello."))
    assert rows(conv) == [("user", ""), ("assistant", "You said hello.")]
    feed(conv, [t_delta("item_u1", "Hello"), t_delta("item_u1", " there")])
    assert conv.items["item_u1"].state is TextState.STREAMING
    assert conv.items["item_u1"].text == "Hello there"
    feed(conv, [t_done("item_u1", "Hello there.")])
    assert rows(conv) == [("user", "Hello there."), ("assistant", "You said hello.")]
    assert state_of(conv, "item_u1") is TextState.DONE
    assert conv.items["item_u1"].transcription_latency is not None


def test_transcript_before_the_item_is_kept_and_applied() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "whisper-1"}),
            t_delta("item_u1", "What time is it?\n"),
            t_done("item_u1", "What time is it?\n"),
        ],
    )
    assert conv.ordered() == []
    feed(conv, user_turn("item_u1", None))
    user = conv.items["item_u1"]
    assert user.text == "What time is it?"  # whisper's trailing newline trimmed, not doubled by the delta
    assert user.state is TextState.DONE


def test_two_turns_completing_out_of_order_keep_their_places() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            *user_turn("item_u1", None),
            *response("resp_1", "item_a1", "item_u1", "First answer."),
            *user_turn("item_u2", "item_a1"),
            *response("resp_2", "item_a2", "item_u2", "Second answer."),
            t_done("item_u2", "second question"),
            t_done("item_u1", "first question"),
        ],
    )
    assert rows(conv) == [
        ("user", "first question"),
        ("assistant", "First answer."),
        ("user", "second question"),
        ("assistant", "Second answer."),
    ]


def test_item_inserted_after_its_previous_item_even_when_it_arrives_later() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            *user_turn("item_u1", None),
            *response("resp_1", "item_a1", "item_u1", "Answer."),
            user_item("conversation.item.added", "item_x", "item_u1", transcript="inserted"),
        ],
    )
    assert [i.id for i in conv.ordered()] == ["item_u1", "item_x", "item_a1"]


def test_failed_transcription_marks_the_row() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            *user_turn("item_u1", None),
            {
                "type": "conversation.item.input_audio_transcription.failed",
                "item_id": "item_u1",
                "content_index": 0,
                "error": {
                    "type": "transcription_error",
                    "code": "audio_unintelligible",
                    "message": "The audio could not be transcribed.",
                    "param": None,
                },
            },
        ],
    )
    user = conv.items["item_u1"]
    assert user.state is TextState.FAILED
    assert user.error is not None and "audio_unintelligible" in user.error
    assert user.display_text == "(transcription failed)"


def test_transcription_off_says_so_instead_of_waiting() -> None:
    conv = Conversation()
    feed(conv, [session(None), *user_turn("item_u1", None)])
    user = conv.items["item_u1"]
    assert user.state is TextState.TRANSCRIPTION_OFF
    assert "transcription is off" in user.display_text


def test_item_create_audio_says_the_server_does_not_transcribe_it() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "whisper-1"}),
            user_item("conversation.item.added", "item_c1", None),
            user_item("conversation.item.done", "item_c1", None),
        ],
    )
    user = conv.items["item_c1"]
    assert user.origin is Origin.CREATE
    assert user.state is TextState.NOT_TRANSCRIBED
    assert "does not transcribe" in user.display_text


def test_beta_event_names_are_understood() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            {
                "type": "session.updated",
                "session": {"id": "sess_b", "input_audio_transcription": {"model": "whisper-1"}},
            },
            committed("item_u1", None),
            user_item("conversation.item.created", "item_u1", None),
            {"type": "response.audio_transcript.delta", "response_id": "r", "item_id": "item_a1", "delta": "Hi"},
            t_done("item_u1", "hello"),
        ],
    )
    assert rows(conv) == [("user", "hello"), ("assistant", "Hi")]


def test_outbound_and_local_envelopes_do_not_change_the_conversation() -> None:
    conv = Conversation()
    conv.apply(env(user_item("conversation.item.added", "item_x", None), Direction.OUT))
    conv.apply(env({"type": "rt.connection", "state": "open"}, Direction.LOCAL))
    assert conv.ordered() == []


def test_frames_of_unexpected_shapes_are_reported_not_fatal() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            {"type": "error", "error": "rate limited"},
            {"type": "session.updated", "session": ["not", "an", "object"]},
            {
                "type": "conversation.item.added",
                "item": {"id": "msg:42/x", "type": "message", "role": "user", "content": "not a list"},
            },
            {"type": "response.done", "response": {"output": "nope"}},
            {"type": "conversation.item.input_audio_transcription.delta", "item_id": "msg:42/x", "delta": 7},
            *user_turn("item_u1", None),
            t_done("item_u1", "still works"),
        ],
    )
    assert conv.last_error == "rate limited"
    assert rows(conv)[-1] == ("user", "still works")
    assert "msg:42/x" in conv.items


def test_function_call_items_and_their_output() -> None:
    conv = Conversation()
    call = {"id": "item_fc", "type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": ""}
    feed(
        conv,
        [
            {"type": "response.output_item.added", "response_id": "r1", "output_index": 0, "item": call},
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "item_fc",
                "call_id": "call_1",
                "delta": '{"city":',
            },
            {
                "type": "response.function_call_arguments.done",
                "item_id": "item_fc",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {
                "type": "conversation.item.added",
                "previous_item_id": "item_fc",
                "item": {"id": "item_out", "type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            },
        ],
    )
    fc, out = conv.ordered()
    assert (fc.role, fc.kind, fc.name, fc.text, fc.state) == (
        "tool",
        "function_call",
        "get_weather",
        '{"city":"Paris"}',
        TextState.DONE,
    )
    assert (out.kind, out.text) == ("function_call_output", "sunny")


def test_truncation_delete_and_cancelled_responses() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            *user_turn("item_u1", None),
            *response("resp_1", "item_a1", "item_u1", "A long answer")[:-1],
            {
                "type": "response.done",
                "response": {
                    "id": "resp_1",
                    "status": "cancelled",
                    "output": [{"id": "item_a1", "status": "incomplete"}],
                },
            },
            {"type": "conversation.item.truncated", "item_id": "item_a1", "content_index": 0, "audio_end_ms": 1200},
        ],
    )
    assistant = conv.items["item_a1"]
    # The response was cancelled and the item truncated: it stays cancelled, and the cut is said too.
    assert (assistant.status, assistant.audio_end_ms) == ("cancelled", 1200)
    assert ended_early(assistant) == "cancelled · truncated at 1.20 s"
    feed(conv, [{"type": "conversation.item.deleted", "item_id": "item_u1"}])
    assert [i.id for i in conv.ordered()] == ["item_a1"]


def test_late_deltas_never_change_final_text() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            *user_turn("item_u1", None),
            *response("resp_1", "item_a1", "item_u1", "Final words"),
            {"type": "response.output_audio_transcript.delta", "item_id": "item_a1", "delta": " late"},
            {
                "type": "conversation.item.input_audio_transcription.failed",
                "item_id": "item_u1",
                "content_index": 0,
                "error": {"code": "audio_unintelligible", "message": "no"},
            },
            t_delta("item_u1", "late words"),
        ],
    )
    assert conv.items["item_a1"].text == "Final words"
    assert state_of(conv, "item_u1") is TextState.FAILED
    assert conv.items["item_u1"].text == ""


def test_a_lost_connection_ends_pending_rows_and_keeps_what_arrived() -> None:
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *user_turn("item_u1", None)])
    feed(conv, [t_delta("item_u1", "what is the")])
    reply = response("resp_1", "item_a1", "item_u1", "It is sunny")
    feed(conv, reply[:4])  # the reply is half streamed: one delta, "It"
    feed(conv, user_turn("item_u2", "item_a1"))  # a second turn (barge-in), not transcribed yet
    settled = Conversation()
    feed(settled, [session(None), *user_turn("item_u3", None)])

    conv.apply(env({"type": "rt.connection", "state": "closed", "message": "connection lost"}, Direction.LOCAL))

    # Everything that was still coming is marked, and nothing already received is lost.
    assert [(i.id, i.state, i.text) for i in conv.ordered()] == [
        ("item_u1", TextState.INTERRUPTED, "what is the"),
        ("item_a1", TextState.INTERRUPTED, "It"),
        ("item_u2", TextState.INTERRUPTED, ""),
    ]
    assert conv.items["item_u2"].display_text == "(the connection ended before any text arrived)"
    assert {"item_u1", "item_a1", "item_u2"} <= conv.take_changes()
    # Rows that were already settled do not change.
    settled.apply(env({"type": "rt.connection", "state": "failed", "message": "x"}, Direction.LOCAL))
    assert state_of(settled, "item_u3") is TextState.TRANSCRIPTION_OFF


def test_a_completed_function_call_added_by_the_client_is_not_cut_off_by_a_close() -> None:
    conv = Conversation()
    call = {"id": "item_call", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "f"}
    feed(conv, [{"type": "conversation.item.added", "previous_item_id": None, "item": {**call, "arguments": "{}"}}])
    conv.apply(env({"type": "rt.connection", "state": "closed", "message": "bye"}, Direction.LOCAL))
    assert state_of(conv, "item_call") is TextState.DONE


def test_ids_and_fields_of_any_json_type_never_orphan_an_item_or_leak_into_its_fields() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            {"type": "input_audio_buffer.committed", "item_id": "item_u1", "previous_item_id": ["item_x"]},
            {**user_item("conversation.item.added", "item_u2", None), "previous_item_id": {"id": "item_u1"}},
            {"type": "input_audio_buffer.committed", "item_id": 42, "previous_item_id": None},
            {"type": "conversation.item.truncated", "item_id": ["item_u1"], "audio_end_ms": "1200"},
            {
                "type": "response.output_item.added",
                "response_id": ["resp_1"],
                "item": {"id": "item_fc", "type": "function_call", "name": {"n": 1}, "call_id": [2], "arguments": 3},
            },
            {"type": "conversation.item.input_audio_transcription.completed", "item_id": "item_u1", "transcript": {}},
            {"type": "session.updated", "session": {"type": "realtime", "audio": "pcm"}},
            {"type": "rt.connection", "state": ["closed"]},
        ],
    )
    conv.apply(env({"type": "rt.connection", "state": {"closed": True}, "message": "odd"}, Direction.LOCAL))
    assert conv.order == ["item_u1", "item_u2", "item_fc"]  # every item has its row
    fc = conv.items["item_fc"]
    assert (fc.name, fc.call_id, fc.response_id, fc.text) == (None, None, None, "3")
    assert conv.items["item_u1"].text == ""  # not "{}"
    # Valid frames afterwards land as usual.
    feed(conv, [*user_turn("item_u3", "item_u1"), t_done("item_u3", "after")])
    assert [i.id for i in conv.ordered()] == ["item_u1", "item_u3", "item_u2", "item_fc"]
    assert conv.items["item_u3"].text == "after"


def test_a_final_transcript_stays_whatever_else_claims_the_item() -> None:
    conv = Conversation()
    feed(
        conv,
        [
            session({"model": "gpt-4o-transcribe"}),
            t_done("item_u1", "kept words"),
            *user_turn("item_u1", None),
            {"type": "response.output_audio_transcript.done", "item_id": "item_u1", "transcript": "other"},
            {"type": "response.function_call_arguments.delta", "item_id": "item_u1", "delta": "{"},
            {
                "type": "conversation.item.done",
                "item": {"id": "item_u1", "type": "function_call_output", "output": "out"},
            },
        ],
    )
    assert conv.items["item_u1"].text == "kept words"
    feed(conv, [t_done("item_u1", "newer words")])  # only a later transcript replaces it
    assert conv.items["item_u1"].text == "newer words"


def test_a_transcript_that_came_before_its_item_outlives_a_closed_connection() -> None:
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), t_delta("item_u1", "par"), t_done("item_u1", "whole")])
    feed(conv, [t_delta("item_u2", "half a")])
    conv.apply(env({"type": "rt.connection", "state": "closed", "message": "bye"}, Direction.LOCAL))
    feed(conv, [committed("item_u1", None), committed("item_u2", "item_u1")])
    assert (conv.items["item_u1"].text, state_of(conv, "item_u1")) == ("whole", TextState.DONE)
    # Deltas for an item not seen yet could never be completed after the close: not replayed.
    assert (conv.items["item_u2"].text, conv.items["item_u2"].deltas) == ("", 0)


def test_speech_the_buffer_lost_to_a_clear_leaves_no_row_waiting_for_ever() -> None:
    """Hands-free switched off mid-sentence: the server heard speech start (a "speaking…" row), then
    the client's clear emptied the buffer, so that speech never becomes an item. Its row stayed
    "(speaking…)" for ever and later sat between another turn and its reply."""
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"})])
    feed(conv, [{"type": "input_audio_buffer.speech_started", "audio_start_ms": 100, "item_id": "item_lost"}])
    assert state_of(conv, "item_lost") is TextState.SPEAKING
    feed(conv, [{"type": "input_audio_buffer.cleared"}])
    assert "item_lost" not in conv.items and "item_lost" not in conv.order
    feed(conv, [*user_turn("item_u1", None), *response("resp_1", "item_a1", "item_u1", "Hi.")])
    assert [item.id for item in conv.ordered()] == ["item_u1", "item_a1"]


def test_a_clear_keeps_turns_already_committed() -> None:
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *user_turn("item_u1", None)])
    feed(conv, [{"type": "input_audio_buffer.cleared"}])
    assert state_of(conv, "item_u1") is TextState.TRANSCRIBING


def test_a_response_done_ends_and_marks_only_the_items_that_response_made() -> None:
    """Two responses stream at once (one out of band, said only by its `response.done`); each
    `response.done` with an empty output ends the items its own deltas named, leaves the other's
    streaming, and marks its own out of band; an item deleted meanwhile does not come back."""
    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *user_turn("item_u1", None)])

    def delta(resp_id: str, item_id: str) -> dict[str, Any]:
        return {"type": "response.output_text.delta", "response_id": resp_id, "item_id": item_id, "delta": "w"}

    feed(
        conv,
        [
            {"type": "response.created", "response": {"id": "resp_1"}},
            {"type": "response.created", "response": {"id": "resp_2"}},
            delta("resp_1", "item_a"),
            delta("resp_2", "item_b"),
            delta("resp_2", "item_c"),
            {"type": "conversation.item.deleted", "item_id": "item_c"},
        ],
    )
    conv.take_changes()
    feed(conv, [{"type": "response.done", "response": {"id": "resp_2", "status": "failed", "conversation_id": None}}])
    assert conv.take_changes() == {"item_b"}
    assert state_of(conv, "item_a") is TextState.STREAMING
    assert state_of(conv, "item_b") is TextState.DONE and conv.items["item_b"].status == "failed"
    assert conv.items["item_b"].origin is Origin.OUT_OF_BAND
    assert conv.items["item_a"].origin is Origin.RESPONSE
    assert "item_c" not in conv.items and [i.id for i in conv.ordered()] == ["item_u1", "item_a", "item_b"]
    feed(conv, [{"type": "response.done", "response": {"id": "resp_1", "status": "cancelled", "output": []}}])
    assert state_of(conv, "item_a") is TextState.DONE and conv.items["item_a"].status == "cancelled"


def test_items_follow_their_previous_item_at_the_end_or_in_the_middle() -> None:
    """An item after the last one is appended; one after an earlier item goes right after it."""
    conv = Conversation()
    feed(conv, [*user_turn("item_1", None), *user_turn("item_2", "item_1"), *user_turn("item_3", "item_1")])
    assert [i.id for i in conv.ordered()] == ["item_1", "item_3", "item_2"]
    feed(conv, user_turn("item_4", "item_2"))
    assert [i.id for i in conv.ordered()] == ["item_1", "item_3", "item_2", "item_4"]


def test_no_transcript_latency_is_measured_to_a_line_with_no_time() -> None:
    """A log that times its commit but not the transcript's end (wall 0: the line's order only) had
    a latency from the commit's time to a made-up one. The transcript is there; its latency is not."""
    from tui.protocol.records import NO_TIME

    conv = Conversation()
    feed(conv, [session({"model": "gpt-4o-transcribe"}), *user_turn("item_u1", None)])
    assert conv.items["item_u1"].committed_at is not None
    done = t_done("item_u1", "Hello there.")
    conv.apply(Envelope(next(_seq), Direction.IN, done["type"], done, serialize(done), mono=1.0, wall=NO_TIME))
    user = conv.items["item_u1"]
    assert (user.state, user.text) == (TextState.DONE, "Hello there.")
    assert user.transcription_latency is None
