"""`rt-tui proxy`: a Realtime-aware inspecting relay between your own client and the service."""

from .handshake import upstream_url
from .relay import ProxyConnection, ProxyServer, ProxyTarget, Sink

__all__ = ["ProxyConnection", "ProxyServer", "ProxyTarget", "Sink", "upstream_url"]
