"""Audio edge of rt-tui: PCM maths, file decoding, microphone capture and speaker playback.

Importing this package never imports PyAudio; it is loaded only when a device is opened.
"""

from tui.audio.capture import Microphone
from tui.audio.decode import (
    AudioDecodeError,
    DecodedAudio,
    decode_file,
    resample_pcm16,
    resample_to_pcm,
)
from tui.audio.devices import (
    AudioDeviceError,
    DeviceChoice,
    DeviceInfo,
    find_device,
    list_devices,
    listed_devices,
    open_pyaudio,
    prepare_audio,
    select_device,
    silence_native_audio_noise,
)
from tui.audio.pcm import (
    BYTES_PER_MS,
    BYTES_PER_SECOND,
    SAMPLE_RATE,
    bytes_for_ms,
    chunk_bytes,
    duration_ms,
    float_to_int16,
    float_to_pcm,
    from_b64,
    int16_to_float,
    int16_to_pcm,
    level_dbfs,
    meter_level,
    pcm_to_float,
    pcm_to_int16,
    rms_level,
    to_b64,
)
from tui.audio.playback import Speaker

__all__ = [
    "BYTES_PER_MS",
    "BYTES_PER_SECOND",
    "SAMPLE_RATE",
    "AudioDecodeError",
    "AudioDeviceError",
    "DecodedAudio",
    "DeviceChoice",
    "DeviceInfo",
    "Microphone",
    "Speaker",
    "bytes_for_ms",
    "chunk_bytes",
    "decode_file",
    "duration_ms",
    "float_to_int16",
    "float_to_pcm",
    "from_b64",
    "int16_to_float",
    "int16_to_pcm",
    "level_dbfs",
    "list_devices",
    "find_device",
    "listed_devices",
    "meter_level",
    "open_pyaudio",
    "pcm_to_float",
    "pcm_to_int16",
    "prepare_audio",
    "resample_pcm16",
    "resample_to_pcm",
    "select_device",
    "rms_level",
    "silence_native_audio_noise",
    "to_b64",
]
