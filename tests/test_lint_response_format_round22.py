"""The linter reads a response's audio in the output format its `response.created` states.

A `response.create` may choose its own output format (GA `response.audio.output.format`, beta
`response.output_audio_format`) for that response alone; the server states it in `response.created`.
G.711 is 8 bytes a millisecond, 24 kHz PCM16 48: a rule that counts the session's format for such a
response's audio finds six times too little (a correct truncate said to cut past the audio) or six
times too much (a truncate past the audio let through). Frames by hand through the real linter, then
a real session with the simulator, linted in process and by `rt-tui lint` on its export.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.journal_helpers import connecting, received, sent
from tests.lint_helpers import beta_created, beta_session, ga_created, ga_session, lint, rules
from tests.server_helpers import running_simulator
from tui.journal import Journal, Pipeline
from tui.journal.export import export_jsonl
from tui.lint import Finding, Linter, lint_envelopes
from tui.lint.context import duration
from tui.lint.response_rules import MAX_FORMATS_REMEMBERED
from tui.lint.shapes import PCMU as PCMU_FORMAT
from tui.model import KEEP_EVERY_PAYLOAD
from tui.protocol import Dialect, Direction, Envelope, next_seq

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))
PCMU = {"type": "audio/pcmu"}


def _one(findings: list[Finding], rule: str) -> Finding:
    found = [f for f in findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.message) for f in findings]
    return found[0]


def _created(response_id: str, **fields: Any) -> Envelope:
    return received(
        "response.created",
        response={"id": response_id, "object": "realtime.response", "status": "in_progress", **fields},
    )


def _deltas(etype: str, response_id: str, item_id: str, nbytes: int, count: int) -> list[Envelope]:
    audio = base64.b64encode(bytes(nbytes)).decode()
    return [received(etype, response_id=response_id, item_id=item_id, delta=audio) for _ in range(count)]


def _truncate(item_id: str, end: int) -> Envelope:
    return sent("conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=end)


def _ga_pcmu_session() -> dict[str, Any]:
    session = ga_session(vad=False)
    session["audio"]["output"]["format"] = dict(PCMU)
    return session


# -- frames by hand -------------------------------------------------------------------------------


def test_a_g711_response_in_a_pcm16_session_is_counted_at_8_bytes_a_millisecond() -> None:
    """300 ms of μ-law (3 × 800 bytes): read as PCM16 it was 50 ms, and a truncate at 300 ms an error."""
    created = _created("resp_g", audio={"output": {"format": PCMU, "voice": "marin"}})
    deltas = _deltas("response.output_audio.delta", "resp_g", "item_g", 800, 3)
    inside = _truncate("item_g", 300)
    findings, _ = lint(ga_created(vad=False), created, *deltas, inside)
    assert findings == [], [f.message for f in findings]
    past = _truncate("item_g", 450)
    findings, _ = lint(ga_created(vad=False), created, *deltas, inside, past)
    found = _one(findings, "truncate-past-audio")
    assert f"conversation.item.truncate #{past.seq} cuts item item_g at audio_end_ms 450" in found.message
    assert "sent only 300 ms of audio for it" in found.message, found.message
    assert "(2,400 bytes of G.711 μ-law (8 kHz), its response's own format, in 3 audio deltas" in found.message
    assert "bytes played ÷ 8 for G.711 μ-law (8 kHz)" in found.fix and "(here 300 ms)" in found.fix, found.fix


def test_a_pcm16_response_in_a_g711_session_is_counted_at_48_bytes_a_millisecond() -> None:
    """The opposite: 300 ms of PCM16 read as μ-law was 1.8 s, and a truncate past it let through."""
    created = _created("resp_p", audio={"output": {"format": {"type": "audio/pcm", "rate": 24000}}})
    deltas = _deltas("response.output_audio.delta", "resp_p", "item_p", 4800, 3)
    session = received("session.created", session=_ga_pcmu_session())
    findings, _ = lint(session, created, *deltas, _truncate("item_p", 450))
    found = _one(findings, "truncate-past-audio")
    assert "sent only 300 ms of audio for it (14,400 bytes of 24 kHz mono PCM16, its response's own" in found.message
    assert "÷ 48 for 24 kHz mono PCM16" in found.fix


def test_a_beta_response_s_output_audio_format_is_read_too() -> None:
    created = _created("resp_b", modalities=["text", "audio"], output_audio_format="g711_ulaw")
    deltas = _deltas("response.audio.delta", "resp_b", "item_b", 800, 2)
    findings, _ = lint(beta_created(vad=False), created, *deltas, _truncate("item_b", 200))
    assert findings == [], [f.message for f in findings]
    findings, _ = lint(beta_created(vad=False), created, *deltas, _truncate("item_b", 201))
    assert (
        "sent only 200 ms of audio for it (1,600 bytes of G.711 μ-law (8 kHz)"
        in _one(findings, "truncate-past-audio").message
    )


def test_a_response_that_states_the_session_s_format_or_none_plays_the_session_s() -> None:
    """The format is the response's alone: the next response, stating none, is in the session's
    (here a G.711 session), and one stating the session's own format is not said to have chosen it."""
    session = received("session.created", session=_ga_pcmu_session())
    own = _created("resp_1", audio={"output": {"format": {"type": "audio/pcm"}}})
    own_deltas = _deltas("response.output_audio.delta", "resp_1", "item_1", 4800, 1)
    done = received("response.done", response={"id": "resp_1", "status": "completed"})
    plain = _created("resp_2")
    plain_deltas = _deltas("response.output_audio.delta", "resp_2", "item_2", 4800, 1)  # 600 ms of μ-law
    stating = _created("resp_3", audio={"output": {"format": PCMU}})
    stating_deltas = _deltas("response.output_audio.delta", "resp_3", "item_3", 800, 1)
    frames = (session, own, *own_deltas, done, plain, *plain_deltas, stating, *stating_deltas)
    findings, _ = lint(*frames, _truncate("item_1", 100), _truncate("item_2", 600), _truncate("item_3", 100))
    assert findings == [], [f.message for f in findings]
    findings, _ = lint(*frames, _truncate("item_1", 101), _truncate("item_2", 601), _truncate("item_3", 101))
    assert rules(findings) == ["truncate-past-audio"] * 3
    assert "(4,800 bytes of 24 kHz mono PCM16, its response's own format, in one" in findings[0].message
    assert "sent only 600 ms of audio for it (4,800 bytes in one audio delta" in findings[1].message
    assert "sent only 100 ms of audio for it (800 bytes in one audio delta" in findings[2].message


def test_an_out_of_band_response_s_own_format_counts_and_a_new_connection_forgets_it() -> None:
    oob = _created("resp_o", conversation_id=None, audio={"output": {"format": PCMU}})
    deltas = _deltas("response.output_audio.delta", "resp_o", "item_o", 800, 1)
    findings, _ = lint(ga_created(vad=False), oob, *deltas, _truncate("item_o", 100))
    assert findings == [], [f.message for f in findings]
    # The same response id on a new connection, stating nothing: 800 bytes of PCM16 are 16 ms.
    again = _deltas("response.output_audio.delta", "resp_o", "item_o", 800, 1)
    findings, _ = lint(
        ga_created(vad=False), oob, connecting(), ga_created(vad=False), *again, _truncate("item_o", 100)
    )
    assert "sent only 16 ms of audio" in _one(findings, "truncate-past-audio").message


def test_a_beta_session_in_g711_and_a_response_without_a_format() -> None:
    """Fallback: the session's own G.711, as before."""
    session = beta_session(vad=False)
    session["output_audio_format"] = "g711_alaw"
    deltas = _deltas("response.audio.delta", "resp_x", "item_x", 800, 1)
    findings, _ = lint(
        received("session.created", session=session), _created("resp_x"), *deltas, _truncate("item_x", 101)
    )
    assert "sent only 100 ms of audio for it (800 bytes in one" in _one(findings, "truncate-past-audio").message


def test_response_formats_are_forgotten_at_response_done_and_remembered_within_a_bound() -> None:
    """Each response.created states a format (the service's and the simulator's do): a long session
    keeps none past its response.done, and a log missing its dones keeps a bounded number."""
    pipeline = Pipeline(Journal())
    linter = Linter(pipeline.journal)
    pipeline.add(linter)
    said = {"audio": {"output": {"format": PCMU}}}
    answered = [(_created(f"r{n}", **said), received("response.done", response={"id": f"r{n}"})) for n in range(50)]
    pipeline.ingest([ga_created(vad=False), *(env for pair in answered for env in pair)])
    assert linter._responses._formats == {}
    pipeline.ingest([_created(f"u{n}", **said) for n in range(MAX_FORMATS_REMEMBERED + 10)])
    assert len(linter._responses._formats) == MAX_FORMATS_REMEMBERED
    assert f"u{MAX_FORMATS_REMEMBERED + 9}" in linter._responses._formats


# -- a real session with the simulator ----------------------------------------------------------


class _Recorder:
    """A raw client that keeps every frame both ways as envelopes."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Envelope] = []

    async def send(self, event: dict[str, Any]) -> Envelope:
        raw = json.dumps(event)
        await self.ws.send(raw)
        env = Envelope(next_seq(), Direction.OUT, event["type"], event, raw)
        self.frames.append(env)
        return env

    async def until(self, event_type: str) -> dict[str, Any]:
        async with asyncio.timeout(60):
            while True:
                raw = await self.ws.recv()
                assert isinstance(raw, str)
                data = json.loads(raw)
                self.frames.append(Envelope(next_seq(), Direction.IN, data["type"], data, raw))
                if data["type"] in (event_type, "error"):
                    return dict(data)


@pytest.mark.parametrize("dialect", [Dialect.GA, Dialect.BETA])
async def test_a_real_g711_response_in_a_pcm16_session(dialect: Dialect, tmp_path: Path) -> None:
    """The simulator speaks one response in μ-law in a 24 kHz PCM16 session: it takes a truncate
    just inside the audio, which the linter lets be, and refuses one past it, which the linter
    foretold with the length the server states (in process, and `rt-tui lint` on the export)."""
    beta = dialect is Dialect.BETA
    if beta:
        url_path, headers = "?model=gpt-4o-realtime-preview", {"OpenAI-Beta": "realtime=v1"}
        session: dict[str, Any] = {"turn_detection": None}
        response: dict[str, Any] = {"output_audio_format": "g711_ulaw"}
        delta_type = "response.audio.delta"
    else:
        url_path, headers = "?model=gpt-realtime", {}
        session = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        response = {"audio": {"output": {"format": dict(PCMU)}}}
        delta_type = "response.output_audio.delta"
    async with (
        running_simulator(dialect=dialect, response_speed=0) as sim,
        connect(sim.url + url_path, additional_headers=headers, max_size=64 * 2**20) as ws,
    ):
        client = _Recorder(ws)
        await client.until("session.created")
        await client.send({"type": "session.update", "session": session})
        updated = await client.until("session.updated")
        text = {"type": "input_text", "text": "tell me about the weather in London tomorrow"}
        item = {"type": "message", "role": "user", "content": [text]}
        await client.send({"type": "conversation.item.create", "item": item})
        await client.send({"type": "response.create", "response": response})
        done = await client.until("response.done")
        wire = sum(len(base64.b64decode(f.data["delta"])) for f in client.frames if f.type == delta_type)
        item_id = done["response"]["output"][0]["id"]
        assert wire // 8 > wire // 48 + 100  # read as PCM16, a truncate inside would be far past the audio
        # Past the audio first: the error states the item's whole length (a truncate shortens it).
        past = await client.send(_truncate_event(item_id, wire // 8 + 50))
        error = await client.until("conversation.item.truncated")
        await client.send(_truncate_event(item_id, wire // 8 - 5))
        truncated = await client.until("conversation.item.truncated")
    said = (
        updated["session"]["output_audio_format"] if beta else updated["session"]["audio"]["output"]["format"]["type"]
    )
    assert said in ("pcm16", "audio/pcm")  # the session's output stays 24 kHz PCM16
    assert error["type"] == "error", error
    assert truncated["type"] == "conversation.item.truncated", truncated
    stated = re.search(r"Audio content of (\d+)ms is already shorter", error["error"]["message"])
    assert stated, error
    findings = lint_envelopes(client.frames)
    assert rules(findings) == ["truncate-past-audio"], [f.message for f in findings]
    found = findings[0]
    length = duration(wire, PCMU_FORMAT)
    assert f"conversation.item.truncate #{past.seq} cuts item" in found.message
    assert f"sent only {length} of audio for it ({wire:,} bytes of G.711 μ-law (8 kHz)" in found.message
    # The server's count (its 24 kHz audio) and the linter's (8 kHz bytes) agree within a millisecond.
    here = re.search(r"\(here (\d+) ms\)", found.fix)
    assert here and abs(int(here.group(1)) - int(stated.group(1))) <= 1, (found.fix, error)
    assert " The server refused it: error #" in found.message  # its answer is folded in
    # `rt-tui lint` on the session's export says the same.
    pipeline = Pipeline(Journal(KEEP_EVERY_PAYLOAD))
    pipeline.ingest(client.frames)
    journal = pipeline.journal
    path = tmp_path / "session.jsonl"
    export_jsonl(journal, range(len(journal)), path)
    ran = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1, ran.stderr
    records = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [(r["rule"], r["message"], r["fix"]) for r in records] == [(found.rule, found.message, found.fix)]


def _truncate_event(item_id: str, end: int) -> dict[str, Any]:
    return {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": end}


# -- a truncate after the server's truncated: the item is only as long as its cut -------------------


def _truncated(item_id: str, end: int) -> Envelope:
    return received("conversation.item.truncated", item_id=item_id, content_index=0, audio_end_ms=end)


def test_a_truncate_past_an_earlier_cut_is_refused_though_within_the_audio_sent() -> None:
    deltas = _deltas("response.output_audio.delta", "resp_c", "item_c", 4800, 3)  # 300 ms of PCM16
    first = _truncate("item_c", 200)
    cut = _truncated("item_c", 200)
    frames = (ga_created(vad=False), _created("resp_c"), *deltas, first, cut)
    again = _truncate("item_c", 250)
    findings, _ = lint(*frames, again)
    found = _one(findings, "truncate-past-audio")
    assert found.message.startswith(
        f"conversation.item.truncate #{again.seq} cuts item item_c at audio_end_ms 250, but "
        f"conversation.item.truncated #{cut.seq} already cut it at 200 ms: it refuses the truncate"
    ), found.message
    assert "(here 200 ms)" in found.fix
    assert found.frames == (7, 6)
    # At or before the cut is taken; audio sent after the cut leaves the item's length unknown.
    findings, _ = lint(*frames, _truncate("item_c", 200), _truncated("item_c", 200), _truncate("item_c", 150))
    assert findings == [], [f.message for f in findings]
    more = _deltas("response.output_audio.delta", "resp_c", "item_c", 4800, 1)
    findings, _ = lint(*frames, *more, _truncate("item_c", 401))
    assert "sent only 400 ms of audio" in _one(findings, "truncate-past-audio").message


async def test_a_real_second_truncate_past_the_first_is_foretold_with_the_server_s_length() -> None:
    """The simulator keeps the first cut's audio and refuses a later truncate past it, stating that
    length; the linter said it when the truncate was sent (the error then folded into its finding)."""
    async with (
        running_simulator(response_speed=0) as sim,
        connect(sim.url + "?model=gpt-realtime", max_size=64 * 2**20) as ws,
    ):
        client = _Recorder(ws)
        await client.until("session.created")
        text = {"type": "input_text", "text": "tell me about the weather in London tomorrow"}
        await client.send(
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [text]}}
        )
        await client.send({"type": "response.create"})
        done = await client.until("response.done")
        wire = sum(
            len(base64.b64decode(f.data["delta"])) for f in client.frames if f.type == "response.output_audio.delta"
        )
        item_id = done["response"]["output"][0]["id"]
        assert wire // 48 > 1500
        await client.send(_truncate_event(item_id, 1000))
        truncated = await client.until("conversation.item.truncated")
        again = await client.send(_truncate_event(item_id, 1200))
        error = await client.until("conversation.item.truncated")
    assert truncated["type"] == "conversation.item.truncated", truncated
    assert (
        error["type"] == "error"
        and "Audio content of 1000ms is already shorter than 1200ms" in error["error"]["message"]
    )
    findings = lint_envelopes(client.frames)
    assert rules(findings) == ["truncate-past-audio"], [f.message for f in findings]
    assert f"conversation.item.truncate #{again.seq} cuts item" in findings[0].message
    assert "already cut it at 1000 ms" in findings[0].message
    assert "The server refused it: error #" in findings[0].message
