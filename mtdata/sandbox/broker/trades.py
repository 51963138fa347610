"""Market executions: buy/sell, close (full, partial, by symbol, by opposite position) and position SL/TP changes."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..realtime import fields
from . import validation
from .codes import done, reject
from .positions import Context, close, history_order, open_position
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
    """ORDER_TYPE_BUY / ORDER_TYPE_SELL: fill at ask / bid."""
    symbol, spec = symbol_of(ctx, trade)
    volume = validation.volume(trade, spec)
    extras = validation.extras(trade, int(ctx.doc.get("magic", 0)))
    prices = quote(ctx, symbol, spec)
    price = float(prices["ask"] if buy else prices["bid"])
    stops = {name: value for name in ("stopLoss", "takeProfit")
             if (value := stop(trade, name, spec, buy, price)) is not None}  # fmt: skip
    check_stops(spec, buy, stops.get("stopLoss"), stops.get("takeProfit"), prices["bid"], prices["ask"])
    if (trail := validation.trailing(trade, spec)) is not None:
        stops["trailingStopLoss"] = trail[0]  # type: ignore[assignment]
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
    volume = float(position["volume"])
    if partial:
        volume = validation.volume(trade, ctx.quotes.specification(position["symbol"]))
    order_id = close_volume(ctx, position, volume, extras)
    return done(order_id=order_id, position_id=position["id"])


def close_symbol(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """POSITIONS_CLOSE_SYMBOL: close every position on the symbol."""
    symbol, _ = symbol_of(ctx, trade)
    extras = validation.extras(trade, int(ctx.doc.get("magic", 0)))
    positions = [p for p in ctx.positions() if p["symbol"] == symbol]
    if not positions:
        raise reject("ERR_TRADE_POSITION_NOT_FOUND", f"No open position on {symbol}")
    order_ids = [close_volume(ctx, p, float(p["volume"]), {"magic": p.get("magic", 0), **extras}) for p in positions]
    return done(order_id=order_ids[-1], position_id=positions[-1]["id"])


def modify_position(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """POSITION_MODIFY: new absolute (or relative to ``stopPriceBase``) stop loss / take profit; 0 removes one."""
    position = ctx.position(ticket_field(trade, "positionId"))
    symbol = position["symbol"]
    spec = ctx.quotes.specification(symbol)
    buy = position["type"] == "POSITION_TYPE_BUY"
    prices = quote(ctx, symbol, spec)
    with fields.nested("trade"):
        base_name = fields.text(trade, "stopPriceBase", required=False, max_length=32) or "OPEN_PRICE"
    bases = {
        "OPEN_PRICE": float(position["openPrice"]),
        "CURRENT_PRICE": float(prices["bid"] if buy else prices["ask"]),
        "STOP_PRICE": float(position["openPrice"]),
    }
    if base_name not in bases:
        raise ValidationError.field("trade.stopPriceBase", "is not a known price base", base_name)
    updated = dict(position)
    for name in ("stopLoss", "takeProfit"):
        if name in trade:
            value = stop(trade, name, spec, buy, bases[base_name])
            updated.pop(name, None)
            if value is not None:
                updated[name] = value
    check_stops(spec, buy, updated.get("stopLoss"), updated.get("takeProfit"), prices["bid"], prices["ask"])
    if "trailingStopLoss" in trade:
        trail = validation.trailing(trade, spec)
        updated.pop("trailingStopLoss", None)
        if trail is not None:
            updated["trailingStopLoss"] = trail[0]
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
