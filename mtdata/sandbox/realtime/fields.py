"""Validation of socket request fields: each helper returns a typed value or raises ValidationError naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...timeframes import MT5_TIMEFRAMES
from ..errors import ValidationError
from ..timeutil import parse_iso_ms
from ..validation import finite

if TYPE_CHECKING:
    from ..market import Market

_MISSING = object()


@contextmanager
def nested(prefix: str) -> Iterator[None]:
    """Name fields of a nested object ``prefix.field`` in the ValidationErrors raised inside."""
    try:
        yield
    except ValidationError as error:
        for detail in error.extra.get("details", []):
            detail["parameter"] = f"{prefix}.{detail['parameter']}"
        error.message = f"Validation failed: {prefix}.{error.message.removeprefix('Validation failed: ')}"
        error.args = (error.message,)
        raise


def _value(request: dict[str, Any], name: str, required: bool) -> Any:
    value = request.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise ValidationError.field(name, "is required")
        return _MISSING
    return value


def text(request: dict[str, Any], name: str, required: bool = True, max_length: int = 256) -> str | None:
    """A non-empty string field."""
    value = _value(request, name, required)
    if value is _MISSING:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValidationError.field(name, f"must be a non-empty string of at most {max_length} characters", value)
    return value


def ticket(request: dict[str, Any], name: str) -> str:
    """A required ticket id (digit string; integers are accepted and converted)."""
    value = _value(request, name, True)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not value.isdigit() or len(value) > 30:
        raise ValidationError.field(name, "must be a ticket number (a string of digits)", value)
    return value


def number(request: dict[str, Any], name: str, positive: bool = False) -> float:
    """A required finite number (``positive``: > 0)."""
    raw = _value(request, name, True)
    value = finite(raw)
    if value is None:
        raise ValidationError.field(name, "must be a number", raw)
    if positive and value <= 0:
        raise ValidationError.field(name, "must be positive", value)
    return float(value)


def integer(request: dict[str, Any], name: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int:
    """An optional integer within bounds."""
    raw = _value(request, name, False)
    if raw is _MISSING:
        return default
    value = finite(raw, integer=True)
    if value is None:
        raise ValidationError.field(name, "must be an integer", raw)
    if not minimum <= value <= maximum:
        raise ValidationError.field(name, f"must be between {minimum} and {maximum}", raw)
    return int(value)


def flag(request: dict[str, Any], name: str) -> bool:
    """An optional boolean (absent = False)."""
    value = _value(request, name, False)
    if value is _MISSING:
        return False
    if not isinstance(value, bool):
        raise ValidationError.field(name, "must be a boolean", value)
    return value


def date_ms(request: dict[str, Any], name: str, required: bool = True) -> int | None:
    """An ISO date field as epoch ms (1970..3000)."""
    value = _value(request, name, required)
    if value is _MISSING:
        return None
    return parse_iso_ms(value, name)


def array(request: dict[str, Any], name: str, required: bool = True, max_items: int = 1000) -> list[Any]:
    """A list field (absent and not required = empty list)."""
    value = _value(request, name, required)
    if value is _MISSING:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationError.field(name, f"must be an array of at most {max_items} items", value)
    return value


def obj(request: dict[str, Any], name: str) -> dict[str, Any]:
    """A required object field."""
    value = _value(request, name, True)
    if not isinstance(value, dict):
        raise ValidationError.field(name, "must be an object", value)
    return value


def symbol(request: dict[str, Any], market: Market, name: str = "symbol") -> str:
    """A symbol the market lists."""
    value = text(request, name, max_length=64)
    assert value is not None
    if value not in market.symbols():
        raise ValidationError.field(name, "is not a known symbol", value)
    return value


def symbols(request: dict[str, Any], market: Market, name: str = "symbols") -> list[str]:
    """A non-empty list of symbols the market lists."""
    values = array(request, name, max_items=1000)
    known = set(market.symbols())
    for value in values:
        if not isinstance(value, str) or value not in known:
            raise ValidationError.field(name, "must list known symbols", value)
    return list(dict.fromkeys(values))


def timeframe(request: dict[str, Any], name: str = "timeframe") -> str:
    """A MetaTrader timeframe name (§10)."""
    value = text(request, name, max_length=8)
    if value not in MT5_TIMEFRAMES:
        raise ValidationError.field(name, "is not a known timeframe", value)
    assert value is not None
    return value
