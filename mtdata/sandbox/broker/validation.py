"""Checks of a trade's fields (protocol §6.2): malformed values are ValidationErrors naming the field,
values a MetaTrader broker would refuse are trade rejections with its return code (§6.5)."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..realtime import fields
from .codes import reject
from .units import ABSOLUTE, Scale, units_of

_FILLINGS = frozenset({"ORDER_FILLING_FOK", "ORDER_FILLING_IOC", "ORDER_FILLING_RETURN"})


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


def stop(trade: dict[str, Any], name: str, buy: bool, base: float, scale: Scale) -> float | None:
    """``stopLoss``/``takeProfit`` as an absolute price (None = absent or 0); relative units are measured from
    ``base`` on the side the stop belongs to (below a buy's price for its stop loss, ...)."""
    if trade.get(name) is None:
        return None
    with fields.nested("trade"):
        value = fields.number(trade, name)
        units = units_of(trade, f"{name}Units")
    if value < 0:
        raise ValidationError.field(f"trade.{name}", "must not be negative", value)
    if value == 0:
        return None
    if units == ABSOLUTE:
        return value
    distance = scale.distance(value, units)
    level = scale.price(base, distance if buy == (name == "takeProfit") else -distance)
    if level <= 0:
        raise reject("TRADE_RETCODE_INVALID_STOPS", f"{name} {value} {units} from {base} is not a price")
    return level


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


def filling(trade: dict[str, Any], spec: dict[str, Any], pending: bool = True) -> str:
    """The filling mode of an order: the first of ``fillingModes`` the symbol allows (10030 if none does).

    A market-execution symbol fills market orders FOK or IOC as its ``fillingModes`` say; pending orders
    may also RETURN (their default).
    """
    allowed = [mode.replace("SYMBOL_", "ORDER_") for mode in spec.get("fillingModes", ())]
    if pending:
        allowed.insert(0, "ORDER_FILLING_RETURN")
    with fields.nested("trade"):
        wanted = fields.array(trade, "fillingModes", required=False, max_items=8)
    for i, mode in enumerate(wanted):
        if mode not in _FILLINGS:
            raise ValidationError.field(f"trade.fillingModes[{i}]", "is not a known filling mode", mode)
    for mode in wanted or allowed:
        if mode in allowed:
            return mode
    raise reject("TRADE_RETCODE_INVALID_FILL", f"Filling modes {wanted} are not allowed for {spec['symbol']}")
