"""How :class:`~mtdata.session.Session` gathers candles: pages fetched concurrently (in bulk for big requests), the
candle cache read and filled in blocks, broker dates applied, gaps reported. A base class of the session, whose
public ``candles``/``candles_async`` check the arguments and call :meth:`CandleFrames._candles`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from . import arguments, broker_dates, candle_pages, download, frames
from .download import CandleDownloader

if TYPE_CHECKING:
    import pandas as pd

    from .cache import CandleCache
    from .client.rest.accounts import MetatraderAccount
    from .download import Limiter, Progress

#: Candle pages per cache file (a download interrupted midway keeps every finished block).
BLOCK_PAGES = 50


class CandleFrames:
    """The candle downloads of :class:`~mtdata.session.Session` (a base class, not used alone)."""

    _account: MetatraderAccount
    _cache: CandleCache | None
    _limiter: Limiter

    def _downloads(self, what: str) -> Progress:  # provided by Session
        raise NotImplementedError

    async def _candles(
        self,
        names: list[str],
        tf: str,
        start: datetime | None,
        end: datetime | None,
        limit: int | None,
        dates: broker_dates.BrokerDates | None,
    ) -> pd.DataFrame:
        """Candles opened in [start, end) (see ``Session.candles_async``); below, ranges run on inclusive ms bounds."""
        last = arguments.last_ms(end)
        progress = self._downloads(f"{tf} candles")
        fetch = candle_pages.candle_fetcher(self._account)
        try:
            async with candle_pages.BulkPages(self._account, fetch, self._limiter.concurrency) as bulk:
                pages = len(names) * candle_pages.page_count(tf, start, last, limit)
                progress.expect(pages)  # the whole download's total, up front: the bar does not jump
                many = pages >= candle_pages.BULK_MIN_PAGES
                loader = CandleDownloader(bulk if many else fetch, self._limiter, progress, frames.candle_chunk)
                parts = await download.gather(
                    *(self._symbol_candles(loader, s, tf, start, last, limit, dates) for s in names)
                )
        finally:
            progress.close()
        frame = frames.concat(parts, "candles")
        frame.attrs["timeframe"] = tf
        frame.attrs["gaps"] = [
            [s, *gap]
            for s, part in zip(names, parts, strict=True)
            for gap in download.gaps(
                part.index, tf, *((dates.bounds(part, start, end) if dates else (start, end)) if limit is None else ())
            )
        ]
        return frame

    async def _symbol_candles(
        self,
        loader: CandleDownloader,
        symbol: str,
        tf: str,
        start: datetime | None,
        end: datetime | None,
        limit: int | None,
        dates: broker_dates.BrokerDates | None = None,
    ) -> pd.DataFrame:
        if start is not None and end is not None and end < start:  # [start, start): nothing
            frame = frames.df([], "candles")
        elif self._cache is None or start is None:
            more = limit + 2 if limit and dates else limit  # the widened end may add a candle past the broker date
            frame = frames.candles(await loader.candles(symbol, tf, start, end, more), symbol)
        else:
            frame = await self._cached_candles(loader, symbol, tf, start, end)
        frame = dates.select(frame) if dates else frame
        return frame.iloc[-limit:] if limit else frame

    async def _cached_candles(
        self, loader: CandleDownloader, symbol: str, tf: str, start: datetime, end: datetime | None
    ) -> pd.DataFrame:
        """Candles in [start, end] from the cache, downloading (and storing, in blocks) only what it lacks."""
        cache, lo = self._cache, arguments.to_ms(start)
        assert cache is not None
        hi = arguments.to_ms(end) if end is not None else None
        missing = cache.missing(symbol, tf, lo, hi) if hi is not None else [(lo, -1)]
        if not missing:
            return cache.read(symbol, tf, lo, hi)  # type: ignore[arg-type]
        newest = await loader.newest(symbol, tf)
        if not newest:
            return frames.df([], "candles")
        complete_before = arguments.to_ms(candle_pages.parse(newest[0]["time"]))  # the newest may still be in progress
        hi = complete_before if hi is None else hi
        missing = cache.missing(symbol, tf, lo, hi)
        blocks = [block for span in missing for block in candle_pages.blocks(tf, span, BLOCK_PAGES)]
        fresh = await download.gather(
            *(self._fetch_block(loader, symbol, tf, a, b, complete_before) for a, b in blocks)
        )
        frame = frames.concat([cache.read(symbol, tf, lo, hi), *fresh], "candles")
        return frame

    async def _fetch_block(
        self, loader: CandleDownloader, symbol: str, tf: str, lo: int, hi: int, complete_before: int
    ) -> pd.DataFrame:
        """Download [lo, hi], store its complete candles; returns the ones still in progress (not stored)."""
        frame = frames.candles(await loader.range(symbol, tf, arguments.at_ms(lo), arguments.at_ms(hi)), symbol)
        stamps = frame.index.asi8
        self._cache.store(symbol, tf, lo, min(hi, complete_before - 1), frame[stamps < complete_before])  # type: ignore[union-attr]
        return frame[stamps >= complete_before]
