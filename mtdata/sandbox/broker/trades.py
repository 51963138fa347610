"""Market executions: buy/sell, close (full, partial, by symbol, by opposite position) and position SL/TP changes."""

from __future__ import annotations

from typing import Any

from ..realtime import fields
from . import trailing, validation
from .codes import done, reject
from .money import close_price
from .positions import Context, close, history_order, open_position
from .units import base_of
from .validation import check_stops, stop


def symbol_of(ctx: Context, trade: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The trade's ``symbol`` (a symbol of the market) and its specification."""
    with fields.nested("trade"):
        symbol = fields.symbol(trade, ctx.market)
    return symbol, ctx.quotes.specification(symbol)


def quote(ctx: Context, symbol: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The current price of a symbol that trades now: else 10017 (trading disabled) or 10018 (market closed)."""
    if spec.get("tradeMode") == "SYMBOL_TRADE_MODE_DISABLED":
        raise reject("TRADE_RETCODE_TRADE_DISABLED", f"Trading {symbol} is disabled")
    if not ctx.market.in_trade_session(symbol, ctx.now_ms):
        raise reject("TRADE_RETCODE_MARKET_CLOSED", f"Market of {symbol} is closed")
    return ctx.quotes.price(symbol, ctx.now_ms, ctx.currency)


def ticket_field(trade: dict[str, Any], name: str) -> str:
    """A ticket field of the trade (``positionId``, ``orderId``, ...)."""
    with fields.nested("trade"):
        return fields.ticket(trade, name)


def market_order(ctx: Context, trade: dict[str, Any], buy: bool) -> dict[str, Any]:
    """ORDER_TYPE_BUY / ORDER_TYPE_SELL: fill at ask / bid; relative stops are measured from the fill price."""
    symbol, spec = symbol_of(ctx, trade)
    volume = validation.volume(trade, spec)
    extras = validation.extras(trade, int(ctx.doc.get("magic", 0)))
    extras["fillingMode"] = validation.filling(trade, spec, pending=False)
    prices = quote(ctx, symbol, spec)
    price = float(prices["ask"] if buy else prices["bid"])
    scale = ctx.scale(spec, volume)
    with fields.nested("trade"):
        base_of(trade, "stopPriceBase", {"CURRENT_PRICE": price}, "CURRENT_PRICE")
    stops: dict[str, Any] = {name: value for name in ("stopLoss", "takeProfit")
                             if (value := stop(trade, name, buy, price, scale)) is not None}  # fmt: skip
    check_stops(spec, buy, stops.get("stopLoss"), stops.get("takeProfit"), prices["bid"], prices["ask"])
    if (trail := trailing.parse(trade, buy, scale, {"OPEN_PRICE": price, "CURRENT_PRICE": price})) is not None:
        stops["trailingStopLoss"] = trail
    order_id = ctx.ledger.ticket()
    position = open_position(ctx, order_id, symbol, buy, volume, price, stops, extras)
    ctx.changes.history_orders.append(history_order(ctx, order_id, buy, symbol, volume, price, position["id"], extras))
    return done(order_id=order_id, position_id=position["id"])


def close_volume(
    ctx: Context,
    position: dict[str, Any],
    volume: float,
    extras: dict[str, Any],
    reason: str | None = None,
    price: float | None = None,
) -> str:
    """Close ``volume`` of ``position`` with a market order (at the current price unless ``price``); its ticket."""
    buy = position["type"] == "POSITION_TYPE_BUY"
    if price is None:
        spec = ctx.quotes.specification(position["symbol"])
        prices = quote(ctx, position["symbol"], spec)
        price = float(prices["bid"] if buy else prices["ask"])
    order_id = ctx.ledger.ticket()
    close(ctx, position, volume, price, order_id, extras, reason)
    order = history_order(ctx, order_id, not buy, position["symbol"], volume, price, position["id"], extras, reason)
    ctx.changes.history_orders.append(order)
    return order_id


def close_position(ctx: Context, trade: dict[str, Any], partial: bool) -> dict[str, Any]:
    """POSITION_CLOSE_ID (whole position) / POSITION_PARTIAL (``volume`` of it)."""
    position = ctx.position(ticket_field(trade, "positionId"))
    extras = validation.extras(trade, int(position.get("magic", 0)))
    spec = ctx.quotes.specification(position["symbol"])
    extras["fillingMode"] = validation.filling(trade, spec, pending=False)
    volume = validation.volume(trade, spec) if partial else float(position["volume"])
    order_id = close_volume(ctx, position, volume, extras)
    return done(order_id=order_id, position_id=position["id"])


def close_symbol(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """POSITIONS_CLOSE_SYMBOL: close every position on the symbol."""
    symbol, spec = symbol_of(ctx, trade)
    extras = validation.extras(trade, int(ctx.doc.get("magic", 0)))
    extras["fillingMode"] = validation.filling(trade, spec, pending=False)
    positions = [p for p in ctx.positions() if p["symbol"] == symbol]
    if not positions:
        raise reject("ERR_TRADE_POSITION_NOT_FOUND", f"No open position on {symbol}")
    order_ids = [close_volume(ctx, p, float(p["volume"]), {"magic": p.get("magic", 0), **extras}) for p in positions]
    return done(order_id=order_ids[-1], position_id=positions[-1]["id"])


def modify_position(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """POSITION_MODIFY: new stop loss / take profit (absolute, or relative to ``stopPriceBase``; 0 removes one)
    and trailing stop loss (null removes it)."""
    position = ctx.position(ticket_field(trade, "positionId"))
    symbol = position["symbol"]
    spec = ctx.quotes.specification(symbol)
    buy = position["type"] == "POSITION_TYPE_BUY"
    prices = quote(ctx, symbol, spec)
    opened = float(position["openPrice"])
    bases: dict[str, float | None] = {"OPEN_PRICE": opened, "CURRENT_PRICE": close_price(prices, buy),
                                      "STOP_PRICE": opened}  # fmt: skip
    with fields.nested("trade"):
        base = base_of(trade, "stopPriceBase", bases, "OPEN_PRICE")
    scale = ctx.scale(spec, float(position["volume"]))
    updated = dict(position)
    for name in ("stopLoss", "takeProfit"):
        if name in trade:
            value = stop(trade, name, buy, base, scale)
            updated.pop(name, None)
            if value is not None:
                updated[name] = value
    check_stops(spec, buy, updated.get("stopLoss"), updated.get("takeProfit"), prices["bid"], prices["ask"])
    if "trailingStopLoss" in trade:
        trail = trailing.parse(trade, buy, scale, bases)
        updated.pop("trailingStopLoss", None)
        if trail is not None:
            updated["trailingStopLoss"] = trail
    if all(updated.get(n) == position.get(n) for n in ("stopLoss", "takeProfit", "trailingStopLoss")):
        return done("TRADE_RETCODE_NO_CHANGES", position_id=position["id"])
    updated["updateTime"] = ctx.stamp()["time"]
    ctx.changes.put_position(updated)
    return done(position_id=position["id"])


def close_by(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """POSITION_CLOSE_BY (hedging): close a position by an opposite one, each at the other's open price."""
    first = ctx.position(ticket_field(trade, "positionId"))
    second = ctx.position(ticket_field(trade, "closeByPositionId"))
    if (
        ctx.netting
        or first["id"] == second["id"]
        or first["symbol"] != second["symbol"]
        or first["type"] == second["type"]
    ):
        raise reject("TRADE_RETCODE_INVALID", "Close by needs an opposite position on the same symbol (hedging)")
    quote(ctx, first["symbol"], ctx.quotes.specification(first["symbol"]))
    extras = validation.extras(trade, int(first.get("magic", 0)))
    volume = min(float(first["volume"]), float(second["volume"]))
    order_id = ctx.ledger.ticket()
    for position, other in ((first, second), (second, first)):
        close(ctx, position, volume, float(other["openPrice"]), order_id, extras, entry="DEAL_ENTRY_OUT_BY")
    order = history_order(ctx, order_id, first["type"] != "POSITION_TYPE_BUY", first["symbol"], volume,
                          float(second["openPrice"]), first["id"], extras)  # fmt: skip
    order.update(type="ORDER_TYPE_CLOSE_BY", closeByPositionId=second["id"])
    ctx.changes.history_orders.append(order)
    return done(order_id=order_id, position_id=first["id"])
