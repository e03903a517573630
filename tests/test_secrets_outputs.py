"""The key in every spelling, planted by hostile peers, scanned in the outputs that came with the
debugger: exports, copies and saves, replays (of captures and of HAR files that carry the key in
their headers), the linter's findings, and the proxy (its capture, its screen, its --json output)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.app_helpers import replay_shown, wait_for
from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.secret_helpers import assert_no_leak, new_test_key, svg_text
from tests.test_secrets import hostile_server, planted_frames
from tui.journal.export import export_jsonl
from tui.proxy import ProxyServer, ProxyTarget
from tui.replay import ReplayRequest, load
from tui.session import ConnectionState

RT_TUI = [sys.executable, "-m", "tui"]


@pytest.fixture
def key() -> str:
    return new_test_key()


async def test_exports_copies_and_saves_never_carry_the_key(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice

    monkeypatch.setenv("RT_TUI_API_KEY", key)
    async with hostile_server(key) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url + "&mode=app", playback=False))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(
                pilot,
                lambda: app.session is not None and app.session.state is ConnectionState.CLOSED,
                15,
                "the hostile server's close",
            )
            await pilot.pause(0.3)
            every = list(range(len(app.journal)))
            for keep in (True, False):
                path = tmp_path / f"export-{keep}.jsonl"
                assert export_jsonl(app.journal, every, path, keep_audio=keep) == len(every)
                assert_no_leak(path.read_text(), key, f"an export (audio kept: {keep})")
            for index in every:  # copy every frame: the clipboard text and its file
                app.event_log.select_frame(index, expand=False)
                app.event_log.action_copy()
            await pilot.pause(0.3)
            capture = app.capture
            assert capture is not None
    saved = list(capture.folder.glob("frame-*.json"))
    assert len(saved) >= len(every) // 2
    for path in saved:
        assert_no_leak(path.read_text(), key, f"a copied frame {path.name}")


def har_with_the_key(key: str, path: Path, authorization: str = "Bearer", *, subprotocol: bool = True) -> None:
    """A DevTools HAR whose socket was opened with the key (an `authorization` header, and the
    subprotocol unless told not to) and whose server quoted it back in every spelling."""
    frames, errors = planted_frames(key)
    messages = [
        {"type": "receive", "time": 1700000000 + n / 100, "opcode": 1, "data": frame}
        for n, frame in enumerate([f for f in frames if isinstance(f, str)] + errors)
    ]
    entry = {
        "_resourceType": "websocket",
        "request": {
            "method": "GET",
            "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
            "headers": [
                {"name": "Authorization", "value": f"{authorization} {key}"},
                *(
                    [{"name": "Sec-WebSocket-Protocol", "value": f"realtime, openai-insecure-api-key.{key}"}]
                    if subprotocol
                    else []
                ),
            ],
        },
        "response": {"status": 101},
        "_webSocketMessages": messages,
    }
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))


@pytest.mark.parametrize(("authorization", "subprotocol"), [("Bearer", True), ("bearer", False)])
def test_replay_json_and_lint_of_a_har_never_carry_the_key(
    key: str, tmp_path: Path, authorization: str, subprotocol: bool
) -> None:
    """Whether the browser sent the key in the subprotocol too or only in a header whose scheme is
    spelled in lower case (case-insensitive, as servers read it)."""
    har = tmp_path / "browser.har"
    har_with_the_key(key, har, authorization, subprotocol=subprotocol)
    for command in (["replay", str(har), "--json"], ["lint", str(har)], ["lint", str(har), "--json"]):
        result = subprocess.run([*RT_TUI, *command], capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout.strip()
        assert_no_leak(result.stdout, key, " ".join(command[:1] + command[2:]) + " stdout")
        assert_no_leak(result.stderr, key, " ".join(command[:1] + command[2:]) + " stderr")


async def test_the_replayed_har_never_shows_the_key(key: str, tmp_path: Path) -> None:
    from tui.app import RtApp
    from tui.config import Settings

    har = tmp_path / "browser.har"
    har_with_the_key(key, har)
    app = RtApp(Settings(playback=False, capture=False), replay=ReplayRequest(load(har)))
    async with app.run_test(size=(140, 45)) as pilot:
        await replay_shown(pilot, app)
        assert_no_leak(svg_text(app.export_screenshot()), key, "the replay's screen")
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert_no_leak(svg_text(app.export_screenshot()), key, "the replay's findings")
    for frame in app.journal:
        assert_no_leak((frame.raw or "") + json.dumps(app.journal.data(frame.index)), key, f"replayed #{frame.seq}")


async def test_the_proxy_records_and_shows_no_key(key: str, tmp_path: Path) -> None:
    """Our key goes upstream; the hostile upstream quotes it back in every spelling: the client gets
    the frames unchanged (the proxy alters nothing), the capture and the views get them scrubbed."""
    recorded: list[str] = []
    async with hostile_server(key) as url:
        target = ProxyTarget(url.split("?")[0], "upstream", {"Authorization": f"Bearer {key}"}, (key,))
        server = ProxyServer(target, port=0, on_connection=lambda c: lambda env: recorded.append(env.raw))
        await server.start()
        try:
            async with connect(server.url + "?model=gpt-realtime&mode=app") as client:
                await client.recv()
                await client.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
                got = []
                try:
                    while True:
                        got.append(await asyncio.wait_for(client.recv(), 10))
                except Exception:  # noqa: BLE001 - the hostile server closes quoting the key
                    pass
            await asyncio.wait_for(server.connections[0].closed.wait(), 10)
        finally:
            await server.close()
    assert len(got) > 20  # the planted frames reached the client as the server sent them
    capture = server.connections[0].capture
    assert capture is not None
    assert_no_leak("\n".join(recorded), key, "the proxy's recorded envelopes")
    assert_no_leak(capture.path.read_text(), key, "the proxy's capture")


async def test_the_headless_proxy_prints_no_key(key: str, tmp_path: Path) -> None:
    async with hostile_server(key) as url:
        process = start_headless_proxy(tmp_path / "data", "--url", url.split("?")[0], env={"RT_TUI_API_KEY": key})
        assert process.stderr is not None
        proxy_url, first_lines = await listening_url(process.stderr, 30)
        async with connect(proxy_url + "?model=gpt-realtime&mode=app") as client:
            await client.recv()
            await client.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
            try:
                while True:
                    await asyncio.wait_for(client.recv(), 10)
            except Exception:  # noqa: BLE001 - closed by the hostile server
                pass
        process.terminate()  # SIGTERM: the proxy writes every pending line, then exits
        out, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert len(out.splitlines()) > 20
    assert_no_leak(out, key, "proxy --json stdout")
    assert_no_leak("".join(first_lines) + err, key, "proxy --json stderr")
    for capture in (tmp_path / "data").glob("sessions/*/frames.jsonl"):
        assert_no_leak(capture.read_text(), key, f"the proxy's capture {capture}")
