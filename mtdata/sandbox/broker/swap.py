"""Swap at rollover: each broker midnight ending Monday..Friday charges open positions a night of swap
(``swapLong``/``swapShort`` points, three nights on the symbol's ``swapRollover3Days``)."""

from __future__ import annotations

from typing import Any

from ..market import clock
from .positions import Context

_WEEKDAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")


def nights(day: int, spec: dict[str, Any]) -> int:
    """Nights of swap charged at the end of broker day ``day`` (0 on Saturday and Sunday)."""
    name = _WEEKDAYS[clock.weekday(day)]
    if name in ("SATURDAY", "SUNDAY"):
        return 0
    return 3 if name == spec.get("swapRollover3Days") else 1


def charge(ctx: Context, position: dict[str, Any], day: int) -> None:
    """Add the swap of the night ending broker day ``day`` to the position (points mode; other modes charge none)."""
    spec = ctx.quotes.specification(position["symbol"])
    count = nights(day, spec)
    if count == 0 or spec.get("swapMode") != "SYMBOL_SWAP_MODE_POINTS":
        return
    buy = position["type"] == "POSITION_TYPE_BUY"
    points = float(spec["swapLong"] if buy else spec["swapShort"])
    profit_ccy = spec.get("profitCurrency") or ctx.currency
    rate = ctx.market.rate(profit_ccy, ctx.currency, ctx.now_ms)
    amount = round(
        points * float(spec["point"]) * float(spec["contractSize"]) * float(position["volume"]) * rate * count, 2
    )
    if amount:
        swap = round(float(position.get("swap", 0)) + amount, 2)
        ctx.changes.put_position({**position, "swap": swap, "unrealizedSwap": swap})
