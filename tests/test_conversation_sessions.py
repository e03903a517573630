"""Session separators: one per connection that has conversation, naming that connection's target
and the time it began, right above its first item, however many connections came and went
before it without a word."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from tests.app_helpers import items, session_ready, views_settled, wait_for
from tui.app import RtApp
from tui.config import Settings, TargetChoice
from tui.conversation import Conversation, Item
from tui.protocol import Direction, Envelope, serialize
from tui.widgets import Transcript

_seq = itertools.count(1)
_clock = itertools.count(1_795_000_000, 60)
"""Wall-clock times a minute apart, so each connection's separator has its own time."""


def frame(direction: Direction, data: dict[str, Any]) -> Envelope:
    return Envelope(next(_seq), direction, data["type"], data, serialize(data), mono=1.0, wall=float(next(_clock)))


def connection(state: str, target: str = "") -> Envelope:
    """A connection fact as the session publishes it (`target` is the label the status line shows)."""
    return frame(Direction.LOCAL, {"type": "rt.connection", "message": state, "state": state, "target": target})


def typed(item_id: str, text: str) -> Envelope:
    """A typed user message, as the server echoes it."""
    item = {"id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return frame(Direction.IN, {"type": "conversation.item.added", "previous_item_id": None, "item": item})


def separators(conv: Conversation) -> list[Item]:
    return [item for item in conv.ordered() if item.role == "session"]


def test_a_connection_without_conversation_leaves_no_stale_separator_above_the_next_one() -> None:
    """ctrl+r twice: the second reconnect's separator replaces the first's, which had nothing below it."""
    conv = Conversation()
    for env in [connection("connecting", "simulator · 127.0.0.1:41175"), typed("item_1", "hello")]:
        conv.apply(env)
    conv.apply(connection("closed"))
    conv.apply(connection("connecting", "simulator · 127.0.0.1:41176"))
    conv.apply(connection("open", "simulator · 127.0.0.1:41176"))
    conv.apply(connection("closed"))
    conv.take_changes()
    third = connection("connecting", "simulator · 127.0.0.1:38053")
    conv.apply(third)
    (separator,) = separators(conv)
    assert "127.0.0.1:38053" in separator.text and "41176" not in separator.text
    assert separator.wall == third.wall  # its own time, not the connection before
    assert len(conv.take_changes()) == 2  # the stale row goes, the new one comes: the pane redraws both
    conv.apply(typed("item_2", "are you there"))
    assert [item.role for item in conv.ordered()] == ["user", "session", "user"]
    # A connection that has conversation keeps its separator when the next one comes.
    conv.apply(connection("closed"))
    conv.apply(connection("connecting", "simulator · 127.0.0.1:40000"))
    conv.apply(typed("item_3", "and now"))
    assert [item.role for item in conv.ordered()] == ["user", "session", "user", "session", "user"]
    assert ["38053" in separators(conv)[0].text, "40000" in separators(conv)[1].text] == [True, True]


def test_after_a_drop_and_failed_retries_the_turn_sits_under_the_separator_of_its_own_connection() -> None:
    """The tester's second case: connection 1 drops mid-turn, 2 reconnects and hears nothing, the
    server goes away (a failed attempt), and the turn comes on connection 4."""
    conv = Conversation()
    steps = [
        connection("connecting", "127.0.0.1:9000"),
        typed("item_1", "first"),
        connection("closed"),
        connection("connecting", "127.0.0.1:9000"),
        connection("open", "127.0.0.1:9000"),
        connection("closed"),
        connection("connecting", "127.0.0.1:9000"),
        connection("failed"),
    ]
    for env in steps:
        conv.apply(env)
    last = connection("connecting", "127.0.0.1:9000")
    conv.apply(last)
    conv.apply(typed("item_2", "are you there"))
    assert [item.role for item in conv.ordered()] == ["user", "session", "user"]
    (separator,) = separators(conv)
    assert separator.wall == last.wall and separator.id == f"rt-session-{conv.connections}"


def new_session(app: RtApp, before: str | None) -> Callable[[], bool]:
    """A condition: a session other than `before` is open and configured."""
    return lambda: session_ready(app) and app.facts.session_id != before


async def test_ctrl_r_twice_then_a_turn_shows_under_the_separator_of_the_newest_session() -> None:
    from tui.server.testing import realtime_simulator

    async with realtime_simulator() as sim:
        app = RtApp(Settings(target=TargetChoice.URL, url=sim.url_for(), playback=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await pilot.press("t", *"hello there", "enter", "escape")
            await wait_for(pilot, lambda: items(app, "assistant"), 10, "the reply")
            for _ in range(2):  # two new sessions, the first of them with nothing said
                opened = new_session(app, app.facts.session_id)
                await pilot.press("ctrl+r")
                await wait_for(pilot, opened, 10, "a new session")
            await pilot.press("t", *"are you there", "enter", "escape")
            await wait_for(pilot, lambda: len(items(app, "assistant")) == 2, 10, "the second reply")
            await views_settled(pilot, app)
            newest = app.journal.epoch_start(app.journal.epoch)
            assert newest is not None and newest.type == "rt.connection"
            (separator,) = items(app, "session")
            assert separator.wall == newest.wall  # the third connection's separator, not the second's
            shown = app.query_one(Transcript).text()
            assert shown.count("── new session to") == 1
            assert shown.index("hello there") < shown.index("new session") < shown.index("are you there")
