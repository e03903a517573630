"""`rt-tui send` as session 32's review drove it: a capture that cannot be written is said as the
run starts, and the exit codes are in `send --help`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audio_helpers import espeak_wav
from tests.test_send import run_cli
from tui.server.testing import background_simulator


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak_wav("turn on the kitchen lights", tmp_path_factory.mktemp("wav") / "q.wav")


def test_a_capture_that_cannot_be_written_is_said_once_as_the_run_starts(spoken_wav: Path, tmp_path: Path) -> None:
    """The turn went well, both lines printed, then `capture failed: …` and exit 1: the reason for
    the status came last and said nothing of the turn going on without its record."""
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("")
    with background_simulator() as sim:
        done = run_cli(
            "send", str(spoken_wav), "--url", sim.url_for(), env_extra={"RT_TUI_DATA_DIR": str(not_a_folder)}
        )
    assert done.returncode == 1
    assert done.stdout.startswith("user: ") and "\nassistant: " in done.stdout
    assert done.stderr == (
        f"rt-tui send: capture failed: cannot create {not_a_folder}/sessions: Not a directory; "
        "the turn goes on unrecorded (exit 1)\n"
    )


def test_send_s_help_gives_its_exit_codes() -> None:
    said = " ".join(run_cli("send", "--help").stdout.split())
    assert "Exit 0: both came; 1: the turn did not complete" in said
    assert "2: the file or the arguments cannot be used; 130: Ctrl+C; 129: SIGHUP (its terminal closed); " in said
    assert "143: SIGTERM; after a signal, what arrived is printed and the capture closed." in said


def test_digital_silence_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    """2 s of zeros went to the server, which said `transcription failed: audio_unintelligible`
    (exit 1) and answered anyway; the app refuses the same audio from a muted microphone."""
    import numpy as np
    import soundfile

    path = tmp_path / "muted.wav"
    soundfile.write(path, np.zeros(48000, dtype=np.int16), 24000)
    done = run_cli("send", str(path), "--url", "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime")
    assert done.returncode == 2  # refused before connecting: the closed port is never tried
    assert done.stderr == (
        "rt-tui send: muted.wav holds 2.0 s of digital silence (every sample is zero): nothing to transcribe or "
        "answer; check what recorded it (a muted microphone, a conversion that wrote zeros)\n"
    )


def test_serve_refuses_an_empty_api_key_as_it_refuses_an_empty_key_file(tmp_path: Path) -> None:
    """`serve --api-key ""` warned that the key was visible in `ps`, then let every client in."""
    done = run_cli("serve", "--api-key", "", "--port", "0")
    assert done.returncode == 2
    assert done.stderr == "rt-tui serve: --api-key is empty: give the key clients must send, or leave --api-key out\n"


@pytest.mark.parametrize("port", [34013, 40103, 14031])
def test_a_port_that_holds_401_is_not_read_as_a_refused_key(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI drew port 4013x for a closed port: `connection refused by ws://127.0.0.1:4013x/…` held
    "401", and the key's hint followed a refusal that had nothing to do with a key."""
    from tui.config import Settings, TargetChoice
    from tui.send import key_hint

    for name in ("RT_TUI_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
    settings = Settings(target=TargetChoice.URL, url=url)
    assert key_hint(settings, f"connection refused by {url}: is the server running?") == ""
    refused = f"{url} rejected the WebSocket upgrade: HTTP 401 (check the API key)"
    assert key_hint(settings, refused) == " (rt-tui sent no key: for a --url, export RT_TUI_API_KEY=KEY)"


def test_send_to_the_url_serve_prints_adds_the_model_as_the_sdk_does(spoken_wav: Path, tmp_path: Path) -> None:
    """`rt-tui serve` prints `ws://…/v1/realtime` on stdout; `send --url` with it was refused with
    missing_model (review 56c). A Realtime URL that names no model gets `--model`'s, as the SDK adds it."""
    from tui.session.targets import with_model

    assert with_model("ws://h/v1/realtime", "m") == "ws://h/v1/realtime?model=m"
    assert with_model("ws://h/v1/realtime?x=1", "m") == "ws://h/v1/realtime?x=1&model=m"
    assert with_model("ws://h/v1/realtime?model=", "m") == "ws://h/v1/realtime?model="  # sent as asked
    assert with_model("ws://h/socket", "m") == "ws://h/socket"  # not a Realtime path: left alone
    azure = "wss://x.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=d"
    assert with_model(azure, "m") == azure
    with background_simulator() as sim:
        done = run_cli("send", str(spoken_wav), "--url", sim.url, env_extra={"RT_TUI_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("user: ") and "\nassistant: " in done.stdout
