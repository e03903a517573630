"""The API key never leaves rt-tui, in any spelling, from any place a frame can carry it.

A hostile server (a real websockets server on loopback) plants the key in every spelling (as
written, JSON-escaped, base64 at each byte alignment inside a longer base64 string, base64 of
`Bearer <key>`, percent-encoded) and in every place a frame can carry it (an error message,
nested values, object keys, the event type, a malformed frame, a binary frame, the close reason).
Every output is then scanned for every spelling (`tests.secret_helpers`): the capture file, the
bus, `rt-tui send --json` stdout and its stderr (the real console script), and the app's screen,
including the detail view of every frame. Leaks found: target 0.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import numpy as np
import pytest
import soundfile
from websockets.asyncio.server import ServerConnection, serve

from tests.secret_helpers import assert_no_leak, find_leaks, leak_forms, new_test_key, svg_text
from tui.bus import Bus
from tui.protocol import Direction, Envelope
from tui.session import (
    FRAMES,
    CaptureWriter,
    ConnectionState,
    RealtimeSession,
    new_session_dir,
    read_capture,
    url_target,
)
from tui.session.scrub import Scrubber

RT_TUI = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"


def spellings(key: str) -> dict[str, str]:
    """The key as a server might spell it inside a JSON string (the text between the quotes)."""
    raw = key.encode("utf-8")

    def in_longer_base64(prefix: int, *, urlsafe: bool = False) -> str:
        blob = secrets.token_bytes(prefix) + raw + secrets.token_bytes(4)
        return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(blob).decode("ascii")

    lower = quote(key, safe="")
    for upper in {lower[i : i + 3] for i in range(len(lower)) if lower[i] == "%"}:
        lower = lower.replace(upper, upper.lower())
    return {
        "plain": key,
        "json-slash-escaped": key.replace("/", "\\/"),
        "json-unicode-escaped": "".join(f"\\u{ord(c):04x}" for c in key),
        "json-punctuation-escaped": "".join(c if c.isalnum() else f"\\u{ord(c):04X}" for c in key),  # as .NET writes
        "base64-align-0": in_longer_base64(9),
        "base64-align-1": in_longer_base64(7),
        "base64-align-2": in_longer_base64(5),
        "base64url-align-1": in_longer_base64(4, urlsafe=True),
        "base64-bearer": base64.b64encode(b"Bearer " + raw).decode("ascii"),
        "base64url-bearer": base64.urlsafe_b64encode(b"Bearer " + raw).decode("ascii"),
        "percent-quote": quote(key, safe=""),
        "percent-quote-plus": quote_plus(key),
        "percent-lower-hex": lower,
        "percent-every-byte": "".join(f"%{byte:02X}" for byte in raw),
        "hex": raw.hex(),
        "hex-upper": raw.hex().upper(),
        "upper-case": key.upper(),
        "lower-case": key.lower(),
    }


ESCAPED = {"json-slash-escaped", "json-unicode-escaped", "json-punctuation-escaped"}
"""Spellings that exist only inside JSON text (a binary frame would not spell the key that way)."""


def planted_frames(key: str, only: frozenset[str] | None = None) -> tuple[list[str | bytes], list[str]]:
    """(frames that carry the key, error frames that carry it): each with a probe id of its own;
    `only` the spellings it names, when given."""
    templates = [
        # nested deep inside a known event's values
        '{"type":"rate_limits.updated","event_id":"evt_PROBE","rate_limits":[{"name":"requests",'
        '"limit":100,"remaining":99,"reset_seconds":1.5,"note":{"deep":["INNER"]}}]}',
        # as an object key
        '{"type":"vendor.headers","event_id":"evt_PROBE","echo":{"INNER":"was your key"}}',
        # in the event type of an event rt-tui has never heard of
        '{"type":"vendor.INNER","event_id":"evt_PROBE"}',
        # in a frame that is not JSON
        "not json {probe PROBE: INNER",
    ]
    error = (
        '{"type":"error","event_id":"evt_PROBE","error":{"type":"invalid_request_error","code":"invalid_api_key",'
        '"message":"Incorrect API key provided: INNER (PROBE)","param":null,"event_id":null}}'
    )
    frames: list[str | bytes] = []
    errors: list[str] = []
    for n, (name, inner) in enumerate(spellings(key).items()):
        if only is not None and name not in only:
            continue
        probe = f"p{n:02d}"
        frames += [t.replace("PROBE", probe).replace("INNER", inner) for t in templates]
        if name not in ESCAPED:
            frames.append(f"probe {probe}: {inner}".encode())  # a binary frame
        errors.append(error.replace("PROBE", probe).replace("INNER", inner))
    frames.append('{"type":"vendor.numbers","event_id":"evt_nan","x":NaN,"y":-Infinity,"z":1e999}')
    return frames, errors


def close_reason(key: str) -> str:
    """A close reason that quotes the key twice (within the 123 bytes a reason may take)."""
    reason = f"bad key {key} {spellings(key)['base64-bearer']}"
    assert len(reason.encode()) <= 123
    return reason


def session_created(key: str) -> str:
    created = {
        "type": "session.created",
        "event_id": "evt_created",
        "session": {"id": "sess_hostile", "object": "realtime.session", "model": "gpt-realtime", "instructions": key},
    }
    return json.dumps(created)


@asynccontextmanager
async def hostile_server(key: str) -> AsyncIterator[str]:
    """A server that quotes the key back everywhere it can; yields its URL (without a mode).

    `?mode=`: `update` answers session.update with every error frame (send stops at the first);
    `close` answers it, then on commit sends every other planted frame and closes quoting the key;
    `app` answers session.update with everything (`&only=NAME,NAME` those spellings), then closes;
    `close-with=NAME` sends session.created and closes with the spelling NAME in the reason.
    """

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        mode = query.get("mode", ["app"])[0]
        only = frozenset(query["only"][0].split(",")) if "only" in query else None
        frames, errors = planted_frames(key, only)
        await ws.send(session_created(key))
        if mode == "close-with":
            spelled = spellings(key)[query["name"][0]]
            await ws.close(4000, f"bad key {spelled}")
            return
        async for message in ws:
            event = json.loads(message)
            if event.get("type") == "session.update":
                if mode == "update":
                    for frame in errors:
                        ws.protocol.send_text(frame.encode())
                    ws.send_data()  # in one write: every error reaches rt-tui before it can close
                    continue
                await ws.send(json.dumps({"type": "session.updated", "session": {"id": "sess_hostile"}}))
                if mode == "app":
                    for planted in [*frames, *errors]:
                        await ws.send(planted)
                    await ws.close(4000, close_reason(key))
                    return
            elif event.get("type") == "input_audio_buffer.commit" and mode == "close":
                for planted in frames:
                    await ws.send(planted)
                await ws.close(4000, close_reason(key))
                return

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


def probes(key: str) -> set[str]:
    """The probe ids of every planted frame (errors included)."""
    return {f"p{n:02d}" for n in range(len(spellings(key)))}


_PROBE = re.compile(r'(?:evt_|probe )(p\d\d)(?=[":])')
"""A probe id where `planted_frames` puts it (`"evt_p17"`, `probe p17:`): a bare `p17` also turns
up in random ids and audio."""


def probes_in(envelopes: list[Envelope]) -> set[str]:
    """The probe ids found in these envelopes (event ids, raw text, binary bytes)."""
    found: set[str] = set()
    for env in envelopes:
        text = env.raw + (env.binary or b"").decode("utf-8", "replace")
        found |= set(_PROBE.findall(text))
    return found


@pytest.fixture
def key() -> str:
    return new_test_key()


# -- the scanner itself ----------------------------------------------------------------------


def test_the_scanner_finds_every_spelling_and_the_scrubber_removes_every_one(key: str) -> None:
    """Both halves of the test can fail: each planted spelling is found by the scanner, and gone
    after scrubbing, wherever it sits in a longer text."""
    scrub = Scrubber((key,))
    for name, inner in spellings(key).items():
        raw = '{"type":"error","error":{"message":"before INNER after"}}'.replace("INNER", inner)
        assert find_leaks(raw, key), f"the scanner misses the {name} spelling"
        cleaned = scrub.envelope(Envelope(1, Direction.IN, "error", json.loads(raw), raw))
        assert_no_leak(cleaned.raw, key, f"the scrubbed {name} spelling")
        assert json.loads(cleaned.raw) == cleaned.data and "[redacted]" in cleaned.data["error"]["message"]
    for form in leak_forms(key):
        for prefix in ("", "x", "xy", "QUJD"):
            assert_no_leak(scrub.text(prefix + form + "tail"), key, f"text holding {form!r}")


# -- the session: bus and capture file -------------------------------------------------------


async def test_a_hostile_server_gets_no_key_onto_the_bus_or_into_the_capture(key: str, tmp_path: Path) -> None:
    async with hostile_server(key) as url:
        target = url_target(url, api_key=key)
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        folder = new_session_dir(tmp_path)
        capture = CaptureWriter(folder, target.secrets)
        session = RealtimeSession(target, bus, capture=capture)
        await session.connect()
        session.send({"type": "session.update", "session": {"type": "realtime"}})
        await asyncio.wait_for(session.wait_closed(), 10)
        await session.close()
        capture.close()
    envs: list[Envelope] = sub.drain()
    frames, errors = planted_frames(key)
    assert sum(e.direction.value == "in" for e in envs) == 1 + 1 + len(frames) + len(errors)  # none lost
    assert probes_in(envs) == probes(key)
    for env in envs:
        where = f"envelope #{env.seq} {env.type}"
        assert_no_leak(env.raw, key, where + " raw")
        assert_no_leak(json.dumps(env.data), key, where + " data")
        assert_no_leak(env.type, key, where + " type")
        assert_no_leak((env.binary or b"").decode("latin-1"), key, where + " bytes")
    assert session.close_reason is not None and "4000" in session.close_reason
    assert_no_leak(session.close_reason, key, "the close reason")
    text = (folder / "frames.jsonl").read_text()
    assert_no_leak(text, key, "the capture file")
    assert text.count("[redacted]") >= len(spellings(key)) * 5  # every planted spelling was scrubbed, not dropped
    on_disk = read_capture(folder / "frames.jsonl")
    assert probes_in(on_disk) == probes(key)
    assert [e.seq for e in on_disk] == [e.seq for e in envs]


def fits_a_close_reason(name: str) -> bool:
    """A close reason holds 123 bytes: a spelling that does not fit whole cannot be planted there."""
    return len(f"bad key {spellings(new_test_key())[name]}".encode()) <= 123


@pytest.mark.parametrize("name", [name for name in spellings(new_test_key()) if fits_a_close_reason(name)])
async def test_a_close_reason_never_carries_the_key_in_any_spelling(name: str, key: str, tmp_path: Path) -> None:
    async with hostile_server(key) as url:
        target = url_target(url + f"&mode=close-with&name={name}", api_key=key)
        folder = new_session_dir(tmp_path)
        capture = CaptureWriter(folder, target.secrets)
        session = RealtimeSession(target, Bus(), capture=capture)
        try:
            await session.connect()
            await asyncio.wait_for(session.wait_closed(), 10)
        except Exception as exc:  # noqa: BLE001 - a close at once may fail the connection: its message is scanned
            assert_no_leak(str(exc), key, f"the connection error ({name})")
        await session.close()
        capture.close()
    assert session.close_reason is not None and "4000" in session.close_reason
    assert_no_leak(session.close_reason, key, f"the close reason ({name})")
    assert_no_leak((folder / "frames.jsonl").read_text(), key, f"the capture ({name})")


# -- rt-tui send: stdout, stderr, capture ----------------------------------------------------


def run_send(url: str, wav: Path, key: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RT_TUI_API_KEY": key, "RT_TUI_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [RT_TUI, "send", str(wav), "--url", url, "--json", "--timeout", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def strict_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line as strict JSON (a bare NaN or Infinity fails)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    return [json.loads(line, parse_constant=refuse) for line in stdout.splitlines()]


async def test_send_json_stdout_stderr_and_capture_never_carry_the_key(key: str, tmp_path: Path) -> None:
    wav = tmp_path / "turn.wav"
    tone = (1000 * np.sin(2 * np.pi * 440 * np.arange(7200) / 24000)).astype(np.int16)  # not silence: refused
    soundfile.write(wav, tone, 24000, subtype="PCM_16")
    data_dir = tmp_path / "data"
    frames, _ = planted_frames(key)
    async with hostile_server(key) as url:
        update = await asyncio.to_thread(run_send, url + "&mode=update", wav, key, data_dir)
        close = await asyncio.to_thread(run_send, url + "&mode=close", wav, key, data_dir)
    # Both runs end in failure, each with its one-line reason quoting what the server said, scrubbed.
    # The planted errors name no frame: a server error while the update's answer was awaited.
    waiting = "server error while waiting for the answer to session.update"
    assert update.returncode == 1 and waiting in update.stderr, update.stderr
    assert "Incorrect API key provided: [redacted]" in update.stderr
    assert close.returncode == 1 and "4000" in close.stderr and "[redacted]" in close.stderr, close.stderr
    for run, name in ((update, "update"), (close, "close")):
        assert "Traceback" not in run.stderr
        assert_no_leak(run.stdout, key, f"send --json stdout ({name})")
        assert_no_leak(run.stderr, key, f"send stderr ({name})")
        strict_lines(run.stdout)
    printed = strict_lines(close.stdout)
    assert sum(r["dir"] == "in" for r in printed) >= len(frames)  # every planted frame was printed
    numbers = next(r for r in printed if r["type"] == "vendor.numbers")
    assert numbers["frame"]["x"] == "rt-tui:non-finite:NaN" and numbers["frame"]["y"] == "rt-tui:non-finite:-Infinity"
    captures = sorted(data_dir.glob("sessions/*/frames.jsonl"))
    assert len(captures) == 2
    for capture in captures:
        assert_no_leak(capture.read_text(), key, f"the capture {capture}")
        assert probes_in(read_capture(capture)) == probes(key)  # every planted frame is on disk
        assert oct(capture.stat().st_mode & 0o777) == oct(0o600)
        assert oct(capture.parent.stat().st_mode & 0o777) == oct(0o700)


# -- the app: screen, notifications, detail views --------------------------------------------


SHOWN = frozenset(
    {"plain", "json-unicode-escaped", "json-slash-escaped", "base64-align-1", "base64-bearer"} | {"percent-lower-hex"}
)
"""The spellings the screen test plants. Every spelling is scrubbed before the bus (the tests above);
the screen can only add a leak by transforming text it draws (decoding escapes, base64 or
percent-encoding), so each kind of spelling is planted in every place, and every frame's detail view
opened (about a quarter of a second each on the loaded 2-core machine)."""


async def test_the_app_never_shows_the_key_on_screen_or_in_any_detail_view(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.screen import ModalScreen

    from tests.app_helpers import notices, wait_for
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice

    monkeypatch.setenv("RT_TUI_API_KEY", key)
    frames, errors = planted_frames(key, SHOWN)
    async with hostile_server(key) as url:
        only = ",".join(sorted(SHOWN))
        app = RtApp(Settings(target=TargetChoice.URL, url=url + f"&mode=app&only={only}", playback=False))
        async with app.run_test(size=(140, 45)) as pilot:
            await wait_for(
                pilot,
                lambda: app.session is not None and app.session.state is ConnectionState.CLOSED,
                15,
                "the hostile server's close",
            )
            await wait_for(pilot, lambda: any("4000" in m for _, m in notices(app)), 10, "the close reason's notice")
            seen: list[tuple[str, str]] = [("the main screen", svg_text(app.export_screenshot()))]
            seen += [(f"notice {title!r}", f"{title} {message}") for title, message in notices(app)]
            details: list[str] = []
            app.event_log.focus()
            await pilot.press("home")
            open_keys = ["d", "enter"]  # details of a frame or a whole run (the key the log binds)
            for _ in range(len(frames) + len(errors) + 12):
                for open_key in list(open_keys):
                    await pilot.press(open_key)
                    if isinstance(app.screen, ModalScreen):
                        open_keys = [open_key]
                        break
                if isinstance(app.screen, ModalScreen):
                    details.append(svg_text(app.export_screenshot()))
                    await pilot.press("escape")
                await pilot.press("down")
    assert len(details) >= len(frames)  # every planted frame's details were looked at
    assert sum("[redacted]" in text for text in details) >= len(frames)  # ...and showed it scrubbed
    seen += [(f"detail view {n}", text) for n, text in enumerate(details, start=1)]
    seen += [(str(path), path.read_text()) for path in Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/*")]
    assert any(where.endswith("frames.jsonl") for where, _ in seen)
    for where, text in seen:
        assert_no_leak(text, key, where)
