"""The inspecting relay: your own client ⇄ rt-tui ⇄ the Realtime service, every frame recorded.

Each client connection opens its own upstream connection: the target's URL (its path; the
client's only when the target has none) with the client's query over the target's, and the
client's headers as sent but for the hop-by-hop ones and the handshake's own. Two tasks copy
messages across unchanged (text stays text, binary stays binary, the very same objects),
recording each one *after* it is forwarded, so inspection adds no latency to the relay. Close
codes and reasons pass through both ways; a side that vanishes without a close frame has the other
dropped the same way (no close frame: 1006 there too), and the relay says why.

Keys: when the target carries a key (OpenAI, Azure, or `--url` with `RT_TUI_API_KEY`), the proxy
adds it upstream and drops whatever key the client sent, so the client needs none (so does a
`--url` carrying its own: `user:password`, `?api-key=…`); otherwise the client's own credentials pass through. Every key
seen, ours or the client's, is scrubbed from what is recorded and shown (the frames forwarded are
never altered).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http
import ipaddress
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tui.protocol import Direction, Envelope, FrameError, local_envelope, parse
from tui.protocol.credentials import KEY_SUBPROTOCOL_PREFIXES, SECRET_HEADERS
from tui.session.capture import CaptureWriter, new_session_dir
from tui.session.client import connect_no_redirects
from tui.session.scrub import Scrubber
from tui.session.streamed import DeltaGuard
from tui.session.targets import has_user_info, masked_path

from .handshake import (
    client_credentials,
    local_answer,
    masked,
    query_credentials,
    redirect_note,
    refusal,
    refusal_line,
    upstream_label,
    upstream_url,
    without_query_credentials,
)

DEFAULT_MAX_FRAME = 16 * 1024 * 1024

CLIENT_QUEUE_FRAMES = 64
"""Frames read from a client ahead of the upstream taking them (each up to `DEFAULT_MAX_FRAME`). Not
fewer: with a full queue websockets stops reading the client's socket, and a client that leaves
then is not seen leaving while the upstream takes nothing (its relay stayed for good; 16 did that
to a 40-frame burst). The bound is what it costs: 64 × 16 MiB held at most per connection."""

Sink = Callable[[Envelope], None]
"""Where a connection's envelopes go (a bus topic, a printer); called on the event loop, never blocks."""

HANDSHAKE_HEADERS = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "user-agent",  # sent as the client's, marked as relayed
    }
)
"""Client headers not passed on as they are: hop-by-hop ones (RFC 9110 §7.6.1), and those the
upstream handshake writes itself; with every `Sec-WebSocket-*` (the offered subprotocols are
passed apart) and `Proxy-*` one."""
UNSENDABLE_CLOSE_CODES = frozenset({1005, 1006, 1015})
"""Codes that describe a close but may not be sent in a close frame."""
CLOSE_TIMEOUT = 1.0
"""Seconds a side gets to answer a close before the relay drops its connection. websockets' own close
waits 10 s for an answer, and for ever for room to write its close frame when the peer reads nothing
(its socket full): Ctrl+C did not stop `rt-tui proxy`."""
KEEPALIVE_INTERVAL = 20.0
"""Seconds between the relay's pings to each side (websockets' default): they keep an idle connection
open through a NAT or a load balancer, and a peer gone for good fails its TCP writes. A late pong
never ends a relay (`ping_timeout=None`): while a client does not read (paused in a debugger, busy),
the relay reads nothing from the upstream either, so neither side's pong is read; websockets' 20 s
deadline closed both with 1011 "keepalive ping timeout", blaming the upstream, where the same client
connected directly kept its session."""
FORWARD_GRACE = 10.0
"""Once a side's connection is gone, seconds the relay waits for the next of its last frames to be
forwarded before it gives up on the rest: a client that left an upstream that reads nothing kept its
relay (its capture, its session shown open) for good."""


@dataclass(frozen=True, slots=True)
class ProxyTarget:
    """Where the proxy relays to."""

    url: str
    """The upstream endpoint; the client's query parameters are merged over its own."""
    label: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """Credentials to add upstream, in place of the client's (empty: the client's own pass through)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(slots=True)
class ProxyConnection:
    """One client connection through the proxy."""

    number: int
    client: str
    path: str
    """The client's request path, credentials masked."""
    upstream_label: str
    """The target's name (`OpenAI · gpt-realtime`), with the model the client asked for."""
    scrub: Scrubber
    deltas: DeltaGuard | None = None
    """Keeps a key out of text streamed in pieces (no one delta holds it whole, the joined text would)."""
    sink: Sink | None = None
    capture: CaptureWriter | None = None
    capture_refused: str | None = None
    """Why the connection has no capture file though captures are on (one could not be made)."""
    frames_in: int = 0
    frames_out: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    upstream_url: str = ""
    """The URL the upstream was asked for (the client's query over the target's), credentials masked."""
    failure: str | None = None
    """Why the connection failed before it relayed anything (the upstream unreachable, or refusing
    the upgrade; the client was answered with an HTTP error), scrubbed; None: it did not fail."""
    seqs: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    """This connection's envelope numbers: each connection's capture counts its frames from 1, as its
    `t` counts from its first frame (a process-wide count started connection 2's capture at #80)."""

    @property
    def label(self) -> str:
        """`#2 127.0.0.1:50412 → OpenAI · gpt-realtime`."""
        return f"#{self.number} {self.client} → {self.upstream_label}"

    def record(self, env: Envelope) -> None:
        """Scrub, write to the capture, hand to the sink."""
        env = self.scrub.envelope(env)
        if self.deltas is not None:
            env = self.deltas.envelope(env)
        if self.capture is not None:
            self.capture.write(env, scrubbed=True)
        if self.sink is not None:
            self.sink(env)

    def fact(self, event_type: str, message: str, **fields: Any) -> None:
        """Record a local fact about this connection."""
        if event_type == "rt.connection" and fields.get("state") == "failed":
            self.failure = self.scrub.text(message)
        fact = local_envelope(event_type, message, target=self.label, **fields)
        self.record(dataclasses.replace(fact, seq=next(self.seqs)))


def _unreachable(exc: Exception) -> str:
    """Why the upstream could not be reached, in a user's words (`connection refused: is the server
    running?`), as the app and `send` say it; Python's own words (`ConnectionRefusedError: [Errno
    111] Connect call failed ('127.0.0.1', 18799)`) only for what has none."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: is the server running?"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return f"{type(exc).__name__}: {exc}"


def _capture_stopped(connection: ProxyConnection, message: str) -> None:
    """A connection's capture file stopped (a full disk): said as a failed fact, on stderr in
    `--json` and as a notice in the app; the relay goes on. It was silent: the file ended early
    and `lint` found it clean."""
    connection.fact("rt.capture", message, state="failed", notify=True)


class ProxyServer:
    """Listens for your client and relays each connection to the target."""

    def __init__(
        self,
        target: ProxyTarget,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_connection: Callable[[ProxyConnection], Sink | None] | None = None,
        capture: bool = True,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
        open_timeout: float = 15.0,
        ping_interval: float | None = KEEPALIVE_INTERVAL,
    ) -> None:
        self.target = target
        self.host = host
        self.port = port
        self.on_connection = on_connection
        self.capture = capture
        self.max_frame_bytes = max_frame_bytes
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        """Seconds between the relay's pings to each side (None: none); see KEEPALIVE_INTERVAL."""
        self.connections: list[ProxyConnection] = []
        self._client_secrets: dict[str, None] = {}
        """Every credential a client has presented (in order, once each): each connection's record
        is scrubbed of them all, not only of its own client's (see `_learn_secrets`)."""
        self._numbers = itertools.count(1)
        self._server: Server | None = None
        self._pending: dict[ServerConnection, tuple[ClientConnection, ProxyConnection]] = {}
        self._reapers: set[asyncio.Task[None]] = set()
        """Tasks that close an upstream whose client never finished its handshake (kept referenced)."""
        self._upstreams: set[ClientConnection] = set()
        """The upstream connections being relayed (dropped by `close` if they will not close)."""
        self._stopping = asyncio.Event()
        """Set by `close`: an upstream still being opened is given up (its client gets a 503)."""

    @property
    def url(self) -> str:
        """The URL your client connects to: for a proxy on every interface (`0.0.0.0`, `::`), the
        loopback one (`ws://0.0.0.0:…` is no address to give a client); an IPv6 host in brackets."""
        host = self.host
        with contextlib.suppress(ValueError):  # a host name: as it is
            address = ipaddress.ip_address(host)
            if address.is_unspecified:
                host = "127.0.0.1" if address.version == 4 else "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.port}/v1/realtime"

    async def __aenter__(self) -> ProxyServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind and listen (port 0 picks a free one, read back into `port`)."""
        self._server = await serve(
            self._relay,
            self.host,
            self.port,
            process_request=self._open_upstream,
            select_subprotocol=self._select_subprotocol,
            compression=None,
            max_size=self.max_frame_bytes,
            max_queue=CLIENT_QUEUE_FRAMES,  # see it: fewer hid a client leaving a deaf upstream
            server_header="rt-tui-proxy",
            # Longer than the upstream's own open timeout: a slow upstream ends in a 502 that says
            # why, not in the client's handshake cut off with no word (and no end) for the connection.
            open_timeout=self.open_timeout + 5,
            ping_interval=self.ping_interval,
            ping_timeout=None,  # see KEEPALIVE_INTERVAL
        )
        self.port = self._server.sockets[0].getsockname()[1] if self.port == 0 else self.port

    async def close(self) -> None:
        """Stop listening and close every relayed connection."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            try:
                async with asyncio.timeout(3 * CLOSE_TIMEOUT):
                    await self._server.wait_closed()
            except TimeoutError:
                # A peer that reads nothing (its socket full) holds a close frame for ever: drop the
                # connections left, so their relays (and websockets' own close) end.
                for connection in (*self._server.connections, *self._upstreams):
                    connection.transport.abort()
                await self._server.wait_closed()
        for reaper in list(self._reapers):
            reaper.cancel()  # each would close its own upstream while this loop closes them all
        await asyncio.gather(*self._reapers, return_exceptions=True)
        while self._pending:  # popped one at a time: the dict may change while an upstream closes
            _, (upstream, _) = self._pending.popitem()
            await _close_within(upstream)

    # -- handshake --------------------------------------------------------------------------

    def _learn_secrets(self, client_secrets: Sequence[str]) -> tuple[str, ...]:
        """Every secret to keep out of the records from now on: the target's, and every client's
        credential seen so far, this one's included. A credential new to the proxy is taken into
        the connections already open too: one client's key in another's traffic (a shared config
        echoed in instructions) was recorded whole, that connection scrubbing only its own."""
        new = [secret for secret in client_secrets if secret and secret not in self._client_secrets]
        self._client_secrets.update(dict.fromkeys(new))
        secrets = (*self.target.secrets, *self._client_secrets)
        if new:
            for connection in self.connections:
                connection.scrub = Scrubber(secrets)
                if connection.deltas is not None:
                    connection.deltas.add_secrets(new)
        return secrets

    async def _open_upstream(self, client: ServerConnection, request: Request) -> Response | None:
        """Connect upstream before answering the client: an HTTP refusal passes through as such."""
        answer = local_answer(request)
        if answer is not None:
            return answer  # not a WebSocket upgrade: nothing goes upstream, no connection is counted
        number = next(self._numbers)
        client_secrets = client_credentials(request.headers) + query_credentials(request.path)
        secrets = self._learn_secrets(client_secrets)
        scrub = Scrubber(secrets)
        path = scrub.text(masked_path(request.path))
        remote = client.remote_address
        who = f"{remote[0]}:{remote[1]}" if isinstance(remote, tuple) and len(remote) >= 2 else "client"
        # With our credential upstream, the client's goes: from its query too (`?api-key=`, `sig=`).
        asked = without_query_credentials(request.path) if self._adds_credential else request.path
        url = upstream_url(self.target.url, asked)
        # The URL asked for, not the target's: the client's `?model=` wins over the target's.
        shown = scrub.text(masked(url))
        label = scrub.text(upstream_label(self.target.label, self.target.url, url))
        connection = ProxyConnection(number, who, path, label, scrub, DeltaGuard(secrets), upstream_url=shown)
        # The capture first, so whoever shows the connection knows its file (payloads the journal
        # let go are read back from it; what the user saves goes beside it); its failure is said
        # once the connection has somewhere to say it.
        capture_failed: OSError | None = None
        if self.capture:
            try:
                connection.capture = CaptureWriter(
                    new_session_dir(), secrets, on_error=partial(_capture_stopped, connection)
                )
            except OSError as exc:
                capture_failed = exc
                connection.capture_refused = f"no capture file: {exc.strerror or exc}"
        if self.on_connection is not None:
            connection.sink = self.on_connection(connection)
        if capture_failed is not None:
            connection.fact("rt.capture", f"no capture file: {capture_failed.strerror or capture_failed}", failed=True)
        captured = ""
        if connection.capture is not None:
            # Said as a live session says it; and its folder on the connecting line (stderr in
            # `--json`), so a script can `rt-tui lint` connection N's capture.
            where = str(connection.capture.path)
            connection.fact("rt.capture", f"capturing every frame to {where}", path=where)
            captured = f"; captured in {connection.capture.path.parent}"
        self.connections.append(connection)
        elsewhere = scrub.text(_path_not_relayed(masked_path(request.path), self.target.url))
        connection.fact(
            "rt.connection",
            f"{who} connected: relaying {path} to {shown}{elsewhere}{captured}",
            state="connecting",
            connection=number,  # the proxy's count of client connections: each has a journal of its own
        )
        headers, subprotocols = self._upstream_headers(request.headers)
        try:
            # Made inside the try: websockets reads the URL as `connect` is made, and one it cannot
            # use (`ws://KEY@host`, a user name without a password) raised out of the handshake,
            # its traceback quoting the URL whole on stderr, and the connection never ended.
            opening = asyncio.ensure_future(
                connect_no_redirects(  # a 3xx reaches the client as the upstream's answer
                    url,
                    additional_headers=headers,
                    subprotocols=subprotocols or None,
                    compression=None,
                    max_size=self.max_frame_bytes,
                    open_timeout=self.open_timeout,
                    ping_interval=self.ping_interval,
                    ping_timeout=None,  # see KEEPALIVE_INTERVAL
                    user_agent_header=None,
                    proxy=None,
                )
            )
            upstream = await self._unless_stopping(opening)
        except _Stopping:
            message = "the proxy stopped before the upstream answered"
            connection.fact("rt.connection", message, state="failed")
            self._finish(connection)
            return client.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, message + "\n")
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = scrub.text(bytes(exc.response.body or b"").decode("utf-8", "replace"))
            said = refusal_line(body)
            # Why, not only that: a 401's body names the wrong key or the missing header. The fields
            # `http_status` and `http_body` are for readers (the linter); the message, for stderr.
            redirect = redirect_note(exc.response, url, scrub)
            message = f"upstream refused the upgrade: HTTP {status}{redirect}{': ' + said if said else ''}"
            connection.fact("rt.connection", message, state="failed", http_status=status, http_body=said)
            self._finish(connection)
            return refusal(exc.response, body or f"upstream answered HTTP {status}\n", scrub)
        except InvalidURI as exc:  # its words quote the URL whole, credentials and all: never shown
            reason = scrub.text(f"cannot reach {shown}: not a URL websockets can use ({exc.msg})")
            connection.fact("rt.connection", reason, state="failed")
            self._finish(connection)
            return client.respond(http.HTTPStatus.BAD_GATEWAY, reason + "\n")
        except Exception as exc:  # noqa: BLE001 - whatever it was, the client gets a 502 and one line
            reason = scrub.text(f"cannot reach {shown}: {_unreachable(exc)}")
            connection.fact("rt.connection", reason, state="failed")
            self._finish(connection)
            return client.respond(http.HTTPStatus.BAD_GATEWAY, reason + "\n")
        self._pending[client] = (upstream, connection)
        reaper = asyncio.get_running_loop().create_task(self._reap_if_never_opened(client))
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)
        return None

    async def _unless_stopping(self, opening: asyncio.Future[ClientConnection]) -> ClientConnection:
        """The upstream connection being opened, or _Stopping once `close` is called: an upstream
        that accepts the connection and never answers the upgrade held Ctrl+C for its open timeout
        (15 s)."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        either: list[asyncio.Future[Any]] = [opening, stopping]
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await opening
            raise _Stopping
        return opening.result()

    async def _reap_if_never_opened(self, client: ServerConnection) -> None:
        """Close the upstream of a client that left before its handshake finished.

        A client that gives up while the upstream is still being opened (its own open timeout, a
        Ctrl+C) never reaches `_relay`, so nothing else would close the upstream connection it
        asked for: it would stay open (a live session with the service) until the proxy stops,
        and its capture and its session in the app would wait for ever.
        """
        await asyncio.shield(client.connection_lost_waiter)
        pending = self._pending.pop(client, None)
        if pending is None:
            return  # the relay took it, and closes it
        upstream, connection = pending
        await _close_within(upstream, 1001, "client left before the connection opened")
        message = "client left before its connection opened; closed the upstream connection"
        connection.fact("rt.connection", message, state="closed")
        self._finish(connection)

    @property
    def _adds_credential(self) -> bool:
        """True when the proxy sends a credential of its own upstream: a key, the user:password in
        the upstream URL (which the WebSocket client sends as Basic auth), or a credential in its
        query (`RT_TUI_URL=…?api-key=KEY`, as README advises: an Azure SDK's dummy key beside it
        would be refused, and a client's `?api-key=` would replace it)."""
        url = self.target.url
        return bool(self.target.headers) or has_user_info(url) or bool(query_credentials(url))

    def _upstream_headers(self, headers: Headers) -> tuple[list[tuple[str, str]], list[Subprotocol]]:
        """The client's headers as the upstream gets them: every one but the handshake's own and
        the hop-by-hop ones, in the client's order, as (name, value) pairs, so a header the client
        sent twice goes twice (the upstream judges it). A gateway's own headers (`cf-aig-*`,
        `x-portkey-*`, `Helicone-Auth`), a tracing id: the client's business, passed on.

        With a credential of ours upstream, the client's credential headers are dropped (never
        sent beside ours), as are the subprotocols that carry a key."""
        ours = self._adds_credential
        # A header the client's Connection names is hop-by-hop too (RFC 9110 §7.6.1).
        listed = {token.strip().lower() for value in headers.get_all("connection") for token in value.split(",")}
        out: list[tuple[str, str]] = []
        for name, value in headers.raw_items():
            lower = name.lower()
            if lower in HANDSHAKE_HEADERS or lower in listed or lower.startswith(("sec-websocket-", "proxy-")):
                continue
            if ours and lower in SECRET_HEADERS:
                continue
            out.append((name, value))
        agents = headers.get_all("user-agent")
        out.append(("User-Agent", f"{agents[0] if agents else 'client'} (via rt-tui proxy)"))
        offered = [p.strip() for p in ",".join(headers.get_all("Sec-WebSocket-Protocol")).split(",") if p.strip()]
        if ours:
            out += self.target.headers.items()
            offered = [p for p in offered if not p.startswith(KEY_SUBPROTOCOL_PREFIXES)]
        return out, [Subprotocol(p) for p in offered]

    def _select_subprotocol(self, client: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        pending = self._pending.get(client)
        chosen = pending[0].subprotocol if pending is not None else None
        if chosen is not None and chosen in offered:
            return chosen
        return None

    # -- relaying ---------------------------------------------------------------------------

    async def _relay(self, client: ServerConnection) -> None:
        pending = self._pending.pop(client, None)
        if pending is None:
            return
        upstream, connection = pending
        connection.fact("rt.connection", f"relaying to {connection.upstream_url}", state="open")
        to_upstream = asyncio.create_task(self._pipe(client, upstream, connection, Direction.OUT))
        to_client = asyncio.create_task(self._pipe(upstream, client, connection, Direction.IN))
        pipes = (to_upstream, to_client)
        # A side's end, watched apart: a pipe blocked writing to a side that reads nothing never
        # sees its own source close (nor does the other, reading that silent side).
        ends = [asyncio.ensure_future(side.wait_closed()) for side in (client, upstream)]
        self._upstreams.add(upstream)
        try:
            await asyncio.wait([*pipes, *ends], return_when=asyncio.FIRST_COMPLETED)
            while not any(pipe.done() for pipe in pipes):
                # A side is gone: what it sent before it left is still forwarded while that goes on.
                forwarded = connection.frames_in + connection.frames_out
                await asyncio.wait(pipes, timeout=FORWARD_GRACE, return_when=asyncio.FIRST_COMPLETED)
                if connection.frames_in + connection.frames_out == forwarded:
                    break
        finally:
            for task in (*pipes, *ends):
                task.cancel()
            for task in (*pipes, *ends):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self._close_both(client, upstream, connection)
            self._upstreams.discard(upstream)
            self._finish(connection)

    async def _pipe(
        self,
        source: ServerConnection | ClientConnection,
        sink: ServerConnection | ClientConnection,
        connection: ProxyConnection,
        direction: Direction,
    ) -> None:
        async for message in source:
            try:
                await sink.send(message)  # forwarded first, unchanged: recording never delays it
            except ConnectionClosed:
                connection.record(_envelope(message, direction, next(connection.seqs)))
                return
            connection.record(_envelope(message, direction, next(connection.seqs)))
            if direction is Direction.OUT:
                connection.frames_out += 1
            else:
                connection.frames_in += 1

    async def _close_both(
        self, client: ServerConnection, upstream: ClientConnection, connection: ProxyConnection
    ) -> None:
        """Pass the close that ended the relay to the other side, code and reason."""
        closer: ServerConnection | ClientConnection
        other: ServerConnection | ClientConnection
        send_code: int | None
        if upstream.close_code is not None and client.close_code is None:
            code, reason, who = upstream.close_code, upstream.close_reason or "", "upstream"
            closer, other = upstream, client
        elif client.close_code is not None:
            code, reason, who = client.close_code, client.close_reason or "", "client"
            closer, other = client, upstream
        else:
            code, reason, who = 1011, "relay stopped", "rt-tui"
            closer, other = client, upstream
        received, sent = closer.protocol.close_rcvd, closer.protocol.close_sent
        if received is None and sent is not None and who != "rt-tui":
            # The relay closed that side itself (a frame over --max-frame-mib: 1009) and did not wait
            # for its answer: that side did not vanish, and what went wrong is the relay's to say.
            code = sent.code
            send_code, send_reason = 1011, f"rt-tui closed the {who} connection with {sent.code}"
            message = (
                f"rt-tui closed the {who} connection with {sent.code}"
                f"{': ' + sent.reason if sent.reason else ''}"
                f"{' (--max-frame-mib raises the limit)' if sent.code == 1009 else ''}; closed the other side with 1011"
            )
        elif received is None and who != "rt-tui":
            # Gone without a close frame (a crash, a reset): the other side loses its connection the
            # same way, as it would without the proxy (it was closed with 1011, and a client that
            # handles 1006 and 1011 apart behaved otherwise behind the proxy than in production).
            told = "client" if who == "upstream" else "upstream"
            # Who vanished first, then what the other side was told: a narrow status line keeps the
            # start, and `dropped the upstream without a close frame (10…` read as the upstream's fault.
            message = f"the {who} vanished without a close frame (1006): the {told} was dropped the same way"
            send_code = send_reason = None
        else:
            # A close frame without a status (1005) goes on as one: the other side reads the same
            # close, not an internal error (1011) the closing side never sent.
            send_code = None if code == 1005 else code if code not in UNSENDABLE_CLOSE_CODES else 1011
            send_reason, message = reason, f"{who} closed with {code}{': ' + reason if reason else ''}"
            if self._stopping.is_set() and who == "client" and code == 1001 and sent is not None:
                # The 1001 was ours (the proxy stopping closes its clients): the client only answered.
                message = "the proxy stopped: closed the client with 1001, then the upstream"
        if send_reason is None:
            other.transport.abort()  # dropped as the closer was, no close frame (see above)
        else:
            await _close_within(other, send_code, fit_close_reason(send_reason))
        await _close_within(closer)
        connection.fact("rt.connection", connection.scrub.text(message), state="closed", code=code)

    def _finish(self, connection: ProxyConnection) -> None:
        if connection.deltas is not None:
            for note in connection.deltas.held_back_notes():  # text a stream held back, said as a session says it
                connection.fact("rt.warning", note)
        if connection.capture is not None:
            connection.capture.close()
        connection.closed.set()


class _Stopping(Exception):
    """The proxy is stopping: an upstream being opened is given up."""


MAX_CLOSE_REASON = 123
"""The most UTF-8 bytes a close frame's reason holds (RFC 6455 §5.5: 125 bytes of payload, 2 of them the code)."""


def _path_not_relayed(asked: str, target: str) -> str:
    """A note for a client that asked for another path than the target's (`/foo`, `/`): the relay
    goes to the target's path all the same, so the client works through the proxy, while connected
    directly to the service it would be refused (HTTP 404). Nothing when the paths agree."""
    path = asked.partition("?")[0]
    # A request's path (`//v1/…` is no host), or the path of one in absolute form (`GET ws://host/…`).
    theirs = (urlsplit(path).path if "://" in path else path).rstrip("/")
    ours = urlsplit(target).path.rstrip("/")
    if not ours or theirs == ours:
        return ""
    return (
        f" (your client asked for the path {theirs or '/'}, not {ours}: relayed all the same, but connected "
        "directly the service would refuse it)"
    )


def fit_close_reason(reason: str) -> str:
    """`reason` cut to what a close frame holds, at a character's end. A peer's reason always fits
    and passes whole (it was cut at 120 characters: a 123-byte reason lost its end)."""
    return reason.encode()[:MAX_CLOSE_REASON].decode("utf-8", "ignore")


async def _close_within(side: ServerConnection | ClientConnection, code: int | None = 1000, reason: str = "") -> None:
    """Close one side (`code` None: a close frame without a status code), or drop its connection if
    it has not answered within CLOSE_TIMEOUT."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            # websockets' protocol sends a close frame without a code for None (RFC 6455 §5.5.1);
            # the connection's `close` is typed for an int only.
            await side.close(code, reason)  # type: ignore[arg-type]
    except TimeoutError:
        side.transport.abort()
    except Exception:  # noqa: BLE001, S110 - closing: the connection is going either way
        pass


def _envelope(message: str | bytes, direction: Direction, seq: int) -> Envelope:
    """The envelope of a relayed message (its connection's `seq`): parsed, or kept whole as malformed or binary."""
    if isinstance(message, bytes):
        note = {"type": "rt.malformed", "message": f"binary frame of {len(message)} bytes"}
        return Envelope(seq, direction, "rt.malformed", note, f"<binary {len(message)} bytes>", binary=message)
    try:
        data = parse(message)
    except FrameError as exc:
        note = {"type": "rt.malformed", "message": f"malformed frame: {exc}"}
        return Envelope(seq, direction, "rt.malformed", note, message)
    return Envelope(seq, direction, str(data["type"]), data, message)
