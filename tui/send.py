"""`rt-tui send FILE`: one recorded user turn, headless, without textual.

Streams the decoded file through the input buffer (the only audio the server transcribes),
commits, asks for a response, and prints both sides once the user's transcript and the
assistant's reply have both arrived, in whichever order they come. A side that did not finish
(a dropped connection, the timeout) is printed as far as it came, marked `(incomplete)`; a side
that did finish is printed as it is, whatever happened to the other. What the server sent that
`send` could not read (malformed or binary frames) or does not know (an event type neither interface
defines), and `error` events no step waited for, are said on stderr, one line a kind, counted: the
exit status stays the turn's (a reply that arrived whole is a success).

`--json` prints the capture file's records instead, every one, in order, through the last (the
connection's close, recorded after the turn): the same records as `frames.jsonl`, record for record
(equal as JSON; the text may differ, e.g. `t` as 0.00567 where the file has 0.005670). Two differ,
by design: a frame the file keeps as a string under `raw` because it is not strict one-line JSON
(NaN or Infinity, line breaks, a lone surrogate) is printed parsed under `frame` (non-finite numbers
as `"rt-tui:non-finite:NaN"` and the like), so `jq .frame` reads every frame; and a capture failure's
`rt.capture` record, a fact about the file that the file cannot hold, is printed only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import soundfile

from tui.audio.decode import (
    RAW_SUFFIXES,
    TEXT_CHECKED_BYTES,
    AudioDecodeError,
    _decoder_stderr_kept,
    check_header,
    check_readable,
    cut_short,
    decode_file,
    refuse_text,
    resample_pcm16,
    wav_header_frames,
)
from tui.audio.pcm import BYTES_PER_MS, BYTES_PER_SECOND, SAMPLE_RATE, SAMPLE_WIDTH, bytes_for_ms, to_b64
from tui.bus import Bus, Subscription
from tui.config import Settings, TargetChoice
from tui.conversation import NO_OUTPUT, Item, TextState
from tui.journal import QUIET_AFTER, PayloadPolicy
from tui.launch import open_target, session_options
from tui.lint import Severity
from tui.model import new_model
from tui.protocol import (
    DIR_IN,
    MCP_SERVER_EVENTS,
    Envelope,
    error_summary,
    field,
    is_known,
    local_envelope,
    printable,
    session_update,
    text,
)
from tui.protocol.strict_json import dumps_line
from tui.session import (
    FRAMES,
    CaptureWriter,
    ConnectionFailed,
    RealtimeSession,
    TargetError,
    envelope_record,
    new_session_dir,
)
from tui.session.client import DEFAULT_OPEN_TIMEOUT
from tui.stdout import QUIT_SIGNALS, SIGNAL_WORDS, drop_stdout

CHUNK_MS = 100
"""Append size: 100 ms (4.8 KB of PCM) keeps the frame count low for a file that is already complete."""
CHUNK_BYTES = bytes_for_ms(CHUNK_MS)

IN_FLIGHT = 20
"""Appends queued beyond what the socket has taken (2 s of audio, 128 KB of frames). The appends
of a whole file queued at once held its audio again as base64 text (4/3 of it) and, frame by
frame, once more as the JSON written; and the wait for the commit's acknowledgement began before
the first append went out, so a long file on a slow uplink timed out while still being sent."""

FINAL_USER_STATES = {TextState.DONE, TextState.FAILED, TextState.TRANSCRIPTION_OFF, TextState.NOT_TRANSCRIBED}


_AUTH_WORDS = ("auth", "api key", "api-key", "unauthorized", "forbidden")
"""Words of a refusal about credentials: a close reason (`Missing bearer or basic authentication`),
an HTTP status, an error's message (`Incorrect API key provided`)."""


def key_hint(settings: Settings, failure: str) -> str:
    """` (rt-tui sent no key: …)` after a refusal about credentials, when rt-tui sent a URL target
    no key: which variable a --url reads, and, when OPENAI_API_KEY holds one (never sent to an
    arbitrary URL: see tui.launch), that the user's key was there, in a variable a --url does not
    read; else nothing."""
    from tui.launch import AZURE_API_KEY_ENV, URL_API_KEY_ENV
    from tui.session.targets import inline_credentials, is_azure_url

    if settings.target is not TargetChoice.URL or not settings.url:
        return ""
    sent = [URL_API_KEY_ENV] + ([AZURE_API_KEY_ENV] if is_azure_url(settings.url) else [])
    if any(os.environ.get(name, "").strip() for name in sent) or inline_credentials(settings.url):
        return ""
    # The target's URL, quoted in the failure, is not the server's words: a port such as 34013
    # read as an HTTP 401 and put the key's hint after "connection refused".
    said = failure.replace(settings.url, "").lower()
    if not any(word in said for word in _AUTH_WORDS) and not re.search(r"\b40[13]\b", said):
        return ""
    if not os.environ.get("OPENAI_API_KEY", "").strip():
        # No key anywhere: the server wants one, and the refusal alone does not say where it goes.
        return f" (rt-tui sent no key: for a --url, export {URL_API_KEY_ENV}=KEY)"
    return f" (rt-tui sent no key: OPENAI_API_KEY goes only to --openai; for a --url, export {URL_API_KEY_ENV})"


class SendFailed(Exception):
    """A one-line reason the turn could not be completed."""


def say(line: str) -> None:
    """One line on standard output, flushed. When its reader went away (`| head -1`), standard
    output becomes /dev/null (so the close's records and the interpreter's last flush write
    nowhere, quietly) and BrokenPipeError ends the turn: the capture is still closed whole."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        drop_stdout()
        raise


def send_file(
    path: str, settings: Settings, *, json_out: bool = False, timeout: float = 60.0, raw_rate: int | None = None
) -> int:
    """Run one turn from an audio file (`-`: standard input); print the result; return the exit status.
    `raw_rate`: a raw file's sample rate (`--rate`; None: 24 kHz)."""
    try:
        if path == STDIN and raw_rate is not None:
            raise AudioDecodeError("--rate is for a raw .pcm/.raw file: standard input takes audio with a header")
        pcm = read_stdin() if path == STDIN else read_audio(path, raw_rate)
        if path != STDIN and raw_rate is None and _is_raw(Path(path)):
            # Nothing in the file says its rate: a 16 kHz file taken as 24 kHz is sped up, and its
            # transcript comes back plausible and wrong, so the assumption is said, with the way out.
            seconds = len(pcm) / BYTES_PER_SECOND
            length = f"{seconds:.1f} s" if seconds < 60 else clock(seconds)
            print(
                f"rt-tui send: note: {printable(Path(path).name)} has no header: taken as 24 kHz mono PCM16 "
                f"({length}); --rate HZ gives another rate",
                file=sys.stderr,
            )
    except AudioDecodeError as exc:
        print(f"rt-tui send: {printable(str(exc))}", file=sys.stderr)  # one line, whatever the file's name
        return 2
    except KeyboardInterrupt:  # Ctrl+C while a pipe is read or a long file decoded: no traceback
        print("rt-tui send: interrupted", file=sys.stderr)
        return 130
    terminated: list[int] = []  # the signal of QUIT_SIGNALS that ended the turn

    def on_term(signum: int, frame: object) -> None:
        # Before or after the turn's loop runs (while it runs, `_send`'s own handler takes them):
        # as Ctrl+C there. A `timeout 30 rt-tui send` ended without a word.
        terminated.append(signum)
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()  # signals go to the main thread only
    previous = {signum: signal.signal(signum, on_term) for signum in QUIT_SIGNALS} if main else {}
    why: list[str] = []  # the linter's line, said after the failure's own
    try:
        terminate = terminated.append if main else None
        status = asyncio.run(_send(pcm, settings, json_out=json_out, timeout=timeout, why=why, terminate=terminate))
        _say_why(why)
        return status
    except asyncio.CancelledError:  # a signal cancelled the turn (`_send`): what arrived was printed
        if not terminated:
            raise
        return _ended_by(terminated[0])
    except KeyboardInterrupt:
        # What arrived was printed (as after a drop); say why the rest is missing, no traceback.
        if terminated:
            return _ended_by(terminated[0])
        print("rt-tui send: interrupted", file=sys.stderr)
        return 130
    except TargetError as exc:  # what was asked for cannot be tried (a bad URL, no key): as a bad file
        print(f"rt-tui send: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # a ConnectionError too: the reader went away (`| head`), not the server
        raise  # `python -m tui` ends quietly with 141, as for every command but lint
    except (SendFailed, ConnectionFailed, ConnectionError) as exc:
        # The reason quotes the server (a close reason, an error's message): shown, never obeyed.
        print(f"rt-tui send: {printable(str(exc))}{key_hint(settings, str(exc))}", file=sys.stderr)
        _say_why(why)
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _ended_by(signum: int) -> int:
    """Say which signal ended the turn (what arrived was printed); its exit status. After SIGHUP the
    terminal may be gone: nothing is left to say it to."""
    with contextlib.suppress(OSError):
        print(f"rt-tui send: {SIGNAL_WORDS[signal.Signals(signum)]}", file=sys.stderr, flush=True)
    return QUIT_SIGNALS[signal.Signals(signum)]


def lint_how(capture: CaptureWriter | None, settings: Settings) -> str:
    """How to read the linter's findings about the turn: the `rt-tui lint` command for its capture,
    ready to paste (an absolute path: a relative data directory may start with `-`), or why there
    is none."""
    if capture is None:
        missing = "--no-capture" if not settings.capture else "it could not be opened"
        return f"rt-tui lint of its capture, which this turn has none of ({missing})"
    command = f"rt-tui lint {_pasteable(capture.path)}"
    if capture.error is not None:
        return f"{command} (the part of the turn it holds: the capture failed)"
    return command


def replay_command(capture: CaptureWriter) -> str:
    """`rt-tui replay` of a capture, ready to paste (as `lint_how` writes its lint command)."""
    return f"rt-tui replay {_pasteable(capture.path)}"


def _pasteable(path: Path) -> str:
    """A path as a shell reads it back: absolute (a relative data directory may start with `-`),
    quoted; a name with a control character (a newline) cannot be pasted as one line: shown, not quoted."""
    absolute = str(path.absolute())
    return shlex.quote(absolute) if absolute.isprintable() else printable(absolute)


def _say_why(lines: list[str]) -> None:
    for line in lines:
        print(f"rt-tui send: {line}", file=sys.stderr)


STDIN = "-"
"""The FILE that means standard input: `sox q.wav -t wav - | rt-tui send -`."""

STDIN_MAX_BYTES = 4 * 2**30
"""The most `send -` reads from standard input (a WAV's own limit: its sizes are 32-bit)."""


def read_audio(path: str | os.PathLike[str], raw_rate: int | None = None) -> bytes:
    """The file's audio as 24 kHz mono PCM16, once its header says the turn can take it.
    `raw_rate`: the sample rate of a raw file's PCM16 (None: 24 kHz); refused for a file with a header."""
    check_file(path, raw_rate)  # before decoding: a file the turn cannot take is not read whole first
    decoded = decode_file(path)
    pcm = decoded.pcm
    if decoded.raw and (problem := raw_sample_problem(pcm, raw_rate or SAMPLE_RATE)) is not None:
        raise AudioDecodeError(f"{Path(path).name} {problem}")  # judged as it is in the file, before resampling
    if decoded.raw and raw_rate is not None and raw_rate != SAMPLE_RATE:
        pcm = resample_pcm16(pcm, raw_rate)
    check_length(path, len(pcm))
    if not pcm.strip(b"\0"):
        # Sent, the server transcribed nothing (`transcription failed: audio_unintelligible`) and
        # answered anyway; the app refuses the same audio from the microphone before sending it.
        raise AudioDecodeError(
            f"{Path(path).name} holds {len(pcm) / BYTES_PER_MS / 1000:.1f} s of digital silence (every sample "
            "is zero): nothing to transcribe or answer; check what recorded it (a muted microphone, a "
            "conversion that wrote zeros)"
        )
    return pcm


RAW_JUDGED_BYTES = 30 * 48_000
"""The first 30 s of a raw file are judged (`raw_sample_problem`): the linter's sampler settles in
its first voiced windows."""

_RAW_FIX = {
    "8-bit": (
        "looks like 8-bit audio (G.711 μ-law or A-law, a phone line's), not 16-bit PCM: sent, the server "
        "would hear noise; convert it to a WAV first (sox -t ul -r 8000 in.pcm out.wav; A-law: -t al)"
    ),
    "float32": (
        "looks like 32-bit float samples, not 16-bit PCM: sent, the server would hear noise; convert it "
        "(sox -t f32 -r {rate} -c 1 in.raw -b 16 out.wav), or give a WAV, which says its format"
    ),
    "stereo": (
        "looks like stereo (two channels interleaved, the same sound in each), not mono: sent, the server "
        "would hear it at half speed; convert it (sox -t s16 -r {rate} -c 2 in.pcm -c 1 out.wav)"
    ),
}


def raw_sample_problem(pcm: bytes, rate: int = SAMPLE_RATE) -> str | None:
    """What a headerless file's bytes look like when not mono PCM16 (judged by the linter's sampler,
    which tells G.711, float32 and doubled stereo from PCM16), else None; `rate`: the rate the file
    is taken at, for the fix's command. Refused before connecting: the linter said it after the
    turn, with a fix (declare G.711 in the session) that `send` offers no way to follow."""
    from tui.lint.b64audio import PcmSampler

    sampler = PcmSampler()
    head = pcm[:RAW_JUDGED_BYTES]
    for start in range(0, len(head), CHUNK_BYTES):
        sampler.feed(base64.b64encode(head[start : start + CHUNK_BYTES]).decode("ascii"))
    width = sampler.sample_width
    return _RAW_FIX[width].format(rate=rate) if width in _RAW_FIX else None


def read_stdin() -> bytes:
    """The audio piped to standard input (WAV, FLAC, OGG, MP3 or AIFF: raw PCM has no header to
    say what it is), spooled to a temporary file the decoder can seek in. Refusals name
    "standard input", not the file."""
    if sys.stdin is None or sys.stdin.isatty():
        raise AudioDecodeError("standard input is a terminal: pipe audio into `rt-tui send -`, or give a file")
    with tempfile.TemporaryDirectory(prefix="rt-tui-send-") as folder:
        spool = Path(folder) / "stdin"
        try:
            _spool(sys.stdin.buffer, spool)
            return read_audio(spool)
        except AudioDecodeError as exc:
            said = str(exc).replace(str(spool), "standard input").replace(spool.name, "standard input")
            # Raw PCM is known by a file's name (.pcm, .raw), which standard input has not.
            said = said.replace(", or raw 24 kHz PCM16 .pcm/.raw)", "; raw PCM only as a .pcm or .raw file)")
            raise AudioDecodeError(said) from exc


def _spool(source: BinaryIO, spool: Path) -> None:
    """Copy `source` to `spool` a MiB at a time, refusing more than STDIN_MAX_BYTES."""
    size = 0
    try:
        with spool.open("wb") as out:
            while block := source.read(2**20):
                size += len(block)
                if size > STDIN_MAX_BYTES:
                    raise AudioDecodeError(f"standard input holds over {STDIN_MAX_BYTES // 2**30} GiB: not one turn")
                out.write(block)
    except OSError as exc:
        raise AudioDecodeError(f"cannot read standard input: {exc.strerror or exc}") from exc


MAX_SECONDS = 60 * 60
"""The longest audio `send` streams: a GA session lasts at most 60 minutes (the protocol reference,
§1.2: the service then ends it with `session_expired`), and one turn cannot outlast its session. A
2 GB WAV (11.6 hours at 24 kHz) was read and decoded whole, gigabytes of memory, to be cut off anyway."""

MIN_COMMIT_MS = 100
"""The least audio the service commits (`input_audio_buffer_commit_empty` below it)."""


def check_file(path: str | os.PathLike[str], raw_rate: int | None = None) -> None:
    """Refuse, from its header alone, a file the turn cannot take: one that cannot be read, one
    whose header says more channels than any voice recording has, or audio longer than a session
    lasts or too short to commit, or a `raw_rate` (`--rate`) for a file whose header says its own
    (AudioDecodeError, one line). What the header cannot tell (no file, not audio, a rate no
    recorder has) is left to `decode_file`, which says it in its words."""
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size == 0:
            return
    except OSError:
        return  # decode_file says why
    check_readable(p)
    header = _header(p, raw_rate or SAMPLE_RATE)
    if raw_rate is not None and not _is_raw(p):
        said = f" ({header[1]:,} Hz)" if header is not None else ""
        raise AudioDecodeError(f"--rate is for a raw .pcm/.raw file: {p.name} has a header, which says its rate{said}")
    if header is None:
        return
    channels, rate, frames = header
    check_header(p, rate, channels)  # the decoder's own checks, in its words, before the length
    if frames > 0:
        if cut_short(frames, wav_header_frames(os.fsencode(p)), rate):
            return  # decode_file says it is cut short: "too short to commit" pointed at the wrong fix
        check_length(p, frames * 1000 * BYTES_PER_MS // rate)


def check_length(path: str | os.PathLike[str], pcm_bytes: int) -> None:
    """Refuse audio (as `pcm_bytes` of 24 kHz PCM16) longer than a session or too short to commit."""
    name = Path(path).name
    ms = pcm_bytes / BYTES_PER_MS
    if ms > MAX_SECONDS * 1000:
        raise AudioDecodeError(
            f"{name} holds {clock(ms / 1000)} of audio, and a Realtime session lasts at most "
            f"{MAX_SECONDS // 60} minutes: send a part of it"
        )
    if ms < MIN_COMMIT_MS:
        raise AudioDecodeError(
            f"{name} holds {ms:.4g} ms of audio, and the server commits no less than {MIN_COMMIT_MS} ms"
        )


def _header(p: Path, raw_rate: int = SAMPLE_RATE) -> tuple[int, int, int] | None:
    """(channels, sample rate, frames) as the file's header says (a raw file: mono at `raw_rate`),
    or None when it has none that libsndfile reads (decode_file says why)."""
    if _is_raw(p):
        with p.open("rb") as fh:
            refuse_text(p, fh.read(TEXT_CHECKED_BYTES))  # before its length: text is no audio, short or long
        return 1, raw_rate, p.stat().st_size // SAMPLE_WIDTH
    try:
        # Unnamed (a file object whose name is its descriptor): a .raw file holding a container is
        # read as that container, as decode_file does; and a name that is not UTF-8 cannot fail.
        with (
            open(os.open(p, os.O_RDONLY), "rb") as fh,
            _decoder_stderr_kept([]),  # mpg123's notes on a damaged MP3: decode_file says them
        ):
            info = soundfile.info(fh)
    except Exception:  # noqa: BLE001 - any refusal of any header: decode_file gives its reason
        return None
    return int(info.channels), int(info.samplerate), int(info.frames)


def _is_raw(p: Path) -> bool:
    """A headerless file: named .pcm/.raw and not starting as a container does (decode_file's rule)."""
    return p.suffix.lower() in RAW_SUFFIXES and not _starts_with_container(p)


def _starts_with_container(p: Path) -> bool:
    with p.open("rb") as fh:
        return fh.read(4) in (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"FORM")


def clock(total: float) -> str:
    """`2:13:20`, `59:05`: a duration in (hours,) minutes and seconds."""
    minutes, secs = divmod(round(total), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


class _Turn:
    """Consumes frames into a conversation and waits for conditions on it."""

    def __init__(self, sub: Subscription[Envelope], json_out: bool) -> None:
        self.sub = sub
        self.model = new_model("send", policy=SEND_PAYLOADS)
        """The session as every view has it: the conversation, and the linter that says why a turn failed."""
        self.conv = self.model.conversation
        self.json_out = json_out
        self.t0: float | None = None
        self.errors: list[tuple[str, str]] = []
        """(the event_id the error names, or "", its one-line summary), in arrival order."""
        self.response_done: dict[str, Any] | None = None
        self.seen: Counter[str] = Counter()
        self.ended: str | None = None
        """Why the connection ended (its `rt.connection` fact), once it has."""
        self.said: set[int] = set()
        """Indexes into `errors` that a line on stderr (or the turn's failure) has said."""
        self.odd = OddFrames()

    async def until(self, condition: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> None:
        """Take frames until `condition` holds; SendFailed after `timeout` (naming `what`, or what
        `what()` says was still missing then) or when the connection ends."""
        started = time.monotonic()
        deadline = started + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = what if isinstance(what, str) else what()
                quiet = self._quiet_note(started)
                raise SendFailed(f"timed out after {seconds(timeout)} waiting for {missing}{quiet}")
            try:
                # Not wait_for: on 3.11 it swallows a cancel (Ctrl+C) that lands as a frame arrives.
                async with asyncio.timeout(remaining):
                    env = await self.sub.get()
            except TimeoutError:
                continue
            self._take(env)

    def _quiet_note(self, started: float) -> str:
        """How long the server had sent nothing when the wait that began at `started` ran out, when
        that is most of it: a server gone quiet (a stuck model, which keeps the socket open) and one
        slow to finish read alike as "timed out" otherwise. Counted within the wait: the time an
        upload took before it is no silence of the server's (it answers none of the appends)."""
        last = self.model.facts.last_in
        if last is None:
            return ": the server sent nothing at all"
        quiet = time.monotonic() - max(last, started)
        return f": the server sent nothing in its last {quiet:.0f} s" if quiet >= QUIET_AFTER else ""

    def _take(self, env: Envelope) -> None:
        if self._record(env):
            raise SendFailed(self.ended)

    def take_queued(self) -> None:
        """Take the frames already queued, without waiting (SendFailed when one says the connection
        ended, as `until`)."""
        while (env := self.sub.get_nowait()) is not None:
            self._take(env)

    def take_rest(self) -> None:
        """Take the frames still queued, without waiting or raising: once the session is closed,
        its last records (the close itself) are printed with --json like every other."""
        while (env := self.sub.get_nowait()) is not None:
            self._record(env)

    def _record(self, env: Envelope) -> bool:
        """Print (--json) and apply one frame; True when it says the connection ended."""
        if self.t0 is None:
            self.t0 = env.mono
        if self.json_out:
            # Strict JSON (a server's NaN is a marked string), the parsed frame under "frame" for jq.
            say(dumps_line(envelope_record(env, self.t0, parsed=True)))
        added = self.model.ingest((env,))
        for index in added[1:]:  # a projection's failure on it, journaled after it (a bug of rt-tui's)
            self.odd.fault(text(self.model.journal.data(index).get("message")))
        self.seen[env.type] += 1
        if env.direction is DIR_IN:
            self.odd.note(env)
        if env.type == "error":
            error = field(env.data, "error")
            summary, param = error_summary(env.data), text(error.get("param"))
            if param and param not in summary:
                summary += f" (param {param})"  # which of the update's settings: the voice, the model?
            self.errors.append((text(error.get("event_id")), summary))
        elif env.type == "response.done":
            self.response_done = field(env.data, "response")
        elif env.type == "rt.connection" and env.data.get("state") in ("closed", "failed"):
            self.ended = text(env.data.get("message"))
            return True
        return False

    async def why_it_ended(self, timeout: float) -> str | None:
        """Why the connection ended, taking the frames that arrived meanwhile (waiting at most
        `timeout` for its fact); None if it has not ended."""
        if self.ended is None:
            with contextlib.suppress(SendFailed):
                await self.until(lambda: self.ended is not None, timeout, "the connection's end")
        return self.ended

    def rejection(self, event: dict[str, Any], since: int) -> str | None:
        """The summary of an error (after the first `since`) that refuses `event`: one naming it, or
        naming nothing (servers need not echo ids). Errors about other frames are only reported."""
        for named, summary in self.errors[since:]:
            if named in ("", event.get("event_id")):
                return summary
        return None

    def refused(self, what: str, event: dict[str, Any], since: int) -> str:
        """Why the turn ends at `event` (`what`: its name), once `rejection` found an error: "rejected"
        only when the error names it; one naming no frame is said as what it is, a server error that
        came while its answer was awaited (review 57b: a server's unrelated error read as the update's)."""
        ours = event.get("event_id")
        named = next((summary for by, summary in self.errors[since:] if by and by == ours), None)
        if named is not None:
            return f"{what} rejected: {named}"  # the error that names it, not one before it that named none
        summary = self.rejection(event, since) or ""
        return f"server error while waiting for the answer to {what} (the error names no frame): {summary}"

    def report_other_errors(self, since: int, *events: dict[str, Any], audio: frozenset[str] = frozenset()) -> int:
        """Errors about frames other than `events` do not end the turn: say them on stderr, each
        different one once (a long file can draw thousands of the same). Returns how many named one
        of the `audio` appends: audio the server did not take."""
        ours = {event.get("event_id") for event in events}
        others: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for index, (named, summary) in enumerate(self.errors[since:], since):
            if named in audio:
                refused[summary] += 1
            elif named and named not in ours:
                others[summary] += 1
            else:
                continue
            self.said.add(index)
        for summary, count in others.items():
            said = f"{printable(summary)}{times(count)}"
            print(f"rt-tui send: server error (about another frame, the turn goes on): {said}", file=sys.stderr)
        for summary, count in refused.items():
            print(
                f"rt-tui send: the server refused {counted_appends(count, len(audio))}: {printable(summary)}",
                file=sys.stderr,
            )
        return sum(refused.values())

    def report_unsaid_errors(self) -> None:
        """Say the errors no other line has (one at connect, one naming no frame while the reply
        came): a turn that completed despite them is still a success, but a script must learn of
        them. Each different one once, counted."""
        unsaid = Counter(summary for n, (_, summary) in enumerate(self.errors) if n not in self.said)
        self.said.update(range(len(self.errors)))
        for summary, count in unsaid.items():
            print(f"rt-tui send: server error (the turn went on): {printable(summary)}{times(count)}", file=sys.stderr)

    def report_late_errors(self, since: int) -> None:
        """Say the errors that came as the connection closed, after the turn had ended (`since`: how
        many errors there were then), each kind once, counted: kept in the capture and --json, they
        were said nowhere else, and a script learnt of none. The exit status stays the turn's. Only
        after a turn that ran to its end: a failure's own line (a refused connect) says its error."""
        before = {summary for _, summary in self.errors[:since]}
        # One more of an error the turn already had (a refused append's, for the audio in flight
        # when it stopped) is no news: the line about the first said it.
        late = Counter(summary for _, summary in self.errors[since:] if summary not in before)
        self.said.update(range(since, len(self.errors)))
        for summary, count in late.items():
            said = f"server error after the turn ended: {printable(summary)}{times(count)}"
            print(f"rt-tui send: {said}", file=sys.stderr)

    def user_item(self, item_id: str | None) -> Item | None:
        return self.conv.items.get(item_id) if item_id else None

    def reply_completed(self) -> bool:
        """The server said the response is over, and whole (`response.done`, status completed)."""
        return self.response_done is not None and self.response_done.get("status") == "completed"

    def print_partial(self, timeout: float, *, interrupted: bool = False) -> None:
        """On failure, print whatever of both sides arrived (nothing with --json: frames are printed).
        A side still coming is marked `(incomplete)`; one the server finished is not (the
        conversation's text state and `response.done` say which, never the text)."""
        if self.json_out:
            return
        users = [i for i in self.conv.ordered() if i.role == "user"]
        assistant = self.assistant_text()
        if users:
            user = users[-1]
            final = user.state in FINAL_USER_STATES
            said = user.display_text if final else unfinished_transcript(user, timeout, interrupted=interrupted)
            say(f"user: {printable(said)}")
        if self.reply_completed():
            say(f"assistant: {self.assistant_line()}")
        elif assistant:
            say(f"assistant: {printable(assistant)} (incomplete)")

    def lint_line(self, how: str) -> str | None:
        """For a turn that failed: one line with what the linter found in its frames (errors, then
        warnings, counted by rule) and `how` to read why, with the fix (`lint_how`); None when it
        found nothing. The failure's own line says what went wrong; a script reading stderr line by
        line gets one more, not a finding per refused frame."""
        linter = self.model.linter
        if linter is None:
            return None
        linter.finish()  # the turn ends here: what still waits for an answer never gets one
        found = [f for f in linter.findings if f.severity is not Severity.INFO]
        if not found:
            return None
        errors = sum(f.severity is Severity.ERROR for f in found)
        counts = [counted(errors, "error")] if errors else []
        counts += [counted(len(found) - errors, "warning")] if len(found) > errors else []
        worst_first = sorted(found, key=lambda f: f.severity is not Severity.ERROR)  # stable: in order otherwise
        rules = Counter(f.rule for f in worst_first)
        named = ", ".join(f"{rule}{times(n)}" for rule, n in rules.items())
        return f"lint: {' and '.join(counts)} in the turn ({named}); why, with the fix: {how}"

    def assistant_text(self) -> str:
        texts = [i.text for i in self.conv.ordered() if i.role == "assistant" and i.text]
        return " ".join(t.strip() for t in texts)

    def assistant_line(self) -> str:
        """The reply's words for its `assistant:` line; without any, what the pane says: why no reply
        came (a response that ended early without output), else `(no text)`."""
        said = printable(self.assistant_text())
        if said:
            return said
        ended = next((row for row in reversed(self.conv.ordered()) if row.kind == NO_OUTPUT), None)
        return ended.display_text if ended is not None else "(no text)"


async def _send(
    pcm: bytes,
    settings: Settings,
    *,
    json_out: bool,
    timeout: float,
    why: list[str] | None = None,
    terminate: Callable[[int], None] | None = None,
) -> int:
    """The turn; `why` receives the linter's line about it (`_Turn.lint_line`), said if it failed.
    `terminate` (on the main thread): a signal of QUIT_SIGNALS (SIGTERM, SIGHUP) calls it with the
    signal and cancels the turn, which ends as after Ctrl+C. Taken here, by the loop, rather than
    turned into a SIGINT: a shell script's background job (`rt-tui send q.wav & ... kill $!`) starts
    with SIGINT ignored, and the turn ran on."""
    if terminate is not None:
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            terminate(signum)
            task.cancel()

        for signum in QUIT_SIGNALS:
            asyncio.get_running_loop().add_signal_handler(signum, stop, signum)
    async with open_target(settings) as target:
        bus = Bus()
        turn = _Turn(bus.subscribe(FRAMES), json_out)
        capture, capture_error = _open_capture(settings, target.secrets)
        if capture_error is not None:
            # Said before the turn, not after it (a turn that went well, then exit 1 for a folder
            # that could not be made): a run that cannot be recorded is known as it starts.
            print(f"rt-tui send: {capture_error}; the turn goes on unrecorded (exit 1)", file=sys.stderr, flush=True)
        if capture is not None:
            # The capture's first record names the file (as the app's and the proxy's do): a script
            # reading --json can `rt-tui lint` it without looking for the newest folder.
            where = str(capture.path)
            fact = local_envelope("rt.capture", f"capturing every frame to {where}", path=where)
            capture.write(fact)
            bus.publish(FRAMES, fact)
        # --timeout bounds the connect too: a port that takes the TCP connection and never answers held
        # `send --timeout 1` for the session's own 15 s.
        session = RealtimeSession(
            target,
            bus,
            capture=capture,
            max_frame_bytes=settings.max_frame_bytes,
            open_timeout=min(timeout, DEFAULT_OPEN_TIMEOUT),
        )
        turn_failed = True  # until the turn says otherwise (an exception leaves it so)
        turn_ended = False  # the turn ran to its end (an error after it is news; one at connect is the failure)
        try:
            await session.connect()
            status = await _run_turn(session, turn, pcm, settings, timeout)
            turn_failed, turn_ended = status != 0, True
        except BrokenPipeError:  # our reader went away, not the server: nothing more to print
            raise
        except ConnectionError as exc:
            # A send found the connection gone: the reason it ended is the news, not the send.
            reason = await turn.why_it_ended(timeout=1.0)
            turn.print_partial(timeout)  # what did arrive is shown, not lost
            if reason is None:
                raise
            raise SendFailed(reason) from exc
        except asyncio.CancelledError:  # Ctrl+C cancels the turn: what arrived is still shown
            turn.take_rest()  # frames that came before the key, not yet taken
            turn.print_partial(timeout, interrupted=True)
            raise
        except SendFailed:
            turn.print_partial(timeout)
            raise
        finally:
            await session.close()
            errors_at_end = len(turn.errors)
            turn.take_rest()  # the records of the close: --json prints the capture's every record
            if turn_ended:
                turn.report_late_errors(errors_at_end)
            for line in turn.odd.lines():
                print(f"rt-tui send: {line}", file=sys.stderr)
            opened = capture_error is None
            if capture is not None:
                capture.close()
                capture_error = capture.error
            if capture_error is not None and opened:  # one that failed to open was said at the start
                print(f"rt-tui send: {capture_error}", file=sys.stderr)
            if why is not None and turn_failed:  # a turn that completed, its capture failed or not: none
                found = turn.lint_line(lint_how(capture, settings))
                if found is None and capture is not None and session.connected_at is not None:
                    # Nothing for the linter to say of a session that opened: where its frames are is
                    # still worth a line (of one that never opened, the failure's line says it all).
                    found = f"its frames: {replay_command(capture)}"
                why += [found] if found else []
        # The turn went on without its record: never exit 0 for it.
        return 1 if capture_error is not None else status


def unfinished_transcript(user: Item, timeout: float, *, interrupted: bool = False) -> str:
    """The user line of a transcript that never became final: the words that arrived, marked as the
    assistant's reply is; or, with none, why there are none (the connection ended, Ctrl+C, or the
    timeout)."""
    if user.text.strip():
        return f"{user.text.strip()} (incomplete)"
    if user.state is TextState.INTERRUPTED:
        return user.display_text  # (the connection ended before any text arrived)
    if interrupted:
        return "(interrupted before the transcript arrived)"
    return f"(the transcript did not arrive within {seconds(timeout)})"


def response_failure(response: dict[str, Any], errors: list[str]) -> str:
    """Why a response did not complete, as `: <reason>` (empty when the server said nothing): its
    `status_details` (an error's `code: message` as the app's log shows it, or a reason such as
    `max_output_tokens`), then each different `error` event that arrived since it was asked for."""
    details = field(response, "status_details")
    error = field(details, "error")
    detail = error_summary({"error": error}) if error else text(details.get("reason"))
    reasons = [detail] if detail else []
    reasons += [f"server error: {summary}" for summary in dict.fromkeys(errors) if summary != detail]
    # One line: server text shows its control characters (and line breaks) as symbols.
    return f": {printable('; '.join(reasons))}" if reasons else ""


class OddFrames:
    """What the server sent that `send` could not read (malformed text, binary frames) or does not
    know (an event type neither interface defines): ignored, as the app does, and then said on
    stderr, one line per kind with a count, so a script learns of a server that misbehaves. The
    exit status stays that of the turn: a reply that arrived whole is a success."""

    def __init__(self) -> None:
        self.malformed = 0
        self.first_malformed = ""
        self.binary = 0
        self.first_binary = 0
        self.unknown: Counter[str] = Counter()
        self.faults = 0
        self.first_fault = ""

    def fault(self, message: str) -> None:
        """Count a frame rt-tui's own model could not take (a projection's bug, as `rt.client_error`)."""
        self.faults += 1
        self.first_fault = self.first_fault or message

    def note(self, env: Envelope) -> None:
        """Count one received frame if it is odd (a set lookup for every other)."""
        etype = env.type
        if etype == "rt.malformed":
            if env.binary is not None:
                self.binary += 1
                self.first_binary = self.first_binary or len(env.binary)
            else:
                self.malformed += 1
                message = text(env.data.get("message")).removeprefix("malformed frame from server: ")
                self.first_malformed = self.first_malformed or message
        elif not etype.startswith("rt.") and etype not in MCP_SERVER_EVENTS and not is_known(etype):
            if etype in self.unknown or len(self.unknown) < UNKNOWN_TYPES_KEPT:
                self.unknown[etype] += 1

    def lines(self) -> list[str]:
        """The stderr lines, without their `rt-tui send: ` (none when every frame was a known event)."""
        said = []
        if self.malformed:
            said.append(
                f"the server sent {counted(self.malformed, 'malformed frame')}, ignored "
                f"({'the first: ' if self.malformed > 1 else ''}{printable(self.first_malformed)[:300]})"
            )
        if self.binary:
            size = f"{self.first_binary:,} bytes" + (" the first" if self.binary > 1 else "")
            said.append(
                f"the server sent {counted(self.binary, 'binary frame')} ({size}), ignored: "
                "the Realtime API sends text frames only"
            )
        if self.unknown:
            kinds = [f"{printable(etype)[:80]}{times(n)}" for etype, n in self.unknown.most_common(UNKNOWN_TYPES_SHOWN)]
            more = len(self.unknown) - len(kinds)
            kinds += [f"and {more}{'+' if len(self.unknown) >= UNKNOWN_TYPES_KEPT else ''} more"] if more > 0 else []
            total = sum(self.unknown.values())
            said.append(
                f"the server sent {counted(total, 'event')} of a type rt-tui does not know, ignored: {', '.join(kinds)}"
            )
        if self.faults:
            said.append(
                f"{counted(self.faults, 'frame')} not taken by rt-tui's own model, a bug of rt-tui's "
                f"({'the first: ' if self.faults > 1 else ''}{printable(self.first_fault)[:300]})"
            )
        return said


SEND_PAYLOADS = PayloadPolicy(large_budget_bytes=256 * 1024, text_budget_bytes=1024 * 1024)
"""The turn's journal keeps little payload: the linter reads each frame as it comes, and a long file's
audio must not be held a second time (the appends are already on their way out, or in the capture)."""

UNKNOWN_TYPES_SHOWN = 5
UNKNOWN_TYPES_KEPT = 100
"""Unknown types named (the most frequent) and counted apart: a server inventing a type per frame
must not grow the count without end."""


def counted(n: int, noun: str) -> str:
    """`1 malformed frame`, `3 malformed frames`."""
    return f"{n:,} {noun}{'s' if n != 1 else ''}"


def times(count: int) -> str:
    """` (×3)` after something said once for `count` of them; nothing for one."""
    return f" (×{count:,})" if count > 1 else ""


def seconds(value: float) -> str:
    """`2 s`, `0.5 s`: a timeout as given."""
    return f"{value:g} s"


def counted_appends(refused: int, sent: int) -> str:
    """`1 of 300 audio appends`, `12 of 300 audio appends`."""
    return f"{refused:,} of {sent:,} audio append{'s' if sent != 1 else ''}"


async def _stream(session: RealtimeSession, turn: _Turn, pcm: bytes, timeout: float) -> list[str]:
    """Send `pcm` as appends, made as the connection takes them (at most IN_FLIGHT ahead of the
    socket), taking the frames that arrive meanwhile; the appends' event ids."""
    appends: list[str] = []
    refusals = _AppendRefusals(turn, len(pcm))

    def taken() -> bool:  # the writer publishes an append once it is on the socket
        return turn.seen["input_audio_buffer.append"] >= len(appends) - IN_FLIGHT

    def progress() -> str:
        sent = turn.seen["input_audio_buffer.append"] * CHUNK_MS / 1000
        return f"the server to take the audio ({sent:g} s of {len(pcm) / BYTES_PER_SECOND:g} s sent)"

    for start in range(0, len(pcm), CHUNK_BYTES):
        if not taken():
            await turn.until(taken, timeout, progress)
        turn.take_queued()  # a refusal that came meanwhile (the socket taking every append, no wait saw it)
        refusals.stop_if_any()
        append = {"type": "input_audio_buffer.append", "audio": to_b64(pcm[start : start + CHUNK_BYTES])}
        session.send(append)
        refusals.sent(append["event_id"])
        appends.append(append["event_id"])
    # Every append on the socket, and what came meanwhile taken, before the commit is decided on.
    await turn.until(lambda: turn.seen["input_audio_buffer.append"] >= len(appends), timeout, progress)
    turn.take_queued()
    refusals.stop_if_any()
    return appends


class _AppendRefusals:
    """Watches the turn's errors for one that refuses an append sent: SendFailed then (the rest
    would be refused too, a buffer the server holds full, and a commit would make a turn of part of
    the file, a reply to words the user never finished; the buffer is never committed). Each error
    is looked at once, each append found by its event id: an hour's 36,000 appends cost no more
    than a turn's."""

    def __init__(self, turn: _Turn, total_bytes: int) -> None:
        self.turn = turn
        self.total = total_bytes / BYTES_PER_SECOND
        self.checked = len(turn.errors)
        """The turn's errors looked at so far (those before the audio are not about it)."""
        self.positions: dict[str, int] = {}
        """Each append's event id → its place in the file (counted in appends)."""

    def sent(self, event_id: str) -> None:
        """An append went out with `event_id`."""
        self.positions[event_id] = len(self.positions)

    def stop_if_any(self) -> None:
        """SendFailed when an error since the last look refuses an append sent."""
        errors = self.turn.errors
        for number in range(self.checked, len(errors)):
            event_id, summary = errors[number]
            position = self.positions.get(event_id)
            if position is not None:
                self.turn.said.add(number)
                raise SendFailed(
                    f"the server refused the audio at {position * CHUNK_MS / 1000:.1f} s of {self.total:.1f} s: "
                    f"{printable(summary)}; nothing was committed"
                )
        self.checked = len(errors)


def _open_capture(settings: Settings, secrets: tuple[str, ...]) -> tuple[CaptureWriter | None, str | None]:
    """The capture file, or why there is none (the turn goes on without it, and `send` exits 1)."""
    if not settings.capture:
        return None, None
    try:
        return CaptureWriter(new_session_dir(), secrets), None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return None, f"capture failed: cannot create{where}: {exc.strerror or exc}"


async def _run_turn(session: RealtimeSession, turn: _Turn, pcm: bytes, settings: Settings, timeout: float) -> int:
    await turn.until(lambda: turn.conv.session_id is not None, timeout, "session.created")
    update = session_update(session_options(settings))
    session.send(update)
    errors_before = len(turn.errors)
    await turn.until(
        lambda: turn.seen["session.updated"] > 0 or turn.rejection(update, errors_before) is not None,
        timeout,
        "session.updated",
    )
    if turn.rejection(update, errors_before) is not None:
        raise SendFailed(turn.refused("session.update", update, errors_before))

    errors_before_audio = len(turn.errors)
    appends = await _stream(session, turn, pcm, timeout)
    commit: dict[str, Any] = {"type": "input_audio_buffer.commit"}
    session.send(commit)
    errors_before = len(turn.errors)
    committed: list[str] = []

    def is_committed() -> bool:
        committed[:] = [i.id for i in turn.conv.ordered() if i.role == "user" and i.committed_at is not None]
        return bool(committed) or turn.rejection(commit, errors_before) is not None

    await turn.until(is_committed, timeout, "input_audio_buffer.committed")
    if not committed:
        raise SendFailed(turn.refused("commit", commit, errors_before))
    refused_audio = turn.report_other_errors(errors_before_audio, commit, audio=frozenset(appends))
    user_id = committed[-1]
    errors_before_response = len(turn.errors)
    session.send({"type": "response.create"})

    def transcript_final() -> bool:
        user = turn.user_item(user_id)
        return user is not None and user.state in FINAL_USER_STATES

    def missing() -> str:
        if turn.response_done is not None:
            return "the user's transcript (the response is done)"
        return "the response" if transcript_final() else "the transcript and the response"

    await turn.until(lambda: turn.response_done is not None and transcript_final(), timeout, missing)
    user = turn.user_item(user_id)
    assert user is not None and turn.response_done is not None
    status = str(turn.response_done.get("status"))
    if not turn.json_out:
        # Server text on a terminal: its control characters are shown, not obeyed (--json is exact).
        say(f"user: {printable(user.display_text if user.state is not TextState.DONE else user.text)}")
        say(f"assistant: {turn.assistant_line()}")
    failed = status != "completed"
    if failed:  # the errors that came with the response are its reasons: said on its line, below
        turn.said.update(range(errors_before_response, len(turn.errors)))
    turn.report_unsaid_errors()
    if user.state is TextState.FAILED:
        print(f"rt-tui send: transcription failed: {printable(user.error or '')}", file=sys.stderr)
        return 1
    if refused_audio:
        return 1  # the reply is to part of the file only (said above): never a success
    if failed:
        why = response_failure(turn.response_done, [summary for _, summary in turn.errors[errors_before_response:]])
        print(f"rt-tui send: response ended with status {printable(status)}{why}", file=sys.stderr)
        return 1
    return 0
