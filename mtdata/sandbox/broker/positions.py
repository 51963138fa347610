"""Positions, deals and history orders of market executions: open, close, partial close, netting merge/reverse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..timeutil import iso_ms
from .codes import reject
from .ledger import Changes, Ledger
from .money import Quotes, profit
from .units import Scale

if TYPE_CHECKING:
    from ..market import Market

NETTING = "ACCOUNT_MARGIN_MODE_RETAIL_NETTING"


def platform_of(doc: dict[str, Any]) -> str:
    """``mt4`` or ``mt5``: the platform of an account document."""
    return doc.get("_trading", {}).get("platform", doc.get("platform", "mt5"))


@dataclass
class Context:
    """One account's view while a trade or trigger executes: market, clock, ledger and change set."""

    market: Market
    ledger: Ledger
    doc: dict[str, Any]
    now_ms: int
    changes: Changes
    quotes: Quotes
    reason: str = "EXPERT"  # MetaApi trades reach the terminal as an expert's
    commission_per_lot: float = 0.0
    _stored: list[dict[str, Any]] | None = field(default=None, repr=False)
    _stamp: dict[str, str] | None = field(default=None, repr=False)

    @property
    def trading(self) -> dict[str, Any]:
        return self.doc.get("_trading", {})

    @property
    def currency(self) -> str:
        return self.trading.get("currency", "USD")

    @property
    def platform(self) -> str:
        return platform_of(self.doc)

    @property
    def netting(self) -> bool:
        return self.trading.get("marginMode") == NETTING

    def stored_positions(self) -> list[dict[str, Any]]:
        """Open positions as they stood before this trade (read once)."""
        if self._stored is None:
            self._stored = self.ledger.positions(self.doc["_id"])
        return self._stored

    def positions(self) -> list[dict[str, Any]]:
        """Open positions with this trade's changes so far."""
        return self.changes.overlay(self.stored_positions(), "positions")

    def position(self, position_id: str) -> dict[str, Any]:
        """An open position by id, or ERR_TRADE_POSITION_NOT_FOUND."""
        for position in self.positions():
            if position["id"] == position_id:
                return position
        raise reject("ERR_TRADE_POSITION_NOT_FOUND", f"Position {position_id} not found")

    def scale(self, spec: dict[str, Any], volume: float) -> Scale:
        """What converts relative units of a trade of ``volume`` lots on the symbol of ``spec`` to prices, now."""
        tick_value = self.quotes.price(spec["symbol"], self.now_ms, self.currency)["profitTickValue"]
        return Scale(spec, volume, float(self.trading.get("balance", 0.0)), float(tick_value))

    def stamp(self) -> dict[str, str]:
        """``time`` and ``brokerTime`` of now (formatted once per context)."""
        if self._stamp is None:
            self._stamp = {"time": iso_ms(self.now_ms), "brokerTime": self.market.broker_time(self.now_ms)}
        return dict(self._stamp)

    def common(self) -> dict[str, Any]:
        """Fields every position, order and deal carries."""
        return {"platform": self.platform}


def _echoed(extras: dict[str, Any]) -> dict[str, Any]:
    """The trade fields echoed on resulting orders, deals and positions (§6.2)."""
    return {k: v for k, v in extras.items() if k in ("comment", "clientId")}


def _commission(ctx: Context, volume: float) -> float:
    """The commission of a deal of ``volume`` lots (negative: it is charged)."""
    return -round(ctx.commission_per_lot * volume, 2) or 0


def _charged(position: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    """``position`` (changed in place) with the commission of its deal ``made`` added; returns ``made``."""
    if made["commission"]:
        total = round(float(position.get("commission", 0)) + made["commission"], 2)
        position.update(commission=total, realizedCommission=total)
    return made


def _side(buy: bool, kind: str) -> str:
    return f"{kind}_TYPE_{'BUY' if buy else 'SELL'}"


def history_order(
    ctx: Context,
    ticket: str,
    buy: bool,
    symbol: str,
    volume: float,
    price: float,
    position_id: str,
    extras: dict[str, Any],
    reason: str | None = None,
) -> dict[str, Any]:
    """A filled market order as a history order (§9.4)."""
    now = ctx.stamp()
    return {"id": ticket, **ctx.common(), "type": _side(buy, "ORDER"), "state": "ORDER_STATE_FILLED",
            "symbol": symbol, "magic": extras.get("magic", 0), **now, "doneTime": now["time"],
            "doneBrokerTime": now["brokerTime"], "openPrice": price, "volume": volume, "currentVolume": 0,
            "positionId": position_id, "reason": f"ORDER_REASON_{reason or ctx.reason}",
            "fillingMode": extras.get("fillingMode", "ORDER_FILLING_FOK"), "expirationType": "ORDER_TIME_GTC",
            **_echoed(extras)}  # fmt: skip


def deal(
    ctx: Context,
    buy: bool,
    entry: str,
    position: dict[str, Any],
    order_id: str,
    volume: float,
    price: float,
    result: float,
    extras: dict[str, Any],
    reason: str | None = None,
) -> dict[str, Any]:
    """A deal (§9.5) of ``position`` executed by order ``order_id``."""
    out = {"id": ctx.ledger.ticket(), **ctx.common(), "type": _side(buy, "DEAL"), "entryType": entry,
           "symbol": position["symbol"], "magic": extras.get("magic", position.get("magic", 0)), **ctx.stamp(),
           "volume": volume, "price": price, "commission": _commission(ctx, volume), "swap": 0,
           "profit": result,
           "positionId": position["id"], "orderId": order_id, "reason": f"DEAL_REASON_{reason or ctx.reason}",
           **_echoed(extras)}  # fmt: skip
    for name in ("stopLoss", "takeProfit"):
        if position.get(name) is not None:
            out[name] = position[name]
    return out


def open_position(
    ctx: Context,
    order_id: str,
    symbol: str,
    buy: bool,
    volume: float,
    price: float,
    stops: dict[str, float],
    extras: dict[str, Any],
    reason: str | None = None,
) -> dict[str, Any]:
    """Fill a buy/sell: a new position (hedging, or netting without one on the symbol), or a netting change."""
    if ctx.netting:
        existing = next((p for p in ctx.positions() if p["symbol"] == symbol), None)
        if existing is not None:
            return _net(ctx, existing, order_id, buy, volume, price, stops, extras, reason)
    position = {"id": order_id, **ctx.common(), "type": _side(buy, "POSITION"), "symbol": symbol,
                "magic": extras.get("magic", 0), **ctx.stamp(), "updateTime": ctx.stamp()["time"],
                "openPrice": price, "currentPrice": price, "currentTickValue": 0, "volume": volume,
                "swap": 0, "realizedSwap": 0, "unrealizedSwap": 0, "commission": 0, "realizedCommission": 0,
                "unrealizedCommission": 0, "profit": 0, "realizedProfit": 0, "unrealizedProfit": 0,
                "reason": f"POSITION_REASON_{reason or ctx.reason}", **stops,
                **_echoed(extras)}  # fmt: skip
    ctx.changes.put_position(position)
    made = deal(ctx, buy, "DEAL_ENTRY_IN", position, order_id, volume, price, 0.0, extras, reason)
    ctx.changes.deal(_charged(position, made))
    return position


def _net(
    ctx: Context,
    existing: dict[str, Any],
    order_id: str,
    buy: bool,
    volume: float,
    price: float,
    stops: dict[str, float],
    extras: dict[str, Any],
    reason: str | None,
) -> dict[str, Any]:
    """Netting: the same side adds volume at the average price; the opposite side reduces, closes or reverses."""
    held_buy = existing["type"] == "POSITION_TYPE_BUY"
    held = float(existing["volume"])
    if held_buy == buy:
        total = round(held + volume, 8)
        spec = ctx.quotes.specification(existing["symbol"])
        average = round((float(existing["openPrice"]) * held + price * volume) / total, int(spec["digits"]))
        merged = {**existing, "volume": total, "openPrice": average, "updateTime": ctx.stamp()["time"], **stops}
        ctx.changes.put_position(merged)
        made = deal(ctx, buy, "DEAL_ENTRY_IN", merged, order_id, volume, price, 0.0, extras, reason)
        ctx.changes.deal(_charged(merged, made))
        return merged
    if volume <= held + 1e-9:
        return close(ctx, existing, volume, price, order_id, extras, reason)
    result = _realized(ctx, existing, held, price)
    remaining = round(volume - held, 8)
    reversed_ = {**existing, "type": _side(buy, "POSITION"), "volume": remaining, "openPrice": price,
                 "updateTime": ctx.stamp()["time"], "realizedProfit": 0, "profit": 0,
                 "unrealizedProfit": 0}  # fmt: skip
    for name in ("stopLoss", "takeProfit"):
        reversed_.pop(name, None)
    reversed_.update(stops)
    ctx.changes.put_position(reversed_)
    made = deal(ctx, buy, "DEAL_ENTRY_INOUT", reversed_, order_id, volume, price, result, extras, reason)
    ctx.changes.deal(_charged(reversed_, made))
    return reversed_


def _realized(ctx: Context, position: dict[str, Any], volume: float, price: float) -> float:
    spec = ctx.quotes.specification(position["symbol"])
    buy = position["type"] == "POSITION_TYPE_BUY"
    return profit(ctx.market, spec, buy, volume, float(position["openPrice"]), price, ctx.currency)


def close(
    ctx: Context,
    position: dict[str, Any],
    volume: float,
    price: float,
    order_id: str,
    extras: dict[str, Any],
    reason: str | None = None,
    entry: str = "DEAL_ENTRY_OUT",
) -> dict[str, Any]:
    """Close ``volume`` of ``position`` at ``price`` by order ``order_id``; returns the position as it stands after."""
    held = float(position["volume"])
    if volume > held + 1e-9:
        raise reject("TRADE_RETCODE_INVALID_CLOSE_VOLUME", f"Volume {volume} exceeds position volume {held}")
    result = _realized(ctx, position, volume, price)
    buy = position["type"] == "POSITION_TYPE_BUY"
    swap = float(position.get("swap", 0))
    swap_part = round(swap * volume / held, 2)  # the closed part's share of the accumulated swap
    closing = deal(ctx, not buy, entry, position, order_id, volume, price, result, extras, reason)
    closing["swap"] = swap_part
    ctx.changes.deal(closing)
    remaining = round(held - volume, 8)
    if remaining <= 1e-9:
        ctx.changes.remove_position(position["id"])
        return {**position, "volume": 0}
    realized = round(float(position.get("realizedProfit", 0)) + result, 2)
    left = round(swap - swap_part, 2)
    after = {**position, "volume": remaining, "realizedProfit": realized, "updateTime": ctx.stamp()["time"],
             "swap": left, "unrealizedSwap": left,
             "realizedSwap": round(float(position.get("realizedSwap", 0)) + swap_part, 2)}  # fmt: skip
    _charged(after, closing)
    ctx.changes.put_position(after)
    return after
