"""`transcription-not-requested`: a recording of the client's side alone (no frame from the server)
whose client appended user audio before asking for input transcription (or without ever asking).

That is the question rt-tui was born from ("transcription is on, and the transcript of my own words
is null"), asked with the evidence most people have: their own client's log of what it sent. A
Realtime session starts with input transcription off (null, in both dialects), and only a
`session.update` turns it on; with no server frame in the recording, what the server applied
cannot be read, but a client that never asked has, unless its session was configured elsewhere
(an ephemeral key minted with a session configuration), audio whose transcript is null.

With the server's frames recorded, `transcription-off-at-commit` and `transcript-never-came` say
it from what the server applied; this rule stays silent then.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.protocol import Dialect, Direction, Envelope, obj, text
from tui.protocol.summary import audio_bytes

from .context import Context, duration
from .finding import Severity
from .shapes import input_format, session_dialect

_ENDED = frozenset({"closed", "failed"})


class RequestRules:
    """What the client asked of its session, judged when a connection (or the recording) ends with
    no frame from the server to say what was applied."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._first_append: int | None = None
        """This connection's first append that carried audio while transcription was not asked for."""
        self._last_append: int | None = None
        self._audio_bytes = 0
        """Audio bytes appended while transcription was not asked for (decoded, or as an audio tag says)."""
        self._commits: list[int] = []
        """Commits sent while transcription was not asked for (those the server refuses as too short
        are left out at the end)."""
        self._updates: list[int] = []
        """The session updates sent in this connection (those before the audio are named)."""
        self._turned_on = False
        """A session update asked for input transcription (in its place, or in a wrong one: a
        misplaced request is other rules' to judge, and what the developer meant)."""
        self._turned_off: int | None = None
        """The last update that set input transcription to null on purpose, if it is off since."""
        self._later_on: int | None = None
        """The update that turned transcription on after audio was committed without it."""
        self._transcription_session = False
        """The client set up a transcription session: transcription is its whole point (other rules)."""
        self._dialect: Dialect | None = None
        """The dialect the client's last non-empty session update is shaped in (the fix's, as no server says)."""

    def handlers(self) -> dict[tuple[Direction, str], Callable[[Envelope, int], None]]:
        """The frames this group judges."""
        return {
            (Direction.OUT, "input_audio_buffer.append"): self._append,
            (Direction.OUT, "input_audio_buffer.commit"): self._commit,
            (Direction.OUT, "session.update"): self._update,
            (Direction.OUT, "transcription_session.update"): self._transcription,
            (Direction.LOCAL, "rt.connection"): self._connection,
        }

    def reset(self) -> None:
        """A new connection: nothing asked, nothing appended yet."""
        self._first_append = self._last_append = self._turned_off = self._later_on = None
        self._audio_bytes = 0
        self._commits.clear()
        self._updates.clear()
        self._turned_on = self._transcription_session = False
        self._dialect = None

    # -- what the client sent ---------------------------------------------------------------

    def _append(self, env: Envelope, index: int) -> None:
        audio = env.data.get("audio")
        if self._turned_on or not isinstance(audio, str) or not audio:
            return  # asked for; or refused by the server (invalid-base64-audio): no audio reached the buffer
        self._audio_bytes += audio_bytes(audio)
        if self._first_append is None:
            self._first_append = index
        self._last_append = index

    def _commit(self, env: Envelope, index: int) -> None:
        if not self._turned_on:
            self._commits.append(index)

    def _update(self, env: Envelope, index: int) -> None:
        session = obj(env.data.get("session"))
        self._updates.append(index)
        if session:
            self._dialect = session_dialect(session)
        if session.get("type") == "transcription":
            self._transcription_session = True
            return
        audio = obj(session.get("audio"))
        audio_in = obj(audio.get("input"))
        # Read in the update's own shape: a GA session's `input_audio_transcription` is the beta
        # field, misplaced (what was meant), not a transcription set to null.
        ga = "type" in session or "audio" in session
        if ga and "transcription" in audio_in:
            self._asked(index, on=isinstance(audio_in["transcription"], dict))
        elif not ga and "input_audio_transcription" in session:
            self._asked(index, on=isinstance(session["input_audio_transcription"], dict))
        elif any("transcription" in key for holder in (session, audio, audio_in) for key in holder):
            self._asked(index, on=True)  # misplaced: what was meant (see _turned_on)

    def _asked(self, index: int, *, on: bool) -> None:
        """An update set input transcription on or off."""
        if on and not self._turned_on and self._first_append is not None:
            self._later_on = index  # audio committed before it stays untranscribed
        self._turned_on, self._turned_off = on, None if on else index

    def _transcription(self, env: Envelope, index: int) -> None:
        self._transcription_session = True

    def _connection(self, env: Envelope, index: int) -> None:
        if text(env.data.get("state")) in _ENDED:
            self.judge()

    # -- the judgement ----------------------------------------------------------------------

    def judge(self) -> None:
        """The connection or the recording ended: say `transcription-not-requested` if it applies
        (once: what was judged is forgotten)."""
        ctx = self.ctx
        first = self._first_append
        if first is None or self._transcription_session or ctx.server_heard or ctx.applied_index is not None:
            return
        commits = [i for i in self._commits if not any(f.rule == "commit-too-short" for f in ctx.blamed(i))]
        if self._commits and not commits:
            return  # every commit is refused (commit-too-short says so): no item, no transcript to miss
        last = self._last_append if self._last_append is not None else first
        fmt = input_format(ctx.facts.requested)
        appended = f"appended {duration(self._audio_bytes, fmt)} of user audio"
        appended += f" ({ctx.name(first)})" if last == first else f" ({ctx.name(first)} to {ctx.name(last)})"
        if commits:
            more = len(commits) - 1
            others = f" and {more} more" if more > 1 else " and one more" if more else ""
            appended += f" and committed it ({ctx.name(commits[0])}{others})"
        else:
            appended += " for the server's turn detection to commit"
        off = self._turned_off
        if off is not None:
            why = f"{ctx.name(off)} set input transcription to null (off)"
            severity = Severity.INFO
        elif before := [update for update in self._updates if update < first]:
            named, verb = ctx.name(before[0]), "leaves"
            if len(before) > 1:
                named, verb = f"{named} to {ctx.name(before[-1])}", "leave"
            why = (
                f"no session.update it sent turns input transcription on ({named} {verb} it out), and a Realtime "
                "session starts with it off (null)"
            )
            severity = Severity.WARNING
        else:
            # A warning all the same (review 56c): a client that never sends one is the commonest way to a
            # null transcript; the message says a log that began after the setup would not show it.
            why = (
                "it sent no session.update before it, and a Realtime session starts with input transcription off (null)"
            )
            severity = Severity.WARNING
        consequence = "each item made of that audio has transcript null"
        if not self._updates:
            consequence = f"unless the log left out the client's setup, {consequence}"
        later = ""
        if self._later_on is not None:
            later = (
                f" Transcription was turned on only later, by {ctx.name(self._later_on)}: it applies to audio "
                "committed after that, never to this."
            )
        message = (
            f"The client {appended}, but {why}: {consequence}, and no "
            f"conversation.item.input_audio_transcription event follows.{later} The recording holds no frame from the "
            "server, so this is what the client asked, not what the server applied: a session configured when its "
            "ephemeral key was minted may have transcription on."
        )
        fix = (
            f"Turn it on before the first commit: send session.update with {ctx.transcription_path(self._dialect)}, "
            "wait for the session.updated that shows it on, then read "
            "conversation.item.input_audio_transcription.completed for each item_id (it may come after the reply). "
            "Log the server's events too, so rt-tui lint can check what the server applied."
        )
        if off is not None:  # off on purpose: the fix is for whoever wants the transcript after all
            fix = f"If you want the text of what was said: {fix[0].lower()}{fix[1:]} If you don't, ignore this."
        frames = tuple(i for i in (commits[0] if commits else first, first, off, self._later_on) if i is not None)
        ctx.emit("transcription-not-requested", message, fix, frames, severity)
        self._first_append = None
        self._commits.clear()  # judged: a second call (the recording's end after the connection's) adds nothing
