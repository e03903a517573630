"""A response the server ended `failed`: the reply the user waited for did not come, or stopped.

The service says why only in the `response.done` (`status_details.error`): no `error` event comes,
so the other rules never see it. A quota or rate limit, a refusal of what the response asked for,
or a failure on the service's side each need a different fix.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.journal import Links
from tui.protocol import Direction, Envelope, error_summary, obj, objects, text

from .context import Context
from .finding import Severity, plain

_FIXES = {
    "insufficient_quota": (
        "The account or project is out of credit or over its budget: add credit or raise the project's limit "
        "(the platform's billing settings), then send response.create again."
    ),
    "rate_limit_exceeded": (
        "Too many tokens or requests this minute: wait as the last rate_limits.updated says (reset_seconds), "
        "then retry; a lower max_output_tokens or fewer turns a minute keeps under the limit."
    ),
    "server_error": (
        "A failure on the service's side, not in what the client sent: send response.create again (retry with "
        "backoff); if it repeats, keep the session id and the response id for the provider's support."
    ),
}
_DEFAULT_FIX = "Correct what the error's message says, then send response.create again."
_NOT_THE_CLIENTS = frozenset({"server_error"})
"""Codes of a failure on the service's side: a warning (a retry is the fix, not a change to the client)."""


class FailureRules:
    """`response-failed`: a `response.done` with status `failed`, its error and what caused it."""

    def __init__(self, ctx: Context, links: Links) -> None:
        self.ctx = ctx
        self._links = links
        """The journal's links, already given each frame: the response.create that began a response."""
        self._error_codes: set[str] = set()
        """Codes of the `error` events since the last response began: one that says the failure
        already has its finding (`server-error`)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.IN, "response.created"): self._created,
            (Direction.IN, "error"): self._error,
            (Direction.IN, "response.done"): self._done,
        }

    def reset(self) -> None:
        """A new connection."""
        self._error_codes.clear()

    def _created(self, env: Envelope, index: int) -> None:
        self._error_codes.clear()

    def _error(self, env: Envelope, index: int) -> None:
        error = obj(env.data.get("error"))
        if len(self._error_codes) < 64:  # bounded: a server repeating errors says nothing more
            self._error_codes.add(text(error.get("code")) or text(error.get("type")))

    def _done(self, env: Envelope, index: int) -> None:
        response = obj(env.data.get("response"))
        if response.get("status") != "failed":
            return
        ctx = self.ctx
        details = obj(response.get("status_details"))
        error = details.get("error")
        fields = obj(error)
        code = text(fields.get("code")) or text(fields.get("type"))
        if code and code in self._error_codes:
            return  # the error event that came with it says it (server-error, with its fix)
        said = plain(error_summary(details), 400).rstrip(". ") if error else "the server gave no reason"
        response_id = plain(text(response.get("id")), 80) or "(no id)"
        if objects(response.get("output")):
            made = "its output stops where it failed: the reply is cut short"
        else:
            made = "it made no output: the user got no reply"
        link = self._links.cause_of.get(index)
        cause = link.cause if link is not None else None
        began = f" {ctx.name(cause)} began it." if cause is not None else ""
        ctx.emit(
            "response-failed",
            f"{ctx.name(index)}: response {response_id} failed: {said}. No error event says so; {made}.{began}",
            _FIXES.get(code, _DEFAULT_FIX),
            tuple(i for i in (index, cause) if i is not None),
            Severity.WARNING if code in _NOT_THE_CLIENTS else None,
        )
