"""Audio lengths in the session's own format, not always 24 kHz PCM16 (round 20).

A G.711 session (`audio/pcmu`, `audio/pcma`; beta `g711_ulaw`, `g711_alaw`: 8 kHz, 8 bytes per
ms), as every Twilio voice agent runs, showed its audio 6x too short in the log: 6,400 bytes read
`133 ms`, while the linter, which uses the session's input format, said 800 ms. A real session
against the simulator with `audio/pcmu` both ways is read by the real log, detail view, run
totals and export; the export without audio is linted by `rt-tui lint --json` as the session is.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.app_helpers import replay_shown
from tests.journal_helpers import frame, received, sent
from tests.server_helpers import b64, recv_until, running_simulator, send, speech_pcm24
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Journal, LogView, Pipeline
from tui.journal.export import export_jsonl
from tui.journal.facts import audio_rates_at
from tui.model import KEEP_EVERY_PAYLOAD
from tui.protocol import Direction, Envelope
from tui.protocol.redact import redact
from tui.protocol.summary import AudioRates, audio_size_tag, audio_tag_bytes, is_audio_tag, session_rates
from tui.replay import ReplayRequest, load
from tui.server import g711
from tui.widgets.log_format import frame_summary, row_text

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))

SPOKEN = 6400
"""Bytes of G.711 appended: 800 ms at 8 bytes per ms (133 ms read as 24 kHz PCM16)."""

PCMU = {"type": "audio/pcmu"}


def _ulaw_speech() -> bytes:
    """800 ms of real speech as G.711 μ-law (every third 24 kHz sample is enough for a length)."""
    samples = np.frombuffer(speech_pcm24("what is the weather like today"), dtype="<i2")[::3]
    return g711.ulaw_encode(np.resize(samples, SPOKEN).astype(np.int16))


async def _pcmu_session() -> list[Envelope]:
    """A real session: session.update to audio/pcmu both ways, 800 ms appended, a reply."""
    envelopes: list[Envelope] = []

    async def out(ws: ClientConnection, event: dict[str, Any]) -> None:
        envelopes.append(frame(Direction.OUT, event))
        await send(ws, event)

    async def until(ws: ClientConnection, event_type: str) -> None:
        envelopes.extend(frame(Direction.IN, event) for event in await recv_until(ws, event_type, timeout=60))

    async with running_simulator() as simulator:
        async with connect(f"{simulator.url}?model=gpt-realtime", compression=None, max_size=2**26) as ws:
            await until(ws, "session.created")
            audio_in = {"format": PCMU, "turn_detection": None, "transcription": None}
            audio = {"input": audio_in, "output": {"format": PCMU}}
            await out(ws, {"type": "session.update", "session": {"type": "realtime", "audio": audio}})
            await until(ws, "session.updated")
            await out(ws, {"type": "input_audio_buffer.append", "event_id": "evt_said", "audio": b64(_ulaw_speech())})
            await out(ws, {"type": "input_audio_buffer.commit"})
            await out(ws, {"type": "response.create"})
            await until(ws, "response.done")
    return envelopes


def _journal(envelopes: list[Envelope]) -> Journal:
    pipeline = Pipeline(Journal(KEEP_EVERY_PAYLOAD))
    pipeline.ingest(envelopes)
    return pipeline.journal


@pytest.fixture(scope="module")
def session() -> list[Envelope]:
    """One real G.711 session for the tests that read it."""
    return asyncio.run(_pcmu_session())


def _recorded(journal: Journal, tmp_path: Path) -> Path:
    """The session written to a file as the log's export does, audio kept: a recording to replay."""
    recording = tmp_path / "session.jsonl"
    export_jsonl(journal, range(len(journal)), recording, keep_audio=True)
    return recording


def _index(journal: Journal, etype: str) -> int:
    return next(i for i in range(len(journal)) if journal.type_at(i) == etype)


def _reply_bytes(journal: Journal) -> int:
    """The reply's audio as a run's total counts it (3 bytes per 4 base64 characters, padding too)."""
    deltas = [journal.data(i) for i in range(len(journal)) if journal.type_at(i) == "response.output_audio.delta"]
    assert deltas
    counted = sum(len(d["delta"]) * 3 // 4 for d in deltas)
    assert abs(counted - sum(len(base64.b64decode(d["delta"])) for d in deltas)) <= 2 * len(deltas)
    return counted


def test_a_g711_session_s_rows_runs_and_detail_say_its_length(session: list[Envelope]) -> None:
    """The append's row, the reply's run total and the detail view's tag: 8 bytes per ms."""
    journal = _journal(session)
    append = _index(journal, "input_audio_buffer.append")
    assert frame_summary(journal, None, journal[append]) == "[audio 6.2 KB · 800 ms · g711]"
    shown = redact(journal.data(append), rates=audio_rates_at(journal, append))
    assert shown["audio"] == "[audio 6.2 KB · 800 ms · g711]"
    # The reply's deltas (re-encoded by the simulator to μ-law): their run's total at 8 bytes per ms.
    view = LogView(journal)
    view.catch_up()
    (run,) = [row_text(view, row) for row in view.rows if "response deltas" in row_text(view, row)]
    reply = _reply_bytes(journal)
    assert f"· {reply / 8000:.2f} s · g711]" in run, run
    delta = _index(journal, "response.output_audio.delta")
    assert frame_summary(journal, None, journal[delta]).endswith(" ms · g711]")
    # Before the update the session was 24 kHz PCM16: the default, unnamed.
    assert audio_rates_at(journal, _index(journal, "session.updated")) == AudioRates(48, 48)
    assert audio_rates_at(journal, append) == AudioRates(8, 8)


def _lint(path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_URL", "RT_TUI_API_KEY")}
    done = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return [json.loads(line)["message"] for line in done.stdout.splitlines()]


def test_an_export_without_audio_lints_as_the_session(session: list[Envelope], tmp_path: Path) -> None:
    """The tags name G.711, so the linter reads them back as the bytes they were: the same
    durations as the session itself (an unnamed tag read `133 ms` back as 799 ms)."""
    journal = _journal(session)
    whole, bare = tmp_path / "whole.jsonl", tmp_path / "bare.jsonl"
    export_jsonl(journal, range(len(journal)), whole, keep_audio=True)
    export_jsonl(journal, range(len(journal)), bare, keep_audio=False)
    assert "[audio 6.2 KB · 800 ms · g711]" in bare.read_text()
    live, exported = _lint(whole), _lint(bare)
    assert any("800 ms" in message for message in live), live
    assert exported == live


async def test_the_app_s_event_log_shows_g711_lengths(session: list[Envelope], tmp_path: Path) -> None:
    """Through the app: the session replayed, the real EventLog's rows say 800 ms."""
    journal = _journal(session)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(_recorded(journal, tmp_path))))
    async with app.run_test(size=(160, 40)) as pilot:
        await replay_shown(pilot, app, timeout=30)
        view = app.event_log.view
        rows = [row_text(view, row) for row in view.rows]
    assert any("[audio 6.2 KB · 800 ms · g711]" in row for row in rows), rows
    assert any(f"{_reply_bytes(journal) / 8000:.2f} s · g711]" in row for row in rows), rows


def _old_size_tag(nbytes: int) -> str:
    """`audio_size_tag` as it was before formats (24 kHz PCM16 always)."""
    ms = nbytes // 48
    size = f"{nbytes / 1024:.1f} KB" if nbytes >= 1024 else f"{nbytes} B"
    length = f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms} ms"
    return f"[audio {size} · {length}]"


def _old_tag_bytes(tag: str) -> int:
    """`audio_tag_bytes` as it was before formats."""
    size, unit, _, length, length_unit = tag[len("[audio ") : -1].split(" ")
    if unit == "B":
        return int(size)
    kilobytes = float(size)
    low, high = (kilobytes - 0.05) * 1024, (kilobytes + 0.05) * 1024
    if length_unit == "s":
        first_ms, past_ms = float(length) * 1000 - 5, float(length) * 1000 + 5
    else:
        first_ms, past_ms = float(length), float(length) + 1
    low, high = max(low, first_ms * 48), min(high, past_ms * 48 - 1)
    return round((low + high) / 2) if low <= high else round(kilobytes * 1024)


def test_24_khz_tags_read_as_before_and_g711_tags_read_back_their_bytes() -> None:
    """Tags already written (no name) read as before, to the whole PCM16 sample (2 bytes); a G.711
    tag reads back within a ms."""
    for nbytes in [*range(0, 5000, 7), *range(5000, 3_000_000, 4999)]:
        old = _old_size_tag(nbytes)
        assert audio_size_tag(nbytes) == old
        read = audio_tag_bytes(old)
        assert read is not None and abs(read - _old_tag_bytes(old)) <= 1, (old, read)
        assert nbytes < 1024 or read % 2 == 0, (old, read)  # under 1 KB the tag says the bytes exactly
        tag = audio_size_tag(nbytes, 8)
        assert tag.endswith(" · g711]") and is_audio_tag(tag)
        said = audio_tag_bytes(tag)
        assert said is not None
        if nbytes < 8000:
            assert said // 8 == nbytes // 8, (tag, said, nbytes)  # the same ms the session's lint says
        else:
            assert abs(said - nbytes) <= 0.022 * nbytes, (tag, said, nbytes)
    assert not is_audio_tag("[audio 6.2 KB · 800 ms · opus]")


def test_beta_formats_and_a_new_connection() -> None:
    """Beta `g711_alaw` strings count as G.711; a new connection starts at the default again."""
    assert session_rates({"input_audio_format": "g711_alaw", "output_audio_format": "pcm16"}) == AudioRates(8, 48)
    assert session_rates({"audio": {"output": {"format": {"type": "audio/pcma"}}}}) == AudioRates(48, 8)
    envelopes = [
        frame(Direction.LOCAL, {"type": "rt.connection", "state": "connecting"}),
        received("session.created", session={"input_audio_format": "g711_ulaw", "output_audio_format": "g711_ulaw"}),
        sent("input_audio_buffer.append", audio="A" * 1068),
        received("response.audio.delta", response_id="resp_1", item_id="item_1", delta="A" * 1068),
        frame(Direction.LOCAL, {"type": "rt.connection", "state": "connecting"}),
        sent("input_audio_buffer.append", audio="A" * 1068),
    ]
    journal = _journal(envelopes)
    assert frame_summary(journal, None, journal[2]) == "[audio 801 B · 100 ms · g711]"
    assert frame_summary(journal, None, journal[3]) == "[audio 801 B · 100 ms · g711]"
    assert frame_summary(journal, None, journal[5]) == "[audio 801 B · 16 ms]"


async def test_a_response_that_asks_for_g711_has_its_deltas_measured_so() -> None:
    """A 24 kHz session whose `response.create` asks for `audio/pcmu` output (the simulator
    re-encodes that response): its deltas are G.711, the session's appends stay PCM16."""
    envelopes: list[Envelope] = []
    async with running_simulator() as simulator:
        async with connect(f"{simulator.url}?model=gpt-realtime", compression=None, max_size=2**26) as ws:
            envelopes += [frame(Direction.IN, e) for e in await recv_until(ws, "session.created")]
            ask = {"type": "response.create", "response": {"audio": {"output": {"format": PCMU}}}}
            envelopes.append(frame(Direction.OUT, ask))
            await send(ws, ask)
            envelopes += [frame(Direction.IN, e) for e in await recv_until(ws, "response.done", timeout=60)]
    envelopes.append(sent("input_audio_buffer.append", audio="A" * 6400))
    journal = _journal(envelopes)
    delta = _index(journal, "response.output_audio.delta")
    size = len(base64.b64decode(journal.data(delta)["delta"]))
    assert frame_summary(journal, None, journal[delta]) == audio_size_tag(size, 8)
    assert frame_summary(journal, None, journal[len(journal) - 1]) == "[audio 4.7 KB · 100 ms]"


def test_a_filtered_export_of_g711_deltas_keeps_their_length(session: list[Envelope], tmp_path: Path) -> None:
    """An export without audio of the reply's deltas alone (no session event in the file): the
    tags name G.711, so the run's total is G.711's too."""
    journal = _journal(session)
    deltas = [i for i in range(len(journal)) if journal.type_at(i) == "response.output_audio.delta"]
    bare = tmp_path / "deltas.jsonl"
    export_jsonl(journal, deltas, bare, keep_audio=False)
    replayed = _journal(list(load(bare).envelopes))
    view = LogView(replayed)
    view.catch_up()
    (run,) = [row_text(view, row) for row in view.rows]
    total = float(run.split("[audio ")[1].split(" · ")[1].removesuffix(" s"))
    assert " · g711]" in run, run
    assert abs(total - _reply_bytes(journal) / 8000) <= 0.022 * total + 0.011, run


async def test_the_detail_view_of_a_g711_append_says_its_length(session: list[Envelope], tmp_path: Path) -> None:
    """Helper: the log row said 800 ms and the detail view of the same append 133 ms."""
    from tui.widgets import EventDetail

    journal = _journal(session)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(_recorded(journal, tmp_path))))
    async with app.run_test(size=(160, 40)) as pilot:
        await replay_shown(pilot, app, timeout=30)
        index = _index(app.journal, "input_audio_buffer.append")
        detail = EventDetail(app.journal, app.links, [index], app.recover_payload)
        shown = "".join(str(part) for part in detail._frame(index) if hasattr(part, "plain"))
        assert "800 ms · g711" in shown and "133 ms" not in shown
