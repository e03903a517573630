"""Command-line parsing: flags mean the same before and after the subcommand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import _settings, build_parser
from tui.config import TargetChoice


@pytest.mark.parametrize(
    ("argv", "target", "url", "model", "transcription"),
    [
        (["--local", "send", "f.wav"], TargetChoice.LOCAL, None, "gpt-realtime", "gpt-4o-transcribe"),
        (["send", "f.wav", "--local"], TargetChoice.LOCAL, None, "gpt-realtime", "gpt-4o-transcribe"),
        (["send", "f.wav"], TargetChoice.AUTO, None, "gpt-realtime", "gpt-4o-transcribe"),
        (
            ["--url", "ws://h:1/v1/realtime", "send", "f.wav", "--no-transcription"],
            TargetChoice.URL,
            "ws://h:1/v1/realtime",
            "gpt-realtime",
            None,
        ),
        (["--model", "m1", "send", "f.wav"], TargetChoice.AUTO, None, "m1", "gpt-4o-transcribe"),
        (
            ["send", "f.wav", "--model", "m2", "--transcription-model", "whisper-1"],
            TargetChoice.AUTO,
            None,
            "m2",
            "whisper-1",
        ),
        (["--openai"], TargetChoice.OPENAI, None, "gpt-realtime", "gpt-4o-transcribe"),
    ],
)
def test_flags_before_or_after_send(
    argv: list[str], target: TargetChoice, url: str | None, model: str, transcription: str | None
) -> None:
    settings = _settings(build_parser().parse_args(argv))
    assert (settings.target, settings.url, settings.model, settings.transcription_model) == (
        target,
        url,
        model,
        transcription,
    )


def test_target_flags_are_exclusive() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--local", "--openai"])


@pytest.mark.parametrize(
    ("argv", "mib"),
    [
        ([], 16),
        (["--max-frame-mib", "64"], 64),
        (["--max-frame-mib", "2", "send", "f.wav"], 2),
        (["send", "f.wav", "--max-frame-mib", "3"], 3),
    ],
)
def test_the_frame_limit_flag_works_for_the_app_and_send(argv: list[str], mib: int) -> None:
    assert _settings(build_parser().parse_args(argv)).max_frame_bytes == mib * 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots", "5000"])
def test_a_bad_frame_limit_is_refused_by_the_parser(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--max-frame-mib", value])
    assert "--max-frame-mib" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["serve", "--port", "99999"], "99999 is not a port: 0 to 65535"),
        (["serve", "--port", "-1"], "-1 is not a port"),
        (["serve", "--port", "http"], "not a port number: 'http'"),
        (["send", "f.wav", "--timeout", "0"], "the timeout must be a positive number of seconds"),
        (["send", "f.wav", "--timeout", "-5"], "the timeout must be a positive number of seconds"),
        (["send", "f.wav", "--timeout", "soon"], "not a number of seconds: 'soon'"),
    ],
)
def test_a_bad_port_or_timeout_is_refused_by_the_parser(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port out of range was a traceback from bind(); a non-positive timeout failed only later."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2 and said in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "0.2", "65", "1e9"])
def test_a_replay_speed_the_app_cannot_keep_is_refused_by_the_parser(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """0, negatives, nan and inf played as ×0, ×-1, ×nan; past 0.25 to 64, ] or [ (which keep to that
    range) would have moved the speed the wrong way."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["replay", "f.jsonl", f"--speed={value}"])
    assert exited.value.code == 2
    assert f"argument --speed: {value}: the speed must be a number from 0.25 to 64" in capsys.readouterr().err


def test_rt_tui_url_is_the_target_when_no_target_flag_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = "wss://example.test/v1/realtime?model=m&api-key=from-the-environment"
    monkeypatch.setenv("RT_TUI_URL", from_env)
    settings = _settings(build_parser().parse_args(["send", "f.wav"]))
    assert (settings.target, settings.url) == (TargetChoice.URL, from_env)
    # A flag still wins: flags over environment.
    assert _settings(build_parser().parse_args(["--local"])).target is TargetChoice.LOCAL
    flag = _settings(build_parser().parse_args(["--url", "ws://h:1/v1/realtime"]))
    assert (flag.target, flag.url) == (TargetChoice.URL, "ws://h:1/v1/realtime")
    monkeypatch.setenv("RT_TUI_URL", "  ")
    assert _settings(build_parser().parse_args([])).target is TargetChoice.AUTO


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("wss://u:hunter2-long@example.test/v1/realtime", "a password"),
        ("wss://x.openai.azure.com/openai/v1/realtime?model=m&api-key=abc123456", "api-key="),
        ("wss://example.test/v1/realtime?model=m&sig=ab%2Bcd%3D", "sig="),
    ],
)
def test_credentials_inline_in_url_get_a_one_line_warning_without_them(
    url: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import warn_inline_credentials

    warn_inline_credentials(build_parser().parse_args(["--url", url]))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "RT_TUI_URL" in err and "ps" in err
    assert "hunter2" not in err and "abc123456" not in err and "ab%2Bcd" not in err


def test_a_url_without_credentials_gets_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import warn_inline_credentials

    warn_inline_credentials(build_parser().parse_args(["--url", "wss://user@example.test/v1/realtime?model=m"]))
    warn_inline_credentials(build_parser().parse_args(["--url", "ws://[::1/broken"]))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("preset", "expected"), [(None, "240"), ("30", "30")])
def test_the_binary_asks_textual_for_240_paints_a_second_unless_the_user_chose(
    preset: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key's effect waits one to two paint periods after the last paint: the console script
    shortens Textual's default (60 a second), and a user's own TEXTUAL_FPS wins."""

    from tui.__main__ import main

    monkeypatch.setenv("TEXTUAL_FPS", preset or "unset")  # recorded, so the teardown restores it
    if preset is None:
        monkeypatch.delenv("TEXTUAL_FPS")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert os.environ["TEXTUAL_FPS"] == expected


def test_serve_help_lists_every_scenario_key_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    """The keys are written out for `--help` (the parser must not import the simulator): held to
    the scenario's own fields, so a new key cannot go undocumented."""
    import dataclasses
    import re

    from tui.cli import SCENARIO_KEYS
    from tui.server.scenario import Scenario

    listed = set(re.findall(r"^  ([a-z_]+) ", SCENARIO_KEYS, re.MULTILINE))
    assert listed == {f.name for f in dataclasses.fields(Scenario)}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    assert "session_seconds" in capsys.readouterr().out


def test_the_proxy_offers_no_session_flags_it_would_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    """Your client configures a proxied session; flags for rt-tui's own session are not offered."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["proxy", "--help"])
    shown = capsys.readouterr().out
    assert "--local" in shown and "--voice" not in shown and "--transcription-model" not in shown
    with pytest.raises(SystemExit):
        build_parser().parse_args(["proxy", "--voice", "marin"])
    assert "unrecognized arguments: --voice" in capsys.readouterr().err
    args = build_parser().parse_args(["proxy", "--local"])
    assert _settings(args).target is TargetChoice.LOCAL  # the session fields take the app's defaults


def run_app_binary(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real `rt-tui` console script with no subcommand (the app), stdin closed: one that
    started Textual instead of refusing would run until the timeout fails the test."""
    binary = shutil.which("rt-tui", path=str(Path(sys.executable).parent)) or "rt-tui"
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL
    )


def env_without(*names: str, **extra: str) -> dict[str, str]:
    """This process's environment without `names` (the app's target choice reads them), plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in names}, **extra}


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8765/v1/realtime?api-key=url-secret-1", "not a WebSocket URL"),
        ("ws://127.0.0.1:99999/v1/realtime?api-key=url-secret-1", "Port out of range"),
        ("ws://[::1/v1/realtime?api-key=url-secret-1", "Invalid IPv6 URL"),
    ],
)
def test_the_app_refuses_a_url_it_cannot_use_in_one_line_without_starting_the_ui(url: str, why: str) -> None:
    """As `send` does (tests/test_send.py): exit 2, one line, no key of any kind in it."""
    key = "app-key-secret-0123456789"
    env = env_without("RT_TUI_URL", OPENAI_API_KEY=key, RT_TUI_API_KEY=key)
    for argv, environment in ((["--url", url], env), ([], {**env, "RT_TUI_URL": url})):
        result = run_app_binary(*argv, env=environment)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("rt-tui: ") and result.stderr.strip().count("\n") == 0, result.stderr
        assert why in result.stderr and "Traceback" not in result.stderr
        assert "url-secret-1" not in result.stderr and key not in result.stderr
        assert result.stdout == ""  # no screen was drawn


def test_the_app_refuses_openai_without_a_key_before_starting_the_ui() -> None:
    result = run_app_binary("--openai", env=env_without("OPENAI_API_KEY", "RT_TUI_URL"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("rt-tui: OPENAI_API_KEY is not set") and result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("argv", "environment"),
    [
        ([], {}),  # no flag, no key: the embedded simulator
        (["--local"], {"OPENAI_API_KEY": "sk-app-test"}),
        ([], {"OPENAI_API_KEY": "sk-app-test"}),  # no flag, a key: OpenAI
        (["--openai"], {"OPENAI_API_KEY": "sk-app-test"}),
        (["--url", "wss://example.test/v1/realtime?model=m"], {}),
    ],
)
def test_the_app_starts_for_every_usable_target_the_simulator_included(
    argv: list[str], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check connects nowhere and starts nothing: the embedded simulator is the app's own to start."""
    from tui.cli import target_problem

    for name in ("OPENAI_API_KEY", "RT_TUI_URL", "RT_TUI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert target_problem(_settings(build_parser().parse_args(argv))) is None


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["--openai", "replay", "f.jsonl"],
            "rt-tui replay: --openai does not apply to replay: a replay never connects",
        ),
        (["--local", "--voice", "marin", "lint", "f.jsonl"], "rt-tui lint: --local, --voice do not apply to lint: "),
        (["--url", "ws://h:1/v1/realtime", "replay", "f.jsonl", "--json"], "rt-tui replay: --url does not apply"),
        (["--no-playback", "lint", "--rules"], "rt-tui lint: --no-playback does not apply to lint"),
        (["--max-frame-mib", "4", "serve"], "rt-tui serve: --max-frame-mib does not apply to serve: the simulator"),
        (["--voice", "marin", "proxy", "--local"], "rt-tui proxy: --voice does not apply to proxy: your client"),
        (
            ["send", "f.wav", "--local-dialect", "beta", "--url", "ws://127.0.0.1:9/v1/realtime"],
            "rt-tui send: --local-dialect does not apply to --url: it picks the embedded simulator's dialect",
        ),
        (
            ["--local-dialect", "beta", "proxy", "--openai"],
            "rt-tui proxy: --local-dialect does not apply to --openai",
        ),
    ],
)
def test_flags_a_command_would_ignore_are_refused_in_one_line(argv: list[str], said: str) -> None:
    """`rt-tui --openai replay F` replayed as if the flag meant something; `rt-tui --max-frame-mib 4
    serve` served with 16. Refused as argparse refuses a flag it does not know (exit 2), before
    anything starts (serve and proxy would otherwise run until the timeout)."""
    result = run_app_binary(*argv, env=dict(os.environ))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(said) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["--local", "send", "f.wav", "--voice", "marin"],
        ["--url", "ws://h:1/v1/realtime", "--model", "m", "proxy", "--json"],
        ["proxy", "--local", "--max-frame-mib", "2"],
        ["serve", "--max-frame-mib", "3", "--port", "0"],
        ["replay", "--json", "f.jsonl"],
        ["lint", "--rules"],
    ],
)
def test_flags_a_command_takes_are_not_refused(argv: list[str]) -> None:
    from tui.cli import flags_before_command

    args = build_parser().parse_args(argv)
    assert flags_before_command(argv, args.command) == []


def test_lint_rules_with_json_prints_json_and_with_a_file_is_refused() -> None:
    """`lint --rules --json` printed the text table; `lint --rules F` listed the rules and checked
    nothing, so F looked clean (exit 0)."""
    import json

    from tui.lint import RULES

    listed = run_app_binary("lint", "--rules", "--json", env=dict(os.environ))
    assert listed.returncode == 0, listed.stderr
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [record["rule"] for record in records] == list(RULES)
    assert all(set(record) == {"rule", "severity", "trigger"} for record in records)
    both = run_app_binary("lint", "--rules", "some.jsonl", env=dict(os.environ))
    assert both.returncode == 2 and both.stdout == ""
    assert (
        both.stderr.startswith("rt-tui lint: --rules lists the rules and checks no file")
        and "some.jsonl" in both.stderr
    )
    assert both.stderr.count("\n") == 1


def test_lint_of_one_frame_says_frame(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text('{"type": "session.created", "session": {"id": "sess_1"}}\n')
    result = run_app_binary("lint", str(one), env=dict(os.environ))
    assert result.stdout.endswith("one.jsonl: 1 frame (jsonl), 0 findings, 0 errors\n"), (result.stdout, result.stderr)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([], "rt-tui: the app needs a terminal, and standard input or output is not one: for a script, rt-tui send"),
        (["replay", "RECORDING"], "rt-tui replay: the app needs a terminal, and standard input or output is not one"),
        (["proxy", "--local", "--listen", "127.0.0.1:0"], "rt-tui proxy: the app needs a terminal"),
    ],
)
def test_the_app_without_a_terminal_says_so_instead_of_waiting_for_ever(
    argv: list[str], said: str, tmp_path: Path
) -> None:
    """In CI (stdin and stdout not a terminal) `rt-tui replay FILE` wrote 39 KB of escape codes to
    its output and waited for keys for ever; so did the app and the proxy's app."""
    recording = tmp_path / "r.jsonl"
    recording.write_text('{"type":"session.created","session":{}}\n')
    argv = [str(recording) if arg == "RECORDING" else arg for arg in argv]
    result = run_app_binary(*argv, env=env_without("OPENAI_API_KEY", "RT_TUI_URL"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(said) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("argv", "usage", "said"),
    [
        (["lint", "a.jsonl", "--bogus"], "usage: rt-tui lint ", "rt-tui lint: error: unrecognized arguments: --bogus"),
        (["send", "q.wav", "--bogus"], "usage: rt-tui send ", "rt-tui send: error: unrecognized arguments: --bogus"),
    ],
)
def test_an_argument_a_command_does_not_take_is_refused_with_that_command_s_usage(
    argv: list[str], usage: str, said: str
) -> None:
    """An argument a command does not take was answered with the usage of every command."""
    result = run_app_binary(*argv, env=env_without("OPENAI_API_KEY"))
    assert result.returncode == 2
    assert result.stderr.startswith(usage) and result.stderr.rstrip().endswith(said), result.stderr


def test_replay_without_a_terminal_says_first_what_is_wrong_with_the_file(tmp_path: Path) -> None:
    """A missing file, or a file that is no recording, is what a script must hear about: it was told
    that the app needs a terminal, and went after the wrong problem (review 54b)."""
    wav = tmp_path / "q.wav"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    for path, said in ((tmp_path / "nothere.jsonl", "No such file"), (wav, "q.wav")):
        result = run_app_binary("replay", str(path), env=env_without("OPENAI_API_KEY", "RT_TUI_URL"))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("rt-tui replay: ") and said in result.stderr, result.stderr
        assert "needs a terminal" not in result.stderr
