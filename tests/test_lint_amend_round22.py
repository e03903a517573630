"""An amended finding reaches those who stream findings (round 22).

The linter amends a finding when the server's answer it foretold comes (`response-while-active`,
`truncate-*`). `take_changes` hands each finding out once, so `rt-tui proxy --json`, which writes
each finding on stderr as it is taken, never said the amended words (the ones naming the server's
error): `take_amended` hands those out, and the proxy writes them again marked `(updated)`. The
frames are real: clients talking through the real proxy to the simulator.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

from websockets.asyncio.client import connect

from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.server_helpers import recv_until, send
from tests.test_lint_round20b import _at, _proxied, _second_create_after_created
from tui.lint import Finding
from tui.model import new_model

TRUNCATE = {"type": "conversation.item.truncate", "event_id": "evt_truncate_1"}
"""No item_id, content_index or audio_end_ms: `truncate-missing-fields` foretells the refusal, and
the error naming this event_id comes."""


def _rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


async def _stderr_until_closed(process: subprocess.Popen[str]) -> list[str]:
    """The proxy's stderr lines up to its line saying the client closed (every finding before it)."""
    assert process.stderr is not None
    lines: list[str] = []
    async with asyncio.timeout(30):
        while True:
            line = await asyncio.to_thread(process.stderr.readline)
            assert line, f"the proxy ended early: {''.join(lines)[-2000:]}"
            lines.append(line.rstrip("\n"))
            if line.startswith("[conn 1] connection: client closed"):
                return lines


def _said(lines: list[str], head: str) -> list[tuple[str, str]]:
    """(message line, fix line) for each finding whose first line starts with `head`."""
    return [(line, lines[i + 1]) for i, line in enumerate(lines) if line.startswith(head)]


def _frames(fix_line: str) -> list[str]:
    found = re.search(r"\[frames: (.*)\]$", fix_line)
    assert found, fix_line
    return found.group(1).split(", ")


async def test_proxy_json_says_an_amended_finding_again_marked_updated(tmp_path: Path) -> None:
    process = start_headless_proxy(tmp_path / "data", "--local", stdout=subprocess.DEVNULL)
    try:
        assert process.stderr is not None
        url, _ = await listening_url(process.stderr, 30)
        async with connect(url + "?model=gpt-realtime") as ws:
            await recv_until(ws, "session.created")
            await _second_create_after_created(ws)
            await send(ws, TRUNCATE)
            error = (await recv_until(ws, "error"))[-1]
            assert error["error"]["event_id"] == TRUNCATE["event_id"], error
        lines = await _stderr_until_closed(process)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    cases = (
        ("response-while-active", "so the server refuses this one", r"so it was refused by error #\d+ \("),
        ("truncate-missing-fields", "refuses the truncate", r"\. The server refused it: error #\d+ \("),
    )
    for rule, foretold, confirmed in cases:
        [(first, first_fix)] = _said(lines, f"[conn 1] error: {rule}: ")
        assert foretold in first and not re.search(confirmed, first), first
        [(updated, updated_fix)] = _said(lines, f"[conn 1] (updated) error: {rule}: ")
        assert re.search(confirmed, updated), updated
        # It says more than the line it replaces, and its frames begin with the same frame.
        assert updated.removeprefix("[conn 1] (updated) ") != first.removeprefix("[conn 1] "), updated
        frames, first_frames = _frames(updated_fix), _frames(first_fix)
        assert frames[: len(first_frames)] == first_frames and frames[-1].endswith(" error"), (first_fix, updated_fix)
        assert lines.index(first) < lines.index(updated)
    assert not [line for line in lines if "server-error" in line], lines  # the error is part of its finding


async def test_an_amendment_is_handed_out_once_and_only_after_its_finding_was_taken() -> None:
    envelopes = await _proxied(_second_create_after_created)
    second, error = _at(envelopes, "response.create", 1), _at(envelopes, "error")
    # Taken as the frames come (the proxy, the app): the finding, then its amendment apart.
    model = new_model("round22")
    linter = model.linter
    assert linter is not None
    model.ingest(envelopes[: second + 1])
    [said] = _rule(linter.take_changes(), "response-while-active")
    assert linter.take_amended() == []
    model.ingest(envelopes[second + 1 :])
    assert _rule(linter.take_changes(), "response-while-active") == []  # the app's notice pops once
    [found] = _rule(linter.findings, "response-while-active")
    assert found != said and error in found.frames
    assert linter.take_amended() == [found]
    assert linter.take_amended() == []  # once
    # Amended again after that: handed out again, in its newest words only.
    linter.ctx.amend(found, found.message + " (1)", found.frames)
    [once] = _rule(linter.findings, "response-while-active")
    linter.ctx.amend(once, found.message + " (2)", found.frames)
    [newest] = linter.take_amended()
    assert newest.message == found.message + " (2)" and _rule(linter.findings, "response-while-active") == [newest]
    # Amended back to the very words handed out: nothing new to say.
    linter.ctx.amend(newest, newest.message + " (3)", newest.frames)
    [again] = _rule(linter.findings, "response-while-active")
    linter.ctx.amend(again, newest.message, newest.frames)
    assert linter.take_amended() == []
    # Amended before it was taken (a recording read at once): one finding, in its amended words.
    model = new_model("round22-at-once")
    linter = model.linter
    assert linter is not None
    model.ingest(envelopes)
    assert _rule(linter.take_changes(), "response-while-active") == [found]
    assert linter.take_amended() == []
