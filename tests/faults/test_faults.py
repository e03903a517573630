"""Every fault case (`tests/faults/cases.py`) against the real app under `run_test()` and against
the real `rt-tui send` console script, through a hostile server in front of the real simulator.

For each case: the program is alive (the app still runs and its next action works: a reply to a
typed message, or a reconnect; `send` ends with a status and one line on stderr, never a
traceback), it says what happened in one correct line (a notice, the status line, stderr), and
the capture file holds every frame the server sent before the fault, text for text.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.app_helpers import items, notices, session_ready, wait_for
from tests.faults.cases import AFTER_UPDATED, CASES, LIMIT, Case
from tests.faults.evidence import assert_holds_every_frame, captures, local_facts, strict_lines
from tests.faults.hostile import HostileServer, Plan, hostile_server
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import TextState
from tui.server.testing import RunningSimulator

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"


def replies_done(app: RtApp) -> int:
    return sum(item.state is TextState.DONE for item in items(app, "assistant"))


def session_over(app: RtApp) -> bool:
    """The app's session worker has ended (it is neither connected nor waiting to reconnect)."""
    return all(worker.is_finished for worker in app.workers if worker.group == "session")


def toasts(app: RtApp) -> list[str]:
    """The text of every notification on screen (run_test shows them only with notifications=True)."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


def noticed(app: RtApp, title: str, text: str) -> bool:
    """A notice with this title whose message, one line, holds `text`."""
    return any(t == title and text in m and "\n" not in m for t, m in notices(app))


async def expect_notice(pilot: Pilot[None], app: RtApp, title: str, said: str) -> None:
    """Wait for a notice; one that quotes server text must be on screen as written, not read as
    markup (a MarkupError in a toast would end the app)."""
    await wait_for(pilot, lambda: noticed(app, title, said), 15, f"the notice {title!r}: {said!r}")
    if "[/x]" in said:
        await wait_for(pilot, lambda: any(said in text for text in toasts(app)), 10, "the toast, as written")


async def say(pilot: Pilot[None], app: RtApp, what: str) -> None:
    """Send a typed message the way a user does (t, the text, Enter, Esc); the text is set at once
    rather than key by key, which costs a screen update per key on a loaded machine."""
    await pilot.press("t")
    app.query_one("#message", Input).value = what
    await pilot.press("enter", "escape")


async def ask(pilot: Pilot[None], app: RtApp, what: str) -> None:
    """Send a message and wait for a finished reply to it: the session works."""
    done = replies_done(app)
    await say(pilot, app, what)
    await wait_for(pilot, lambda: replies_done(app) > done, 30, f"a reply to {what!r}")


def check_capture(case: Case, server: HostileServer, data_dir: Path | None = None, *, upto: int | None = None) -> None:
    """The first connection's capture holds every frame the server sent on it; or, with `upto`,
    when the client left a live session, at least the first `upto` (and then only what followed:
    the frames after may still have been in flight when it left)."""
    first = server.connection(0)
    assert first.fault == case.server_fault, "the hostile server did not do what the case says"
    sessions = captures(data_dir)
    assert sessions, "no capture file"
    assert_holds_every_frame(first.sent, sessions[0], upto=upto)
    strict_lines(data_dir)
    if case.refused_with is not None:
        # The refusal itself is on record: who closed, with what code, and why.
        [closed] = [f for f in local_facts(sessions[0], "rt.connection") if f.data.get("state") == "closed"]
        assert closed.data["closed_by"] == "rt-tui" and closed.data["code"] == case.refused_with
        assert case.reason in closed.data["message"]
    if case.refused_with == 1009:  # and for a frame over the limit, its size and the limit
        assert closed.data["frame_bytes"] == 70_000_000 and closed.data["max_frame_bytes"] == LIMIT


def app_params() -> list[object]:
    return [pytest.param(case, id=case.id) for case in CASES]


@pytest.mark.parametrize("case", app_params())
async def test_the_app_survives(case: Case, upstream: RunningSimulator) -> None:
    async with hostile_server([case.plan], upstream.url) as server:
        app = RtApp(Settings(target=TargetChoice.URL, url=server.url, playback=False))
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            if case.mid_turn:
                await wait_for(pilot, lambda: session_ready(app), 20, "the session")
                await say(pilot, app, "hello there")
            await wait_for(
                pilot, lambda: bool(server.connections) and server.connection(0).acted_at is not None, 30, "the fault"
            )
            if case.notice is not None:
                await expect_notice(pilot, app, *case.notice)
            if case.log_row:
                await wait_for(
                    pilot, lambda: any(case.log_row in row for row in app.event_log.row_texts()), 15, case.log_row
                )
            assert app.is_running
            if case.mid_turn:  # what arrived of the reply before the fault is kept
                await wait_for(pilot, lambda: bool(items(app, "assistant")), 10, "the reply's row")
                assert items(app, "assistant")[0].text
            if case.outcome == "refused":
                await wait_for(pilot, lambda: app.facts.ended, 15, "the end of the connection")
                # A refusal is not retried on its own (the same request would meet the same answer):
                # the session worker ends, with no second connection.
                await wait_for(
                    pilot, lambda: session_over(app) or len(server.connections) > 1, 15, "the session worker to end"
                )
                assert len(server.connections) == 1, "the app reconnected on its own after a refusal"
                assert case.reason in app.facts.describe()
                assert case.reason in app.status_line.render().plain  # the status line says it, as written
                await pilot.press("ctrl+r")  # the next action: reconnect by hand, to a configured session
                await wait_for(pilot, lambda: len(server.connections) == 2 and session_ready(app), 20, "ctrl+r")
            else:
                if case.outcome == "reconnects":  # on its own: no key is pressed
                    await wait_for(pilot, lambda: len(server.connections) == 2, 20, "a reconnect")
                await wait_for(pilot, lambda: session_ready(app), 20, "the session")
                await ask(pilot, app, "what is the weather in Oslo")  # the next action: a turn
            assert app.is_running
            if case.outcome == "goes_on":  # the turn is over: let every frame sent arrive before quitting
                sent = server.connection(0).sent
                await wait_for(pilot, lambda: app.facts.frames_in == len(sent), 10, "the last frames sent")
    check_capture(case, server)


async def run_send(
    url: str, wav: Path, data_dir: Path, *extra: str, preexec: Callable[[], None] | None = None
) -> tuple[int, str, str]:
    """The real console script, as a user runs it; (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        RT_TUI,
        "send",
        str(wav),
        "--url",
        url,
        "--no-transcription",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "RT_TUI_DATA_DIR": str(data_dir)},
        preexec_fn=preexec,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_send_survives(case: Case, upstream: RunningSimulator, tone_wav: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "send-data"
    extra = ("--json",) if case.send_json else ()
    async with hostile_server([case.plan], upstream.url) as server:
        status, out, err = await run_send(server.url, tone_wav, data_dir, *extra)
    assert "Traceback" not in err, err
    went_on = bool(case.send_or_warns) and status == 0  # the other of the case's two outcomes
    expected_exit, warns = (0, case.send_or_warns) if went_on else (case.send_exit, case.send_warns)
    assert status == expected_exit, err
    if expected_exit == 0:
        if warns:  # what the turn could not use is said, in one line; the turn succeeds
            [line] = err.splitlines()
            assert line.startswith("rt-tui send: ") and warns in line, line
        else:
            assert err == ""
        if case.send_json:
            records = [json.loads(line, parse_constant=_refuse) for line in out.splitlines()]
            # The turn's end, then the capture's last record: rt-tui closing the connection.
            assert records[-1]["type"] == "rt.connection" and records[-1]["info"]["state"] == "closed"
            assert records[-2]["type"] in ("response.done", "rate_limits.updated")
            [odd] = [r for r in records if r.get("frame", {}).get("event_id") == "event_nan"]
            limits = odd["frame"]["rate_limits"][0]
            assert (
                limits["limit"] == "rt-tui:non-finite:NaN" and limits["reset_seconds"] == "rt-tui:non-finite:-Infinity"
            )
        else:
            user, assistant = out.splitlines()[:2]
            assert user.startswith("user: ") and assistant.startswith("assistant: ")
    else:
        # The failure in one line; then, when the linter found something in the turn, one line of that.
        line, *lint = err.splitlines()
        assert line.startswith("rt-tui send: ") and case.send_says in line, line
        assert len(lint) <= 1 and all(said.startswith("rt-tui send: lint: ") for said in lint), err
        if case.mid_turn:
            assert out.rstrip().endswith("(incomplete)"), out  # what arrived of the reply is printed
    upto = None
    if case.outcome == "goes_on" and expected_exit == 0:  # send leaves once the turn is done
        done = [n for n, frame in enumerate(server.connection(0).sent) if _is_type(frame, "response.done")]
        upto = done[0] + 1  # every frame up to response.done
    elif case.outcome == "goes_on":  # send gave up on the turn at the fault, the session still open
        upto = server.connection(0).acted_at
    check_capture(case, server, data_dir, upto=upto)


def _is_type(frame: str | bytes, event_type: str) -> bool:
    """Whether a frame the simulator sent is of `event_type` (it writes `type` first, compactly)."""
    return isinstance(frame, str) and frame.startswith(f'{{"type":"{event_type}"')


def _refuse(constant: str) -> None:
    raise AssertionError(f"send --json printed {constant}: not strict JSON")


async def test_send_goes_on_past_an_error_about_another_frame(
    upstream: RunningSimulator, tone_wav: Path, tmp_path: Path
) -> None:
    """An `error` naming a frame that is not the step `send` waits for is reported, not fatal."""
    other = {
        "type": "error",
        "event_id": "event_err_other",
        "error": {
            "type": "invalid_request_error",
            "code": "unknown_parameter",
            "message": "not yours",
            "event_id": "evt_someone_elses",
        },
    }
    async with hostile_server([Plan(at=AFTER_UPDATED, inject=(other,))], upstream.url) as server:
        status, out, err = await run_send(server.url, tone_wav, tmp_path / "data")
    assert status == 0, err
    assert "assistant:" in out
    assert "about another frame, the turn goes on): unknown_parameter: not yours" in err
