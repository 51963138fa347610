"""The simulated market: deterministic prices for every symbol of :mod:`symbols`.

TEMPORARY: this is the interface the REST and socket layers code against, with a
placeholder price process. The market work replaces the bodies (not the signatures).

Contract (all times are epoch milliseconds UTC; every returned record is in wire form,
with ``time`` as an ISO string and ``brokerTime`` as the broker's wall clock):

* ``now_ms()``: simulated now; advances ``speed`` simulated ms per wall-clock ms.
* ``symbols()``, ``specification(symbol)``: the universe; unknown symbol -> NotFoundError.
* ``candles(symbol, timeframe, end_ms, limit)``: up to ``limit`` candles whose open time
  is <= ``end_ms`` (None = now), newest ones, returned in ascending time order.
* ``ticks(symbol, start_ms, offset, limit)``: ticks with time >= ``start_ms`` in ascending
  order, skipping the first ``offset``; never beyond now.
* ``ticks_between(symbol, after_ms, until_ms)``: ticks in (after, until], ascending.
* ``price(symbol, at_ms=None, account_currency="USD")``: the quote at that time (last tick).
* ``candle(symbol, timeframe, at_ms=None)``: the candle containing ``at_ms`` so far.
* ``tick(symbol, at_ms=None)``, ``book(symbol, at_ms=None)``: last tick; order book.
* ``in_quote_session(symbol, ms)``, ``in_trade_session(symbol, ms)``.
* ``rate(from_ccy, to_ccy, at_ms=None)``: conversion rate from the market's own quotes.
* ``broker_time(ms)``: ``YYYY-MM-DD HH:mm:ss.SSS`` on the broker clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..timeframes import MT5_TIMEFRAMES
from .config import ReplaySource
from .errors import NotFoundError, ValidationError
from .timeutil import iso_ms

_PLACEHOLDER_SPECS = {
    "EURUSD": {"symbol": "EURUSD", "tickSize": 0.00001, "minVolume": 0.01, "maxVolume": 100,
               "volumeStep": 0.01, "digits": 5, "point": 0.00001, "contractSize": 100000,
               "description": "Euro vs US Dollar", "baseCurrency": "EUR", "profitCurrency": "USD",
               "marginCurrency": "EUR"},
    "GBPUSD": {"symbol": "GBPUSD", "tickSize": 0.00001, "minVolume": 0.01, "maxVolume": 100,
               "volumeStep": 0.01, "digits": 5, "point": 0.00001, "contractSize": 100000,
               "description": "Pound vs US Dollar", "baseCurrency": "GBP", "profitCurrency": "USD",
               "marginCurrency": "GBP"},
}  # fmt: skip


class Market:
    """Prices of the sandbox's symbols, the same for the same seed on every machine."""

    def __init__(
        self,
        seed: int = 0,
        speed: float = 1.0,
        replay: Sequence[ReplaySource] = (),
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.seed = seed
        self.speed = speed
        self._wall = wall_clock
        self._origin_wall = wall_clock()

    def now_ms(self) -> int:
        elapsed = (self._wall() - self._origin_wall) * self.speed
        return int((self._origin_wall + elapsed) * 1000)

    def symbols(self) -> list[str]:
        return list(_PLACEHOLDER_SPECS)

    def specification(self, symbol: str) -> dict[str, Any]:
        try:
            return dict(_PLACEHOLDER_SPECS[symbol])
        except KeyError:
            raise NotFoundError(f"Symbol {symbol} not found") from None

    def _bid(self, symbol: str, ms: int) -> float:
        base = 1.1 if symbol == "EURUSD" else 1.27
        return round(base + 0.001 * math.sin(ms / 60000 + self.seed), 5)

    def broker_time(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000 + 7200, UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"

    def _check_timeframe(self, timeframe: str) -> int:
        if timeframe not in MT5_TIMEFRAMES:
            raise ValidationError.field("timeframe", "is not a known timeframe", timeframe)
        return MT5_TIMEFRAMES[timeframe] * 60000

    def candles(self, symbol: str, timeframe: str, end_ms: int | None, limit: int) -> list[dict[str, Any]]:
        self.specification(symbol)
        step = self._check_timeframe(timeframe)
        end = min(end_ms if end_ms is not None else self.now_ms(), self.now_ms())
        last_open = end - end % step
        opens = [last_open - i * step for i in range(limit)][::-1]
        return [self.candle(symbol, timeframe, t) for t in opens]

    def candle(self, symbol: str, timeframe: str, at_ms: int | None = None) -> dict[str, Any]:
        step = self._check_timeframe(timeframe)
        at = self.now_ms() if at_ms is None else at_ms
        start = at - at % step
        o, c = self._bid(symbol, start), self._bid(symbol, start + step - 1)
        return {"symbol": symbol, "timeframe": timeframe, "time": iso_ms(start),
                "brokerTime": self.broker_time(start), "open": o, "high": max(o, c), "low": min(o, c),
                "close": c, "tickVolume": 60, "spread": 10, "volume": 0}  # fmt: skip

    def ticks(self, symbol: str, start_ms: int, offset: int, limit: int) -> list[dict[str, Any]]:
        self.specification(symbol)
        now = self.now_ms()
        times = [t for t in range(start_ms - start_ms % 1000, now, 1000) if t >= start_ms]
        return [self.tick(symbol, t) for t in times[offset : offset + limit]]

    def ticks_between(self, symbol: str, after_ms: int, until_ms: int) -> list[dict[str, Any]]:
        first = after_ms - after_ms % 1000 + 1000
        return [self.tick(symbol, t) for t in range(first, until_ms + 1, 1000)]

    def tick(self, symbol: str, at_ms: int | None = None) -> dict[str, Any]:
        at = self.now_ms() if at_ms is None else at_ms
        at -= at % 1000
        bid = self._bid(symbol, at)
        return {"symbol": symbol, "time": iso_ms(at), "brokerTime": self.broker_time(at), "bid": bid,
                "ask": round(bid + 0.0001, 5), "volume": 0, "side": "buy"}  # fmt: skip

    def price(self, symbol: str, at_ms: int | None = None, account_currency: str = "USD") -> dict[str, Any]:
        self.specification(symbol)
        tick = self.tick(symbol, at_ms)
        return {"symbol": symbol, "bid": tick["bid"], "ask": tick["ask"], "profitTickValue": 1.0,
                "lossTickValue": 1.0, "accountCurrencyExchangeRate": 1.0, "time": tick["time"],
                "brokerTime": tick["brokerTime"]}  # fmt: skip

    def book(self, symbol: str, at_ms: int | None = None) -> dict[str, Any]:
        tick = self.tick(symbol, at_ms)
        levels = [{"type": "BOOK_TYPE_SELL", "price": round(tick["ask"] + i * 0.00001, 5), "volume": 1.0}
                  for i in range(5)]  # fmt: skip
        levels += [{"type": "BOOK_TYPE_BUY", "price": round(tick["bid"] - i * 0.00001, 5), "volume": 1.0}
                   for i in range(5)]  # fmt: skip
        return {"symbol": symbol, "time": tick["time"], "brokerTime": tick["brokerTime"], "book": levels}

    def in_quote_session(self, symbol: str, ms: int) -> bool:
        return True

    def in_trade_session(self, symbol: str, ms: int) -> bool:
        return True

    def rate(self, from_ccy: str, to_ccy: str, at_ms: int | None = None) -> float:
        return 1.0
