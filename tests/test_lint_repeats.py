"""The same server error again on one connection is counted in the first's finding: a client retrying
one bad frame 200 times made 200 `server-error` findings (`✖200`), burying any other (review 56d)."""

from __future__ import annotations

from tests.journal_helpers import connecting, received, sent
from tests.lint_helpers import ga_created, lint, of_rule
from tui.protocol import Envelope


def retrieve_refused(n: int) -> list[Envelope]:
    retrieve = sent("conversation.item.retrieve", event_id=f"ev{n}", item_id="nope")
    error = {
        "type": "invalid_request_error",
        "code": "item_not_found",
        "message": "Item with id 'nope' not found.",
        "param": "item_id",
        "event_id": f"ev{n}",
    }
    return [retrieve, received("error", error=error)]


def test_one_error_repeated_is_one_finding_that_counts_them_and_names_the_last() -> None:
    frames = [ga_created(), *(frame for n in range(200) for frame in retrieve_refused(n))]
    findings, _ = lint(*frames)
    [found] = of_rule(findings, "server-error")
    first_error, last_retrieve, last_error = frames[2], frames[-2], frames[-1]
    assert found.message.startswith(f"error #{first_error.seq} refuses conversation.item.retrieve #{frames[1].seq}")
    assert (
        f"The same error came 200 times on this connection, the last error #{last_error.seq}, refusing "
        f"conversation.item.retrieve #{last_retrieve.seq}" in found.message
    )
    assert found.frames == (2, 1, 400, 399)  # the first error and its cause, then the last and its cause


def test_other_errors_and_another_connection_are_findings_of_their_own() -> None:
    other = received("error", error={"type": "invalid_request_error", "code": "x", "message": "other"})
    findings, _ = lint(
        connecting(), ga_created(), *retrieve_refused(0), *retrieve_refused(1), other,
        connecting(), ga_created(), *retrieve_refused(2),
    )  # fmt: skip
    said = [f.message for f in of_rule(findings, "server-error")]
    assert len(said) == 3, said
    assert "came 2 times" in said[0] and "came" not in said[1] and "came" not in said[2]


def test_errors_that_are_no_object_are_told_apart_by_what_they_say() -> None:
    """Three different errors that were no object (two strings, a null) made one finding "the same
    error came 3 times": they had no code, param or message to tell them apart (review 57b)."""
    findings, _ = lint(
        ga_created(),
        received("error", error="just a string"),
        received("error", error="another string"),
        received("error", error=None),
        received("error", error="just a string"),
    )
    said = [f.message for f in of_rule(findings, "server-error")]
    assert len(said) == 3, said
    assert "just a string" in said[0] and "came 2 times" in said[0], said
    assert "another string" in said[1] and "came" not in said[1] + said[2], said
