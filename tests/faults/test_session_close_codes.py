"""The session reports the close code that ended (or refused) a connection, which is what decides
whether a client reconnects on its own: the server's code for its refusals (3000 at connect), 1006
for a connection gone without a close frame, and rt-tui's own 1009 when rt-tui refused a frame over
its limit (the server's answer to that close never arrives, stuck behind the rest of its frame)."""

from __future__ import annotations

import pytest

from tests.faults.cases import REFUSALS
from tests.faults.hostile import Close, Drop, Fault, Oversize, Plan, hostile_server
from tui.bus import Bus
from tui.session import ConnectionFailed, RealtimeSession, url_target

CREATED = {"type": "session.created", "event_id": "event_1", "session": {"id": "sess_codes"}}


async def test_a_refusal_at_connect_keeps_the_servers_close_code() -> None:
    event, reason, summary = REFUSALS[3000]
    async with hostile_server([Plan(first=(event,), fault=Close(3000, reason))]) as server:
        session = RealtimeSession(url_target(server.url), Bus())
        with pytest.raises(ConnectionFailed) as failed:
            await session.connect()
    assert str(failed.value) == f"server refused the session: {summary} (close 3000)"
    assert session.close_code == 3000


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        (
            Oversize(70_000_000),
            1009,
            "server sent a frame of 70 MB, over the 16 MiB limit: rt-tui closed the connection",
        ),
        (Drop("reset"), 1006, "connection dropped: no close frame from the server (code 1006)"),
        (Close(4000, "bye"), 4000, "connection closed by server (code 4000: bye)"),
    ],
    ids=["frame-over-the-limit", "drop", "close-4000"],
)
async def test_a_connection_that_ends_reports_the_code_that_ended_it(fault: Fault, code: int, says: str) -> None:
    async with hostile_server([Plan(first=(CREATED,), fault=fault)]) as server:
        session = RealtimeSession(url_target(server.url), Bus())
        await session.connect()
        await session.wait_closed()
        await session.close()
    assert session.close_code == code
    assert session.close_reason is not None and session.close_reason.startswith(says)
