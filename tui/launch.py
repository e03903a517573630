"""Turning Settings into a live target: resolve the endpoint, start the embedded simulator if needed.

Shared by the app and `rt-tui send`, so both pick targets by the same rules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tui.config import Settings, TargetChoice
from tui.protocol import ClientSessionOptions
from tui.session import Target, TargetError, openai_target, simulator_target, url_target
from tui.session.targets import is_azure_url, with_model

if TYPE_CHECKING:
    from tui.proxy import ProxyTarget

URL_API_KEY_ENV = "RT_TUI_API_KEY"
"""The key sent to a --url target (a Bearer token; an `api-key` header for Azure hosts)."""

AZURE_API_KEY_ENV = "AZURE_OPENAI_API_KEY"
"""Used for Azure hosts when RT_TUI_API_KEY is not set."""


def session_options(settings: Settings, *, turn_detection: str | None = None) -> ClientSessionOptions:
    """What to ask of the session: transcription on by default, push-to-talk unless told otherwise."""
    return ClientSessionOptions(
        transcription_model=settings.transcription_model,
        language=settings.language,
        turn_detection=turn_detection,
        voice=settings.voice,
    )


def remote_target(settings: Settings) -> Target | None:
    """The OpenAI or --url target `settings` names; None when it is the embedded simulator (which
    `open_target` starts). Nothing connects: commands call it first to refuse a bad target in one line.

    Raises TargetError for a target that cannot be used (bad URL, no API key for --openai); its
    message never holds a key.
    """
    choice = settings.resolved_target()
    if choice is TargetChoice.OPENAI:
        return openai_target(settings.model)
    if choice is TargetChoice.URL:
        if not settings.url:
            raise TargetError("--url needs a ws:// or wss:// URL (or set RT_TUI_URL)")
        # Never OPENAI_API_KEY here: an arbitrary URL must not receive the OpenAI key by default.
        # Stripped before the fallback: a blank RT_TUI_API_KEY (a .env's `RT_TUI_API_KEY= `) is no key.
        key = os.environ.get(URL_API_KEY_ENV, "").strip()
        if not key and is_azure_url(settings.url):
            key = os.environ.get(AZURE_API_KEY_ENV, "").strip()
        return url_target(with_model(settings.url, settings.model), api_key=key or None)
    return None


@contextlib.asynccontextmanager
async def open_target(settings: Settings) -> AsyncIterator[Target]:
    """Yield the target `settings` names; an embedded simulator lives as long as the context.

    Raises TargetError for a target that cannot be used (bad URL, no API key for --openai).
    """
    target = remote_target(settings)
    if target is not None:
        yield scrubbing_every_key(target)
    else:
        from tui.protocol import Dialect
        from tui.server import Simulator, SimulatorConfig

        config = SimulatorConfig(host="127.0.0.1", port=0, dialect=Dialect(settings.local_dialect))
        async with Simulator(config) as simulator:
            yield scrubbing_every_key(simulator_target(simulator.url + f"?model={settings.model}"))


def scrubbing_every_key(target: Target) -> Target:
    """`target` with every key this user configured for rt-tui among the secrets it scrubs (never
    among those it sends): a session with the simulator or a `--url` server, which is never given
    OPENAI_API_KEY, still must not capture or show it when a typed message, an instruction or a
    client behind the proxy carries it, as a replay of that capture would not."""
    from tui.replay.sources import user_secrets

    secrets = tuple(dict.fromkeys((*target.secrets, *user_secrets())))
    return target if secrets == target.secrets else dataclasses.replace(target, secrets=secrets)


@contextlib.asynccontextmanager
async def proxy_target(settings: Settings) -> AsyncIterator[ProxyTarget]:
    """The upstream `rt-tui proxy` relays to, as the settings name it (an embedded simulator lives as
    long as the context)."""
    from tui.proxy import ProxyTarget  # imported here: `send` and the live app need no proxy

    async with open_target(settings) as target:
        yield ProxyTarget(target.url, target.label, dict(target.headers), tuple(target.secrets))
