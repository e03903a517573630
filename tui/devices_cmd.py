"""`rt-tui devices`: the microphones and speakers PortAudio sees, and how to name each one."""

from __future__ import annotations

import json
import sys

from tui.audio import AudioDeviceError, DeviceInfo, listed_devices

NO_DEVICES = "no audio devices: PortAudio sees none (no sound card, or no access to it)"


def list_audio_devices(*, json_out: bool = False) -> int:
    """Print every device (a table, or with `json_out` one JSON object per line); 0, or 1 with a
    line on stderr when PortAudio cannot list them."""
    try:
        devices = listed_devices()
    except AudioDeviceError as exc:
        print(f"rt-tui devices: {exc}", file=sys.stderr)
        return 1
    if not devices:
        # Standard output stays empty (no device, no line) in both forms: a script reading the table
        # took the sentence for a device; stderr says it, so nobody takes the silence for a hang.
        print(f"rt-tui devices: {NO_DEVICES}", file=sys.stderr)
        return 0
    if json_out:
        for device in devices:
            print(json.dumps(device_record(device)))
        return 0
    print(f"{'#':>3}  {'in':>3}  {'out':>3}  {'rate':>6}  name")
    for device in devices:
        defaults = (("default input", device.default_in), ("default output", device.default_out))
        marks = [word for word, on in defaults if on]
        said = f"  ({', '.join(marks)})" if marks else ""
        print(f"{device.index:>3}  {device.max_in:>3}  {device.max_out:>3}  {device.rate:>6.0f}  {device.name}{said}")
    print("\nName one with --input-device / --output-device: its # or a part of its name.")
    return 0


def device_record(device: DeviceInfo) -> dict[str, object]:
    """A device as `--json` prints it."""
    return {
        "index": device.index,
        "name": device.name,
        "input_channels": device.max_in,
        "output_channels": device.max_out,
        "default_rate": device.rate,
        "default_input": device.default_in,
        "default_output": device.default_out,
    }
