"""Cached access to one symbol's prices: M1, H1 and D1 per broker day, ticks per UTC hour, candles.

Intraday timeframes aggregate each broker day's M1 bars (their buckets never straddle broker midnight)
and are cached per day; ``1d``/``1w``/``1mn`` aggregate D1 bars. Data after
``cut`` (the simulated now) does not exist yet: the minute containing ``cut`` is rebuilt from its ticks.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from . import clock
from .forced import PriceProcess
from .model import LRU
from .pricegen import Bars, Ticks, aggregate, bars_from_ticks, concat_bars, empty_bars, empty_ticks

_SPAN = {"1w": 8 * clock.DAY, "1mn": 32 * clock.DAY}
_BLOCK = 64  # days per cached block of D1 bars


def label(bars: Bars, timeframe: str, broker: clock.BrokerClock) -> Bars:
    """Aggregate bars into candles of ``timeframe`` with their UTC open times aligned on the ``broker`` clock."""
    if timeframe == "1m" or len(bars.t) == 0:
        return bars
    merged = aggregate(bars, broker.bucket_keys(bars.t, timeframe))
    return merged._replace(t=broker.bucket_open(broker.bucket_keys(merged.t, timeframe), timeframe))


class SymbolSeries:
    """One symbol's price process behind shared caches; ``key`` tells versions of the process apart."""

    def __init__(self, key: Hashable, process: PriceProcess, caches: dict[str, LRU]) -> None:
        self.key = key
        self.process = process
        self.first_day = process.first_day
        self.clock = process.clock
        self._caches = caches

    def m1(self, day: int) -> Bars:
        """Complete M1 bars of a broker day."""
        return self._caches["1m"].get((self.key, day), lambda: self.process.day_bars(day))

    def day(self, day: int, base: str) -> Bars:
        """Complete candles of a broker day at ``base``: M1, an intraday timeframe (from M1) or D1 (from H1)."""
        if base == "1m":
            return self.m1(day)
        return self._caches["1d" if base == "1d" else "intraday"].get(
            (self.key, day, base),
            lambda: label(self.day(day, "1h") if base == "1d" else self.m1(day), base, self.clock),
        )

    def hour_ticks(self, hour: int) -> tuple[Ticks, np.ndarray]:
        """Ticks of a UTC hour and whether each one's bid is up from the previous tick of the hour."""

        def make() -> tuple[Ticks, np.ndarray]:
            bars = self.m1(self.clock.day_of(hour * clock.HOUR))
            i, j = np.searchsorted(bars.t, (hour * clock.HOUR, (hour + 1) * clock.HOUR))
            ticks = self.process.hour_ticks(hour, bars.take(slice(i, j))) if j > i else empty_ticks()
            return ticks, np.diff(ticks.bid, prepend=ticks.bid[:1]) >= 0

        return self._caches["ticks"].get((self.key, hour), make)

    def _day_rows(self, day: int, base: str, cut: int) -> Bars:
        """Candles at ``base`` of a broker day made of the data that exists at time ``cut``."""
        if day < self.first_day:
            return empty_bars()
        if self.clock.day_start(day + 1) <= cut:
            return self.day(day, base)
        bars = self.m1(day)
        bars = bars.take(slice(0, np.searchsorted(bars.t, cut, side="right")))
        if len(bars.t) and bars.t[-1] + clock.MINUTE - 1 > cut:
            ticks, _ = self.hour_ticks(cut // clock.HOUR)
            ticks = ticks.take((ticks.t >= bars.t[-1]) & (ticks.t <= cut))
            bars = concat_bars([bars.take(slice(0, -1)), bars_from_ticks(ticks)])
        return label(bars, base, self.clock)

    def _rows(self, first: int, stop: int, base: str, cut: int) -> list[Bars]:
        """Candles at ``base`` of broker days [first, stop); complete D1 runs come in cached blocks of days."""
        if base != "1d":
            return [self._day_rows(day, base, cut) for day in range(first, stop)]
        rows: list[Bars] = []
        day = first
        while day < stop:
            end = min(day - day % _BLOCK + _BLOCK, stop)
            if day % _BLOCK == 0 and end - day == _BLOCK and self.clock.day_start(end) <= cut and day >= self.first_day:
                rows.append(self._caches["1d"].get((self.key, "block", day), lambda d=day: concat_bars(
                    [self.day(x, "1d") for x in range(d, d + _BLOCK)])))  # fmt: skip
            else:
                rows += [self._day_rows(x, base, cut) for x in range(day, end)]
            day = end
        return rows

    def candles(self, timeframe: str, end: int, cut: int, limit: int) -> Bars:
        """Up to ``limit`` newest candles with open time <= ``end`` made of data up to ``cut``."""
        step = clock.timeframe_ms(timeframe)
        base = timeframe if step < clock.DAY else "1d"
        last = self.clock.day_of(min(cut, end + _SPAN.get(timeframe, step)))
        batch = int(limit * step / clock.DAY * 1.6) + 2
        rows: list[Bars] = []
        low = last + 1
        while True:
            start = max(low - batch, self.first_day)
            rows[:0] = self._rows(start, low, base, cut)
            low, batch = start, batch * 2
            candles = concat_bars(rows)
            candles = candles if base == timeframe else label(candles, timeframe, self.clock)
            candles = candles.take(slice(0, np.searchsorted(candles.t, end, side="right")))
            if len(candles.t) > limit or low <= self.first_day:
                return candles.take(slice(max(len(candles.t) - limit, 0), None))

    def ticks(self, lo: int, hi: int, limit: int) -> tuple[Ticks, np.ndarray]:
        """Up to ``limit`` first ticks with lo <= time <= hi, and their up-flags."""
        lo = max(lo, self.clock.day_start(self.first_day))
        parts: list[tuple[Ticks, np.ndarray]] = []
        count, hour = 0, lo // clock.HOUR
        while count < limit and hour * clock.HOUR <= hi:
            day = self.clock.day_of(hour * clock.HOUR)
            if len(self.m1(day).t) == 0:
                hour = self.clock.day_start(day + 1) // clock.HOUR
                continue
            ticks, up = self.hour_ticks(hour)
            i, j = np.searchsorted(ticks.t, lo), np.searchsorted(ticks.t, hi, side="right")
            if j > i:
                parts.append((ticks.take(slice(i, j)), up[i:j]))
                count += j - i
            hour += 1
        if not parts:
            return empty_ticks(), np.empty(0, dtype=bool)
        ticks = Ticks(*(np.concatenate(columns)[:limit] for columns in zip(*(part for part, _ in parts), strict=True)))
        return ticks, np.concatenate([up for _, up in parts])[:limit]

    def last_tick(self, at: int) -> tuple[Ticks, np.ndarray, int] | None:
        """The hour block (ticks, up-flags) holding the last tick at or before ``at`` and its index."""
        day = self.clock.day_of(at)
        while day >= self.first_day:
            bars = self.m1(day)
            for row in range(np.searchsorted(bars.t, at, side="right") - 1, -1, -1):
                ticks, up = self.hour_ticks(int(bars.t[row]) // clock.HOUR)
                index = int(np.searchsorted(ticks.t, at, side="right")) - 1
                if index >= 0:
                    return ticks, up, index
            day = self.process.previous_day(day)
        return None
