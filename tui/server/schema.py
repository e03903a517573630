"""A small declarative validator for client payloads, reporting errors the way the service does.

A schema is a `Check`: a function of (value, dotted path) that raises ProtocolError for the first
problem it finds. Objects reject fields they do not declare (`unknown_parameter`), which is what
makes the GA server strict (protocol reference §1.6): the path in `param` is the full dotted
path, e.g. `session.audio.input.bogus` or `session.tools[0].name`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import (
    ProtocolError,
    above_maximum,
    below_minimum,
    invalid_type,
    invalid_value,
    missing_parameter,
    string_too_long,
    unknown_parameter,
)

Check = Callable[[Any, str], None]

_METADATA_PAIRS = 16
_METADATA_KEY_CHARS = 64
_METADATA_VALUE_CHARS = 512


def obj(fields: Mapping[str, Check], *, required: Iterable[str] = ()) -> Check:
    """A JSON object with exactly these optional fields (plus `required` ones, which must be there).

    Required fields are checked before unknown ones: a beta-shaped `session.update` without
    `session.type` gets `missing_required_parameter`, not `unknown_parameter` (TanStack/ai#586).
    """
    needed = tuple(required)

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise invalid_type(path, value, "an object")
        for key in needed:
            if key not in value:
                raise missing_parameter(_join(path, key))
        for key in value:
            if key not in fields:
                raise unknown_parameter(_join(path, key))
        for key, sub in value.items():
            fields[key](sub, _join(path, key))

    return check


def tagged(variants: Mapping[str, Check], *, tag: str = "type", default: str | None = None) -> Check:
    """An object whose `tag` field picks its schema (e.g. `turn_detection.type`)."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise invalid_type(path, value, "an object")
        kind = value.get(tag, default)
        if kind is None:
            raise missing_parameter(_join(path, tag))
        variant = variants.get(kind) if isinstance(kind, str) else None
        if variant is None:
            raise invalid_value(_join(path, tag), kind, list(variants))
        variant(value, path)

    return check


def by_json_type(
    *,
    string: Check | None = None,
    mapping: Check | None = None,
    array: Check | None = None,
    expected: str,
) -> Check:
    """A value that may be a string, an object or an array, each with its own schema (e.g. a voice)."""

    def check(value: Any, path: str) -> None:
        if isinstance(value, str) and string is not None:
            string(value, path)
        elif isinstance(value, dict) and mapping is not None:
            mapping(value, path)
        elif isinstance(value, list) and array is not None:
            array(value, path)
        else:
            raise invalid_type(path, value, expected)

    return check


def values_of(inner: Check) -> Check:
    """A JSON object with keys of the client's choosing, each value passing `inner`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise invalid_type(path, value, "an object")
        for key, item in value.items():
            inner(item, _join(path, key))

    return check


def nullable(inner: Check) -> Check:
    """`inner`, or null."""

    def check(value: Any, path: str) -> None:
        if value is not None:
            inner(value, path)

    return check


def anything(value: Any, path: str) -> None:
    """Any JSON value (free-form fields such as tool `parameters`)."""


def text(value: Any, path: str) -> None:
    """A string."""
    if not isinstance(value, str):
        raise invalid_type(path, value, "a string")


def short_text(max_length: int) -> Check:
    """A string of at most `max_length` characters."""

    def check(value: Any, path: str) -> None:
        text(value, path)
        if len(value) > max_length:
            raise string_too_long(path, len(value), max_length)

    return check


def metadata(value: Any, path: str) -> None:
    """Request metadata: null, or at most 16 string values under keys of at most 64 characters
    (values at most 512), as the SDK's `Metadata` (`Dict[str, str]`) and its docs say."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(path, value, "an object")
    if len(value) > _METADATA_PAIRS:
        raise ProtocolError(
            "object_above_max_properties",
            f"Invalid '{path}': too many properties. Expected an object with at most {_METADATA_PAIRS} "
            f"properties, but got an object with {len(value)} properties instead.",
            param=path,
        )
    for key, item in value.items():
        if len(key) > _METADATA_KEY_CHARS:
            raise ProtocolError(
                "string_above_max_length",
                f"Invalid '{path}': key too long. Expected keys with maximum length {_METADATA_KEY_CHARS}, "
                f"but got a key with length {len(key)} instead.",
                param=path,
            )
        short_text(_METADATA_VALUE_CHARS)(item, _join(path, key))


def string_map(value: Any, path: str) -> None:
    """A JSON object of string values (e.g. HTTP headers)."""
    values_of(text)(value, path)


def boolean(value: Any, path: str) -> None:
    """true or false."""
    if not isinstance(value, bool):
        raise invalid_type(path, value, "a boolean")


def free_object(value: Any, path: str) -> None:
    """Any JSON object."""
    if not isinstance(value, dict):
        raise invalid_type(path, value, "an object")


def enum(*values: str) -> Check:
    """One of these strings."""
    allowed = list(values)

    def check(value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise invalid_type(path, value, "a string")
        if value not in allowed:
            raise invalid_value(path, value, allowed)

    return check


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """An integer within optional bounds."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid_type(path, value, "an integer")
        _bounds(value, path, minimum, maximum)

    return check


def number(*, minimum: float | None = None, maximum: float | None = None) -> Check:
    """A number (integer or decimal) within optional bounds."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise invalid_type(path, value, "a number")
        # Integers are always finite, and one past float's range would overflow `isfinite`.
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid_value(path, value)
        _bounds(value, path, minimum, maximum)

    return check


def array(items: Check, *, max_items: int | None = None) -> Check:
    """A JSON array whose entries all pass `items`; entry paths read `path[index]`."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise invalid_type(path, value, "an array")
        if max_items is not None and len(value) > max_items:
            raise ProtocolError(
                "array_above_max_length",
                f"Invalid '{path}': array too long. Expected an array with maximum length {max_items}, "
                f"but got an array with length {len(value)} instead.",
                param=path,
            )
        for index, entry in enumerate(value):
            items(entry, f"{path}[{index}]")

    return check


def _bounds(value: int | float, path: str, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise below_minimum(path, value, minimum)
    if maximum is not None and value > maximum:
        raise above_maximum(path, value, maximum)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
