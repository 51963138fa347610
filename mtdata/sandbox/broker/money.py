"""Margin, profit and mark-to-market maths of the sandbox broker, in the account currency.

Profit of ``volume`` lots moving from ``open`` to ``close`` is ``±(close − open) × contract
size × volume`` in the symbol's profit currency, converted with :meth:`Market.rate` — the
same figure the client's terminal state derives from ``profitTickValue / tickSize``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..market import Market

BUY_TYPES = frozenset({"POSITION_TYPE_BUY", "ORDER_TYPE_BUY", "DEAL_TYPE_BUY"})
#: Quotes a :class:`Quotes` keeps (one trade or one figures pass needs a handful).
_KEPT = 256


class Quotes:
    """Memoized specifications and prices of a market: a trade and its update packet ask for the same ones often.

    Specifications are static per symbol; a price is keyed by symbol, time, currency and the symbol's
    price-process revision (a forced path changes it).
    """

    def __init__(self, market: Market) -> None:
        self.market = market
        self._specs: dict[str, dict[str, Any]] = {}
        self._prices: dict[tuple[Any, ...], dict[str, Any]] = {}

    def specification(self, symbol: str) -> dict[str, Any]:
        """The symbol's specification (shared: do not modify it)."""
        spec = self._specs.get(symbol)
        if spec is None:
            spec = self._specs[symbol] = self.market.specification(symbol)
        return spec

    def price(self, symbol: str, at_ms: int | None, currency: str) -> dict[str, Any]:
        """The symbol price at ``at_ms`` (None = now) in ``currency`` (shared: do not modify it)."""
        at = self.market.now_ms() if at_ms is None else at_ms
        key = (symbol, at, currency, self.market.revision(symbol))
        price = self._prices.get(key)
        if price is None:
            if len(self._prices) >= _KEPT:
                self._prices.clear()
            price = self._prices[key] = self.market.price(symbol, at, currency)
        return price


def margin_for(
    market: Market, spec: dict[str, Any], volume: float, price: float, leverage: float, currency: str
) -> float:
    """Margin of ``volume`` lots at ``price``: volume × contract size × price / leverage, in ``currency``."""
    contract = float(spec.get("contractSize") or 1)
    in_profit_ccy = volume * contract * price / max(float(leverage or 1), 1e-9)
    profit_ccy = spec.get("profitCurrency") or currency
    rate = 1.0 if profit_ccy == currency else market.rate(profit_ccy, currency)
    return round(in_profit_ccy * rate, 2)


def profit(
    market: Market, spec: dict[str, Any], buy: bool, volume: float, open_price: float, close_price: float, currency: str
) -> float:
    """Profit in ``currency`` of ``volume`` lots (bought if ``buy``) from ``open_price`` to ``close_price``."""
    move = (close_price - open_price) if buy else (open_price - close_price)
    profit_ccy = spec.get("profitCurrency") or currency
    rate = 1.0 if profit_ccy == currency else market.rate(profit_ccy, currency)
    return round(move * float(spec.get("contractSize") or 1) * volume * rate, 2)


def close_price(quote: dict[str, Any], buy: bool) -> float:
    """The price a position closes at: bid for a buy, ask for a sell."""
    return float(quote["bid"] if buy else quote["ask"])


def mark(quotes: Quotes, position: dict[str, Any], currency: str) -> dict[str, Any]:
    """``position`` with ``currentPrice``, ``currentTickValue``, ``unrealizedProfit`` and ``profit`` as of now.

    A position stored without a ``currentPrice`` was not opened by the broker (seeded state) and is kept as stored.
    """
    symbol = position["symbol"]
    if "currentPrice" not in position:
        return position
    try:
        spec = quotes.specification(symbol)
        quote = quotes.price(symbol, None, currency)
    except Exception:  # a symbol the market no longer quotes keeps its last marked figures
        return position
    buy = position["type"] in BUY_TYPES
    current = close_price(quote, buy)
    unrealized = profit(
        quotes.market, spec, buy, float(position["volume"]), float(position["openPrice"]), current, currency
    )
    realized = float(position.get("realizedProfit", 0.0))
    tick_value = quote["profitTickValue"] if unrealized >= 0 else quote["lossTickValue"]
    return {**position, "currentPrice": current, "currentTickValue": tick_value, "unrealizedProfit": unrealized,
            "profit": round(unrealized + realized, 2)}  # fmt: skip


def account_margin(quotes: Quotes, positions: list[dict[str, Any]], leverage: float, currency: str) -> float:
    """Margin of open positions in ``currency``: per symbol the larger of its buy and sell sides (opposite
    positions of a hedging account margin only their larger leg)."""
    sides: dict[tuple[str, bool], float] = {}
    for position in positions:
        try:
            spec = quotes.specification(position["symbol"])
        except Exception:  # a position on a symbol the market no longer lists keeps no margin
            continue
        price, volume = float(position.get("openPrice") or 0.0), float(position.get("volume", 0.0))
        key = (position["symbol"], position["type"] in BUY_TYPES)
        sides[key] = sides.get(key, 0.0) + margin_for(quotes.market, spec, volume, price, leverage, currency)
    symbols = {symbol for symbol, _ in sides}
    return round(sum(max(sides.get((s, True), 0.0), sides.get((s, False), 0.0)) for s in symbols), 2)
