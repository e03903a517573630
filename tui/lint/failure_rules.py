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

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {(Direction.IN, "response.done"): self._done}

    def reset(self) -> None:
        """A new connection: nothing is kept across frames."""

    def _done(self, env: Envelope, index: int) -> None:
        response = obj(env.data.get("response"))
        if response.get("status") != "failed":
            return
        ctx = self.ctx
        details = obj(response.get("status_details"))
        error = obj(details.get("error"))
        code = text(error.get("code")) or text(error.get("type"))
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
