"""Round 28 (journal): the filter language, find, links and exports reviewed as a demanding user
would: each finding against the real journal, fed by a real session where it matters."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.realtime import RealtimeConversationItemUserMessageParam
from textual import events
from textual.widgets import Input

from tests.app_helpers import reply_done, session_ready, views_settled, wait_for
from tests.journal_helpers import Clock, audio_b64, connecting, received, sent
from tests.server_helpers import BURST, burst_gathered
from tests.test_regex_round20 import filter_status, find_status
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import (
    Finder,
    Journal,
    Links,
    LogView,
    PayloadPolicy,
    Pipeline,
    Query,
    QueryError,
    SessionFacts,
)
from tui.journal.export import export_jsonl
from tui.protocol import Envelope, local_envelope
from tui.replay import load
from tui.session import CaptureWriter, new_session_dir
from tui.session import client as client_module

TYPED = 'Un café, s\'il vous plaît: he said "bonjour" 日本'
"""What the official SDK's client types: `json.dumps` sends it as `caf\\u00e9`, `\\"bonjour\\"`."""


def pipeline_of(envs: list[Envelope], policy: PayloadPolicy | None = None) -> tuple[Pipeline, Links]:
    """A real pipeline with the links projection, fed `envs`."""
    pipeline = Pipeline(Journal(policy))
    links = Links(pipeline.journal)
    pipeline.add(links)
    pipeline.ingest(envs)
    return pipeline, links


def matching(query: str, pipeline: Pipeline, links: Links) -> list[int]:
    """The journal indices `query` passes."""
    compiled = Query(query, pipeline.journal, links)
    return [i for i in range(len(pipeline.journal)) if compiled.match_index(i)]


def all_shown(pipeline: Pipeline) -> LogView:
    view = LogView(pipeline.journal)
    view.rebuild()
    return view


async def sdk_session(process: subprocess.Popen[str], url: str, data: Path) -> list[Envelope]:
    """A typed turn and its reply by the official SDK through the real `rt-tui proxy --local`; the
    proxy's capture, read back as a replay reads it."""
    client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=url.rstrip("/") + "/v1")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": None}}})
        item: RealtimeConversationItemUserMessageParam = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": TYPED}],
        }
        await conn.conversation.item.create(item=item)
        await conn.response.create()
        async for event in conn:
            if event.type == "response.done":
                break
    process.terminate()  # the capture is whole once the proxy has ended
    process.communicate(timeout=10)
    [capture] = data.glob("sessions/*/frames.jsonl")
    return list(load(capture).envelopes)


# -- a query nested past Python's stack ---------------------------------------------------------


def test_groups_nested_past_the_stack_are_refused_with_a_reason_not_a_recursion_error() -> None:
    """A pasted query of 400 nested groups raised RecursionError out of the parser (the bars catch
    QueryError only: the app stopped); a regex of 1,000 nested groups did the same in `regex`."""
    pipeline, links = pipeline_of([received("session.created", session={"id": "sess_1"})])
    deep = "(" * 400 + "session" + ")" * 400
    with pytest.raises(QueryError, match="nested over 64 deep"):
        Query(deep, pipeline.journal, links)
    assert matching("(" * 64 + "session" + ")" * 64, pipeline, links) == [0]  # deep, but typed by someone
    nested = "(" * 1000 + "a" + ")" * 1000
    for bad in (f"/{nested}/", f"session.id~{nested}"):
        with pytest.raises(QueryError, match="nested too deep") as caught:
            Query(bad, pipeline.journal, links)
        assert len(str(caught.value)) < 120  # one line for the bar, not the pasted pattern
    with pytest.raises(QueryError, match="nested too deep"):
        Finder(f"/{nested}/", pipeline.journal)


async def test_pasting_a_deeply_nested_filter_says_why_and_the_app_goes_on() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(120, 32)) as pilot:
        app.ingest([received("session.created", session={"id": "sess_1"})])
        await pilot.press("f")
        bar = app.query_one("#filter-bar Input", Input)
        bar.post_message(events.Paste("(" * 400 + "session" + ")" * 400))
        await wait_for(pilot, lambda: "nested over 64 deep" in filter_status(app), 5, "the reason")
        await pilot.press("ctrl+u", "escape", "slash")
        find = app.query_one("#find-bar Input", Input)
        find.post_message(events.Paste("/" + "(" * 1000 + "a" + ")" * 1000 + "/"))
        await wait_for(pilot, lambda: "nested too deep" in find_status(app), 5, "the find's reason")
        assert app.is_running


# -- text a client escaped ----------------------------------------------------------------------


async def test_text_the_official_sdk_escaped_is_found_by_the_words_as_typed(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """The official Python SDK sends `json.dumps` text: `caf\\u00e9`, `\\"bonjour\\"`. A filter or a
    find for `café`, `日本` or `"bonjour"` found the server's echo of the message but never the
    frame the client sent: the words were searched in the escaped wire text."""
    envs = await sdk_session(*proxy_process, tmp_path / "data")
    pipeline, links = pipeline_of(envs)
    journal = pipeline.journal
    [create] = [f.index for f in journal if f.type == "conversation.item.create"]
    assert "caf\\u00e9" in (journal[create].raw or "")  # as the SDK sent it
    for words in ("café", "CAFÉ", "日本", '"he said \\"bonjour\\""', "/plaît: he/"):
        assert create in matching(words, pipeline, links), words
    view = all_shown(pipeline)
    for words in ("café", 'said "bonjour"', "日本"):
        assert create in Finder(words).hits(view), words
    assert Finder("café").find(view, None) == create  # the first match: the frame sent


async def test_a_beta_name_finds_the_ga_frames_it_was_renamed_to(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """`type:` took a beta frame by its GA name, not a GA frame by its beta name: a filter for
    `response.audio_transcript.delta` (the beta's docs, and most posts) showed nothing of a GA session."""
    envs = await sdk_session(*proxy_process, tmp_path / "data")
    pipeline, links = pipeline_of(envs)
    journal = pipeline.journal
    spoken = [f.index for f in journal if f.type == "response.output_audio_transcript.delta"]
    audio = [f.index for f in journal if f.type in ("response.output_audio.delta", "response.output_audio.done")]
    assert spoken and audio
    assert matching("type:response.audio_transcript.delta", pipeline, links) == spoken
    assert matching("type:response.audio.*", pipeline, links) == audio
    assert matching("type:r.a_transcript.delta", pipeline, links) == spoken  # its short spelling too
    assert not set(spoken) & set(matching("-type:response.audio_transcript.delta", pipeline, links))
    # Beta's one `conversation.item.created` is GA's `conversation.item.added` (then `.done`): no
    # rename, so `type:conversation.item.created` matched nothing of a GA session, without a word.
    added = [f.index for f in journal if f.type == "conversation.item.added"]
    assert added and matching("type:conversation.item.created", pipeline, links) == added
    assert matching("type:c.item.created", pipeline, links) == added
    beta, beta_links = pipeline_of(
        [received("conversation.item.created", item={"id": "item_1"}), received("conversation.item.truncated")]
    )
    assert matching("type:conversation.item.added", beta, beta_links) == [0]  # and the other way


async def test_a_session_update_the_sdk_sent_is_known_refused(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """The official SDK names no frame (`event_id` null): the server's refusal of its session.update
    names none either. The links tied the error to the update by its `param`, but the session
    facts looked for an event_id only: no rejection, and the status never said the server kept
    its old configuration."""
    process, url = proxy_process
    client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=url.rstrip("/") + "/v1")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        rate_8k: Any = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 8000}}}}
        await conn.session.update(session=rate_8k)  # refused: PCM is 24 kHz only
        await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
        async for event in conn:
            if event.type == "session.updated":
                break
        await conn.session.update(session=rate_8k)  # refused again: the last word
        async for event in conn:
            if event.type == "error":
                break
    process.terminate()
    process.communicate(timeout=10)
    [capture] = (tmp_path / "data").glob("sessions/*/frames.jsonl")
    pipeline, links = pipeline_of(list(load(capture).envelopes))
    facts = SessionFacts()
    pipeline.add(facts)
    journal = pipeline.journal
    updates = [f.index for f in journal if f.type == "session.update"]
    errors = [f.index for f in journal if f.type == "error"]
    assert [links.cause_of[e].cause for e in errors] == [updates[0], updates[2]]
    refused = [(updates[0], errors[0]), (updates[2], errors[1])]
    assert [(r.update_index, r.error_index) for r in facts.rejections] == refused
    assert facts.last_update_rejected and "24000" in facts.rejections[0].message


# -- event ids ----------------------------------------------------------------------------------


async def test_event_id_finds_a_received_audio_delta(
    proxy_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    """`event:ID` asked a received frame's id of `search_text`, which for an audio delta is its
    type and ids only: no audio delta was ever found by its event id."""
    envs = await sdk_session(*proxy_process, tmp_path / "data")
    pipeline, links = pipeline_of(envs)
    journal = pipeline.journal
    deltas = [f.index for f in journal if f.type == "response.output_audio.delta"]
    assert deltas
    target = deltas[len(deltas) // 2]
    event_id = journal.data(target)["event_id"]
    assert matching(f"event:{event_id}", pipeline, links) == [target]


def test_event_id_finds_an_append_whose_payload_left_memory() -> None:
    """An error names an append by its event_id an hour later (the link is kept by the id's hash);
    `event:ID` read the id from the append's text, gone past the audio budget: no frame matched."""
    clock = Clock()
    appends = [sent("input_audio_buffer.append", clock, audio=audio_b64(100), event_id=f"append_{n}") for n in range(8)]
    refusal = received("error", clock, error={"type": "invalid_request_error", "code": "x", "event_id": "append_0"})
    policy = PayloadPolicy(large_budget_bytes=20_000)
    pipeline, links = pipeline_of([connecting(clock), *appends, refusal], policy)
    journal = pipeline.journal
    assert journal[1].payload_dropped and links.cause_of[9].cause == 1  # the link outlived the payload
    assert matching("event:append_0", pipeline, links) == [1]
    assert matching("event:append_7", pipeline, links) == [8]  # a kept one, read from its text
    assert matching("event:append_9", pipeline, links) == []


# -- payloads past the byte budget --------------------------------------------------------------


def long_done(response_id: str, status: str, clock: Clock) -> Envelope:
    """A response.done of about 8 KB (its output's transcript): a large payload, not audio."""
    output = [{"id": f"item_{response_id}", "type": "message", "content": [{"transcript": "la " * 2700}]}]
    details = {"type": "failed", "error": {"code": "server_error"}} if status == "failed" else None
    response = {"id": response_id, "status": status, "status_details": details, "output": output}
    return received("response.done", clock, response=response)


def dropped_failure() -> tuple[Pipeline, Links, int]:
    """A failed response whose long response.done left memory past the text budget."""
    clock = Clock()
    envs = [connecting(clock), sent("response.create", clock)]
    envs.append(received("response.created", clock, response={"id": "resp_bad", "status": "in_progress"}))
    envs.append(long_done("resp_bad", "failed", clock))
    for n in range(6):
        envs += [sent("response.create", clock), long_done(f"resp_{n}", "completed", clock)]
    policy = PayloadPolicy(large_budget_bytes=16_000, text_budget_bytes=16_000)
    pipeline, links = pipeline_of(envs, policy)
    assert pipeline.journal[3].payload_dropped
    return pipeline, links, 3


def test_a_dropped_payload_is_still_searched_by_its_ids() -> None:
    """A dropped payload's frame was searched by its type alone (the policy says: by its type and
    ids): `resp_bad` found no frame of the response once its response.done left memory."""
    pipeline, links, done = dropped_failure()
    assert done in matching("resp_bad", pipeline, links)
    assert Finder("resp_bad").find(all_shown(pipeline), None, forward=False) == done
    assert matching("response:resp_bad", pipeline, links) == [2, 3]  # the columns, as before


def test_a_failed_response_stays_an_error_after_its_payload_is_dropped() -> None:
    """`error` read a response.done's status from its payload: once a long failed one left memory,
    it was no error any more (its link to the create stayed)."""
    pipeline, links, done = dropped_failure()
    assert links.cause_of[done].kind == "response failed"
    assert matching("error", pipeline, links) == [done]
    assert matching("is:error", pipeline, links) == [done]


async def test_find_takes_a_path_for_a_path_not_for_a_regex_with_bad_flags(simulator_url: str) -> None:
    """`/v1/realtime` in the find bar was a /regex/ `v1` with flags `realtime`: "unknown regex flag
    'r'", and the find bar has no quotes to say "as it is". Only i and s after the last slash make
    a regex; `//` (every URL has one) is found as it is too."""
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False, capture=False))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await views_settled(pilot, app)
        await pilot.press("slash", *"/v1/realtime", "enter")
        await wait_for(pilot, lambda: find_status(app).startswith("match "), 5, f"a match: {find_status(app)}")
        selected = app.event_log.selected
        assert selected is not None and "/v1/realtime" in app.journal.search_text(selected)
        await pilot.press("escape", "slash", "ctrl+u", *"//", "enter")
        await wait_for(pilot, lambda: find_status(app).startswith("match "), 5, f"a match: {find_status(app)}")
        selected = app.event_log.selected
        assert selected is not None and "ws://" in app.journal.search_text(selected)
    view = LogView(app.journal)
    view.rebuild()
    assert Finder("/V1.REALTIME/").count(view) == Finder("/v1.realtime/i").count(view) > 0  # regexes as before
    assert Finder("/V1.REALTIME/s").count(view) == 0  # flags given: case as typed


# -- the log's rows ------------------------------------------------------------------------------


def replies_while_recording(count: int) -> list[Envelope]:
    """A hands-free session: the microphone's appends go on while `count` replies come and go."""
    clock = Clock()
    envs = [connecting(clock), received("session.created", clock, session={"id": "sess_1"})]
    for n in range(count):
        envs.append(sent("input_audio_buffer.append", clock, audio=audio_b64(20)))
        envs.append(received("response.created", clock, response={"id": f"resp_{n}", "status": "in_progress"}))
        delta = {"response_id": f"resp_{n}", "item_id": f"item_{n}", "delta": f"reply {n}"}
        envs.append(received("response.output_audio_transcript.delta", clock, **delta))
        envs.append(received("response.done", clock, response={"id": f"resp_{n}", "status": "completed"}))
    return envs


def test_a_frame_of_a_run_open_past_many_rows_is_located() -> None:
    """`is:delta` hides what closes runs: the appends' run stays open while each reply's deltas make
    a row of their own. `locate` looked 64 rows back for the run that holds a frame, so an append
    after the 64th reply was shown (in the run's count) but could not be found: no find, no jump
    reached it."""
    pipeline, links = pipeline_of(replies_while_recording(80))
    journal = pipeline.journal
    view = LogView(journal, links, Query("is:delta", journal, links))
    view.rebuild()
    appends = [f.index for f in journal if f.type == "input_audio_buffer.append"]
    assert view.rows[0].members.tolist() == appends  # one run
    assert all(view.locate(i) is not None for i in view.indices)
    line = view.locate(appends[-1])
    assert line is not None and (line.row.position, line.member) == (0, 79)
    assert view.locate(3) is None  # a frame the filter hides is still not found


async def test_find_reaches_the_last_append_under_a_delta_filter() -> None:
    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(replies_while_recording(80))
        last = max(f.index for f in app.journal if f.type == "input_audio_buffer.append")
        await pilot.press("f", *"is:delta", "enter")
        await wait_for(pilot, lambda: app.log_view.shown == 160, 5, "the filter")
        await pilot.press("slash", *"input_audio_buffer.append", "enter")
        await wait_for(pilot, lambda: "match 1 of 80" in find_status(app), 5, "the first match")
        await pilot.press("N")
        await wait_for(pilot, lambda: "match 80 of 80" in find_status(app), 5, "the last match")
        assert app.event_log.selected == last


# -- odd queries --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "reason"), [('""', "empty phrase"), ("//", "empty /regex/"), ('a "" b', "empty")])
def test_an_empty_phrase_or_regex_says_so_rather_than_passing_every_frame(query: str, reason: str) -> None:
    pipeline, links = pipeline_of([received("session.created", session={"id": "sess_1"})])
    with pytest.raises(QueryError, match=reason):
        Query(query, pipeline.journal, links)


# -- exports ------------------------------------------------------------------------------------


async def test_an_export_writes_a_frame_that_did_not_parse_as_the_capture_does(tmp_path: Path) -> None:
    """The export's record of a frame that did not parse had `info` before `raw`, the capture's
    `raw` before `info`: the export is to be the capture's lines, byte for byte."""
    from tui.server.testing import realtime_simulator

    async with realtime_simulator() as sim:
        url = sim.url_for(malformed="not_json,no_type", malformed_after="session.created:1")
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            malformed = lambda: sum(f.type == "rt.malformed" for f in app.journal) == 2  # noqa: E731
            await wait_for(pilot, malformed, 10, "both bad frames")
            await pilot.press("t", *"what is the weather in Oslo", "enter", "escape")
            await wait_for(pilot, lambda: reply_done(app), 20, "a reply after the bad frames")
            await views_settled(pilot, app)
            journal = app.journal
            assert journal.capture_path is not None
            out = tmp_path / "export.jsonl"
            export_jsonl(journal, range(len(journal)), out)
            capture = Path(journal.capture_path).read_bytes().splitlines()
    exported = out.read_bytes().splitlines()
    bad = [line for line in exported if b'"rt.malformed"' in line]
    assert len(bad) == 2 and all(list(json.loads(line))[-2:] == ["raw", "info"] for line in bad)
    assert exported == capture[: len(exported)]


async def test_an_export_of_frames_that_waited_behind_a_fact_is_one_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames of one socket read, published one by one while the app notes a fact between them:
    the journal keeps their arrival, before the fact; the capture writes them at the fact's time
    (a file whose `t` goes back is two captures joined, for replay). The export wrote the journal's
    times: its `t` went back, and replay read one export as two captures."""
    monkeypatch.setattr(client_module, "READ_SLICE", 0.0)  # the reader yields after each frame
    capture = CaptureWriter(new_session_dir(tmp_path))
    pipeline, _ = pipeline_of([])
    journal = pipeline.journal
    async with burst_gathered(capture) as (_, feed), asyncio.timeout(10):
        while sum(f.type == "response.output_text.delta" for f in journal) < len(BURST):
            env = await feed.get()
            pipeline.ingest([env])
            if env.type == "response.output_text.delta":
                fact = local_envelope("rt.note", f"noted after {env.seq}")
                capture.write(fact)
                pipeline.ingest([fact])  # the journal's order: before the next frame
    capture.close()
    assert any(b.mono < a.mono for a, b in itertools.pairwise(journal))  # the journal keeps arrivals
    out = tmp_path / "export.jsonl"
    export_jsonl(journal, range(len(journal)), out)
    exported = out.read_bytes().splitlines()
    assert exported == capture.path.read_bytes().splitlines()[: len(exported)]
    recording = load(out)
    assert recording.parts == [] and len(recording.envelopes) == len(journal)
