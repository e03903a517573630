"""An export without audio, replayed, shows the sizes of the session's audio (round 20).

Such an export replaces each audio payload by a size tag (`[audio 175.4 KB · 3.74 s]`). Read as
base64, a tag's own characters made 3.74 s of speech `[audio 18 B · 0 ms]`, and a run of appends
`[audio 305 B · 0.01 s]`. A real session (`rt-tui send --local`, and raw client events against the
real simulator) is exported with the real export function, read back by the replay's reader, and
every size the log shows (a frame's summary, a run's total) must be the session's, within the
tag's precision.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from websockets.asyncio.client import ClientConnection

from tests.app_helpers import replay_shown
from tests.journal_helpers import frame
from tests.server_helpers import b64, client, recv_until, running_simulator, send, speech_pcm24
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Journal, LogView, PayloadPolicy, Pipeline
from tui.journal.export import export_jsonl
from tui.model import KEEP_EVERY_PAYLOAD
from tui.protocol import Direction, Envelope
from tui.protocol.summary import audio_span_bytes, audio_tag, audio_tag_bytes
from tui.replay import ReplayRequest, load
from tui.widgets.log_format import frame_summary, row_text

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))

_SHOWN = re.compile(r"\[audio (\d+(?:\.\d)?) (K?B) · (\d+(?:\.\d+)?) (m?s)\]")
"""An audio size as the log shows it: a frame's tag, or a run's total (seconds to 2 places)."""

TOLERANCE = 0.022
"""How far a tag's size may read back from the bytes it was made from (`audio_tag_bytes`)."""


def _shown_sizes(line: str) -> tuple[str, list[tuple[float, float]]]:
    """The line with its audio sizes taken out, and each size as (bytes, seconds)."""
    sizes = [
        (float(size) * (1024 if unit == "KB" else 1), float(length) / (1000 if length_unit == "ms" else 1))
        for size, unit, length, length_unit in _SHOWN.findall(line)
    ]
    return _SHOWN.sub("[audio]", line), sizes


def assert_same_sizes(session: list[str], export: list[str]) -> int:
    """Each line of the export's log reads as the session's, its audio sizes within the tag's
    precision (and the rounding of what is shown: 0.05 KB, 5 ms); returns how many sizes."""
    assert len(session) == len(export)
    compared = 0
    for want, got in zip(session, export, strict=True):
        (want_text, want_sizes), (got_text, got_sizes) = _shown_sizes(want), _shown_sizes(got)
        assert got_text == want_text, (want, got)
        assert len(got_sizes) == len(want_sizes), (want, got)
        for (want_bytes, want_s), (got_bytes, got_s) in zip(want_sizes, got_sizes, strict=True):
            assert abs(got_bytes - want_bytes) <= TOLERANCE * want_bytes + 52, (want, got)
            assert abs(got_s - want_s) <= TOLERANCE * want_s + 0.011, (want, got)
            compared += 1
    return compared


def log_lines(journal: Journal) -> list[str]:
    """Every line the log can show: each row (a run collapsed, with its total) and each frame."""
    view = LogView(journal)
    view.catch_up()
    rows = [row_text(view, row) for row in view.rows]
    return rows + [frame_summary(journal, None, journal[i]) for i in range(len(journal))]


def journal_of(envelopes: Iterable[Envelope], policy: PayloadPolicy = KEEP_EVERY_PAYLOAD) -> Journal:
    pipeline = Pipeline(Journal(policy))
    pipeline.ingest(envelopes)
    return pipeline.journal


def export_without_audio(journal: Journal, path: Path) -> Path:
    export_jsonl(journal, range(len(journal)), path, keep_audio=False)
    assert '"elided":"audio"' in path.read_text()
    return path


def sent_session(tmp_path: Path) -> Path:
    """A real session's capture: `rt-tui send --local` with a spoken WAV."""
    wav = tmp_path / "said.wav"
    samples = np.frombuffer(speech_pcm24("what is the weather like today"), dtype="<i2")
    soundfile.write(wav, samples, 24000, subtype="PCM_16")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_URL", "RT_TUI_API_KEY")}
    env["RT_TUI_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([RT_TUI, "send", "--local", str(wav)], capture_output=True, text=True, env=env, timeout=120)
    assert "assistant:" in done.stdout, done.stderr
    (capture,) = (tmp_path / "data" / "sessions").glob("*/frames.jsonl")
    return capture


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real session for the tests that read it (each `rt-tui send` takes seconds)."""
    return sent_session(tmp_path_factory.mktemp("sent"))


def test_a_replayed_export_without_audio_shows_the_sessions_audio_sizes(tmp_path: Path, capture: Path) -> None:
    """Appends and a reply's deltas: every frame's tag and every run's total, as in the session."""
    session = journal_of(load(capture).envelopes)
    bare = journal_of(load(export_without_audio(session, tmp_path / "bare.jsonl")).envelopes)
    want, got = log_lines(session), log_lines(bare)
    assert any("input_audio_buffer.append ×" in line and "KB" in line for line in got)
    assert assert_same_sizes(want, got) >= 3

    # The same file passed through a tool that writes ASCII escapes (`\u00b7` for the tag's `·`).
    escaped = tmp_path / "escaped.jsonl"
    lines = (tmp_path / "bare.jsonl").read_text().splitlines()
    escaped.write_text("".join(json.dumps(json.loads(line)) + "\n" for line in lines))
    assert "\\u00b7" in escaped.read_text()
    assert_same_sizes(want, log_lines(journal_of(load(escaped).envelopes)))


def test_audio_the_journal_dropped_from_an_export_counts_as_its_tag_says(tmp_path: Path, capture: Path) -> None:
    """A live journal drops old audio payloads and keeps their length: a tag's is the audio it
    stands for, not its own characters (a proxied client may send an export's frames again)."""
    session = journal_of(load(capture).envelopes)
    export = export_without_audio(session, tmp_path / "bare.jsonl")
    tiny = PayloadPolicy(large_budget_bytes=1)  # every audio frame but the last leaves memory
    dropped_session = journal_of(list(_envelopes(session)), tiny)
    dropped_export = journal_of(load(export).envelopes, tiny)
    assert dropped_export.payloads_dropped > 10
    assert assert_same_sizes(log_lines(dropped_session), log_lines(dropped_export)) >= 3


def _envelopes(journal: Journal) -> Iterator[Envelope]:
    for index in range(len(journal)):
        yield journal.envelope(index)


async def test_audio_in_items_and_a_retrieved_item_read_back_as_their_size(tmp_path: Path) -> None:
    """Audio sent with conversation.item.create and the server's retrieved item (raw client events
    against the real simulator): their summaries name the audio's size, not the tag's."""
    said = b64(speech_pcm24("hello there"))
    envelopes: list[Envelope] = []

    async def out(ws: ClientConnection, event: dict[str, Any]) -> None:
        envelopes.append(frame(Direction.OUT, event))
        await send(ws, event)

    async with running_simulator() as simulator, client(simulator.url) as ws:
        item = {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": said}]}
        await out(ws, {"type": "conversation.item.create", "event_id": "evt_item", "item": {"id": "item_a", **item}})
        received = await recv_until(ws, "conversation.item.added")
        await out(ws, {"type": "conversation.item.retrieve", "event_id": "evt_get", "item_id": "item_a"})
        received += await recv_until(ws, "conversation.item.retrieved")
    envelopes += [frame(Direction.IN, event) for event in received]
    session = journal_of(envelopes)
    bare = journal_of(load(export_without_audio(session, tmp_path / "bare.jsonl")).envelopes)
    want, got = log_lines(session), log_lines(bare)
    assert sum(audio_tag(said) in line for line in got) >= 2, got  # the create and the retrieved item
    assert assert_same_sizes(want, got) >= 4


def test_a_tag_s_span_in_wire_text_reads_as_its_bytes() -> None:
    """What a run's total and a dropped frame read from the wire text: the tag's bytes, escaped or
    not; base64 (and a longer text that merely opens like a tag) by its length."""
    tag = audio_tag("A" * 233_868)
    for raw in (json.dumps({"audio": tag}, ensure_ascii=False), json.dumps({"audio": tag})):
        start = raw.index('"audio": "') + len('"audio": "')
        assert audio_span_bytes(raw, start, len(raw) - 2) == audio_tag_bytes(tag)
    raw = '{"audio":"AAAAAAAA"}'
    assert audio_span_bytes(raw, 10, 18) == 6
    odd = "[audio " + "x" * 60
    assert audio_span_bytes(f'"{odd}"', 1, 1 + len(odd)) == len(odd) * 3 // 4


async def test_the_app_replaying_its_own_export_without_audio_shows_the_sessions_sizes(
    tmp_path: Path, capture: Path
) -> None:
    """Through the app: a replay of the session, exported with the app's own export (audio replaced
    by tags), then that export replayed: the log's lines read the same sizes."""
    bare = tmp_path / "bare.jsonl"
    shown: list[list[str]] = []
    for recording, export in ((capture, True), (bare, False)):
        app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(recording)))
        async with app.run_test(size=(160, 40)) as pilot:
            await replay_shown(pilot, app, timeout=30)
            view = app.event_log.view
            shown.append([row_text(view, row) for row in view.rows])
            if export:  # the app's own export: a thread worker, waited for (the file whole before it is read)
                await app.export_frames(bare, keep_audio=False).wait()
    # The rows with sizes: the run of appends, and the reply's deltas (one run, or more when the user's
    # transcript lands between them: how many depends on the recognizer's pace, so not counted here).
    assert any("input_audio_buffer.append ×" in line and "KB" in line for line in shown[1])
    assert any("response deltas ×" in line and "KB" in line for line in shown[1])
    assert assert_same_sizes(shown[0], shown[1]) >= 2
