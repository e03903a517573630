"""Scheduling and fault scenarios: what a connection should do differently from a healthy service.

A scenario is chosen per connection by `sim_*` query parameters on the WebSocket URL, e.g.

    ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime&sim_transcription=after_response&sim_seed=7

or for the whole server by a TOML or JSON file (`rt-tui serve --scenario FILE`,
`SimulatorConfig.scenario`) holding the same keys without the `sim_` prefix. Query parameters
override the file, key by key. Every random choice (delays, latencies, counts given as a range,
the `random` transcription order) comes from generators seeded by `seed`, so a scenario with a
seed replays the same schedule.

Keys (`sim_<key>` in a URL):

- `seed`: integer; without it each connection picks a seed of its own (logged).
- `transcription`: when input-transcription events reach the client:
  `normal` (as soon as recognized), `after_response` (after the `response.done` of the next
  response), `mid_response` (`.completed` between the deltas of the next response),
  `before_item` (after `input_audio_buffer.committed` but before `conversation.item.added`),
  `out_of_order` (turns in pairs: the second turn's transcript before the first's), or `random`
  (one of those, drawn per turn).
- `transcription_delay_ms`: extra delay after recognition, `300` or a range `200-800`.
- `hold_limit_ms`: the longest an ordering mode may hold events back waiting for its cue
  (e.g. a response that never comes), default 10000.
- `latency_ms`: delay before every server event (a slow server), `50` or `20-80`.
- `bandwidth_kbps`: an outbound bandwidth cap in kilobits per second.
- `drop_after`: drop the connection (no close frame) right after sending the n-th event of a
  type: `response.output_audio.delta:3` (n may be a range `2-5`; `*` counts every event).
- `drop_mode`: `eof` (TCP FIN without a close frame, the default) or `reset` (TCP RST).
- `stall_after`: go quiet right after sending the n-th event of a type (same form as `drop_after`):
  nothing more is sent for `stall_ms` (default 30000, or a range), then the rest follows. The
  connection stays open and pings are answered, as from a service whose model is stuck.
- `malformed`: inject `not_json` (a text frame that is not JSON), `no_type` (a JSON object
  without `type`) or both (`not_json,no_type`)...
- `malformed_after`: ...right after the n-th event of a type, default `session.created`.
  Event types are matched by their GA names (beta names are translated; a beta
  `conversation.item.created` is the GA `conversation.item.added`).
- `session_seconds`: the session expires after this many seconds: `error` `session_expired`,
  then close 1001 (also sets `expires_at`).
- `buffer_seconds`: the most audio the input buffer holds (default 600): an append past it is
  refused (`error` `invalid_value`, param `audio`), as a push-to-talk key held past the bound is.

An unknown `sim_` parameter or an invalid value refuses the connection after the upgrade:
`error` (`unknown_parameter` / `invalid_value`, `param` = the parameter) then close 4000, the
way the service refuses a bad `?model=`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from tui.protocol import to_ga
from tui.protocol.events import GA_SERVER_EVENTS

QUERY_PREFIX = "sim_"
#: Close code of a refused scenario, as for the service's `invalid_model`.
SCENARIO_CLOSE_CODE = 4000


class ScenarioError(ValueError):
    """An unknown scenario key or an invalid value; `key` names it, `code` is the error code."""

    def __init__(self, key: str, message: str, *, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.code = code


class TranscriptionOrder(StrEnum):
    """Where input-transcription events land relative to the rest of the stream."""

    NORMAL = "normal"
    AFTER_RESPONSE = "after_response"
    MID_RESPONSE = "mid_response"
    BEFORE_ITEM = "before_item"
    OUT_OF_ORDER = "out_of_order"
    RANDOM = "random"


class DropMode(StrEnum):
    """How a dropped connection ends: never with a close frame (the client sees 1006)."""

    EOF = "eof"
    """The server closes its TCP socket (FIN) after flushing what it sent."""
    RESET = "reset"
    """The server resets the TCP connection (RST)."""


class Malformed(StrEnum):
    """A broken frame the server can inject."""

    NOT_JSON = "not_json"
    NO_TYPE = "no_type"


@dataclass(frozen=True, slots=True)
class MsRange:
    """A duration in milliseconds, fixed (`low == high`) or drawn uniformly from [low, high]."""

    low: int
    high: int

    def pick(self, rng: Any) -> int:
        """One value; `rng` is a `random.Random` (untouched when the range is fixed)."""
        return self.low if self.low == self.high else int(rng.randint(self.low, self.high))

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True, slots=True)
class Trigger:
    """The n-th server event of a type (GA name; `*` = any), n fixed or drawn from a range."""

    event_type: str
    nth: MsRange = MsRange(1, 1)

    def __str__(self) -> str:
        return f"{self.event_type}:{self.nth}"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One connection's schedule and faults; the default is a healthy, in-order service."""

    seed: int | None = None
    transcription: TranscriptionOrder = TranscriptionOrder.NORMAL
    transcription_delay_ms: MsRange | None = None
    """None keeps `SimulatorConfig.transcription_delay`."""
    hold_limit_ms: int = 10_000
    latency_ms: MsRange | None = None
    bandwidth_kbps: float | None = None
    drop_after: Trigger | None = None
    drop_mode: DropMode = DropMode.EOF
    stall_after: Trigger | None = None
    stall_ms: MsRange = MsRange(30_000, 30_000)
    malformed: tuple[Malformed, ...] = ()
    malformed_after: Trigger = field(default=Trigger("session.created"))
    session_seconds: float | None = None
    """None keeps `SimulatorConfig.session_seconds`."""
    buffer_seconds: float | None = None
    """The input buffer's bound; None keeps the simulator's (`MAX_BUFFER_MS`)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, prefix: str = "") -> Scenario:
        """Parse keys (each with `prefix`, e.g. `sim_`) over the defaults; raise ScenarioError."""
        return cls().updated(data, prefix=prefix)

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]], base: Scenario | None = None) -> Scenario:
        """Apply the `sim_*` parameters of a parsed query string (`urllib.parse.parse_qs`) over `base`."""
        picked = {key: values[-1] for key, values in query.items() if key.startswith(QUERY_PREFIX) and values}
        return (base or cls()).updated(picked, prefix=QUERY_PREFIX)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a scenario file: TOML (`.toml`) or JSON (anything else); raise ScenarioError."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError("scenario", f"cannot read scenario file {path}: {exc.strerror or exc}") from None
        try:
            data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise ScenarioError("scenario", f"scenario file {path} does not parse: {exc}") from None
        if not isinstance(data, dict):
            raise ScenarioError("scenario", f"scenario file {path} must hold a table/object of keys")
        return cls.from_mapping(data)

    def updated(self, data: Mapping[str, Any], *, prefix: str = "") -> Scenario:
        """A copy with the given keys parsed and replaced."""
        changes: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = raw_key[len(prefix) :] if prefix and raw_key.startswith(prefix) else raw_key
            parser = _PARSERS.get(key) if raw_key.startswith(prefix) else None
            if parser is None:
                supported = ", ".join(prefix + name for name in _PARSERS)
                raise ScenarioError(
                    raw_key,
                    f"Unknown simulator parameter '{raw_key}'. Supported parameters are: {supported}.",
                    code="unknown_parameter",
                )
            changes[key] = parser(raw_key, value)
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        """The `sim_*` query parameters that reproduce this scenario (defaults left out)."""
        default = Scenario()
        query: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == getattr(default, item.name):
                continue
            if isinstance(value, tuple):
                text = ",".join(str(v) for v in value)
            elif isinstance(value, float) and value.is_integer():
                text = str(int(value))
            else:
                text = str(value)
            query[QUERY_PREFIX + item.name] = text
        return query


# ---- value parsers: (key as written, raw value) -> parsed value --------------------------------

#: The simulator emits GA events internally; beta's single `item.created` is GA's `item.added`.
_BETA_ITEM_ALIASES = {"conversation.item.created": "conversation.item.added"}
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def _parse_range(key: str, value: Any) -> MsRange:
    low: int
    high: int
    if isinstance(value, bool):
        raise _invalid(key, value, "a whole number of milliseconds or a range like 200-800")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value):
        low, high = value
    elif isinstance(value, str) and (match := _RANGE.match(value)):
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
    else:
        raise _invalid(key, value, "a whole number of milliseconds or a range like 200-800")
    if low < 0 or high < low:
        raise _invalid(key, value, "a range low-high with 0 <= low <= high")
    return MsRange(low, high)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_optional_range(key: str, value: Any) -> MsRange | None:
    return _parse_range(key, value)


def _parse_positive_int(key: str, value: Any) -> int:
    parsed = _parse_number(key, value)
    if not float(parsed).is_integer():
        raise _invalid(key, value, "a whole number")
    return int(parsed)


def _parse_number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _invalid(key, value, "a positive number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _invalid(key, value, "a positive number") from None
    if not number > 0 or number == float("inf"):
        raise _invalid(key, value, "a positive number")
    return number


def _parse_seed(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _invalid(key, value, "an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise _invalid(key, value, "an integer") from None


def _parse_trigger(key: str, value: Any) -> Trigger:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(key, value, "an event type with an optional count, like response.output_audio.delta:3")
    name, _, count = value.strip().partition(":")
    event_type = name if name == "*" else _BETA_ITEM_ALIASES.get(name, to_ga(name))
    if event_type != "*" and event_type not in GA_SERVER_EVENTS:
        raise _invalid(key, value, "a server event type (or *) with an optional count, like response.done:2")
    nth = _parse_range(key, count) if count else MsRange(1, 1)
    if nth.low < 1:
        raise _invalid(key, value, "a count of at least 1")
    return Trigger(event_type, nth)


def _parse_malformed(key: str, value: Any) -> tuple[Malformed, ...]:
    parts = value if isinstance(value, list) else str(value).split(",")
    kinds: list[Malformed] = []
    for part in parts:
        kinds.append(_parse_enum(Malformed, key, str(part).strip()))
    return tuple(kinds)


def _parse_enum(enum: Any, key: str, value: Any) -> Any:
    try:
        return enum(str(value).strip())
    except ValueError:
        raise _invalid(key, value, "one of: " + ", ".join(member.value for member in enum)) from None


def _invalid(key: str, value: Any, expected: str) -> ScenarioError:
    return ScenarioError(key, f"Invalid value for '{key}': {value!r}. Expected {expected}.")


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "seed": _parse_seed,
    "transcription": lambda key, value: _parse_enum(TranscriptionOrder, key, value),
    "transcription_delay_ms": _parse_optional_range,
    "hold_limit_ms": _parse_positive_int,
    "latency_ms": _parse_optional_range,
    "bandwidth_kbps": _parse_number,
    "drop_after": _parse_trigger,
    "drop_mode": lambda key, value: _parse_enum(DropMode, key, value),
    "stall_after": _parse_trigger,
    "stall_ms": _parse_range,
    "malformed": _parse_malformed,
    "malformed_after": _parse_trigger,
    "session_seconds": _parse_number,
    "buffer_seconds": _parse_number,
}
