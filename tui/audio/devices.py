"""The PortAudio edge: lazy PyAudio import, quiet native libraries, readable device errors."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

INSTALL_HINT = "install PortAudio and PyAudio: `apt-get install portaudio19-dev` then `pip install pyaudio`"


class AudioDeviceError(RuntimeError):
    """An audio device could not be used; `str()` is a one-line message fit for a user."""


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as listed by `list_devices`."""

    index: int
    name: str
    max_in: int
    max_out: int
    default_in: bool = False
    """PortAudio's default input device (what rt-tui records from unless told otherwise)."""
    default_out: bool = False
    """PortAudio's default output device."""
    rate: float = 0.0
    """Its default sample rate, Hz (rt-tui records and plays 24 kHz; PortAudio converts)."""

    def channels(self, direction: str) -> int:
        """Its channels for `direction` ("input" or "output")."""
        return self.max_in if direction == "input" else self.max_out


DeviceChoice = int | str | None
"""A device as the user names it: its index, a part of its name, or None for the default."""


# alsa-lib's handler is variadic (file, line, function, err, fmt, ...); a callee that ignores the
# trailing arguments is safe with the C calling convention, so the fixed part is all we declare.
_ALSA_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
_JACK_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)


def _ignore_alsa(file: bytes | None, line: int, func: bytes | None, err: int, fmt: bytes | None) -> None:
    return None


def _ignore_jack(message: bytes | None) -> None:
    return None


# The C libraries keep raw pointers to these; if the Python objects were collected, the next
# message would jump into freed memory. Module globals live as long as the process.
_alsa_callback = _ALSA_HANDLER(_ignore_alsa)
_jack_callback = _JACK_HANDLER(_ignore_jack)
_loaded_libs: list[ctypes.CDLL] = []
_silenced = False
_silence_lock = threading.Lock()


def _load(*names: str) -> ctypes.CDLL | None:
    for name in names:
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def silence_native_audio_noise() -> None:
    """Stop alsa-lib and libjack from printing to fd 2 (they would scribble over a TUI).

    Installs no-op error/info handlers through ctypes. Idempotent and thread-safe; missing
    libraries are skipped. It never redirects fd 2, which Textual itself draws to.
    """
    global _silenced
    with _silence_lock:
        if _silenced:
            return
        alsa = _load("libasound.so.2", ctypes.util.find_library("asound") or "")
        if alsa is not None:
            alsa.snd_lib_error_set_handler.argtypes = [_ALSA_HANDLER]
            alsa.snd_lib_error_set_handler.restype = ctypes.c_int
            alsa.snd_lib_error_set_handler(_alsa_callback)
            _loaded_libs.append(alsa)
        jack = _load("libjack.so.0", ctypes.util.find_library("jack") or "")
        if jack is not None:
            for setter in ("jack_set_error_function", "jack_set_info_function"):
                fn = getattr(jack, setter, None)
                if fn is not None:
                    fn.argtypes = [_JACK_HANDLER]
                    fn.restype = None
                    fn(_jack_callback)
            _loaded_libs.append(jack)
        _silenced = True


def import_pyaudio() -> Any:
    """Import and return the `pyaudio` module, or raise AudioDeviceError saying what to install."""
    try:
        import pyaudio
    except ImportError as exc:
        raise AudioDeviceError(f"PyAudio is not available ({exc}); {INSTALL_HINT}") from exc
    return pyaudio


def prepare_audio() -> bool:
    """Import PyAudio (loading libportaudio) and silence the native noise, opening no device.

    The first push-to-talk turn of a run would otherwise pay this before capture starts, and words
    spoken in that time are lost (make bench: key to capture 10-18 ms with it, 35-37 ms without).
    PortAudio's own device scan still happens when a stream opens. Returns False when PyAudio is
    not available; the error is reported when a device is actually opened.
    """
    try:
        import_pyaudio()
    except AudioDeviceError:
        return False
    silence_native_audio_noise()
    return True


def open_pyaudio() -> Any:
    """Create a `pyaudio.PyAudio` instance with native noise silenced first.

    The caller owns it and must `terminate()` it. Raises AudioDeviceError if PyAudio is missing
    or PortAudio cannot initialise.
    """
    pyaudio = import_pyaudio()
    silence_native_audio_noise()
    try:
        return pyaudio.PyAudio()
    except OSError as exc:
        raise AudioDeviceError(f"PortAudio failed to initialise: {describe_os_error(exc)}") from exc


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees, with its input and output channel counts and which are the
    defaults."""
    pa = open_pyaudio()
    try:
        return _devices(pa, defaults=True)
    finally:
        pa.terminate()


def _devices(pa: Any, *, defaults: bool = False) -> list[DeviceInfo]:
    """The devices an open PyAudio sees (with the default ones marked when `defaults`)."""
    found = [_device_info(pa.get_device_info_by_index(i)) for i in range(pa.get_device_count())]
    if not defaults:
        return found
    marks = {}
    for direction, get in (("in", pa.get_default_input_device_info), ("out", pa.get_default_output_device_info)):
        try:
            marks[direction] = int(get()["index"])
        except (OSError, KeyError, TypeError, ValueError):
            marks[direction] = -1  # none: PortAudio raises when there is no default
    return [
        dataclasses.replace(d, default_in=d.index == marks["in"], default_out=d.index == marks["out"]) for d in found
    ]


def select_device(devices: list[DeviceInfo], direction: str, choice: str) -> int:
    """The index of the device `choice` names for `direction` ("input" or "output"): an index, a
    device's whole name, or a part of one name (case-insensitive); else AudioDeviceError, in one
    line that lists the devices there are."""
    usable = [d for d in devices if d.channels(direction) > 0]
    listed = ", ".join(f"{d.index} {d.name}" for d in usable) or "none"
    where = f"the {direction} devices are: {listed} (rt-tui devices lists them)"
    wanted = choice.strip()
    if wanted.isdigit():
        index = int(wanted)
        match = next((d for d in devices if d.index == index), None)
        if match is None:
            raise AudioDeviceError(f"there is no {direction} device {index}: {where}")
        if match.channels(direction) < 1:
            raise AudioDeviceError(f"device {index} ({match.name}) has no {direction} channels: {where}")
        return index
    folded = wanted.casefold()
    exact = [d for d in usable if d.name.casefold() == folded]
    named = exact or [d for d in usable if folded in d.name.casefold()]
    if len(named) == 1:
        return named[0].index
    if not named:
        raise AudioDeviceError(f"no {direction} device is named like {wanted!r}: {where}")
    options = ", ".join(f"{d.index} {d.name}" for d in named)
    raise AudioDeviceError(f"{len(named)} {direction} devices are named like {wanted!r} ({options}): give its index")


def describe_os_error(exc: OSError) -> str:
    """PortAudio's OSError as `message (PortAudio error N)`; PyAudio packs (code, message) in args."""
    if len(exc.args) >= 2 and isinstance(exc.args[0], int):
        return f"{exc.args[1]} (PortAudio error {exc.args[0]})"
    return str(exc) or type(exc).__name__


def resolve_device(pa: Any, direction: str, index: DeviceChoice) -> int:
    """The device index to open for `direction` ("input" or "output"), or AudioDeviceError:
    `index` names it (a number, or by name: `select_device`), None takes the default.

    Checks up front so a missing device yields "no input device (PortAudio sees none)" instead of PortAudio's
    misleading "Invalid input device (no default output device)".
    """
    count = int(pa.get_device_count())
    key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    if count == 0:
        raise AudioDeviceError(f"no {direction} device (PortAudio sees none)")  # short: the recorder line shows it
    if isinstance(index, str):
        return select_device(_devices(pa), direction, index)
    if index is not None:
        if not 0 <= index < count:
            raise AudioDeviceError(f"{direction} device index {index} does not exist (PortAudio sees {count})")
        if int(pa.get_device_info_by_index(index)[key]) < 1:
            name = pa.get_device_info_by_index(index)["name"]
            raise AudioDeviceError(f"device {index} ({name}) has no {direction} channels")
        return index
    try:
        info = pa.get_default_input_device_info() if direction == "input" else pa.get_default_output_device_info()
    except OSError as exc:
        usable = sum(1 for i in range(count) if int(pa.get_device_info_by_index(i)[key]) > 0)
        raise AudioDeviceError(
            f"no default {direction} device found (PortAudio sees {count} devices, {usable} with {direction})"
        ) from exc
    return int(info["index"])


def _device_info(raw: dict[str, Any]) -> DeviceInfo:
    return DeviceInfo(
        index=int(raw["index"]),
        name=str(raw["name"]),
        max_in=int(raw["maxInputChannels"]),
        max_out=int(raw["maxOutputChannels"]),
        rate=float(raw.get("defaultSampleRate") or 0.0),
    )


def device_name(pa: Any, index: int) -> str:
    """The name PortAudio gives device `index` ("" if it cannot say)."""
    try:
        return str(pa.get_device_info_by_index(index)["name"])
    except (OSError, KeyError, TypeError, ValueError):
        return ""


_PA_INT16 = 8
"""pyaudio.paInt16, spelled out so this module does not import pyaudio at import time."""

OPEN_TIMEOUT = 5.0
"""Seconds a device may take to open before rt-tui gives up on it. PortAudio's init scans every
device and can block for good in a stuck one (an audio server that does not answer, a device file
that never opens): space waited on it, and with it every key, ctrl+q included, for ever; and the
thread it ran in, one of asyncio's, kept the process from exiting."""

_T = TypeVar("_T")


class _GaveUp(Exception):
    """A device call that did not return within OPEN_TIMEOUT (told apart from what the call raises)."""


_stuck: threading.Thread | None = None
"""An open given up on that has not returned yet: PortAudio is still busy in it, so no other open
is started beside it (its calls are not made to run side by side)."""


def _within_open_timeout(work: Callable[[], _T], name: str, late: Callable[[_T], None] | None = None) -> _T:
    """`work()`'s result (or its exception), run in a daemon thread of its own, if it returns within
    OPEN_TIMEOUT; else `_GaveUp`, the thread left to PortAudio (a stuck native call cannot be
    stopped; `_stuck` keeps it, so no other call starts beside it) and a result that comes after
    handed to `late`, to be released."""
    global _stuck
    lock = threading.Lock()
    outcome: list[tuple[bool, Any]] = []  # (returned, its value or the exception raised)
    given_up = False
    finished = threading.Event()

    def run() -> None:
        try:
            result: tuple[bool, Any] = (True, work())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as it is
            result = (False, exc)
        with lock:
            if not given_up:
                outcome.append(result)
                finished.set()
                return
        if result[0] and late is not None:
            with contextlib.suppress(Exception):
                late(result[1])

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    finished.wait(OPEN_TIMEOUT)
    with lock:
        if not outcome:
            given_up = True
            _stuck = thread
            raise _GaveUp(name)
    returned, value = outcome[0]
    if not returned:
        raise value
    return cast("_T", value)


def open_stream(
    direction: str, *, rate: int, frames_per_buffer: int, device_index: DeviceChoice, callback: Any
) -> tuple[Any, Any, str]:
    """Open a mono int16 callback stream on `direction` ("input" or "output") on the device
    `device_index` names (None: the default); returns (pyaudio, stream, the device's name).

    PyAudio is released again if the stream cannot be opened, so a failed open leaks nothing. An open
    that takes over OPEN_TIMEOUT raises AudioDeviceError; it goes on in a daemon thread (a stuck
    native call cannot be stopped), which releases what it opens if it ever returns.
    """
    if _stuck is not None and _stuck.is_alive():
        raise AudioDeviceError(
            "the audio system is still stuck opening a device (PortAudio has not answered): "
            "check the audio server or device, or restart rt-tui"
        )

    def opening() -> tuple[Any, Any, str]:
        return _open_stream_now(
            direction, rate=rate, frames_per_buffer=frames_per_buffer, device_index=device_index, callback=callback
        )

    def release(opened: tuple[Any, Any, str]) -> None:  # nobody took it: released, so the device is free again
        close_stream(opened[0], opened[1])

    try:
        return _within_open_timeout(opening, f"rt-audio-open-{direction}", release)
    except _GaveUp:
        raise AudioDeviceError(
            f"the {direction} device did not open within {OPEN_TIMEOUT:.0f} s (PortAudio is stuck in it)"
        ) from None


def _open_stream_now(
    direction: str, *, rate: int, frames_per_buffer: int, device_index: DeviceChoice, callback: Any
) -> tuple[Any, Any, str]:
    """`open_stream`'s work, in the calling thread."""
    pa = open_pyaudio()
    try:
        index = resolve_device(pa, direction, device_index)
        stream = pa.open(
            format=_PA_INT16,
            channels=1,
            rate=rate,
            frames_per_buffer=frames_per_buffer,
            stream_callback=callback,
            **{direction: True, f"{direction}_device_index": index},
        )
    except OSError as exc:
        pa.terminate()
        raise AudioDeviceError(f"cannot open {direction} device: {describe_os_error(exc)}") from exc
    except BaseException:
        pa.terminate()
        raise
    return pa, stream, device_name(pa, index)


def listed_devices() -> list[DeviceInfo]:
    """`list_devices`, given up after OPEN_TIMEOUT with AudioDeviceError (PortAudio's scan can
    block for good in a stuck device: a command must not wait on it for ever)."""
    return _scan_within_timeout(list_devices, "rt-audio-list")


def _scan_within_timeout(scan: Callable[[], _T], name: str) -> _T:
    """`scan()` (PortAudio started, its devices looked at, stopped again), refused while an open
    given up on is still stuck, and given up after OPEN_TIMEOUT, each with AudioDeviceError."""
    if _stuck is not None and _stuck.is_alive():
        raise AudioDeviceError("the audio system is still stuck opening a device (PortAudio has not answered)")
    try:
        return _within_open_timeout(scan, name)
    except _GaveUp:
        raise AudioDeviceError(
            f"PortAudio did not list the devices within {OPEN_TIMEOUT:.0f} s (a device or the audio server is stuck)"
        ) from None


def find_device(direction: str, device_index: DeviceChoice) -> str:
    """The name of the device a stream on `direction` ("input" or "output") would open for
    `device_index` (None: the default), found as `open_stream` finds it but not opened; else
    AudioDeviceError with the words `open_stream` would say. Given up after OPEN_TIMEOUT, as
    `listed_devices` is."""

    def finding() -> str:
        pa = open_pyaudio()
        try:
            return device_name(pa, resolve_device(pa, direction, device_index))
        finally:
            pa.terminate()

    return _scan_within_timeout(finding, f"rt-audio-find-{direction}")


def close_stream(pa: Any, stream: Any) -> None:
    """Stop, then close, a stream and release PyAudio. Stopping first joins PortAudio's thread, so no
    callback can race with the close.

    Gives up after OPEN_TIMEOUT with a TimeoutError (an OSError, as a device's failure to close is),
    the rest left to a daemon thread: a device that went quiet (it delivers nothing more, so
    PortAudio's thread waits in its read for ever) held the turn's send, every key after it and quit.
    """
    if pa is None and stream is None:
        return
    try:
        _within_open_timeout(lambda: _close_stream_now(pa, stream), "rt-audio-close")
    except _GaveUp:
        raise TimeoutError(
            f"the audio device did not stop within {OPEN_TIMEOUT:.0f} s (PortAudio is stuck in it)"
        ) from None


def _close_stream_now(pa: Any, stream: Any) -> None:
    """`close_stream`'s work, in the calling thread."""
    if stream is not None:
        try:
            stream.stop_stream()
        finally:
            stream.close()
    if pa is not None:
        pa.terminate()
