"""Choosing the microphone and the speaker: `rt-tui devices` lists them, `--input-device` and
`--output-device` (or their environment variables) name one by index or by a part of its name,
a name that matches nothing is refused before the app starts, and the log says which device a
turn used. Real PyAudio through the fake ALSA devices (tests/alsa/fake.conf)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.app_helpers import press_voice, session_ready, views_settled, wait_for
from tests.audio_helpers import FAKE_ALSA_CONF, FifoFeeder, fake_alsa, no_card_config
from tests.server_helpers import speech_pcm24
from tests.test_cli import env_without, run_app_binary
from tui.app import RtApp
from tui.audio import AudioDeviceError, DeviceInfo, Microphone, select_device
from tui.cli import build_parser
from tui.config import Settings, TargetChoice
from tui.devices_cmd import NO_DEVICES

DEVICES = [
    DeviceInfo(0, "USB Headset: Audio (hw:1,0)", 1, 2),
    DeviceInfo(1, "Built-in Microphone", 2, 0),
    DeviceInfo(2, "Built-in Output", 0, 2),
    DeviceInfo(3, "usb", 1, 0),
]


def with_fake_alsa(**extra: str) -> dict[str, str]:
    """The environment for the real binary on the fake ALSA devices (or `extra`'s config)."""
    return env_without("OPENAI_API_KEY", "RT_TUI_URL", **{"ALSA_CONFIG_PATH": str(FAKE_ALSA_CONF), **extra})


@pytest.mark.parametrize(
    ("direction", "choice", "index"),
    [
        ("input", "1", 1),
        ("input", "built-in", 1),  # a part of a name, any case: the only input that has it
        ("output", "built-in", 2),
        ("input", "USB", 3),  # a whole name wins over names it is a part of
        ("output", "headset", 0),
        ("input", "  Built-in Microphone ", 1),
    ],
)
def test_a_device_is_named_by_index_or_by_a_part_of_its_name(direction: str, choice: str, index: int) -> None:
    assert select_device(DEVICES, direction, choice) == index


@pytest.mark.parametrize(
    ("direction", "choice", "said"),
    [
        ("input", "9", "there is no input device 9: the input devices are: 0 USB Headset"),
        ("input", "2", "device 2 (Built-in Output) has no input channels: the input devices are: 0 USB"),
        ("input", "webcam", "no input device is named like 'webcam': the input devices are: 0 USB Headset"),
        ("output", "hw:9", "no output device is named like 'hw:9'"),
        ("input", "u", "3 input devices are named like 'u' (0 USB Headset: Audio (hw:1,0), 1 Built-in"),
    ],
)
def test_a_name_that_fits_no_device_or_several_says_which_there_are(direction: str, choice: str, said: str) -> None:
    with pytest.raises(AudioDeviceError) as caught:
        select_device(DEVICES, direction, choice)
    assert str(caught.value).startswith(said) and "\n" not in str(caught.value), caught.value


def test_devices_lists_every_device_with_the_defaults_marked() -> None:
    result = run_app_binary("devices", env=with_fake_alsa())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "in", "out", "rate", "name"]
    assert any(line.split()[-1] == "fakemic" for line in lines[1:])
    assert any(line.endswith("default  (default input, default output)") for line in lines)
    listed = run_app_binary("devices", "--json", env=with_fake_alsa())
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    names = {record["name"]: record for record in records}
    assert {"fakemic", "fakespk", "default"} <= set(names)
    assert names["default"]["default_input"] is True and names["fakemic"]["default_input"] is False
    assert names["fakemic"]["input_channels"] >= 1 and names["fakemic"]["default_rate"] > 0


def test_devices_on_a_machine_without_a_sound_card_says_so(tmp_path: Path) -> None:
    result = run_app_binary("devices", env=with_fake_alsa(ALSA_CONFIG_PATH=str(no_card_config(tmp_path))))
    assert result.returncode == 0, result.stderr
    # On stderr as with --json: a script reading the table took the sentence for a device (review 55d).
    assert result.stdout == "" and result.stderr.strip() == f"rt-tui devices: {NO_DEVICES}", result
    # --json: no device, no line; stderr says so (a review read the empty output as nothing done).
    listed = run_app_binary("devices", "--json", env=with_fake_alsa(ALSA_CONFIG_PATH=str(no_card_config(tmp_path))))
    assert listed.returncode == 0 and listed.stdout == "", listed
    assert listed.stderr.strip() == f"rt-tui devices: {NO_DEVICES}"


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["--input-device", "webcam"], {}, "rt-tui: no input device is named like 'webcam': the input devices are: 0"),
        ([], {"RT_TUI_OUTPUT_DEVICE": "77"}, "rt-tui: there is no output device 77: the output devices are: 0"),
    ],
)
def test_a_device_that_is_not_there_is_refused_before_the_app_starts(
    argv: list[str], env: dict[str, str], said: str
) -> None:
    """A mistyped name was found only at the first press of space, inside the full-screen app."""
    result = run_app_binary(*argv, env=with_fake_alsa(**env))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(said) and result.stderr.count("\n") == 1, result.stderr
    assert "rt-tui devices lists them" in result.stderr


def test_device_flags_before_send_or_proxy_are_refused_as_flags_they_ignore() -> None:
    for argv, said in (
        (["--input-device", "1", "send", "f.wav"], "rt-tui send: --input-device does not apply to send"),
        (["--output-device", "x", "proxy", "--local"], "rt-tui proxy: --output-device does not apply to proxy"),
    ):
        result = run_app_binary(*argv, env=with_fake_alsa())
        assert result.returncode == 2 and result.stderr.startswith(said), result.stderr


def test_a_flag_wins_over_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli import _settings

    monkeypatch.setenv("RT_TUI_INPUT_DEVICE", "fakemic")
    monkeypatch.setenv("RT_TUI_OUTPUT_DEVICE", " ")
    settings = _settings(build_parser().parse_args(["--input-device", "2"]))
    assert (settings.input_device, settings.output_device) == ("2", None)
    settings = _settings(build_parser().parse_args([]))
    assert settings.input_device == "fakemic"
    settings = _settings(build_parser().parse_args(["--input-device", ""]))  # the default, as its help says
    assert settings.input_device is None


async def test_the_microphone_opens_the_device_named_and_says_which() -> None:
    with fake_alsa(None, None):
        mic = Microphone(device="fakemic")
        mic.start()
        try:
            assert mic.device_name == "fakemic"
        finally:
            mic.stop()
            await mic.aclose()
        with pytest.raises(AudioDeviceError, match=r"^no input device is named like 'nope'"):
            Microphone(device="nope").start()


async def test_a_turn_records_from_the_named_microphone_and_the_log_says_so(tmp_path: Path, simulator_url: str) -> None:
    with FifoFeeder(tmp_path / "mic.fifo") as feeder, fake_alsa(tmp_path / "mic.fifo", None):
        settings = Settings(target=TargetChoice.URL, url=simulator_url, playback=False, input_device="fakemic")
        app = RtApp(settings)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: session_ready(app), 10, "the session")
            await press_voice(pilot, "space")
            feeder.play(speech_pcm24("what is the weather like in London today"))
            await wait_for(pilot, feeder.played.is_set, 20, "the speech to be played")
            await press_voice(pilot, "space")
            await wait_for(
                pilot,
                lambda: any("weather" in item.text.lower() for item in app.conversation.ordered()),
                30,
                "the transcript",
            )
            await views_settled(pilot, app)
            said = [str(app.journal.data(i).get("message")) for i, f in enumerate(app.journal) if f.type == "rt.audio"]
            assert said.count("microphone: fakemic") == 1, said
    assert os.environ.get("RT_MIC_FILE") is None
