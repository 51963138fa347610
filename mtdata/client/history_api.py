"""Historical market data over REST (spec §2.7): candles backwards from ``startTime``, ticks forward from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..hashing import iso_ms
from ..timeframes import MT5_TIMEFRAMES
from . import checks
from .context import ClientContext
from .http import parse_time
from .models import MetatraderCandle, MetatraderTick

MAX_LIMIT = 1000


def _start_time(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise checks.fail("start_time", "must be a datetime", value)
    return iso_ms(value)


def _with_times(items: Any) -> list[dict[str, Any]]:
    """The items with ``time`` parsed to an aware datetime (``brokerTime`` stays a string, as in the SDK)."""
    result = list(items or ())
    for item in result:
        if isinstance(item.get("time"), str):
            item["time"] = parse_time(item["time"])
    return result


class HistoricalMarketDataClient:
    """The market-data REST client both connections use (timeout ``historicalMarketDataRequestTimeout``)."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context

    async def _get(self, region: str, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        base = await self._context.hosts.market_data(region)
        timeout = self._context.options.historical_market_data_request_timeout
        query = {key: value for key, value in params.items() if value is not None}
        return _with_times(await self._context.http.request("GET", base + path, params=query, timeout=timeout))

    async def get_historical_candles(
        self,
        account_id: str,
        region: str,
        symbol: str,
        timeframe: str,
        start_time: datetime | None = None,
        limit: int | None = None,
    ) -> list[MetatraderCandle]:
        """Up to ``limit`` (≤ 1000) candles before ``start_time`` (default: the newest), oldest first."""
        checks.text("account_id", account_id)
        checks.text("symbol", symbol)
        checks.choice("timeframe", timeframe, MT5_TIMEFRAMES)
        params = {"startTime": _start_time(start_time), "limit": checks.integer("limit", limit, 1, MAX_LIMIT, True)}
        path = (
            f"/users/current/accounts/{quote(account_id)}/historical-market-data/symbols/{quote(symbol)}"
            f"/timeframes/{timeframe}/candles"
        )
        return await self._get(region, path, params)

    async def get_historical_ticks(
        self,
        account_id: str,
        region: str,
        symbol: str,
        start_time: datetime | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[MetatraderTick]:
        """Up to ``limit`` (≤ 1000) ticks from ``start_time`` forward, skipping the first ``offset``."""
        checks.text("account_id", account_id)
        checks.text("symbol", symbol)
        params = {
            "startTime": _start_time(start_time),
            "offset": checks.integer("offset", offset, 0, optional=True),
            "limit": checks.integer("limit", limit, 1, MAX_LIMIT, True),
        }
        path = f"/users/current/accounts/{quote(account_id)}/historical-market-data/symbols/{quote(symbol)}/ticks"
        return await self._get(region, path, params)
