"""Bulk history downloads: any candle range in pages of 1,000 fetched concurrently, ticks in parallel hours.

Candles page backwards (protocol §2.7: up to 1,000 candles with open time <= ``startTime``). A range is cut into
as many segments as requests may run at once, on a grid of windows of 1,000 timeframe steps; each segment
is a chain of pages fetched one after the other backwards (the next ends 1 ms before the first candle of the
last), and the chains run concurrently. A chain asks exactly what a server reading ahead expects, wastes no
request on a closed market, and keeps only its own segment's candles: nothing is missed at a page or segment
edge and nothing is counted twice. Missing candles (weekends, session breaks) stay missing: the frame's
``attrs["gaps"]`` lists them. Requests go through the client (429s wait for ``recommendedRetryTime``), the
pages of long downloads through :class:`BulkPages` (a cheaper HTTP client, the SDK's client for anything but a
200), all under one :class:`Limiter`; a tqdm progress bar shows long downloads.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import orjson

from . import frames
from .client import checks
from .client.dates import iso_ms
from .errors import NotFoundException
from .symbol_names import UnknownSymbol
from .timeframes import MT5_TIMEFRAMES

if TYPE_CHECKING:
    from .client.rest.accounts import MetatraderAccount

PAGE = 1000
MAX_CANDLES = 10_000_000
MAX_TICK_DAYS = 31
#: Pages from which a progress bar is shown.
PROGRESS_MIN_PAGES = 20
#: Pages from which a download goes through :class:`BulkPages` (smaller ones reuse the SDK's pooled connections).
BULK_MIN_PAGES = 3
#: MetaTrader's own names of timeframes, accepted as aliases of the wire names.
ALIASES = {f"{p}{n}": f"{n}{s}" for p, s in (("M", "m"), ("H", "h")) for n in range(1, 31)} | {
    "D1": "1d", "W1": "1w", "MN1": "1mn"}  # fmt: skip
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Record = dict[str, Any]
FetchCandles = Callable[[str, str, datetime | None, int], Awaitable[bytes]]
#: A page as columns (numpy arrays of equal length, ``time`` ascending ``datetime64[ms]`` in UTC).
Chunk = dict[str, np.ndarray]
FetchTicks = Callable[[str, datetime, int, int], Awaitable[list[Record]]]


# -- argument checks ------------------------------------------------------------------------------------


def symbol_list(name: str, value: Any) -> list[str]:
    """One symbol, a comma-separated string or a list of symbols, as a list without repeats."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise checks.fail(name, "must be a symbol or a list of symbols", value)
    result = [checks.text(name, item).strip() for item in items]  # type: ignore[union-attr]
    return list(dict.fromkeys(result))


def timeframe(value: Any) -> str:
    """A wire timeframe (``1m`` … ``1mn``); MetaTrader's names (``M1``, ``H4``, ``D1``) are accepted too."""
    if isinstance(value, str) and value in ALIASES and ALIASES[value] in MT5_TIMEFRAMES:
        return ALIASES[value]
    return checks.choice("timeframe", value, MT5_TIMEFRAMES)


#: The one rule of time arguments, quoted by every refusal.
ZONE_RULE = ("a time of day must say its zone ('2026-11-17T10:00Z', '+02:00', or an aware datetime); a date "
             "alone ('2026-11-17' or a date) is that day's midnight")  # fmt: skip


def moment(name: str, value: Any, optional: bool = True) -> datetime | None:
    """A time argument as an aware UTC datetime, one rule for strings and datetimes (:data:`ZONE_RULE`): an aware
    datetime or an ISO string with an offset, or a date alone (``date`` or ``"2026-11-17"``: midnight UTC, which
    ``Session.candles`` moves to the broker's midnight for 1d/1w/1mn). A time
    of day without a zone, string or datetime, is refused: taking a local ``datetime.now()`` as UTC is wrong."""
    if value is None and optional:
        return None
    given = value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise checks.fail(name, f"must be an ISO 8601 date or time ({ZONE_RULE})", value) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise checks.fail(name, f"must be a datetime, a date or an ISO 8601 string ({ZONE_RULE})", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise checks.fail(name, f"has no time zone: {ZONE_RULE}", given)
    value = value.astimezone(UTC)
    if not _EARLIEST <= value < _LATEST:
        raise checks.fail(name, "must be between 1970 and 2100", value)
    return value


def ordered(start: datetime | None, end: datetime | None) -> None:
    """Refuse a range whose start is after its end (``start == end`` is the empty range)."""
    if start is not None and end is not None and start > end:
        raise checks.fail("start", f"must not be after end ({end.isoformat()})", start.isoformat())


def last_ms(end: datetime | None) -> datetime | None:
    """The last millisecond of a range ending before ``end``: every range of the notebook layer and the CLI is
    half-open, [start, end), and runs on inclusive millisecond bounds inside (times are whole milliseconds)."""
    return None if end is None else end - _MS


def step_ms(tf: str) -> int:
    """The shortest length of one candle of ``tf`` in milliseconds (28 days for ``1mn``)."""
    return (28 * 1440 if tf == "1mn" else MT5_TIMEFRAMES[tf]) * 60_000


def window_ms(tf: str) -> int:
    """The time 1,000 candles surely span: 1,000 steps, 990 where daylight saving can shorten a step."""
    step = step_ms(tf)
    return PAGE * step if step <= 3_600_000 else (PAGE - 10) * step


def check_span(tf: str, start: datetime, end: datetime) -> None:
    """Refuse ranges of more than :data:`MAX_CANDLES` candles per symbol."""
    count = (end - start) / timedelta(milliseconds=step_ms(tf))
    if count > MAX_CANDLES:
        raise checks.fail("start", f"is too far back: over {MAX_CANDLES:,} {tf} candles per symbol", start.isoformat())


# -- rate limit and progress ----------------------------------------------------------------------------


class Limiter:
    """At most ``concurrency`` requests in flight and (optionally) ``per_second`` started per second."""

    def __init__(self, concurrency: int = 8, per_second: float | None = None) -> None:
        self.concurrency, self.per_second = concurrency, per_second
        self._slots = asyncio.Semaphore(concurrency)
        self._interval = 1 / per_second if per_second else 0.0
        self._next = 0.0

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        if self._interval:
            now = time.monotonic()
            wait, self._next = self._next - now, max(now, self._next) + self._interval
            if wait > 0:
                await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()


@dataclass
class Progress:
    """A tqdm bar over pages, opened only for long downloads (and never when ``enabled`` is False).

    :meth:`expect` sets the whole download's total up front (from the range: the bar's total does not jump as the
    symbols' downloads start); the loaders' own :meth:`add` calls then change nothing. Pages past the total (a
    range with fewer gaps than estimated) move the total only as far as the count.
    """

    enabled: bool = True
    description: str = "pages"
    _bar: Any = field(default=None, init=False)
    _fixed: bool = field(default=False, init=False)

    def expect(self, pages: int) -> None:
        """Announce the whole download's pages; later :meth:`add` calls are ignored."""
        self.add(pages)
        self._fixed = True

    def add(self, pages: int) -> None:
        """Announce ``pages`` more pages to fetch (nothing after :meth:`expect`)."""
        if self._fixed:
            return
        if self._bar is not None:
            self._bar.total += pages
            self._bar.refresh()
        elif self.enabled and pages >= PROGRESS_MIN_PAGES:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=pages, desc=self.description, unit="page", leave=False)

    @property
    def total(self) -> int | None:
        """The bar's total (None while no bar is shown)."""
        return None if self._bar is None else self._bar.total

    def done(self, pages: int = 1) -> None:
        """Count fetched pages."""
        if self._bar is not None:
            if self._bar.n + pages > self._bar.total:
                self._bar.total = self._bar.n + pages
            self._bar.update(pages)

    def close(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# -- candles --------------------------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact: integer arithmetic, sub-millisecond parts dropped)."""
    return (moment - _EARLIEST) // _MS


def at_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (exact)."""
    return _EARLIEST + ms * _MS


async def gather(*awaitables: Awaitable[Any]) -> list[Any]:
    """``asyncio.gather`` that cancels (and awaits) the others as soon as one fails or the caller is cancelled."""
    tasks = [asyncio.ensure_future(item) for item in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


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


@dataclass
class CandleDownloader:
    """Downloads candle ranges of one account through ``fetch`` (see :func:`candle_fetcher`).

    ``convert`` turns each page body into a :data:`Chunk` as soon as it arrives, in a worker thread (it
    parses without the GIL), so converting overlaps the wait for the next pages; the methods return the
    chunks in ascending time order.
    """

    fetch: FetchCandles
    limiter: Limiter
    progress: Progress
    convert: Callable[[bytes], Chunk]

    async def _body(self, symbol: str, tf: str, end: datetime | None, limit: int) -> bytes:
        async with self.limiter:
            try:
                body = await self.fetch(symbol, tf, end, limit)
            except NotFoundException:
                raise UnknownSymbol("symbols", symbol) from None
        self.progress.done()
        return body

    async def _page(self, symbol: str, tf: str, end: datetime | None, limit: int = PAGE) -> Chunk:
        body = await self._body(symbol, tf, end, limit)
        return await asyncio.to_thread(self.convert, body)

    async def newest(self, symbol: str, tf: str) -> list[Record]:
        """The newest candle (the one in progress while the market is open), as a one-item list of wire records."""
        return orjson.loads(await self._body(symbol, tf, None, 1)) or []

    async def range(self, symbol: str, tf: str, start: datetime, end: datetime) -> list[Chunk]:
        """Every candle of ``symbol`` opened in [start, end], each once, as chunks."""
        start = at_ms(first_open(tf, to_ms(start)))
        spans = segments(tf, to_ms(start), to_ms(end), self.limiter.concurrency)
        expected = len(page_ends(tf, to_ms(start), to_ms(end)))
        self.progress.add(expected)
        chains = await gather(*(self._chain(symbol, tf, at_ms(lo), at_ms(hi)) for lo, hi in spans))
        self.progress.add(sum(map(len, chains)) - expected)
        return [chunk for chain in reversed(chains) for chunk in reversed(chain)]

    async def _chain(self, symbol: str, tf: str, start: datetime, end: datetime) -> list[Chunk]:
        """The chunks (newest first, each trimmed to [start, end]) of one segment, fetched one after the other.

        Each page is asked for as soon as the one before it arrives (:func:`peek` reads the cursor), while worker
        threads convert the pages received: converting is off the chain's path from one request to the next.
        """
        low, high = to_ms(start), to_ms(end)
        pages: list[asyncio.Future[Chunk]] = []
        cursor, loop = end, asyncio.get_running_loop()
        try:
            while True:
                body = await self._body(symbol, tf, cursor, PAGE)
                pages.append(loop.run_in_executor(None, self.convert, body))
                first, full = peek(body) or head(await pages[-1])
                if not full or first <= low:
                    return [trim(page, low, high) for page in await gather(*pages)]
                cursor = at_ms(first - 1)
        except BaseException:
            for page in pages:
                page.cancel()
            await asyncio.gather(*pages, return_exceptions=True)
            raise

    async def latest(self, symbol: str, tf: str, end: datetime | None, limit: int) -> list[Chunk]:
        """The newest ``limit`` candles opened at or before ``end`` (None: now), paging backwards."""
        self.progress.add(math.ceil(limit / PAGE))
        chunks: list[Chunk] = []
        cursor, left = end, limit
        while left > 0:
            want = min(PAGE, left)
            page = await self._page(symbol, tf, cursor, want)
            chunks.append(page)
            opens = stamps(page)
            left -= len(opens)
            if len(opens) < want:
                break
            cursor = at_ms(int(opens[0]) - 1)
        return chunks[::-1]

    async def candles(
        self, symbol: str, tf: str, start: datetime | None, end: datetime | None, limit: int | None
    ) -> list[Chunk]:
        """Candles of one symbol for the argument combinations of ``Session.candles`` (``limit`` applied by it)."""
        if start is None:
            return await self.latest(symbol, tf, end, limit or PAGE)
        if end is not None:
            return await self.range(symbol, tf, start, end)
        head = await self._page(symbol, tf, None)
        low, opens = to_ms(start), stamps(head)
        if not len(opens) or opens[0] <= low:
            return [trim(head, low, int(opens[-1]) if len(opens) else low)]
        return [*await self.range(symbol, tf, start, at_ms(int(opens[0]) - 1)), head]


# -- ticks ----------------------------------------------------------------------------------------------


@dataclass
class TickDownloader:
    """Downloads tick ranges (forward pages of 1,000, ``offset`` skipping ticks that share a millisecond)."""

    fetch: FetchTicks
    limiter: Limiter
    progress: Progress
    chunk: timedelta = timedelta(hours=1)

    async def _span(self, symbol: str, start: datetime, end: datetime) -> list[Record]:
        """Ticks with time in [start, end): one hour's forward pages."""
        rows: list[Record] = []
        cursor, offset = start, 0
        while True:
            async with self.limiter:
                try:
                    page = await self.fetch(symbol, cursor, offset, PAGE)
                except NotFoundException:
                    raise UnknownSymbol("symbol", symbol) from None
            kept = page[: bisect.bisect_left(page, end, key=lambda row: row["time"])]
            rows.extend(kept)
            if len(page) < PAGE or len(kept) < len(page):
                self.progress.done()
                return rows
            last = page[-1]["time"]
            same = sum(1 for row in page if row["time"] == last)
            cursor, offset = last, offset + same if last == cursor else same

    async def ticks(self, symbol: str, start: datetime, end: datetime) -> list[Record]:
        """Every tick of ``symbol`` with time in [start, end), ascending."""
        bounds: list[datetime] = []
        moment = start
        while moment < end:
            bounds.append(moment)
            moment += self.chunk
        bounds.append(end)
        self.progress.add(len(bounds) - 1)
        spans = await gather(*(self._span(symbol, lo, hi) for lo, hi in itertools.pairwise(bounds)))
        return [row for span in spans for row in span]


def gaps(index: Any, tf: str, start: datetime | None = None, end: datetime | None = None) -> list[list[str]]:
    """[last candle before, first candle after] (ISO) wherever candles of a time index are over 1.5 steps apart;
    at the edges of a requested range [start, end), its ``start``/``end`` stand for the missing neighbour when a
    step or more of it has no candle (a range with none at all is one gap)."""
    import pandas as pd

    step = pd.Timedelta(minutes=MT5_TIMEFRAMES[tf])
    if not len(index):
        return [[start.isoformat(), end.isoformat()]] if start and end and end - start >= step else []
    where = np.flatnonzero((index[1:] - index[:-1]) > 1.5 * step)
    found = [[index[i].isoformat(), index[i + 1].isoformat()] for i in where]
    if start is not None and index[0] - start >= step:
        found.insert(0, [start.isoformat(), index[0].isoformat()])
    if end is not None and end - index[-1] > step:
        found.append([index[-1].isoformat(), end.isoformat()])
    return found
