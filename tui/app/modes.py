"""The app's other modes: replaying a recording, and proxying your own client's connections."""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import SystemCommand

from tui.bus import Mode, Topic
from tui.journal import LogView
from tui.model import KEEP_EVERY_PAYLOAD, SessionModel, new_model
from tui.protocol import Envelope, short_target
from tui.replay import Recording, ReplayPlayer, ReplayRequest, recording_name
from tui.replay.lean import RecordingChanged
from tui.session import FRAMES
from tui.widgets.log_format import counted, sentence
from tui.widgets.screen_size import short_screen

from .base import AppBase

if TYPE_CHECKING:
    from textual.notifications import Notification

    from tui.proxy import ProxyConnection, ProxyRequest, Sink

BUFFER_AUDIO = "audio via the input buffer"
"""The transcript's label for user audio committed from the input buffer, in the replay and the
proxy: audio rt-tui did not record (a client's, a recording's), only saw go through the buffer."""


class Modes(AppBase):
    """Replay and proxy: which keys each mode has, and which session the views show."""

    _replay_speed: float | None = None
    """The replay's pace as asked for (`--speed`, `]`, `[`): what `r` plays again at."""
    _clients: tuple[ProxyConnection, ...] = ()
    """The proxy's client connections, in the order of `models` (connection n is session n)."""
    _held_by_user = False
    """The user switched (`<` `>`) to a session other than the newest: new clients do not take the
    screen from it, a notice says how to reach them."""
    _follow_due: str | None = None
    """Why the screen is to follow the newest client once a dialog closes or a query bar loses the
    focus ("connection #3 opened"); None when no follow waits."""
    _client_notice: Notification | None = None
    """The last notice about the proxy's clients: the next takes its place while it is shown."""
    _opened_from: tuple[int, int] | None = None
    """(connection number, session position) of the first client the notice shown names as opened."""

    if TYPE_CHECKING:
        # LogControls' (beside this mixin in RtApp): a session switched to gets the filter in force.
        def apply_filter(self, text: str, *, probed: bool = False, back: str | None = None) -> bool: ...
        def _filter_status(self) -> None: ...
        def _find_status(self) -> None: ...
        def attach_session_log(self, view: LogView) -> None: ...

        # RtApp's: take in what the feeds hold now.
        def _pump(self) -> None: ...

        # LiveSession's: the app's facts published while no capture was open.
        _facts_waiting: list[Envelope] | None

    def start_replay(self, request: ReplayRequest) -> None:
        """Play a recording into the views; nothing connects anywhere."""
        name = self.replay_name()
        if len(request.recording.files) > 1:  # several, played in turn (`rt-tui replay A B`)
            self.event_log.selection_moved = self._name_selected_file  # at once, not at the next tick
            self.transcript.separator_source = self._separator_file
        self.status_line.no_target = f"replay of {name}"
        # What is replayed, not the target its frames name (where it was recorded): the file, where
        # a live session's line names its server ("● replay …" beside it says the rest).
        self.status_line.source = name
        self.transcript.hint = (
            f"Replaying {name}: its conversation appears here as its frames play.",
            "A recording without conversation items leaves this pane empty; its frames are in the event log.",
        )
        self.transcript.buffer_audio = BUFFER_AUDIO
        self._play_from_start(request.speed)
        self.set_interval(0.5, self._show_replay_position)
        self._show_replay_position()

    _played_again_note = ""
    """What `r` says once the recording has played again at once (`_play`)."""

    def replay_model(self) -> SessionModel:
        """A fresh model for the replay's recording (`replay_model`)."""
        assert self.replay is not None
        return replay_model(self.replay.recording, self.model.label)

    def _play_from_start(self, speed: float | None) -> None:
        """A player of the whole recording into the current model, started at `speed`."""
        from tui.session.streamed import scrubbed

        assert self.replay is not None
        recording = self.replay.recording
        # Its model keeps every payload (`replay_model`) but a capture's, read back from its file as the
        # live session's are. The player parses and scrubs each frame as it publishes it: the recording
        # stays lean (a capture's text left in its file), ready to be played again.
        secrets = tuple(recording.secrets)
        self.player = ReplayPlayer(
            recording.envelopes, self.bus, FRAMES, speed=speed, scrub=partial(scrubbed, secrets=secrets)
        )
        self._replay_speed = speed
        self.run_worker(self._play(self.player), name="replay", group="replay", exit_on_error=False)

    def action_replay_restart(self) -> None:
        """Play the recording again from its first frame, into fresh views, at the speed in force.

        The played frames go with the old model (its journal, conversation and findings), so the
        views start as empty as at the first play; the filter in force applies to the new one.
        """
        if self.replay is None or self.player is None:
            return
        speed = self._replay_speed  # the pace asked for (`a` played the rest at once, just this time)
        self.workers.cancel_group(self, "replay")
        model = self.replay_model()
        subscription = self._feeds[0][1]
        subscription.drain()  # what the old player published and the pump has not taken yet
        self._feeds = [(model, subscription)]
        self.models[self.models.index(self.model)] = model
        self.clear_notifications()  # the first play's notices: the second play raises its own
        self.switch_to(model)  # the error notices counted afresh (see switch_to)
        self._play_from_start(speed)
        self._show_replay_position()
        self.refresh_bindings()  # a finished replay's keys come back
        if speed is None:
            # Played again at once, the screen ends as it was: nothing showed that `r` did anything.
            frames = counted(len(self.replay.recording.envelopes), "frame")
            # Said once it has played (a file changed since says that instead).
            self._played_again_note = f"played again from its first frame: {frames} at once (] and [ set a pace)"

    def action_replay_at_once(self) -> None:
        """Publish the rest of the recording now (the views fill; the clock jumps to the end)."""
        if self.player is not None and not self._replay_over():
            self.player.resume()
            self.player.speed = None
            self._show_replay_position()
            self.refresh_bindings()

    async def _play(self, player: ReplayPlayer) -> None:
        try:
            await player.run()
        except RecordingChanged as exc:
            # Its file was cut or rewritten while it played: what was played stays, and says where it stopped.
            player.stopped = str(exc)
            of = f"{player.position + 1:,} of {len(player.envelopes):,}"
            self.say(f"the replay stopped at frame {of}: {exc}", title="Replay", severity="error")
        else:
            if self._played_again_note:
                self.say(self._played_again_note, title="Replay")
        self._played_again_note = ""
        # The recording ends here: what still waits for an answer never gets one (a capture cut
        # after a short commit). Everything published is taken in first, then the linter says so,
        # and the views' next turn shows it as any finding.
        self._pump()
        self.model.conversation.recording_ended()
        self._views_stale = True
        if self.model.linter is not None:
            self.model.linter.finish(recording=True)
        self._show_replay_position()
        self.refresh_bindings()  # a finished replay has nothing to pause or speed up: its keys go

    def _show_replay_position(self) -> None:
        player = self.player
        if player is None:
            return
        self._show_replayed_file(player)
        # Once over, the pace is the next play's (`r`), which `a` (the rest at once, this time) leaves.
        pace = self._replay_speed if player.done.is_set() else player.speed
        speed = "at once" if pace is None else f"×{pace:g}"
        state = "⏸ paused" if player.paused else ("done" if player.done.is_set() else "playing")
        # Timed playback shortens long silences (MAX_GAP): say how much, or the clock's jumps over
        # them would look like a fault, and a user would believe the pace is the recorded one.
        skipped = round(player.skipped_seconds)
        cut = f" · skipped {_duration(skipped)} of silence" if skipped else ""
        at = player.played_seconds
        if player.speed is None and len(self.journal) and player.envelopes:
            # At once, the player publishes far ahead of what the views have taken in: say theirs.
            at = min(at, self.journal[len(self.journal) - 1].mono - player.first_mono)
        played, recorded = _clock(at), _clock(player.recorded_seconds)
        if not player.timed:  # only the lines' order: how many of them, not a clock stuck at 00:00
            played, recorded = f"{player.position:,}", f"{len(player.envelopes):,} frames"
        # Not "done" when its file changed under it: it stopped there (a notice says where and why).
        ended = "stopped: its file changed" if player.stopped else "done"
        if player.done.is_set():
            # ] and [ still act: on the next play's pace, which the line names as such (`×2 · done`
            # read as if the finished replay had sped up, and the keys as doing nothing).
            self.status_line.state_override = f"replay {played} / {recorded} · {ended}{cut} · r plays it again {speed}"
        else:
            self.status_line.state_override = f"replay {played} / {recorded} {speed} · {state}{cut}"
        # A narrow line: the position and pace, a mark only when it is not playing, and the silence
        # left out (without it the clock's jump over one looks like a fault).
        mark = " ⏸" if player.paused else ""
        cut_short = f" · {_duration(skipped)} skipped" if skipped else ""
        if player.done.is_set():
            ended = "stopped" if player.stopped else "done"
            self.status_line.state_short = f"replay {played}/{recorded} · {ended} · r: again {speed}{cut_short}"
        else:
            self.status_line.state_short = f"replay {played}/{recorded} {speed}{mark}{cut_short}"
        self.status_line.refresh()

    def _separator_file(self, item_id: str) -> str:
        """The file a separator row's connection (`rt-session-N`: the Nth) is replayed from."""
        number = item_id.removeprefix("rt-session-")
        return self.replayed_file(int(number)) if number.isdigit() else ""

    def _name_selected_file(self) -> None:
        if self.player is not None:
            self._show_replayed_file(self.player)

    def _show_replayed_file(self, player: ReplayPlayer) -> None:
        """Of several files played in turn, the status line names the one playing, or the selected
        frame's, and which of them it is (`20261205-195739-16a332 (2 of 3)`): the first's name with
        `+ 2 more` stood for all."""
        assert self.replay is not None
        recording = self.replay.recording
        files = recording.files
        if len(files) < 2:
            return
        # The selected frame's file: the file playing is not the one a find or a jump went to. Else,
        # at once, the player publishes ahead of the views: the file of the newest frame shown.
        selected = self.event_log.selected
        shown = selected + 1 if selected is not None else min(player.position, len(self.journal))
        number = max(1, bisect.bisect_right(recording.file_starts, shown - 1))
        source = f"{recording_name(files[number - 1], recording.rereadable)} ({number} of {len(files)})"
        # The counters are of the connection named: the selected frame's, when it is an earlier one.
        # (A first capture's own fact comes before its connecting one: epoch 0, the first connection's.)
        epoch = max(1, self.journal[selected].epoch) if selected is not None and selected < len(self.journal) else 0
        counts = (epoch, *self.journal.direction_counts(epoch)) if 0 < epoch < self.journal.epoch else None
        if source != self.status_line.source or counts != self.status_line.selected_counts:
            self.status_line.source = source
            self.status_line.source_short = f"file {number} of {len(files)}"  # at 80 columns: no room for the name
            self.status_line.selected_counts = counts
            self.status_line.refresh()

    def action_replay_pause(self) -> None:
        """Pause or resume the replay (a finished one has nothing to resume: it stays as it is)."""
        if self.player is not None and not self._replay_over():
            self.player.toggle()
            self._show_replay_position()
            self.refresh_bindings()  # the footer's p says Pause or Resume

    def action_replay_resume(self) -> None:
        """Resume a paused replay (the same key as pause: the footer names what it does now)."""
        self.action_replay_pause()

    def action_replay_speed(self, factor: float) -> None:
        """Play faster or slower (from at-once playback, start timed playback at real time). Once
        the replay is over, the pace is the next play's (`r`): the status line says it."""
        if self.player is None:
            return
        if not self.player.timed:
            # Its lines' order is all a log without times has: the pace changed nothing it showed.
            self.say("this recording has no times: its frames play in their lines' order, so it has no pace to set")
            return
        current = self.player.speed or 1.0
        self.player.speed = self._replay_speed = max(0.25, min(64.0, current * factor))
        self._show_replay_position()
        if self._replay_over():
            self.refresh_bindings()  # `a` (the rest at once) has no rest to play

    def more_commands(self) -> Iterable[SystemCommand]:
        """The proxy's session switching and the replay's controls, in their modes."""
        yield from super().more_commands()
        if len(self.models) > 1:
            yield SystemCommand(
                "session: next", "Show the next proxied session (>)", partial(self.action_switch_session, 1)
            )
            yield SystemCommand(
                "session: previous", "Show the previous proxied session (<)", partial(self.action_switch_session, -1)
            )
        if self.replay is None:
            return
        playing = not self._replay_over()
        if playing:
            yield SystemCommand("replay: pause / resume", "Stop or go on (p)", self.action_replay_pause)
        if self.player is None or self.player.timed:
            yield SystemCommand("replay: faster", "Twice as fast (])", partial(self.action_replay_speed, 2))
            yield SystemCommand("replay: slower", "Half as fast ([)", partial(self.action_replay_speed, 0.5))
        if playing and self.player is not None and self.player.speed is not None:
            yield SystemCommand("replay: the rest at once", "Every frame left, now (a)", self.action_replay_at_once)
        yield SystemCommand("replay: restart", "Play it again from the start (r)", self.action_replay_restart)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replays and the proxy have no voice keys; each mode shows its own (the footer follows)."""
        if action in ("talk", "hands_free", "hands_free_off", "focus_input", "reconnect", "send_event"):
            return self.replay is None and self.proxy is None
        # A finished replay hides p: nothing is left to pause or resume; ] and [ stay, setting the
        # pace `r` plays it again at (they went too, and a replay could not be watched slower again).
        if action == "replay_pause":
            return self.replay is not None and not self._replay_over() and not (self.player and self.player.paused)
        if action == "replay_resume":
            return self.replay is not None and not self._replay_over() and bool(self.player and self.player.paused)
        if action == "replay_speed":
            # A log without times plays in its lines' order: no pace to set, so no Speed key (lit,
            # it set one nothing could show; review 54c).
            return self.replay is not None and (self.player is None or self.player.timed)
        if action == "replay_restart":
            return self.replay is not None
        if action == "replay_at_once":
            return self.replay is not None and not self._replay_over() and bool(self.player and self.player.speed)
        if action == "switch_session":
            return len(self.models) > 1
        if action in ("zoom", "unzoom"):
            return (self.screen.maximized is not None) is (action == "unzoom")
        return True

    def _replay_over(self) -> bool:
        """True once the replay has published its last frame."""
        return self.player is not None and self.player.done.is_set()

    @work(exclusive=True, group="proxy", exit_on_error=False, description="proxy")
    async def run_proxy(self, request: ProxyRequest) -> None:
        """Relay your own client's connections; each one becomes a session of its own here."""
        from tui.launch import proxy_target
        from tui.proxy import ProxyServer

        self.transcript.buffer_audio = BUFFER_AUDIO
        try:
            async with proxy_target(self.settings) as target:
                server = ProxyServer(
                    target,
                    host=request.host,
                    port=request.port,
                    on_connection=self._proxied_connection,
                    capture=self.settings.capture,
                    max_frame_bytes=self.settings.max_frame_bytes,
                )
                async with server:
                    self.proxy_url = server.url
                    # A follow that waited for a dialog or a query being typed happens when it ends.
                    self.screen_change_signal.subscribe(self, self._follow_if_due)
                    self.watch(self.screen_stack[0], "focused", self._follow_if_due, init=False)
                    self.status_line.no_target = f"relay to {target.label}"
                    self.watch_for_quiet()  # your client waits on the service as a live session does
                    self.transcript.hint = (
                        "Waiting for your client. Point it at",
                        f"{server.url}?model=…",
                        f"(relayed to {target.label}).",
                        "Each connection's conversation appears here as its frames pass through; < and > switch "
                        "between connections.",
                    )
                    self.model.label = f"waiting for a client on {server.url}"
                    self._show_proxy_state()
                    if not short_screen(self.screen):  # at 80x24 it covered the pane's own words, which say it
                        where = f"{server.url}?model=… (relayed to {target.label})"
                        self.say(f"point your client at {where}", title="Proxy")
                    await asyncio.Event().wait()
        except OSError as exc:
            self._proxy_failed(f"proxy cannot listen on {request.host}:{request.port}: {exc.strerror or exc}")
        except ValueError as exc:
            self._proxy_failed(str(exc))

    def _proxy_failed(self, message: str) -> None:
        """The proxy could not start: said where the pane said "Starting…", and as a notice."""
        self.transcript.hint = (
            f"The proxy is not running: {message}.",
            "Quit (q) and start it again, with --listen HOST:PORT for another address.",
        )
        self._session_failed(message, "Proxy")

    def _proxied_connection(self, connection: ProxyConnection) -> Sink:
        """A new client connection: a model and a bus topic of its own; shown if nothing else is."""
        topic: Topic[Envelope] = Topic(f"proxy:{connection.number}")
        if not self._placeholder_taken:
            # The model shown while waiting goes to the first connection. A flag, not an empty
            # journal, decides: a second client may connect before the first one's frames arrive.
            self._placeholder_taken = True
            model = self.model
            model.label = connection.label
            self._feeds = []
            self._head_capture(connection)
        else:
            model = new_model(connection.label)
            self.models.append(model)
        if connection.capture is not None:
            model.journal.capture_path = str(connection.capture.path)  # see `save_folder`, the detail view
            self.captures.append(connection.capture)  # named on quit, as a live session's are (`farewell`)
        elif connection.capture_refused is not None:
            self.capture_refusals.append(connection.capture_refused)
        self._feeds.append((model, self.bus.subscribe(topic, Mode.LOSSLESS)))
        shown = self._shown_client()
        self._clients = (*self._clients, connection)
        if model is not self.model:
            self._new_client(connection, shown)
        self._show_proxy_state()
        self.run_worker(
            self._client_closed(connection), group="proxy-clients", exit_on_error=False, description="client"
        )
        bus = self.bus
        return lambda env: bus.publish(topic, env)

    def _head_capture(self, connection: ProxyConnection) -> None:
        """The facts published while the proxy waited (the command line's `--url` warning) are in
        the first client's log, its model being the one shown while waiting: they head its capture
        too, as they head a live session's (their seqs come before the connection's first fact).
        Without this the log had a warning its capture lacked."""
        waiting, self._facts_waiting = self._facts_waiting, None
        if connection.capture is not None:
            # Numbered before the connection's own, which count from 1: the capture's seqs ascend.
            facts = list(waiting or ())
            for number, fact in enumerate(facts, 1 - len(facts)):
                connection.capture.write(dataclasses.replace(fact, seq=number))

    def _shown_client(self) -> ProxyConnection | None:
        """The client connection whose session is on screen (None while waiting for the first)."""
        if not self._clients or self.model not in self.models:
            return None
        return self._clients[self.models.index(self.model)]

    def _new_client(self, connection: ProxyConnection, shown: ProxyConnection | None) -> None:
        """A client connected while another's session is shown: show it if that one is over (a script
        run again: its new run is what the user is waiting for), else say how to reach it."""
        if shown is not None and shown.closed.is_set() and not self._held_by_user:
            self._follow_or_wait(f"connection #{connection.number} opened")
        else:
            self._say_opened(connection)

    async def _client_closed(self, connection: ProxyConnection) -> None:
        """When a client whose session is shown leaves while newer clients came: show the newest
        (they connected while it was still open, or as it was closing, as a script run again does).
        A connection that failed before relaying anything says why in a notice of its own, in place
        of the one that said it opened."""
        await connection.closed.wait()
        if connection.failure is not None:
            self._say_client(f"connection #{connection.number} failed: {connection.failure}", severity="warning")
        if self._clients[-1] is connection or self._shown_client() is not connection or self._held_by_user:
            return
        why = f"connection #{connection.number} {'failed' if connection.failure is not None else 'closed'}"
        if self._clients[-1].closed.is_set():
            # The newest came and went while this one was shown: nothing live to follow. Jumping to it
            # hid this session's last frames (its response.done, its close) the moment they came.
            self._say_reachable(why)
            return
        self._follow_or_wait(why)

    def _follow_or_wait(self, why: str) -> None:
        """The session shown has closed and a newer client came (`why` says which event): show the
        newest, unless the user is busy with the screen (a dialog, a query being typed: the follow
        waits for it to end, `_follow_if_due`) or with this session's log (a frame selected, keys
        waiting for a filter's whole view: they act on this session; a notice says how to reach it)."""
        if len(self.screen_stack) > 1 or self._typing_query():
            self._follow_due = why
            return
        self._follow_due = None
        if not self.event_log.tail or self.event_log.keys_pending:
            self._say_reachable(why)
            return
        newest = self._clients[-1]
        came_from = self.models.index(self.model) if self.model in self.models else -1
        self.switch_to(self.models[-1])
        it = why.startswith(f"connection #{newest.number} ")  # the newest opened (else the one shown closed)
        what = "showing it" if it else f"showing #{newest.number}, the newest"
        # `<` shows the session before the newest: the one left only when no other came between.
        back = "< goes back" if came_from == len(self.models) - 2 else "< and > switch sessions"
        self._say_client(f"{why}: {what} ({back})")

    def _follow_if_due(self, *_: object) -> None:
        """A dialog closed, or the focus moved: the follow that waited for it happens now (or its notice)."""
        if self._follow_due is not None and self._shown_client() is not self._clients[-1]:
            self._follow_or_wait(self._follow_due)

    def _typing_query(self) -> bool:
        """Whether the main screen's focus is in the filter's or the find's input: switching sessions
        would rewrite a filter being typed (the filter in force goes to the session shown)."""
        focused = self.screen_stack[0].focused if self.screen_stack else None
        return focused is not None and focused in (self.filter_bar.input, self.find_bar.input)

    def _say_opened(self, connection: ProxyConnection) -> None:
        """Say that `connection` opened and how to reach it; a burst of clients updates one notice
        ("connections #3–#6 opened …"): a toast each stacked over the log at 80×24."""
        position = len(self.models)
        first = self._opened_from if self._on_screen(self._client_notice) and self._opened_from else None
        if first is None:
            first = (connection.number, position)
        self._opened_from = first
        number, from_position = first
        shown = self.models.index(self.model) + 1
        if from_position == position:
            way = "> shows it" if shown == position - 1 else "< and > switch sessions"
            self._say_client(f"connection #{number} opened (session {position}/{position}): {way}", opened=first)
            return
        way = "> shows the next" if shown == from_position - 1 else "< and > switch sessions"
        self._say_client(
            f"connections #{number}–#{connection.number} opened (sessions {from_position}–{position} of "
            f"{position}): {way}",
            opened=first,
        )

    def _say_reachable(self, why: str) -> None:
        """The notice in place of a follow: what happened and how to reach the newest session."""
        newest = self._clients[-1]
        if why.startswith(f"connection #{newest.number} "):
            self._say_opened(newest)  # one notice for a burst of them, as while the shown one is open
            return
        position = len(self.models)
        way = "> shows it" if self.models.index(self.model) == position - 2 else "< and > switch sessions"
        self._say_client(f"{why}; #{newest.number} is the newest (session {position}/{position}): {way}")

    def _say_client(
        self, message: str, *, opened: tuple[int, int] | None = None, severity: str = "information"
    ) -> None:
        """A notice about the proxy's clients, in place of the last one if still shown: it says
        where the sessions stand now. `opened`: it names clients not shown from this one on."""
        if self._client_notice is not None and self._on_screen(self._client_notice):
            self._unnotify(self._client_notice, refresh=False)
        self.say(message, title="Proxy", severity=severity)
        self._client_notice = next(reversed(list(self._notifications)), None)
        self._opened_from = opened

    def show_proxy_hint(self) -> None:
        """The empty transcript's words for the client session shown: one whose connection failed
        before relaying anything says why (it said the frames would appear as they pass through)."""
        if self.proxy is None or not self._clients:
            return
        facts = self.model.facts
        more = f"More clients can connect to {self.proxy_url}; < and > switch between their sessions."
        if facts.state == "failed" and not facts.frames_in and not facts.frames_out:
            hint: tuple[str, ...] = (
                f"This client's connection failed: {sentence(facts.reason or 'no reason given')}",
                "No frame passed through (the client was answered with an HTTP error); the event log has "
                "the connection's facts.",
                more,
            )
        else:
            hint = (
                "No conversation items in this session yet: they appear here as the client's frames pass "
                "through; every frame is in the event log.",
                more,
            )
        if hint != self.transcript.hint:
            self.transcript.hint = hint

    def _show_proxy_state(self) -> None:
        self.show_proxy_hint()  # every session shown from the first client on is a client's
        position = self.models.index(self.model) + 1
        sessions = f" · session {position}/{len(self.models)} (< >)" if len(self.models) > 1 else ""
        # Host and port: the whole address is in the waiting pane and the log; on one line it left no
        # room for the session's id and counters.
        self.status_line.state_override = f"proxy on {short_target(self.proxy_url)}{sessions}"
        # A narrow line: which session of how many (the address is in the waiting pane and the log).
        self.status_line.state_short = (
            f"proxy · session {position}/{len(self.models)}" if len(self.models) > 1 else "proxy"
        )
        self.status_line.refresh()
        self.refresh_bindings()

    def action_switch_session(self, delta: int) -> None:
        """Show the previous or next proxied session. On one older than the newest, the screen stays
        there when new clients come; back on the newest, it follows them again."""
        position = (self.models.index(self.model) + delta) % len(self.models)
        self._held_by_user = position != len(self.models) - 1
        self._follow_due = None  # the user chose the session to show
        if self._client_notice is not None and self._on_screen(self._client_notice):
            # It said where the sessions stood and which key reaches one ("> shows it"): pressed, it is
            # stale, and it stayed over the log of the very session it pointed to.
            self._unnotify(self._client_notice)
            self._client_notice = None
        self.switch_to(self.models[position])

    def switch_to(self, model: SessionModel) -> None:
        """Render another session's model in every view; the filter in force (if any) applies to it."""
        if model is self.model:
            return
        building = self._building
        if building is not None and building.journal is self.journal:
            # The old session's filter is half built (its tail view is shown): the session keeps the
            # whole view, which `attach` completes whenever the session is shown again.
            self.model.log_view = building
            self._building = None
        self.model = model
        # The server errors' and findings' toasts were the session left's: over this one's log they
        # read as its own. That session's log and `!` keep each of them.
        self.clear_folded()
        # A notice for each of a session's first error findings: this one's own. The count went on
        # across sessions, and a replay played again (r) toasted none of the findings the first had.
        self._error_notices = 0
        self.filter_bar.journal = self.find_bar.journal = model.journal
        self.status_line.show(model.facts)
        self._show_findings_count()
        self.attach_session_log(model.log_view)  # brought up to the end of its journal (in slices if far behind)
        # A find still searching the session left must not select a frame in this one: it ends, and
        # the find bar counts this session's matches (below, or once its filter's view is built).
        self.event_log.set_finder(self.event_log.finder)
        view = model.log_view
        if (view.query.text if view.query is not None else "") != self.filter_bar.active.strip():
            # The session's log was built under another filter (or none) than the one in force now.
            self.apply_filter(self._user_filter, back=self._before_frames)
        else:
            self._filter_status()  # the bar's counts: of the session shown
        self.transcript.reset()
        self.transcript.sync(model.conversation.items, model.conversation.order, set(model.conversation.items))
        self._update_log_title()
        self._find_status()
        if self.proxy is not None:
            self._show_proxy_state()


def _clock(seconds: float) -> str:
    """`MM:SS`, from an hour on `H:MM:SS`: as the log's time column reads (`90:52` beside its
    `1:30:28.4` looked like another clock)."""
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes:02d}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _duration(seconds: int) -> str:
    """`19 s`, `2 min 5 s`, `23 h 54 min`: a skipped silence, read at a glance (`1434 min 19 s` was not)."""
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def replay_model(recording: Recording, label: str) -> SessionModel:
    """A fresh model for playing `recording`.

    One capture file (not several, none joined with `cat`: its `seq` numbers name one frame each)
    is the store of its frames, as a live session's capture is: its journal drops old payloads as a
    live one does and reads them back from the file (a detail view, an export), scrubbed of the
    recording's secrets as the player scrubs what it plays. An hour's replay held every payload,
    the file's 396 MB, for its whole run. Any other recording (a HAR, a log, a pipe, several files)
    keeps every payload (`KEEP_EVERY_PAYLOAD`): there is no file to read one back from by its number.
    """
    single = recording.kind == "capture" and not recording.parts and not recording.files and recording.rereadable
    model = new_model(label, policy=None if single else KEEP_EVERY_PAYLOAD)
    journal = model.journal
    journal.numbers_its_connections = bool(recording.parts)
    if single:
        from tui.session.scrub import Scrubber

        journal.capture_path = str(recording.path)
        if recording.secrets:
            journal.scrub_read_back = Scrubber(tuple(recording.secrets)).text
    return model
