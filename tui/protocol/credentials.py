"""Credentials a client presents when it opens a Realtime socket, found so they can be scrubbed.

A client authenticates in the handshake: an `Authorization` header (`Bearer <key>`; the scheme's
name is case-insensitive, RFC 9110 §11.1, so `bearer <key>` is the same), an `api-key` header
(Azure) or a look-alike, the browser's subprotocol trick (`openai-insecure-api-key.<key>`), or a
gateway's header of its own (`cf-aig-authorization`, `x-portkey-api-key`) or a cookie. The proxy
and the HAR reader both look for them here, so neither misses a spelling the other knows.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

SECRET_HEADERS = frozenset({"authorization", "api-key", "openai-api-key", "x-api-key"})
"""Header names (lower case) whose value is, or carries, a credential."""

KEY_SUBPROTOCOL_PREFIXES = ("openai-insecure-api-key.", "openai-insecure-api-key-")
"""Subprotocols that carry a key after the prefix (browsers cannot set headers on a websocket)."""

_KEY_SUBPROTOCOL = re.compile("(?:" + "|".join(map(re.escape, KEY_SUBPROTOCOL_PREFIXES)) + r")([^\s,;]+)")
"""The key of a key subprotocol anywhere in a `Sec-WebSocket-Protocol` value, not only after a
comma: a client that wrote `realtime; openai-insecure-api-key.KEY` is refused by websockets with
an error that quotes the value whole."""

GATEWAY_CREDENTIAL = re.compile(r"auth|key|token|secret|passw|credential|signature|cookie", re.IGNORECASE)
"""A header whose name says its value is a credential (a gateway's `cf-aig-authorization`,
`Helicone-Auth`, `x-portkey-api-key`), to be scrubbed; a `Cookie`'s each value too (a session
cookie is a credential, echoed as `name=value` or alone). Not the handshake's own
`Sec-WebSocket-Key`, a nonce."""


def authorization_credential(value: str) -> str:
    """The credential in an `Authorization` value: what follows its scheme (`Bearer`, `bearer`,
    `Basic`…), or the whole value when it has none."""
    value = value.strip()
    scheme, space, rest = value.partition(" ")
    if space and rest.strip() and scheme.replace("-", "").isalnum():
        return rest.strip()
    return value


def basic_credentials(value: str) -> list[str]:
    """The `user:password` a Basic `Authorization` value encodes, and the password alone; empty
    for any other value. A client that puts the key in a URL's user info (`wss://user:KEY@…`)
    sends it this way, and a server quoting the key it was given quotes it decoded."""
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return []
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return []
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # what RFC 7617 allowed before UTF-8
    _, colon, password = decoded.partition(":")
    return [decoded, password] if colon and password else [decoded] if decoded else []


def handshake_secrets(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Every credential in a handshake's headers (name, value pairs, names in any case), each as
    presented; for an `Authorization` header (or a gateway's, `GATEWAY_CREDENTIAL`) both the
    credential and the whole value, and for Basic auth also what it encodes (`basic_credentials`)."""
    found: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name in SECRET_HEADERS:
            credential = authorization_credential(value) if name == "authorization" else value.strip()
            found += [credential, value.strip()] if credential != value.strip() else [credential]
            found += basic_credentials(value) if name == "authorization" else []
        elif name == "sec-websocket-protocol":
            found += _KEY_SUBPROTOCOL.findall(value)
        elif GATEWAY_CREDENTIAL.search(name) and not name.startswith("sec-websocket-"):
            found += handshake_secrets([("authorization", value)])
            if name == "cookie":
                found += cookie_values(value)
    return [secret for secret in found if secret]


def cookie_values(header: str) -> list[str]:
    """Each cookie's value in a `Cookie` header (`a=1; session=abc` → `1`, `abc`), quotes removed:
    a server that echoes one cookie echoes it alone, which scrubbing the whole header would miss."""
    values = (pair.partition("=")[2].strip().strip('"') for pair in header.split(";"))
    return [value for value in values if value]
