"""Historical market data over REST (protocol §2.7): candles backwards from ``startTime``, ticks forward from it.

Both getters also take the seed usage document's options-dict form; naive datetimes are UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ...hashing import iso_ms
from ...timeframes import MT5_TIMEFRAMES
from .. import checks
from ..models import MetatraderCandle, MetatraderTick
from .context import ClientContext
from .http import parse_time

MAX_LIMIT = 1000


def _start_time(value: Any, name: str = "start_time") -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise checks.fail(name, "must be a datetime (naive ones are UTC)", value)
    return iso_ms(value)


def _options_form(options: Mapping[str, Any], keys: tuple[str, ...], *rest: Any) -> dict[str, Any]:
    """The usage document's options dict (``{"timeframe", "start", "limit"}``, ticks ``{"start", "offset",
    "limit"}``; ``startTime`` too) checked: nothing may follow it positionally, unknown keys are refused."""
    if any(value is not None for value in rest):
        raise checks.fail("options", "already holds the arguments; pass nothing after it", rest)
    raw: dict[str, Any] = checks.mapping("options", options)  # type: ignore[assignment]
    checks.known_keys("options", raw, (*keys, "start", "startTime", "limit"))
    raw["start"] = checks.either("options.start", raw.get("start"), "options.startTime", raw.get("startTime"))
    return raw


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
        """Up to ``limit`` (≤ 1000) candles before ``start_time`` (default: the newest), oldest first.

        ``timeframe`` may instead be the options dict of the seed's usage document:
        ``{"timeframe": "1h", "start": datetime(2023, 1, 1), "limit": 1000}``.
        """
        checks.text("account_id", account_id)
        checks.text("symbol", symbol)
        names = ("timeframe", "start_time", "limit")
        if isinstance(timeframe, Mapping):
            raw = _options_form(timeframe, ("timeframe",), start_time, limit)
            timeframe, start_time, limit = raw.get("timeframe"), raw["start"], raw.get("limit")
            names = ("options.timeframe", "options.start", "options.limit")
        checks.choice(names[0], timeframe, MT5_TIMEFRAMES)
        params = {"startTime": _start_time(start_time, names[1]),
                  "limit": checks.integer(names[2], limit, 1, MAX_LIMIT, True)}  # fmt: skip
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
        """Up to ``limit`` (≤ 1000) ticks from ``start_time`` forward, skipping the first ``offset``.

        ``start_time`` may instead be the usage document's options dict ``{"start", "offset", "limit"}``.
        """
        checks.text("account_id", account_id)
        checks.text("symbol", symbol)
        names = ("start_time", "offset", "limit")
        if isinstance(start_time, Mapping):
            raw = _options_form(start_time, ("offset",), offset, limit)
            start_time, offset, limit = raw["start"], raw.get("offset"), raw.get("limit")
            names = ("options.start", "options.offset", "options.limit")
        params = {
            "startTime": _start_time(start_time, names[0]),
            "offset": checks.integer(names[1], offset, 0, optional=True),
            "limit": checks.integer(names[2], limit, 1, MAX_LIMIT, True),
        }
        path = f"/users/current/accounts/{quote(account_id)}/historical-market-data/symbols/{quote(symbol)}/ticks"
        return await self._get(region, path, params)
