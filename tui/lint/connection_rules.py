"""Rules about the connection itself: one that dropped with work in flight, and frames from the
server that are not JSON events.

A connection that ends without a close frame (1006), or with an error code (1011 and the like),
cuts whatever the server was doing: a reply stops mid-sentence and a transcription that had begun
never completes. `rt-tui send` says so on its own run; a CI gate reading the capture with `lint`
said nothing, and passed a run whose user transcript never arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.protocol import Direction, Envelope, obj, text

from .context import Context
from .finding import Severity, plain

#: Close codes of a connection ended as agreed: 1000 (normal), 1001 (going away), 1005 (a close
#: frame with no code). Any other, or none at all (the network's 1006), cut the connection.
_CLEAN_CLOSES = frozenset({1000, 1001, 1005})

_FRAME_REFUSALS: dict[object, tuple[str, str]] = {
    1009: (
        "a frame over the size limit",
        "Keep each event small: the service takes at most 15 MiB of audio in one input_audio_buffer.append, and "
        "a client streams audio in appends of a few hundred milliseconds. A server's frame over rt-tui's own "
        "limit: --max-frame-mib raises it.",
    ),
    1007: (
        "text that is not UTF-8",
        "Send each event as UTF-8 JSON text: a text frame of other bytes (Latin-1, a binary buffer sent as "
        "text) ends the connection. If the server sent it and the server is yours, fix its encoding.",
    ),
    1002: (
        "a WebSocket protocol error",
        "Look at the WebSocket library of the side that sent it (frames masked the wrong way, a bad opcode, "
        "a control frame over 125 bytes): the connection cannot carry on after one.",
    ),
}
"""Close codes of a connection ended over one frame (`frame-refused`): what they mean, and the fix."""

_TRANSCRIPTION_END = frozenset(
    {
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
    }
)


def dropped(fact: dict[str, object]) -> bool:
    """Whether an `rt.connection` fact's data tells of a connection cut (closed without a close
    frame, or with an error code): `connection-dropped` says what it cut."""
    code = fact.get("code")
    return fact.get("state") == "closed" and isinstance(code, int) and code not in _CLEAN_CLOSES


class ConnectionRules:
    """`connection-dropped`, `recording-cut-short` and `malformed-server-frame`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._responses: dict[str, int] = {}
        """Responses begun (id → their response.created) and not done."""
        self._transcribing: dict[str, tuple[int, bool]] = {}
        """Committed user items (id → (their input_audio_buffer.committed, a transcription event has
        come)) whose transcription has neither completed nor failed, while transcription is on."""
        self._updates: list[tuple[int, str]] = []
        """The session.updates sent and not answered yet (their index, their event_id), oldest first."""
        self._open: int | None = None
        """The `rt.connection` fact of a connection the recording saw open and not yet end (its
        index): still open when a recording ends, the recording was cut short (`recording_ended`)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.IN, "response.created"): self._response_created,
            (Direction.IN, "response.done"): self._response_done,
            (Direction.IN, "input_audio_buffer.committed"): self._committed,
            (Direction.IN, "conversation.item.input_audio_transcription.delta"): self._transcribing_now,
            (Direction.IN, "conversation.item.input_audio_transcription.completed"): self._transcribed,
            (Direction.IN, "conversation.item.input_audio_transcription.failed"): self._transcribed,
            (Direction.IN, "rt.malformed"): self._malformed,
            (Direction.LOCAL, "rt.connection"): self._connection,
            (Direction.OUT, "session.update"): self._update_sent,
            (Direction.IN, "session.updated"): self._update_answered,
            (Direction.IN, "error"): self._update_refused,
        }

    def reset(self) -> None:
        """A new connection: nothing of the last one is in flight on it."""
        self._responses.clear()
        self._transcribing.clear()
        self._updates.clear()

    def _update_sent(self, env: Envelope, index: int) -> None:
        if len(self._updates) < 64:  # bounded: a server that never answers
            self._updates.append((index, text(env.data.get("event_id"))))

    def _update_answered(self, env: Envelope, index: int) -> None:
        if self._updates:
            self._updates.pop(0)  # the server answers updates in order

    def _update_refused(self, env: Envelope, index: int) -> None:
        """An error naming an update (its `event_id`) answers it."""
        named = text(obj(env.data.get("error")).get("event_id"))
        self._updates = [(at, event_id) for at, event_id in self._updates if not named or event_id != named]

    def _response_created(self, env: Envelope, index: int) -> None:
        response_id = text(obj(env.data.get("response")).get("id"))
        if response_id and len(self._responses) < 1024:  # bounded: a server that never says done
            self._responses[response_id] = index

    def _response_done(self, env: Envelope, index: int) -> None:
        self._responses.pop(text(obj(env.data.get("response")).get("id")), None)

    def _committed(self, env: Envelope, index: int) -> None:
        known, config = self.ctx.transcription()
        if known and config is None:
            return  # transcription off: no transcript is awaited
        item_id = text(env.data.get("item_id"))
        if item_id and len(self._transcribing) < 1024:
            self._transcribing[item_id] = (index, False)

    def _transcribing_now(self, env: Envelope, index: int) -> None:
        item_id = text(env.data.get("item_id"))
        waiting = self._transcribing.get(item_id)
        if waiting is not None:
            self._transcribing[item_id] = (waiting[0], True)

    def _transcribed(self, env: Envelope, index: int) -> None:
        self._transcribing.pop(text(env.data.get("item_id")), None)

    def _frame_refused(self, data: dict[str, Any], index: int) -> None:
        """`frame-refused`: the connection closed over one frame, whatever was in flight: the
        close's own words say whose frame and how big (the session's, the proxy's)."""
        ctx = self.ctx
        code = data["code"]
        said = plain(text(data.get("message")), 300).rstrip(". ")
        what, fix = _FRAME_REFUSALS[code]
        ctx.emit(
            "frame-refused",
            f"{ctx.name(index)}: {said}. The connection closed with {code} ({what}): a frame one side sent "
            "could not be taken, and the session ended with it.",
            fix,
            (index,),
        )

    def _malformed(self, env: Envelope, index: int) -> None:
        ctx = self.ctx
        said = plain(text(env.data.get("message")).removeprefix("malformed frame from server: "), 300).rstrip(". ")
        ctx.emit(
            "malformed-server-frame",
            f"{ctx.name(index)}: the server sent a frame that is not a JSON event ({said}); a client that "
            "parses every frame as JSON may fail on it, and whatever it carried is lost.",
            "Nothing to fix in your client's events. Make the client survive a frame it cannot parse (log it and "
            "read on); if the server is yours, send each event as one JSON object in one text frame.",
            (index,),
        )

    def _connection(self, env: Envelope, index: int) -> None:
        data = env.data
        state = data.get("state")
        if state == "open":
            # Open, not connecting: a connect cancelled before it opened ends on `connecting` with
            # no close (quit while connecting), and a joined replay gives each part of a log of the
            # user's own a `connecting` fact of its own; neither stops short of a session.
            self._open = index
        elif state in ("closed", "failed", "connecting"):
            self._open = None
        if not dropped(data):
            return
        updates, self._updates = self._updates, []
        if data.get("code") in _FRAME_REFUSALS:
            self._frame_refused(data, index)
            updates = []  # the frame refused may be the update's answer (a session.updated too big)
        said = plain(text(data.get("message")), 200).rstrip(". ")
        listed, frames, transcribing = self._in_flight(updates)
        if not listed:
            return  # nothing in flight: a drop between turns loses nothing the recording shows
        lost = " and the user's transcript stays null or partial" if transcribing else ""
        self.ctx.emit(
            "connection-dropped",
            f"{self.ctx.name(index)}: {said}, with work in flight: {listed}. None of it will finish{lost}: "
            "the server's work ends with the connection.",
            "Reconnect and send the turn again (a new session knows nothing of the old one's items); if it "
            "happens often, look at what ends the socket: the network, a proxy's idle timeout, or the server.",
            (index, *frames),
            Severity.ERROR if transcribing else Severity.WARNING,
        )

    def recording_ended(self, last: int | None) -> None:
        """`recording-cut-short`: the recording (a capture, read to its end) ends with a connection
        still open. rt-tui ends every capture with the connection's close (as a HAR's and the proxy's
        connections end), so the file stops short of the session: a capture that failed (a full
        disk), rt-tui killed, or a session still running (or exported while open). It linted clean,
        whatever came after (review 57b). A warning: it says what the recording lacks, not what the
        client did wrong, and an export of an open session is no fault. `last`: the recording's
        last frame."""
        opened, self._open = self._open, None
        if opened is None or last is None:
            return
        ctx = self.ctx
        listed, frames, _ = self._in_flight(self._updates)
        self._updates = []
        cut = f" It stops with work in flight: {listed}." if listed else ""
        ctx.emit(
            "recording-cut-short",
            f"The recording ends after {ctx.name(last)} with its connection still open ({ctx.name(opened)}): "
            f"rt-tui ends a capture with the connection's close, so this one stops short of its session.{cut} "
            "What came after is not in the file, and was not judged.",
            "If rt-tui said 'capture failed' (a full disk), free space where it writes (RT_TUI_DATA_DIR) and run "
            "the session again; a session still running (or exported while open): lint its capture once it has "
            "ended; else rt-tui was killed before it could close the file. A CI job that must not pass an "
            "incomplete capture: --fail-on warning.",
            (last, opened, *frames),
        )

    def _in_flight(self, updates: list[tuple[int, str]]) -> tuple[str, list[int], bool]:
        """What a connection's end cuts, taken from what is in flight: (the list said, the frames it
        names, whether a transcription was among it); an empty list when nothing was."""
        responses, self._responses = self._responses, {}
        transcribing, self._transcribing = self._transcribing, {}
        ctx = self.ctx
        cut: list[str] = []
        frames: list[int] = []
        if updates:
            # The session was never configured as asked: a turn sent after its answer never went.
            sent_at = updates[-1][0]
            cut.append(f"{ctx.name(sent_at)} was awaiting its session.updated")
            frames.append(sent_at)
        for response_id, created in list(responses.items())[:3]:
            cut.append(f"response {plain(response_id, 60)} was in progress ({ctx.name(created)})")
            frames.append(created)
        for item_id, (committed, begun) in list(transcribing.items())[:3]:
            how = "had begun and never completed" if begun else "was awaited"
            cut.append(f"the transcription of item {plain(item_id, 60)} {how} ({ctx.name(committed)})")
            frames.append(committed)
        if not cut:
            return "", frames, False
        more = len(responses) + len(transcribing) + min(1, len(updates)) - len(cut)
        return "; ".join(cut) + (f"; and {more} more" if more > 0 else ""), frames, bool(transcribing)
