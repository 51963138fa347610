"""Candle pages: the window grid a range is cut on, a page's columns, and how a page body is fetched.

The REST API serves history in pages of up to :data:`PAGE` records; candles page backwards (protocol §2.7: up
to 1,000 candles with open time <= ``startTime``). :func:`page_ends` and :func:`segments` lay a range on a grid
of windows of 1,000 timeframe steps, so a chain of pages asks exactly what a server reading ahead expects; a
converted page is a :data:`Chunk` of columns (:func:`trim`, :func:`head`; :func:`peek` reads a body's cursor
without converting it). Bodies come through the SDK's HTTP client (:func:`candle_fetcher`) or, for downloads of
many pages, :class:`BulkPages`. :mod:`mtdata.download` runs the chains.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from . import frames
from .arguments import step_ms, to_ms
from .client.dates import iso_ms

if TYPE_CHECKING:
    from .client.rest.accounts import MetatraderAccount

#: Records in a full page of history (candles and ticks alike).
PAGE = 1000
#: Pages from which a download goes through :class:`BulkPages` (smaller ones reuse the SDK's pooled connections).
BULK_MIN_PAGES = 3

FetchCandles = Callable[[str, str, datetime | None, int], Awaitable[bytes]]
#: A page as columns (numpy arrays of equal length, ``time`` ascending ``datetime64[ms]`` in UTC).
Chunk = dict[str, np.ndarray]


def window_ms(tf: str) -> int:
    """The time 1,000 candles surely span: 1,000 steps, 990 where daylight saving can shorten a step."""
    step = step_ms(tf)
    return PAGE * step if step <= 3_600_000 else (PAGE - 10) * step


def blocks(tf: str, span: tuple[int, int], pages: int) -> list[tuple[int, int]]:
    """``span`` (inclusive ms) cut into blocks of at most ``pages`` pages, newest first."""
    lo, hi = span
    width = window_ms(tf) * pages
    result = []
    while hi >= lo:
        result.append((max(lo, hi - width + 1), hi))
        hi = result[-1][0] - 1
    return result


def first_open(tf: str, ms: int) -> int:
    """The earliest time at or after ``ms`` a candle of ``tf`` can open (``ms`` itself for long timeframes)."""
    step = step_ms(tf)
    if step <= 900_000:  # every time zone is whole quarter hours, so these candles open on the UTC grid
        return -(-ms // step) * step
    return ms


def page_ends(tf: str, start_ms: int, end_ms: int) -> list[int]:
    """Ends of windows of 1,000 candles covering opens in [start_ms, end_ms], newest first.

    Window k>0 ends just before window k-1 begins, as a backwards page-by-page loop would ask (and
    the sandbox reads ahead) when no candle is missing.
    """
    step, width = step_ms(tf), window_ms(tf)
    start_ms = first_open(tf, start_ms)
    aligned = end_ms - end_ms % step
    count = max(0, math.ceil((aligned - (PAGE - 1) * step - start_ms) / width))
    return [end_ms] + [aligned - k * width + step - 1 for k in range(1, count + 1)]


def page_count(tf: str, start: datetime | None, end: datetime | None, limit: int | None) -> int:
    """About how many pages a request of ``Session.candles`` takes per symbol (no page lost to gaps counted)."""
    if start is None:
        return math.ceil((limit or PAGE) / PAGE)
    return len(page_ends(tf, to_ms(start), to_ms(end or datetime.now(UTC))))


def segments(tf: str, start_ms: int, end_ms: int, count: int) -> list[tuple[int, int]]:
    """[start_ms, end_ms] cut on the window grid into at most ``count`` spans of about equal pages, newest first."""
    ends = page_ends(tf, start_ms, end_ms)
    parts = min(count, len(ends))
    tops = [ends[len(ends) * i // parts] for i in range(parts)]
    return [(tops[i + 1] + 1 if i + 1 < parts else start_ms, top) for i, top in enumerate(tops)]


def stamps(chunk: Chunk) -> np.ndarray:
    """The open times of a chunk as epoch milliseconds (a view)."""
    return chunk["time"].view("int64")


def trim(chunk: Chunk, low: int, high: int) -> Chunk:
    """The candles of ``chunk`` opened in [low, high] (epoch ms), as views of its columns."""
    first, last = np.searchsorted(stamps(chunk), (low, high + 1))
    return {name: values[first:last] for name, values in chunk.items()}


def head(chunk: Chunk) -> tuple[int, bool]:
    """The first open time (epoch ms) of a converted page and whether the page is full (more may be older)."""
    opens = stamps(chunk)
    return (int(opens[0]), len(opens) >= PAGE) if len(opens) else (0, False)


def peek(body: bytes) -> tuple[int, bool] | None:
    """:func:`head` of a page body read without converting it: its first record alone, the records counted by
    their closing braces; None when that record is not a flat object with a wire time (then convert first)."""
    first = frames.first_record(body)
    try:
        first_ms = to_ms(parse(first["time"]))  # type: ignore[index]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return first_ms, int(np.count_nonzero(np.frombuffer(body, np.uint8) == ord("}"))) >= PAGE  # 5x bytes.count


def parse(wire: str) -> datetime:
    """A wire time (``2026-11-18T09:00:00.000Z``) as an aware datetime."""
    return datetime.fromisoformat(wire.replace("Z", "+00:00"))


def candle_fetcher(account: MetatraderAccount) -> FetchCandles:
    """Candle page bodies of ``account``, as the wire sends them (a JSON array, left to the caller to parse).

    The same request as ``account.get_historical_candles``, through the same HTTP client (retries, 429s,
    errors), without its per-candle parsing: frames convert a whole page to columns at once.
    """
    context = account.context
    timeout = context.options.historical_market_data_request_timeout

    async def fetch(symbol: str, tf: str, end: datetime | None, limit: int) -> bytes:
        base = await context.hosts.market_data(account.region)
        path = (
            f"/users/current/accounts/{quote(account.id)}/historical-market-data/symbols/{quote(symbol)}"
            f"/timeframes/{tf}/candles"
        )
        params = {"startTime": iso_ms(end), "limit": limit} if end else {"limit": limit}
        return await context.http.request("GET", base + path, params=params, timeout=timeout, raw=True)

    return fetch


class BulkPages:
    """Candle page bodies of ``account`` over a private aiohttp session, for downloads of many pages.

    Per page it costs a quarter to a third of the CPU of the SDK's httpx client (protocol §2.7's request, the same
    ``auth-token`` header), and on a machine whose cores the server shares, the client's CPU per page sets
    the rate. Anything but a 200 (an error, a 429, a 202, a lost connection) is asked again through
    ``fallback`` (:func:`candle_fetcher`), so retries, rate limits and errors behave as for every request.
    The session opens on the first page; ``async with`` closes it.
    """

    def __init__(self, account: MetatraderAccount, fallback: FetchCandles, connections: int) -> None:
        self._account, self._fallback, self._connections = account, fallback, connections
        self._session: Any = None

    async def __aenter__(self) -> BulkPages:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _open(self) -> Any:
        from urllib.request import getproxies

        import aiohttp

        context = self._account.context
        timeout = aiohttp.ClientTimeout(total=context.options.historical_market_data_request_timeout)
        connector = aiohttp.TCPConnector(limit=self._connections)
        headers = {"auth-token": context.token}
        proxied = bool(getproxies())  # aiohttp reads the environment on every request when it trusts it
        return aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers, trust_env=proxied)

    async def __call__(self, symbol: str, tf: str, end: datetime | None, limit: int) -> bytes:
        """One page body (see :data:`FetchCandles`)."""
        import aiohttp
        import yarl

        account = self._account
        if self._session is None:
            self._session = self._open()
        base = await account.context.hosts.market_data(account.region)
        url = (
            f"{base}/users/current/accounts/{quote(account.id)}/historical-market-data/symbols/{quote(symbol)}"
            f"/timeframes/{tf}/candles?limit={limit}" + (f"&startTime={iso_ms(end)}" if end else "")
        )
        try:
            async with self._session.get(yarl.URL(url, encoded=True)) as response:
                if response.status == 200:
                    return await response.read()
        except (aiohttp.ClientError, TimeoutError):
            pass
        return await self._fallback(symbol, tf, end, limit)
