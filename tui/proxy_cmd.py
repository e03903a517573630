"""`rt-tui proxy`: point your own client at rt-tui and watch (and lint) its traffic.

In the app, each client connection gets its own session (`<` and `>` switch between them); with
`--json` (no textual), a line per frame on stdout and nothing else (so it pipes into jq), the
address it listens on and each finding in plain words on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from tui.config import Settings
from tui.launch import proxy_target
from tui.model import SessionModel, new_model
from tui.protocol import Direction, Envelope, printable, strict_json
from tui.protocol.codec import exact_data
from tui.protocol.records import record_header, unparsed_bytes
from tui.proxy import ProxyConnection, ProxyRequest, ProxyServer, Sink
from tui.session import is_loopback_host

__all__ = ["DEFAULT_LISTEN", "ProxyRequest", "proxy_target", "run_proxy"]

DEFAULT_LISTEN = "127.0.0.1:8766"


class ListenError(ValueError):
    """A `--listen` value that is not HOST:PORT."""


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1)."""
    host, _, port_text = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ListenError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8766") from None
    if not 0 <= port <= 65535:
        raise ListenError(f"--listen {value!r}: the port must be 0 to 65535")
    return host, port


def exposure_warning(host: str) -> str | None:
    """A warning when the proxy listens beyond this machine (it adds your key to what it relays)."""
    if is_loopback_host(host):
        return None
    shown = f"[{host}]" if ":" in host else host  # `listening on :::` read as a typo
    return (
        f"listening on {shown}: anyone who can reach this address can use the service through this proxy "
        "(with your API key, when the target has one)"
    )


def run_proxy(settings: Settings, listen: str, *, json_out: bool) -> int:
    """Run the proxy until interrupted; returns the exit status."""
    try:
        host, port = parse_listen(listen)
    except ListenError as exc:
        print(f"rt-tui proxy: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(host)
    if warning:
        print(f"rt-tui proxy: warning: {warning}", file=sys.stderr)
    if not json_out:
        from tui.stdout import terminal_problem

        problem = terminal_problem("for a script, use --json")
        if problem is not None:
            print(f"rt-tui proxy: {problem}", file=sys.stderr)
            return 2
        from tui.app import run_app

        return run_app(settings, proxy=ProxyRequest(host, port))
    # Standard output closed (`>&-`, no sys.stdout): the frame lines go nowhere, as to /dev/null;
    # the relay, the captures and stderr's findings are what such a run is for.
    out = sys.stdout or open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    try:
        reader_gone = asyncio.run(_headless(settings, host, port, out, sys.stderr))
    except CaptureFailed as failed:
        # Said as it happened ([conn N] capture: …); the status says it too, for a script.
        connections = f"{failed.count} connection{'s' if failed.count != 1 else ''}"
        print(f"rt-tui proxy: the capture of {connections} failed: those files are incomplete", file=sys.stderr)
        if failed.reader_gone:
            from tui.stdout import drop_stdout

            drop_stdout()
        return 1
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"rt-tui proxy: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a target that cannot be used (no key for --openai, a bad URL)
        print(f"rt-tui proxy: {exc}", file=sys.stderr)
        return 2
    if reader_gone:
        # As `rt-tui replay --json | head -1` ends (README), with SIGPIPE's status; but unlike a
        # replay's, its stopping closed other programs' connections: one line says why they ended.
        from tui.stdout import EXIT_BROKEN_PIPE, drop_stdout

        print(
            "rt-tui proxy: stopped: the reader of its output went away (`| head`?); its clients were closed (1001)",
            file=sys.stderr,
        )
        drop_stdout()
        return EXIT_BROKEN_PIPE
    return 0


async def _headless(settings: Settings, host: str, port: int, out: TextIO, err: TextIO) -> bool:
    """Relay until Ctrl+C (SIGINT, SIGTERM, SIGHUP: the terminal closed) or until the reader of
    stdout goes away (`| head`); True for the latter."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def reader_went_away() -> None:  # called on the writer thread
        with contextlib.suppress(RuntimeError):  # the loop already closed: the proxy has stopped
            loop.call_soon_threadsafe(stop.set)

    printer = FramePrinter(out, err, captured=settings.capture, on_reader_gone=reader_went_away)
    async with proxy_target(settings) as target:
        server = ProxyServer(
            target,
            host=host,
            port=port,
            on_connection=printer.sink_for,
            capture=settings.capture,
            max_frame_bytes=settings.max_frame_bytes,
        )
        try:
            async with server:
                # The address goes to stderr only: stdout is JSON lines, one per frame, for jq and the like.
                said = f"rt-tui proxy: relaying {server.url}?model=… → {target.label}; Ctrl+C stops it"
                print(said, file=err, flush=True)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.add_signal_handler(signum, stop.set)  # stop cleanly: every pending line is written
                await stop.wait()
        finally:
            # After the server has closed its connections: their last lines (`[conn N] connection:
            # closed …`) come as it does, and were lost when the printer closed first.
            printer.close()
    if printer.captures_failed:
        raise CaptureFailed(printer.captures_failed, printer.out.gone)
    return printer.out.gone


class CaptureFailed(Exception):
    """The proxy stopped after one or more connections' capture files failed (a full disk)."""

    def __init__(self, count: int, reader_gone: bool) -> None:
        super().__init__(count)
        self.count = count
        self.reader_gone = reader_gone


class FramePrinter:
    """Headless proxy output: each frame as a JSON line (with its connection number), findings on stderr.

    Lines are handed to a writer thread: a consumer that reads stdout slowly (or not at all) must
    never stall the relay. Past `MAX_PENDING` characters waiting, lines are dropped and counted
    (the capture files keep every frame), and stderr says so when it starts and how many at the end.
    """

    MAX_PENDING = 256 * 1024 * 1024

    def __init__(
        self, out: TextIO, err: TextIO, *, captured: bool = True, on_reader_gone: Callable[[], None] | None = None
    ) -> None:
        self.out = OffLoopWriter(out, self.MAX_PENDING, on_gone=on_reader_gone)
        self.err = OffLoopWriter(err, self.MAX_PENDING)
        self._kept = "the capture files keep every frame" if captured else "with --no-capture, they are lost"
        self._warned = False
        self.captures_failed = 0
        """Connections whose capture file failed (or could not be made): the run exits 1, as `send` does."""

    def sink_for(self, connection: ProxyConnection) -> Sink:
        """A sink for one connection: its own session model (with the linter) and its printer.

        Each line is the capture's record (`seq`, `dir`, `t`, `wall`, `type`, `size`) after the
        connection's number `conn`; `t` counts seconds from the connection's first frame, as in
        that connection's capture file, so the two line up.
        """
        model = new_model(connection.label)
        number = connection.number
        t0: float | None = None

        def sink(env: Envelope) -> None:
            nonlocal t0
            added = model.ingest([env])
            for index in added:
                frame = model.journal[index]
                if t0 is None:
                    t0 = frame.mono
                data = exact_data(model.journal.data(index), frame.raw)  # a lone surrogate kept, escaped
                record: dict[str, object] = {
                    "conn": number,
                    **record_header(frame.seq, frame.direction, frame.mono - t0, frame.wall, frame.type, frame.size),
                }
                record["info" if frame.direction is Direction.LOCAL else "frame"] = data
                record |= unparsed_bytes(frame.direction, frame.type, frame.raw, frame.binary)
                if not self.out.write(strict_json.dumps_line(record) + "\n") and not self._warned:
                    # Said once as it starts (and counted at the end): a gap in the lines must not pass for
                    # a quiet connection.
                    self._warned = True
                    self.err.write(
                        f"rt-tui proxy: stdout is not read fast enough: frame lines are left out ({self._kept})\n"
                    )
                if frame.direction is Direction.LOCAL and _told_on_stderr(frame.type, data):
                    what = "capture" if frame.type == "rt.capture" else "connection"
                    self.err.write(f"[conn {number}] {what}: {printable(str(data.get('message', '')))}\n")
                    if frame.type == "rt.capture":
                        self.captures_failed += 1
            self._findings(model, number)

        return sink

    def _findings(self, model: SessionModel, number: int) -> None:
        """Each new finding on stderr; and one the linter amended since it was written (the server's
        answer it foretold has come), again in its new words, marked `(updated)`: a line written
        cannot be taken back, and the amended one is what names the server's answer. Its frames
        start with the same frame as the line it replaces."""
        linter = model.linter
        if linter is None:
            return
        from tui.lint import format_finding

        # Amendments first: they concern frames before the one that brought them, as their lines came.
        for finding in linter.take_amended():
            self.err.write(f"[conn {number}] (updated) {format_finding(finding, model.journal)}\n")
        for finding in linter.take_changes():
            self.err.write(f"[conn {number}] {format_finding(finding, model.journal)}\n")

    def close(self) -> None:
        """Write what is pending, say how many lines stdout missed, and stop the writer threads."""
        self.out.close()
        if self.out.dropped:
            count = f"{self.out.dropped:,} frame line{'s' if self.out.dropped != 1 else ''}"
            self.err.write(f"rt-tui proxy: {count} left out of stdout, not read fast enough ({self._kept})\n")
        self.err.close()


def _told_on_stderr(event_type: str, data: dict[str, object]) -> bool:
    """A local fact a person watching stderr must see: a client connecting, its connection ending
    or failing (an upstream that cannot be reached: the client only gets an HTTP 502), a capture
    that failed. Stdout's JSON has them too, among the frames."""
    state = data.get("state")
    if event_type == "rt.connection":
        return state in ("connecting", "closed", "failed")
    return state == "failed" or data.get("failed") is True


class OffLoopWriter:
    """Writes text to a stream from a thread of its own, so a blocked pipe never blocks the loop.

    A stream whose reader went away (a broken pipe) takes nothing more; `on_gone` is called once,
    on the writer thread, when that is first seen."""

    def __init__(self, stream: TextIO, max_pending: int, *, on_gone: Callable[[], None] | None = None) -> None:
        self.stream = stream
        self.max_pending = max_pending
        self.on_gone = on_gone
        self.gone = False
        """True once a write found the reader gone (`| head` read its lines and left)."""
        self.dropped = 0
        self._pending = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rt-proxy-output", daemon=True)
        self._thread.start()

    def write(self, text: str) -> bool:
        """Queue `text`; False when it was dropped (and counted), too much being already waiting."""
        with self._lock:
            if self._pending + len(text) > self.max_pending:
                self.dropped += 1
                return False
            self._pending += len(text)
        self._queue.put(text)
        return True

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                break
            try:
                if not self.gone:
                    self.stream.write(text)
                    if self._queue.empty():
                        self.stream.flush()
            except BrokenPipeError:
                self._reader_went_away()
            except (ValueError, OSError):
                pass  # a stream that cannot be written: the capture files still hold everything
            with self._lock:
                self._pending -= len(text)

    def _reader_went_away(self) -> None:
        """The reader closed its end (`| head -1`): said once, so the command ends as `head` meant."""
        if not self.gone:
            self.gone = True
            if self.on_gone is not None:
                self.on_gone()

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued (waiting at most `timeout` seconds) and stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self.gone:
            return  # flushing again would only fail again
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self.stream.flush()
