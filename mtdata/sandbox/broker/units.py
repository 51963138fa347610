"""Relative price units of trade fields (protocol §6.2): price, points, pips, account currency and balance percentage.

A money amount becomes a price distance through the account-currency value of one price unit
of the trade's volume: ``volume × tickValue / tickSize`` (the tick value already holds the
contract size and the profit-to-account currency rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import TradeError, ValidationError
from ..realtime import fields
from .codes import reject

ABSOLUTE = "ABSOLUTE_PRICE"
#: Units measured in price (converted by the symbol's point or pip size).
PRICE_UNITS = frozenset({"RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS"})
#: Units measured in money (converted by the value of one price unit of the volume).
MONEY_UNITS = frozenset({"RELATIVE_CURRENCY", "RELATIVE_BALANCE_PERCENTAGE"})
RELATIVE = PRICE_UNITS | MONEY_UNITS
UNITS = RELATIVE | {ABSOLUTE}


@dataclass(frozen=True)
class Scale:
    """What converts one trade's relative values to prices: the symbol, the volume, the balance and a tick's value."""

    spec: dict[str, Any]
    volume: float
    balance: float
    tick_value: float

    @property
    def digits(self) -> int:
        return int(self.spec["digits"])

    def distance(self, value: float, units: str) -> float:
        """``value`` in relative ``units`` as a price distance (sign kept); -9 if pips are asked and undefined."""
        if units == "RELATIVE_PRICE":
            return value
        if units == "RELATIVE_POINTS":
            return value * float(self.spec["point"])
        if units == "RELATIVE_PIPS":
            if not self.spec.get("pipSize"):
                raise pip_size_not_defined(self.spec["symbol"])
            return value * float(self.spec["pipSize"])
        money = value if units == "RELATIVE_CURRENCY" else self.balance * value / 100
        per_price = self.volume * self.tick_value / float(self.spec["tickSize"])
        if per_price <= 0:
            raise reject("TRADE_RETCODE_INVALID", f"No tick value to convert {units} for {self.spec['symbol']}")
        return money / per_price

    def price(self, base: float, distance: float) -> float:
        """``base`` moved by ``distance``, at the symbol's digits."""
        return round(base + distance, self.digits)


def pip_size_not_defined(symbol: str) -> TradeError:
    """The -9 rejection of relative pips on a symbol without a pip size."""
    return reject("ERR_PIP_SIZE_NOT_DEFINED", f"Pip size is not defined for {symbol}")


def units_of(trade: dict[str, Any], name: str, allowed: frozenset[str] = UNITS, default: str = ABSOLUTE) -> str:
    """The ``name`` units field of the trade (``default`` when absent): an ``allowed`` unit, else ValidationError."""
    value = fields.text(trade, name, required=False, max_length=64) or default
    if value not in allowed:
        raise ValidationError.field(name, "is not a known unit", value)
    return value


def base_of(trade: dict[str, Any], name: str, bases: dict[str, float | None], default: str) -> float:
    """The price a relative field is measured from: ``trade[name]`` (or ``default``) looked up in ``bases``.

    A base named by the protocol but without a price here (None) is refused naming the field.
    """
    value = fields.text(trade, name, required=False, max_length=32) or default
    if value not in bases:
        raise ValidationError.field(name, f"must be one of {', '.join(bases)}", value)
    found = bases[value]
    if found is None:
        raise ValidationError.field(name, "has no price for this request", value)
    return found
