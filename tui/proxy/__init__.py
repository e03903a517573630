"""`rt-tui proxy`: a Realtime-aware inspecting relay between your own client and the service."""

from .relay import ProxyConnection, ProxyServer, ProxyTarget, Sink, upstream_url

__all__ = ["ProxyConnection", "ProxyServer", "ProxyTarget", "Sink", "upstream_url"]
