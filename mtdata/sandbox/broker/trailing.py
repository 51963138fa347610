"""Trailing stop losses (protocol §6.2): a distance behind the price and/or price thresholds that move the stop loss.

The distance form is kept as requested and converted at every move (money units follow the
position's volume and the balance of the moment). The threshold form is stored resolved to
absolute prices when it is set (its relative values measured, in the position's profit
direction, from its ``stopPriceBase``). When both are given the stop loss closest to the price wins.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..realtime import fields
from .codes import reject
from .units import ABSOLUTE, RELATIVE, Scale, base_of, units_of

_MAX_THRESHOLDS = 100


def parse(trade: dict[str, Any], buy: bool, scale: Scale, bases: dict[str, float | None]) -> dict[str, Any] | None:
    """The ``trailingStopLoss`` of a trade as it is stored (None = absent); ``bases`` price the threshold base."""
    if trade.get("trailingStopLoss") is None:
        return None
    out: dict[str, Any] = {}
    with fields.nested("trade"):
        value = fields.obj(trade, "trailingStopLoss")
        with fields.nested("trailingStopLoss"):
            if value.get("distance") is not None:
                distance = fields.obj(value, "distance")
                with fields.nested("distance"):
                    size = fields.number(distance, "distance", positive=True)
                    units = units_of(distance, "units", RELATIVE, "RELATIVE_PRICE")
                scale.distance(size, units)  # pips without a pip size are refused now, not at the first move
                out["distance"] = {"distance": size, "units": units}
            if value.get("threshold") is not None:
                out["threshold"] = _thresholds(fields.obj(value, "threshold"), buy, scale, bases)
    if not out:
        raise ValidationError.field("trade.trailingStopLoss", "needs a distance or a threshold", value)
    return out


def _thresholds(threshold: dict[str, Any], buy: bool, scale: Scale, bases: dict[str, float | None]) -> dict[str, Any]:
    """The threshold form resolved to absolute prices, in the order the price reaches them."""
    sign = 1 if buy else -1
    with fields.nested("threshold"):
        units = units_of(threshold, "units")
        base = base_of(threshold, "stopPriceBase", bases, "OPEN_PRICE")
        items = fields.array(threshold, "thresholds", max_items=_MAX_THRESHOLDS)
        if not items:
            raise ValidationError.field("thresholds", "must not be empty", items)
        levels = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValidationError.field(f"thresholds[{i}]", "must be an object", item)
            with fields.nested(f"thresholds[{i}]"):
                pair = [fields.number(item, name, positive=units == ABSOLUTE) for name in ("threshold", "stopLoss")]
            if units != ABSOLUTE:
                pair = [scale.price(base, sign * scale.distance(v, units)) for v in pair]
            at, stop_loss = pair
            if stop_loss <= 0 or sign * (at - stop_loss) <= 0:
                raise reject("TRADE_RETCODE_INVALID_STOPS", f"Trailing stop loss {stop_loss} is beyond threshold {at}")
            levels.append({"threshold": at, "stopLoss": stop_loss})
    levels.sort(key=lambda level: sign * level["threshold"])
    return {"thresholds": levels, "units": ABSOLUTE}


def level(trailing: dict[str, Any], buy: bool, bid: float, ask: float, scale: Scale) -> float | None:
    """The stop loss the trailing stop asks for at this quote (None = nothing asked, or only beyond the price)."""
    price, sign = (bid, 1) if buy else (ask, -1)
    wanted: list[float] = []
    if (distance := trailing.get("distance")) is not None:
        wanted.append(scale.price(price, -sign * scale.distance(distance["distance"], distance["units"])))
    if (threshold := trailing.get("threshold")) is not None:
        reached = [t["stopLoss"] for t in threshold["thresholds"] if sign * (price - t["threshold"]) >= 0]
        wanted += reached
    wanted = [w for w in wanted if w > 0 and sign * (price - w) > 0]
    if not wanted:
        return None
    return max(wanted) if buy else min(wanted)
