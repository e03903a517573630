"""Where a session connects: URL, auth headers and a label fit to show (never the key)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

from tui.protocol import printable
from tui.protocol.credentials import SECRET_HEADERS, authorization_credential
from tui.session.scrub import MIN_SECRET_LENGTH

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"


class TargetError(ValueError):
    """A target that cannot be used as given (bad URL, missing key)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A Realtime endpoint. `repr` and `label` never contain the secret."""

    url: str
    label: str
    kind: str
    """"openai", "url" or "simulator"."""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Keys (header or URL), kept only to send them and to scrub them from anything written."""


def openai_target(model: str = DEFAULT_MODEL, api_key: str | None = None) -> Target:
    """The OpenAI GA endpoint: Bearer auth from OPENAI_API_KEY, no beta header (it is fatal in GA)."""
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
    if not key.strip():
        raise TargetError("OPENAI_API_KEY is not set: export it, or use --local for the embedded simulator")
    url = f"{OPENAI_REALTIME_URL}?{urlencode({'model': model})}"
    return Target(
        url=url,
        label=f"OpenAI · {model}",
        kind="openai",
        headers={"Authorization": f"Bearer {key.strip()}"},
        secrets=(key.strip(),),
    )


#: Query parameters that carry credentials (Azure's `api-key`, an APIM `subscription-key`, SAS
#: signatures, tokens, the credential headers' own names): never shown, never sent beside ours.
#: Whole names, and any name ending as one does (`SECRET_QUERY_SUFFIXES`); never a name that merely
#: contains `key` or `token` (the gateway headers' pattern), which would take `max_tokens` or
#: `keyword`, parameters, not secrets.
SECRET_QUERY_KEYS = frozenset(
    {
        *SECRET_HEADERS,  # authorization, api-key, openai-api-key, x-api-key
        "api-key",
        "apikey",
        "key",
        "openai-api-key",
        "subscription-key",
        "ocp-apim-subscription-key",
        "token",
        "access-token",
        "auth-token",
        "bearer-token",
        "id-token",
        "refresh-token",
        "session-token",
        "security-token",
        "x-amz-security-token",
        "sig",
        "signature",
        "x-amz-signature",
        "client-secret",
        "secret",
        "password",
        "passwd",
        "auth",
    }
)


SECRET_QUERY_SUFFIXES = ("key", "token", "secret", "password", "passwd", "signature", "credential", "credentials")
"""How the name of a credential parameter ends, separators left out: a vendor's own (`xi-api-key`,
`access_token`, `client_secret`, `X-Goog-Signature`, `sessionToken`) is masked without being listed.
The end only: `max_tokens`, `token_budget` and `keyword` stay parameters, shown as written (a
`hotkey` is masked too: a value hidden for nothing costs less than a key shown)."""


def is_secret_query_name(name: str) -> bool:
    """True when a query parameter named `name` (as written: percent-encoding, case, `_` or `-`
    all count as one name) carries a credential: one of `SECRET_QUERY_KEYS`, or a name ending in
    one of `SECRET_QUERY_SUFFIXES`."""
    spelled = unquote_plus(name).strip().lower()
    if spelled.replace("_", "-") in SECRET_QUERY_KEYS:
        return True
    return _SEPARATORS.sub("", spelled).endswith(SECRET_QUERY_SUFFIXES)


_SEPARATORS = re.compile(r"[^a-z0-9]+")


#: Hosts that take the key in an `api-key` header rather than as a Bearer token (protocol §1.5).
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def url_target(url: str, api_key: str | None = None, *, kind: str = "url", label: str | None = None) -> Target:
    """Any ws:// or wss:// Realtime endpoint. A key goes in a Bearer header (Azure: an `api-key` header);
    credentials in the URL itself (user info, `api-key=` and the like) are masked in the label.

    A URL with a user name and password is sent with them as Basic auth (the WebSocket client does
    that), so `api_key` is then not sent (`key_ignored` says so): a second Authorization header is a
    request no server should have to choose in, and the URL, written for this one server, is the
    more specific of the two. It stays a secret to scrub."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urllib checks the port (and IPv6 brackets) only when it is read
    except ValueError as exc:
        # Never quote the URL, nor urllib's words when they might (`Port could not be cast to integer
        # value as 'hunter2'` quotes a password whose `@host` was forgotten).
        reason = str(exc) if str(exc) in _SAFE_URL_ERRORS else "the port is not a number from 0 to 65535"
        raise TargetError(f"not a usable URL ({reason}): expected ws://HOST:PORT/... or wss://...") from None
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise TargetError(f"not a WebSocket URL: {_safe_label(url)[0]!r} (expected ws://HOST:PORT/... or wss://...)")
    shown, in_url = _safe_label(url)
    # A key pasted from a file or a .env keeps its line end or spaces: sent as they are, the server
    # strips them (HTTP does) and may echo the bare key, which the scrubber, given the padded one,
    # would not find; a line end also makes the header invalid. The key is the stripped text.
    api_key = api_key.strip() if api_key else api_key
    headers: dict[str, str] = {}
    if api_key and not has_user_info(url):
        headers = {"api-key": api_key} if is_azure_url(url) else {"Authorization": f"Bearer {api_key}"}
    secrets = tuple(dict.fromkeys(s for s in (api_key, *in_url) if s))
    return Target(url=url, label=label or shown, kind=kind, headers=headers, secrets=secrets)


def has_user_info(url: str) -> bool:
    """True when `url` carries `user:password@` (sent as Basic auth); False for anything unparsable."""
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def key_ignored(url: str, api_key: str | None) -> bool:
    """True when `url_target(url, api_key)` leaves the key out, the URL carrying credentials of its own."""
    return bool(api_key) and has_user_info(url)


def is_azure_url(url: str) -> bool:
    """True for Azure OpenAI hosts, which take the key in an `api-key` header (protocol §1.5).
    False for anything unparsable: `url_target` says what is wrong with it."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host.endswith(AZURE_HOST_SUFFIXES)


def inline_credentials(url: str) -> list[str]:
    """The kinds of credential written into `url` itself (`a password`, `api-key=`, `sig=`…), never
    their values; empty for none, or for a URL too broken to tell (`url_target` says what is wrong)."""
    try:
        url_target(url)  # a URL rt-tui refuses gets that one-line error, not a warning first
    except TargetError:
        return []
    parts = urlsplit(url)
    found = ["a password"] if parts.password else ["a user name"] if lone_user_name(url) else []
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        name = unquote_plus(key).lower()
        if is_secret_query_name(key) and value:
            found.append(f"{name}=")
    return list(dict.fromkeys(found))


def lone_user_name(url: str) -> str | None:
    """The user name of a URL that has one and no password (`ws://KEY@host`, a token written as
    git's `https://TOKEN@host` takes it), decoded, when it is long enough to be a credential (as
    long as the scrubber's shortest, `MIN_SECRET_LENGTH`); None otherwise. websockets refuses
    such a URL (Basic auth needs a password), so it is never sent; it is still visible in `ps`."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return None
    if user is None or password is not None:
        return None
    user = unquote(user)
    return user if len(user) >= MIN_SECRET_LENGTH else None


_SAFE_URL_ERRORS = frozenset({"Port out of range 0-65535", "Invalid IPv6 URL"})
"""urllib's URL errors that quote nothing of the URL."""


def _safe_label(url: str) -> tuple[str, list[str]]:
    """`url` with user info dropped and credential query values masked, and the secrets it hid.

    The user name is dropped from the label; beside a password it is not a secret (scrubbing a name
    like `admin` from every frame would mangle them), alone it is (`lone_user_name`: an error that
    quotes the URL must not quote it). Query secrets count both as written and decoded: a server
    may echo either (Azure SAS signatures are base64, so they are nearly always percent-encoded).
    """
    parts = urlsplit(url)
    hidden = [parts.password, unquote(parts.password)] if parts.password else []
    lone = lone_user_name(url)
    hidden += [parts.username or "", lone] if lone else []
    for pair in parts.query.split("&"):
        key, _, raw_value = pair.partition("=")
        if is_secret_query_name(key) and raw_value:
            # `?authorization=Bearer%20KEY`: the key alone too, as a server quoting it echoes it.
            hidden += [raw_value, unquote_plus(raw_value), authorization_credential(unquote_plus(raw_value))]
    # The query as written (`&flag` stays `&flag`, `%20` stays `%20`): what was asked for, not
    # urllib's re-encoding of it; only a credential's value is masked, and anything a terminal
    # would act on (or that HTTP would not carry as it is) is percent-encoded.
    pairs = []
    for pair in parts.query.split("&"):
        key, equals, value = pair.partition("=")
        if is_secret_query_name(key) and value:
            pair = f"{key}{equals}***"
        if pair:
            pairs.append(quote(pair, safe=_SHOWN_AS_WRITTEN))
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pairs), "")), hidden


_SHOWN_AS_WRITTEN = "!#$%&'()*+,/:;=?@[]~"
"""Characters of a query shown as they are written (letters, digits and `-._~` always are)."""


def with_model(url: str, model: str) -> str:
    """`url` with `?model=<model>` added when it is a Realtime endpoint (its path ends in
    `/realtime`) that names no model, as the official SDK adds it: `rt-tui serve` prints its URL bare,
    and `send --url` with it was refused with missing_model. A URL that names a model (even an empty
    one, sent as asked), an Azure one (its deployment names the model) or another path is left alone."""
    try:
        parts = urlsplit(url)
    except ValueError:  # `ws://[::1/…`: url_target says what is wrong with it
        return url
    if not parts.path.rstrip("/").endswith("/realtime") or is_azure_url(url):
        return url
    names = {name for name, _, _ in (pair.partition("=") for pair in parts.query.split("&") if pair)}
    if "model" in names or "deployment" in names:
        return url
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"model": model})))


def is_loopback_host(host: str) -> bool:
    """Whether `host` (an address or a name) is this machine: a loopback address, or `localhost`."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower().rstrip(".") == "localhost"


def simulator_target(url: str) -> Target:
    """The embedded simulator at `url`."""
    return url_target(url, kind="simulator", label=f"simulator · {urlsplit(url).netloc}")


def masked_path(path: str) -> str:
    """The client's request path fit to show: a credential's value in its query masked (`***`),
    as a target's label masks it (a value under 8 characters is no secret scrubbing can find),
    and user info left out."""
    parts = urlsplit(path)
    pairs = []
    for pair in (pair for pair in parts.query.split("&") if pair):
        name, equals, value = pair.partition("=")
        pairs.append(f"{name}{equals}***" if value and is_secret_query_name(name) else pair)
    # A request line in absolute form (`GET ws://user:KEY@host/… HTTP/1.1`) names user info too.
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query="&".join(pairs)))


def redirect_location(status: int, location: str | None, url: str, scrub: Callable[[str], str]) -> str | None:
    """Where a redirect (a 3xx with a `Location`, relative to `url`) pointed, fit to show: a
    WebSocket URL as a target's label, any other with its user info left out and credentials in its
    query masked, `scrub` applied; None for any other answer. rt-tui follows none (the session's
    and the proxy's connects): the key would go wherever it points."""
    if not 300 <= status < 400 or not location:
        return None
    where = urljoin(url, location)
    try:
        shown = url_target(where).label if urlsplit(where).scheme in ("ws", "wss") else masked_path(where)
    except ValueError:  # not a URL rt-tui could connect to: nothing of it is shown
        shown = "another URL"
    return scrub(printable(shown))
