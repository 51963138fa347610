"""A minimal latency monitor: the listener interface of spec §8 and running averages.

Part 2 of the client (the socket layer, issue 5) feeds it from response, price, update and
trade timestamps; until then nothing calls the ``on_*`` hooks and every statistic is empty.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any


class LatencyMonitor:
    """Collects latencies (milliseconds) per category and key; the statistics are ``{key: {count, average}}``."""

    def __init__(self) -> None:
        self._samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))

    def record(self, category: str, key: str, milliseconds: float) -> None:
        """Add one latency sample (the hooks below call this)."""
        self._samples[category][key].append(milliseconds)

    async def on_response(self, account_id: str, type: str, timestamps: dict[str, Any]) -> None:
        """A response arrived: client processing latency of request ``type``."""
        self._record_span("request", type, timestamps, "clientProcessingStarted", "clientProcessingFinished")

    async def on_symbol_price(self, account_id: str, symbol: str, timestamps: dict[str, Any]) -> None:
        """A price arrived: broker-to-client latency."""
        self._record_span("price", symbol, timestamps, "brokerTime", "clientProcessingFinished")

    async def on_update(self, account_id: str, timestamps: dict[str, Any]) -> None:
        """A terminal update arrived: broker-to-client latency."""
        self._record_span("update", account_id, timestamps, "brokerTime", "clientProcessingFinished")

    async def on_trade(self, account_id: str, timestamps: dict[str, Any]) -> None:
        """A trade finished: client round-trip latency."""
        self._record_span("trade", account_id, timestamps, "clientProcessingStarted", "clientProcessingFinished")

    def _record_span(self, category: str, key: str, timestamps: dict[str, Any], start: str, end: str) -> None:
        first, last = timestamps.get(start), timestamps.get(end)
        if first is not None and last is not None:
            self.record(category, key, (last - first).total_seconds() * 1000)

    def _stats(self, category: str) -> dict[str, dict[str, float]]:
        return {
            key: {"count": len(values), "average": sum(values) / len(values)}
            for key, values in self._samples[category].items()
        }

    def request_latencies(self) -> dict[str, dict[str, float]]:
        """Request processing latencies by request type."""
        return self._stats("request")

    def price_latencies(self) -> dict[str, dict[str, float]]:
        """Price streaming latencies by symbol."""
        return self._stats("price")

    def update_latencies(self) -> dict[str, dict[str, float]]:
        """Update streaming latencies by account."""
        return self._stats("update")

    def trade_latencies(self) -> dict[str, dict[str, float]]:
        """Trade latencies by account."""
        return self._stats("trade")
