"""The command line: `rt-tui` (the app), `rt-tui serve` (the simulator), `rt-tui send FILE`.

Each command imports what it needs lazily, so `send` and `serve` never load textual.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Callable

from tui.config import DEFAULT_MAX_FRAME_MIB, INPUT_DEVICE_ENV, OUTPUT_DEVICE_ENV, URL_ENV, Settings, TargetChoice

SCENARIO_KEYS = """\
scenario keys (in a --scenario file, or sim_<key>=… on a client's URL):
  seed                    integer: every random choice below replays exactly
  transcription           when transcripts arrive: normal, after_response, mid_response,
                          before_item, out_of_order, random
  transcription_delay_ms  extra delay before a transcript: 300, or a range 200-800
  hold_limit_ms           the longest an ordering mode waits for its cue (default 10000)
  latency_ms              delay before every server event: 50, or 20-80
  bandwidth_kbps          an outbound bandwidth cap, kilobits per second
  drop_after              drop the socket after the n-th event of a type: response.output_audio.delta:3
  drop_mode               eof (FIN, the default) or reset (RST); never a close frame
  stall_after             go quiet after the n-th event of a type (socket open, pings answered) ...
  stall_ms                ... for this long (default 30000, or a range), then send the rest
  malformed               inject not_json and/or no_type (not_json,no_type) ...
  malformed_after         ... after the n-th event of a type (default session.created)
  session_seconds         the session expires: error session_expired, then close 1001
  buffer_seconds          the most audio the input buffer holds (default 600): appends past it refused
e.g. ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime&sim_transcription=after_response&sim_seed=7"""
"""`rt-tui serve --help`'s list of scenario keys (a test holds it to `tui.server.scenario.Scenario`)."""


def _add_target_flags(parser: argparse.ArgumentParser, *, inherited: bool = False, session: bool = True) -> None:
    """The target flags, and (`session`) the flags of the session rt-tui configures itself (the
    proxy configures none: your client does). A subcommand's copy (`inherited`) has no defaults of
    its own, so `rt-tui --local send f.wav` and `rt-tui send f.wav --local` mean the same."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if inherited else value

    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--url",
        metavar="URL",
        default=default(None),
        help=f"any ws:// or wss:// Realtime endpoint (key, if any, from $RT_TUI_API_KEY); with no target flag, "
        f"${URL_ENV} is used: put a URL that carries credentials there, out of sight of `ps`",
    )
    group.add_argument(
        "--openai", action="store_true", default=default(False), help="the OpenAI GA endpoint (needs OPENAI_API_KEY)"
    )
    group.add_argument(
        "--local", action="store_true", default=default(False), help="the embedded simulator, started in-process"
    )
    parser.add_argument(
        "--model",
        default=default("gpt-realtime"),
        help="realtime model for OpenAI and --local (default: gpt-realtime); a --url names its own (?model=...)",
    )
    if session:
        _add_session_flags(parser, default)
    parser.add_argument(
        "--no-capture", action="store_true", default=default(False), help="do not write the JSONL capture file"
    )
    parser.add_argument(
        "--local-dialect",
        choices=["ga", "beta"],
        default=default(None),
        help="the embedded simulator's protocol dialect, with --local (default: ga)",
    )
    parser.add_argument(
        "--max-frame-mib",
        metavar="N",
        type=_frame_limit,
        default=default(DEFAULT_MAX_FRAME_MIB),
        help=f"refuse a frame over N MiB (the server's; through the proxy, either side's), closing the "
        f"connection with 1009 (default: {DEFAULT_MAX_FRAME_MIB})",
    )


def _add_session_flags(parser: argparse.ArgumentParser, default: Callable[[object], object]) -> None:
    """How rt-tui configures the session it opens: transcription and voice."""
    parser.add_argument(
        "--transcription-model",
        default=default("gpt-4o-transcribe"),
        help="input transcription model (default: gpt-4o-transcribe)",
    )
    parser.add_argument(
        "--no-transcription", action="store_true", default=default(False), help="leave input transcription off"
    )
    parser.add_argument("--language", default=default(None), help="ISO-639-1 hint for input transcription, e.g. en")
    parser.add_argument("--voice", default=default(None), help="assistant voice, e.g. marin")


def _port(value: str) -> int:
    """`--port`: 0 (a free one) to 65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: 0 to 65535 (0 picks a free one)")
    return port


def _seconds(value: str) -> float:
    """`--timeout`: a positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} s: the timeout must be a positive number of seconds")
    return seconds


def _raw_rate(value: str) -> int:
    """`send --rate`: a raw file's sample rate, in the range the decoder reads from a header."""
    from tui.audio.decode import HIGHEST_RATE, LOWEST_RATE

    # As people write a rate: 16000, 16000Hz, 16 kHz, 16k, 44.1k, 8kHz.
    spoken = value.strip().lower().removesuffix("hz").strip()
    scale = 1000 if spoken.endswith("k") else 1
    try:
        number = float(spoken.removesuffix("k").strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a sample rate in Hz: {value!r} (e.g. 16000 or 16k)") from None
    hertz = number * scale
    if not math.isfinite(hertz) or abs(hertz - round(hertz)) > 1e-6:  # 22.05k is 22050.000000000004
        raise argparse.ArgumentTypeError(f"not a whole number of Hz: {value!r} (e.g. 16000 or 16k)")
    rate = round(hertz)
    if not LOWEST_RATE <= rate <= HIGHEST_RATE:
        raise argparse.ArgumentTypeError(f"{rate} Hz: rt-tui reads {LOWEST_RATE:,} to {HIGHEST_RATE:,} Hz")
    return rate


SPEED_RANGE = (0.25, 64.0)
"""`replay --speed`'s range: the one the app's ] and [ keep to (tui/app/modes.py), so a speed given on the
command line is one the keys can reach and leave in both directions."""


def _speed(value: str) -> float:
    """`replay --speed`: a factor of the recorded pace, within SPEED_RANGE (nan and inf are not)."""
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    low, high = SPEED_RANGE
    if not low <= speed <= high:  # nan compares false: refused too
        raise argparse.ArgumentTypeError(f"{value}: the speed must be a number from {low:g} to {high:g}")
    return speed


def _frame_limit(value: str) -> int:
    """`--max-frame-mib`: a whole number of MiB, 1 to 4096."""
    try:
        mib = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of MiB: {value!r}") from None
    if not 1 <= mib <= 4096:
        raise argparse.ArgumentTypeError(f"{mib} MiB is outside 1 to 4096")
    return mib


def _settings(args: argparse.Namespace) -> Settings:
    url = args.url
    if args.url:
        target = TargetChoice.URL
    elif args.openai:
        target = TargetChoice.OPENAI
    elif args.local:
        target = TargetChoice.LOCAL
    elif os.environ.get(URL_ENV, "").strip():
        # The flag's twin, read where other users cannot see it (argv is public in `ps`).
        target, url = TargetChoice.URL, os.environ[URL_ENV].strip()
    else:
        target = TargetChoice.AUTO
    return Settings(
        target=target,
        url=url,
        model=args.model,
        transcription_model=None if args.no_transcription else args.transcription_model,
        language=args.language,
        voice=args.voice,
        capture=not args.no_capture,
        playback=not getattr(args, "no_playback", False),
        max_frame_bytes=args.max_frame_mib * 1024 * 1024,
        local_dialect=args.local_dialect or "ga",
        reconnect=not getattr(args, "no_reconnect", False),
        input_device=_device_named(getattr(args, "input_device", None), INPUT_DEVICE_ENV),
        output_device=_device_named(getattr(args, "output_device", None), OUTPUT_DEVICE_ENV),
    )


def _device_named(flag: str | None, env: str) -> str | None:
    """A device flag's value, else its environment variable's (blank: none, the default device)."""
    named = flag if flag is not None else os.environ.get(env, "")
    return named.strip() or None


def _target_named(args: argparse.Namespace, settings: Settings) -> str:
    """How the user named a remote target: `--url`, `the URL in $RT_TUI_URL`, `--openai`."""
    if settings.target is TargetChoice.OPENAI:
        return "--openai"
    return "--url" if args.url else f"the URL in ${URL_ENV}"


def _prefix(args: argparse.Namespace) -> str:
    """`rt-tui send`, `rt-tui proxy`…: what a message on stderr begins with (`rt-tui` for the app)."""
    command = getattr(args, "command", None)
    return f"rt-tui {command}" if command else "rt-tui"


def warn_inline_credentials(args: argparse.Namespace) -> str | None:
    """One line on stderr when `--url` carries credentials (a password, a user name alone that may
    be a token, `api-key=`…), which every local user can read in the process list: rt-tui cannot
    take them out of its argv, so it says where they belong instead. Never the values. Returns the
    warning (without the command's prefix), or None."""
    if not getattr(args, "url", None):
        return None
    from tui.launch import URL_API_KEY_ENV
    from tui.session.targets import inline_credentials

    found = inline_credentials(args.url)
    if not found:
        return None
    warning = (
        f"--url carries credentials ({', '.join(found)}), visible to every user of this "
        f"machine in the process list (ps); export {URL_ENV}=URL instead and leave out --url, or put the key "
        f"alone in ${URL_API_KEY_ENV} (sent as a header)"
    )
    print(f"{_prefix(args)}: warning: {warning}", file=sys.stderr)
    return warning


def warn_key_not_sent(settings: Settings, prefix: str) -> None:
    """One line on stderr when the URL's own `user:password` (sent as Basic auth) leaves out the key
    the environment holds for it: one request carries one credential, and the user learns which."""
    if settings.target is not TargetChoice.URL or not settings.url:
        return
    from tui.launch import AZURE_API_KEY_ENV, URL_API_KEY_ENV
    from tui.session.targets import is_azure_url, key_ignored

    names = [URL_API_KEY_ENV] + ([AZURE_API_KEY_ENV] if is_azure_url(settings.url) else [])
    name = next((n for n in names if os.environ.get(n, "").strip()), None)  # a blank one is no key (tui.launch)
    if name is not None and key_ignored(settings.url, os.environ[name].strip()):
        print(
            f"{prefix}: warning: the URL carries a user name and password, sent as Basic auth; ${name} is not sent",
            file=sys.stderr,
        )


def _add_app_flags(parser: argparse.ArgumentParser, *, inherited: bool = False) -> None:
    """The flags given before a command: the target and session flags, and the app's own."""
    _add_target_flags(parser, inherited=inherited)
    parser.add_argument(
        "--no-playback",
        action="store_true",
        default=argparse.SUPPRESS if inherited else False,
        help="do not play the assistant's audio",
    )
    parser.add_argument(
        "--input-device",
        metavar="DEVICE",
        default=argparse.SUPPRESS if inherited else None,
        help=f"the microphone: its index or a part of its name, as `rt-tui devices` lists them "
        f"(default: ${INPUT_DEVICE_ENV}, else the system's default; '' is the system's default even when "
        f"${INPUT_DEVICE_ENV} is set)",
    )
    parser.add_argument(
        "--output-device",
        metavar="DEVICE",
        default=argparse.SUPPRESS if inherited else None,
        help=f"the speaker, as --input-device (default: ${OUTPUT_DEVICE_ENV}, else the system's default)",
    )
    parser.add_argument(
        "--no-reconnect",
        action="store_true",
        default=argparse.SUPPRESS if inherited else False,
        help="after a dropped connection, wait for ctrl+r instead of reconnecting alone",
    )


SESSION_FLAG_DESTS = ("transcription_model", "no_transcription", "language", "voice")

AUDIO_FLAG_DESTS = ("input_device", "output_device", "no_playback")
"""The app's audio flags, which `send` (a file, nothing played) and the proxy never use."""
"""The flags of the session rt-tui configures itself, which a proxied session (your client's) never takes."""

UNUSED_FLAGS_WHY = {
    "replay": "a replay never connects anywhere",
    "lint": "it reads a recording and connects nowhere",
    "serve": "the simulator takes its own flags, after serve (rt-tui serve --help)",
    "proxy": "your client configures the session it opens through the proxy",
    "send": "it sends a file and plays nothing",
    "devices": "it lists the devices and connects nowhere",
}
"""Commands that would ignore flags given before them, and why they do."""


def flags_before_command(argv: list[str], command: str) -> list[str]:
    """The flags given before `command` in `argv` (already parsed whole) that it would ignore, as
    their long spellings: every target, session and app flag for replay, lint and serve; the
    session flags for the proxy. Empty for any other command."""
    if command not in UNUSED_FLAGS_WHY:
        return []
    # The same flags, with no defaults: only what was given lands in the namespace. What follows
    # the command is the subcommand's and was checked by the real parser.
    probe = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_app_flags(probe, inherited=True)
    probe.add_argument("command")
    probe.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        given = vars(probe.parse_args(argv))
    except argparse.ArgumentError:  # not expected of an argv the real parser took; then nothing to say
        return []
    names = {action.dest: action.option_strings[-1] for action in probe._actions if action.option_strings}
    unused = [dest for dest in names if dest in given]
    if command == "proxy":
        unused = [dest for dest in unused if dest in SESSION_FLAG_DESTS or dest in AUDIO_FLAG_DESTS]
    elif command == "send":
        unused = [dest for dest in unused if dest in AUDIO_FLAG_DESTS]
    return [names[dest] for dest in unused]


def command_parser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    """The parser of `command` among `parser`'s subcommands (`parser` itself for none)."""
    for action in parser._actions:  # argparse keeps its subcommands there: no public accessor
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            chosen: argparse.ArgumentParser = action.choices[command]
            return chosen
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all commands."""
    parser = argparse.ArgumentParser(
        prog="rt-tui",
        description="Talk to and debug the OpenAI Realtime API (or a compatible server) in the terminal.",
        epilog="With no target flag: OpenAI when OPENAI_API_KEY is set, otherwise the embedded simulator. "
        "The app exits 0 when quit, 129 on SIGHUP (its terminal closed) and 143 on SIGTERM, each after "
        "closing the session and its capture as a quit does.",
    )
    _add_app_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the local Realtime simulator")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    serve.add_argument("--port", type=_port, default=8765, help="port; 0 picks a free one (default: %(default)s)")
    serve.add_argument("--dialect", choices=["ga", "beta"], default="ga", help="protocol dialect (default: ga)")
    serve_key = serve.add_mutually_exclusive_group()
    serve_key.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="require the key on the first line of FILE from clients (Bearer or Basic header, or subprotocol); "
        "default: $RT_TUI_SIM_API_KEY, else no key",
    )
    serve_key.add_argument(
        "--api-key",
        metavar="KEY",
        help="the same with the key itself (warns: the command line is visible to every user in ps)",
    )
    serve.add_argument(
        "--max-frame-mib",
        type=_frame_limit,
        default=16,
        metavar="N",
        help="refuse a client frame over N MiB with close 1009 (default: 16)",
    )
    serve.add_argument(
        "--scenario",
        metavar="FILE",
        help="scheduling and faults for every connection: a TOML or JSON file of the keys below "
        "(sim_<key> URL query parameters override it per connection)",
    )
    serve.description = (  # laid out by hand: the epilog's table needs the raw formatter
        "Run the local Realtime simulator in the foreground and print its URL.\n\n"
        "Exit 0: stopped by Ctrl+C, SIGTERM or SIGHUP (each client is closed with 1001, going away,\n"
        "as a server shutting down does); 1: the address cannot be listened on; 2: the arguments,\n"
        "the key file or the scenario cannot be used."
    )
    serve.epilog = SCENARIO_KEYS
    serve.formatter_class = argparse.RawDescriptionHelpFormatter

    send = sub.add_parser(
        "send",
        help="send an audio file as one user turn and print both sides",
        description="Stream FILE through the input buffer (append, commit), ask for a response, and print "
        "'user: <transcript>' and 'assistant: <reply>'. Exit 0: both came; 1: the turn did not complete (the "
        "transcription failed, the server refused a frame or ended the connection, the timeout) or its capture "
        "could not be written, said in one line on stderr, and when the linter found errors or warnings in the turn, "
        "one more naming them and the rt-tui lint command that explains each with its fix; 2: the "
        "file or the arguments cannot be used; 130: Ctrl+C; 129: SIGHUP (its terminal closed); 143: SIGTERM; "
        "after a signal, what arrived is printed and the capture closed.",
    )
    send.add_argument(
        "file",
        help="audio file: WAV (any rate, any channels), FLAC, OGG, MP3, AIFF, or raw 24 kHz PCM16 (.pcm, .raw; "
        "--rate for another rate); - reads standard input (not raw PCM)",
    )
    send.add_argument(
        "--rate",
        type=_raw_rate,
        metavar="HZ",
        help="the sample rate of a raw .pcm/.raw file (default: 24000, the wire's): resampled to 24 kHz; "
        "a file with a header says its own",
    )
    send.add_argument("--json", action="store_true", help="print every frame as JSON lines instead")
    send.add_argument("--timeout", type=_seconds, default=60.0, help="seconds to wait for both sides (default: 60)")
    _add_target_flags(send, inherited=True)

    replay = sub.add_parser(
        "replay",
        help="open a recorded session: an rt-tui capture, a browser HAR file, or a JSONL of frames",
        description="Open a recorded session in the same views as a live one. Nothing connects anywhere. "
        "Captures joined with cat, or given as several files, play one after the other, as their wall clocks "
        "say (at most 5 s apart); with --json each "
        "one's t counts from its own first frame, as in its own file. A compressed recording is read "
        "through its decompressor: rt-tui replay <(zcat frames.jsonl.gz).",
    )
    replay.add_argument(
        "file",
        nargs="+",
        help="frames.jsonl (an rt-tui capture) or its session folder, a .har from DevTools, or JSONL of events; "
        "- with --json: standard input; several play one after another, in the order given (each "
        "connection's own capture after ctrl+r or through the proxy: sessions/*/frames.jsonl)",
    )
    replay.add_argument("--json", action="store_true", help="print the normalised frames as JSON lines (for jq)")
    pace = replay.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime",
        action="store_true",
        help="play at the recorded pace, except that a silence longer than 5 s is shortened to 5 s "
        "(the status counts the time skipped); p pauses, ] [ change speed",
    )
    pace.add_argument(
        "--speed",
        type=_speed,
        metavar="N",
        help=f"play N times as fast as recorded, {SPEED_RANGE[0]:g} to {SPEED_RANGE[1]:g} "
        "(silences still wait 5 s at most)",
    )

    proxy = sub.add_parser(
        "proxy",
        help="relay your own client to the service and inspect its traffic (Realtime-aware, live)",
        description="Point your own client at ws://127.0.0.1:PORT/v1/realtime?model=...: rt-tui forwards every "
        "frame both ways unchanged, adds the API key upstream for OpenAI/Azure (your client needs none), records "
        "a capture per connection and shows each session live (or --json, a line per frame).",
    )
    proxy.add_argument(
        "--listen",
        default="127.0.0.1:8766",
        metavar="HOST:PORT",
        help="where your client connects (default: %(default)s; other hosts are reachable from the network)",
    )
    proxy.add_argument("--json", action="store_true", help="headless: one JSON line per frame, findings on stderr")
    _add_target_flags(proxy, inherited=True, session=False)

    lint = sub.add_parser(
        "lint",
        help="say, in plain words, what is wrong in a recorded session (for CI)",
        description="Check a recorded session (capture, HAR or JSONL) for the mistakes that leave transcripts "
        "null or get requests refused. Exit 0: clean; 1: a finding of severity error (or of --fail-on's "
        "severity or worse); 2: unreadable input, or damaged lines in it (what could be read is still linted "
        "and said: a CI job never passes a capture with lines missing).",
    )
    lint.add_argument(
        "file",
        nargs="*",
        help="frames.jsonl (an rt-tui capture) or its session folder, a .har from DevTools, or JSONL of events; "
        "- for standard input; several are checked in turn, the status the worst",
    )
    lint.add_argument("--json", action="store_true", help="one JSON object per finding")
    lint.add_argument("--rules", action="store_true", help="list every rule: id, severity, what triggers it")
    lint.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        default="error",
        help="the least severity that makes the exit status 1 (default: error; warning also fails on a "
        "transcript that never came or came partial)",
    )

    devices = sub.add_parser(
        "devices",
        help="list the microphones and speakers rt-tui can use",
        description="List the audio devices PortAudio sees, with the index or name part to give "
        "--input-device / --output-device.",
    )
    devices.add_argument("--json", action="store_true", help="one JSON object per device")
    return parser


def run(argv: list[str]) -> int:
    """Parse `argv` and run the command."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Said by the command's own parser (its usage, `rt-tui lint: error: …`): the top-level one
        # answered `rt-tui lint a b` with the usage of every command. Exits 2, as argparse does.
        command_parser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    # First, whatever the command: the key is in argv already, even where --url is refused below.
    url_warning = warn_inline_credentials(args)
    unused = flags_before_command(argv, args.command)
    if unused:
        # As argparse refuses a flag it does not know (exit 2), in one line: silently ignored, a
        # `rt-tui --openai replay F` or `rt-tui --max-frame-mib 4 serve` looks as if it worked.
        print(
            f"rt-tui {args.command}: {', '.join(unused)} {'does' if len(unused) == 1 else 'do'} not apply to "
            f"{args.command}: {UNUSED_FLAGS_WHY[args.command]}",
            file=sys.stderr,
        )
        return 2
    if args.command == "serve":
        from tui.serve_cmd import serve

        return serve(
            args.host,
            args.port,
            args.dialect,
            api_key=args.api_key,
            api_key_file=args.api_key_file,
            scenario=args.scenario,
            max_frame_mib=args.max_frame_mib,
        )
    if args.command == "replay":
        from tui.replay_cmd import replay

        speed = args.speed if args.speed is not None else (1.0 if args.realtime else None)
        return replay(args.file, json_out=args.json, speed=speed)
    if args.command == "lint":
        from tui.replay_cmd import lint_files, list_rules

        if args.rules:
            if args.file:  # silently not checked, FILE would look clean
                print(
                    f"rt-tui lint: --rules lists the rules and checks no file: give {args.file[0]!r} or --rules, "
                    "not both",
                    file=sys.stderr,
                )
                return 2
            return list_rules(json_out=args.json)
        if not args.file:
            print("rt-tui lint: give a FILE to check (or --rules)", file=sys.stderr)
            return 2
        if args.file.count("-") > 1:
            print("rt-tui lint: - (standard input) can be read once: give it once", file=sys.stderr)
            return 2
        return lint_files(args.file, json_out=args.json, fail_on=args.fail_on)
    if args.command == "devices":
        from tui.devices_cmd import list_audio_devices

        return list_audio_devices(json_out=args.json)
    settings = _settings(args)
    if args.local_dialect and settings.target in (TargetChoice.URL, TargetChoice.OPENAI):
        # The embedded simulator's: with another target it would be ignored, and a beta test looked run.
        print(
            f"{_prefix(args)}: --local-dialect does not apply to {_target_named(args, settings)}: "
            "it picks the embedded simulator's dialect (--local, or no target and no key); the server at a URL "
            "speaks its own (rt-tui serve --dialect beta serves the beta one)",
            file=sys.stderr,
        )
        return 2
    if url_warning is not None:
        settings = dataclasses.replace(settings, startup_warnings=(url_warning,))
    warn_key_not_sent(settings, _prefix(args))
    if args.command == "proxy":
        from tui.proxy_cmd import run_proxy

        return run_proxy(settings, args.listen, json_out=args.json)
    if args.command == "send":
        from tui.send import send_file

        return send_file(args.file, settings, json_out=args.json, timeout=args.timeout, raw_rate=args.rate)
    from tui.stdout import terminal_problem

    reason = (
        target_problem(settings)
        or device_problem(settings)
        or terminal_problem("for a script, rt-tui send FILE runs a turn headless")
    )
    if reason is not None:
        print(f"{_prefix(args)}: {reason}", file=sys.stderr)
        return 2
    from tui.app import run_app

    return run_app(settings)


def target_problem(settings: Settings) -> str | None:
    """Why the app cannot use the target `settings` names (a URL that is not ws:// or wss://, --openai
    without OPENAI_API_KEY), in one line without the key; None when it can, the simulator included.

    The same check `send` and `proxy` fail on when they open the target; the app makes it before
    Textual starts, so a mistyped flag is not a full-screen UI that can never connect.
    """
    from tui.launch import remote_target
    from tui.session import TargetError

    try:
        remote_target(settings)
    except TargetError as exc:
        return str(exc)
    return None


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))


def device_problem(settings: Settings) -> str | None:
    """Why a device the user named cannot be used (no such device, or one without the channels),
    in one line listing the devices there are; None when none was named or each is found.

    Checked before Textual starts, as a target is: a mistyped name found only at the first press
    of space, inside the full-screen UI, is a turn lost."""
    if settings.input_device is None and (settings.output_device is None or not settings.playback):
        return None
    from tui.audio import AudioDeviceError, listed_devices, select_device

    try:
        devices = listed_devices()
        if settings.input_device is not None:
            select_device(devices, "input", settings.input_device)
        if settings.output_device is not None and settings.playback:
            select_device(devices, "output", settings.output_device)
    except AudioDeviceError as exc:
        return str(exc)
    return None
