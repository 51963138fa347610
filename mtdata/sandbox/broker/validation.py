"""Checks of a trade's fields (spec §6.2): malformed values are ValidationErrors naming the field,
values a MetaTrader broker would refuse are trade rejections with its return code (§6.5)."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..realtime import fields
from .codes import reject

#: Units of relative stops the sandbox converts to prices (currency and balance-percentage units are not supported).
_DISTANCE_UNITS = frozenset({"RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS"})
_UNITS = frozenset({"ABSOLUTE_PRICE", *_DISTANCE_UNITS, "RELATIVE_CURRENCY", "RELATIVE_BALANCE_PERCENTAGE"})


def volume(trade: dict[str, Any], spec: dict[str, Any]) -> float:
    """The trade's ``volume``: a positive number (else ValidationError) within the symbol's limits and step (10014)."""
    with fields.nested("trade"):
        value = fields.number(trade, "volume", positive=True)
    low, high, step = float(spec["minVolume"]), float(spec["maxVolume"]), float(spec["volumeStep"])
    steps = value / step
    if value < low - 1e-9 or value > high + 1e-9 or abs(steps - round(steps)) > 1e-6:
        raise reject("TRADE_RETCODE_INVALID_VOLUME", f"Invalid volume {value}: {low}..{high} in steps of {step}")
    return round(round(steps) * step, 8)


def price(trade: dict[str, Any], name: str) -> float:
    """A required positive price field such as ``openPrice``."""
    with fields.nested("trade"):
        return fields.number(trade, name, positive=True)


def stop(trade: dict[str, Any], name: str, spec: dict[str, Any], buy: bool, base: float) -> float | None:
    """``stopLoss``/``takeProfit`` as an absolute price (None = absent or 0), relative units converted from ``base``."""
    if trade.get(name) is None:
        return None
    with fields.nested("trade"):
        value = fields.number(trade, name)
        units = fields.text(trade, f"{name}Units", required=False, max_length=64) or "ABSOLUTE_PRICE"
    if value < 0:
        raise ValidationError.field(f"trade.{name}", "must not be negative", value)
    if units not in _UNITS:
        raise ValidationError.field(f"trade.{name}Units", "is not a known unit", units)
    if value == 0:
        return None
    if units == "ABSOLUTE_PRICE":
        return value
    if units not in _DISTANCE_UNITS:
        raise reject("TRADE_RETCODE_INVALID", f"{name}Units {units} is not supported by the sandbox")
    distance = (
        value * {"RELATIVE_PRICE": 1.0, "RELATIVE_POINTS": spec["point"], "RELATIVE_PIPS": spec["pipSize"]}[units]
    )
    above = buy == (name == "takeProfit")
    return round(base + distance if above else base - distance, int(spec["digits"]))


def check_stops(spec: dict[str, Any], buy: bool, sl: float | None, tp: float | None, bid: float, ask: float) -> None:
    """Reject (10016) a stop loss or take profit on the wrong side of, or closer than ``stopsLevel`` to, the price."""
    gap = float(spec.get("stopsLevel") or 0) * float(spec["point"])
    reference = bid if buy else ask
    sign = 1 if buy else -1
    if sl is not None and sign * (reference - sl) <= gap:
        raise reject("TRADE_RETCODE_INVALID_STOPS", f"Invalid stop loss {sl} for price {reference}")
    if tp is not None and sign * (tp - reference) <= gap:
        raise reject("TRADE_RETCODE_INVALID_STOPS", f"Invalid take profit {tp} for price {reference}")


def extras(trade: dict[str, Any], default_magic: int) -> dict[str, Any]:
    """``comment``, ``clientId`` (echoed on the position, orders and deals) and ``magic`` of a trade."""
    with fields.nested("trade"):
        comment = fields.text(trade, "comment", required=False, max_length=64)
        client_id = fields.text(trade, "clientId", required=False, max_length=64)
        magic = fields.integer(trade, "magic", default_magic, maximum=2**63 - 1)
    limit = 30 if comment and client_id else 31
    if len(comment or "") + len(client_id or "") > limit:
        raise ValidationError.field("trade.comment", f"with clientId must be at most {limit} characters", comment)
    out: dict[str, Any] = {"magic": magic}
    if comment:
        out["comment"] = comment
    if client_id:
        out["clientId"] = client_id
    return out


def trailing(trade: dict[str, Any], spec: dict[str, Any]) -> tuple[dict[str, Any], float] | None:
    """A distance ``trailingStopLoss`` and its distance in price units (None = absent); thresholds are refused."""
    if trade.get("trailingStopLoss") is None:
        return None
    with fields.nested("trade"):
        value = fields.obj(trade, "trailingStopLoss")
        if value.get("threshold") is not None:
            raise reject("TRADE_RETCODE_INVALID", "Threshold trailing stops are not supported by the sandbox")
        with fields.nested("trailingStopLoss"):
            distance = fields.obj(value, "distance")
            with fields.nested("distance"):
                size = fields.number(distance, "distance", positive=True)
                units = fields.text(distance, "units", required=False, max_length=64) or "RELATIVE_PRICE"
    if units not in _DISTANCE_UNITS:
        raise reject("TRADE_RETCODE_INVALID", f"Trailing stop units {units} are not supported by the sandbox")
    return {"distance": {"distance": size, "units": units}}, size * _scale(spec)[units]


def _scale(spec: dict[str, Any]) -> dict[str, float]:
    """Price units of one relative unit."""
    return {"RELATIVE_PRICE": 1.0, "RELATIVE_POINTS": float(spec["point"]), "RELATIVE_PIPS": float(spec["pipSize"])}
