"""Round 26 of the key-leak hunt: a key given in a URL, credential query names nobody listed, and
the proxy answering plain HTTP.

- A URL on the command line that carries a credential puts it in the process list, which rt-tui
  cannot undo. `--url ws://KEY@host` (the key as a user name, as git's `https://TOKEN@host`) got
  no warning at all, and the warning for a password or `?api-key=` named only `RT_TUI_URL`, not a
  header (`RT_TUI_API_KEY`). What rt-tui shows and captures of each form was already masked: the
  tests below check that too, for `send`, the proxy and the app.
- Query parameters were credentials only by whole name: `?xi-api-key=`, `?client_secret=` or
  `?X-Goog-Signature=` went unmasked into the connection facts (the capture, the event log, an
  export) and into `send`'s errors, and were never scrubbed from what a server echoed. A name
  ending in `key`, `token`, `secret`, `password`, `signature` or `credential` now counts, while
  `model`, `intent`, `deployment`, `api-version` and `max_tokens` stay readable.
- `rt-tui proxy` opened its upstream connection, our key in it, for any request, a browser's or
  curl's plain GET included, and only then did websockets answer 426. It answers such a request
  itself now, and nothing goes upstream.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import soundfile
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from tests.app_helpers import screen_text, session_ready, wait_for
from tests.proxy_helpers import listening_url, start_headless_proxy
from tests.secret_helpers import assert_no_leak, assert_no_leak_in_captures, new_test_key
from tui.proxy import ProxyServer, ProxyTarget

RT_TUI = [sys.executable, "-m", "tui"]


@pytest.fixture
def key() -> str:
    return new_test_key()


# -- 1. a credential in a URL on the command line --------------------------------------------------

FORMS = {
    "user-name": ("ws://{key}@{rest}", "a user name"),
    "password": ("ws://someone:{key}@{rest}", "a password"),
    "api-key": ("ws://{rest}&api-key={key}", "api-key="),
    "key": ("ws://{rest}&key={key}", "key="),
}
"""The forms a key takes in a URL, and what the warning calls each (never its value)."""


def url_with_key(simulator_url: str, form: str, key: str) -> str:
    """`simulator_url` (`ws://HOST:PORT/v1/realtime?model=…`) carrying `key` in the given form."""
    template, _ = FORMS[form]
    return template.format(key=quote(key, safe=""), rest=simulator_url.removeprefix("ws://"))


def assert_warned(stderr: str, form: str, key: str, where: str) -> None:
    """One warning line that names the form and the process list, and says where the key belongs
    instead (the URL in the environment, or the key alone in a header); nothing of the key."""
    lines = [line for line in stderr.splitlines() if "warning: --url carries credentials" in line]
    assert len(lines) == 1, f"{where}: {stderr[-2000:]}"
    line = lines[0]
    assert f"({FORMS[form][1]})" in line, line
    assert "visible to every user of this machine in the process list (ps)" in line, line
    assert "RT_TUI_URL=URL" in line and "$RT_TUI_API_KEY (sent as a header)" in line, line
    assert_no_leak(stderr, key, where)


def silence(tmp_path: Path) -> Path:
    """A short WAV for `rt-tui send` (the simulator answers whatever it hears)."""
    wav = tmp_path / "turn.wav"
    tone = (1000 * np.sin(2 * np.pi * 440 * np.arange(7200) / 24000)).astype(np.int16)  # not silence: refused
    soundfile.write(wav, tone, 24000, subtype="PCM_16")
    return wav


@pytest.mark.parametrize("form", FORMS)
async def test_send_warns_of_a_key_in_its_url_and_shows_none_of_it(
    form: str, key: str, simulator_url: str, tmp_path: Path
) -> None:
    """`rt-tui send --url URL --json` with the key in the URL: one warning; stdout (every frame),
    stderr and the capture hold none of it. The user-name form cannot connect (websockets refuses
    a user name without a password), and says so without the URL's user info."""
    url = url_with_key(simulator_url, form, key)
    data_dir = tmp_path / "data"
    env = {**os.environ, "RT_TUI_DATA_DIR": str(data_dir)}
    command = [*RT_TUI, "send", str(silence(tmp_path)), "--url", url, "--json", "--timeout", "20"]
    run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in run.stderr, run.stderr
    assert_warned(run.stderr, form, key, f"send stderr ({form})")
    assert_no_leak(run.stdout, key, f"send --json stdout ({form})")
    if form == "user-name":
        assert run.returncode != 0 and "invalid URL: ws://127.0.0.1:" in run.stderr, run.stderr
        assert ": a user name without a password (ws://KEY@host is never sent" in run.stderr  # why, too
    else:
        assert '"type":"session.created"' in run.stdout.replace(" ", "")  # the session really ran
    assert_no_leak_in_captures(data_dir, key)


@pytest.mark.parametrize("form", FORMS)
async def test_the_proxy_warns_of_a_key_in_its_url_and_shows_none_of_it(
    form: str, key: str, simulator_url: str, tmp_path: Path
) -> None:
    """`rt-tui proxy --url URL --json`: the warning comes before the proxy listens; a client relayed
    through it (refused with a 502 for the user-name form) leaves no key on stdout, stderr or in
    the capture."""
    process = start_headless_proxy(tmp_path / "data", "--url", url_with_key(simulator_url, form, key))
    assert process.stderr is not None
    try:
        proxy_url, first_lines = await listening_url(process.stderr, 30)
        assert_warned("".join(first_lines), form, key, f"proxy stderr before it listens ({form})")
        if form == "user-name":
            with pytest.raises(InvalidStatus) as refused:
                async with connect(proxy_url + "?model=gpt-realtime"):
                    pass
            assert refused.value.response.status_code == 502
        else:
            async with connect(proxy_url + "?model=gpt-realtime") as client:
                assert '"session.created"' in str(await asyncio.wait_for(client.recv(), 10))
    finally:
        process.terminate()
        out, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert "Traceback" not in err
    assert_no_leak(out, key, f"proxy --json stdout ({form})")
    assert_no_leak("".join(first_lines) + err, key, f"proxy stderr ({form})")
    assert_no_leak_in_captures(tmp_path / "data", key)


@pytest.mark.parametrize("before", [[], ["replay", "recording.jsonl"]], ids=["app", "refused-command"])
@pytest.mark.parametrize("form", FORMS)
def test_the_app_warns_of_a_key_in_its_url_before_it_starts(
    form: str, before: list[str], key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rt-tui --url URL` warns on stderr before Textual takes the screen (the app itself is
    replaced by a recorder here: what it shows is the next test's). A command that refuses a
    `--url` given before it (`rt-tui --url URL replay F`) warns too: the key is in argv all the same."""
    import tui.app

    started: list[object] = []

    def run_app(settings: object) -> int:
        started.append(settings)
        return 0

    monkeypatch.setattr(tui.app, "run_app", run_app)
    monkeypatch.setattr("tui.stdout.terminal_problem", lambda instead: None)  # the app's terminal: replaced too
    from tui.cli import run

    code = run(["--url", url_with_key("ws://127.0.0.1:9/v1/realtime?model=gpt-realtime", form, key), *before])
    err = capsys.readouterr().err
    assert_warned(err, form, key, f"the app's stderr ({form})")
    if before:
        assert code == 2 and "--url does not apply to replay" in err
    else:
        assert code == 0 and len(started) == 1


@pytest.mark.parametrize("form", FORMS)
async def test_the_app_shows_and_captures_none_of_a_key_in_its_url(key: str, form: str, simulator_url: str) -> None:
    """The app on a URL carrying the key (already masked before this round: checked, not fixed):
    the screen, the status line and the capture show the URL without it."""
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice

    url = url_with_key(simulator_url, form, key)
    app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, reconnect=False))
    async with app.run_test(size=(140, 40)) as pilot:
        if form == "user-name":  # websockets refuses it as it connects: a failure, said without it
            await wait_for(pilot, lambda: app.facts.state == "failed", 10, "the refused URL")
        else:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        screen = screen_text(app)
    assert_no_leak(screen, key, f"the screen ({form})")
    texts = assert_no_leak_in_captures(Path(os.environ["RT_TUI_DATA_DIR"]), key)
    if form in ("api-key", "key"):
        assert f"&{form}=***" in texts[0]


async def test_an_error_that_quotes_a_user_name_url_whole_is_scrubbed_of_the_key(key: str) -> None:
    """websockets refuses `ws://KEY@host` with an error that quotes the URL whole: the target
    counts the lone user name among its secrets, so whatever shows that error shows it scrubbed
    (a user name beside a password is no secret: scrubbing `admin` would mangle frames)."""
    from websockets.exceptions import InvalidURI

    from tui.session.scrub import Scrubber
    from tui.session.targets import url_target

    url = url_with_key("ws://127.0.0.1:9/v1/realtime?model=gpt-realtime", "user-name", key)
    with pytest.raises(InvalidURI) as refused:
        async with connect(url):
            pass
    assert quote(key, safe="") in str(refused.value)
    said = Scrubber(url_target(url).secrets).text(str(refused.value))
    assert said.startswith("ws://[redacted]@127.0.0.1:9/") and "username provided without password" in said
    assert_no_leak(said, key, "the scrubbed error")
    assert url_target("ws://administrator:pw-12345678@127.0.0.1:9/").secrets == ("pw-12345678",)


# -- 2. credential query names by rule -------------------------------------------------------------

CREDENTIAL_NAMES = ("xi-api-key", "access_token", "client_secret", "X-Goog-Signature", "sessionToken", "db_password")
"""Names nobody listed: each ends in a word that says its value is a credential."""

PARAMETERS = "model=gpt-realtime&intent=transcription&deployment=dep-1&api-version=2025-08-28&max_tokens=20"
"""Ordinary parameters, which stay readable wherever the URL is shown."""


def test_credential_query_names_are_known_by_their_ending_and_parameters_are_not() -> None:
    from tui.session.targets import is_secret_query_name, url_target

    for name in (*CREDENTIAL_NAMES, "auth", "sig", "token", "key", "XI_API_KEY", "xi%2Dapi%2Dkey", "MyServiceKey"):
        assert is_secret_query_name(name), name
    for name in ("model", "intent", "deployment", "api-version", "max_tokens", "keyword", "token_budget", "voice"):
        assert not is_secret_query_name(name), name
    url = "wss://example.test/v1/realtime?" + PARAMETERS + "".join(f"&{n}=value-{n}-12345" for n in CREDENTIAL_NAMES)
    target = url_target(url)
    assert target.label == "wss://example.test/v1/realtime?" + PARAMETERS + "".join(
        f"&{n}=***" for n in CREDENTIAL_NAMES
    )
    assert set(target.secrets) == {f"value-{n}-12345" for n in CREDENTIAL_NAMES}


def keys_by_name() -> dict[str, str]:
    """A fresh key for each credential name, so a leak says which name leaked."""
    return {name: new_test_key() for name in CREDENTIAL_NAMES}


def with_credentials(url: str, keys: dict[str, str]) -> str:
    """`url` (its query names the model) with every ordinary parameter and each name's key."""
    base = url.split("?")[0]
    return f"{base}?{PARAMETERS}" + "".join(f"&{name}={quote(key, safe='')}" for name, key in keys.items())


async def test_unlisted_credential_query_names_are_masked_on_screen_in_the_capture_and_in_exports(
    simulator_url: str, tmp_path: Path
) -> None:
    """The app on a URL with `?xi-api-key=…&client_secret=…`: the connection facts (event log,
    capture, an export) show each as `***`, the ordinary parameters as written."""
    from tui.app import RtApp
    from tui.config import Settings, TargetChoice
    from tui.journal.export import export_jsonl

    keys = keys_by_name()
    app = RtApp(Settings(target=TargetChoice.URL, url=with_credentials(simulator_url, keys), playback=False))
    async with app.run_test(size=(140, 40)) as pilot:
        # Open is enough (a transcription intent's session may refuse our realtime update): the
        # URL is shown as the connection is made.
        await wait_for(pilot, lambda: app.facts.state == "open", 10, "the session")
        screen = screen_text(app)
        export = tmp_path / "export.jsonl"
        export_jsonl(app.journal, list(range(len(app.journal))), export, keep_audio=False)
    (capture,) = Path(os.environ["RT_TUI_DATA_DIR"]).glob("sessions/*/frames.jsonl")
    captured = capture.read_text()
    shown = PARAMETERS + "".join(f"&{name}=***" for name in CREDENTIAL_NAMES)
    assert f"connected to {simulator_url.split('?')[0]}?{shown}" in captured
    for name, key in keys.items():
        for text, where in ((screen, "the screen"), (captured, "the capture"), (export.read_text(), "the export")):
            assert_no_leak(text, key, f"{where} ({name})")


@asynccontextmanager
async def refusing_server() -> AsyncIterator[str]:
    """A server that refuses every upgrade with a 401; yields its ws:// URL."""

    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(401, "no\n")

    async def never(connection: ServerConnection) -> None:  # pragma: no cover - nothing is accepted
        await connection.wait_closed()

    async with serve(never, "127.0.0.1", 0, process_request=refuse) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime?model=gpt-realtime"


async def test_send_s_error_masks_unlisted_credential_query_names(tmp_path: Path) -> None:
    """`rt-tui send` refused by the server (RT_TUI_URL: no warning to look past): its one-line
    error names the URL with each credential masked and the parameters readable."""
    keys = keys_by_name()
    async with refusing_server() as url:
        target = with_credentials(url, keys)
        env = {**os.environ, "RT_TUI_URL": target, "RT_TUI_DATA_DIR": str(tmp_path / "data")}
        command = [*RT_TUI, "send", str(silence(tmp_path)), "--timeout", "20"]
        run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode != 0 and "401" in run.stderr, run.stderr
    assert "api-version=2025-08-28" in run.stderr and "xi-api-key=***" in run.stderr, run.stderr
    for name, key in keys.items():
        assert_no_leak(run.stdout + run.stderr, key, f"send's output ({name})")
        assert_no_leak_in_captures(tmp_path / "data", key)


async def test_the_proxy_masks_and_drops_a_client_s_unlisted_credential_query_names(
    simulator_url: str, tmp_path: Path
) -> None:
    """A client's `?xi-api-key=…` through a proxy that adds its own key upstream: the connecting
    line masks it, and it does not go upstream beside ours (the upstream URL is shown without it)."""
    keys = keys_by_name()
    ours = new_test_key()
    recorded: list[str] = []
    target = ProxyTarget(simulator_url.split("?")[0], "simulator", {"Authorization": f"Bearer {ours}"}, (ours,))
    server = ProxyServer(target, port=0)
    server.on_connection = lambda connection: lambda env: recorded.append(env.raw)
    await server.start()
    try:
        async with connect(with_credentials(server.url, keys)) as client:
            assert '"session.created"' in str(await asyncio.wait_for(client.recv(), 10))
        await asyncio.wait_for(server.connections[0].closed.wait(), 10)
    finally:
        await server.close()
    connection = server.connections[0]
    assert "xi-api-key=***" in connection.path and "api-version=2025-08-28" in connection.path
    assert "xi-api-key" not in connection.upstream_url and "deployment=dep-1" in connection.upstream_url
    assert connection.capture is not None
    captured = connection.capture.path.read_text()
    for name, key in keys.items():
        assert_no_leak("\n".join(recorded), key, f"the proxy's recorded facts ({name})")
        assert_no_leak(captured, key, f"the proxy's capture ({name})")


# -- 3. the proxy and plain HTTP -------------------------------------------------------------------


@asynccontextmanager
async def counting_upstream(requests: list[Request]) -> AsyncIterator[str]:
    """A websocket server that keeps every request it gets (its upgrade's headers, key and all)
    and sends `session.created` to each client; yields its ws:// URL."""

    def keep(connection: ServerConnection, request: Request) -> None:
        requests.append(request)

    async def handler(connection: ServerConnection) -> None:
        await connection.send('{"type":"session.created","session":{"id":"sess_counted"}}')
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, process_request=keep) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime"


PLAIN_REQUESTS = {
    "browser-get": "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n",
    "curl-get": "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    "post-with-upgrade": (
        "POST /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ),
    "upgrade-without-key": (
        "GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ),
}
"""Requests the proxy cannot relay as a WebSocket, each of which it used to relay upstream first."""

ANSWERS = {"browser-get": 426, "curl-get": 426, "post-with-upgrade": 405, "upgrade-without-key": 400}


@pytest.mark.parametrize("kind", PLAIN_REQUESTS)
async def test_the_proxy_answers_plain_http_itself_and_never_contacts_the_upstream(key: str, kind: str) -> None:
    """A plain GET (or a request websockets would refuse) to a proxy that adds our key upstream:
    answered locally (426 with `Upgrade: websocket` and a one-line body for a GET), the upstream
    never asked, no connection counted; a WebSocket client afterwards is relayed as before."""
    requests: list[Request] = []
    async with counting_upstream(requests) as upstream:
        server = ProxyServer(ProxyTarget(upstream, "upstream", {"Authorization": f"Bearer {key}"}, (key,)), port=0)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(PLAIN_REQUESTS[kind].encode())
            await writer.drain()
            answer = (await asyncio.wait_for(reader.read(), 10)).decode()
            writer.close()
            asked_before = len(requests)
            async with connect(server.url + "?model=gpt-realtime") as client:  # the proxy still relays
                assert "sess_counted" in str(await asyncio.wait_for(client.recv(), 10))
        finally:
            await server.close()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {ANSWERS[kind]} "), answer
    assert asked_before == 0, f"the upstream was asked {asked_before} time(s) for a {kind}"
    assert len(requests) == 1 and requests[0].headers["Authorization"] == f"Bearer {key}"
    assert [connection.number for connection in server.connections] == [1]  # the plain request is none
    if ANSWERS[kind] == 426:
        assert "\r\nUpgrade: websocket\r\n" in head
        assert body.count("\n") == 1 and body.startswith("rt-tui proxy: this is a Realtime WebSocket proxy"), body
    assert_no_leak(answer, key, f"the proxy's answer to a {kind}")
