"""Round 23d: a response summary with no status, and the key's fix given only to a refused handshake
(an error before the session began, or an upgrade refused with HTTP 401/403), worded for a missing
key or a wrong one."""

from __future__ import annotations

from tui.protocol.summary import summarize_event


def test_a_response_without_status_names_its_reason_or_error_as_a_part_of_its_own() -> None:
    """6035d83 put the status first and tied the reason to it: with no status the summary began
    `" (max_output_tokens) · resp_1"`, `": error: boom · resp_1"`."""

    def done(response: dict[str, object]) -> str:
        return summarize_event({"type": "response.done", "response": {"id": "resp_1", **response}})

    assert done({"status_details": {"reason": "max_output_tokens"}}) == "max_output_tokens · resp_1"
    assert done({"status_details": {"error": {"code": "x", "message": "boom"}}}) == "x: boom · resp_1"
    assert done({"status": "incomplete", "status_details": {"reason": "max_output_tokens"}}) == (
        "incomplete (max_output_tokens) · resp_1"
    )
    assert done({"status": "failed", "status_details": {"error": {"code": "x", "message": "boom"}}}) == (
        "failed: x: boom · resp_1"
    )
