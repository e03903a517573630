"""The fault cases: what the hostile server does, and what the app and `rt-tui send` must say.

Every case of issue 6's list and of the fault suite's brief: malformed and binary frames, unknown
events, server text that looks like Rich markup (in an error and in a close reason), a first frame
nested 100k deep, an integer over 4,300 digits, a lone surrogate, NaN/Infinity, frames just under
and far over the 16 MiB limit, drops mid-response (FIN and RST, the simulator's own fault mode),
and error + close 3000 / 4000 / 1001 at connect and mid-turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tests.faults.hostile import Close, NotUtf8, Oversize, Plan

MIB = 2**20
LIMIT = 16 * MIB
"""The client's default frame limit (`--max-frame-mib 16`)."""

MID_TURN = ("response.output_audio_transcript.delta", 2)
"""Where a mid-turn fault strikes: after the reply's second transcript delta (text has arrived)."""
AFTER_CREATED = ("session.created", 1)
AFTER_UPDATED = ("session.updated", 1)

MARKUP = "model [/x] is [bold]gone[/bold] [link=http://x]here[/link]"
"""Server text that Rich would read as markup ([/x] closes a tag never opened: a MarkupError)."""


def error(code: str, message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """An `error` event as the service sends it."""
    return {
        "type": "error",
        "event_id": f"event_err_{code}",
        "error": {"type": kind, "code": code, "message": message, "param": None, "event_id": None},
    }


DEEP = '{"type":"session.created","deep":' + "[" * 100_000 + "]" * 100_000 + "}"
BIG_INTEGER = '{"type":"session.created","n":' + "9" * 5000 + "}"
LONE_SURROGATE = (
    '{"type":"error","event_id":"event_sur","error":{"type":"server_error","code":"odd_text",'
    '"message":"bad \\ud800 text"}}'
)
NON_FINITE = (
    '{"type":"rate_limits.updated","event_id":"event_nan","rate_limits":[{"name":"tokens","limit":NaN,'
    '"remaining":Infinity,"reset_seconds":-Infinity}]}'
)
BINARY = b"\x00\xff\x00 a binary frame"
UNKNOWN = {"type": "conversation.item.sparkles", "event_id": "event_new", "level": 3}

REFUSALS = {
    3000: (
        error("invalid_api_key", "Incorrect API key provided."),
        "invalid_request_error.invalid_api_key",
        "invalid_api_key: Incorrect API key provided.",
    ),
    4000: (
        error("invalid_model", "Model 'gpt-nothing' is not supported."),
        "invalid_request_error.invalid_model",
        "invalid_model: Model 'gpt-nothing' is not supported.",
    ),
    1001: (
        error("session_expired", "Your session hit the maximum duration of 60 minutes."),
        "",
        "session_expired: Your session hit the maximum duration of 60 minutes.",
    ),
}
"""close code → (its error event, the close reason, the error's one-line summary)."""

Outcome = Literal["goes_on", "reconnects", "refused"]


@dataclass(frozen=True, slots=True)
class Case:
    """One fault, and what must be true after it."""

    id: str
    plan: Plan
    outcome: Outcome
    """goes_on: the session lives on; reconnects: the app reconnects on its own (a drop);
    refused: the connection is over until the user reconnects (ctrl+r)."""
    notice: tuple[str, str] | None = None
    """(title, text in the message) of the notice the app must raise."""
    refused_with: int | None = None
    """The close code rt-tui itself sent when it refused what the server sent (its capture records it)."""
    log_row: str = ""
    """Text an event-log row must hold (for faults that are shown but not announced)."""
    reason: str = ""
    """Text the status line's reason (`facts.describe()`) must hold once the connection ended."""
    mid_turn: bool = False
    """The fault strikes during a reply: a message is sent first."""
    send_exit: int = 0
    send_says: str = ""
    """Text `send`'s one stderr line must hold (when it exits non-zero)."""
    send_json: bool = False
    send_warns: str = ""
    """Text `send`'s one stderr line must hold when it exits 0: what the server sent that the turn
    could not use (round 27: it was ignored in silence)."""
    send_or_warns: str = ""
    """Where `send` cannot tell which frame an error answers (it names none, and lands as the commit
    goes out): it may also exit 0 with this warning, the turn gone on, instead of `send_exit`."""

    @property
    def server_fault(self) -> str:
        """What the hostile server must have done (`Connection.fault`): the case really happened."""
        if self.id.startswith("drop-"):
            return "drop eof" if self.id.endswith("fin") else "drop reset"
        fault = self.plan.fault
        if isinstance(fault, Close):
            return f"close {fault.code}"
        if isinstance(fault, Oversize):
            return f"oversize {fault.size}"
        if isinstance(fault, NotUtf8):
            return "not utf-8"
        return ""


def _refused_at_connect(code: int) -> Case:
    event, reason, summary = REFUSALS[code]
    said = f"server refused the session: {summary} (close {code})"
    return Case(
        f"error-close-{code}-at-connect",
        Plan(first=(event,), fault=Close(code, reason)),
        "refused",
        notice=("Connection failed", said),
        reason=said,
        send_exit=1,
        send_says=said,
    )


def _refused_mid_turn(code: int) -> Case:
    event, reason, _ = REFUSALS[code]
    said = f"connection closed by server (code {code}{': ' + reason if reason else ''})"
    return Case(
        f"error-close-{code}-mid-turn",
        Plan(at=MID_TURN, inject=(event,), fault=Close(code, reason)),
        "refused",
        notice=("Disconnected", said),
        reason=said,
        mid_turn=True,
        send_exit=1,
        send_says=said,
    )


def _dropped(mode: Literal["eof", "reset"]) -> Case:
    said = "connection dropped: no close frame from the server (code 1006)"
    return Case(
        f"drop-mid-response-{'fin' if mode == 'eof' else 'rst'}",
        # The simulator drops the socket itself; the hostile server passes the drop on.
        Plan(upstream_query={"sim_drop_after": "response.output_audio_transcript.delta:2", "sim_drop_mode": mode}),
        "reconnects",
        notice=("Disconnected", said),
        reason=said,
        mid_turn=True,
        send_exit=1,
        send_says=said,
    )


CASES: list[Case] = [
    Case(
        "malformed-frames",
        # The simulator's own fault mode: a frame that is not JSON and one without a type.
        Plan(upstream_query={"sim_malformed": "not_json,no_type", "sim_malformed_after": "session.created:1"}),
        "goes_on",
        # Two while the first is shown: one toast, the newest words, counted in its title (the log has both).
        # Two different malformed frames: the toast counts them and shows the latest.
        notice=(
            "Malformed frame ×2 (the latest)",
            "malformed frame from server: JSON object without a string 'type'",
        ),
        send_warns="the server sent 2 malformed frames, ignored (the first: not JSON",
    ),
    Case(
        "binary-frame",
        Plan(at=AFTER_CREATED, inject=(BINARY,)),
        "goes_on",
        notice=("Malformed frame", f"malformed frame from server: binary frame of {len(BINARY)} bytes"),
        send_warns=f"the server sent 1 binary frame ({len(BINARY)} bytes), ignored",
    ),
    Case(
        "text-frame-not-utf8",
        Plan(at=AFTER_UPDATED, fault=NotUtf8(b'{"type":"response.output_text.delta","delta":"caf\xe9"}')),
        "refused",
        notice=("Disconnected", "server sent a text frame that is not UTF-8 (invalid continuation byte"),
        reason="server sent a text frame that is not UTF-8 (invalid continuation byte",
        refused_with=1007,
        send_exit=1,
        send_says="server sent a text frame that is not UTF-8 (invalid continuation byte",
    ),
    Case(
        "unknown-event",
        Plan(at=AFTER_CREATED, inject=(UNKNOWN,)),
        "goes_on",
        log_row="conversation.item.sparkles",
        send_warns="1 event of a type rt-tui does not know, ignored: conversation.item.sparkles",
    ),
    Case(
        "markup-in-error-message",
        Plan(at=AFTER_UPDATED, inject=(error("odd_text", MARKUP),)),
        "goes_on",
        notice=("Server error", f"odd_text: {MARKUP}"),
        # An error that names no client event. Taken while `send` streams the audio, it is no
        # commit's refusal: said, and the turn goes on. Taken as `send` waits for its commit to be
        # acknowledged, it may be the commit's refusal (a server need not echo event ids): `send`
        # stops there, saying it is an error that named no frame. Which one depends on when the
        # frame is read (it comes right after session.updated, as the audio starts).
        send_exit=1,
        send_says=f"server error while waiting for the answer to commit (the error names no frame): odd_text: {MARKUP}",
        send_or_warns=f"server error (the turn went on): odd_text: {MARKUP}",
    ),
    Case(
        "markup-in-close-reason",
        Plan(at=MID_TURN, inject=(error("odd_text", MARKUP),), fault=Close(4000, MARKUP)),
        "refused",
        notice=("Disconnected", f"connection closed by server (code 4000: {MARKUP})"),
        reason=f"connection closed by server (code 4000: {MARKUP})",
        mid_turn=True,
        send_exit=1,
        send_says=f"connection closed by server (code 4000: {MARKUP})",
    ),
    Case(
        "first-frame-nested-100k-deep",
        Plan(first=(DEEP,)),
        "goes_on",
        notice=("Malformed frame", "malformed frame from server: JSON nested deeper than 128 levels"),
        send_warns="the server sent 1 malformed frame, ignored (JSON nested deeper than 128 levels)",
    ),
    Case(
        "first-frame-integer-of-5000-digits",
        Plan(first=(BIG_INTEGER,)),
        "goes_on",
        notice=("Malformed frame", "malformed frame from server: not JSON rt-tui can read: an integer of over 4300"),
        send_warns="1 malformed frame, ignored (not JSON rt-tui can read: an integer of over 4300 digits)",
    ),
    Case(
        "first-frame-lone-surrogate",
        Plan(first=(LONE_SURROGATE,)),
        "goes_on",
        notice=("Server error", "odd_text: bad \ufffd text"),
        send_warns="server error (the turn went on): odd_text: bad \ufffd text",
    ),
    Case(
        "nan-and-infinity",
        Plan(at=AFTER_UPDATED, inject=(NON_FINITE,)),
        "goes_on",
        log_row="rate_limits.updated",
        send_json=True,
    ),
    Case(
        "frame-just-under-the-limit",
        Plan(at=AFTER_UPDATED, inject=(Oversize(LIMIT - 4096).frame(),)),
        "goes_on",
        log_row="conversation.item.retrieved",
    ),
    Case(
        "frame-of-70-mb-over-the-limit",
        Plan(at=AFTER_UPDATED, fault=Oversize(70_000_000)),
        "refused",
        notice=("Disconnected", "server sent a frame of 70 MB, over the 16 MiB limit: rt-tui closed the connection"),
        reason="server sent a frame of 70 MB, over the 16 MiB limit",
        refused_with=1009,
        send_exit=1,
        send_says="server sent a frame of 70 MB, over the 16 MiB limit: rt-tui closed the connection (1009)",
    ),
    _dropped("eof"),
    _dropped("reset"),
    *(_refused_at_connect(code) for code in REFUSALS),
    *(_refused_mid_turn(code) for code in REFUSALS),
]
