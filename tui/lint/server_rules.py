"""Rules about what the server sent: errors (each explained once), and event types nobody defines."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tui.journal import Links
from tui.protocol import Direction, Envelope, error_summary, is_known, obj, text
from tui.protocol.error_causes import UNREADABLE_ANSWERS
from tui.protocol.events import MCP_SERVER_EVENTS

from .context import Context, ServerError
from .finding import Finding, Severity, plain, shown

_KEY_HEADER = "the header Authorization: Bearer followed by the key (Azure: an api-key header)"
_KEY_SOURCES = (
    "rt-tui, and rt-tui proxy for your client, send RT_TUI_API_KEY to a --url target (an Azure host: "
    "AZURE_OPENAI_API_KEY when RT_TUI_API_KEY is unset) and OPENAI_API_KEY to OpenAI; with --url and no key of "
    "its own, the proxy passes on your client's own key."
)
_BEFORE_THE_SESSION = "the server refused the connection before its session began, so no event can fix it."
MISSING_KEY_FIX = f"Send the API key when the socket opens, in {_KEY_HEADER}; {_BEFORE_THE_SESSION} {_KEY_SOURCES}"
"""The fix for a handshake refused for want of a key."""
WRONG_KEY_FIX = (
    f"Check which key is sent when the socket opens, in {_KEY_HEADER}: the server does not accept it (mistyped, "
    f"revoked, another project's, or on Azure another resource's); {_BEFORE_THE_SESSION} {_KEY_SOURCES}"
)
"""The fix for a handshake refused for the key that was sent."""
EITHER_KEY_FIX = (
    f"Send a key the server accepts when the socket opens, in {_KEY_HEADER}: none was sent, or one it does not "
    f"accept (mistyped, revoked, another project's, or on Azure another resource's); {_BEFORE_THE_SESSION} "
    f"{_KEY_SOURCES}"
)
"""The fix for a refusal that does not say whether a key was sent (an HTTP 401 on the upgrade)."""
#: Codes a refused credential comes with: the service sends none for a missing key, `invalid_api_key`
#: for a wrong one; other servers' spellings of the same refusal.
_AUTH_CODES = frozenset({"", "invalid_api_key", "missing_api_key", "unauthorized", "authentication_error"})
_AUTH_WORDS = re.compile(r"authenticat|api[ _-]?key|bearer|unauthori[sz]ed", re.IGNORECASE)
_MISSING_WORDS = re.compile(r"\b(missing|no|without|not provided|required)\b", re.IGNORECASE)
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_WRONG_WORDS = re.compile(r"incorrect|invalid|wrong|revoked|expired|not valid", re.IGNORECASE)

#: Fixes for errors no other rule explains, by code.
_ERROR_FIXES: dict[str, str] = {
    "beta_api_shape_disabled": (
        "The beta interface (OpenAI-Beta: realtime=v1) was retired: connect without that header (and without the "
        "openai-beta.realtime-v1 subprotocol) and speak the GA shape (session.type, audio.input.*, "
        "response.output_* events)."
    ),
    # Only after the session began (before it, the key's fix): a key some frame carried, not the socket's.
    "invalid_api_key": "The server refused a key a frame carried (an MCP server's authorization or headers in "
    "session.tools or a response's tools, say): correct that key, then send the frame again.",
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
        self._repeats: dict[tuple[str, str, str, str], _Repeated] = {}
        """This connection's `server-error` findings by what they say (code, param, message, the
        refused frame's type): the same error again amends the first, counted (a client retrying one
        bad frame 200 times made 200 findings, burying any other, review 56d)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {(Direction.IN, "error"): self._error, (Direction.LOCAL, "rt.connection"): self._connection}

    def reset(self) -> None:
        """A new connection."""
        self._unknown_seen.clear()
        self._repeats.clear()

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

    def _connection(self, env: Envelope, index: int) -> None:
        """A connection that failed because the server refused the upgrade with HTTP 401/403: Azure
        refuses a missing or wrong key so, with no error event, and the capture holds only our fact
        (the proxy's `upstream refused the upgrade: HTTP 401`, the app's `… rejected the WebSocket
        upgrade: HTTP 401 …`)."""
        data = env.data
        if data.get("state") != "failed":
            return
        said = text(data.get("message"))
        status = data.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            found = _HTTP_STATUS.search(said)
            status = int(found.group(1)) if found else None
        if status not in (401, 403):
            return
        ctx = self.ctx
        fix = _key_fix(said, wrong=False)
        if status == 403:
            fix += (
                " HTTP 403 can also mean the key is accepted but not here: the resource's network rules, or a model "
                "or deployment it has no access to."
            )
        ctx.emit(
            "upgrade-refused",
            f"{ctx.name(index)}: {plain(said, 400).rstrip('. ')}. The server refused the key before the socket "
            "opened: no session began and no error event came.",
            fix,
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
        # The summary, not the message field alone: errors that are no object (a string, null, none)
        # have no message, and three different ones were counted as one (review 57b).
        key = (found.code, found.param, found.summary, ctx.journal[found.cause].type if found.cause is not None else "")
        if self._repeated(key, found):
            return
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
            _refused_key(found, began=ctx.server_spoke)
            or _ERROR_FIXES.get(
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
        made = next((f for f in ctx.blamed(index) if f.rule == "server-error"), None)
        if made is not None and len(self._repeats) < _REPEATS_KEPT:
            self._repeats[key] = _Repeated(made, made.message)

    def _repeated(self, key: tuple[str, str, str, str], found: ServerError) -> bool:
        """The same error as one this connection had already: its finding says how many came, and
        the last of them (with the frame it refused); True when it did."""
        repeated = self._repeats.get(key)
        if repeated is None:
            return False
        ctx = self.ctx
        repeated.count += 1
        refusing = f", refusing {ctx.name(found.cause)}" if found.cause is not None else ""
        message = (
            f"{repeated.said} The same error came {repeated.count} times on this connection, the last "
            f"{ctx.name(found.index)}{refusing}: the client kept sending what the server refuses."
        )
        first = repeated.finding.frames
        frames = (*first[:2], *(i for i in (found.index, found.cause) if i is not None))
        ctx.amend(repeated.finding, message, frames)
        latest = next((f for f in ctx.blamed(first[0]) if f.rule == "server-error"), None)
        if latest is not None:
            repeated.finding = latest
        return True

    def _unnamed_cause(self, code: str, index: int) -> int | None:
        """The frame error `index`, which names no event_id, refused: the oldest frame of the one kind
        its code or param ties it to, sent without event_id and not answered yet (the links' rule),
        or None. A frame the server could not read is left to the rule that found it unreadable."""
        if code in UNREADABLE_ANSWERS:
            return None
        link = self._links.cause_of.get(index)
        return link.cause if link is not None and link.kind == "error" else None


_REPEATS_KEPT = 256
"""Distinct errors a connection's repeats are counted for (a bound: each new kind past it is a finding
of its own, as before)."""


@dataclass(slots=True)
class _Repeated:
    """A `server-error` finding and how many errors it stands for."""

    finding: Finding
    said: str
    """Its message as first made (what each count is added to)."""
    count: int = 1


def _refused_key(found: ServerError, *, began: bool) -> str | None:
    """The key's fix when `found` refused the handshake's credential, else None. A refusal comes
    before the session began (a missing key comes with code null, so its words tell it): once the
    server sent any other event (session.created first) the key was accepted, and an error naming a
    key or `Unauthorized` is about a frame's (an MCP tool server's 401, an unknown `api_key` parameter)."""
    if began or found.cause is not None or found.event_id or found.code not in _AUTH_CODES:
        return None
    if found.code != "invalid_api_key" and _AUTH_WORDS.search(found.message) is None:
        return None
    return _key_fix(found.message, wrong=found.code == "invalid_api_key")


def _key_fix(said: str, *, wrong: bool) -> str:
    """The key's fix for a refusal that says `said`: a wrong key's, a missing one's, or, when its
    words do not tell (Azure's HTTP 401 says the same for both at times), one for either."""
    if wrong or _WRONG_WORDS.search(said):
        return WRONG_KEY_FIX
    return MISSING_KEY_FIX if _MISSING_WORDS.search(said) else EITHER_KEY_FIX
