"""The items we send with `conversation.item.create` have their row at once, from the frame we
sent, and the server's echo (`conversation.item.added`) confirms it: one row either way, in the
server's order once known; a server that never echoes still shows the typed message."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from tests.app_helpers import items, reply_done, session_ready, views_settled, wait_for
from tests.server_helpers import scripted_peer
from tests.test_conversation import env, feed, response, rows, user_turn
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import Conversation, Origin, TextState
from tui.protocol import Direction
from tui.widgets import Transcript


def create(words: str, event_id: str = "evt_1", item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
    if item_id is not None:
        item["id"] = item_id
    return {"type": "conversation.item.create", "event_id": event_id, "item": item}


def echo(item_id: str, prev: str | None, words: str) -> dict[str, Any]:
    content = [{"type": "input_text", "text": words}]
    item = {"id": item_id, "type": "message", "role": "user", "status": "completed", "content": content}
    return {"type": "conversation.item.added", "previous_item_id": prev, "item": item}


def sent(conv: Conversation, data: dict[str, Any]) -> None:
    conv.apply(env(data, Direction.OUT))


def test_a_typed_message_has_its_row_before_the_server_echoes_it() -> None:
    conv = Conversation()
    sent(conv, create("hello there"))
    assert rows(conv) == [("user", "hello there")]
    (row,) = conv.ordered()
    assert row.origin is Origin.CREATE and row.state is TextState.DONE
    assert row.id in conv.take_changes()


def test_the_echo_confirms_the_row_under_the_server_s_id_without_a_second_one() -> None:
    conv = Conversation()
    sent(conv, create("hello there"))
    provisional = conv.ordered()[0].id
    conv.take_changes()
    feed(conv, [echo("item_u1", None, "hello there"), *response("resp_1", "item_a1", "item_u1", "hi")])
    assert rows(conv) == [("user", "hello there"), ("assistant", "hi")]
    assert conv.order[0] == "item_u1" and provisional not in conv.items
    assert {provisional, "item_u1"} <= conv.take_changes()  # the view drops the old id, shows the new


def test_a_server_that_never_echoes_still_shows_the_message_before_the_reply() -> None:
    conv = Conversation()
    sent(conv, create("what time is it"))
    feed(conv, response("resp_1", "item_a1", "item_u_never_seen", "noon"))
    assert rows(conv) == [("user", "what time is it"), ("assistant", "noon")]


def test_echoes_confirm_creates_in_order_and_take_the_server_s_place() -> None:
    """Two creates before either echo: the first echo is the first create's; a row takes its
    place in the server's chain (after previous_item_id) once the echo says where that is."""
    conv = Conversation()
    feed(conv, user_turn("item_v1", None))
    sent(conv, create("one", "evt_1"))
    sent(conv, create("two", "evt_2"))
    feed(conv, response("resp_1", "item_a1", "item_v1", "hi"))  # a reply to the recording, meanwhile
    assert rows(conv) == [("user", ""), ("user", "one"), ("user", "two"), ("assistant", "hi")]
    feed(conv, [echo("item_c1", "item_a1", "one"), echo("item_c2", "item_c1", "two")])
    assert conv.order == ["item_v1", "item_a1", "item_c1", "item_c2"]
    assert rows(conv) == [("user", ""), ("assistant", "hi"), ("user", "one"), ("user", "two")]


def test_a_create_with_our_own_id_is_confirmed_by_that_id() -> None:
    conv = Conversation()
    feed(conv, user_turn("item_v1", None))
    sent(conv, create("mine", item_id="msg_own"))
    sent(conv, create("again", item_id="msg_own"))  # a second create of an existing id adds nothing
    feed(conv, [echo("msg_own", "item_v1", "mine")])
    assert conv.order == ["item_v1", "msg_own"] and rows(conv)[1] == ("user", "mine")


def test_a_refused_create_takes_its_row_away() -> None:
    conv = Conversation()
    sent(conv, create("too long", "evt_9"))
    assert rows(conv) == [("user", "too long")]
    error = {"type": "invalid_request_error", "code": "invalid_value", "message": "no", "event_id": "evt_9"}
    feed(conv, [{"type": "error", "error": error}])
    assert rows(conv) == []
    assert conv.last_error is not None


def test_a_create_refused_without_event_id_takes_its_row_away() -> None:
    """Lint helper: the official SDK sends `event_id: null`; the server's refusal names no event, so
    the refused message stayed in the transcript as said. An error only a create can cause (its
    code or param) refuses the oldest create sent without one still waiting; any other, nothing."""
    conv = Conversation()
    for words in ("bad role", "fine", "bad previous"):
        data = create(words)
        del data["event_id"]
        sent(conv, data)
    role = {"type": "invalid_request_error", "code": "invalid_value", "message": "no", "param": "item.role"}
    feed(conv, [{"type": "error", "error": role}])
    assert rows(conv) == [("user", "fine"), ("user", "bad previous")]
    other = {"type": "invalid_request_error", "code": "invalid_value", "message": "no", "param": "audio"}
    feed(conv, [{"type": "error", "error": other}])  # not only a create's: nothing is taken
    feed(conv, [echo("item_1", None, "fine")])
    previous = {"type": "invalid_request_error", "code": "invalid_value", "message": "no", "param": "previous_item_id"}
    feed(conv, [{"type": "error", "error": previous}])
    assert rows(conv) == [("user", "fine")]


def test_audio_created_by_the_client_says_it_is_not_transcribed_from_the_frame_sent() -> None:
    conv = Conversation()
    data = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "AAAA"}]},
    }
    sent(conv, data)
    (row,) = conv.ordered()
    assert row.has_audio and row.state is TextState.NOT_TRANSCRIBED


# -- in the app, against the real simulator ---------------------------------------------------------


def _user_echo(message: str | bytes) -> bool:
    """A `conversation.item.added`/`.done` of a user message: what the relay below holds back."""
    try:
        event = json.loads(message)
    except ValueError:
        return False
    item = event.get("item") if isinstance(event, dict) else None
    return (
        event.get("type") in ("conversation.item.added", "conversation.item.created", "conversation.item.done")
        and isinstance(item, dict)
        and item.get("role") == "user"
    )


@asynccontextmanager
async def echo_dropping_relay(upstream: str) -> AsyncIterator[str]:
    """The real simulator behind a relay that drops its echoes of user items (a server that never
    sends `conversation.item.added` for a typed message); yields the relay's URL."""

    async def relay(client: ServerConnection) -> None:
        async with connect(upstream, compression=None) as server:

            async def up() -> None:
                async for message in client:
                    await server.send(message)

            async def down() -> None:
                async for message in server:
                    if not _user_echo(message):
                        await client.send(message)

            tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()

    async with scripted_peer(relay) as url:
        yield url


async def test_a_typed_message_shows_when_the_server_never_echoes_it(simulator_url: str) -> None:
    async with echo_dropping_relay(simulator_url) as url:
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t", *"turn on the kitchen lights", "enter", "escape")
            await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
            await views_settled(pilot, app)
            echoed = [i for i in range(len(app.journal)) if app.journal[i].type == "conversation.item.added"]
            assert all(app.journal.data(i)["item"]["role"] != "user" for i in echoed)  # the relay held them
            assert [(i.role, i.text) for i in app.conversation.ordered()][0] == ("user", "turn on the kitchen lights")
            assert [i.role for i in app.conversation.ordered()] == ["user", "assistant"]
            assert "turn on the kitchen lights" in app.query_one(Transcript).text()


async def test_a_typed_message_echoed_by_the_simulator_has_one_row_under_the_server_s_id(simulator_url: str) -> None:
    app = RtApp(Settings(target=TargetChoice.URL, url=simulator_url, playback=False))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        for turn, words in enumerate(("turn on the kitchen lights", "and the hall"), start=1):
            await pilot.press("t", *words, "enter", "escape")
            replied = lambda turn=turn: len(items(app, "assistant")) == turn and reply_done(app)  # noqa: E731
            await wait_for(pilot, replied, 30, f"reply {turn}")
        await views_settled(pilot, app)
        ordered = [(i.role, i.text) for i in app.conversation.ordered()]
        assert [role for role, _ in ordered] == ["user", "assistant", "user", "assistant"], ordered
        assert [text for role, text in ordered if role == "user"] == ["turn on the kitchen lights", "and the hall"]
        assert all(not i.id.startswith("rt-sent-") for i in app.conversation.ordered())  # every echo confirmed one
        assert app.query_one(Transcript).text().count("you\nturn on the kitchen lights\n") == 1


@pytest.mark.parametrize("echoed", [False, True], ids=["never-echoed", "echoed"])
async def test_o_on_a_typed_row_shows_the_create_we_sent(simulator_url: str, echoed: bool) -> None:
    """`o` on a typed message's row shows the `conversation.item.create` that made it: the create
    names no item, so `for:ID` alone would show nothing for a row the server never echoed."""
    async with contextlib.AsyncExitStack() as stack:
        url = simulator_url if echoed else await stack.enter_async_context(echo_dropping_relay(simulator_url))
        app = RtApp(Settings(target=TargetChoice.URL, url=url, playback=False))
        pilot = await stack.enter_async_context(app.run_test(size=(140, 40)))
        await wait_for(pilot, lambda: session_ready(app), 10, "the session")
        await pilot.press("t", *"turn on the kitchen lights", "enter", "escape")
        await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
        await views_settled(pilot, app)
        row = app.conversation.ordered()[0]
        assert row.role == "user" and row.id.startswith("rt-sent-") is not echoed
        transcript = app.query_one(Transcript)
        assert transcript.select_item(row.id)
        transcript.focus()
        await pilot.press("o")
        await views_settled(pilot, app)
        shown = [app.journal[i].type for i in app.log_view.indices]
        assert "conversation.item.create" in shown, (app.filter_bar.active, shown)
        if not echoed:
            assert shown == ["conversation.item.create"]
