"""Rules about what the server sent: errors (each explained once), and event types nobody defines."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tui.journal import Links
from tui.protocol import Direction, Envelope, error_summary, is_known, obj, text
from tui.protocol.error_causes import UNREADABLE_ANSWERS

from .context import Context, ServerError
from .finding import Severity, plain, shown
from .shapes import MCP_SERVER_EVENTS

_AUTH_FIX = (
    "Send the API key when the socket opens, in the header Authorization: Bearer followed by the key (Azure: an "
    "api-key header); the server closes the connection before any event, so no event can fix it. rt-tui, and rt-tui "
    "proxy for your client, send RT_TUI_API_KEY to a --url target and OPENAI_API_KEY to OpenAI; with --url and "
    "no RT_TUI_API_KEY, the proxy passes on your client's own key."
)
#: Codes a refused credential comes with: the service sends none for a missing key, `invalid_api_key`
#: for a wrong one; other servers' spellings of the same refusal.
_AUTH_CODES = frozenset({"", "invalid_api_key", "missing_api_key", "unauthorized", "authentication_error"})
_AUTH_WORDS = re.compile(r"authenticat|api[ _-]?key|bearer|unauthori[sz]ed", re.IGNORECASE)

#: Fixes for errors no other rule explains, by code.
_ERROR_FIXES: dict[str, str] = {
    "beta_api_shape_disabled": (
        "The beta interface (OpenAI-Beta: realtime=v1) was retired: connect without that header (and without the "
        "openai-beta.realtime-v1 subprotocol) and speak the GA shape (session.type, audio.input.*, "
        "response.output_* events)."
    ),
    "invalid_api_key": _AUTH_FIX,
    "missing_model": "Name a realtime model in the URL (?model=gpt-realtime), or ?intent=transcription.",
    "invalid_model": "Name a realtime model in the URL (?model=gpt-realtime); transcription models go in the session.",
    "session_expired": "The server ends a session at its expires_at (OpenAI: after at most 60 minutes): reconnect "
    "to start a new one, before it if a turn must not be cut.",
    "invalid_json": "Send each event as one JSON object in one text frame.",
    "invalid_event": "Send each event as a JSON object with a string type, in a text frame (not binary).",
}
_NOT_THE_CLIENTS = frozenset({"session_expired"})


class ServerRules:
    """`error` events (each asks the other groups first) and unknown server event types."""

    def __init__(
        self, ctx: Context, explainers: Sequence[Callable[[ServerError], bool]], flagged: set[int], links: Links
    ) -> None:
        self.ctx = ctx
        self._links = links
        """The journal's error ↔ cause links, already given each frame: the frame an error without
        event_id refused (see `tui.protocol.error_causes`), paired as the app's log pairs it."""
        self._explainers = explainers
        self._flagged = flagged
        """Frames that already carry an error finding: an error naming one of them says nothing new."""
        self._unknown_seen: set[str] = set()
        self._known: set[str] = set()
        """Types found defined (checked once each, not on every delta)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {(Direction.IN, "error"): self._error}

    def reset(self) -> None:
        """A new connection."""
        self._unknown_seen.clear()

    def unknown_server_event(self, env: Envelope, index: int) -> None:
        """A received frame no handler took: report its type once if neither dialect defines it."""
        etype = env.type
        if etype in self._known or etype in self._unknown_seen:
            return  # every audio and transcript delta of a session comes here: one set lookup
        if is_known(etype) or etype in MCP_SERVER_EVENTS or etype.startswith("rt."):
            if len(self._known) < 1024:  # a bound: rt.* names are rt-tui's own, but still
                self._known.add(etype)
            return
        self._unknown_seen.add(etype)
        ctx = self.ctx
        ctx.emit(
            "unknown-server-event",
            f"{ctx.name(index)}: the server sent an event type that neither the GA nor the beta interface defines "
            f"({shown(plain(etype, 80))}; later ones of this type are not reported again).",
            "Nothing to fix in the client if it ignores event types it does not know (it should, rather than fail); "
            "if this is a new event, the API's changelog says what it carries.",
            (index,),
        )

    def _error(self, env: Envelope, index: int) -> None:
        error = obj(env.data.get("error"))
        event_id = text(error.get("event_id"))
        code = text(error.get("code"))
        found = ServerError(
            index=index,
            code=code,
            message=text(error.get("message")),
            param=plain(text(error.get("param")), 120),
            event_id=event_id,
            cause=self.ctx.journal.find_sent(event_id, index) if event_id else self._unnamed_cause(code, index),
            summary=plain(error_summary(env.data)).rstrip(". "),
        )
        for explain in self._explainers:
            if explain(found):
                return
        if found.cause is not None and found.cause in self._flagged:
            return  # a finding on that frame already says why the server refused it
        ctx = self.ctx
        param = f" (param {found.param})" if found.param else ""
        if found.cause is not None:
            cause_type = ctx.journal[found.cause].type
            message = (
                f"{ctx.name(index)} refuses {ctx.name(found.cause)}: {found.summary}{param}. The server did not act "
                f"on that {cause_type}; the session is otherwise unchanged."
            )
        else:
            message = f"{ctx.name(index)}: {found.summary}{param}."
        ctx.emit(
            "server-error",
            message,
            _AUTH_FIX
            if _is_auth_refusal(found)
            else _ERROR_FIXES.get(
                found.code,
                "Correct what the error's message and param name, then send the frame again."
                + (
                    ""
                    if found.cause is not None
                    else " Set an event_id on every client event so errors name the frame they are about."
                ),
            ),
            tuple(i for i in (index, found.cause) if i is not None),
            Severity.WARNING if found.code in _NOT_THE_CLIENTS else None,
        )

    def _unnamed_cause(self, code: str, index: int) -> int | None:
        """The frame error `index`, which names no event_id, refused: the oldest frame of the one kind
        its code or param ties it to, sent without event_id and not answered yet (the links' rule),
        or None. A frame the server could not read is left to the rule that found it unreadable."""
        if code in UNREADABLE_ANSWERS:
            return None
        link = self._links.cause_of.get(index)
        return link.cause if link is not None and link.kind == "error" else None


def _is_auth_refusal(found: ServerError) -> bool:
    """True for a refused credential (a missing key comes with code null, so its words tell it): no frame
    of the client's is at fault, and resending one would not help."""
    return (
        found.cause is None
        and not found.event_id
        and found.code in _AUTH_CODES
        and _AUTH_WORDS.search(found.message) is not None
    )
