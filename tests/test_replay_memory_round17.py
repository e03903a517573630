"""A replay holds its recording lean: no frame's parsed copy beside its wire text for the whole run.

An hour's capture replayed took 1 GB: the player held every envelope parsed, so each audio frame's
base64 was in memory twice (the wire text, which the journal keeps, and the parsed `delta`/`audio`).
Now a recording is read lean (`lean_envelope`) and each frame is parsed again as it is played
(`hydrated`): these tests hold that the player keeps no parsed copy once it has played at once, and
that whatever reads a frame (details, `d`, `y`, the export with audio, `r`, `--json`, timed
playback, every kind of recording) gets the same frame as before.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from textual.containers import VerticalScroll

from tests.app_helpers import notices, typed_turn_done, views_settled, wait_for
from tests.test_replay_inputs import write_capture
from tui import replay_cmd
from tui.app import RtApp
from tui.bus import Bus, Mode, Topic
from tui.config import Settings, TargetChoice
from tui.protocol import Envelope
from tui.protocol.events import AUDIO_FIELDS
from tui.replay import ReplayPlayer, ReplayRequest, load
from tui.replay.lean import UNPARSED, Frames, hydrated
from tui.replay.sources import with_notes_as_facts
from tui.widgets import EventDetail

GOLDEN = Path(__file__).parent / "golden" / "replay"
HAR = GOLDEN / "devtools.har"
OWN_LOGGING = GOLDEN / "own-logging.jsonl"
RT_TUI = str(Path(sys.executable).parent / "rt-tui")


def appends_log(path: Path, count: int = 30) -> list[str]:
    """A log of one event per line: `count` appends 10 ms apart (base64 of distinct PCM, each in a
    wrapper that times it), a commit and a transcript delta with escapes (kept whole), each a bare
    event; returns the appends' base64."""
    audios = [base64.b64encode(bytes([n]) * 4800).decode() for n in range(count)]
    lines = [
        json.dumps({"event": {"type": "input_audio_buffer.append", "audio": audio}, "time_ms": 1_000 + 10 * n})
        for n, audio in enumerate(audios)
    ]
    lines.append(json.dumps({"type": "input_audio_buffer.commit"}))
    lines.append(json.dumps({"type": "response.output_text.delta", "delta": 'say "hi"\n'}))
    path.write_text("\n".join(lines) + "\n")
    return audios


def whole(envelopes: Iterable[Envelope]) -> list[tuple[object, ...]]:
    """What a subscriber reads of each envelope."""
    return [(e.seq, e.direction, e.type, e.data, e.raw, e.mono, e.wall, e.size, e.binary) for e in envelopes]


def json_array(source: Path, path: Path) -> Path:
    """The events of a JSONL log as one JSON array (`json.dump(events, f)`)."""
    path.write_text(json.dumps([json.loads(line) for line in source.read_text().splitlines() if line.strip()]))
    return path


@pytest.mark.parametrize("kind", ["capture", "har", "jsonl", "json", "appends"])
def test_a_lean_recording_plays_the_frames_a_whole_one_does(kind: str, tmp_path: Path) -> None:
    """Every kind of recording, read lean and parsed again as played, gives every subscriber the
    same envelopes as read whole; its audio frames are held without their parsed copy."""
    appends = tmp_path / "appends.jsonl"
    appends_log(appends)
    path = {
        "capture": write_capture([*load(appends).envelopes, *load(HAR).envelopes], tmp_path / "frames.jsonl"),
        "har": HAR,
        "jsonl": OWN_LOGGING,
        "json": json_array(appends, tmp_path / "events.json"),
        "appends": appends,
    }[kind]
    lean = load(path, lean=True)
    assert isinstance(lean.envelopes, Frames)  # in columns, not an object per frame
    assert whole(list(hydrated(lean.envelopes))) == whole(load(path).envelopes)
    audio = [env for env in lean.envelopes if env.type in AUDIO_FIELDS]
    assert kind in ("har", "jsonl") or audio  # the golden files hold one append at most
    assert all(env.data is UNPARSED for env in audio)
    # A frame whose text holds an escape is kept parsed (the parsers may read it differently).
    escaped = [env for env in lean.envelopes if "\\" in env.raw and env.direction.value != "local"]
    assert all(env.data is not UNPARSED and env.data for env in escaped)


def test_the_replay_command_reads_recordings_lean(tmp_path: Path) -> None:
    """`rt-tui replay` and `lint` read through `_load`: lean, or the app would hold every parsed copy."""
    path = tmp_path / "appends.jsonl"
    appends_log(path)
    recording = replay_cmd._load(str(path), "replay")
    assert recording is not None
    assert [env.data is UNPARSED for env in recording.envelopes if env.type in AUDIO_FIELDS] == [True] * 30


async def test_timed_playback_with_pause_and_speed_publishes_lean_frames_whole(tmp_path: Path) -> None:
    """Timed playback, paused in a silence and resumed faster, publishes each lean frame whole."""
    path = tmp_path / "appends.jsonl"
    audios = appends_log(path)
    # A minute's silence after the fifth frame: the player is waiting in it when paused.
    envelopes = [
        dataclasses.replace(env, mono=env.mono + 60 * (n >= 5)) for n, env in enumerate(load(path, lean=True).envelopes)
    ]
    bus = Bus()
    topic: Topic[Envelope] = Topic("frames")
    subscription = bus.subscribe(topic, Mode.LOSSLESS)
    player = ReplayPlayer(envelopes, bus, topic, speed=1.0)
    task = asyncio.create_task(player.run())
    while player.position < 5:
        await asyncio.sleep(0)
    player.pause()
    got = subscription.drain()
    assert player.position == len(got) == 5 and player.paused
    player.speed = 64.0  # the minute in under a second
    player.resume()
    await asyncio.wait_for(player.done.wait(), 10)
    await task
    got += subscription.drain()
    expected = [dataclasses.replace(env, mono=env.mono + 60 * (n >= 5)) for n, env in enumerate(load(path).envelopes)]
    assert whole(got) == whole(expected)
    assert [env.data["audio"] for env in got if env.type == "input_audio_buffer.append"] == audios
    assert all(env.data is UNPARSED for env in player.envelopes if env.type in AUDIO_FIELDS)


async def test_a_replayed_capture_holds_no_parsed_audio_and_every_view_still_has_it(
    tmp_path: Path, simulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real capture of a spoken reply, replayed at once as `rt-tui replay` reads it: the player and
    the recording hold no parsed copy of an audio frame, and the details, `d` on the reply's run,
    `y`, the export with audio, `r` and `--json` all still have every byte of its audio."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "live"))
    live = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with live.run_test(size=(140, 40)) as pilot:
        await typed_turn_done(pilot, live, "turn on the kitchen lights")
    [capture] = (tmp_path / "live" / "sessions").glob("*/frames.jsonl")
    recorded = [json.loads(line) for line in capture.read_text().splitlines()]
    deltas = [r["frame"]["delta"] for r in recorded if r["type"] == "response.output_audio.delta"]
    assert deltas

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "replay"))
    recording = replay_cmd._load(str(capture), "replay")
    assert recording is not None
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(with_notes_as_facts(recording)))
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        assert app.player is not None and app.replay is not None
        await wait_for(pilot, app.player.done.is_set, 30, "the replay")
        await views_settled(pilot, app)
        for held in (app.player.envelopes, app.replay.recording.envelopes):
            audio = [env for env in held if env.type in AUDIO_FIELDS]
            assert len(audio) == len(deltas) and all("delta" not in env.data for env in audio)
        journal = app.journal
        played = [i for i in range(len(journal)) if journal[i].type == "response.output_audio.delta"]
        assert [journal.data(i)["delta"] for i in played] == deltas  # what the details view shows

        [run] = [row for row in app.log_view.rows if row.key is not None and row.key[0] == "response"]
        audio_in_run = sum(journal[i].type == "response.output_audio.delta" for i in run.members)
        app.event_log.focus()
        app.event_log.select_line(app.log_view.line_of(run))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the run's details")
        assert f"audio ×{audio_in_run}" in str(app.screen.query_one(VerticalScroll).border_title)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, EventDetail), 5, "the log again")
        await pilot.press("y")
        await wait_for(pilot, lambda: any("copied" in text for _, text in notices(app)), 5, "the copy")

        out = tmp_path / "export.jsonl"
        app.export_frames(out, keep_audio=True)
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == len(journal), 30, "the export")

        first_play = app.journal
        await pilot.press("r")
        again = lambda: app.journal is not first_play and app.player is not None and app.player.done.is_set()  # noqa: E731
        await wait_for(pilot, again, 30, "the replay again")
        await views_settled(pilot, app)
        replayed = [i for i in range(len(app.journal)) if app.journal[i].type == "response.output_audio.delta"]
        assert [app.journal.data(i)["delta"] for i in replayed] == deltas
        assert all("delta" not in env.data for env in app.player.envelopes if env.type in AUDIO_FIELDS)

    [saved] = (tmp_path / "replay" / "saved").iterdir()
    copied = [frame for frame in json.loads(saved.read_text()) if frame["type"] == "response.output_audio.delta"]
    assert len(copied) == audio_in_run and all(frame["delta"] in deltas for frame in copied)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["frame"]["delta"] for r in exported if r["type"] == "response.output_audio.delta"] == deltas

    printed = subprocess.run([RT_TUI, "replay", "--json", str(capture)], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert [r["frame"]["delta"] for r in lines if r["type"] == "response.output_audio.delta"] == deltas


def test_a_lean_recording_s_notes_become_its_last_facts_without_changing_it(tmp_path: Path) -> None:
    """A capture cut short mid-line, read lean: the note is its last fact in the app (the columns
    copied, the recording read left as it was), and its frames read by index as in a list."""
    path = tmp_path / "frames.jsonl"
    appends = tmp_path / "appends.jsonl"
    audios = appends_log(appends)
    write_capture(load(appends).envelopes, path)
    with path.open("ab") as file:
        file.write(b'{"seq":99,"dir":"in"')  # the writer stopped mid-line
    recording = load(path, lean=True)
    frames = recording.envelopes
    assert isinstance(frames, Frames) and len(frames) == len(audios) + 2 and recording.notes
    shown = with_notes_as_facts(recording)
    assert isinstance(shown.envelopes, Frames) and len(recording.envelopes) == len(frames)
    assert [env.type for env in shown.envelopes[-2:]] == ["response.output_text.delta", "rt.capture"]
    assert shown.envelopes[-1].data["message"] == recording.notes[0]
    assert frames[-1] == frames[len(frames) - 1] and frames[1:3] == [frames[1], frames[2]]
    assert [env.data["audio"] for env in hydrated(shown.envelopes) if env.type in AUDIO_FIELDS] == audios
    with pytest.raises(IndexError):
        frames[len(frames)]


def test_the_shared_unparsed_data_refuses_to_be_written() -> None:
    """Every lean frame's data is the one `UNPARSED`: a write to one would be a write to all."""
    from tui.replay.lean import UNPARSED

    for write in (
        lambda: UNPARSED.__setitem__("type", "x"),
        lambda: UNPARSED.update(type="x"),
        lambda: UNPARSED.setdefault("type", "x"),
    ):
        with pytest.raises(TypeError):
            write()
    assert UNPARSED == {}
