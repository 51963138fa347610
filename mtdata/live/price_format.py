"""Prices as MetaTrader shows them: to the symbol's ``digits`` (``1.05550``, not ``1.0555``) and spreads in points
(``8``, not ``8e-05``), from the symbol's specification (``digits`` and ``point``, as the wire names them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bokeh.models import HTMLTemplateFormatter

#: A DataTable price cell to its row's ``digits`` (a column of the same source; null: the shortest exact form, as
#: :func:`price_text`); empty when the price is missing.
DIGITS_TEMPLATE = (
    '<%= typeof value !== "number" || !isFinite(value) ? "" : digits == null ? String(value) : value.toFixed(digits) %>'
)


def price_digits(spec: Mapping[str, Any] | None) -> int | None:
    """The symbol's ``digits``, or None without a specification."""
    digits = spec.get("digits") if spec else None
    return None if digits is None else int(digits)


def price_text(value: float, digits: int | None) -> str:
    """``value`` to ``digits`` decimals (``1.0555`` with 5 digits: ``1.05550``); without digits, Python's shortest
    exact form (never rounded to fewer digits than the price has)."""
    return str(value) if digits is None else f"{value:.{digits}f}"


def change_text(value: float, digits: int | None) -> str:
    """A price change with its sign, to ``digits`` decimals (``+0.00012``; no change, even a rounded-off negative one,
    is ``+0.00000``)."""
    text = price_text(value, digits)
    return text if text.startswith("-") and float(text) != 0 else "+" + text.removeprefix("-")


def spread_points(bid: float, ask: float, spec: Mapping[str, Any] | None) -> int | None:
    """``ask - bid`` in the symbol's points (MetaTrader's spread), or None without a point size."""
    point = spec.get("point") if spec else None
    return round((ask - bid) / float(point)) if point else None


def price_formatter() -> HTMLTemplateFormatter:
    """A formatter of a price column whose source has a ``digits`` column (a Bokeh model: one per table)."""
    return HTMLTemplateFormatter(template=DIGITS_TEMPLATE)


__all__ = ["DIGITS_TEMPLATE", "change_text", "price_digits", "price_formatter", "price_text", "spread_points"]
