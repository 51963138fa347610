"""Argument checks that fail fast with a :class:`ValidationException` naming the argument, before any request."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ValidationException


def fail(name: str, problem: str, value: Any = None) -> ValidationException:
    """The exception for argument ``name``: ``"name must ..., got 'value'"`` with a details entry."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    detail = {"parameter": name, "value": shown, "message": problem}
    return ValidationException(f"{name} {problem}, got {shown}", [detail], status_code=None)


def text(name: str, value: Any, optional: bool = False) -> str | None:
    """A non-empty string (ids, names, symbols); None allowed when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(name, "must be a non-empty string", value)
    return value


def number(
    name: str, value: Any, minimum: float | None = None, maximum: float | None = None, optional: bool = False
) -> float | None:
    """A finite real number (bools refused) within ``[minimum, maximum]``; None allowed when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(name, "must be a number", value)
    if minimum is not None and value < minimum:
        raise fail(name, f"must be >= {minimum}", value)
    if maximum is not None and value > maximum:
        raise fail(name, f"must be <= {maximum}", value)
    return value


def integer(
    name: str, value: Any, minimum: int | None = None, maximum: int | None = None, optional: bool = False
) -> int | None:
    """An int (bools refused) within ``[minimum, maximum]``; None allowed when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(name, "must be an integer", value)
    number(name, value, minimum, maximum)
    return value


def flag(name: str, value: Any, optional: bool = False) -> bool | None:
    """A bool; None allowed when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise fail(name, "must be true or false", value)
    return value


def choice(name: str, value: Any, choices: Iterable[Any], optional: bool = False) -> Any:
    """One of ``choices``; None allowed when ``optional``."""
    allowed = tuple(choices)
    if value is None and optional:
        return None
    if isinstance(value, bool) or value not in allowed:
        raise fail(name, f"must be one of {', '.join(map(str, allowed))}", value)
    return value


def mapping(name: str, value: Any, optional: bool = False) -> dict[str, Any] | None:
    """A dict (a DTO or an options group); None allowed when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        raise fail(name, "must be a dict", value)
    return dict(value)


def either(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """One argument under two names (the seed's ``name``, another SDK's ``alias``): the one given (None if neither).

    Both given with different values is refused, naming ``alias``.
    """
    if alias_value is None:
        return value
    if value is not None and value != alias_value:
        raise fail(alias, f"repeats {name} with another value ({value!r})", alias_value)
    return alias_value


def known_keys(name: str, value: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse keys outside ``allowed`` (typos in options would otherwise be silently ignored)."""
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise fail(f"{name}.{unknown[0]}", "is not a known option", value[unknown[0]])


def one_or_many(name: str, value: Any, choices: Iterable[Any] | None = None) -> list[Any]:
    """A filter value that may be a single item or a list (sent as repeated query keys)."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise fail(name, "must not be an empty list", value)
    for item in items:
        if choices is not None:
            choice(name, item, choices)
        elif isinstance(item, bool) or not isinstance(item, str | int):
            raise fail(name, "must be a string or a list of strings", value)
    return items
