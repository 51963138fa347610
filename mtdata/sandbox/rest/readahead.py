"""Readahead for backwards history downloads: the next older page is encoded while the client parses this one.

A bulk download pages backwards, asking next for the candles up to 1 ms before the first
candle it got (protocol §2.7). After sending a full page the server builds that page at once,
on its own core while the client is busy, and keeps its bytes for the request that comes
next. Only complete candles are read ahead (older than the page just sent), so a cached
page never goes stale; the key carries the market's revision of the symbol, so a forced
path (tests) never meets a page of the old process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import orjson

from ..errors import ApiError
from ..market import Market
from ..timeutil import parse_iso_ms

#: Pages kept at most (about 210 KB each for 1000 candles).
MAX_PAGES = 32

PageKey = tuple[Hashable, ...]


class CandlePages:
    """Encoded candle pages built ahead of the requests that will ask for them."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._pages: OrderedDict[PageKey, tuple[bytes, int | None]] = OrderedDict()

    def _key(self, symbol: str, timeframe: str, end_ms: int | None, limit: int) -> PageKey:
        return (symbol, timeframe, end_ms, limit, self.market.revision(symbol))

    def _build(self, symbol: str, timeframe: str, end_ms: int | None, limit: int) -> tuple[bytes, int | None]:
        """A page's JSON and the open time of its first candle (None when the page is not full)."""
        candles: list[dict[str, Any]] = self.market.candles(symbol, timeframe, end_ms, limit)
        first = parse_iso_ms(candles[0]["time"], "time") if len(candles) == limit else None
        return orjson.dumps(candles), first

    def page(self, symbol: str, timeframe: str, end_ms: int | None, limit: int) -> tuple[bytes, int | None]:
        """The page's JSON (read ahead or built now) and where the next older page ends, if there is one."""
        found = self._pages.pop(self._key(symbol, timeframe, end_ms, limit), None) if end_ms is not None else None
        body, first = found or self._build(symbol, timeframe, end_ms, limit)
        return body, None if first is None else first - 1

    def read_ahead(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> None:
        """Build and keep the page ending at ``end_ms`` (the oldest kept page goes when full)."""
        key = self._key(symbol, timeframe, end_ms, limit)
        if key in self._pages:
            return
        try:
            self._pages[key] = self._build(symbol, timeframe, end_ms, limit)
        except ApiError:  # e.g. before the start of history: the request itself will say so if it comes
            return
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
