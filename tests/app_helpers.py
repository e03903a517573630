"""Helpers for driving the real app under `run_test()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from tui.app import RtApp
from tui.conversation import Item, TextState
from tui.widgets import EventDetail, EventLog


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], timeout: float, what: str) -> None:
    """Let the app run until `condition()` holds; fail with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


async def press_voice(pilot: Pilot[None], key: str) -> None:
    """Press a voice key (space, v) and wait until the voice steps asked for so far have run: they
    open and close the microphone off the key handler (`tui.app.serial_steps`), as a user waits for
    the recorder to change."""
    await pilot.press(key)
    app = pilot.app
    assert isinstance(app, RtApp)
    await app.voice_steps.idle()


async def open_frame_details(pilot: Pilot[None], app: RtApp, index: int) -> None:
    """Select frame `index` in the event log and open its details with Enter; fails unless they open."""
    log = app.query_one(EventLog)
    log.focus()
    assert log.select_frame(index)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, EventDetail), 5, "the frame's details")


async def views_settled(pilot: Pilot[None], app: RtApp, timeout: float = 5) -> None:
    """Wait until the views show every frame received so far (they repaint at most 15 times a second)."""
    await wait_for(pilot, lambda: app.views_current, timeout, "the views to show every frame")


def session_ready(app: RtApp) -> bool:
    """Connected, and our `session.update` has been answered."""
    return app.facts.state == "open" and app.session_updates > 0


def items(app: RtApp, role: str) -> list[Item]:
    """The conversation's items of one role, in order."""
    return [item for item in app.conversation.ordered() if item.role == role]


def reply_done(app: RtApp) -> bool:
    """The latest assistant row has all its text (the reply is over)."""
    replies = items(app, "assistant")
    return bool(replies) and replies[-1].state is TextState.DONE


def reply_journaled(app: RtApp) -> bool:
    """The reply is over and its last frame journaled: `rate_limits.updated`, which the server
    sends after `response.done` (40 ms after, in the simulator), after each reply."""
    return reply_done(app) and any(frame.type == "rate_limits.updated" for frame in app.journal)


def turn_complete(app: RtApp) -> bool:
    """A user audio row with its final transcript, and a finished assistant row."""
    users, assistants = items(app, "user"), items(app, "assistant")
    return bool(
        users
        and users[-1].state in (TextState.DONE, TextState.FAILED)
        and assistants
        and assistants[-1].state is TextState.DONE
    )


def notices(app: RtApp) -> list[tuple[str, str]]:
    """(title, message) of every notification the app has raised and not yet cleared.

    Textual keeps them on a private attribute (its own tests read it too); read here only, so one
    place changes if Textual moves it. A path the app broke after a slash to fit the toast
    (`fold_long_paths`) is read whole again.
    """
    return [(n.title, unfolded(n.message)) for n in app._notifications]


def unfolded(message: str) -> str:
    """A notice's text with the line breaks `fold_long_paths` put after a path's slashes taken out."""
    return message.replace("/\n", "/")


def screen_text(app: RtApp) -> str:
    """The text on screen, from the SVG screenshot (spans joined, entities decoded)."""
    import html
    import re

    svg = app.export_screenshot()
    return "".join(html.unescape(span) for span in re.findall(r"<text[^>]*>(.*?)</text>", svg)).replace("\xa0", " ")


_KEY_NAMES = {" ": "space", "/": "slash", ":": "colon", ".": "full_stop", "*": "asterisk", "-": "minus"}


def type_burst(app: RtApp, text: str) -> None:
    """Send `text` as the terminal does when keys come faster than the app handles them (typing
    fast, a paste): every key handed to the app at once, none waited for (`pilot.press` waits for
    each key to be handled before the next)."""
    from textual import events

    assert app._driver is not None
    for character in text:
        event = events.Key(_KEY_NAMES.get(character, character), character)
        event.set_sender(app)
        app._driver.send_message(event)


def keys_burst(app: RtApp, *keys: str) -> None:
    """Hand `keys` (Textual's key names: `t`, `enter`, `escape`, `space`) to the app at once, none
    waited for: `pilot.press` waits for the process to go idle after each key, up to 2 s under load
    (the in-process simulator working, a microphone streaming), which a test of a short window lost."""
    from textual import events

    assert app._driver is not None
    characters = {"space": " ", "enter": "\r", "escape": "\x1b"}
    for key in keys:
        event = events.Key(key, characters.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app._driver.send_message(event)


async def typed_turn_done(pilot: Pilot[None], app: RtApp, words: str) -> None:
    """Once the session is ready, type `words` as a message, and wait until its reply is done and shown."""
    await wait_for(pilot, lambda: session_ready(app), 10, "the session")
    await pilot.press("t", *words, "enter", "escape")
    await wait_for(pilot, lambda: reply_done(app), 30, "the reply")
    await views_settled(pilot, app)


async def replay_shown(pilot: Pilot[None], app: RtApp, timeout: float = 10) -> None:
    """Wait until the app's replay has published its last frame and the views show it."""
    assert app.player is not None
    await wait_for(pilot, app.player.done.is_set, timeout, "the replay")
    await views_settled(pilot, app)


def painted_text(app: RtApp) -> str:
    """What the log, the transcript and the status line paint now, and the notices' titles and
    texts, as one string (to look for characters that must never reach the terminal)."""
    from tui.widgets import EventLog, Transcript

    painted = []
    for widget in (app.query_one(EventLog), app.query_one(Transcript), app.status_line):
        painted += [
            "".join(segment.text for segment in line) for line in widget.render_lines(widget.region.reset_offset)
        ]
    painted += [f"{title} {message}" for title, message in notices(app)]
    return "\n".join(painted)


async def cancel_refused(pilot: Pilot[None], app: RtApp) -> tuple[int, int]:
    """Once the session is ready, a `response.cancel` with nothing active, which the server refuses:
    (the cancel's journal index, the error's), the views settled on them."""
    await wait_for(pilot, lambda: session_ready(app), 10, "the session")
    assert app.session is not None
    app.session.send({"type": "response.cancel"})  # nothing is active: the server says so
    await wait_for(pilot, lambda: any(f.type == "error" for f in app.journal), 10, "the error")
    await views_settled(pilot, app)
    error = next(f for f in app.journal if f.type == "error")
    cancel = next(f for f in app.journal if f.type == "response.cancel")
    return cancel.index, error.index
