"""`rt-tui proxy`: a Realtime-aware inspecting relay between your own client and the service."""

from dataclasses import dataclass

from .handshake import upstream_url
from .relay import ProxyConnection, ProxyServer, ProxyTarget, Sink

__all__ = ["ProxyConnection", "ProxyRequest", "ProxyServer", "ProxyTarget", "Sink", "upstream_url"]


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    """What `rt-tui proxy` asks of the app: where to listen. Here, not in the command's module,
    which opens the app: the app imported the command that imports it."""

    host: str
    port: int
