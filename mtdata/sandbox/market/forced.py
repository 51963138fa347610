"""Forced price paths: a list of ticks that replaces a symbol's process from the first tick's time onward.

Before the first forced tick the symbol keeps its own process (simulated or replayed); from it on, the
forced ticks are the only ticks, and after the last one the price stays there (no further ticks or
candles). Meant for tests of the broker engine that need a known price at a known time.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from . import clock
from .pricegen import Bars, Ticks, bars_from_ticks, concat_bars, concat_ticks


class PriceProcess(Protocol):
    """What the market needs from a symbol's price source (simulated, replayed or forced)."""

    first_day: int
    clock: clock.BrokerClock

    def day_bars(self, day: int) -> Bars:
        """M1 bars of a broker day."""
        ...

    def hour_ticks(self, hour: int, bars: Bars) -> Ticks:
        """Ticks of a UTC hour, given that hour's M1 bars."""
        ...

    def previous_day(self, day: int) -> int:
        """The latest broker day before ``day`` that may hold bars (lets a search skip a gap in history)."""
        ...


class ForcedProcess:
    """``base`` until ``ticks.t[0]``, then exactly ``ticks``."""

    def __init__(self, base: PriceProcess, ticks: Ticks) -> None:
        self.base = base
        self.clock = base.clock
        self.ticks = ticks
        self.t0 = int(ticks.t[0])
        self.first_day = min(base.first_day, self.clock.day_of(self.t0))

    def _forced(self, lo: int, hi: int) -> Ticks:
        i, j = np.searchsorted(self.ticks.t, (lo, hi))
        return self.ticks.take(slice(i, j))

    def _base_ticks_before(self, lo: int) -> Ticks:
        """Base ticks in [lo, t0) within the hour of t0 (lo is at or after that hour's start)."""
        hour = self.t0 // clock.HOUR
        bars = self.base.day_bars(self.clock.day_of(hour * clock.HOUR))
        i, j = np.searchsorted(bars.t, (hour * clock.HOUR, (hour + 1) * clock.HOUR))
        ticks = self.base.hour_ticks(hour, bars.take(slice(i, j)))
        return ticks.take((ticks.t >= lo) & (ticks.t < self.t0))

    def previous_day(self, day: int) -> int:
        """The day before ``day`` from t0's day on, else the base process's."""
        return day - 1 if day - 1 >= self.clock.day_of(self.t0) else self.base.previous_day(day)

    def day_bars(self, day: int) -> Bars:
        """Base bars of whole minutes before t0, then bars of the forced ticks."""
        lo, hi = self.clock.day_start(day), self.clock.day_start(day + 1)
        if hi <= self.t0:
            return self.base.day_bars(day)
        minute = self.t0 - self.t0 % clock.MINUTE
        if lo > self.t0:
            return bars_from_ticks(self._forced(lo, hi))
        base = self.base.day_bars(day)
        head = base.take(base.t < minute)
        tail = concat_ticks([self._base_ticks_before(minute), self._forced(lo, hi)])
        return concat_bars([head, bars_from_ticks(tail)])

    def hour_ticks(self, hour: int, bars: Bars) -> Ticks:
        """Base ticks before t0, then the forced ticks."""
        lo, hi = hour * clock.HOUR, (hour + 1) * clock.HOUR
        if hi <= self.t0:
            return self.base.hour_ticks(hour, bars)
        if lo > self.t0:
            return self._forced(lo, hi)
        return concat_ticks([self._base_ticks_before(lo), self._forced(lo, hi)])
