"""The status line renders the session facts; narrow lines drop the least-read facts first."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.journal_helpers import received, sent
from tui.journal import Pipeline, SessionFacts
from tui.protocol import local_envelope
from tui.widgets import StatusLine

SESSION = "sess_UN06T7Qy3Bg8f5g5MvgRc"
TARGET = "simulator · 127.0.0.1:41305"
DETAIL = "manual turns · transcribe: gpt-4o-transcribe"


def open_session() -> SessionFacts:
    facts = SessionFacts()
    session = {
        "id": SESSION,
        "type": "realtime",
        "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
    }
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "connecting", state="connecting", target=TARGET),
            local_envelope("rt.connection", "connected", state="open", target=TARGET),
            received("session.created", session=session),
            sent("session.update", session={"type": "realtime"}),
            received("session.updated", session=session),
        ]
    )
    return facts


class StatusApp(App[None]):
    def __init__(self, facts: SessionFacts) -> None:
        super().__init__()
        self.facts = facts

    def compose(self) -> ComposeResult:
        yield StatusLine(self.facts)


async def shown(facts: SessionFacts, width: int) -> str:
    app = StatusApp(facts)
    async with app.run_test(size=(width, 3)) as pilot:
        await pilot.pause()
        return str(app.query_one(StatusLine).render())


async def test_a_narrow_line_keeps_the_state_and_the_transcription_facts() -> None:
    facts = open_session()
    wide = await shown(facts, 200)
    assert TARGET in wide and SESSION in wide and DETAIL in wide and "● open" in wide and "▼2 ▲1" in wide
    narrow = await shown(facts, 110)  # the session id is shortened first
    assert DETAIL in narrow and SESSION not in narrow and "sess_UN06T7Qy…" in narrow
    tiny = await shown(facts, 78)  # 80 columns: the target, the id and the counters give way
    assert DETAIL in tiny and "● open" in tiny


async def test_a_closed_session_says_why_and_no_longer_claims_its_configuration() -> None:
    facts = open_session()
    Pipeline(projections=[facts]).ingest(
        [local_envelope("rt.connection", "connection closed by server (code 1001: session expired)", state="closed")]
    )
    line = await shown(facts, 160)
    assert "● closed" in line and "code 1001: session expired" in line and "transcribe" not in line


async def test_a_failed_connection_keeps_its_reason() -> None:
    facts = SessionFacts()
    Pipeline(projections=[facts]).ingest(
        [
            local_envelope("rt.connection", "connecting", state="connecting", target=TARGET),
            local_envelope("rt.connection", "server refused the session: invalid_api_key (close 3000)", state="failed"),
            local_envelope("rt.capture", "capture written"),
        ]
    )
    line = await shown(facts, 160)
    assert "● failed" in line and "invalid_api_key (close 3000)" in line


async def test_a_url_target_gives_way_to_its_host_and_port_before_the_session_id_goes() -> None:
    """A --url target's label is the whole URL (its query too): when the line is short of room,
    the host and port stand for it, and the session id and counters stay."""
    url = "ws://127.0.0.1:8799/v1/realtime?model=gpt-realtime&sim_drop_after=response.output_audio.delta%3A3"
    facts = open_session()
    facts.target = url
    line = await shown(facts, 160)
    assert url not in line and "127.0.0.1:8799  ● open" in line and "sess_UN06T7Qy" in line and "▼2 ▲1" in line
    wide = await shown(facts, 260)
    assert url in wide  # the whole URL when there is room for it
