"""Client errors: the exception handlers raise, and the `error` event it becomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tui.protocol import json_type_name


class ProtocolError(Exception):
    """A client mistake reported as an `error` event; the socket stays open.

    `code`, `message` and `param` follow the service's error object (protocol reference §7).
    """

    def __init__(
        self,
        code: str | None,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type

    def payload(self, client_event_id: str | None) -> dict[str, Any]:
        """The `error` object of the server event, echoing the offending client event's id."""
        return {
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "event_id": client_event_id,
        }


def missing_parameter(param: str) -> ProtocolError:
    """A required field is absent."""
    return ProtocolError("missing_required_parameter", f"Missing required parameter: '{param}'.", param=param)


def invalid_value(param: str, value: Any, supported: Sequence[Any] | None = None) -> ProtocolError:
    """A field holds a value the service does not accept."""
    message = f"Invalid value: {_show(value)}."
    if supported:
        message += " Supported values are: " + _join_quoted(supported) + "."
    return ProtocolError("invalid_value", message, param=param)


def unknown_parameter(param: str) -> ProtocolError:
    """A field the service does not know; the whole event is discarded."""
    return ProtocolError("unknown_parameter", f"Unknown parameter: '{param}'.", param=param)


def below_minimum(param: str, value: int | float, minimum: int | float) -> ProtocolError:
    """A number under its lower bound (`integer_…` or `decimal_below_min_value`, as the service says)."""
    kind = "integer" if isinstance(value, int) and isinstance(minimum, int) else "decimal"
    return ProtocolError(
        f"{kind}_below_min_value",
        f"Invalid '{param}': {kind} below minimum value. Expected a value >= {minimum}, but got {value} instead.",
        param=param,
    )


def above_maximum(param: str, value: int | float, maximum: int | float) -> ProtocolError:
    """A number over its upper bound (`integer_…` or `decimal_above_max_value`)."""
    kind = "integer" if isinstance(value, int) and isinstance(maximum, int) else "decimal"
    return ProtocolError(
        f"{kind}_above_max_value",
        f"Invalid '{param}': {kind} above maximum value. Expected a value <= {maximum}, but got {value} instead.",
        param=param,
    )


def string_too_long(param: str, length: int, maximum: int) -> ProtocolError:
    """A string over its maximum length (the service's wording, e.g. for a tool description)."""
    return ProtocolError(
        "string_above_max_length",
        f"Invalid '{param}': string too long. Expected a string with maximum length {maximum}, "
        f"but got a string with length {length} instead.",
        param=param,
    )


def invalid_type(param: str, value: Any, expected: str) -> ProtocolError:
    """A field holds a value of the wrong JSON type."""
    return ProtocolError(
        "invalid_type",
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
        param=param,
    )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _join_quoted(values: Sequence[Any]) -> str:
    quoted = [_show(v) for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _json_type(value: Any) -> str:
    """`a string`, `an array`, `null`: the JSON type of `value` as the service's message names it."""
    name = json_type_name(value)
    if name == "null":
        return name
    if name not in ("boolean", "number", "string", "array"):
        name = "object"  # anything else a decoded frame holds is an object
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"
