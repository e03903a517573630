"""A replayed capture file is the store of its frames' text: the recording holds where each frame
lies in the file, and the journal drops old payloads and reads them back from it, as a live session's
capture does. An hour's replay held the file's 396 MB for its whole run (review 58c: 533 MB of RSS).

Real captures, written by the capture's own writer, read by the replay's reader and played by the app."""

from __future__ import annotations

import base64
import codecs
import dataclasses
import gc
import json
from pathlib import Path

import pytest

from tests.app_helpers import views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings
from tui.journal import PayloadPolicy, store
from tui.journal.export import recover_payloads
from tui.protocol import DIR_IN, DIR_OUT, Direction, Envelope, local_envelope, parse
from tui.replay import ReplayRequest, load, load_many
from tui.replay.lean import FileText, Frames, RecordingChanged, hydrated
from tui.replay.sources import KEY_ENVIRONMENT, with_notes_as_facts
from tui.session.capture import CaptureWriter

APPENDS = 30
CHUNK = 120_000
"""Bytes of PCM per append: 30 of them, base64, are 4.8 MB, past the 1 MiB budget the tests set."""


@pytest.fixture(autouse=True)
def no_user_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def frame(seq: int, direction: Direction, data: dict[str, object]) -> Envelope:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Envelope(seq, direction, str(data["type"]), parse(text), text, seq * 0.02, 1.7e9 + seq * 0.02)


def session_frames() -> tuple[list[Envelope], list[str]]:
    """A session's frames of every kind a capture line holds: plain ones, audio, text that is not ASCII,
    text with escapes (kept whole: `can_be_lean`), a frame that is not JSON, a local fact; and each
    append's base64."""
    audios = [base64.b64encode(bytes([n]) * CHUNK).decode() for n in range(APPENDS)]
    frames = [
        frame(1, DIR_IN, {"type": "session.created", "session": {"id": "sess_1"}}),
        dataclasses.replace(local_envelope("rt.audio", "microphone: fake"), seq=2, mono=0.04, wall=1.7e9 + 0.04),
    ]
    for n, audio in enumerate(audios):
        frames.append(frame(3 + n, DIR_OUT, {"type": "input_audio_buffer.append", "audio": audio}))
    seq = 3 + APPENDS
    frames += [
        frame(seq, DIR_OUT, {"type": "input_audio_buffer.commit"}),
        frame(seq + 1, DIR_IN, {"type": "response.output_text.delta", "item_id": "item_1", "delta": "café ☕ über"}),
        frame(seq + 2, DIR_IN, {"type": "response.output_text.delta", "item_id": "item_1", "delta": 'a "quote"\n'}),
        Envelope(seq + 3, DIR_IN, "rt.malformed", {"message": "not JSON"}, "not json {", (seq + 3) * 0.02, 1.7e9 + 1),
        frame(seq + 4, DIR_IN, {"type": "response.done", "response": {"id": "resp_1", "status": "completed"}}),
    ]
    return frames, audios


def write_session(path: Path, frames: list[Envelope]) -> Path:
    """`frames` written by the capture's own writer, as a session writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = CaptureWriter(path.parent)
    for env in frames:
        writer.write(env)
    writer.close()
    return writer.path


def played(frames: object) -> list[tuple[object, ...]]:
    return [(e.seq, e.direction, e.type, e.raw, e.data, e.mono, e.wall, e.wire_size) for e in hydrated(frames)]  # type: ignore[arg-type]


def test_a_capture_file_holds_the_text_of_its_frames_and_plays_them_as_read_whole(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    lean, whole = load(path, lean=True), load(path)
    frames = lean.envelopes
    assert isinstance(frames, Frames)
    # Every frame parsed again from its own text is left in the file: all but the local fact, the
    # frame that is not JSON and the delta whose text holds escapes.
    assert frames.in_files == len(frames) - 3
    assert played(frames) == played(whole.envelopes)
    assert frames.text(len(frames) - 3) == whole.envelopes[-3].raw  # the escaped one, kept in memory
    again = frames.copy()
    again.extend(frames)  # rows copied as held: nothing read
    assert again.in_files == 2 * frames.in_files
    assert played(again) == played(whole.envelopes) * 2


@pytest.mark.parametrize("shape", ["bom", "joined", "cut"])
def test_a_file_of_another_shape_still_plays_each_frame_from_its_place(tmp_path: Path, shape: str) -> None:
    """A byte-order mark before the first line (its offsets are the file's), two captures joined with
    `cat` (the second's frames after the first's bytes), a last line cut by a crash (left out)."""
    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    data = path.read_bytes()
    if shape == "bom":
        path.write_bytes(codecs.BOM_UTF8 + data)
    elif shape == "joined":
        path.write_bytes(data + data)
    else:
        path.write_bytes(data[:-40])
    lean, whole = load(path, lean=True), load(path)
    assert isinstance(lean.envelopes, Frames) and lean.envelopes.in_files > APPENDS
    assert played(lean.envelopes) == played(whole.envelopes)
    assert lean.parts == whole.parts and lean.notes == whole.notes


def test_a_pipe_has_no_file_to_hold_the_text(tmp_path: Path) -> None:
    import os

    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    reading, writing = os.pipe()
    os.write(writing, path.read_bytes()[:60_000])  # within a pipe's buffer: whole lines then a cut one
    os.close(writing)
    try:
        piped = load(f"/dev/fd/{reading}", lean=True)
    finally:
        os.close(reading)
    assert isinstance(piped.envelopes, Frames) and piped.envelopes.in_files == 0


def test_a_file_rewritten_since_it_was_read_is_said_not_played_wrong(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    lean = load(path, lean=True)
    path.write_bytes(b"\n" * 10)  # rewritten in place (an editor's save keeps the inode only so)
    with pytest.raises(RecordingChanged, match="changed since it was read"):
        played(lean.envelopes)


def _small_budget(**given: int) -> PayloadPolicy:
    """The journal's default policy with 1 MiB budgets."""
    return PayloadPolicy(**{"large_budget_bytes": 1 << 20, "text_budget_bytes": 1 << 20, **given})


async def test_the_replay_drops_old_payloads_and_reads_them_back_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a live session's journal does: the detail view and the export have every append's audio."""
    monkeypatch.setattr(store, "PayloadPolicy", _small_budget)
    frames, audios = session_frames()
    path = write_session(tmp_path / "s" / "frames.jsonl", frames)
    recording = load(path, lean=True)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 30, "the replay")
        await views_settled(pilot, app)
        journal = app.journal
        assert journal.capture_path == str(path) and journal.payloads_dropped > 0
        first = next(f.index for f in journal if f.type == "input_audio_buffer.append")
        assert journal[first].payload_dropped
        read_back = app.recover_payload(first)
        assert read_back is not None and json.loads(read_back)["audio"] == audios[0]
        out = tmp_path / "export.jsonl"
        app.export_frames(out, keep_audio=True)
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == len(journal), 30, "the export")
        first_play = journal
        await pilot.press("r")  # played again into a fresh journal: the same store
        again = lambda: app.journal is not first_play and app.player is not None and app.player.done.is_set()  # noqa: E731
        await wait_for(pilot, again, 30, "the replay again")
        await views_settled(pilot, app)
        assert app.journal.capture_path == str(path) and app.journal.payloads_dropped == first_play.payloads_dropped
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["frame"]["audio"] for line in exported if line["type"] == "input_audio_buffer.append"] == audios


async def test_a_replay_whose_file_changes_while_it_plays_stops_and_says_so(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    recording = load(path, lean=True)
    path.write_bytes(b"\n" * 10)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(recording))
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.player is not None
        await wait_for(pilot, app.player.done.is_set, 30, "the replay to end")
        await views_settled(pilot, app)
        said = [n.message for n in app._notifications]
        assert any("the replay stopped at frame 1 of" in m and "changed since it was read" in m for m in said), said
        assert "stopped: its file changed" in app.status_line.state_override
        # Played again (`r`): it stops again, and says so, not "played again from its first frame".
        app.clear_notifications()
        first_player = app.player
        await pilot.press("r")
        again = lambda: app.player is not first_player and app.player is not None and app.player.done.is_set()  # noqa: E731
        await wait_for(pilot, again, 10, "the replay again")
        await views_settled(pilot, app)
        said = [n.message for n in app._notifications]
        assert any("the replay stopped at frame 1 of" in m for m in said) and not any("played again" in m for m in said)


def test_notes_woven_among_several_files_frames_leave_their_text_in_the_files(tmp_path: Path) -> None:
    """Two captures given newest first: the note that says so is woven in where the older one begins,
    row by row, each frame's text still in its file (made an envelope of, each was read and kept)."""
    frames = session_frames()[0]
    later = [dataclasses.replace(env, wall=env.wall + 3600) for env in frames]
    newer = write_session(tmp_path / "b" / "frames.jsonl", later)
    older = write_session(tmp_path / "a" / "frames.jsonl", frames)
    lean = with_notes_as_facts(load_many([newer, older], lean=True))
    whole = with_notes_as_facts(load_many([newer, older]))
    assert any("given ahead of it" in note for note in lean.notes)
    assert isinstance(lean.envelopes, Frames) and lean.envelopes.in_files == 2 * (len(frames) - 3)
    assert played(lean.envelopes) == played(whole.envelopes)


def test_many_files_past_the_open_stores_keep_their_text_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lint sessions/*/` may name hundreds of captures: each store holds a descriptor for the run, so
    past `MOST_OPEN` a file's text is held as a pipe's; and a file's number past 255 is no limit
    (review 58d: the 257th file raised in `joined`)."""
    frames = session_frames()[0][:2]
    paths = [write_session(tmp_path / f"s{n:03}" / "frames.jsonl", frames) for n in range(260)]
    monkeypatch.setattr(FileText, "MOST_OPEN", FileText.open_now + 300)
    everything = load_many(paths, lean=True)
    assert isinstance(everything.envelopes, Frames) and everything.envelopes.in_files == 260
    assert played(everything.envelopes) == played(load_many(paths).envelopes)
    del everything
    gc.collect()
    monkeypatch.setattr(FileText, "MOST_OPEN", FileText.open_now + 2)
    some = load_many(paths[:5], lean=True)
    assert isinstance(some.envelopes, Frames) and some.envelopes.in_files == 2
    assert played(some.envelopes) == played(load_many(paths[:5]).envelopes)


def test_a_line_the_writer_did_not_write_keeps_its_frame_s_text(tmp_path: Path) -> None:
    """A header spaced by hand: the reader takes the long way and may write the frame again in its own
    form (`1.0E2` as `100.0`), of the same length and ends: it is not read back from the file."""
    path = tmp_path / "frames.jsonl"
    frame_text = '{"type":"response.done","note":"' + "x" * 40 + '","n":1.0E2,"note2":"' + "y" * 40 + '"}'
    header = '{"seq": 1, "dir": "in", "t": 0.0, "wall": 1700000000.0, "type": "response.done", '
    path.write_text(f'{header}"size": {len(frame_text)}, "frame": {frame_text}}}\n')
    lean, whole = load(path, lean=True), load(path)
    assert isinstance(lean.envelopes, Frames) and lean.envelopes.in_files == 0
    assert played(lean.envelopes) == played(whole.envelopes)


def test_the_first_frame_of_a_file_with_a_byte_order_mark_is_read_back(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s" / "frames.jsonl", session_frames()[0])
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    first = load(path).envelopes[0]
    assert recover_payloads(path, {first.seq}) == {first.seq: first.raw}
