"""Round 27: the linter as a voice-agent developer asking "why is the transcript of my own words null?".

Each session is held with the real simulator over a loopback WebSocket and written as a JSONL of
frames in the order the client saw them (what it sent when it sent it, what it received when it
read it), then linted by `rt-tui lint --json` as a user would.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soxr
from websockets.asyncio.client import ClientConnection, connect

from tests.server_helpers import b64, recv, recv_until, running_simulator, speech_pcm24

RT_TUI = str(Path(sys.executable).with_name("rt-tui"))
TRANSCRIBE = {"model": "gpt-4o-transcribe"}


class Recorder:
    """A client socket to the simulator that writes every frame it sends and reads, in that order."""

    def __init__(self, ws: ClientConnection, first: dict[str, Any] | None = None) -> None:
        self.ws = ws
        self.lines: list[dict[str, Any]] = []
        if first is not None:
            self.lines.append({"dir": "in", "frame": first})

    async def send(self, event: dict[str, Any]) -> None:
        """Send one client event (recorded as sent)."""
        self.lines.append({"dir": "out", "frame": event})
        await self.ws.send(json.dumps(event))

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        """Read (and record) events up to the first of `event_type`."""
        events = await recv_until(self.ws, event_type)
        self.lines += [{"dir": "in", "frame": e} for e in events]
        return events

    async def append(self, pcm: bytes, chunk_ms: int = 100) -> None:
        """Stream `pcm` as appends of `chunk_ms` each."""
        step = chunk_ms * 48
        for start in range(0, len(pcm), step):
            await self.send({"type": "input_audio_buffer.append", "audio": b64(pcm[start : start + step])})

    def write(self, path: Path) -> Path:
        """The recording as a JSONL of frames."""
        path.write_text("".join(json.dumps(line) + "\n" for line in self.lines), encoding="utf-8")
        return path


def lint_file(path: Path) -> tuple[int, list[dict[str, Any]]]:
    """`rt-tui lint --json FILE`: its exit status and findings."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RT_TUI_API_KEY")}
    out = subprocess.run([RT_TUI, "lint", "--json", str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, [json.loads(line) for line in out.stdout.splitlines()]


def of_rule(findings: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == rule]


def seqs(finding: dict[str, Any]) -> list[tuple[int, str]]:
    return [(frame["seq"], frame["type"]) for frame in finding["frames"]]


@contextlib.asynccontextmanager
async def recorded(url: str) -> AsyncIterator[Recorder]:
    """A recorded socket to the simulator, past its session.created (recorded)."""
    async with connect(f"{url}?model=gpt-realtime", compression=None, max_size=64 * 2**20) as ws:
        yield Recorder(ws, await recv(ws, timeout=5))


async def push_to_talk(rec: Recorder) -> Recorder:
    """`rec` after a session.update that turns server VAD off (answered)."""
    await rec.send(
        {"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}
    )
    await rec.until("session.updated")
    return rec


# -- transcription-off-at-commit: judged against the session the server applies to the commit -------


async def test_transcription_turned_on_right_before_the_commit_is_not_said_off(tmp_path: Path) -> None:
    """A client that sends session.update (transcription on), then its audio and commit at once,
    without waiting for session.updated: the server applies the update first and transcribes the
    turn. The linter judged the commit when it was sent, against the session applied then
    (transcription off): a warning that transcription was off, on a turn that got its transcript."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        await push_to_talk(rec)
        patch = {"type": "realtime", "audio": {"input": {"transcription": TRANSCRIBE}}}
        await rec.send({"type": "session.update", "session": patch})
        await rec.append(speech_pcm24("hello there"))
        await rec.send({"type": "input_audio_buffer.commit"})
        events = await rec.until("conversation.item.input_audio_transcription.completed")
    assert "session.updated" in [e["type"] for e in events]
    status, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    assert findings == [] and status == 0, findings


async def test_transcription_the_server_refused_is_named_at_the_commit(tmp_path: Path) -> None:
    """The user asked for transcription with a model the server refuses, then committed: the
    warning on the commit said only "transcription is off … turn it on … if you don't need a
    transcript, ignore this", to a user who had turned it on. It now names the update that asked for
    it and why the server refused it, and its fix is that update's."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        await push_to_talk(rec)
        patch = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-2"}}}}
        await rec.send({"type": "session.update", "session": patch})
        await rec.until("error")
        await rec.append(speech_pcm24("hello there"))
        await rec.send({"type": "input_audio_buffer.commit"})
        await rec.until("input_audio_buffer.committed")
    status, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    assert status == 1
    (rejected,) = of_rule(findings, "session-update-rejected")
    (off,) = of_rule(findings, "transcription-off-at-commit")
    update = seqs(rejected)[0]
    assert update in seqs(off), off
    assert f"session.update #{update[0]} asked for transcription, but the server refuses" in off["message"], off
    assert "session-update-rejected" in off["message"] and "ignore this" not in off["fix"], off
    assert off["fix"].startswith(f"Fix session.update #{update[0]} first"), off


async def test_transcription_turned_on_after_the_commit_is_said_on_its_finding(tmp_path: Path) -> None:
    """Transcription turned on after the audio was committed does not transcribe that item: the
    commit's warning now says so and names the session.updated that came too late."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        await push_to_talk(rec)
        await rec.append(speech_pcm24("hello there"))
        await rec.send({"type": "input_audio_buffer.commit"})
        await rec.until("input_audio_buffer.committed")
        patch = {"type": "realtime", "audio": {"input": {"transcription": TRANSCRIBE}}}
        await rec.send({"type": "session.update", "session": patch})
        events = await rec.until("session.updated")
    status, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    assert status == 0
    (off,) = findings
    assert off["rule"] == "transcription-off-at-commit" and off["severity"] == "warning", off
    updated = seqs(off)[-1]
    assert updated[1] == "session.updated" and len(events) >= 1, off
    assert f"turned on only later, by session.updated #{updated[0]}" in off["message"], off


# -- audio-sample-format: bytes that are not samples of the session's input format -----------------


def mulaw(pcm24: bytes) -> bytes:
    """24 kHz PCM16 as 8 kHz G.711 μ-law, what a Twilio media stream carries (the standard encoder)."""
    samples = np.asarray(soxr.resample(np.frombuffer(pcm24, "<i2"), 24000, 8000), dtype=np.int64)
    sign = (samples < 0).astype(np.int64) << 7
    biased = np.minimum(np.abs(samples), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(biased)).astype(np.int64) - 7, 0, 7)
    mantissa = (biased >> (exponent + 3)) & 0x0F
    codes: np.ndarray[Any, np.dtype[np.uint8]] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes.tobytes()


def float32(pcm24: bytes) -> bytes:
    """24 kHz PCM16 as the little-endian float32 samples a Web Audio Float32Array holds."""
    return (np.frombuffer(pcm24, "<i2").astype("<f4") / 32768).astype("<f4").tobytes()


def stereo(pcm24: bytes) -> bytes:
    """Mono PCM16 as two channels of the same sound, interleaved (a mono capture saved as stereo)."""
    return np.repeat(np.frombuffer(pcm24, "<i2"), 2).astype("<i2").tobytes()


async def one_turn(rec: Recorder, audio: bytes, *, chunk: int = 4800) -> None:
    """Append `audio` in chunks of `chunk` bytes, commit, ask for a response and read it to its end."""
    for start in range(0, len(audio), chunk):
        await rec.send({"type": "input_audio_buffer.append", "audio": b64(audio[start : start + chunk])})
    await rec.send({"type": "input_audio_buffer.commit"})
    await rec.until("input_audio_buffer.committed")
    await rec.send({"type": "response.create"})
    await rec.until("response.done")


async def turn_in(tmp_path: Path, audio_format: dict[str, Any], audio: bytes, chunk: int) -> list[dict[str, Any]]:
    """The findings on a push-to-talk session of `audio_format` with transcription on and one turn of `audio`."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        audio_in = {"format": audio_format, "transcription": TRANSCRIBE, "turn_detection": None}
        await rec.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": audio_in}}})
        await rec.until("session.updated")
        await one_turn(rec, audio, chunk=chunk)
    return lint_file(rec.write(tmp_path / "s.jsonl"))[1]


PCM = {"type": "audio/pcm", "rate": 24000}
PCMU = {"type": "audio/pcmu"}


@pytest.mark.parametrize(
    ("audio_format", "encode", "chunk", "said"),
    [
        (PCM, mulaw, 160, "8-bit G.711 audio looks"),
        (PCM, float32, 3840, "32-bit float samples"),
        (PCMU, lambda pcm: pcm, 960, "pair up as 16-bit PCM samples"),
        (PCM, stereo, 1920, "two channels (stereo) with the same sound in each"),
    ],
    ids=["g711-in-pcm16", "float32-in-pcm16", "pcm16-in-g711", "stereo-in-mono"],
)
async def test_audio_in_another_sample_format_than_the_sessions_is_named(
    tmp_path: Path, audio_format: dict[str, Any], encode: Any, chunk: int, said: str
) -> None:
    """Twilio's μ-law forwarded to a PCM16 session, a Float32Array's bytes sent as PCM16, PCM16 sent
    to a session that declared G.711, a mono capture sent as stereo: the server hears noise (or half
    speed) and transcribes nothing useful. The linter said nothing of the last two, and called the
    first two clipped-audio (a warning about gain), which sends the developer to the wrong fix."""
    findings = await turn_in(tmp_path, audio_format, encode(speech_pcm24("book a table for two at eight")), chunk)
    (found,) = of_rule(findings, "audio-sample-format")
    assert found["severity"] == "error" and said in found["message"], found
    assert seqs(found)[0][1] == "input_audio_buffer.commit", found
    assert of_rule(findings, "clipped-audio") == [] and of_rule(findings, "byte-swapped-audio") == [], findings


@pytest.mark.parametrize(
    ("audio_format", "encode", "chunk"), [(PCM, lambda pcm: pcm, 960), (PCMU, mulaw, 160)], ids=["pcm16", "g711"]
)
async def test_a_push_to_talk_turn_in_the_sessions_own_format_has_no_findings(
    tmp_path: Path, audio_format: dict[str, Any], encode: Any, chunk: int
) -> None:
    """The simulator's normal push-to-talk turn (20 ms chunks, commit, response.create), in PCM16
    and in G.711 μ-law: no finding at all."""
    findings = await turn_in(tmp_path, audio_format, encode(speech_pcm24("book a table for two at eight")), chunk)
    assert findings == []


async def test_the_fix_for_item_audio_in_a_g711_session_says_g711(tmp_path: Path) -> None:
    """A Twilio bridge (audio/pcmu) that sends the caller's μ-law in conversation.item.create: the
    fix told it to send "raw 24 kHz mono PCM16" with input_audio_buffer.append, the wrong format for
    its session (the same in a failed transcription's fix)."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        audio_in = {"format": PCMU, "transcription": TRANSCRIBE, "turn_detection": None}
        await rec.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": audio_in}}})
        await rec.until("session.updated")
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": b64(mulaw(speech_pcm24("hello")))}],
        }
        await rec.send({"type": "conversation.item.create", "item": item})
        await rec.until("conversation.item.done")
    status, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    (found,) = of_rule(findings, "item-create-audio-not-transcribed")
    assert status == 1 and "24 kHz" not in found["fix"] and "raw G.711 μ-law (8 kHz) bytes" in found["fix"], found


# -- commit-too-short after a clear -------------------------------------------------------------------


async def test_a_commit_refused_after_a_clear_names_the_clear(tmp_path: Path) -> None:
    """Speech appended, the buffer cleared, then committed: the server refuses the empty commit. The
    finding said "nothing was appended since the last clear" without naming the clear or saying it
    threw the speech away; it now points at the clear and says so in its fix."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        await push_to_talk(rec)
        await rec.append(speech_pcm24("hello there"))
        await rec.send({"type": "input_audio_buffer.clear"})
        await rec.until("input_audio_buffer.cleared")
        await rec.send({"type": "input_audio_buffer.commit"})
        await rec.until("error")
    status, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    (found,) = of_rule(findings, "commit-too-short")
    clear = next(seq for seq, kind in seqs(found) if kind == "input_audio_buffer.clear")
    assert status == 1 and f"since input_audio_buffer.clear #{clear} emptied the buffer" in found["message"], found
    assert found["fix"].startswith(f"input_audio_buffer.clear #{clear} dropped everything appended before it"), found


# -- transcription asked for in a place the server does not know -------------------------------------


@pytest.mark.parametrize(
    ("patch", "said"),
    [
        ({"transcription": TRANSCRIBE}, "session.transcription is not where input transcription goes"),
        ({"audio": {"transcription": TRANSCRIBE}}, "session.audio.transcription is not where"),
        (
            {"audio": {"input": {"input_audio_transcription": TRANSCRIBE}}},
            "session.audio.input.input_audio_transcription is not where",
        ),
        (
            {"audio": {"input": {"transcription": {"enabled": True}}}},
            "session.audio.input.transcription has no field enabled",
        ),
    ],
    ids=["session", "audio", "audio-input-beta-name", "enabled"],
)
async def test_transcription_asked_for_in_the_wrong_place_is_named_with_where_it_goes(
    tmp_path: Path, patch: dict[str, Any], said: str
) -> None:
    """GA refuses an update with transcription where it does not go (or an `enabled` it does not
    have). The rejection's fix said only "Correct session.transcription", and the warning on the
    commit did not connect the null transcript to that update: it now says where the setting goes,
    and the commit's warning names the update that asked for it."""
    async with running_simulator() as sim, recorded(sim.url) as rec:
        await push_to_talk(rec)
        await rec.send({"type": "session.update", "session": {"type": "realtime", **patch}})
        await rec.until("error")
        await rec.append(speech_pcm24("hello there"))
        await rec.send({"type": "input_audio_buffer.commit"})
        await rec.until("input_audio_buffer.committed")
    _, findings = lint_file(rec.write(tmp_path / "s.jsonl"))
    (rejected,) = of_rule(findings, "session-update-rejected")
    assert rejected["fix"].startswith(said), rejected
    assert "session.audio.input.transcription" in rejected["fix"], rejected
    (off,) = of_rule(findings, "transcription-off-at-commit")
    assert seqs(rejected)[0] in seqs(off) and said in off["fix"], off
