"""``LatencyMonitor``: request, price, update and trade latencies from the wire timestamps (protocol §8).

The socket layer calls the four ``on_*`` hooks (when latency tracking is on) with the ``timestamps``
object of a response, price, update packet or trade, converted to datetimes. Each metric is a whole
number of milliseconds (timestamps truncated to the millisecond, the wire's resolution), recorded only
when both of its timestamps exist, into three windows (``1h``, ``1d``, ``1w``); each window reports
``p50 p75 p90 p95 p98`` (a 1000-measurement random sample) and ``avg count min max`` (60 buckets of
running statistics). Hooks are O(1): they run for every price.

Prices from a closed session are left out (:meth:`LatencyMonitor.track_sessions`): a quote re-sent on a weekend
was generated on Friday, and its "broker latency" would be the weekend's length.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from .. import market_sessions
from ..listeners import LatencyListener
from ..models import ResponseTimestamps, SymbolPriceTimestamps, TradeTimestamps, UpdateTimestamps
from ..models.monitoring import ReservoirStatistics
from .reservoir import Clock, WindowedMetric

#: Window name -> length in milliseconds.
WINDOWS = {"1h": 3_600_000, "1d": 86_400_000, "1w": 604_800_000}
PERCENTILES = (50, 75, 90, 95, 98)
SAMPLE_SIZE = 1000
BUCKETS = 60

Stats = dict[str, float | int | None]
_MICROSECOND = timedelta(microseconds=1)


class Quotes(Protocol):
    """What :meth:`LatencyMonitor.track_sessions` reads: a terminal state's specifications and latest prices."""

    def specification(self, symbol: str) -> dict[str, Any] | None: ...

    def price(self, symbol: str) -> dict[str, Any] | None: ...


def _metric(clock: Clock, random_number_gen: Callable[[], float] | None) -> WindowedMetric:
    return WindowedMetric(WINDOWS, SAMPLE_SIZE, BUCKETS, random_number_gen, clock=clock)


def _window_report(percentiles: list[float | None], figures: ReservoirStatistics) -> Stats:
    window: Stats = {f"p{p}": value for p, value in zip(PERCENTILES, percentiles, strict=True)}
    window.update(avg=figures["average"], count=figures["count"], min=figures["min"], max=figures["max"])
    return window


def _span(timestamps: dict[str, Any], start: str, end: str) -> int | None:
    """``end - start`` in milliseconds, each truncated to the millisecond as on the wire; None unless datetimes.

    Truncating both (rather than rounding the difference) keeps nested windows consistent: a server window
    inside a client round trip on the same clock never comes out longer than the round trip.
    """
    first, last = timestamps.get(start), timestamps.get(end)
    if isinstance(first, datetime) and isinstance(last, datetime):
        return (first.microsecond % 1000 + (last - first) // _MICROSECOND) // 1000
    return None


class LatencyMonitor(LatencyListener):
    """Latency statistics per protocol §8; read them with :meth:`~LatencyMonitor.request_latencies`,
    :meth:`~LatencyMonitor.price_latencies`, :meth:`~LatencyMonitor.update_latencies` and
    :meth:`~LatencyMonitor.trade_latencies`.

    ``clock`` (seconds) and ``random_number_gen`` are seams for tests.
    """

    def __init__(self, *, clock: Clock | None = None, random_number_gen: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._random = random_number_gen
        self._requests: dict[str, dict[str, WindowedMetric]] = {}
        self._price = self._group("brokerLatency", "serverLatency", "clientLatency")
        self._update = self._group("brokerLatency", "serverLatency", "clientLatency")
        self._trade = self._group("clientLatency", "serverLatency", "brokerLatency")
        self._quotes: dict[str, Quotes] = {}

    def _group(self, *names: str) -> dict[str, WindowedMetric]:
        return {name: _metric(self._clock, self._random) for name in names}

    async def on_response(self, account_id: str, type: str, timestamps: ResponseTimestamps) -> None:
        """A response: serverLatency = server window, clientLatency = round trip minus server window."""
        server = _span(timestamps, "serverProcessingStarted", "serverProcessingFinished")
        if server is None:
            return
        metrics = self._requests.get(type)
        if metrics is None:
            metrics = self._requests[type] = self._group("clientLatency", "serverLatency")
        metrics["serverLatency"].push(server)
        round_trip = _span(timestamps, "clientProcessingStarted", "clientProcessingFinished")
        if round_trip is not None:
            metrics["clientLatency"].push(round_trip - server)

    def track_sessions(self, account_id: str, quotes: Quotes | None) -> None:
        """Leave out the account's prices delivered after their market closed (``quotes``: its terminal state, whose
        latest price of a symbol is the one being measured); None stops it."""
        if quotes is None:
            self._quotes.pop(account_id, None)
        else:
            self._quotes[account_id] = quotes

    async def on_symbol_price(self, account_id: str, symbol: str, timestamps: SymbolPriceTimestamps) -> None:
        """A price: broker (tick to server), server (server window) and client (server to client) latencies."""
        if not self._after_close(account_id, symbol, timestamps):
            self._stream(self._price, timestamps)

    def _after_close(self, account_id: str, symbol: str, timestamps: dict[str, Any]) -> bool:
        """True when the price was generated before its market's close and sent after it (a closed session's)."""
        quotes = self._quotes.get(account_id)
        generated, sent = timestamps.get("eventGenerated"), timestamps.get("serverProcessingStarted")
        if quotes is None or not (isinstance(generated, datetime) and isinstance(sent, datetime)):
            return False
        if sent - generated < market_sessions.SHORTEST_BREAK:
            return False  # every live price: too young to have outlived a session (no parsing on the hot path)
        price = quotes.price(symbol)
        if not (price and price.get("brokerTime")):
            return False
        quoted = market_sessions.broker_datetime(price["brokerTime"])
        return market_sessions.closed_since(quotes.specification(symbol), quoted, quoted + (sent - generated))

    async def on_update(self, account_id: str, timestamps: UpdateTimestamps) -> None:
        """An ``update`` packet: the same three latencies as a price."""
        self._stream(self._update, timestamps)

    async def on_trade(self, account_id: str, timestamps: TradeTimestamps) -> None:
        """A trade: client (request to server), server (server to trade start), broker (start to execution)."""
        self._record(self._trade["clientLatency"], timestamps, "clientProcessingStarted", "serverProcessingStarted")
        self._record(self._trade["serverLatency"], timestamps, "serverProcessingStarted", "tradeStarted")
        self._record(self._trade["brokerLatency"], timestamps, "tradeStarted", "tradeExecuted")

    def _stream(self, metrics: dict[str, WindowedMetric], timestamps: dict[str, Any]) -> None:
        self._record(metrics["brokerLatency"], timestamps, "eventGenerated", "serverProcessingStarted")
        self._record(metrics["serverLatency"], timestamps, "serverProcessingStarted", "serverProcessingFinished")
        self._record(metrics["clientLatency"], timestamps, "serverProcessingFinished", "clientProcessingFinished")

    @staticmethod
    def _record(metric: WindowedMetric, timestamps: dict[str, Any], start: str, end: str) -> None:
        value = _span(timestamps, start, end)
        if value is not None:
            metric.push(value)

    def request_latencies(self) -> dict[str, dict[str, dict[str, Stats]]]:
        """``{request type: {clientLatency|serverLatency: {window: stats}}}`` for the types seen so far."""
        return {type: _report(metrics) for type, metrics in self._requests.items()}

    def price_latencies(self) -> dict[str, dict[str, Stats]]:
        """``{brokerLatency|serverLatency|clientLatency: {window: stats}}`` of streamed prices."""
        return _report(self._price)

    def update_latencies(self) -> dict[str, dict[str, Stats]]:
        """``{brokerLatency|serverLatency|clientLatency: {window: stats}}`` of ``update`` packets."""
        return _report(self._update)

    def trade_latencies(self) -> dict[str, dict[str, Stats]]:
        """``{clientLatency|serverLatency|brokerLatency: {window: stats}}`` of trades."""
        return _report(self._trade)


def _report(metrics: dict[str, WindowedMetric]) -> dict[str, dict[str, Stats]]:
    return {
        name: {window: _window_report(*figures) for window, figures in metric.statistics(PERCENTILES).items()}
        for name, metric in metrics.items()
    }
