"""Where a session connects: URL, auth headers and a label fit to show (never the key)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

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
    secret: str | None = field(default=None, repr=False)
    """The API key, kept only to send it and to scrub it from anything written."""


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
        secret=key.strip(),
    )


def url_target(url: str, api_key: str | None = None, *, kind: str = "url", label: str | None = None) -> Target:
    """Any ws:// or wss:// Realtime endpoint; a key (if given) goes in a Bearer header."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise TargetError(f"not a WebSocket URL: {url!r} (expected ws://HOST:PORT/... or wss://...)")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return Target(url=url, label=label or url, kind=kind, headers=headers, secret=api_key or None)


def simulator_target(url: str) -> Target:
    """The embedded simulator at `url`."""
    return url_target(url, kind="simulator", label=f"simulator · {urlsplit(url).netloc}")
