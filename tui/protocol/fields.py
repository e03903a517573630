"""Defensive access to frame fields: servers (and bugs) send shapes the reference does not promise.

A frame whose `error` is a string, whose `session` is a list, or whose `content` is not a list
must never crash a reader or a view; these helpers return an empty value of the expected type.
"""

from __future__ import annotations

from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def field(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The object at `data[key]`, or an empty one."""
    return obj(data.get(key))


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in a list value (anything else is skipped)."""
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def text(value: Any) -> str:
    """A string value, or "" (numbers and other scalars are shown as text, containers are not)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def ident(value: Any) -> str | None:
    """An id (of an item, response or call): a non-empty string, else None.

    Ids key dicts and order lists; a number, list or object in an id field is not an id at all.
    """
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    """An integer value (booleans are not integers here), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_summary(data: dict[str, Any]) -> str:
    """`code: message` of an `error` event or of a `.failed` event's `error`, whatever its shape."""
    error = data.get("error")
    if isinstance(error, str):
        return error
    err = obj(error)
    code = text(err.get("code")) or text(err.get("type")) or "error"
    message = text(err.get("message"))
    return f"{code}: {message}" if message else code
