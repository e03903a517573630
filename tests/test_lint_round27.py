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
