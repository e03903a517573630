"""A key a server streams back in pieces: no one delta holds it, the joined text must not either.

A model reading the key back ("your key is sk-proj-…") sends it as several deltas, and every view
joins them (the transcript, the log's run of deltas, the exports). A hostile server on loopback
streams the key split at every position, one character per delta, and beside other text, in the
three text streams (the reply as text, its audio transcript, the user's transcription), with no
`.done` to replace the joined text, as when the connection drops mid-reply. The bus, the capture
file and the conversation the transcript shows are scanned for every spelling of the key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection

from tests.secret_helpers import assert_no_leak, new_test_key
from tests.server_helpers import scripted_peer
from tui.bus import Bus
from tui.conversation import Conversation
from tui.protocol import Envelope
from tui.session import FRAMES, CaptureWriter, RealtimeSession, new_session_dir, url_target

STREAMS = (
    "response.output_text.delta",
    "response.output_audio_transcript.delta",
    "conversation.item.input_audio_transcription.delta",
)


def splits(key: str) -> list[list[str]]:
    """The ways the key is streamed: cut in two at every position, in three, one character a delta."""
    said = f"your key is {key} keep it safe"
    at = said.index(key)
    ways = [[said[: at + cut], said[at + cut :]] for cut in range(1, len(key))]
    ways.append([said[: at + 3], said[at + 3 : at + 9], said[at + 9 :]])
    ways.append(list(said))
    return ways


async def stream_back(key: str, tmp_path: Path) -> tuple[list[Envelope], str]:
    """Every way of `splits`, in every stream, each its own item; returns the bus's envelopes and
    the capture file's text."""

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        n = 0
        for way in splits(key):
            for kind in STREAMS:
                n += 1
                for piece in way:
                    delta = {"type": kind, "item_id": f"item_{n}", "content_index": 0, "delta": piece}
                    await ws.send(json.dumps({**delta, "response_id": "resp_1", "output_index": 0}))
        await ws.close()

    return await session_with(peer, key, tmp_path)


async def session_with(
    peer: Callable[[ServerConnection], Awaitable[None]], key: str, tmp_path: Path
) -> tuple[list[Envelope], str]:
    """A real session (with `key`, captured under `tmp_path`) against a server that runs `peer` and
    closes; returns the bus's envelopes and the capture file's text."""
    async with scripted_peer(peer) as url:
        target = url_target(url, api_key=key)
        bus = Bus()
        sub = bus.subscribe(FRAMES)
        folder = new_session_dir(tmp_path)
        capture = CaptureWriter(folder, target.secrets)
        session = RealtimeSession(target, bus, capture=capture)
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 30)
        await session.close()
        capture.close()
    return sub.drain(), (folder / "frames.jsonl").read_text()


@pytest.mark.parametrize("key", [new_test_key(), "sk-proj-" + "Ab3" * 50])
async def test_a_key_streamed_across_deltas_is_never_joined_whole(key: str, tmp_path: Path) -> None:
    envelopes, capture = await stream_back(key, tmp_path)
    deltas = [env for env in envelopes if env.type in STREAMS]
    assert len(deltas) == sum(len(way) for way in splits(key)) * len(STREAMS)  # every frame arrived
    joined: dict[str, str] = {}
    for env in deltas:
        joined[env.data["item_id"]] = joined.get(env.data["item_id"], "") + env.data["delta"]
    assert len(joined) == len(splits(key)) * len(STREAMS)
    for item, text in joined.items():
        assert_no_leak(text, key, f"the joined deltas of {item}")
        # The words around the key are kept, in order; the key itself is said to be redacted.
        assert text.startswith("your key is ") and text.endswith(" keep it safe"), text
        assert "[redacted]" in text, text
    assert_no_leak(capture, key, "the capture file")
    conversation = Conversation()
    for env in envelopes:
        conversation.apply(env)
    shown = [item.text for item in conversation.ordered()]
    assert len([text for text in shown if text]) >= len(splits(key))
    for text in shown:
        assert_no_leak(text, key, "the transcript")


async def test_text_that_only_looks_like_the_start_of_a_key_is_kept_whole(tmp_path: Path) -> None:
    """Text beside a held-back start is handed on, not lost: only a completed key is replaced, and a
    stream whose key-like start never completes shows everything before it."""
    key = new_test_key()

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        pieces = ["keys start ", key[:7], " and then ", key[:10], " more", " then ", key[:12]]
        for piece in pieces:
            delta = {"type": STREAMS[0], "item_id": "item_1", "content_index": 0, "delta": piece}
            await ws.send(json.dumps(delta))
        await ws.close()

    envelopes, _ = await session_with(peer, key, tmp_path)
    text = "".join(env.data["delta"] for env in envelopes if env.type == STREAMS[0])
    assert text == f"keys start {key[:7]} and then {key[:10]} more then "
    # The 12 characters held back when the connection ended are said to be missing (they went without
    # a word); what they were is not said: the start of a key.
    [said] = [str(env.data["message"]) for env in envelopes if env.type == "rt.warning"]
    assert said == (
        "the last 12 characters of item item_1's response.output_text text are not shown: they began like the "
        "API key, and the connection ended before the rest could tell"
    )
    assert_no_leak(said, key, "the warning")


async def test_a_stream_that_ended_with_its_done_leaves_nothing_said_missing(tmp_path: Path) -> None:
    """Held back at a delta's end, then the stream's `.done` came (the whole text, scrubbed as any
    frame): nothing is missing, and nothing is said to be when the connection ends."""
    key = new_test_key()

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_s"}}))
        ids = {"item_id": "item_1", "content_index": 0}
        await ws.send(json.dumps({"type": STREAMS[0], **ids, "delta": "see " + key[:12]}))
        await ws.send(json.dumps({"type": "response.output_text.done", **ids, "text": "see " + key[:12]}))
        await ws.close()

    envelopes, _ = await session_with(peer, key, tmp_path)
    assert not [env for env in envelopes if env.type == "rt.warning"]


def test_a_replay_does_not_join_a_key_a_recording_streamed_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log of a session in which the model read the user's key back, one character a delta:
    `replay --json` (and so the app's replay and `lint`, which clean a recording the same way)
    never prints the deltas that would join it."""
    import io

    from tui.replay_cmd import replay

    key = new_test_key()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    said = f"your key is {key} keep it safe"
    log = tmp_path / "mine.jsonl"
    frames = [
        {
            "type": "response.output_text.delta",
            "response_id": "resp_1",
            "item_id": "item_1",
            "content_index": 0,
            "output_index": 0,
            "delta": piece,
        }
        for piece in said
    ]
    log.write_text("".join(json.dumps(frame) + "\n" for frame in frames))
    out = io.StringIO()
    assert replay(str(log), json_out=True, out=out) == 0
    joined = "".join(json.loads(line)["frame"].get("delta", "") for line in out.getvalue().splitlines())
    assert "[redacted]" in joined
    assert_no_leak(joined, key, "the replayed deltas joined")
