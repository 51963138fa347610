"""Pending orders: limit/stop placement, modification, cancelation, expiration, and their triggers with SL/TP."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..realtime import fields
from ..timeutil import iso_ms, parse_iso_ms
from . import trailing, validation
from .codes import done, reject
from .positions import Context, history_order, open_position
from .trades import close_volume, quote, symbol_of, ticket_field
from .units import ABSOLUTE, Scale, base_of, units_of
from .validation import check_stops, stop

#: Pending order types: buy side, and whether the order waits for the price to fall (buy limit, sell stop).
PENDING = {
    "ORDER_TYPE_BUY_LIMIT": (True, "below"),
    "ORDER_TYPE_SELL_LIMIT": (False, "above"),
    "ORDER_TYPE_BUY_STOP": (True, "above"),
    "ORDER_TYPE_SELL_STOP": (False, "below"),
    "ORDER_TYPE_BUY_STOP_LIMIT": (True, "above"),
    "ORDER_TYPE_SELL_STOP_LIMIT": (False, "below"),
}
#: The limit order a triggered stop-limit order becomes.
_LIMIT_OF = {"ORDER_TYPE_BUY_STOP_LIMIT": "ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_SELL_STOP_LIMIT": "ORDER_TYPE_SELL_LIMIT"}
_EXPIRATIONS = ("ORDER_TIME_GTC", "ORDER_TIME_DAY", "ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY")
_DAY = 86_400_000
#: Stop fields a pending order carries over to its position.
_STOPS = ("stopLoss", "takeProfit", "trailingStopLoss")


def _check_price(spec: dict[str, Any], kind: str, open_price: float, prices: dict[str, Any]) -> None:
    """Reject (10015) a pending price on the wrong side of the market, or closer than ``stopsLevel``."""
    buy, where = PENDING[kind]
    reference = float(prices["ask"] if buy else prices["bid"])
    gap = float(spec.get("stopsLevel") or 0) * float(spec["point"])
    ok = open_price < reference - gap if where == "below" else open_price > reference + gap
    if not ok:
        raise reject("TRADE_RETCODE_INVALID_PRICE", f"Invalid {kind} price {open_price} for market {reference}")


def _stops(
    trade: dict[str, Any],
    spec: dict[str, Any],
    buy: bool,
    scale: Scale,
    bases: dict[str, float | None],
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stops and trailing stop of a pending order (absent keeps ``current``'s, 0 or null removes); relative stops
    are measured from ``stopPriceBase`` (``OPEN_PRICE``, the price the position will open at, by default)."""
    stops = {n: current[n] for n in _STOPS if current and current.get(n) is not None}
    with fields.nested("trade"):
        base = base_of(trade, "stopPriceBase", bases, "OPEN_PRICE")
    for name in ("stopLoss", "takeProfit"):
        if name in trade:
            stops.pop(name, None)
            value = stop(trade, name, buy, base, scale)
            if value is not None:
                stops[name] = value
    opens_at = bases["OPEN_PRICE"]
    check_stops(spec, buy, stops.get("stopLoss"), stops.get("takeProfit"), opens_at, opens_at)  # type: ignore[arg-type]
    if "trailingStopLoss" in trade:
        stops.pop("trailingStopLoss", None)
        trail = trailing.parse(trade, buy, scale, {k: bases[k] for k in ("OPEN_PRICE", "CURRENT_PRICE")})
        if trail is not None:
            stops["trailingStopLoss"] = trail
    return stops


def _price_field(trade: dict[str, Any], name: str, scale: Scale, bases: dict[str, float | None]) -> float:
    """A price field: absolute (positive), or a signed distance in ``{name}Units`` from ``{name}Base``."""
    with fields.nested("trade"):
        units = units_of(trade, f"{name}Units")
        if units == ABSOLUTE:
            return fields.number(trade, name, positive=True)
        value = fields.number(trade, name)
        base = base_of(trade, f"{name}Base", bases, "CURRENT_PRICE")
    level = scale.price(base, scale.distance(value, units))
    if level <= 0:
        raise reject("TRADE_RETCODE_INVALID_PRICE", f"{name} {value} {units} from {base} is not a price")
    return level


def _levels(
    trade: dict[str, Any], kind: str, prices: dict[str, Any], scale: Scale, order: dict[str, Any] | None = None
) -> tuple[float, float | None]:
    """The open price and (stop-limit orders) stop-limit price of a placed or modified (``order``) pending order,
    checked against the market (10015)."""
    buy = PENDING[kind][0]
    current = float(prices["ask"] if buy else prices["bid"])
    stop_limit = None
    if kind in _LIMIT_OF:
        if order is None or trade.get("stopLimitPrice") is not None:
            kept = order["stopLimitPrice"] if order else None
            stop_limit = _price_field(trade, "stopLimitPrice", scale, {"CURRENT_PRICE": current,
                                                                       "STOP_LIMIT_PRICE": kept})  # fmt: skip
        else:
            stop_limit = float(order["stopLimitPrice"])
    bases = {"CURRENT_PRICE": current, "OPEN_PRICE": order["openPrice"] if order else None,
             "STOP_LIMIT_PRICE": stop_limit}  # fmt: skip
    open_price = _price_field(trade, "openPrice", scale, bases)
    _check_price(scale.spec, kind, open_price, prices)
    if stop_limit is not None and ((stop_limit >= open_price) if buy else (stop_limit <= open_price)):
        raise reject("TRADE_RETCODE_INVALID_PRICE", f"Stop limit price {stop_limit} is beyond stop price {open_price}")
    return open_price, stop_limit


def _stop_bases(open_price: float, stop_limit: float | None, current: float) -> dict[str, float | None]:
    """Prices relative stops of a pending order are measured from: the fill price, the stop price, the market."""
    return {"OPEN_PRICE": open_price if stop_limit is None else stop_limit, "STOP_PRICE": open_price,
            "CURRENT_PRICE": current}  # fmt: skip


def _expiration(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """``expirationType`` (GTC default) and ``expirationTime`` of a pending order (10022 if in the past)."""
    if trade.get("expiration") is None:
        return {"expirationType": "ORDER_TIME_GTC"}
    with fields.nested("trade"):
        expiration = fields.obj(trade, "expiration")
        with fields.nested("expiration"):
            kind = fields.text(expiration, "type", max_length=32)
            if kind not in _EXPIRATIONS:
                raise ValidationError.field("type", "is not a known expiration type", kind)
            at = fields.date_ms(expiration, "time", required=kind.startswith("ORDER_TIME_SPECIFIED"))
    if ctx.platform == "mt4" and kind.endswith("_DAY"):
        raise reject("TRADE_RETCODE_INVALID_EXPIRATION", f"MT4 accounts take no {kind} expiration")
    if kind == "ORDER_TIME_DAY":
        at = (ctx.now_ms // _DAY + 1) * _DAY
    elif kind == "ORDER_TIME_SPECIFIED_DAY":
        at = (at // _DAY + 1) * _DAY  # type: ignore[operator]
    if at is not None and at <= ctx.now_ms:
        raise reject("TRADE_RETCODE_INVALID_EXPIRATION", f"Expiration {iso_ms(at)} is in the past")
    out: dict[str, Any] = {"expirationType": kind}
    if at is not None:
        out["expirationTime"] = iso_ms(at)
    return out


def place(ctx: Context, trade: dict[str, Any], kind: str) -> dict[str, Any]:
    """BUY/SELL LIMIT/STOP/STOP_LIMIT: validate and put the order on the book."""
    if ctx.platform == "mt4" and kind in _LIMIT_OF:
        raise reject("TRADE_RETCODE_ORDER_TYPE_NOT_SUPPORTED", f"MT4 accounts have no {kind} orders")
    symbol, spec = symbol_of(ctx, trade)
    volume = validation.volume(trade, spec)
    extras = validation.extras(trade, int(ctx.doc.get("magic", 0)))
    prices = quote(ctx, symbol, spec)
    scale = ctx.scale(spec, volume)
    open_price, stop_limit = _levels(trade, kind, prices, scale)
    buy = PENDING[kind][0]
    current = float(prices["ask"] if buy else prices["bid"])
    stops = _stops(trade, spec, buy, scale, _stop_bases(open_price, stop_limit, current))
    limit = {} if stop_limit is None else {"stopLimitPrice": stop_limit}
    expiration = _expiration(ctx, trade)
    filling = validation.filling(trade, spec)
    order_id = ctx.ledger.ticket()
    order = {"id": order_id, **ctx.common(), "type": kind, "state": "ORDER_STATE_PLACED", "symbol": symbol,
             "magic": extras["magic"], **ctx.stamp(), "openPrice": open_price, "currentPrice": current,
             "volume": volume, "currentVolume": volume, "reason": f"ORDER_REASON_{ctx.reason}",
             "fillingMode": filling, **limit, **expiration, **stops}  # fmt: skip
    order.update({k: v for k, v in extras.items() if k in ("comment", "clientId")})
    ctx.changes.orders[order_id] = order
    return done(order_id=order_id)


def _order(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    order_id = ticket_field(trade, "orderId")
    for order in ctx.changes.overlay(ctx.ledger.orders(ctx.doc["_id"]), "orders"):
        if order["id"] == order_id:
            return order
    raise reject("ERR_TRADE_ORDER_NOT_FOUND", f"Order {order_id} not found")


def modify(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """ORDER_MODIFY: new open price, stop-limit price, stops, trailing stop and expiration of a pending order."""
    order = _order(ctx, trade)
    spec = ctx.quotes.specification(order["symbol"])
    prices = quote(ctx, order["symbol"], spec)
    scale = ctx.scale(spec, float(order["volume"]))
    open_price, stop_limit = _levels(trade, order["type"], prices, scale, order)
    buy = PENDING[order["type"]][0]
    current = float(prices["ask"] if buy else prices["bid"])
    stops = _stops(trade, spec, buy, scale, _stop_bases(open_price, stop_limit, current), order)
    updated = {k: v for k, v in order.items() if k not in _STOPS}
    updated.update(openPrice=open_price, **stops)
    if stop_limit is not None:
        updated["stopLimitPrice"] = stop_limit
    if "expiration" in trade:
        updated.pop("expirationTime", None)
        updated.update(_expiration(ctx, trade))
    if updated == order:
        return done("TRADE_RETCODE_NO_CHANGES", order_id=order["id"])
    ctx.changes.orders[order["id"]] = updated
    return done(order_id=order["id"])


def finish(ctx: Context, order: dict[str, Any], state: str, comment: str | None = None) -> None:
    """Move a pending order to the history as canceled or expired (with the broker's ``comment`` if given)."""
    now = ctx.stamp()
    ctx.changes.complete_order(order["id"])
    done_order = {**order, "state": state, "doneTime": now["time"], "doneBrokerTime": now["brokerTime"]}
    if comment is not None:
        done_order["comment"] = comment
    ctx.changes.history_orders.append(done_order)


def cancel(ctx: Context, trade: dict[str, Any]) -> dict[str, Any]:
    """ORDER_CANCEL: the order goes to the history as ORDER_STATE_CANCELED."""
    order = _order(ctx, trade)
    finish(ctx, order, "ORDER_STATE_CANCELED")
    return done(order_id=order["id"])


# triggers ------------------------------------------------------------------------------------------


def order_due(order: dict[str, Any], bid: float, ask: float) -> bool:
    """Whether a pending order triggers at this quote."""
    buy, where = PENDING[order["type"]]
    price = ask if buy else bid
    return price <= order["openPrice"] if where == "below" else price >= order["openPrice"]


def fill(ctx: Context, order: dict[str, Any], bid: float, ask: float) -> None:
    """Fill a triggered pending order at the quote: a position with the order's ticket, the order FILLED.

    A triggered stop-limit order becomes a limit order at its ``stopLimitPrice`` instead (same ticket).
    """
    if order["type"] in _LIMIT_OF:
        limit = {k: v for k, v in order.items() if k != "stopLimitPrice"}
        limit.update(type=_LIMIT_OF[order["type"]], openPrice=order["stopLimitPrice"], updateTime=ctx.stamp()["time"])
        ctx.changes.orders[order["id"]] = limit
        return
    buy = PENDING[order["type"]][0]
    price = ask if buy else bid
    extras = {k: order[k] for k in ("magic", "comment", "clientId") if k in order}
    stops = {k: order[k] for k in _STOPS if k in order}
    position = open_position(ctx, order["id"], order["symbol"], buy, float(order["volume"]), price, stops, extras)
    ctx.changes.complete_order(order["id"])
    filled = history_order(ctx, order["id"], buy, order["symbol"], float(order["volume"]), order["openPrice"],
                           position["id"], extras)  # fmt: skip
    filled.update(type=order["type"], time=order["time"], brokerTime=order["brokerTime"])
    ctx.changes.history_orders.append(filled)


def stop_hit(position: dict[str, Any], bid: float, ask: float) -> str | None:
    """``SL`` or ``TP`` when the quote reaches the position's stop loss or take profit, else None."""
    buy = position["type"] == "POSITION_TYPE_BUY"
    price = bid if buy else ask
    sl, tp = position.get("stopLoss"), position.get("takeProfit")
    if sl is not None and (price <= sl if buy else price >= sl):
        return "SL"
    if tp is not None and (price >= tp if buy else price <= tp):
        return "TP"
    return None


def close_at_stop(ctx: Context, position: dict[str, Any], reason: str, bid: float, ask: float) -> None:
    """Close a position whose SL/TP was reached, at the quote, with reason SL/TP on its order and deal."""
    price = bid if position["type"] == "POSITION_TYPE_BUY" else ask
    extras = {k: position[k] for k in ("magic", "clientId") if k in position}
    close_volume(ctx, position, float(position["volume"]), {**extras, "comment": f"[{reason.lower()} {price}]"},
                 reason, price)  # fmt: skip


def expired(order: dict[str, Any], at_ms: int) -> bool:
    """Whether a pending order's expiration time has passed at ``at_ms``."""
    when = order.get("expirationTime")
    return when is not None and parse_iso_ms(when, "expirationTime") <= at_ms


def trail(ctx: Context, position: dict[str, Any], bid: float, ask: float) -> None:
    """Move the stop loss to where the trailing stop asks for, when that is closer to the price."""
    spec = ctx.quotes.specification(position["symbol"])
    buy = position["type"] == "POSITION_TYPE_BUY"
    wanted = trailing.level(position["trailingStopLoss"], buy, bid, ask, ctx.scale(spec, float(position["volume"])))
    current = position.get("stopLoss")
    if wanted is not None and (current is None or (wanted > current if buy else wanted < current)):
        ctx.changes.put_position({**position, "stopLoss": wanted, "updateTime": ctx.stamp()["time"]})
