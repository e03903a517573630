"""The proxy's handshake with the upstream: the URL it asks for (the client's query over the
target's), what of it is fit to show, the client's credentials to scrub (or to drop beside ours),
and an upstream's refusal as the client and the facts get it."""

from __future__ import annotations

import email.utils
import http
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from tui.protocol import printable
from tui.protocol.credentials import authorization_credential, handshake_secrets
from tui.session.scrub import Scrubber
from tui.session.targets import is_secret_query_name, redirect_location, url_target

NOT_A_WEBSOCKET = (
    "rt-tui proxy: this is a Realtime WebSocket proxy; connect a WebSocket client to "
    "ws://HOST:PORT/v1/realtime?model=... (plain HTTP is not relayed)\n"
)
"""The body of the proxy's own 426, to a browser's or curl's plain GET: one line."""

UPGRADE_HEADERS = frozenset({"connection", "upgrade", "sec-websocket-key", "sec-websocket-version"})
"""The headers that make a request a WebSocket upgrade (RFC 6455 §4.2.1), checked before anything
goes upstream; the subprotocols and extensions are the upstream's to judge."""


def local_answer(request: Request) -> Response | None:
    """The proxy's own answer to a request that is no WebSocket upgrade (a plain GET from a browser
    or curl, another method, an upgrade without a valid `Sec-WebSocket-Key`); None for one it
    relays. websockets refuses such a request only after the proxy's handshake hook has run, and
    that hook opens the upstream connection, our key in it: so it is judged here first, by
    websockets' own checks on the method and the upgrade headers alone (a subprotocol websockets
    cannot parse is still the upstream's to refuse, in a 502 that scrubs the key it quotes)."""
    headers = Headers([(name, value) for name, value in request.headers.raw_items() if name.lower() in UPGRADE_HEADERS])
    bare = Request(request.path, headers, request.method, request.protocol)
    answer = ServerProtocol().accept(bare)  # a protocol of its own: the connection's is untouched
    if answer.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS:
        return None
    if answer.status_code != http.HTTPStatus.UPGRADE_REQUIRED:
        return answer  # 405, 505 or 400, saying which header is wrong (none of them a credential)
    body = NOT_A_WEBSOCKET.encode()
    said = Headers([(name, value) for name, value in answer.headers.raw_items() if name != "Content-Length"])
    said["Content-Length"] = str(len(body))
    return Response(answer.status_code, answer.reason_phrase, said, body)


def upstream_url(base: str, client_path: str) -> str:
    """The target URL with the client's query parameters over the target's own.

    The client's pairs all go, as written and in order (`tag=a&tag=b` stays two pairs; a mapping
    kept the last one); a target pair goes unless the client gives its name. The client's pairs
    take the place of the first target pair they replace (at the end if none), so an Azure
    target's `?deployment=…&api-version=…` keeps its shape."""
    target = urlsplit(base)
    client = urlsplit(client_path)
    theirs = query_pairs(client.query)
    given = {pair_name(pair) for pair in theirs}
    query: list[str] = []
    placed = False
    for pair in query_pairs(target.query):
        if pair_name(pair) not in given:
            query.append(pair)
        elif not placed:
            query += theirs
            placed = True
    if not placed:
        query += theirs
    return urlunsplit((target.scheme, target.netloc, target.path or client.path, "&".join(query), ""))


def query_pairs(query: str) -> list[str]:
    """A query's `name=value` pairs as written (empty ones left out)."""
    return [pair for pair in query.split("&") if pair]


def pair_name(pair: str) -> str:
    """A query pair's name, decoded (`api%2Dversion` and `api-version` are one name)."""
    return unquote_plus(pair.partition("=")[0])


def upstream_label(target_label: str, target_url: str, url: str) -> str:
    """The target's label for a connection to `url`: with the model the client asked for, when
    the label names the target's (`OpenAI · gpt-realtime`, or a `--url` target's URL itself). A
    client's empty `?model=` goes upstream as asked (OpenAI refuses it), and the label says so."""
    if target_label == masked(target_url):
        return masked(url)
    before, after = model_in(target_url), model_in(url)
    if before and after is not None and before != after and target_label.endswith(f" · {before}"):
        return f"{target_label.removesuffix(before)}{after or EMPTY_MODEL}"
    return target_label


EMPTY_MODEL = "model= (empty)"
"""The label's model for a `?model=` with no value."""


def model_in(url: str) -> str | None:
    """The model a URL's query asks for: its first non-empty `model=`, as a server reading the
    query takes it (the simulator does; a mapping that kept the last would disagree); "" when
    every `model=` is empty, None when it has none."""
    pairs = query_pairs(urlsplit(url).query)
    found = [unquote_plus(pair.partition("=")[2]) for pair in pairs if pair_name(pair) == "model"]
    if not found:
        return None
    return next((model for model in found if model), "")


REFUSAL_HEADERS = ("Content-Type", "Retry-After", "WWW-Authenticate")
"""An upstream refusal's headers the client gets too: how to read its body, when to try again
(a 429, a 503), which credential it wants."""


def refusal(upstream: Response, body: str, scrub: Scrubber) -> Response:
    """The upstream's refusal of the upgrade as the client gets it: its status and reason (also
    one `http.HTTPStatus` does not name, such as a gateway's 520-530, which `respond` would turn
    into a 500 of the proxy's own), the body scrubbed, and the `REFUSAL_HEADERS` it sent."""
    data = body.encode()
    headers = Headers([("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close")])
    headers["Content-Length"] = str(len(data))
    for name in REFUSAL_HEADERS:
        for value in upstream.headers.get_all(name):
            headers[name] = scrub.text(value)
    if "Content-Type" not in headers:
        headers["Content-Type"] = "text/plain; charset=utf-8"
    return Response(upstream.status_code, upstream.reason_phrase, headers, data)


def redirect_note(upstream: Response, url: str, scrub: Scrubber) -> str:
    """For an upstream's redirect, where it pointed (`redirect_location`) and that the proxy does not
    follow it (our key would go wherever it points); "" for any other answer. The client gets the
    3xx without the `Location`: one relative to the upstream would send it back to the proxy, in a
    loop."""
    where = redirect_location(upstream.status_code, upstream.headers.get("Location"), url, scrub.text)
    if where is None:
        return ""
    return f" (a redirect to {where}, which the proxy does not follow: point it at that URL)"


MAX_REFUSAL_TEXT = 300
"""The longest refusal body a connection fact quotes (an HTML error page says nothing more useful)."""


def refusal_line(body: str) -> str:
    """An upstream refusal's body (already scrubbed of every key: cut after, so no part of one is
    left at the cut) on one line: control characters shown, runs of space as one, capped."""
    line = " ".join(printable(body).split())
    return line if len(line) <= MAX_REFUSAL_TEXT else line[: MAX_REFUSAL_TEXT - 1] + "…"


def masked(url: str) -> str:
    """`url` fit to show: user info dropped, credential query values masked (as a target's label)."""
    try:
        return url_target(url).label
    except ValueError:  # not a URL rt-tui could connect to: nothing of it is shown
        return "the upstream"


def without_query_credentials(path: str) -> str:
    """The client's request path without the query pairs that carry a credential (`api-key=`…)."""
    parts = urlsplit(path)
    kept = [pair for pair in query_pairs(parts.query) if not is_secret_query_name(pair.partition("=")[0])]
    return urlunsplit(parts._replace(query="&".join(kept)))


def query_credentials(path: str) -> list[str]:
    """Credentials a client put in its URL (`api-key=`, `sig=`…), as written and decoded."""
    found: list[str] = []
    for pair in urlsplit(path).query.split("&"):
        key, _, value = pair.partition("=")
        if is_secret_query_name(key) and value:
            # `?authorization=Bearer%20KEY`: the key alone too, as an upstream quoting it echoes it.
            found += [value, unquote_plus(value), authorization_credential(unquote_plus(value))]
    return list(dict.fromkeys(found))


def client_credentials(headers: Headers) -> list[str]:
    """Credentials the client presented in its handshake (see `tui.protocol.credentials`: a
    gateway's own header, `cf-aig-authorization`, `Helicone-Auth`, and cookies among them): passed
    upstream, which may echo them back."""
    return handshake_secrets(headers.raw_items())
