"""Item ids are the server's strings: any characters. `o` (its frames) builds a filter from one,
and an id with a quote or a parenthesis crashed the app (a QueryError, after ctrl+l) or matched
nothing."""

from __future__ import annotations

import json

from websockets.asyncio.server import ServerConnection

from tests.app_helpers import views_settled, wait_for
from tests.server_helpers import scripted_peer
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.journal import Journal, Query, term
from tui.protocol import Direction, Envelope, next_seq
from tui.widgets import Transcript

ODD = 'item_"x) y\\z'


def test_a_term_reads_back_as_the_value_it_was_made_of() -> None:
    journal = Journal()
    for value in (ODD, "item_plain-1.2"):
        data = {"type": "conversation.item.done", "item_id": value}
        journal.append(Envelope(next_seq(), Direction.IN, data["type"], data, json.dumps(data)))
    matches = Query(term("item", ODD), journal).match_index
    assert [index for index in range(len(journal)) if matches(index)] == [0]
    assert term("item", "item_plain-1.2") == "item:item_plain-1.2"  # a plain id stays as typed


async def test_o_on_a_row_whose_id_has_quotes_and_parentheses_shows_its_frames_after_a_clear() -> None:
    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_odd", "type": "realtime"}}))
        item = {"id": ODD, "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        await ws.send(json.dumps({"type": "conversation.item.added", "previous_item_id": None, "item": item}))
        await ws.send(json.dumps({"type": "conversation.item.done", "previous_item_id": None, "item": item}))
        await ws.wait_closed()

    async with scripted_peer(peer) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False, capture=False))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: ODD in app.conversation.items, 10, "the odd item")
            await views_settled(pilot, app)
            await pilot.press("ctrl+l")
            transcript = app.query_one(Transcript)
            assert transcript.select_item(ODD)
            transcript.focus()
            await pilot.press("o")
            await views_settled(pilot, app)
            assert app.is_running
            shown = [app.journal[i].type for i in app.log_view.indices]
            assert shown == ["conversation.item.added", "conversation.item.done"], (app.filter_bar.active, shown)
