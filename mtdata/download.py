"""Bulk history downloads: any candle range in pages of 1,000 fetched concurrently, ticks in parallel hours.

Candles page backwards (protocol §2.7: up to 1,000 candles with open time <= ``startTime``). A range is cut into
as many segments as requests may run at once, on a grid of windows of 1,000 timeframe steps; each segment
is a chain of pages fetched one after the other backwards (the next ends 1 ms before the first candle of the
last), and the chains run concurrently. A chain asks exactly what a server reading ahead expects, wastes no
request on a closed market, and keeps only its own segment's candles: nothing is missed at a page or segment
edge and nothing is counted twice. Missing candles (weekends, session breaks) stay missing: the frame's
``attrs["gaps"]`` lists them. Requests go through the client (429s wait for ``recommendedRetryTime``), the
pages of long downloads through :class:`~mtdata.candle_pages.BulkPages` (a cheaper HTTP client, the SDK's client
for anything but a 200), all under one :class:`Limiter`; a tqdm progress bar shows long downloads. Where pages
start and end, and what a page holds, is :mod:`mtdata.candle_pages`; the arguments' rules :mod:`mtdata.arguments`.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson

from .arguments import at_ms, to_ms
from .candle_pages import PAGE, Chunk, FetchCandles, first_open, head, page_ends, peek, segments, stamps, trim
from .errors import NotFoundException
from .symbol_names import UnknownSymbol
from .timeframes import MT5_TIMEFRAMES

#: Pages from which a progress bar is shown.
PROGRESS_MIN_PAGES = 20

Record = dict[str, Any]
FetchTicks = Callable[[str, datetime, int, int], Awaitable[list[Record]]]


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


# -- candles --------------------------------------------------------------------------------------------


@dataclass
class CandleDownloader:
    """Downloads candle ranges of one account through ``fetch`` (see :func:`~mtdata.candle_pages.candle_fetcher`).

    ``convert`` turns each page body into a :data:`~mtdata.candle_pages.Chunk` as soon as it arrives, in a worker
    thread (it parses without the GIL), so converting overlaps the wait for the next pages; the methods return the
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

        Each page is asked for as soon as the one before it arrives (:func:`~mtdata.candle_pages.peek` reads the
        cursor), while worker threads convert the pages received: converting is off the chain's path from one request
        to the next.
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
